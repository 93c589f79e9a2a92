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
top=$RMDEV_TOP
kmemleak=/sys/kernel/debug/kmemleak
exec >"$out/output.log" 2>&1

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
[ -w $kmemleak ] && echo clear >$kmemleak

# Our modules next to the test kernel's, so that modprobe and modalias
# autoloading find them: a private copy of /lib/modules/$(uname -r) on tmpfs.
kver=$(uname -r)
stage=/tmp/rmdev-mods
mkdir -p "$stage/lib/modules/$kver/extra"
[ -d "/lib/modules/$kver" ] && cp -aL "/lib/modules/$kver/." "$stage/lib/modules/$kver/" 2>/dev/null
find "$top" -name '*.ko' -not -path '*/.git/*' -exec cp {} "$stage/lib/modules/$kver/extra/" \;
depmod -b "$stage" "$kver"
mount -t tmpfs tmpfs /lib/modules
mkdir -p "/lib/modules/$kver"
cp -a "$stage/lib/modules/$kver/." "/lib/modules/$kver/"
rm -rf "$stage"

# Tests expect a running udevd for uevent-driven module autoloading.
if ! pgrep -x systemd-udevd >/dev/null && [ -x /lib/systemd/systemd-udevd ]; then
	/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1 || true
fi

status=0
case "$mode" in
check)
	for dir in "$top"/tools/testing/selftests/*/; do
		[ -f "$dir/Makefile" ] || continue
		make -s --no-print-directory -C "$dir" RMDEV_SRC="$RMDEV_SRC" \
			OUTPUT="$(mktemp -d)" run_tests || status=1
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
