#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fault injection over every error path: for each operation, the first,
# second, third ... allocation it makes fails (/proc/thread-self/fail-nth
# with failslab and fail_page_alloc), until it completes without reaching
# the armed point. Every step must give an errno or a clean success, and
# leave no device, sysfs entry or instance count behind; kmemleak and the
# dmesg check of the harness cover leaks and splats.
#   create  each type of each parent (mvnet's with the sample class driver
#           bound, so its probe fails too)
#   remove  an mvnet mdev
#   load    each parent module (the parent's registration)
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
	/sys/bus/vbus/devices/mdev_sample.1/mdev_supported_types/mdev_sample-virtio
	/sys/bus/vbus/devices/mdev_sample.1/mdev_supported_types/mdev_sample-vhost
	/sys/bus/vbus/devices/mdev_sample.1/mdev_supported_types/mdev_sample-bulk
	/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-virtio
	/sys/bus/vbus/devices/mvnet.0/mdev_supported_types/mvnet-vhost
	/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-virtio-8m
	/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-virtio-64m
	/sys/bus/vbus/devices/mvblk.0/mdev_supported_types/mvblk-vhost-8m
)
PARENTS="mdev_sample_parent mvnet mvblk"
ktap_set_plan $((${#TYPES[@]} + 2 + 3 + 1))

# snapshot TYPE: what a failed create must leave as it was.
snapshot() { echo "$(ls $MDEVS) / $(cat "$1/available_instances") / $(ls "$1/devices")"; }

# create_loop TYPE: prints the problems found, if any.
create_loop() {
	local t=$1 before n r u=fa017000-0000-0000-0000-000000000001
	before=$(snapshot "$t")
	for n in $(seq $MAX_STEPS); do
		r=$(printf '%s' $u | "$RMDEV_LIB/write_errno" -f "$n" "$t/create")
		echo >>"$RMDEV_TMP/steps"
		case $r in
		"OK untouched")
			[ -d $MDEVS/$u ] || echo "step $n: created, but no device"
			write_errno $MDEVS/$u/remove 1 >/dev/null
			return ;;
		"OK injected")
			# A failure that the create absorbed (a probe of the class
			# driver, an optional file): the mdev is there and removable.
			[ -d $MDEVS/$u ] || echo "step $n: OK but no device"
			[ "$(write_errno $MDEVS/$u/remove 1)" = OK ] || echo "step $n: cannot remove" ;;
		E*" injected")
			[ -e $MDEVS/$u ] && echo "step $n: $r, but the device is there" ;;
		*) echo "step $n: $r"; return ;;
		esac
		[ "$(snapshot "$t")" = "$before" ] || echo "step $n: $r left $(snapshot "$t") (was $before)"
	done
	echo "did not complete in $MAX_STEPS steps"
}

# remove_loop: prints the problems found, if any.
remove_loop() {
	local t=${TYPES[6]} n r u=fa017000-0000-0000-0000-000000000002
	for n in $(seq $MAX_STEPS); do
		[ -d $MDEVS/$u ] || [ "$(write_errno "$t/create" $u)" = OK ] || { echo "cannot create"; return; }
		r=$(printf 1 | "$RMDEV_LIB/write_errno" -f "$n" $MDEVS/$u/remove)
		echo >>"$RMDEV_TMP/steps"
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

# load_loop MODULE: prints the problems found, if any.
load_loop() {
	local m=$1 ko n r
	ko=$(modinfo -n "$m")
	for n in $(seq $MAX_STEPS); do
		r=$("$RMDEV_LIB/load_errno" -f "$n" "$ko")
		echo >>"$RMDEV_TMP/steps"
		case $r in
		"OK untouched"|"OK injected")
			# Loaded; a parent whose registration failed stays unbound.
			rmmod "$m" || echo "step $n: cannot unload"
			[ "$r" = "OK untouched" ] && return ;;
		E*" injected") loaded "$m" && echo "step $n: $r, but loaded" ;;
		*) echo "step $n: $r"; return ;;
		esac
		[ -z "$(ls /sys/class/mdev_bus)" ] || echo "step $n: $r left $(ls /sys/class/mdev_bus)"
		[ -z "$(ls /sys/bus/vbus/devices)" ] || echo "step $n: $r left $(ls /sys/bus/vbus/devices)"
	done
	echo "did not complete in $MAX_STEPS steps"
}

load_parents && modprobe mvnet && modprobe mvblk && modprobe mdev_sample_class
for t in "${TYPES[@]}"; do
	check "create on ${t##*/}: every injected failure is clean" eq "$(create_loop "$t" | head -5)" ""
done
check "remove: every injected failure is clean" eq "$(remove_loop | head -5)" ""
check "the sample class driver bound mvnet mdevs during all this" \
	eval 'dmesg | grep -q "bound: virtio device id 1"'
rmmod mdev_sample_class
for m in $PARENTS; do rmmod "$m"; done
for m in $PARENTS; do
	check "load of $m: every injected failure is clean" eq "$(load_loop "$m" | head -5)" ""
done
ktap_print_msg "$(wc -l <"$RMDEV_TMP/steps") fault-injection steps"
check "no mdev, parent or type left" eval 'eq "$(nmdevs)" 0 && eq "$(ls /sys/class/mdev_bus)" ""'
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
