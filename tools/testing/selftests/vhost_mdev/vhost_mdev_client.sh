#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vhost_mdev in use: tools/vdpa_client (rust-vmm vhost + vm-memory) runs
# mvnet's loopback and mvblk's disk through /dev/vhost-mdev-N, and runs the
# same way on mainline vhost_vdpa + vdpa_sim; a hostile driver (vdpa_ring)
# breaks rings in every way it can, and the device fails (NEEDS_RESET, the
# config eventfd fires) or drops the request, and works again after a
# reset; opens race; a process killed with pinned mappings gives its pins
# back; remove, rmmod of the class driver and of the parent during traffic
# return, and the client stops; driver_override moves an mdev between
# virtio_mdev and vhost_mdev, and each side works afterwards.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 15
CLIENT=${RMDEV_CLIENT:-}
[ -x "$CLIENT" ] || ktap_exit_fail_msg "vdpa-client not built (RMDEV_CLIENT: tools/testing/vm.sh builds it)"
RING=$RMDEV_LIB/vdpa_ring
IOC=$RMDEV_LIB/vdpa_ioctl
BH=/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-vhost-8m
NV=/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-virtio
VM=/sys/bus/mdev/drivers/virtio_mdev
U3=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4e13
# The client pins its memory (the rings and buffers: 2 MiB for net).
ulimit -l unlimited

mvnet_stat() { sed -n "s/^$2 //p" "/sys/kernel/debug/mvnet/$1/stats"; }
# create TYPE UUID: creates the mdev and waits for its char device.
create() { eq "$(write_errno $1/create $2)" OK && wait_for 30 has_node $2; }

modprobe mvnet && modprobe mvblk
create $NH $U1 && create $BH $U2
N=/dev/$(cdev_of $U1)
B=/dev/$(cdev_of $U2)

check "the client's frames go round mvnet byte for byte (1000 of 64 B, 1000 of 1500 B)" \
	eval '$CLIENT net --dev $N --frames 1000 >$RMDEV_TMP/net &&
	      $CLIENT net --dev $N --frames 1000 --size 1500 >>$RMDEV_TMP/net &&
	      eq "$(cat $RMDEV_TMP/net | tr "\n" " ")" \
	         "net: sent 1000 received 1000 identical 1000 net: sent 1000 received 1000 identical 1000 " &&
	      eq "$(mvnet_stat $U1 tx_queue_0_packets) $(mvnet_stat $U1 rx_queue_0_packets)" "2000 2000"'
check "the client's blocks land in mvblk (8 MiB) and read back identical, flush included" \
	eval '$CLIENT -v blk --dev $B --blocks 256 >$RMDEV_TMP/blk 2>$RMDEV_TMP/blk.trace &&
	      eq "$(cat $RMDEV_TMP/blk)" "blk: wrote 256 read 256 identical 256" &&
	      grep -q "capacity 16384 sectors" $RMDEV_TMP/blk.trace &&
	      grep -q "flush ok" $RMDEV_TMP/blk.trace'

# The same client, unchanged, on mainline (pinned pages: use_va=0).
modprobe vhost_vdpa && modprobe vdpa_sim use_va=0 && modprobe vdpa_sim_net && modprobe vdpa_sim_blk &&
	vdpa dev add mgmtdev vdpasim_net name vnet0 mac 02:00:00:00:00:01 &&
	vdpa dev add mgmtdev vdpasim_blk name vblk0
wait_for 10 test -c /dev/vhost-vdpa-1
check "the same client runs on mainline vhost_vdpa + vdpa_sim_net and vdpa_sim_blk" \
	eval 'eq "$($CLIENT net --dev /dev/vhost-vdpa-0 --frames 1000)" "net: sent 1000 received 1000 identical 1000" &&
	      eq "$($CLIENT blk --dev /dev/vhost-vdpa-1 --blocks 256)" "blk: wrote 256 read 256 identical 256"'
vdpa dev del vnet0
vdpa dev del vblk0

# ring CASE: vdpa_ring's report of CASE on mvnet, on one line.
ring() { $RING $N $1 | tr "\n" " "; }
FAILED="status 0x4f config-call 1 tx-used 0 rx-used 0 rx-match no recovered yes "
check "a good frame through the hand-built rings comes back, also with one eventfd for kick and call" \
	eval 'eq "$(ring good)" "status 0xf config-call 0 tx-used 1 rx-used 1 rx-match yes recovered yes " &&
	      eq "$(ring shared-eventfd)" "status 0xf config-call 0 tx-used 1 rx-used 1 rx-match yes recovered yes "'
check "a descriptor loop, a head beyond the ring, an unmapped descriptor table: NEEDS_RESET, the config eventfd, a reset recovers" \
	eval 'eq "$(ring loop)" "$FAILED" && eq "$(ring bad-head)" "$FAILED" && eq "$(ring desc-unmapped)" "$FAILED"'
check "a used ring unmapped or read-only under the running device: NEEDS_RESET, nothing written, a reset recovers" \
	eval 'eq "$(ring used-unmapped)" "$FAILED" && eq "$(ring used-ro)" "$FAILED"'
