# SPDX-License-Identifier: GPL-2.0
# Helpers of the vhost_mdev kselftests. Sourced.

. "$(dirname "$0")/rmdev.sh"

# Ours, then mainline's anchor (vhost_vdpa on vdpa_sim_net), unloaded
# before and after.
MODS="vhost_mdev virtio_mdev mvnet mvblk rmdev_vdev rmdev_mdev vbus \
	vhost_vdpa vdpa_sim_net vdpa_sim_blk vdpa_sim vdpa vhost"
MDEVS=/sys/bus/mdev/devices
NH=/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-vhost
VHM=/sys/bus/mdev/drivers/vhost_mdev

U1=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4e11
U2=5e1f00c2-7a3b-4c1d-9e2f-0a1b2c3d4e12

# cdev_of UUID: the vhost-mdev-N char device under the mdev, or nothing.
cdev_of() {
	local d
	for d in "$MDEVS/$1"/vhost-mdev-*; do [ -e "$d" ] && echo "${d##*/}"; done
}
# has_node UUID: the mdev has a char device, and its /dev node is there
# (a predicate for wait_for).
has_node() { local c; c=$(cdev_of "$1") && [ -n "$c" ] && [ -c "/dev/$c" ]; }

rmdev_begin
