#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vhost_mdev: the vhost-vdpa uAPI on an mvnet mediated device. udev loads
# the class driver; the char device is a child of the mdev, from a region
# DPDK takes for vhost-vdpa; every device-wide ioctl, good and bad, answers
# as mainline vhost_vdpa on vdpa_sim_net does in the same boot (the same
# battery, line by line); removing the mdev, or unloading the class driver
# or the parent, while the device is open returns at once, and the open
# file then answers ENODEV.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 12
IOC=$RMDEV_LIB/vdpa_ioctl

modprobe mvnet
check "creating an mvnet-vhost mdev loads vhost_mdev, which gives it /dev/vhost-mdev-N" \
	eval 'eq "$(write_errno $NH/create $U1)" OK && wait_for 30 has_node $U1'
C=$(cdev_of $U1)
check "the char device is the mdev's child, from the region vhost-vdpa-mdev" \
	eval 'maj=$(cut -d: -f1 $MDEVS/$U1/$C/dev) &&
	      grep -qx "$maj vhost-vdpa-mdev" /proc/devices &&
	      [ "$(readlink -f /sys/dev/char/$(cat $MDEVS/$U1/$C/dev))" = "$(readlink -f $MDEVS/$U1/$C)" ]'

$IOC /dev/$C >$RMDEV_TMP/ours
check "the device reports mvnet: virtio-net, 2 virtqueues of 256, a 12-byte config, all addresses, features VERSION_1 STATUS MAC MTU" \
	eval 'eq "$(sed -n "/^--$/,/^features/p" $RMDEV_TMP/ours | tr "\n" " ")" \
	      "-- device-id 1 config-size 12 vqs-count 2 vring-num 256 iova-range 0-0xffffffffffffffff groups 1 address-spaces 1 features 0x100010028 "'

# The anchor: mainline vhost_vdpa on vdpa_sim_net, in this boot.
# use_va=0: vhost_vdpa pins pages for it, as vhost_mdev does (its default
# maps only shared file-backed memory, and pins nothing).
modprobe vhost_vdpa && modprobe vdpa_sim use_va=0 && modprobe vdpa_sim_net &&
	vdpa dev add mgmtdev vdpasim_net name vnet0 mac 02:00:00:00:00:01
wait_for 10 test -c /dev/vhost-vdpa-0
$IOC /dev/vhost-vdpa-0 >$RMDEV_TMP/anchor
sed '/^--$/,$d' $RMDEV_TMP/ours >$RMDEV_TMP/ours.errno
sed '/^--$/,$d' $RMDEV_TMP/anchor >$RMDEV_TMP/anchor.errno
total=$(wc -l <$RMDEV_TMP/anchor.errno)
same=$(paste -d'|' $RMDEV_TMP/ours.errno $RMDEV_TMP/anchor.errno | awk -F'|' '$1 == $2' | wc -l)
ktap_print_msg "errno parity with vhost_vdpa + vdpa_sim_net: $same of $total cases"
diff $RMDEV_TMP/anchor.errno $RMDEV_TMP/ours.errno | sed 's/^/# /'
check "every case answers as mainline vhost_vdpa ($same of $total)" \
	eval '[ $total -ge 50 ] && [ $same = $total ]'
vdpa dev del vnet0
# Kept with the guest's results (RMDEV_OUT) when run by the harness.
[ -n "${RMDEV_OUT:-}" ] && cp $RMDEV_TMP/ours $RMDEV_TMP/anchor "$RMDEV_OUT/" 2>/dev/null
check "IOTLB updates pin the pages (VmPin 12 kB for 3), invalidate and close unpin them" \
	eq "$(sed -n 's/^vmpin-kb //p' $RMDEV_TMP/ours)" "mapped 12 unmapped 0 closed 0"
check "an update with no permission is refused (mainline takes it: documented)" \
	eq "$(sed -n 's/^iotlb-update-perm-0 //p' $RMDEV_TMP/ours)" EFAULT
check "no doorbell page: mmap fails with ENODEV (vhost_vdpa: ENOTSUPP without the parent op)" \
	eq "$(sed -n 's/^mmap-doorbell //p' $RMDEV_TMP/ours)" ENODEV

# Revocation: open in this shell (fd 3), then take the device away.
exec 3<>/dev/$C
check "remove of the mdev with the device open returns at once, and the node goes" \
	eval 'eq "$(write_errno $MDEVS/$U1/remove 1)" OK && wait_for 10 not test -e /dev/$C'
check "the open file then answers ENODEV, and closes" \
	eval 'eq "$($IOC fd:3)" "get-device-id ENODEV" && exec 3>&-'

write_errno $NH/create $U1 >/dev/null && wait_for 30 has_node $U1
C=$(cdev_of $U1)
exec 3<>/dev/$C
check "rmmod vhost_mdev with the device open: it goes, the file answers ENODEV" \
	eval 'eq "$($IOC fd:3)" "get-device-id OK" && rmmod vhost_mdev &&
	      eq "$($IOC fd:3)" "get-device-id ENODEV" && exec 3>&-'

modprobe vhost_mdev && wait_for 30 has_node $U1
C=$(cdev_of $U1)
exec 3<>/dev/$C
check "rmmod of the parent with the device open: the mdev goes, the file answers ENODEV" \
	eval 'rmmod mvnet && test ! -e $MDEVS/$U1 && eq "$($IOC fd:3)" "get-device-id ENODEV" && exec 3>&-'

unload_all
check "dmesg and kmemleak clean" dmesg_clean
ktap_finished
