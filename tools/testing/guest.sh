#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test kernel (started by vm.sh): usage guest.sh OUT MODE.
# Writes OUT/output.log (what the user sees), OUT/ktap.log (--check),
# OUT/dmesg.log, OUT/kmemleak.log and OUT/status (exit status of MODE).
set -u
out=$1
mode=$2
. "$out/env"
export RMDEV_SRC RMDEV_TOP RMDEV_CLIENT
export RMDEV_OUT=$out
top=$RMDEV_TOP
kmemleak=/sys/kernel/debug/kmemleak
exec >"$out/output.log" 2>&1

# The kselftest runner writes to /dev/stdout: make it this script's stdout
# (virtme-ng points it at its own console port).
for i in 0:stdin 1:stdout 2:stderr; do
	ln -sfn "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"
done
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
# The kernel log as it is written: what is left of a guest that died.
dmesg -w >"$out/dmesg.live" 2>&1 &
[ -w $kmemleak ] && echo clear >$kmemleak

# Our modules next to the test kernel's, so that modprobe and modalias
# autoloading find them: a private copy of /lib/modules/$(uname -r) on tmpfs.
kver=$(uname -r)
orig=$(readlink -f "/lib/modules/$kver")
stage=/tmp/rmdev-mods
mkdir -p "$stage/extra"
if [ -d "$orig" ]; then
	cp -rL "$orig/kernel" "$stage/" 2>/dev/null
	cp -L "$orig"/modules.builtin* "$orig/modules.order" "$stage/" 2>/dev/null
fi
find "$top" -name '*.ko' -not -path '*/.git/*' -exec cp {} "$stage/extra/" \;
mount -t tmpfs tmpfs /lib/modules
mkdir -p "/lib/modules/$kver"
cp -a "$stage/." "/lib/modules/$kver/"
rm -rf "$stage"
depmod "$kver"

# Tests expect a running udevd for uevent-driven module autoloading.
if ! pgrep -x systemd-udevd >/dev/null && [ -x /lib/systemd/systemd-udevd ]; then
	/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1 || true
fi

status=0
case "$mode" in
check)
	for dir in "$top"/tools/testing/selftests/*/; do
		[ -f "$dir/Makefile" ] || continue
		# Our settings file is not where the runner looks (it is outside
		# the kernel's selftests directory): pass its timeout instead.
		t=$(sed -n 's/^timeout=//p' "$dir/settings" 2>/dev/null)
		# TEST_GEN_FILES= : the helpers were built on the host (vm.sh);
		# the work tree is read-only here.
		kselftest_override_timeout=${t:-} \
		make -s --no-print-directory -C "$dir" OUTPUT="${dir%/}" \
			RMDEV_SRC="$RMDEV_SRC" TEST_GEN_FILES= run_tests || status=1
	done 2>&1 | tee "$out/ktap.log"
	grep -qE '^not ok|^# +not ok' "$out/ktap.log" && status=1
	;;
demo)
	bash "$top/tools/testing/demo.sh" || status=$?
	;;
cmd)
	bash -c "$RMDEV_CMD" || status=$?
	;;
esac

if [ -w $kmemleak ]; then
	echo scan >$kmemleak; sleep 6; echo scan >$kmemleak
	cat $kmemleak >"$out/kmemleak.log"
fi
dmesg >"$out/dmesg.log"
echo $status >"$out/status"
sync
