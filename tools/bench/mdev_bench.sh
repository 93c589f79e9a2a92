#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mdev core benchmark, run in the test kernel (`make bench`): create+remove
# cycles per second and slab memory per live mdev, for the rmdev mdev core +
# mvnet (type mvnet-virtio: a virtio-net device model per mdev) against
# mainline mdev.ko + mtty (type mtty-1) in the same boot, printed as ratios
# rmdev/mainline.
#
# mtty offers at most 24 ports, so memory is compared over 24 live mdevs;
# rmdev is also measured over 1000 (mvnet max_instances=1000). A mainline
# mtty create also binds mtty's vfio driver (a vfio device per mdev); an
# rmdev create here binds no class driver (the mdev bus's drivers_autoprobe
# is off while it runs: the core is measured, not virtio_net; see
# virtio_bench.sh for that): not like for like.
set -eu
. "$(dirname "$0")/lib.sh"
CYCLES=${CYCLES:-300}

slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
settle() { sync; sleep 1; }

# cycles TYPE_DIR PARENT_DIR N: create+remove N times; prints cycles/s.
cycles() {
	local t=$1 p=$2 n=$3 i u start end
	start=$(date +%s%N)
	for ((i = 0; i < n; i++)); do
		printf -v u 'b0b0b0b0-0000-0000-0000-%012x' $i
		printf '%s' $u >$t/create
		printf 1 >$p/$u/remove
	done
	end=$(date +%s%N)
	echo $((n * 1000000000 / (end - start)))
}

# memory TYPE_DIR PARENT_DIR N: bytes of slab per live mdev over N mdevs.
memory() {
	local t=$1 p=$2 n=$3 i u before after
	settle; before=$(slab_kb)
	for ((i = 0; i < n; i++)); do
		printf -v u 'a0a0a0a0-0000-0000-0000-%012x' $i
		printf '%s' $u >$t/create
	done
	settle; after=$(slab_kb)
	for ((i = 0; i < n; i++)); do
		printf -v u 'a0a0a0a0-0000-0000-0000-%012x' $i
		printf 1 >$p/$u/remove
	done
	echo $(((after - before) * 1024 / n))
}

# memory_median TYPE_DIR PARENT_DIR N: the median of 3 `memory` runs (the
# slab delta of a few dozen devices is noisy).
memory_median() {
	local a b c
	a=$(memory "$@"); b=$(memory "$@"); c=$(memory "$@")
	printf '%s\n%s\n%s\n' $a $b $c | sort -n | sed -n 2p
}


echo "== mainline: mdev.ko + mtty (type mtty-1) =="
modprobe mtty
mp=/sys/devices/virtual/mtty/mtty
mt=$mp/mdev_supported_types/mtty-1
m_cps=$(cycles $mt $mp "$CYCLES")
m_mem=$(memory_median $mt $mp 24)
echo "create+remove: $m_cps cycles/s; slab per live mdev (24, median of 3): $m_mem bytes"
rmmod mtty
rmmod mdev

echo "== rmdev: rmdev_mdev.ko + mvnet (type mvnet-virtio) =="
modprobe rmdev_mdev
echo 0 >/sys/bus/mdev/drivers_autoprobe
modprobe mvnet max_instances=1000
rp=/sys/bus/vbus/devices/mvnet.0
rt=$rp/mdev_supported_types/mvnet-virtio
r_cps=$(cycles $rt $rp "$CYCLES")
r_mem=$(memory_median $rt $rp 24)
r_mem1000=$(memory $rt $rp 1000)
echo "create+remove: $r_cps cycles/s; slab per live mdev (24, median of 3): $r_mem bytes, (1000): $r_mem1000 bytes"
echo 1 >/sys/bus/mdev/drivers_autoprobe
rmmod mvnet

echo "== ratios rmdev / mainline =="
echo "create+remove cycles/s: $(ratio $r_cps $m_cps) (higher is better)"
echo "slab bytes per live mdev: $(ratio $r_mem $m_mem) (lower is better)"
