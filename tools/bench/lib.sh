# SPDX-License-Identifier: GPL-2.0
# Helpers of the benchmarks (tools/bench/*_bench.sh). Sourced.

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds.
wait_for() { local n=$(($1 * 10)); shift; until "$@"; do n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1; done; }
# first GLOB: the name of the first existing match.
first() { local d; for d in $1; do [ -e "$d" ] && { echo "${d##*/}"; return; }; done; }
# has GLOB: something matches (a predicate for wait_for, which runs it again each time).
has() { [ -n "$(first "$1")" ]; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ratio A B: A/B with two decimals, n/a when either is 0 or missing.
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# mac_of UUID: the MAC mvnet gives the mdev (02: then the UUID's first 5 bytes).
mac_of() { local u=${1//-/}; echo "02:${u:0:2}:${u:2:2}:${u:4:2}:${u:6:2}:${u:8:2}"; }
