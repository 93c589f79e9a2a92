# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the vbus kselftests. Sourced.

. "$RMDEV_SRC/tools/testing/selftests/kselftest/ktap_helpers.sh"

BUS=/sys/bus/vbus
DRV=$BUS/drivers/vbus_sample_driver
MODS="vbus_sample_driver vbus_sample_provider vbus"

loaded() { grep -q "^$1 " /proc/modules; }

unload_all() {
	local m
	for m in $MODS; do loaded "$m" && rmmod "$m"; done
	return 0
}

# Number of devices on the bus / bound to the sample driver.
ndevs() { find "$BUS/devices/" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
nbound() { find "$DRV/" -mindepth 1 -maxdepth 1 -name 'rmdev_sample.*' 2>/dev/null | wc -l; }

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

# eq A B: string equality that prints both sides when they differ.
eq() {
	[ "$1" = "$2" ] && return 0
	ktap_print_msg "expected '$2', got '$1'"
	return 1
}

# write_stdin_errno FILE: writes standard input to FILE with one write(2) of
# up to 64 KiB (never creating FILE) and prints the errno name, or OK.
write_stdin_errno() {
	local msg
	msg=$(dd of="$1" bs=64K iflag=fullblock conv=nocreat status=none 2>&1) &&
		{ echo OK; return; }
	case "$msg" in
	*"Invalid argument"*) echo EINVAL ;;
	*"No such device"*) echo ENODEV ;;
	*"Resource temporarily unavailable"*) echo EAGAIN ;;
	*"File exists"*) echo EEXIST ;;
	*"Device or resource busy"*) echo EBUSY ;;
	*"No such file or directory"*) echo ENOENT ;;
	*"Argument list too long"*) echo E2BIG ;;
	*"Too many users"*) echo EUSERS ;;
	*"Permission denied"*) echo EACCES ;;
	*) echo "OTHER($msg)" ;;
	esac
}

# write_errno FILE DATA: writes DATA (no newline added) as write_stdin_errno.
write_errno() { printf '%s' "$2" | write_stdin_errno "$1"; }

# state: everything a bad input must leave as it was.
state() {
	local d
	for d in "$BUS"/devices/*; do
		[ -e "$d" ] || continue
		printf '%s %s %s\n' "${d##*/}" \
			"$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)" \
			"$(cat "$d/driver_override")"
	done
	ls "$BUS/drivers"
}

# Kernel reports since the last dmesg_mark.
DMESG_PATTERN='WARNING:|BUG:|Oops|general protection fault|possible recursive locking|circular locking dependency|inconsistent lock state|suspicious RCU usage|KFENCE: |blocked for more than|soft lockup|UBSAN:|list_(add|del) corruption'
dmesg_mark() { DMESG_MARK=$(dmesg | wc -l); }
dmesg_clean() {
	local new
	new=$(dmesg | tail -n +"$((DMESG_MARK + 1))" | grep -E "$DMESG_PATTERN")
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

# Keep udev from loading the sample driver on its own (by modalias), so that
# the tests decide when it loads; explicit `modprobe vbus_sample_driver` works.
# vbus_autoload.sh lifts this.
BLOCK_AUTOLOAD=/etc/modprobe.d/rmdev-selftest.conf
echo "blacklist vbus_sample_driver" >$BLOCK_AUTOLOAD

ktap_print_header
unload_all
dmesg_mark
