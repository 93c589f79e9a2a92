#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The mdev sysfs ABI, as mainline Documentation/ABI/testing/sysfs-bus-vfio-mdev
# and drivers/vfio/mdev/mdev_sysfs.c: paths, permissions, formats, the
# create/remove lifecycle, instance accounting, uevents and MODALIAS.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 36

udevadm monitor --kernel --property --subsystem-match=vbus >$RMDEV_TMP/uevents 2>/dev/null &
monitor=$!
sleep 1
load_parents
check "bus mdev registered" test -d /sys/bus/mdev/devices -a -d /sys/bus/mdev/drivers
check "class mdev_bus lists both parents" eq "$(ls /sys/class/mdev_bus | tr '\n' ' ')" "mdev_sample.0 mdev_sample.1 "
check "class link points at the parent" test "$(readlink -f /sys/class/mdev_bus/mdev_sample.0)" = "$(readlink -f $P0)"
check "types: <driver>-<type> under mdev_supported_types" \
	eq "$(ls $P0/mdev_supported_types | tr '\n' ' ')" "mdev_sample-bulk mdev_sample-vhost mdev_sample-virtio "
check "type files" eq "$(ls $T0 | tr '\n' ' ')" "available_instances create description device_api devices name "
check "create is 0200" eq "$(mode $T0/create)" "--w-------"
check "name, description, device_api, available_instances are 0444" \
	eq "$(for f in name description device_api available_instances; do mode $T0/$f; done | sort -u)" "-r--r--r--"
check "devices/ is a directory" test -d $T0/devices
check "name" eq "$(cat $T0/name)" "mdev sample, virtio class"
check "description" eq "$(cat $T0/description)" "sample mdev without a device, bound by the virtio class driver"
check "device_api" eq "$(cat $T0/device_api)" "virtio-mdev"
check "available_instances: max at start" eq "$(cat $T0/available_instances) $(cat $T0H/available_instances)" "4 2"

check "create: UUID without newline (as mdevctl)" eq "$(write_errno $T0/create $U1)" OK
check "mdev is a child of the parent" test -d $P0/$U1
check "mdev is on bus mdev" test "$(readlink -f $MDEVS/$U1)" = "$(readlink -f $P0/$U1)"
check "remove is 0200" eq "$(mode $P0/$U1/remove)" "--w-------"
check "mdev_type links to the type" test "$(readlink -f $P0/$U1/mdev_type)" = "$(readlink -f $T0)"
check "type devices/ links to the mdev" test "$(readlink -f $T0/devices/$U1)" = "$(readlink -f $P0/$U1)"
check "available_instances counts it" eq "$(cat $T0/available_instances)" 3
check "MODALIAS of a virtio-class mdev" grep -qx "MODALIAS=mdev:c02" $P0/$U1/uevent
check "modalias attribute" eq "$(cat $P0/$U1/modalias)" "mdev:c02"
check "create: UUID with newline (echo)" eq "$(write_errno $T0H/create "$U2"$'\n')" OK
check "MODALIAS of a vhost-class mdev" grep -qx "MODALIAS=mdev:c03" $P0/$U2/uevent
upper=$(echo $U3 | tr a-f A-F)
check "create: upper-case UUID is named in lower case" \
	eval 'eq "$(write_errno $T1/create $upper)" OK && test -d $P1/$U3'
check "create: 37th byte is ignored, as mainline" \
	eval 'eq "$(write_errno $T1/create 00000000-0000-0000-0000-000000000001x)" OK &&
	      test -d $P1/00000000-0000-0000-0000-000000000001'
check "driver_override offered on mdevs" test -e $P0/$U1/driver_override
check "remove: 0 does nothing" eval 'eq "$(write_errno $P0/$U1/remove 0)" OK && test -d $P0/$U1'
check "remove: 1 removes" eval 'eq "$(write_errno $P0/$U1/remove 1)" OK && test ! -e $P0/$U1'
check "remove: gone from bus and type" test ! -e $MDEVS/$U1 -a ! -e $T0/devices/$U1
check "available_instances restored" eq "$(cat $T0/available_instances)" 4
check "remove: 0x1 (kstrtoul base 0) removes" eval 'eq "$(write_errno $P0/$U2/remove 0x1)" OK && test ! -e $P0/$U2'

# Parent unload with live children.
write_errno $T0/create $U1 >/dev/null
check "rmmod core refused while a parent is loaded" not rmmod rmdev_mdev
rmmod mdev_sample_parent
check "parent unload removes its mdevs" eq "$(nmdevs)" 0
check "parent unload removes the class links" eq "$(ls /sys/class/mdev_bus | wc -l)" 0
sleep 1
kill $monitor 2>/dev/null; wait $monitor 2>/dev/null
check "MDEV_STATE=registered and =unregistered uevents of both parents" \
	eq "$(grep -c '^MDEV_STATE=registered$' $RMDEV_TMP/uevents) $(grep -c '^MDEV_STATE=unregistered$' $RMDEV_TMP/uevents)" "2 2"
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
