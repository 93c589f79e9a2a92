#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# rmdev setup: installs and checks the toolchain and fetches the pinned Linux
# 7.3 source (see ../shared/design.md section 5). Idempotent: every step checks
# first and does nothing when its result is already there. Prints what it does.
#
# Environment:
#   RMDEV_CACHE          cache root (default: ~/.cache/rmdev)
#   RMDEV_LINUX_VERSION  Debian version of linux-source-7.3 (default: the pin)
#   RMDEV_LINUX_SHA256   sha256 of usr/src/linux-source-7.3.tar.xz for that version
set -euo pipefail

# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

PIN_VERSION=7.3.4-1~bpo13+1
PIN_SHA256=76df1affb19f24926949369be1d74b60071c963c598ce8780bddd4bbf0fc3bc4
LINUX_VERSION=${RMDEV_LINUX_VERSION:-$PIN_VERSION}
if [ "$LINUX_VERSION" = "$PIN_VERSION" ]; then
	LINUX_SHA256=${RMDEV_LINUX_SHA256:-$PIN_SHA256}
else
	LINUX_SHA256=${RMDEV_LINUX_SHA256:-}
fi
BINDGEN_VERSION=0.73.2
LIBCLANG_VERSION=18.1.1
VIRTME_NG_VERSION=1.42

APT_PACKAGES=(
	rustc-web rust-web-src rust-web-clippy rustfmt-web
	gcc make flex bison bc libelf-dev libssl-dev cpio kmod xz-utils zstd patch
	python3 qemu-system-x86 mdevctl iproute2 busybox-static udev
	libdw-dev # gendwarfksyms, for the CONFIG_MODVERSIONS tree of make modversions-check
	fio # the virtio_mdev block tests (fio --verify)
	linux-perf # make bench: the profile of the block runs
	dpdk-dev librte-net-virtio23 # vhost_mdev tests: unmodified DPDK testpmd (virtio_user)
)

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

step "apt packages"
missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	info "installing: ${missing[*]}"
	as_root apt-get update -q >/dev/null
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -x /usr/bin/rustc ] || die "/usr/bin/rustc missing: apt-get install rustc-web"
[ -d /usr/lib/rustlib/src/rust/library/core ] || die "Rust library source missing: apt-get install rust-web-src"
check_version rustc "$(/usr/bin/rustc --version | awk '{print $2}')" 1.85.0 "apt-get install rustc-web"

step "bindgen-cli $BINDGEN_VERSION (crates.io)"
BINDGEN="$RMDEV_CACHE/tools/bin/bindgen"
if ! [ -x "$BINDGEN" ] || ! "$BINDGEN" --version 2>/dev/null | grep -qF "$BINDGEN_VERSION"; then
	command -v cargo >/dev/null || die "cargo missing: needed to install bindgen-cli"
	info "cargo install bindgen-cli (takes ~3 min)"
	cargo install -q bindgen-cli --version "=$BINDGEN_VERSION" --locked --root "$RMDEV_CACHE/tools"
fi
check_version bindgen "$("$BINDGEN" --version | awk '{print $2}')" 0.71.1 "cargo install bindgen-cli"

step "Python tools: libclang $LIBCLANG_VERSION, virtme-ng $VIRTME_NG_VERSION (PyPI)"
if ! [ -x "$RMDEV_CACHE/venv/bin/vng" ] ||
   ! "$RMDEV_CACHE/venv/bin/python" -c 'import clang.native' 2>/dev/null; then
	python3 -m venv "$RMDEV_CACHE/venv"
	"$RMDEV_CACHE/venv/bin/pip" install -q --disable-pip-version-check \
		"libclang==$LIBCLANG_VERSION" "virtme-ng==$VIRTME_NG_VERSION"
fi
LIBCLANG_PATH=$("$RMDEV_CACHE/venv/bin/python" -c 'import clang.native, os; print(os.path.dirname(clang.native.__file__))')
[ -e "$LIBCLANG_PATH/libclang.so" ] || die "libclang.so not found in $LIBCLANG_PATH: pip install libclang"

step "Linux source linux-source-7.3=$LINUX_VERSION (Debian trixie-backports)"
upstream=${LINUX_VERSION%%-*}
SRC="$RMDEV_CACHE/src/linux-$(printf %s "$LINUX_VERSION" | tr -c "A-Za-z0-9.\n" -)"
if ! [ -f "$SRC/.rmdev-unpacked" ]; then
	apt_dir="$RMDEV_CACHE/apt"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main" \
		>"$apt_dir/sources.list"
	aptopts=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache::Archives="$apt_dir/archives"
		-o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	info "updating private package list"
	apt-get "${aptopts[@]}" update -q >/dev/null
	if ! (cd "$apt_dir" && apt-get "${aptopts[@]}" download -q "linux-source-7.3=$LINUX_VERSION" >/dev/null 2>&1); then
		offered=$(apt-cache "${aptopts[@]}" madison linux-source-7.3 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | tr '\n' ' ')
		die "linux-source-7.3=$LINUX_VERSION is not in the archive. Versions on offer: ${offered:-none}. Set RMDEV_LINUX_VERSION (and RMDEV_LINUX_SHA256) to pick one."
	fi
	deb=$(ls "$apt_dir"/linux-source-7.3_*.deb | head -n1)
	tmp="$RMDEV_CACHE/src/.unpack.$$"
	rm -rf "$tmp"; mkdir -p "$tmp"
	dpkg-deb -x "$deb" "$tmp"
	tarball=$(ls "$tmp"/usr/src/linux-source-7.3.tar.*)
	sum=$(sha256sum "$tarball" | awk '{print $1}')
	if [ -z "$LINUX_SHA256" ]; then
		warn "no sha256 pinned for $LINUX_VERSION; tarball sha256 is $sum"
	elif [ "$sum" != "$LINUX_SHA256" ]; then
		die "sha256 mismatch for $tarball: got $sum, want $LINUX_SHA256"
	fi
	info "unpacking $(basename "$tarball")"
	rm -rf "$SRC"; mkdir -p "$SRC"
	tar -xf "$tarball" -C "$SRC" --strip-components=1
	rm -rf "$tmp" "$deb"
	touch "$SRC/.rmdev-unpacked"
fi

cat >"$RMDEV_CACHE/env.sh" <<ENV
# generated by tools/setup.sh
RMDEV_SRC=$SRC
RMDEV_LINUX_VERSION=$LINUX_VERSION
BINDGEN=$BINDGEN
LIBCLANG_PATH=$LIBCLANG_PATH
VNG=$RMDEV_CACHE/venv/bin/vng
ENV
step "setup done: source in $SRC"
