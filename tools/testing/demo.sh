#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`, in the test kernel: load the virtual-bus core, a provider of
# devices and a driver for them, and show them matching through sysfs.
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
show rmmod vbus_sample_provider vbus_sample_driver vbus
echo "== kernel log =="
dmesg | grep -E 'vbus|rmdev_sample' | tail -n 20
