#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vhost_mdev benchmark, run in the benchmark kernel (`make bench`): userspace
# drivers on mvnet/mvblk through vhost_mdev against the same drivers on
# vdpa_sim_net/vdpa_sim_blk through mainline vhost_vdpa (vdpa_sim with
# use_va=0: pinned pages, as vhost_mdev), in one boot, alternating
# (A B A B A B) and taking medians. Printed as ratios ours/anchor.
#
# - client pps: tools/vdpa_client `net --bench` (one thread keeps 256 RX
#   buffers and the TX ring busy, counts frames received per second), 64 and
#   1500-byte frames.
# - client IOPS: `blk --bench`, 4 KiB random reads and writes (queue 256).
# - testpmd: DPDK io forwarding (--tx-first, 32 frames in flight) through
#   the device's loopback: the median of its "Rx-pps" over the run, after
#   EAL start-up.
# - map 1 GiB: `map-bench --mib 1024` (one IOTLB update per 2 MiB in one
#   batch), ms; ratio anchor/ours (higher is better for us).
#
# Not like for like: vdpa_sim_net and vdpa_sim_blk offer ACCESS_PLATFORM
# and more features (the clients ack VERSION_1, ACCESS_PLATFORM, MAC or
# FLUSH only); vdpa_sim runs its device in a kthread worker, mvnet and
# mvblk in an unbound workqueue. Queue size 256 on both.
set -eu
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
PMD_ROUNDS=${PMD_ROUNDS:-2}
PMD_SECS=${PMD_SECS:-50}
CLIENT=${RMDEV_CLIENT:?built by tools/testing/vm.sh}
UN=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4ec0
UB=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4ec1
VDPA_MAC=02:00:00:00:00:01


# 1 GiB of 4 KiB pages without THP is up to 262144 IOTLB entries: mainline
# caps them at 2048 by default (vhost_vdpa and vdpa_sim), rmdev does not.
# DPDK takes the first "vhost-vdpa*" major of /proc/devices (ascending; a
# dynamic major is the highest free one): vhost_mdev is loaded last, so its
# major is listed first, and unloaded while testpmd runs on the anchor.
for m in "vdpa_sim use_va=0 max_iotlb_entries=300000" vdpa_sim_net vdpa_sim_blk \
	"vhost_vdpa max_iotlb_entries=300000" mvnet mvblk vhost_mdev; do
	modprobe $m
done
ulimit -l unlimited
echo $UN >/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-vhost/create
echo $UB >/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-vhost-8m/create
vdpa dev add mgmtdev vdpasim_net name vnet0 mac $VDPA_MAC
vdpa dev add mgmtdev vdpasim_blk name vblk0
wait_for 30 has "/sys/bus/mdev/devices/$UN/vhost-mdev-*"
wait_for 30 has "/sys/bus/mdev/devices/$UB/vhost-mdev-*"
wait_for 30 has "/sys/bus/vdpa/devices/vnet0/vhost-vdpa-*"
wait_for 30 has "/sys/bus/vdpa/devices/vblk0/vhost-vdpa-*"
declare -A dev
# devices: the char devices of the four (again after a reload).
devices() {
	dev[net:ours]=/dev/$(first "/sys/bus/mdev/devices/$UN/vhost-mdev-*")
	dev[blk:ours]=/dev/$(first "/sys/bus/mdev/devices/$UB/vhost-mdev-*")
	dev[net:anchor]=/dev/$(first "/sys/bus/vdpa/devices/vnet0/vhost-vdpa-*")
	dev[blk:anchor]=/dev/$(first "/sys/bus/vdpa/devices/vblk0/vhost-vdpa-*")
}
devices
declare -A mac=([ours]=$(mac_of $UN) [anchor]=$VDPA_MAC)
echo "# ours: ${dev[net:ours]} (mvnet + vhost_mdev), ${dev[blk:ours]} (mvblk 8 MiB)"
echo "# anchor: ${dev[net:anchor]} (vdpa_sim_net + vhost_vdpa), ${dev[blk:anchor]} (vdpa_sim_blk)"
echo "# $(nproc) CPUs, $ROUNDS rounds of $SECS s per client run, $PMD_ROUNDS testpmd rounds of $PMD_SECS s"

# testpmd SIDE: io forwarding through the device; prints the median Rx-pps
# of its periodic statistics once frames flow.
testpmd() {
	local log
	log=$(mktemp)
	timeout -s INT $PMD_SECS dpdk-testpmd -l 0-1 --no-huge --no-pci -m 128 --no-shconf \
		--vdev=net_virtio_user0,path=${dev[net:$1]},queues=1,queue_size=256 -- \
		--port-topology=loop --forward-mode=io --tx-first --eth-peer=0,${mac[$1]} \
		--nb-cores=1 --total-num-mbufs=8192 --stats-period 2 >"$log" 2>&1 || true
	median $(sed -n 's/^ *Rx-pps: *\([0-9]*\).*/\1/p' "$log" | awk '$1 > 0')
	rm -f "$log"
}

declare -A res
for ((r = 0; r < ROUNDS; r++)); do
	for side in ours anchor; do
		for size in 64 1500; do
			res[pps$size:$side]+=" $($CLIENT net --dev ${dev[net:$side]} --size $size --bench $SECS | awk '{ print $2 }')"
		done
		res[randread:$side]+=" $($CLIENT blk --dev ${dev[blk:$side]} --bench $SECS | awk '{ print $2 }')"
		res[randwrite:$side]+=" $($CLIENT blk --dev ${dev[blk:$side]} --bench $SECS --write | awk '{ print $2 }')"
		res[map:$side]+=" $($CLIENT map-bench --dev ${dev[net:$side]} --mib 1024 | awk '{ print $2 }')"
	done
done
for ((r = 0; r < PMD_ROUNDS; r++)); do
	res[testpmd:ours]+=" $(testpmd ours)"
	rmmod vhost_mdev
	res[testpmd:anchor]+=" $(testpmd anchor)"
	modprobe vhost_mdev
	wait_for 30 has "/sys/bus/mdev/devices/$UN/vhost-mdev-*"
	wait_for 30 has "/sys/bus/mdev/devices/$UB/vhost-mdev-*"
	devices
done

printf '%-34s %12s %12s %12s\n' metric ours anchor ours/anchor
row() {
	local o a
	o=$(median ${res[$1:ours]}) a=$(median ${res[$1:anchor]})
	printf '%-34s %12s %12s %12s\n' "$2" "$o" "$a" "$(ratio $o $a)"
}
row pps64 "client pps, 64 B frames"
row pps1500 "client pps, 1500 B frames"
row randread "client IOPS, 4 KiB random read"
row randwrite "client IOPS, 4 KiB random write"
row testpmd "testpmd io-forward pps"
o=$(median ${res[map:ours]}) a=$(median ${res[map:anchor]})
printf '%-34s %12s %12s %12s\n' "map 1 GiB, ms (ratio anchor/ours)" "$o" "$a" "$(ratio $a $o)"
echo "# raw runs:"
for k in "${!res[@]}"; do echo "#   $k:${res[$k]}"; done | sort
echo 1 >/sys/bus/mdev/devices/$UN/remove
echo 1 >/sys/bus/mdev/devices/$UB/remove
vdpa dev del vnet0
vdpa dev del vblk0
