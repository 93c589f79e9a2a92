#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the rmdev test kernel under QEMU through virtme-ng, with the host's
# root file system and this work tree at the same path, and runs one of:
#   --check        the kselftests (tools/testing/selftests/*), KTAP + summary
#   --demo         tools/testing/demo.sh
#   --cmd 'CMD'    any shell command
# The guest's exit status becomes this script's. The guest's dmesg is kept for
# every run; a WARNING, BUG, Oops, lockdep, KFENCE, kmemleak (scanned at the
# end), hung-task or soft-lockup report fails the run and is printed.
#
# Environment: RMDEV_VM_TIMEOUT (seconds, default 2400); RMDEV_KVM=0 skips
# the KVM probe and uses TCG; RMDEV_FLAVOUR boots a kernel flavour
# (tools/kernel.sh FLAVOUR; the modules must be built against it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tools/lib.sh"
. "$RMDEV_CACHE/env.sh"

mode=${1:-}
cmd=${2:-}
case "$mode" in
--check|--demo) ;;
--cmd) [ -n "$cmd" ] || die "usage: vm.sh --cmd 'COMMAND'" ;;
*) die "usage: vm.sh --check | --demo | --cmd 'COMMAND'" ;;
esac

# One guest at a time on this machine (two would starve each other on
# 2 cores): wait for a running one.
exec 9>"${TMPDIR:-/tmp}/rmdev-vm.lock"
flock 9

export PATH="$(dirname "$VNG"):$PATH"
B=$("$top/tools/kernel.sh" ${RMDEV_FLAVOUR:-})
out=$(mktemp -d "${TMPDIR:-/tmp}/rmdev-vm.XXXXXX")
timeout_s=${RMDEV_VM_TIMEOUT:-2400}

# KVM hangs before the first guest output on some hosts: probe it once per
# host boot with a short timeout, and fall back to TCG.
accel=(--disable-kvm)
if [ "${RMDEV_KVM:-probe}" != 0 ] && [ -w /dev/kvm ]; then
	probe="$RMDEV_CACHE/kvm-probe.$(cat /proc/sys/kernel/random/boot_id)"
	if ! [ -f "$probe" ]; then
		info "probing KVM (at most 30 s, once per host boot)"
		if timeout -k 5 30 "$VNG" --run "$B" --memory 1G --exec true >/dev/null 2>&1 </dev/null; then
			echo kvm >"$probe"
		else
			echo tcg >"$probe"
		fi
	fi
	[ "$(cat "$probe")" = kvm ] && accel=()
fi

{
	echo "RMDEV_SRC=$RMDEV_SRC"
	echo "RMDEV_TOP=$top"
	printf 'RMDEV_CMD=%q\n' "$cmd"
} >"$out/env"

# The selftests' helper programs are built here (the guest sees the work
# tree read-only), for every mode: demos and benchmarks use them too.
for dir in "$top"/tools/testing/selftests/*/; do
	[ -f "$dir/Makefile" ] || continue
	make -s --no-print-directory -C "$dir" OUTPUT="${dir%/}" RMDEV_SRC="$RMDEV_SRC" all
done
# The vhost-vdpa client (Rust, rust-vmm crates at Cargo.lock's versions),
# built outside the work tree; the guest finds it through RMDEV_CLIENT.
client_target="$RMDEV_CACHE/vdpa_client"
CARGO_TARGET_DIR="$client_target" cargo build -q --release --locked \
	--manifest-path "$top/tools/vdpa_client/Cargo.toml"
echo "RMDEV_CLIENT=$client_target/release/vdpa-client" >>"$out/env"

step "booting test kernel ($([ ${#accel[@]} = 0 ] && echo KVM || echo TCG)), mode ${mode#--}"
start=$(date +%s)
set +e
# The console (vng.log) carries warnings and worse only (loglevel=5): a
# guest that dies leaves its last oops there, even when dmesg.live missed it.
timeout --kill-after=30 "$timeout_s" "$VNG" --run "$B" "${accel[@]}" --cpus 2 --memory 3G \
	--rwdir "$out" --cwd "$top" --verbose \
	--append "hung_task_panic=0 softlockup_panic=0 kmemleak=on log_buf_len=16M kfence.sample_interval=1 loglevel=5" \
	--exec "$here/guest.sh $out ${mode#--}" </dev/null >"$out/vng.log" 2>&1
vng_rc=$?
set -e
info "guest ran $(( $(date +%s) - start )) s (results in $out)"

[ -f "$out/output.log" ] && cat "$out/output.log"

if ! [ -f "$out/status" ]; then
	tail -n 40 "$out/vng.log" >&2
	[ -s "$out/dmesg.live" ] && { echo "== the guest's last kernel messages =="; tail -n 60 "$out/dmesg.live"; } >&2
	[ $vng_rc = 124 ] && die "guest timed out after $timeout_s s"
	die "guest did not finish (virtme-ng exit $vng_rc); see $out/vng.log"
fi
status=$(cat "$out/status")

# Kernel reports that fail any run (the patterns the selftests use too).
patterns="$top/tools/testing/selftests/lib/dmesg_reports"
reports=$(grep -E -f "$patterns" "$out/dmesg.log" || true)
leaks=$(grep -c 'unreferenced object' "$out/kmemleak.log" 2>/dev/null || true)

dmesg_ok=1
if [ -n "$reports" ] || [ "${leaks:-0}" != 0 ]; then
	dmesg_ok=0
	echo "== kernel reports in the guest's dmesg =="
	grep -E -A 25 -f "$patterns" "$out/dmesg.log" | head -n 200
	[ "${leaks:-0}" != 0 ] && { echo "== kmemleak: $leaks leak(s) =="; head -n 60 "$out/kmemleak.log"; }
fi

if [ "$mode" = --check ]; then
	# The whole boot's dmesg and kmemleak verdict is a KTAP result of its own.
	{
		echo "TAP version 13"
		echo "1..1"
		echo "$([ $dmesg_ok = 1 ] || echo 'not ')ok 1 dmesg and kmemleak clean"
	} | tee -a "$out/ktap.log"
	# Count the innermost KTAP results of every test program.
	read -r pass fail skip < <(awk '
		/^# +(not )?ok [0-9]+ / || /^(not )?ok [0-9]+ / && !/selftests: / {
			line = $0; sub(/^# +/, "", line)
			if (line ~ /^not ok/) f++
			else if (line ~ /# SKIP/) s++
			else p++
		}
		END { print p+0, f+0, s+0 }' "$out/ktap.log")
	# A test program that failed without a subtest failing (crash, bail out,
	# timeout) counts as a failure too.
	progs_failed=$(grep -cE '^not ok [0-9]+ selftests: ' "$out/ktap.log" || true)
	if [ "$fail" = 0 ] && [ "${progs_failed:-0}" != 0 ]; then fail=$progs_failed; fi
	# A guest that failed without any failed result (a runner that could not
	# start) fails the run too.
	if [ "$fail" = 0 ] && [ "$status" != 0 ]; then
		echo "not ok - the guest's test run exited $status without a failed test"
		fail=1
	fi
	echo "dmesg and kmemleak clean: $([ $dmesg_ok = 1 ] && echo yes || echo NO)"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ] && [ "$status" = 0 ] || exit 1
	exit 0
fi

[ $dmesg_ok = 1 ] || exit 1
exit "$status"
