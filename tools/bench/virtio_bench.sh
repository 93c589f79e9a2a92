#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# virtio_mdev benchmark, run in the benchmark kernel (`make bench`): the
# kernel's virtio_net and virtio_blk over mvnet/mvblk + virtio_mdev against
# the same drivers over vdpa_sim_net/vdpa_sim_blk + virtio_vdpa, in one boot,
# alternating (A B A B A B) and taking medians; lo is the limit of the
# network path. Printed as ratios ours/anchor and ours/lo.
#
# - pps: pktgen (kpktgend_0, so the sender is pinned to CPU 0) sends PKTS
#   frames of 60 and 1514 bytes (64 and 1518 with the FCS) addressed to
#   the interface's own MAC; pps = frames received (rx_packets) per second
#   of the pktgen run.
# - the same pps with the device models' work on the per-CPU workqueue of
#   the kicking CPU instead of the unbound one (rmdev_vdev's percpu_work).
# - latency: median round trip of single 60-byte frames (pkt pingpong).
# - block: fio, 4 KiB random read and write IOPS (libaio, iodepth 16) and
#   1 MiB sequential read and write MB/s, RUNTIME s each, O_DIRECT.
#
# Not like for like: vdpa_sim requires VIRTIO_F_ACCESS_PLATFORM, so its
# guest driver maps every buffer through the DMA API (dma-direct, no IOMMU);
# mvnet/mvblk do not offer it and virtio_ring passes physical addresses.
# vdpa_sim_net also offers a control virtqueue, vdpa_sim_blk multiqueue,
# discard and write zeroes (unused here). Queue size 256 on both.
set -eu
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
ROUNDS=${ROUNDS:-3}
PKTS=${PKTS:-300000}
RUNTIME=${RUNTIME:-8}
PKT=$PWD/tools/testing/selftests/virtio_mdev/pkt
UN=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4eb0
UB=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4eb1
VDPA_MAC=02:00:00:00:00:01


for m in mvnet mvblk virtio_mdev virtio_net virtio_blk vdpa_sim_net vdpa_sim_blk virtio_vdpa pktgen; do
	modprobe $m
done
echo $UN >/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-virtio/create
echo $UB >/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-virtio-64m/create
vdpa dev add mgmtdev vdpasim_net name vnet0 mac $VDPA_MAC
vdpa dev add mgmtdev vdpasim_blk name vblk0
wait_for 30 has "/sys/bus/mdev/devices/$UN/virtio*/net/*"
wait_for 30 has "/sys/bus/vdpa/devices/vnet0/virtio*/net/*"
wait_for 30 has "/sys/bus/mdev/devices/$UB/virtio*/block/*"
wait_for 30 has "/sys/bus/vdpa/devices/vblk0/virtio*/block/*"
OURS=$(first "/sys/bus/mdev/devices/$UN/virtio*/net/*")
ANCHOR=$(first "/sys/bus/vdpa/devices/vnet0/virtio*/net/*")
DOURS=/dev/$(first "/sys/bus/mdev/devices/$UB/virtio*/block/*")
DANCHOR=/dev/$(first "/sys/bus/vdpa/devices/vblk0/virtio*/block/*")
for i in $OURS $ANCHOR lo; do
	[ -e /proc/sys/net/ipv6/conf/$i ] && echo 1 >/proc/sys/net/ipv6/conf/$i/disable_ipv6
	ip link set $i up
done
wait_for 10 test "$(cat /sys/class/net/$OURS/carrier)$(cat /sys/class/net/$ANCHOR/carrier)" = 11
echo "# ours: $OURS (mvnet + virtio_mdev), $DOURS (mvblk 64 MiB)"
echo "# anchor: $ANCHOR (vdpa_sim_net + virtio_vdpa), $DANCHOR (vdpa_sim_blk)"
echo "# $(nproc) CPUs, $ROUNDS rounds, $PKTS frames per pps run, fio $RUNTIME s per run"

PG=/proc/net/pktgen
pg() { echo "$2" >"$PG/$1"; }
# pps IF SIZE: frames of SIZE bytes through IF per second (received).
pps() {
	local ifc=$1 size=$2 mac rx0 rx1 t0 t1
	mac=$(cat /sys/class/net/$ifc/address)
	pg kpktgend_0 rem_device_all
	pg kpktgend_0 "add_device $ifc"
	pg $ifc "count $PKTS"
	pg $ifc "pkt_size $((size - 4))"
	pg $ifc "dst_mac $mac"
	pg $ifc "clone_skb 0"
	pg $ifc "delay 0"
	rx0=$(cat /sys/class/net/$ifc/statistics/rx_packets)
	t0=$(date +%s%N)
	pg pgctrl start
	t1=$(date +%s%N)
	# Frames still on their way round were sent in the run: count them.
	sleep 0.2
	rx1=$(cat /sys/class/net/$ifc/statistics/rx_packets)
	echo $(( (rx1 - rx0) * 1000000000 / (t1 - t0) ))
}
# rtt IF: median round trip of single 60-byte frames, in microseconds.
rtt() { "$PKT" "$1" pingpong 2000 60 | sed -n 's/.*rtt_median_us //p'; }
# fio_run DEV RW BS: IOPS (4k) or MB/s (1m) of one fio run.
fio_run() {
	local j
	j=$(fio --name=b --filename=$1 --rw=$2 --bs=$3 --direct=1 --ioengine=libaio \
		--iodepth=16 --size=64M --time_based --runtime=$RUNTIME --output-format=json)
	python3 -c 'import json,sys
j = json.loads(sys.argv[1])["jobs"][0]
side = j["read"] if j["read"]["io_bytes"] else j["write"]
print(int(side["iops"]) if sys.argv[2] == "4k" else int(side["bw"] / 1024))' "$j" "$3"
}

