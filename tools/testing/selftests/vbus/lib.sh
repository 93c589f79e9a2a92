# SPDX-License-Identifier: GPL-2.0
# Helpers of the vbus kselftests. Sourced.

. "$(dirname "$0")/rmdev.sh"

BUS=/sys/bus/vbus
DRV=$BUS/drivers/vbus_sample_driver
MODS="vbus_sample_driver vbus_sample_provider vbus"

# Number of devices on the bus / bound to the sample driver.
ndevs() { find "$BUS/devices/" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
nbound() { find "$DRV/" -mindepth 1 -maxdepth 1 -name 'rmdev_sample.*' 2>/dev/null | wc -l; }

# state: everything a bad input must leave as it was.
state() {
	local d
	for d in "$BUS"/devices/*; do
		[ -e "$d" ] || continue
		printf '%s %s %s\n' "${d##*/}" \
			"$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)" \
			"$(cat "$d/driver_override")"
	done
	ls "$BUS/drivers"
}

# Keep udev from loading the sample driver on its own (by modalias), so that
# the tests decide when it loads; explicit `modprobe vbus_sample_driver` works.
# vbus_autoload.sh lifts this. Removed when the test exits.
BLOCK_AUTOLOAD=/etc/modprobe.d/rmdev-selftest.conf
echo "blacklist vbus_sample_driver" >$BLOCK_AUTOLOAD
rmdev_cleanup() { rm -f "$BLOCK_AUTOLOAD"; }

rmdev_begin
