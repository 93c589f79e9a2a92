#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's virtio_blk on mvblk mdevs through virtio_mdev: disks of the
# types' capacities that store what is written (dd + cmp after dropping the
# page cache, fio --verify), take flushes, keep their data across a driver
# unbind and bind, and lose it with the mdev.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 10

modprobe mvblk && modprobe virtio_mdev && modprobe virtio_blk
write_errno $B8/create $U1 >/dev/null
write_errno $B64/create $U2 >/dev/null
check "mvblk-virtio-8m and -64m mdevs become virtio_blk disks" \
	eval 'wait_for 60 has_disk $U1 && wait_for 10 has_disk $U2'
D8=$(disk_of $U1) D64=$(disk_of $U2)
check "capacities: 8 MiB and 64 MiB (16384 and 131072 sectors)" \
	eval 'eq "$(cat /sys/block/$D8/size) $(cat /sys/block/$D64/size)" "16384 131072"'
check "the serial (VIRTIO_BLK_T_GET_ID) is the mdev's UUID, cut to 20 bytes" \
	eq "$(cat /sys/block/$D8/serial)" "${U1:0:20}"
head -c 8M /dev/urandom >$RMDEV_TMP/pattern
check "a pattern written, the page cache dropped, the same read back (dd, cmp)" \
	eval 'dd if=$RMDEV_TMP/pattern of=/dev/$D8 bs=1M status=none && sync &&
	      echo 3 >/proc/sys/vm/drop_caches && cmp $RMDEV_TMP/pattern /dev/$D8'
# /sys/block/X/stat field 16: flush requests completed.
flushes() { local s; read -ra s </sys/block/$1/stat; echo "${s[15]}"; }
f0=$(flushes $D8)
check "a write with fsync sends the device a flush (VIRTIO_BLK_T_FLUSH)" \
	eval 'dd if=$RMDEV_TMP/pattern of=/dev/$D8 bs=1M count=1 conv=fsync status=none &&
	      [ "$(flushes $D8)" -gt "$f0" ]'
check "fio: 4 KiB random writes over 32 MiB, then every block verified (crc32c)" \
	fio --name=rand --filename=/dev/$D64 --rw=randwrite --bs=4k --size=32M \
		--direct=1 --ioengine=psync --verify=crc32c --verify_fatal=1 \
		--output=$RMDEV_TMP/fio-rand.log
check "fio: 1 MiB sequential writes over 64 MiB, then verified (md5)" \
	fio --name=seq --filename=/dev/$D64 --rw=write --bs=1M --size=64M \
		--direct=1 --ioengine=psync --verify=md5 --verify_fatal=1 \
		--output=$RMDEV_TMP/fio-seq.log
check "the data stays across a driver unbind and bind" \
	eval 'echo $U1 >$VM/unbind && test -z "$(disk_of $U1)" && echo $U1 >$VM/bind &&
	      wait_for 30 has_disk $U1 && D8=$(disk_of $U1) &&
	      wait_for 10 test -b /dev/$D8 && cmp $RMDEV_TMP/pattern /dev/$D8'
check "the data is gone after remove and create: zeroes" \
	eval 'eq "$(write_errno $MDEVS/$U1/remove 1)" OK && write_errno $B8/create $U1 >/dev/null &&
	      wait_for 30 has_disk $U1 && D8=$(disk_of $U1) &&
	      wait_for 10 test -b /dev/$D8 && cmp -n 8388608 /dev/zero /dev/$D8'
write_errno $MDEVS/$U1/remove 1 >/dev/null
write_errno $MDEVS/$U2/remove 1 >/dev/null
# Let the disks' delayed releases (1-4 s each, chained) run before modules
# go: three runs died here (a panic, no log) when the unloads came at once.
# Not understood yet; see session 5's closing note.
sleep 10
unload_all
check "dmesg and kmemleak clean" dmesg_clean
ktap_finished