declare -A res
PERCPU=/sys/kernel/debug/rmdev_vdev/percpu_work
for size in 64 1518; do
	for ((r = 0; r < ROUNDS; r++)); do
		res[pps,$size,ours]+=" $(pps $OURS $size)"
		res[pps,$size,anchor]+=" $(pps $ANCHOR $size)"
		res[pps,$size,lo]+=" $(pps lo $size)"
		# The same with the device's work on the kicking CPU's queue.
		echo 1 >$PERCPU
		res[pps,$size,percpu]+=" $(pps $OURS $size)"
		echo 0 >$PERCPU
	done
done
for ((r = 0; r < ROUNDS; r++)); do
	res[rtt,ours]+=" $(rtt $OURS)"
	res[rtt,anchor]+=" $(rtt $ANCHOR)"
done
for w in randread:4k randwrite:4k read:1m write:1m; do
	for ((r = 0; r < ROUNDS; r++)); do
		res[$w,ours]+=" $(fio_run $DOURS ${w%:*} ${w#*:})"
		res[$w,anchor]+=" $(fio_run $DANCHOR ${w%:*} ${w#*:})"
	done
done

printf '%-28s %12s %12s %12s %10s %10s\n' metric ours anchor lo ours/anchor ours/lo
for size in 64 1518; do
	o=$(median ${res[pps,$size,ours]}) a=$(median ${res[pps,$size,anchor]}) l=$(median ${res[pps,$size,lo]})
	printf '%-28s %12s %12s %12s %10s %10s\n' "pps, $size B frames" $o $a $l "$(ratio $o $a)" "$(ratio $o $l)"
	p=$(median ${res[pps,$size,percpu]})
	printf '%-28s %12s %12s %12s %10s %10s\n' "  (work on the kicking CPU)" $p $a $l "$(ratio $p $a)" "$(ratio $p $l)"
done
o=$(median ${res[rtt,ours]}) a=$(median ${res[rtt,anchor]})
printf '%-28s %12s %12s %12s %10s %10s\n' "round trip, us (lower=better)" $o $a - "$(ratio $a $o)" -
for w in randread:4k randwrite:4k read:1m write:1m; do
	o=$(median ${res[$w,ours]}) a=$(median ${res[$w,anchor]})
	unit=IOPS; [ ${w#*:} = 1m ] && unit=MB/s
	printf '%-28s %12s %12s %12s %10s %10s\n' "${w%:*} ${w#*:} $unit" $o $a - "$(ratio $o $a)" -
done
# Where the time of a 4 KiB random write run goes, on both devices: perf's
# share of samples per module and symbol, system-wide (the device models'
# own work next to the guest's block layer and scheduler).
if command -v perf >/dev/null; then
	echo 0 >/proc/sys/kernel/kptr_restrict
	for d in $DOURS $DANCHOR; do
		perf record -q -a -o /tmp/rmdev-bench.perf -- fio --name=b --filename=$d --rw=randwrite \
			--bs=4k --direct=1 --ioengine=libaio --iodepth=16 --size=64M --time_based \
			--runtime=$RUNTIME --output=/dev/null 2>/dev/null
		echo "# profile, randwrite 4k on $d: samples by module, then the top symbols"
		perf report -q -i /tmp/rmdev-bench.perf --no-children --sort dso -g none 2>/dev/null |
			head -n 6 | sed 's/^ */#   /'
		perf report -q -i /tmp/rmdev-bench.perf --no-children --sort sym -g none 2>/dev/null |
			head -n 8 | sed 's/^ */#   /'
	done
	rm -f /tmp/rmdev-bench.perf
fi
echo "# raw runs:"
for k in "${!res[@]}"; do echo "#   $k:${res[$k]}"; done | sort
echo "# device counters: mvnet $(tr '\n' ' ' </sys/kernel/debug/mvnet/$UN/stats)"
echo 1 >/sys/bus/mdev/devices/$UN/remove
echo 1 >/sys/bus/mdev/devices/$UB/remove
vdpa dev del vnet0
vdpa dev del vblk0
