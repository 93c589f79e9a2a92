#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 500 create/remove cycles, then concurrent creates and removes (several
# writers, shared UUIDs, a bounded number of rounds) and a parent unload
# racing with creates. kmemleak is checked by the harness.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 8

load_parents
# Thousands of uevents follow, none of which needs handling.
udev_stop
fails=0
for i in $(seq 500); do
	printf -v u '5a5a5a5a-0000-0000-0000-%012x' $i
	# Builtin writes (one write(2) each), to keep 1000 writes quick under TCG.
	printf '%s' $u 2>/dev/null >$T0/create || fails=$((fails + 1))
	printf 1 2>/dev/null >$P0/$u/remove || fails=$((fails + 1))
done
check "500 create/remove cycles" eq "$fails" 0
check "after the cycles: no mdev, all instances free" \
	eval 'eq "$(nmdevs)" 0 && eq "$(cat $T0/available_instances)" 4'

# Concurrent writers: 4 writers x 60 rounds over 6 UUIDs and 2 types whose
# instances run out; every errno must be one the ABI allows.
writer() {
	local w=$1 i u t r
	for i in $(seq 60); do
		u=$(printf 'c0c0c0c0-0000-0000-0000-%012x' $(( (i + w) % 6 )))
		t=$([ $((i % 2)) = 0 ] && echo $T0 || echo $T1)
		r=$(write_errno $t/create $u)
		case $r in OK|EEXIST|EUSERS) ;; *) echo "create $u: $r" ;; esac
		for p in $P0 $P1; do
			[ -e $p/$u/remove ] || continue
			r=$(write_errno $p/$u/remove 1)
			case $r in OK|ENODEV|EAGAIN|ENOENT) ;; *) echo "remove $u: $r" ;; esac
		done
	done
}
for w in 1 2 3 4; do writer $w >$RMDEV_TMP/writer.$w & done
wait
check "concurrent create/remove: only ABI errnos" eq "$(cat $RMDEV_TMP/writer.* | head -5)" ""
for u in $(ls $MDEVS); do write_errno $MDEVS/$u/remove 1 >/dev/null; done
check "concurrent: all removed, instances all free" \
	eval 'eq "$(nmdevs)" 0 && eq "$(cat $T0/available_instances) $(cat $T1/available_instances)" "4 4"'

# Creates racing with the parents' unregistration.
racer() {
	local i r
	for i in $(seq 200); do
		r=$(write_errno $1 $(printf 'dddddddd-0000-0000-0000-%012x' $i) 2>/dev/null)
		case $r in OK|EEXIST|EUSERS|ENODEV|ENOENT) ;; *) echo "create: $r" ;; esac
		[ -e $1 ] || break
	done
}
racer $T0/create >$RMDEV_TMP/racer.0 &
racer $T1/create >$RMDEV_TMP/racer.1 &
sleep 1
rmmod mdev_sample_parent
wait
check "creates racing with parent unload: only ABI errnos" eq "$(cat $RMDEV_TMP/racer.* | head -5)" ""
check "after the race: no mdev and no parent left" eval 'eq "$(nmdevs)" 0 && test ! -e $P0'
check "core unloads after the race" rmmod rmdev_mdev
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
