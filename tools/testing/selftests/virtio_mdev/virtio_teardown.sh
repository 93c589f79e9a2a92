#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# virtio_mdev teardown at any moment, with the interface up and frames or
# block I/O in flight: remove of the mdev, rmmod of virtio_mdev and of the
# parent, unbind and bind, driver_override to another class driver and
# back. (The NEEDS_RESET checks and the 100 create/use/remove cycles are
# not in yet: the first hung in its last run; see session 5's closing note.)
. "$(dirname "$0")/lib.sh"
ktap_set_plan 9
PKT=$RMDEV_LIB/pkt

modprobe mvnet && modprobe mvblk && modprobe virtio_mdev && modprobe virtio_net &&
	modprobe virtio_blk

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

unload_all
check "dmesg and kmemleak clean" dmesg_clean
ktap_finished
