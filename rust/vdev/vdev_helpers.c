// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the vdev crate: static inline functions of the kernel given a
 * symbol so Rust can call them (as rust/helpers/ does for the kernel crate).
 * Exported: the crate's generic device core is instantiated in the parent
 * modules, which then call these.
 */

#include <linux/export.h>
#include <linux/bottom_half.h>

void rmdev_local_bh_disable(void);
void rmdev_local_bh_enable(void);

void rmdev_local_bh_disable(void)
{
	local_bh_disable();
}
EXPORT_SYMBOL_GPL(rmdev_local_bh_disable);

void rmdev_local_bh_enable(void)
{
	local_bh_enable();
}
EXPORT_SYMBOL_GPL(rmdev_local_bh_enable);
