#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 1000 devices created, bound and destroyed, twice; a refused module
# parameter leaves nothing behind. kmemleak is checked by the harness.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 7

modprobe vbus
modprobe vbus_sample_driver
# 4000 uevents follow, none of which needs handling.
udev_stop
for round in 1 2; do
	modprobe vbus_sample_provider ndevs=1000
	check "round $round: 1000 devices bound" eval '[ "$(ndevs)" = 1000 ] && [ "$(nbound)" = 1000 ]'
	rmmod vbus_sample_provider
	check "round $round: all destroyed" eq "$(ndevs)" 0
done
check "ndevs above the limit refused" not modprobe vbus_sample_provider ndevs=5000
check "refused load left no device" eq "$(ndevs)" 0
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
