// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the vbus crate: static inline functions of the driver core,
 * given a symbol so Rust can call them (as rust/helpers/ does for the kernel
 * crate). Used only inside vbus.ko, hence not exported.
 */

#include <linux/device.h>

int rmdev_vbus_match_driver_override(struct device *dev,
				     const struct device_driver *drv);

int rmdev_vbus_match_driver_override(struct device *dev,
				     const struct device_driver *drv)
{
	return device_match_driver_override(dev, drv);
}