errs=$(mvnet_stat $U1 tx_queue_0_errors)
check "a 64 KiB chain, a buffer the IOTLB does not map: that frame is a TX error, the device runs on" \
	eval 'eq "$(ring long-chain)" "status 0xf config-call 0 tx-used 1 rx-used 0 rx-match no recovered yes " &&
	      eq "$(ring buf-unmapped)" "status 0xf config-call 0 tx-used 1 rx-used 0 rx-match no recovered yes " &&
	      eq "$(mvnet_stat $U1 tx_queue_0_errors)" $((errs + 2))'

check "eight processes open at once: one gets the device, seven EBUSY" \
	eq "$($IOC race:$N)" "opened 1 busy 7 other 0"
read -r _ vmpin _ killed _ alive _ after <<<"$($IOC kill:$N | grep '^child-vmpin-kb ')"
ktap_print_msg "killed owner: VmPin $vmpin kB, pages pinned while alive $alive, after $after"
check "a process killed with 1 MiB mapped: its pins (256 pages) come back" \
	eval '[ "$vmpin" = 1024 ] && [ "$killed" = 1 ] && [ "$alive" -ge 192 ] &&
	      [ "${after#-}" -le 64 ] && exec 3<>$N && exec 3>&-'

# during CMD...: starts a 60 s client benchmark on $DEV, then runs CMD once
# traffic flows (the client is still running after 4 s; for net, mvnet's
# counter moves); the client must then stop (non-zero) within 20 s.
during() {
	local pid tx
	$CLIENT $KIND --dev $DEV --bench 60 >$RMDEV_TMP/bench 2>&1 &
	pid=$!
	sleep 4
	if ! kill -0 $pid; then
		ktap_print_msg "the client is not running: $(cat $RMDEV_TMP/bench)"
		return 1
	fi
	if [ $KIND = net ]; then
		tx=$(mvnet_stat $U1 tx_queue_0_packets)
		wait_for 5 eval '[ "$(mvnet_stat $U1 tx_queue_0_packets)" -gt $tx ]' || return 1
	fi
	"$@" || return 1
	wait_for 20 not kill -0 $pid || return 1
	! wait $pid
}
KIND=net DEV=$N
check "remove of the mdev during traffic returns, the node goes, the client stops" \
	during eval 'eq "$(write_errno $MDEVS/$U1/remove 1)" OK && wait_for 10 not test -e $N'
create $NH $U1
N=/dev/$(cdev_of $U1)
KIND=blk DEV=$B
check "rmmod vhost_mdev during block I/O returns, the client stops" \
	during eval 'rmmod vhost_mdev && wait_for 10 not test -e $B'
modprobe vhost_mdev && wait_for 30 has_node $U1 && wait_for 30 has_node $U2
N=/dev/$(cdev_of $U1)
KIND=net DEV=$N
check "rmmod of the parent during traffic removes its mdevs, the client stops" \
	during eval 'rmmod mvnet && test ! -e $MDEVS/$U1'

# driver_override: a virtio-class mdev to vhost_mdev and back.
modprobe mvnet && modprobe virtio_mdev
write_errno $NV/create $U3 >/dev/null
wait_for 30 has_netdev $U3
check "driver_override moves an mvnet-virtio mdev to vhost_mdev: its char device runs the client" \
	eval 'echo vhost_mdev >$MDEVS/$U3/driver_override && echo $U3 >$VM/unbind &&
	      echo $U3 >/sys/bus/mdev/drivers_probe && eq "$(driver_of $U3)" vhost_mdev &&
	      wait_for 10 has_node $U3 && test -z "$(netdev_of $U3)" &&
	      eq "$($CLIENT net --dev /dev/$(cdev_of $U3) --frames 100)" "net: sent 100 received 100 identical 100"'
# loops_back IF: a broadcast the interface sends (ping's ARP requests)
# comes back to it. virtio_net sets the carrier from the device's status in
# a work item after open: nothing leaves before it is on.
loops_back() {
	local rx s=/sys/class/net/$1
	ip link set $1 up || return 1
	if ! wait_for 10 eval "[ \"\$(cat $s/carrier 2>/dev/null)\" = 1 ]"; then
		ktap_print_msg "$1: no carrier"
		return 1
	fi
	rx=$(cat $s/statistics/rx_packets)
	ip addr add 10.99.0.1/24 dev $1 && ping -c 3 -i 0.3 -W 1 10.99.0.2 >/dev/null 2>&1
	wait_for 5 eval "[ \$(cat $s/statistics/rx_packets) -gt $rx ]" && return 0
	ktap_print_msg "$1: rx_packets $rx before, $(cat $s/statistics/rx_packets) after; tx $(cat $s/statistics/tx_packets)"
	return 1
}
check "and back to virtio_mdev: a netdev again, whose broadcasts come back through mvnet" \
	eval 'echo virtio_mdev >$MDEVS/$U3/driver_override && echo $U3 >$VHM/unbind &&
	      echo $U3 >/sys/bus/mdev/drivers_probe && eq "$(driver_of $U3)" virtio_mdev &&
	      echo >$MDEVS/$U3/driver_override && test -z "$(cdev_of $U3)" &&
	      wait_for 10 has_netdev $U3 && loops_back $(netdev_of $U3)'

unload_all
check "dmesg and kmemleak clean" dmesg_clean
ktap_finished
