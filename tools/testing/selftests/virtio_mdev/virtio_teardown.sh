#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# virtio_mdev teardown at any moment, with the interface up and frames or
# block I/O in flight: remove of the mdev, rmmod of virtio_mdev and of the
# parent, unbind and bind, driver_override to another class driver and
# back; a device that fails (NEEDS_RESET) gives its driver a failed device
# (broken virtqueues: nothing passes, nothing blocks, remove completes), and
# fails the same way after its driver is bound again; 100 create, use and
# remove cycles leave nothing behind.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 15
PKT=$RMDEV_LIB/pkt

modprobe mvnet && modprobe mvblk && modprobe virtio_mdev && modprobe virtio_net &&
	modprobe virtio_blk
NVIRTIO=$(ls /sys/bus/virtio/devices | wc -l)

# net_up UUID: creates an mvnet-virtio mdev and brings its interface up.
net_up() { write_errno $NV/create $1 >/dev/null && net_wait $1; }
# net_wait UUID: waits for the mdev's interface, brings it up, sets IF.
net_wait() {
	wait_for 30 has_netdev $1 || return
	IF=$(netdev_of $1)
	[ -e /proc/sys/net/ipv6/conf/$IF ] && echo 1 >/proc/sys/net/ipv6/conf/$IF/disable_ipv6
	ip link set $IF up && wait_for 10 carrier_is $IF 1
}
# blk_up UUID TYPE: creates an mvblk mdev and waits for its disk node.
blk_up() {
	write_errno $2/create $1 >/dev/null && wait_for 30 has_disk $1 &&
		DISK=$(disk_of $1) && wait_for 10 test -b /dev/$DISK
}
# gone PID...: the processes end within 20 s.
gone() {
	local p
	for p; do wait_for 20 not kill -0 $p || return; done
	wait "$@" 2>/dev/null
	return 0
}
# moving UUID: mvnet's TX counter of the mdev grows.
moving() {
	local a
	a=$(mvnet_stat $1 tx_queue_0_packets)
	wait_for 10 eval '[ "$(mvnet_stat '$1' tx_queue_0_packets)" -gt '$a' ]'
}

net_up $U1
$PKT $IF send 100000000 1514 >/dev/null 2>&1 &
sender=$!
check "remove of an mdev while frames are in flight returns, the interface goes" \
	eval 'moving $U1 && eq "$(write_errno $MDEVS/$U1/remove 1)" OK &&
	      test ! -e /sys/class/net/$IF && gone $sender'

blk_up $U2 $B64
fio --name=io --filename=/dev/$DISK --rw=randrw --bs=4k --direct=1 --ioengine=psync \
	--numjobs=2 --time_based --runtime=120 --output=/dev/null 2>/dev/null &
io=$!
sleep 2
check "remove of an mdev during I/O returns, the disk goes, the I/O ends" \
	eval 'eq "$(write_errno $MDEVS/$U2/remove 1)" OK && test ! -e /sys/block/$DISK && gone $io'

net_up $U1 && blk_up $U2 $B8
$PKT $IF send 100000000 60 >/dev/null 2>&1 &
sender=$!
(while dd if=/dev/$DISK of=/dev/null bs=64k iflag=direct status=none; do :; done) 2>/dev/null &
io=$!
check "rmmod virtio_mdev with devices bound and busy: they are unbound and stay" \
	eval 'moving $U1 && rmmod virtio_mdev && eq "$(driver_of $U1) $(driver_of $U2)" "none none" &&
	      test ! -e /sys/class/net/$IF -a ! -e /sys/block/$DISK && gone $sender $io'
check "modprobe virtio_mdev binds them again, and they work" \
	eval 'modprobe virtio_mdev && net_wait $U1 && $PKT $IF loop 10 60 >/dev/null &&
	      DISK=$(disk_of $U2) && wait_for 10 test -b /dev/$DISK &&
	      dd if=/dev/$DISK of=/dev/null bs=4k count=1 iflag=direct status=none'

check "unbind and bind through sysfs" \
	eval 'echo $U1 >$VM/unbind && test -z "$(netdev_of $U1)" && eq "$(driver_of $U1)" none &&
	      echo $U1 >$VM/bind && net_wait $U1 && $PKT $IF loop 10 60 >/dev/null'
