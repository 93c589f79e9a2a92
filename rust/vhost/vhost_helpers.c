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

/* Page pinning for the vhost class driver (pin.rs). */
#include <linux/mm.h>
#include <linux/sched/signal.h>

unsigned long rmdev_page_to_pfn(struct page *page);
struct page *rmdev_pfn_to_page(unsigned long pfn);
unsigned long rmdev_memlock_limit_pages(void);
s64 rmdev_mm_pinned_vm(struct mm_struct *mm);
void rmdev_mm_pinned_add(struct mm_struct *mm, s64 pages);

unsigned long rmdev_page_to_pfn(struct page *page)
{
	return page_to_pfn(page);
}
EXPORT_SYMBOL_GPL(rmdev_page_to_pfn);

struct page *rmdev_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
}
EXPORT_SYMBOL_GPL(rmdev_pfn_to_page);

/* RLIMIT_MEMLOCK of the current task, in pages (as vhost_vdpa_pa_map()). */
unsigned long rmdev_memlock_limit_pages(void)
{
	return PFN_DOWN(rlimit(RLIMIT_MEMLOCK));
}
EXPORT_SYMBOL_GPL(rmdev_memlock_limit_pages);

s64 rmdev_mm_pinned_vm(struct mm_struct *mm)
{
	return atomic64_read(&mm->pinned_vm);
}
EXPORT_SYMBOL_GPL(rmdev_mm_pinned_vm);

void rmdev_mm_pinned_add(struct mm_struct *mm, s64 pages)
{
	atomic64_add(pages, &mm->pinned_vm);
}
EXPORT_SYMBOL_GPL(rmdev_mm_pinned_add);

/*
 * current->mm, read in C: on gcc-built kernels without CONFIG_SCHEDSTATS the
 * Rust bindings of struct task_struct misplace every field after `stats`
 * (bindgen drops the alignment of the empty ____cacheline_aligned struct
 * sched_statistics), so the kernel crate's Task::mm() reads the wrong word.
 */
struct mm_struct *rmdev_current_mm(void);

struct mm_struct *rmdev_current_mm(void)
{
	return current->mm;
}
EXPORT_SYMBOL_GPL(rmdev_current_mm);

/* Polling an eventfd for kicks (eventfd.rs). */
#include <linux/poll.h>

__poll_t rmdev_vfs_poll(struct file *file, struct poll_table_struct *pt);

__poll_t rmdev_vfs_poll(struct file *file, struct poll_table_struct *pt)
{
	return vfs_poll(file, pt);
}
EXPORT_SYMBOL_GPL(rmdev_vfs_poll);
