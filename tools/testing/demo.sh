#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`, in the test kernel: load the virtual-bus core, a provider of
# devices and a driver for them, and show them matching through sysfs; then
# the mdev core with the sample parents, managed through sysfs and mdevctl.
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

echo "== rmdev demo: the mdev core, managed with sysfs and mdevctl =="
show modprobe rmdev_mdev
show modprobe mdev_sample_parent
show ls /sys/class/mdev_bus/
T=/sys/class/mdev_bus/mdev_sample.0/mdev_supported_types/mdev_sample-virtio
show ls $T
show cat $T/name $T/device_api $T/available_instances
U=$(cat /proc/sys/kernel/random/uuid)
echo "\$ echo $U > $T/create"
echo "$U" >$T/create
show ls -l /sys/bus/mdev/devices/
show cat /sys/bus/mdev/devices/$U/uevent
show mdevctl types
show mdevctl start -u "$(cat /proc/sys/kernel/random/uuid)" -p mdev_sample.1 --type mdev_sample-vhost
show mdevctl list
echo "\$ echo 1 > /sys/bus/mdev/devices/$U/remove"
echo 1 >/sys/bus/mdev/devices/$U/remove
show mdevctl list
show rmmod mdev_sample_parent rmdev_mdev vbus
echo "== kernel log =="
dmesg | grep -E 'vbus|rmdev_sample|mdev' | tail -n 25
