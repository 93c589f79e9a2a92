# SPDX-License-Identifier: GPL-2.0
# Helpers of the virtio_mdev kselftests. Sourced.

. "$(dirname "$0")/rmdev.sh"

# Not virtio_net and virtio_blk: mainline's, they stay loaded. virtio_blk's
# free_disk runs from the disk's release, which holds no module reference:
# with the test kernel's delayed releases, unloading it right after its
# disks went calls into freed module text (the guest dies).
MODS="vhost_mdev virtio_mdev mdev_sample_class mvnet mvblk mdev_sample_parent rmdev_vdev rmdev_mdev vbus"
MDEVS=/sys/bus/mdev/devices
NV=/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-virtio
B8=/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-virtio-8m
B64=/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-virtio-64m
VM=/sys/bus/mdev/drivers/virtio_mdev

U1=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4e01
U2=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4e02
U3=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4e03
U4=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4e04

# vdev_of UUID: the virtio device under the mdev (virtioN), or nothing.
vdev_of() {
	local d
	for d in "$MDEVS/$1"/virtio*; do [ -e "$d" ] && echo "${d##*/}"; done
}

# disk_of UUID: the block device of the mdev's virtio device (vdX).
disk_of() {
	local d
	for d in "$MDEVS/$1"/virtio*/block/*; do [ -e "$d" ] && echo "${d##*/}"; done
}

# Predicates for wait_for, which runs its command again each time (a
# "$(...)" in its arguments would be read once).
has_disk() { [ -n "$(disk_of "$1")" ]; }
carrier_is() { [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = "$2" ]; }

# feature_bits FILE: the numbers of the bits set in a virtio device's
# `features` file (one character per bit).
feature_bits() {
	local f i s=
	read -r f <"$1"
	for ((i = 0; i < ${#f}; i++)); do [ "${f:i:1}" = 1 ] && s+=" $i"; done
	echo "${s# }"
}

# stat_of IF NAME: a counter of /sys/class/net/IF/statistics.
stat_of() { cat "/sys/class/net/$1/statistics/$2"; }

# mvnet_stat UUID NAME: a counter of the mvnet debugfs stats file.
mvnet_stat() { sed -n "s/^$2 //p" "/sys/kernel/debug/mvnet/$1/stats"; }

rmdev_begin
