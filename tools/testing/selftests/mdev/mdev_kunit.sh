#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# KUnit suites built into the rmdev modules (`#[kunit_tests]`): they run when
# the module loads; their results are read back from debugfs and reported
# here, one KTAP line per test case.
. "$(dirname "$0")/lib.sh"

SUITES="rmdev_iotlb rmdev_vringh rmdev_vdev rmdev_mvnet rmdev_mvblk"
KUNIT=/sys/kernel/debug/kunit

modprobe rmdev_mdev
# The device models' suites run when their parents load.
modprobe mvnet
modprobe mvblk
results=()
for s in $SUITES; do
	if [ ! -r $KUNIT/$s/results ]; then
		results+=("not ok - suite $s: no results in $KUNIT")
		continue
	fi
	while read -r line; do
		results+=("$line")
	done < <(sed -nE 's/^[[:space:]]+((not )?ok [0-9]+ .*)$/\1/p' $KUNIT/$s/results |
		 sed -E "s/^((not )?ok) [0-9]+ /\1 - $s: /")
done
ktap_set_plan $((${#results[@]} + 1))
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
