#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# KUnit suites built into the rmdev modules (`#[kunit_tests]`): they run when
# the module loads; their results are read back from debugfs and reported
# here, one KTAP line per test case. The suites are found under
# /sys/kernel/debug/kunit/rmdev_*; the modules that carry them must all
# have reported. (The other tests load the modules with the suites off.)
RMDEV_KUNIT=run
. "$(dirname "$0")/lib.sh"

KUNIT=/sys/kernel/debug/kunit
# Suites per module: vbus, rmdev_mdev, rmdev_vdev (vhost and vdev crates), mvnet, mvblk.
EXPECTED="rmdev_iotlb rmdev_mdev_sysfs rmdev_mdev_uuid rmdev_mvblk rmdev_mvnet rmdev_vbus rmdev_vbus_device rmdev_vdev rmdev_vringh"

modprobe rmdev_mdev
# The library's suites run when it loads, the device models' with their parents.
modprobe rmdev_vdev
modprobe mvnet
modprobe mvblk
suites=$(cd $KUNIT 2>/dev/null && ls -d rmdev_* 2>/dev/null | sort | tr '\n' ' ')
results=()
for s in $suites; do
	while read -r line; do
		results+=("$line")
	done < <(sed -nE 's/^[[:space:]]+((not )?ok [0-9]+ .*)$/\1/p' $KUNIT/$s/results |
		 sed -E "s/^((not )?ok) [0-9]+ /\1 - $s: /")
done
ktap_set_plan $((${#results[@]} + 2))
check "every expected suite reported" eq "$suites" "$EXPECTED "
for r in "${results[@]}"; do
	case $r in
	"not ok"*) ktap_test_fail "${r#not ok - }" ;;
	*"# SKIP"*) ktap_test_skip "${r#ok - }" ;;
	*) ktap_test_pass "${r#ok - }" ;;
	esac
done
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
