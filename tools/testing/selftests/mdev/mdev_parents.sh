#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The sample parents with device models, through sysfs as users see them:
# mvnet (virtio-net loopback) and mvblk (virtio-blk RAM disk). Their device
# models are tested on rings by the KUnit suites (mdev_kunit.sh).
. "$(dirname "$0")/lib.sh"
ktap_set_plan 29

NET=/sys/bus/vbus/devices/mvnet.0
BLK=/sys/bus/vbus/devices/mvblk.0
NV=$NET/mdev_supported_types/mvnet-virtio
NH=$NET/mdev_supported_types/mvnet-vhost
B8=$BLK/mdev_supported_types/mvblk-virtio-8m
B64=$BLK/mdev_supported_types/mvblk-virtio-64m
BH=$BLK/mdev_supported_types/mvblk-vhost-8m
STATS=/sys/kernel/debug/mvnet

modprobe mvnet && modprobe mvblk
check "parents in class mdev_bus" eq "$(ls /sys/class/mdev_bus | tr '\n' ' ')" "mvblk.0 mvnet.0 "
check "mvnet types" eq "$(ls $NET/mdev_supported_types | tr '\n' ' ')" "mvnet-vhost mvnet-virtio "
check "mvblk types, capacity in the name" \
	eq "$(ls $BLK/mdev_supported_types | tr '\n' ' ')" "mvblk-vhost-8m mvblk-virtio-64m mvblk-virtio-8m "
check "device_api per class" \
	eq "$(cat $NV/device_api $NH/device_api $B8/device_api $BH/device_api | tr '\n' ' ')" \
	   "virtio-mdev vhost-mdev virtio-mdev vhost-mdev "
check "instance limits" \
	eq "$(cat $NV/available_instances $NH/available_instances $B8/available_instances $B64/available_instances)" \
	   "$(printf '16\n16\n8\n2')"

check "create an mvnet-virtio mdev" eq "$(write_errno $NV/create $U1)" OK
check "its MODALIAS selects the virtio class" grep -qx "MODALIAS=mdev:c02" $MDEVS/$U1/uevent
check "create an mvnet-vhost mdev" eq "$(write_errno $NH/create $U2)" OK
check "its MODALIAS selects the vhost class" grep -qx "MODALIAS=mdev:c03" $MDEVS/$U2/uevent
check "per-mdev stats in debugfs" test -r $STATS/$U1/stats -a -r $STATS/$U2/stats
check "stats: per-queue counters, ethtool names, zero at start" \
	eq "$(cut -d' ' -f1 $STATS/$U1/stats | tr '\n' ' ')/$(cut -d' ' -f2 $STATS/$U1/stats | sort -u)" \
	   "rx_queue_0_packets rx_queue_0_bytes rx_queue_0_drops rx_queue_0_overruns rx_queue_0_errors tx_queue_0_packets tx_queue_0_bytes tx_queue_0_errors /0"
check "link: up at start, takes down, reads down" \
	eval 'eq "$(cat $STATS/$U1/link)" up && eq "$(write_errno $STATS/$U1/link down)" OK &&
	      eq "$(cat $STATS/$U1/link)" down && eq "$(write_errno $STATS/$U1/link 1)" OK'
check "link: anything else is EINVAL, no change" \
	eval 'eq "$(write_errno $STATS/$U1/link sideways)" EINVAL && eq "$(write_errno $STATS/$U1/link upp)" EINVAL &&
	      eq "$(cat $STATS/$U1/link)" up'
check "UUID in use under another parent: EEXIST" eq "$(write_errno $B8/create $U1)" EEXIST
check "available_instances counts mvnet mdevs" eq "$(cat $NV/available_instances)" 15

check "create two 64 MiB disks" \
	eval 'eq "$(write_errno $B64/create $U3)" OK && eq "$(write_errno $B64/create ${U3%?}4)" OK'
check "a third 64 MiB disk: EUSERS" eq "$(write_errno $B64/create ${U3%?}5)" EUSERS
check "the 8 MiB type still has all its instances" eq "$(cat $B8/available_instances)" 8
check "remove a disk" eval 'eq "$(write_errno $MDEVS/$U3/remove 1)" OK && test ! -e $MDEVS/$U3'
check "its instance is back" eq "$(cat $B64/available_instances)" 1

check "mdev removal removes its debugfs directory" \
	eval 'eq "$(write_errno $MDEVS/$U2/remove 1)" OK && test ! -e $STATS/$U2'
check "mdevctl lists the mvnet types" \
	eval 'mdevctl types -p mvnet.0 | grep -q "mvnet-virtio" && mdevctl types -p mvnet.0 | grep -q "Available instances: 15"'

fails=0
for i in $(seq 100); do
	printf -v u 'e0e0e0e0-0000-0000-0000-%012x' $i
	t=$([ $((i % 2)) = 0 ] && echo $NV || echo $B8)
	printf '%s' $u 2>/dev/null >$t/create || fails=$((fails + 1))
	printf 1 2>/dev/null >$MDEVS/$u/remove || fails=$((fails + 1))
done
check "100 create/remove cycles of cards and disks" \
	eval 'eq "$fails" 0 && eq "$(ls $STATS | wc -l)" 1 && eq "$(cat $B8/available_instances)" 8'

# Creates and removes racing with mvnet's unload: the racer starts cycling,
# the unload starts once a create succeeded, the racer stops when the type
# is gone (at most 2000 cycles).
racer() {
	local i r u
	for i in $(seq 2000); do
		u=$(printf 'f0f0f0f0-0000-0000-0000-%012x' $i)
		r=$(write_errno $NV/create $u 2>/dev/null)
		case $r in
		OK) touch $RMDEV_TMP/created
		    r=$(write_errno $MDEVS/$u/remove 1 2>/dev/null)
		    case $r in OK|ENODEV|ENOENT) ;; *) echo "remove: $r" ;; esac ;;
		EUSERS|ENODEV|ENOENT) ;;
		*) echo "create: $r" ;;
		esac
		[ -e $NV/create ] || break
	done
}
rm -f $RMDEV_TMP/created
racer >$RMDEV_TMP/racer &
wait_for 30 test -e $RMDEV_TMP/created
rmmod mvnet
wait
check "create/remove racing with mvnet unload: only ABI errnos, nothing left" \
	eval 'test -e $RMDEV_TMP/created && eq "$(cat $RMDEV_TMP/racer | head -5)" "" &&
	      test ! -e $NET -a ! -e $MDEVS/$U1'
check "mvnet reloads and takes a create" \
	eval 'modprobe mvnet && eq "$(write_errno $NV/create $U1)" OK'

rmmod mvblk
check "mvblk unload with a live disk removes it" test ! -e $MDEVS/${U3%?}4
rmmod mvnet
check "mvnet unload with a live card removes it and its stats" test ! -e $MDEVS/$U1 -a ! -e $STATS/$U1
check "mvnet max_instances module parameter" \
	eval 'modprobe mvnet max_instances=1000 && eq "$(cat $NV/available_instances)" 1000 && rmmod mvnet'
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
