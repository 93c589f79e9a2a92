#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The core's lifetime and locking rules, each through the trigger that once
# broke it: a remove while the mdev is still being created, remove values
# with leading zeros, a flood of refused creates, a slow parent callback,
# and creates and removes racing with parent unloads (the test kernel delays
# every kobject release, CONFIG_DEBUG_KOBJECT_RELEASE, so code that runs
# after its module is gone oopses every time).
. "$(dirname "$0")/lib.sh"
ktap_set_plan 14

NV=/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-virtio
CLS=/sys/bus/mdev/drivers/mdev_sample_class
modprobe rmdev_mdev && modprobe mvnet
# Thousands of uevents follow, none of which needs handling.
udev_stop

# A remove while the class driver still probes the mdev (its create is in
# flight): EAGAIN, and the file stays, so the remove works afterwards.
modprobe mdev_sample_class probe_delay_ms=3000
(write_errno $NV/create $U1 >"$RMDEV_TMP/create") &
creator=$!
wait_for 10 test -e $MDEVS/$U1/remove
check "remove while the mdev is being created: EAGAIN" eq "$(write_errno $MDEVS/$U1/remove 1)" EAGAIN
check "the remove file is still there" test -e $MDEVS/$U1/remove
wait $creator
check "the create completed, bound to the class driver" \
	eval 'eq "$(cat "$RMDEV_TMP/create")" OK && test -e $CLS/$U1'
check "remove works once created" \
	eval 'eq "$(write_errno $MDEVS/$U1/remove 1)" OK && test ! -e $MDEVS/$U1'
rmmod mdev_sample_class

# kstrtoul() takes any number of leading zeros.
write_errno $NV/create $U1 >/dev/null
check "remove: 40 leading zeros and 1 removes" \
	eval 'eq "$(write_errno $MDEVS/$U1/remove 00000000000000000000000000000000000000001)" OK &&
	      test ! -e $MDEVS/$U1'

# Refused creates are logged, but a loop of them does not flood the log:
# 100 quick ones (builtin writes) in a window or two of 5 s.
write_errno $NV/create $U1 >/dev/null
mark=$(dmesg | wc -l)
for i in $(seq 100); do printf '%s' $U1 2>/dev/null >$NV/create; done
refused=$(dmesg | tail -n +$((mark + 1)) | grep -c "create $U1 of type virtio refused")
check "100 refused creates: logged, at most 10 per 5 s" test "$refused" -ge 1 -a "$refused" -le 20
write_errno $MDEVS/$U1/remove 1 >/dev/null

# A parent's callback runs outside the core's global lock: while one parent
# takes 4 s to answer available_instances, another parent's create is
# served (it would wait for the answer under the lock).
modprobe mdev_sample_parent available_delay_ms=4000
mark=$(dmesg | wc -l)
cat $T0/available_instances >"$RMDEV_TMP/available" &
reader=$!
wait_for 10 eval 'dmesg | tail -n +$((mark + 1)) | grep -q "available_instances: answering"'
check "a slow parent does not hold up another parent's create" \
	eval 'eq "$(write_errno $NV/create $U2)" OK && kill -0 $reader'
wait $reader
check "the slow answer arrives" eq "$(cat "$RMDEV_TMP/available")" 4
write_errno $MDEVS/$U2/remove 1 >/dev/null
rmmod mdev_sample_parent

# Creates and removes racing with 50 unregistrations of the parent: 40
# through unbind and bind of its vbus device (the driver's remove and
# probe), 10 through unloading and loading its module, 2 of those with the
# core too. Module unloads are fewer because this kernel makes each one
# cost 2 to 8 s (the module's kobject and its drivers/ child are released
# one after the other, each delayed). Only ABI errnos, no oops, nothing left.
writer() {
	local i=0 u r
	while [ ! -e "$RMDEV_TMP/stop" ]; do
		i=$((i + 1))
		u=$(printf 'abab%04x-0000-0000-0000-%012x' "$1" $((i % 4)))
		r=$(write_errno $NV/create $u)
		case $r in OK|EEXIST|EUSERS|ENODEV|ENOENT) ;; *) echo "create: $r" ;; esac
		r=$(write_errno $MDEVS/$u/remove 1)
		case $r in OK|EAGAIN|ENODEV|ENOENT) ;; *) echo "remove: $r" ;; esac
	done
}
for w in 1 2; do writer $w >"$RMDEV_TMP/writer.$w" & done
DRV=/sys/bus/vbus/drivers/mvnet
cycles=0
for c in $(seq 50); do
	if [ $((c % 5)) = 0 ]; then
		rmmod mvnet || break
		[ $((c % 25)) = 0 ] && { rmmod rmdev_mdev && modprobe rmdev_mdev || break; }
		modprobe mvnet || break
	else
		echo mvnet.0 >$DRV/unbind && echo mvnet.0 >$DRV/bind || break
	fi
	cycles=$c
done
touch "$RMDEV_TMP/stop"
wait
check "50 parent unregistrations (10 module unloads) under create and remove writers" eq "$cycles" 50
check "the writers saw only ABI errnos" eq "$(cat "$RMDEV_TMP"/writer.* | sort -u | head -5)" ""
for u in $(ls $MDEVS); do write_errno $MDEVS/$u/remove 1 >/dev/null; done
check "mvnet works after the cycles" \
	eval 'eq "$(write_errno $NV/create $U3)" OK && eq "$(write_errno $MDEVS/$U3/remove 1)" OK'
rmmod mvnet
check "the core unloads after the cycles" rmmod rmdev_mdev
check "no mdev left" eq "$(nmdevs)" 0
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
