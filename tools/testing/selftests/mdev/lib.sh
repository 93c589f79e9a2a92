# SPDX-License-Identifier: GPL-2.0
# Helpers of the mdev kselftests. Sourced.

. "$(dirname "$0")/rmdev.sh"

MODS="vhost_mdev virtio_mdev mdev_sample_class mvnet mvblk mdev_sample_parent rmdev_vdev rmdev_mdev vbus_sample_driver vbus_sample_provider vbus"
P0=/sys/bus/vbus/devices/mdev_sample.0
P1=/sys/bus/vbus/devices/mdev_sample.1
T0=$P0/mdev_supported_types/mdev_sample-virtio
T0H=$P0/mdev_supported_types/mdev_sample-vhost
T1=$P1/mdev_supported_types/mdev_sample-virtio
MDEVS=/sys/bus/mdev/devices

U1=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001
U2=83b8f4f2-509f-382f-3c1e-e6bfe0fa1002
U3=83b8f4f2-509f-382f-3c1e-e6bfe0fa1003

# Builtins only, below: under TCG every program run costs a good part of a
# second, and these run once per check.

# nmdevs: how many mdevs exist.
nmdevs() {
	local n=0 f
	for f in "$MDEVS"/*; do [ -e "$f" ] && n=$((n + 1)); done
	echo $n
}

# mdev_state: everything a refused write must leave as it was.
mdev_state() {
	local f v
	for f in "$MDEVS"/*; do [ -e "$f" ] && echo "${f##*/}"; done
	for f in "$P0"/mdev_supported_types/*/available_instances \
		 "$P1"/mdev_supported_types/*/available_instances; do
		[ -e "$f" ] && read -r v <"$f" && echo "$v"
	done
}

# write_fmt_errno FILE FORMAT: like write_errno, with printf escapes (\0, \n).
write_fmt_errno() { printf -- "$2" | write_stdin_errno "$1"; }

# mode FILE: permissions as `stat` prints them.
mode() { stat -c %A "$1"; }

# These tests are the core's: keep udev from loading the class drivers for
# every mdev they create (MODALIAS=mdev:c02 and mdev:c03), which would put a
# virtio device and a netdev or disk, or a char device, behind each.
# Explicit `modprobe` still works. Removed when the test exits.
BLOCK_AUTOLOAD=/etc/modprobe.d/rmdev-mdev-selftest.conf
printf 'blacklist virtio_mdev\nblacklist vhost_mdev\n' >$BLOCK_AUTOLOAD
rmdev_cleanup() { rm -f "$BLOCK_AUTOLOAD"; }

load_parents() {
	modprobe vbus && modprobe rmdev_mdev && modprobe mdev_sample_parent
}

rmdev_begin
