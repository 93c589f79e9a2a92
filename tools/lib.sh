# SPDX-License-Identifier: GPL-2.0
# Shared helpers for tools/*.sh. Sourced, not run.
RMDEV_CACHE=${RMDEV_CACHE:-$HOME/.cache/rmdev}
mkdir -p "$RMDEV_CACHE"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# check_version NAME HAVE WANT FIX: stop unless HAVE >= WANT (dotted versions).
check_version() {
	local name=$1 have=$2 want=$3 fix=$4
	if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" != "$want" ]; then
		die "$name $have is too old (need >= $want): $fix"
	fi
	info "$name $have"
}
