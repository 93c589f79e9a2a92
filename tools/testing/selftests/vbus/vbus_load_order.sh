#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Load/unload order matrix of vbus.ko, the sample driver and provider.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 20

# core -> driver -> provider
modprobe vbus
check "core: /sys/bus/vbus exists" test -d $BUS
check "core: bus supports drivers_probe and drivers_autoprobe" test -e $BUS/drivers_probe -a -e $BUS/drivers_autoprobe
modprobe vbus_sample_driver
check "driver: registered on the bus, with bind/unbind" test -e $DRV/bind -a -e $DRV/unbind
modprobe vbus_sample_provider ndevs=4
check "core,driver,provider: 4 devices" eq "$(ndevs)" 4
check "core,driver,provider: 4 bound" eq "$(nbound)" 4
check "bound device shows its attribute" \
	eq "$(cat $BUS/devices/rmdev_sample.2/sample_greeting)" "hello from vbus_sample_driver to rmdev_sample.2"
check "device is a child of the provider's faux device" \
	test "$(basename "$(dirname "$(readlink -f $BUS/devices/rmdev_sample.0)")")" = vbus_sample_provider

# rmmod provider while bound: devices go, driver stays.
rmmod vbus_sample_provider
check "rmmod provider while bound: devices gone" eq "$(ndevs)" 0
check "rmmod provider while bound: driver stays" test -d $DRV

# provider first, then driver
modprobe -r vbus_sample_driver
modprobe vbus_sample_provider ndevs=3
check "provider first: devices unbound" eq "$(nbound)" 0
check "unbound device has no driver attribute" test ! -e $BUS/devices/rmdev_sample.0/sample_greeting
modprobe vbus_sample_driver
check "driver after provider: all 3 bound" eq "$(nbound)" 3

# rmmod driver while bound: devices stay, unbound.
rmmod vbus_sample_driver
check "rmmod driver while bound: devices stay" eq "$(ndevs)" 3
check "rmmod driver while bound: attribute gone" test ! -e $BUS/devices/rmdev_sample.0/sample_greeting

# rmmod core while users exist: refused.
check "rmmod core with users is refused" not rmmod vbus
check "core still loaded and bus present" test -d $BUS
check "modinfo: provider depends on vbus" eq "$(modinfo -F depends vbus_sample_provider)" vbus
check "modinfo: driver depends on vbus" eq "$(modinfo -F depends vbus_sample_driver)" vbus

unload_all
check "all unloaded: bus gone" test ! -e $BUS
check "dmesg clean" dmesg_clean
ktap_finished
