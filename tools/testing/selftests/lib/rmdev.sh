# SPDX-License-Identifier: GPL-2.0
# Helpers shared by the rmdev kselftests (vbus, mdev). Sourced through each
# test directory's own links (rmdev.sh, dmesg_reports, write_errno.c), so an
# installed directory ships everything it sources; the kernel's
# ktap_helpers.sh is installed next to them, or read from $RMDEV_SRC.

RMDEV_LIB=$(dirname "$0")
if [ -r "$RMDEV_LIB/ktap_helpers.sh" ]; then
	. "$RMDEV_LIB/ktap_helpers.sh"
else
	. "$RMDEV_SRC/tools/testing/selftests/kselftest/ktap_helpers.sh"
fi

# Scratch files of this test, removed at exit with whatever the directory's
# lib.sh installed (its rmdev_cleanup).
RMDEV_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rmdev-selftest.XXXXXX")
rmdev_exit() {
	echo "# ${0##*/}: ${SECONDS} s"
	rm -rf "$RMDEV_TMP"
	if declare -F rmdev_cleanup >/dev/null; then rmdev_cleanup; fi
	if [ -n "${RMDEV_UDEV_STOPPED:-}" ]; then udev_start; fi
	kunit_at_load '*.*'
}

# kunit_at_load GLOB: which KUnit suites run when a module loads (KUnit's
# filter_glob; rmdev_none: none of ours). The suites run in mdev_kunit.sh;
# every other test loads the modules with them off, since each load would
# run them again (minutes in all under TCG). Reset to all at exit.
KUNIT_FILTER=/sys/module/kunit/parameters/filter_glob
kunit_at_load() {
	if [ -w $KUNIT_FILTER ]; then echo "$1" >$KUNIT_FILTER; fi
}

# udev_start: starts udevd again, holding none of this test's file
# descriptors (the runner's pipes would then never close, and the run
# would wait for them forever).
udev_start() {
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		exec /lib/systemd/systemd-udevd --daemon </dev/null >/dev/null 2>&1
	)
}

# udev_stop: stops udevd for a test that makes thousands of uevents and
# needs none of them handled (under TCG, handling them costs most of the
# time); it is started again when the test exits.
udev_stop() {
	pgrep -x systemd-udevd >/dev/null || return 0
	udevadm control --exit 2>/dev/null || pkill -x systemd-udevd
	RMDEV_UDEV_STOPPED=1
}
trap rmdev_exit EXIT

loaded() { grep -q "^$1 " /proc/modules; }

# The test kernel delays every kobject release by 1-4 s
# (CONFIG_DEBUG_KOBJECT_RELEASE): an unloaded module's drivers keep their
# names, and their sysfs directories, until then, and loading the module
# again fails (EBUSY) and costs another such delay. rmmod notes the
# module's drivers; modprobe waits for them to go first.
RMDEV_GONE_DRIVERS=()
# drivers_of MODULE...: the sysfs directories of the modules' drivers.
drivers_of() {
	local m d n
	for m; do
		for d in /sys/module/$m/drivers/*; do
			[ -e "$d" ] || continue
			n=${d##*/}
			echo "/sys/bus/${n%%:*}/drivers/${n#*:}"
		done
	done
}
rmmod() {
	local gone
	gone=$(drivers_of "$@")
	command rmmod "$@" || return
	RMDEV_GONE_DRIVERS+=($gone)
}

# modprobe, after the drivers of earlier unloads are gone; retried for up
# to 5 s while it fails with EBUSY or EEXIST all the same (an unload in a
# subshell, a class directory's delayed release). Any other failure is
# final: a refused parameter is not retried.
modprobe() {
	local i err d
	for d in "${RMDEV_GONE_DRIVERS[@]}"; do
		wait_for 5 test ! -e "$d"
	done
	RMDEV_GONE_DRIVERS=()
	for ((i = 0; i < 50; i++)); do
		# Its output goes out as is; its errors are read.
		if { err=$(command modprobe "$@" 2>&1 >&3); } 3>&1; then
			[ -z "$err" ] || echo "$err" >&2
			return 0
		fi
		[[ $err == *"Device or resource busy"* || $err == *"File exists"* ]] || break
		sleep 0.1
	done
	echo "$err" >&2
	return 1
}

# unload_all: removes the modules of $MODS that are loaded.
unload_all() {
	local m pid layer pids rc=0
	# Layer by layer, the modules nothing holds at once: each unload costs
	# 2 to 8 s of delayed kobject releases on the test kernel (the module's
	# kobject waits for its drivers/ child's), and they overlap. A layer is
	# chosen before any of it unloads: an unload drops its holder links
	# early, while its module still holds the ones it uses.
	while :; do
		layer=()
		for m in $MODS; do
			[ -d /sys/module/$m/holders ] || continue
			[ -z "$(ls /sys/module/$m/holders)" ] && layer+=("$m")
		done
		[ ${#layer[@]} = 0 ] && return 0
		pids=()
		for m in "${layer[@]}"; do
			RMDEV_GONE_DRIVERS+=($(drivers_of "$m"))
			command rmmod "$m" &
			pids+=($!)
		done
		for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
		[ $rc = 0 ] || return 1
	done
}

# check DESCRIPTION COMMAND...: one KTAP result from a command's status.
check() {
	local desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$desc"
	else
		ktap_print_msg "failed: $*"
		ktap_test_fail "$desc"
	fi
}

# not COMMAND...: succeeds when COMMAND fails (its stderr is dropped).
not() { ! "$@" 2>/dev/null; }

# driver_of UUID: the driver bound to the mdev ($MDEVS), or "none".
driver_of() { basename "$(readlink "$MDEVS/$1/driver" 2>/dev/null || echo none)"; }

# netdev_of UUID: the network interface of the mdev's virtio device.
netdev_of() {
	local d
	for d in "$MDEVS/$1"/virtio*/net/*; do [ -e "$d" ] && echo "${d##*/}"; done
}
# A predicate for wait_for (which runs its command again each time).
has_netdev() { [ -n "$(netdev_of "$1")" ]; }

# mac_of UUID: the MAC mvnet gives the mdev (02: then the UUID's first 5 bytes).
mac_of() {
	local u=${1//-/}
	echo "02:${u:0:2}:${u:2:2}:${u:4:2}:${u:6:2}:${u:8:2}"
}

# eq A B: string equality that prints both sides when they differ.
eq() {
	[ "$1" = "$2" ] && return 0
	ktap_print_msg "expected '$2', got '$1'"
	return 1
}

# write_stdin_errno FILE: writes standard input to FILE with one write(2)
# (never creating FILE) and prints the errno's name, or OK.
write_stdin_errno() { "$RMDEV_LIB/write_errno" "$1"; }

# write_errno FILE DATA: writes DATA (no newline added) as write_stdin_errno.
write_errno() { printf '%s' "$2" | write_stdin_errno "$1"; }

# Kernel reports since the last dmesg_mark (the patterns the harness uses).
dmesg_mark() { DMESG_MARK=$(dmesg | wc -l); }
dmesg_clean() {
	local new
	new=$(dmesg | tail -n +"$((DMESG_MARK + 1))" | grep -E -f "$RMDEV_LIB/dmesg_reports")
	[ -z "$new" ] && return 0
	ktap_print_msg "kernel reports: $new"
	return 1
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# rmdev_begin: the KTAP header, then a clean start (modules unloaded).
rmdev_begin() {
	ktap_print_header
	[ -n "${RMDEV_KUNIT:-}" ] || kunit_at_load rmdev_none
	unload_all
	dmesg_mark
}
