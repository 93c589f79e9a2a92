#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the rmdev test kernel (tinyconfig + tools/testing/kconfig/*.config)
# into a cache directory keyed on the source version, the config fragments,
# the kernel patches and the toolchain versions, so a second run with the
# same inputs builds nothing. The patches (tools/testing/kernel-patches/,
# fixes of mainline bugs our tests hit) are applied to the source tree once.
# Prints the build directory on stdout as its last line.
#
# usage: kernel.sh [FLAVOUR]   FLAVOUR adds tools/testing/kconfig/FLAVOUR/*.config
#                              on top (modversions: a second tree for KDIR=).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
[ -f "$RMDEV_CACHE/env.sh" ] || die "run tools/setup.sh first"
. "$RMDEV_CACHE/env.sh"

fragments=("$top"/tools/testing/kconfig/*.config)
if [ -n "${1:-}" ]; then
	[ -d "$top/tools/testing/kconfig/$1" ] || die "no kernel flavour $1 in tools/testing/kconfig/"
	fragments+=("$top/tools/testing/kconfig/$1"/*.config)
fi
patches=("$top"/tools/testing/kernel-patches/*.patch)
for p in "${patches[@]}"; do
	if ! patch -d "$RMDEV_SRC" -p1 -R -s -f --dry-run <"$p" >/dev/null 2>&1; then
		info "applying $(basename "$p")"
		patch -d "$RMDEV_SRC" -p1 -s -f --no-backup-if-mismatch <"$p" >&2 ||
			die "$p does not apply to $RMDEV_SRC"
	fi
done
key=$( {
	echo "$RMDEV_LINUX_VERSION"
	cat "${fragments[@]}" "${patches[@]}"
	/usr/bin/rustc --version; "$BINDGEN" --version; gcc --version | head -n1
} | sha256sum | cut -c1-16)
B="$RMDEV_CACHE/build/linux-$key"
kmake=(make -C "$RMDEV_SRC" O="$B" ARCH=x86_64 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
	BINDGEN="$BINDGEN" LIBCLANG_PATH="$LIBCLANG_PATH" -j"$(nproc)")
export LIBCLANG_PATH

if [ -f "$B/.rmdev-built" ]; then
	info "test kernel cached: $B"
	echo "$B"
	exit 0
fi

# A new configuration of a flavour starts from a copy of that flavour's
# newest build: kbuild rebuilds only what the changed options touch (a
# debug option: minutes instead of a whole kernel).
flavour=${1:-test}
seed=$(for d in "$RMDEV_CACHE"/build/linux-*; do
	if [ -f "$d/.rmdev-built" ] && [ "$(cat "$d/.rmdev-flavour" 2>/dev/null)" = "$flavour" ]; then
		echo "$d"
	fi
done | xargs -r ls -dt | head -n1)
rm -rf "$B"
if [ -n "$seed" ]; then
	info "starting from $seed"
	cp -a "$seed" "$B.tmp" && rm -f "$B.tmp/.rmdev-built" && mv "$B.tmp" "$B"
fi
step "configuring test kernel in $B"
mkdir -p "$B"
echo "$flavour" >"$B/.rmdev-flavour"
"${kmake[@]}" -s tinyconfig >/dev/null
(cd "$B" && "$RMDEV_SRC/scripts/kconfig/merge_config.sh" -m -O "$B" "$B/.config" "${fragments[@]}" >/dev/null)
"${kmake[@]}" -s olddefconfig >/dev/null
bad=0
# Each symbol's last line across the fragments is the one that must hold.
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) sym=${line%%=*}; grep -qx "$sym=y\|$sym=m" "$B/.config" && { warn "$line did not take"; bad=1; } ;;
	# A value whose symbol is gone had its dependency turned off by a
	# later fragment (bench: no hung-task detector, no timeout).
	CONFIG_*=[!ym]*) grep -q "^${line%%=*}=" "$B/.config" || continue
		grep -qxF "$line" "$B/.config" || { warn "$line did not take (have: $(grep "^${line%%=*}=" "$B/.config"))"; bad=1; } ;;
	CONFIG_*=*) grep -qxF "$line" "$B/.config" || { warn "$line did not take (have: $(grep "^${line%%=*}=" "$B/.config" || echo unset))"; bad=1; } ;;
	esac
done < <(grep -h '^CONFIG_' "${fragments[@]}" | tac | awk -F= '!seen[$1]++' | tac)
[ $bad = 0 ] || die "config fragment did not apply; see warnings above (make rustavailable tells about Rust)"

step "building test kernel (about 10 min with 2 cores)"
start=$(date +%s)
"${kmake[@]}" -s bzImage modules >"$B/build.log" 2>&1 || { tail -n 40 "$B/build.log" >&2; die "kernel build failed: $B/build.log"; }
info "built in $(( $(date +%s) - start )) s"
touch "$B/.rmdev-built"
echo "$B"
