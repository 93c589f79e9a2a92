#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Module autoloading through MODALIAS: with only the core and the provider
# loaded, the driver module is loaded by udev's modprobe of the modalias.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 8

rm -f "$BLOCK_AUTOLOAD"
modprobe vbus
modprobe vbus_sample_provider ndevs=2
dev=$BUS/devices/rmdev_sample.0
check "modalias attribute" eq "$(cat $dev/modalias)" "vbus:nrmdev_sample"
check "uevent carries MODALIAS" grep -qx "MODALIAS=vbus:nrmdev_sample" $dev/uevent
check "modalias resolves to the driver module" \
	eq "$(modprobe -R "$(cat $dev/modalias)")" vbus_sample_driver
check "modinfo lists the alias" eq "$(modinfo -F alias vbus_sample_driver)" "vbus:nrmdev_sample"

if pgrep -x systemd-udevd >/dev/null || pgrep -x udevd >/dev/null; then
	# Replay the add uevents as at boot ("coldplug"): udev runs modprobe.
	udevadm trigger --action=add --subsystem-match=vbus
	if wait_for 30 loaded vbus_sample_driver; then
		ktap_test_pass "udev loaded the driver module from the modalias"
	else
		ktap_test_fail "udev loaded the driver module from the modalias"
	fi
else
	ktap_test_skip "udev loaded the driver module from the modalias (no udevd)"
	modprobe "$(cat $dev/modalias)"
fi
check "autoloaded driver bound both devices" wait_for 10 eval '[ "$(nbound)" = 2 ]'
unload_all
check "all unloaded" eq "$(loaded vbus && echo loaded)" ""
check "dmesg clean" dmesg_clean
ktap_finished
