#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`, in the test kernel: load the virtual-bus core, a provider of
# devices and a driver for them, and show them matching through sysfs; then
# the mdev core with the mvnet and mvblk parents, managed through sysfs and
# mdevctl.
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
show cat /sys/kernel/debug/mvnet/$NET/stats
show mdevctl types -p mvblk.0
show mdevctl start -u "$(cat /proc/sys/kernel/random/uuid)" -p mvnet.0 --type mvnet-vhost
show mdevctl list
echo "\$ echo 1 > /sys/bus/mdev/devices/$BLK/remove"
echo 1 >/sys/bus/mdev/devices/$BLK/remove
show mdevctl list
show rmmod mvnet mvblk rmdev_mdev vbus
echo "== kernel log =="
dmesg | grep -v virtme | grep -E 'vbus|rmdev_sample|MDEV|mvnet|mvblk' | grep -vE ' ok |# ' | tail -n 25
