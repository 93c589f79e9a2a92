#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fault injection over every error path: for each operation, the first,
# second, third ... allocation it makes fails (/proc/thread-self/fail-nth
# with failslab and fail_page_alloc), until it completes without reaching
# the armed point. Every step must give an errno or a clean success, and
# leave no device, sysfs entry or instance count behind; kmemleak and the
# dmesg check of the harness cover leaks and splats.
#   create  each type of each parent (mvnet's with the sample class driver
#           bound, so its probe fails too); of the sample parent's two
#           devices, one (the other runs the same code)
#   remove  an mvnet mdev
#   bind    each parent device (its driver's probe registers the parent)
. "$(dirname "$0")/lib.sh"

FI=/sys/kernel/debug
if [ ! -w /proc/thread-self/fail-nth ] || [ ! -d $FI/failslab ]; then
	ktap_skip_all "no fault injection (CONFIG_FAULT_INJECTION, FAILSLAB, FAULT_INJECTION_DEBUG_FS)"
	exit "$KSFT_SKIP"
fi
# GFP_KERNEL allocations too (by default only atomic ones fail), quietly.
for f in failslab fail_page_alloc; do
	echo N >$FI/$f/ignore-gfp-wait
	echo 0 >$FI/$f/verbose
done
rmdev_cleanup() {
	rm -f "$BLOCK_AUTOLOAD"
	for f in failslab fail_page_alloc; do
		echo Y >$FI/$f/ignore-gfp-wait
		echo 2 >$FI/$f/verbose
	done
}
# The loops stop here even if an operation never completes.
MAX_STEPS=400
TYPES=(
	/sys/bus/vbus/devices/mdev_sample.0/mdev_supported_types/mdev_sample-virtio
	/sys/bus/vbus/devices/mdev_sample.0/mdev_supported_types/mdev_sample-vhost
	/sys/bus/vbus/devices/mdev_sample.0/mdev_supported_types/mdev_sample-bulk
	/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-virtio
	/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-vhost
	/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-virtio-8m
	/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-virtio-64m
	/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-vhost-8m
)
ktap_set_plan $((${#TYPES[@]} + 2 + 3 + 2))

# The loops fork nothing (the guest runs under TCG): every check is a shell
# builtin, and the armed writes go through one write_errno -s, a coprocess.
# (Its descriptors do not reach subshells: the loops run in this shell and
# print their problems to a file.)
coproc WRITER { "$RMDEV_LIB/write_errno" -s; }
# fault_write N FILE DATA: writes "DATA\n" to FILE, the N-th fault point
# failing; the result line ("OK injected", "ENOMEM injected", ...) in $r.
fault_write() {
	echo "$1 $2 $3" >&"${WRITER[1]}"
	read -r r <&"${WRITER[0]}" || r="write_errno -s died"
	echo >>"$RMDEV_TMP/steps"
}
# loop_check DESCRIPTION LOOP ARGS...: one KTAP line; the loop's problems
# (its output, if any) are the diagnostics.
loop_check() {
	local desc=$1
	shift
	"$@" >"$RMDEV_TMP/problems"
	check "$desc" eq "$(head -5 "$RMDEV_TMP/problems")" ""
}

# create_loop TYPE: prints the problems found, if any.
create_loop() {
	local t=$1 n r avail0 avail u=fa017000-0000-0000-0000-000000000001
	read -r avail0 <"$t/available_instances"
	for ((n = 1; n <= MAX_STEPS; n++)); do
		fault_write $n "$t/create" $u
		case $r in
		"OK untouched")
			[ -d $MDEVS/$u ] || echo "step $n: created, but no device"
			printf 1 2>/dev/null >$MDEVS/$u/remove
			return ;;
		"OK injected")
			# A failure the create absorbed (the class driver's probe):
			# the mdev is there and removable.
			[ -d $MDEVS/$u ] || echo "step $n: OK but no device"
			printf 1 2>/dev/null >$MDEVS/$u/remove || echo "step $n: cannot remove" ;;
		E*" injected") ;;
		*) echo "step $n: $r"; return ;;
		esac
		read -r avail <"$t/available_instances"
		[ "$avail" = "$avail0" ] || echo "step $n: $r left available_instances $avail (was $avail0)"
		[ -e $MDEVS/$u ] && echo "step $n: $r left the device"
		[ -e "$t/devices/$u" ] && echo "step $n: $r left the type's link"
	done
	echo "did not complete in $MAX_STEPS steps"
}

