#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# driver_override, bind and unbind through sysfs, and bad input to them: the
# errno mainline's driver core gives, and no change of state.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 24

modprobe vbus
modprobe vbus_sample_driver
modprobe vbus_sample_provider ndevs=3
d0=$BUS/devices/rmdev_sample.0

check "unbind through sysfs" eq "$(write_errno $DRV/unbind rmdev_sample.0)" OK
check "unbound: no driver link, attribute gone" test ! -e $d0/driver -a ! -e $d0/sample_greeting
check "bind through sysfs" eq "$(write_errno $DRV/bind rmdev_sample.0)" OK
check "bound again: driver link and attribute" test -e $d0/driver -a -e $d0/sample_greeting

check "driver_override empty by default" eq "$(cat $d0/driver_override)" "(null)"
check "driver_override set to another driver" eq "$(write_errno $d0/driver_override other_driver)" OK
check "driver_override reads back" eq "$(cat $d0/driver_override)" other_driver
write_errno $DRV/unbind rmdev_sample.0 >/dev/null
write_errno $BUS/drivers_probe rmdev_sample.0 >/dev/null
check "override to another driver: reprobe leaves it unbound" test ! -e $d0/driver
check "override to another driver: bind refused (ENODEV)" eq "$(write_errno $DRV/bind rmdev_sample.0)" ENODEV
check "driver_override to our driver" eq "$(write_errno $d0/driver_override vbus_sample_driver)" OK
check "override to our driver: reprobe binds" eq "$(write_errno $BUS/drivers_probe rmdev_sample.0)" OK
check "bound through the override" test -e $d0/driver
check "driver_override cleared with a newline" eq "$(write_errno $d0/driver_override $'\n')" OK
check "driver_override cleared" eq "$(cat $d0/driver_override)" "(null)"

# Bad input: mainline errno, nothing changes.
long=$(head -c 4095 /dev/zero | tr '\0' a)
huge=$(head -c 8192 /dev/zero | tr '\0' a)
before=$(state)
bad() {
	local desc=$1 file=$2 data=$3 want=$4
	check "$desc: $want, no change" eval \
		'eq "$(write_errno "$file" "$data")" "$want" && eq "$(state)" "$before"'
}
bad "bind unknown device" $DRV/bind rmdev_sample.99 ENODEV
bad "bind already bound device" $DRV/bind rmdev_sample.1 EBUSY
bad "bind empty line" $DRV/bind $'\n' ENODEV
bad "bind over-long name" $DRV/bind "$long" ENODEV
bad "unbind unknown device" $DRV/unbind nosuchdevice ENODEV
bad "unbind empty line" $DRV/unbind $'\n' ENODEV
bad "driver_override over-long" $d0/driver_override "$long" EINVAL
bad "driver_override beyond a page" $d0/driver_override "$huge" EINVAL
bad "drivers_probe unknown device" $BUS/drivers_probe nosuchdevice ENODEV

unload_all
check "dmesg clean" dmesg_clean
ktap_finished