# The sample class driver binds virtio-class mdevs too: loaded only here.
modprobe mdev_sample_class
check "driver_override moves the mdev to mdev_sample_class: no virtio device" \
	eval 'echo mdev_sample_class >$MDEVS/$U1/driver_override && echo $U1 >$VM/unbind &&
	      echo $U1 >/sys/bus/mdev/drivers_probe && eq "$(driver_of $U1)" mdev_sample_class &&
	      test -z "$(vdev_of $U1)"'
check "and back to virtio_mdev: the interface passes frames again" \
	eval 'echo virtio_mdev >$MDEVS/$U1/driver_override &&
	      echo $U1 >/sys/bus/mdev/drivers/mdev_sample_class/unbind &&
	      echo $U1 >/sys/bus/mdev/drivers_probe && eq "$(driver_of $U1)" virtio_mdev &&
	      echo >$MDEVS/$U1/driver_override && net_wait $U1'
rmmod mdev_sample_class

$PKT $IF send 100000000 1514 >/dev/null 2>&1 &
sender=$!
check "rmmod of the parent while frames are in flight removes its mdevs" \
	eval 'moving $U1 && rmmod mvnet && test ! -e $MDEVS/$U1 -a ! -e /sys/class/net/$IF && gone $sender'
modprobe mvnet
write_errno $MDEVS/$U2/remove 1 >/dev/null

dmesg_mark
net_up $U3
VD=$(vdev_of $U3)
check "a failing device sets NEEDS_RESET; the transport breaks its virtqueues" \
	eval 'echo 1 >/sys/kernel/debug/mvnet/$U3/fail && $PKT $IF send 1 60 >/dev/null &&
	      wait_for 10 eval "[ \$((\$(cat $MDEVS/$U3/$VD/status) & 0x40)) != 0 ]" &&
	      wait_for 10 eval "dmesg | grep -q \"$VD: device needs a reset\""'
check "the interface passes nothing more, and nothing blocks (pkt gives up in 2 s)" \
	eval 'not $PKT $IF loop 1 60'
VN=/sys/bus/virtio/drivers/virtio_net
check "rebinding virtio_net resets the device: it works, and fails again the same way" \
	eval 'echo $VD >$VN/unbind && echo $VD >$VN/bind && net_wait $U3 && $PKT $IF loop 10 60 >/dev/null &&
	      echo 1 >/sys/kernel/debug/mvnet/$U3/fail && $PKT $IF send 1 60 >/dev/null &&
	      wait_for 10 eval "[ \$(dmesg | grep -c \"$VD: device needs a reset\") = 2 ]" &&
	      not $PKT $IF loop 1 60'
check "the failed device's mdev is removed at once" eq "$(write_errno $MDEVS/$U3/remove 1)" OK

# cycles UUID net|blk N: N create, use, remove cycles of one mdev (a frame
# round the loop, or a block read); prints how many went through.
cycles() {
	local ok=0 i
	for ((i = 0; i < $3; i++)); do
		if [ $2 = net ]; then
			net_up $1 && $PKT $IF loop 1 60 >/dev/null
		else
			blk_up $1 $B8 && dd if=/dev/$DISK of=/dev/null bs=4k count=1 iflag=direct status=none
		fi && eq "$(write_errno $MDEVS/$1/remove 1)" OK && ok=$((ok + 1))
	done
	echo $ok
}
# Four mdevs at a time, two of each parent: the removals overlap (a netdev's
# removal waits for its queues' delayed kobject releases, 2-4 s here).
udev_stop
t0=$SECONDS
cycles $U1 net 25 >$RMDEV_TMP/c1 &
cycles $U2 net 25 >$RMDEV_TMP/c2 &
cycles $U3 blk 25 >$RMDEV_TMP/c3 &
cycles $U4 blk 25 >$RMDEV_TMP/c4 &
wait
ktap_print_msg "100 cycles in $((SECONDS - t0)) s"
check "100 create, use (a frame round the loop, a block read) and remove cycles, four mdevs at a time" \
	eq $(($(cat $RMDEV_TMP/c1) + $(cat $RMDEV_TMP/c2) + $(cat $RMDEV_TMP/c3) + $(cat $RMDEV_TMP/c4))) 100
check "nothing left: no mdev, no virtio device of ours" \
	eval 'eq "$(ls $MDEVS | wc -l) $(ls /sys/bus/virtio/devices | wc -l)" "0 $NVIRTIO"'
unload_all
check "dmesg and kmemleak clean" dmesg_clean
ktap_finished