# remove_loop: prints the problems found, if any.
remove_loop() {
	local t=/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-virtio n r u=fa017000-0000-0000-0000-000000000002
	for ((n = 1; n <= MAX_STEPS; n++)); do
		[ -d $MDEVS/$u ] || printf '%s' $u 2>/dev/null >"$t/create" || { echo "cannot create"; return; }
		fault_write $n $MDEVS/$u/remove 1
		case $r in
		"OK untouched") [ -e $MDEVS/$u ] && echo "step $n: removed, but still there"; return ;;
		"OK injected") [ -e $MDEVS/$u ] && echo "step $n: OK but still there" ;;
		E*" injected")
			# Refused: the mdev stays, with its file, removable.
			[ -e $MDEVS/$u/remove ] || echo "step $n: $r and the mdev or its file is gone" ;;
		*) echo "step $n: $r"; return ;;
		esac
	done
	echo "did not complete in $MAX_STEPS steps"
}

# bind_loop DRIVER DEVICE: the parent's registration, which its vbus
# driver's probe does, through sysfs bind (a module load would spend its
# first hundreds of fault points in the module loader). Prints the problems
# found, if any.
bind_loop() {
	local drv=/sys/bus/vbus/drivers/$1 dev=$2 n r
	echo "$dev" >"$drv/unbind"
	for ((n = 1; n <= MAX_STEPS; n++)); do
		fault_write $n "$drv/bind" "$dev"
		case $r in
		"OK untouched")
			[ -d /sys/class/mdev_bus/$dev ] || echo "step $n: bound, but not a parent"
			return ;;
		"OK injected")
			# Bound and registered despite the failure (it hit an optional
			# step), or not bound: either way consistent.
			[ -e "$drv/$dev" ] && echo "$dev" >"$drv/unbind" ;;
		E*" injected")
			[ -e "$drv/$dev" ] && echo "step $n: $r, but bound" ;;
		*) echo "step $n: $r"; return ;;
		esac
		[ -e /sys/class/mdev_bus/$dev ] && echo "step $n: $r left the class link"
		[ -e /sys/bus/vbus/devices/$dev/mdev_supported_types ] &&
			echo "step $n: $r left mdev_supported_types"
	done
	echo "did not complete in $MAX_STEPS steps"
}

load_parents && modprobe mvnet && modprobe mvblk && modprobe mdev_sample_class
udev_stop
for t in "${TYPES[@]}"; do
	loop_check "create on ${t##*/}: every injected failure is clean" create_loop "$t"
done
loop_check "remove: every injected failure is clean" remove_loop
check "the sample class driver bound mvnet mdevs during all this" \
	eval 'dmesg | grep -q "bound: virtio device id 1"'
rmmod mdev_sample_class
for p in mdev_sample:mdev_sample.0 mvnet:mvnet.0 mvblk:mvblk.0; do
	loop_check "registration of parent ${p#*:}: every injected failure is clean" \
		bind_loop "${p%%:*}" "${p#*:}"
done
ktap_print_msg "$(wc -l <"$RMDEV_TMP/steps") fault-injection steps"
eval "exec ${WRITER[1]}>&-"
wait $WRITER_PID
rmmod mdev_sample_parent mvnet mvblk
check "no mdev, parent or type left" eval 'eq "$(nmdevs)" 0 && eq "$(ls /sys/class/mdev_bus)" ""'
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
