#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vhost_mdev and unmodified DPDK: testpmd's virtio_user takes
# /dev/vhost-mdev-N for a vhost-vdpa backend (the major's name in
# /proc/devices), maps its memory through IOTLB messages, kicks and is
# called through eventfds, and io-forwards frames that go round mvnet's
# loopback. The command line is DPDK's own documentation's, with what this
# guest needs (no hugepages, pinned memory: ulimit -l).
. "$(dirname "$0")/lib.sh"
ktap_set_plan 5

# Installed by tools/setup.sh: its absence is a failure, not a skip.
command -v dpdk-testpmd >/dev/null ||
	ktap_exit_fail_msg "dpdk-testpmd missing (tools/setup.sh installs dpdk-dev)"

# Enough frames to prove the rings wrap many times (256 entries each).
FRAMES=20000
# One burst of io forwarding is in flight when testpmd stops.
BURST=32

modprobe mvnet && write_errno $NH/create $U1 >/dev/null && wait_for 30 has_node $U1
C=$(cdev_of $U1)
MAC=$(mac_of $U1)
stat_of() { sed -n "s/^$1 //p" "/sys/kernel/debug/mvnet/$U1/stats"; }
looped() { [ "$(stat_of rx_queue_0_packets)" -ge $FRAMES ]; }

# DPDK maps its whole -m region in one pinned update (RLIMIT_MEMLOCK).
ulimit -l unlimited
dpdk-testpmd -l 0-1 --no-huge --no-pci -m 128 --no-shconf --log-level=pmd.net.virtio.init:info \
	--vdev=net_virtio_user0,path=/dev/$C,queues=1,queue_size=256 -- \
	--port-topology=loop --forward-mode=io --tx-first --eth-peer=0,$MAC \
	--nb-cores=1 --total-num-mbufs=8192 --stats-period 10 \
	>$RMDEV_TMP/testpmd.log 2>&1 &
pid=$!
# EAL starts in 15 to 30 s under TCG; then about 30 000 frames a second.
wait_for 240 looped
kill -INT $pid
wait_for 60 not kill -0 $pid
wait $pid 2>/dev/null
[ -n "${RMDEV_OUT:-}" ] && cp $RMDEV_TMP/testpmd.log "$RMDEV_OUT/" 2>/dev/null

check "testpmd takes /dev/$C for a vhost-vdpa backend, reads the MAC from its config space" \
	eval 'grep -q "Backend type detected: VHOST_VDPA" $RMDEV_TMP/testpmd.log &&
	      grep -qi "^Port 0: $MAC" $RMDEV_TMP/testpmd.log'
# testpmd's totals: "RX-packets: N  RX-dropped: N  RX-total: N" lines.
total() { sed -n "s/^ *$1-packets: *\([0-9]*\) *$1-dropped: *\([0-9]*\).*/\1 \2/p" \
	$RMDEV_TMP/testpmd.log | head -1; }
read -r rx rxdrop <<<"$(total RX)"
read -r tx txdrop <<<"$(total TX)"
ktap_print_msg "testpmd: RX $rx TX $tx; mvnet: tx $(stat_of tx_queue_0_packets) rx $(stat_of rx_queue_0_packets)"
check "io forwarding goes round mvnet: at least $FRAMES frames received, none dropped" \
	eval '[ "${rx:-0}" -ge $FRAMES ] && [ "$rxdrop" = 0 ] && [ "$txdrop" = 0 ]'
check "the counters agree: mvnet took every frame testpmd sent and looped each back; testpmd got all but the last burst" \
	eval 'eq "$(stat_of tx_queue_0_packets)" "$tx" && eq "$(stat_of rx_queue_0_packets)" "$tx" &&
	      [ $((tx - rx)) -le $BURST ] &&
	      eq "$(stat_of tx_queue_0_errors) $(stat_of rx_queue_0_errors) $(stat_of rx_queue_0_drops)" "0 0 0"'
check "testpmd exits on SIGINT, and the device opens again (closed, reset)" \
	eval 'grep -q "^Bye" $RMDEV_TMP/testpmd.log && exec 3<>/dev/$C && exec 3>&-'

unload_all
check "dmesg and kmemleak clean" dmesg_clean
ktap_finished
