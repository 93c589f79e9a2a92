#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian mdevctl package, unmodified, manages our mdevs.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 11

if ! command -v mdevctl >/dev/null; then
	ktap_skip_all "mdevctl not installed"
	exit $KSFT_SKIP
fi
load_parents
U=e2e2e2e2-1111-2222-3333-444444444444
D=e2e2e2e2-1111-2222-3333-555555555555
types=$(mdevctl types)
check "mdevctl types: both parents" eval 'grep -q "^mdev_sample.0" <<<"$types" && grep -q "^mdev_sample.1" <<<"$types"'
check "mdevctl types: type, instances, API, name" \
	eval 'grep -A4 "^  mdev_sample-virtio" <<<"$types" | grep -q "Available instances: 4" &&
	      grep -q "Device API: virtio-mdev" <<<"$types" && grep -q "Name: mdev sample, virtio class" <<<"$types"'
check "mdevctl start" mdevctl start -u $U -p mdev_sample.0 --type mdev_sample-virtio
check "started mdev is in sysfs" test -d $P0/$U
check "mdevctl list shows it" eval 'mdevctl list | grep -q "^$U mdev_sample.0 mdev_sample-virtio"'
check "mdevctl stop" eval 'mdevctl stop -u $U && test ! -e $P0/$U'
check "mdevctl define --auto" mdevctl define -u $D -p mdev_sample.1 --type mdev_sample-vhost --auto
check "mdevctl list --defined shows it, auto" eval 'mdevctl list --defined | grep -q "^$D mdev_sample.1 mdev_sample-vhost auto"'
check "defined mdev starts" eval 'mdevctl start -u $D && test -d $P1/$D'
mdevctl stop -u $D
check "mdevctl undefine" eval 'mdevctl undefine -u $D && ! mdevctl list --defined | grep -q $D'
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
