// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the mdev crate: static inline functions of the kernel given a
 * symbol so Rust can call them (as rust/helpers/ does for the kernel crate).
 * Exported: the mdev crate's pin-initialisers and inline functions are
 * instantiated in the modules that use them (parents), which then call these.
 */

#include <linux/export.h>
#include <linux/bottom_half.h>
#include <linux/io.h>
#include <linux/vringh.h>

phys_addr_t rmdev_virt_to_phys(void *p);
void rmdev_vringh_kiov_init(struct vringh_kiov *kiov);
void rmdev_vringh_kiov_cleanup(struct vringh_kiov *kiov);
void rmdev_local_bh_disable(void);
void rmdev_local_bh_enable(void);

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
