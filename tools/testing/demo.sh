#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`, in the test kernel: load the virtual-bus core, a provider of
# devices and a driver for them, and show them matching through sysfs; then
# the mdev core with the mvnet and mvblk parents, managed through sysfs and
# mdevctl; then virtio_mdev: the kernel's virtio_net and virtio_blk on those
# mdevs, a frame going round mvnet and data landing in mvblk.
set -eu
show() { echo "\$ $*"; "$@"; echo; }

echo "== rmdev demo: the virtual-bus core =="
show modprobe vbus
show modprobe vbus_sample_provider ndevs=3
show ls /sys/bus/vbus/devices/
show cat /sys/bus/vbus/devices/rmdev_sample.0/modalias
show modprobe vbus_sample_driver
show ls -l /sys/bus/vbus/drivers/vbus_sample_driver/
show cat /sys/bus/vbus/devices/rmdev_sample.1/sample_greeting
echo "\$ echo rmdev_sample.1 > /sys/bus/vbus/drivers/vbus_sample_driver/unbind"
echo rmdev_sample.1 >/sys/bus/vbus/drivers/vbus_sample_driver/unbind
show ls /sys/bus/vbus/drivers/vbus_sample_driver/
show modinfo -F depends vbus_sample_driver
show rmmod vbus_sample_provider vbus_sample_driver

echo "== rmdev demo: mdev parents with device models, managed with sysfs and mdevctl =="
show modprobe rmdev_mdev
show modprobe mvnet
show modprobe mvblk
show ls /sys/class/mdev_bus/
show ls /sys/class/mdev_bus/mvnet.0/mdev_supported_types/ /sys/class/mdev_bus/mvblk.0/mdev_supported_types/
T=/sys/class/mdev_bus/mvnet.0/mdev_supported_types/mvnet-virtio
show cat $T/name $T/description $T/device_api $T/available_instances
NET=$(cat /proc/sys/kernel/random/uuid)
echo "\$ echo $NET > $T/create"
echo "$NET" >$T/create
T=/sys/class/mdev_bus/mvblk.0/mdev_supported_types/mvblk-virtio-64m
BLK=$(cat /proc/sys/kernel/random/uuid)
echo "\$ echo $BLK > $T/create"
echo "$BLK" >$T/create
show ls -l /sys/bus/mdev/devices/
show cat /sys/bus/mdev/devices/$NET/uevent
show cat /sys/bus/mdev/devices/$BLK/modalias

echo "== rmdev demo: virtio_mdev, the kernel's virtio drivers on mediated devices =="
echo "# udev loaded virtio_mdev (MODALIAS=mdev:c02), then virtio_net and virtio_blk"
wait_for() { local n=$(($1 * 10)); shift; until "$@"; do n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1; done; }
first() { local d; for d in $1; do [ -e "$d" ] && { echo "${d##*/}"; return; }; done; }
# has GLOB: something matches (a predicate for wait_for, which runs it again each time).
has() { [ -n "$(first "$1")" ]; }
wait_for 60 has "/sys/bus/mdev/devices/$NET/virtio*/net/*"
wait_for 60 has "/sys/bus/mdev/devices/$BLK/virtio*/block/*"
IF=$(first "/sys/bus/mdev/devices/$NET/virtio*/net/*")
DISK=$(first "/sys/bus/mdev/devices/$BLK/virtio*/block/*")
show readlink /sys/bus/mdev/devices/$NET/driver /sys/class/net/$IF/device/driver
show ip link set $IF up
sleep 1
show ip link show $IF
PKT=tools/testing/selftests/virtio_mdev/pkt
show $PKT $IF info
echo "# one 60-byte frame to our own MAC goes round mvnet's loop and comes back intact:"
show $PKT $IF loop 1 60
show cat /sys/kernel/debug/mvnet/$NET/stats
echo "# the link knob is a config change: the carrier follows"
echo "\$ echo down > /sys/kernel/debug/mvnet/$NET/link"
echo down >/sys/kernel/debug/mvnet/$NET/link
sleep 1
show cat /sys/class/net/$IF/carrier
echo up >/sys/kernel/debug/mvnet/$NET/link
show cat /sys/block/$DISK/size /sys/block/$DISK/serial
echo "\$ echo 'hello from virtio_blk on mvblk' | dd of=/dev/$DISK oflag=direct,sync bs=512 conv=sync"
echo 'hello from virtio_blk on mvblk' | dd of=/dev/$DISK oflag=direct,sync bs=512 conv=sync status=none
echo 3 >/proc/sys/vm/drop_caches
echo "\$ dd if=/dev/$DISK bs=512 count=1 iflag=direct | tr -d '\\0'   # after dropping the page cache"
dd if=/dev/$DISK bs=512 count=1 iflag=direct status=none | tr -d '\0'
echo
show mdevctl types -p mvblk.0
show mdevctl start -u "$(cat /proc/sys/kernel/random/uuid)" -p mvnet.0 --type mvnet-vhost
show mdevctl list
echo "\$ echo 1 > /sys/bus/mdev/devices/$BLK/remove"
echo 1 >/sys/bus/mdev/devices/$BLK/remove
show mdevctl list
show rmmod virtio_mdev
show rmmod mvnet mvblk rmdev_mdev vbus
echo "== kernel log =="
dmesg | grep -v virtme | grep -E 'vbus|rmdev_sample|MDEV|mvnet|mvblk|virtio_mdev|virtio_net|virtio_blk|virtio[0-9]' | grep -vE ' ok |# ' | tail -n 25
