// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the vhost crate: static inline functions of the kernel given a
 * symbol so Rust can call them (as rust/helpers/ does for the kernel crate).
 * Exported: the crate's small functions are inlined across crates into the
 * modules that use them (parents), which then call these.
 */

#include <linux/export.h>
#include <linux/io.h>
#include <linux/vringh.h>

phys_addr_t rmdev_virt_to_phys(void *p);
void rmdev_vringh_kiov_init(struct vringh_kiov *kiov);
void rmdev_vringh_kiov_cleanup(struct vringh_kiov *kiov);

phys_addr_t rmdev_virt_to_phys(void *p)
{
	return virt_to_phys(p);
}
EXPORT_SYMBOL_GPL(rmdev_virt_to_phys);

void rmdev_vringh_kiov_init(struct vringh_kiov *kiov)
{
	vringh_kiov_init(kiov, NULL, 0);
}
EXPORT_SYMBOL_GPL(rmdev_vringh_kiov_init);

void rmdev_vringh_kiov_cleanup(struct vringh_kiov *kiov)
{
	vringh_kiov_cleanup(kiov);
}
EXPORT_SYMBOL_GPL(rmdev_vringh_kiov_cleanup);
