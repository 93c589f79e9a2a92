#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The class-driver API: the sample class driver (samples/mdev/mdev_sample_class)
# binds virtio-class mdevs through mdev::Driver, reads their device model
# through the class data its parent made, and lets go on unbind, remove and
# unload. Also the layering: the mdev core needs only vbus.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 17

NV=/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-virtio
NH=/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-vhost
B8=/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-virtio-8m
CLS=$MDEVS/../drivers/mdev_sample_class

check "rmdev_mdev depends on vbus only" eq "$(modinfo -F depends rmdev_mdev)" vbus
check "rmdev_vdev carries vringh and IOTLB (and uses vbus: its char devices' releases)" \
	eq "$(modinfo -F depends rmdev_vdev | tr ',' '\n' | sort | tr '\n' ' ')" "vbus vhost_iotlb vringh "
# Earlier tests loaded the ring helpers with the device models.
for m in vringh vhost_iotlb; do loaded $m && rmmod $m; done
load_parents
check "a parent without a device model loads without vringh" \
	eval '! loaded vringh && ! loaded rmdev_vdev && loaded mdev_sample_parent'
modprobe mvnet && modprobe mvblk && modprobe mdev_sample_class
check "the class driver is registered on bus mdev" test -d $CLS
check "its module depends on the core and the library" \
	eq "$(modinfo -F depends mdev_sample_class | tr ',' '\n' | sort | tr '\n' ' ')" "rmdev_mdev rmdev_vdev vbus "

dmesg_mark
write_errno $NV/create $U1 >/dev/null
check "a virtio-class mvnet mdev binds to it" eq "$(driver_of $U1)" mdev_sample_class
check "probe read the device id through the class data: net" \
	eval 'dmesg | grep -q "$U1: bound: virtio device id 1$"'
write_errno $B8/create $U2 >/dev/null
check "a virtio-class mvblk mdev binds, device id: block" \
	eval 'eq "$(driver_of $U2)" mdev_sample_class && dmesg | grep -q "$U2: bound: virtio device id 2$"'
write_errno $NH/create $U3 >/dev/null
check "a vhost-class mdev does not match it" eq "$(driver_of $U3)" none
U4=83b8f4f2-509f-382f-3c1e-e6bfe0fa1004
write_errno $T0/create $U4 >/dev/null
check "an mdev whose parent made no class data is refused (EINVAL), stays unbound" \
	eval 'eq "$(driver_of $U4)" none && dmesg | grep -q "$U4.*failed with error -22"'

check "unbind through sysfs" \
	eval 'echo $U1 >$CLS/unbind && eq "$(driver_of $U1)" none'
check "bind again through sysfs" \
	eval 'echo $U1 >$CLS/bind && eq "$(driver_of $U1)" mdev_sample_class'
check "driver_override moves a vhost-class mdev to it" \
	eval 'echo mdev_sample_class >$MDEVS/$U3/driver_override && echo $U3 >/sys/bus/mdev/drivers_probe &&
	      eq "$(driver_of $U3)" mdev_sample_class'
check "remove while bound" \
	eval 'eq "$(write_errno $MDEVS/$U2/remove 1)" OK && test ! -e $MDEVS/$U2'
check "rmmod of the class driver unbinds its mdevs, which stay" \
	eval 'rmmod mdev_sample_class && eq "$(driver_of $U1)" none && test -d $MDEVS/$U1'
check "rebound after reload, then parent unload removes them" \
	eval 'modprobe mdev_sample_class && wait_for 5 test -e $MDEVS/$U1/driver &&
	      rmmod mvnet && test ! -e $MDEVS/$U1 -a ! -e $MDEVS/$U3'
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
