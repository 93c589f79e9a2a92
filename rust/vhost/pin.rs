// SPDX-License-Identifier: GPL-2.0

//! User pages pinned for a device, as vhost-vdpa pins them for parents
//! without `use_va` (`vhost_vdpa_pa_map()` and `vhost_vdpa_pa_unmap()` in
//! [`drivers/vhost/vdpa.c`](srctree/drivers/vhost/vdpa.c)):
//! `pin_user_pages(FOLL_LONGTERM)`, writable only when the device may
//! write, counted in the mm's `pinned_vm` against `RLIMIT_MEMLOCK` (no
//! capability bypasses it, as in mainline), and handed out as physically
//! contiguous [`PinnedRun`]s, one IOTLB entry each.

use kernel::{
    alloc::flags::__GFP_NOWARN,
    bindings,
    mm::Mm,
    page::PAGE_SHIFT,
    prelude::*,
    sync::aref::ARef, //
};

extern "C" {
    // `vhost_helpers.c`; opaque pointers (`struct page *`, `struct
    // mm_struct *`).
    fn rmdev_page_to_pfn(page: *mut core::ffi::c_void) -> usize;
    fn rmdev_memlock_limit_pages() -> usize;
    fn rmdev_mm_pinned_vm(mm: *mut core::ffi::c_void) -> i64;
    fn rmdev_mm_pinned_add(mm: *mut core::ffi::c_void, pages: i64);
    fn rmdev_current_mm() -> *mut core::ffi::c_void;
}

/// The current task's mm, or `None` for a kernel thread.
///
/// Read in C (`rmdev_current_mm()`): with this kernel's config (gcc, no
/// `CONFIG_SCHEDSTATS`) the Rust layout of `struct task_struct` is off by
/// 48 bytes after its empty, cache-aligned `stats`, so the kernel crate's
/// `current!().mm()` returns a pointer into the task itself.
fn current_mm_raw() -> Option<*mut bindings::mm_struct> {
    // SAFETY: Reads `current->mm`, always valid to read.
    let mm = unsafe { rmdev_current_mm() }.cast::<bindings::mm_struct>();
    (!mm.is_null()).then_some(mm)
}

/// A reference (`mmgrab`) on the current task's mm: the owner of a device
/// (`VHOST_SET_OWNER`).
///
/// # Errors
///
/// `EINVAL` for a kernel thread (no mm).
pub fn current_mm() -> Result<ARef<Mm>> {
    let mm = current_mm_raw().ok_or(EINVAL)?;
    // SAFETY: The current task's mm lives while the task runs this; the
    // `ARef` takes its own reference (`mmgrab`) before returning.
    Ok(ARef::from(unsafe { Mm::from_raw(mm) }))
}

/// Whether `mm` is the current task's mm (`vhost_dev_check_owner()`).
pub fn is_current_mm(mm: &Mm) -> bool {
    current_mm_raw() == Some(mm.as_raw())
}

/// Pages pinned per `pin_user_pages()` call (as vhost-vdpa's one-page list).
const CHUNK: usize = 512;

/// Physically contiguous pinned pages of one mm: unpinned (and marked
/// dirty when writable) when dropped, and taken off the mm's `pinned_vm`.
///
/// # Invariants
///
/// Each of `pages` holds one pin taken by [`pin`] and counted in `mm`'s
/// `pinned_vm`; `pfn` is the frame number of the first, and the others
/// follow it.
pub struct PinnedRun {
    mm: ARef<Mm>,
    pages: KVVec<*mut bindings::page>,
    pfn: usize,
    writable: bool,
}

// SAFETY: The pins belong to no thread; unpinning and `pinned_vm` are
// thread-safe.
unsafe impl Send for PinnedRun {}
// SAFETY: No `&self` method touches the pages.
unsafe impl Sync for PinnedRun {}

impl PinnedRun {
    /// The physical address of the first byte.
    pub fn phys(&self) -> u64 {
        (self.pfn as u64) << PAGE_SHIFT
    }

    /// The length in bytes.
    pub fn len(&self) -> u64 {
        (self.pages.len() as u64) << PAGE_SHIFT
    }

    /// Whether the run is empty (never, for a run of [`pin`]).
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }
}

impl Drop for PinnedRun {
    fn drop(&mut self) {
        let n = self.pages.len();
        // SAFETY: Each page holds a pin of ours (type invariant), given
        // back here once.
        unsafe { bindings::unpin_user_pages_dirty_lock(self.pages.as_mut_ptr(), n, self.writable) };
        // SAFETY: `mm` is held (`mmgrab`); the count was added by `pin`.
        unsafe { rmdev_mm_pinned_add(self.mm.as_raw().cast(), -(n as i64)) };
    }
}

/// Pins `npages` pages of the current task's memory from `uaddr` (page
/// aligned), writable by the device when `writable`, and returns them as
/// physically contiguous runs in address order.
///
/// # Errors
///
/// - `EINVAL`: `npages` is 0, or `uaddr` is not page aligned.
/// - `EFAULT`: the current task has no mm, or a page is not mapped (or not
///   writable when `writable`).
/// - `ENOMEM`: `npages` more pinned pages would exceed `RLIMIT_MEMLOCK`, or
///   no memory.
/// - Other errnos of `pin_user_pages()`.
///
/// Nothing stays pinned on error.
pub fn pin(uaddr: u64, npages: usize, writable: bool) -> Result<KVec<PinnedRun>> {
    if npages == 0 || uaddr & ((1 << PAGE_SHIFT) - 1) != 0 {
        return Err(EINVAL);
    }
    let mm = current_mm()?;
    // SAFETY: Reads the current task's rlimit and a live mm's counter.
    let (limit, pinned) = unsafe {
        (
            rmdev_memlock_limit_pages(),
            rmdev_mm_pinned_vm(mm.as_raw().cast()),
        )
    };
    // Checked before pinning, not under the mmap lock as mainline: two
    // concurrent pins of one mm may both pass (by at most one update each).
    if npages as u64 + pinned.max(0) as u64 > limit as u64 {
        return Err(ENOMEM);
    }
    // Sized by the request, within the limit: no warning for an absurd one
    // under an unlimited RLIMIT_MEMLOCK (`ENOMEM`).
    let mut pages = KVVec::<*mut bindings::page>::with_capacity(npages, GFP_KERNEL | __GFP_NOWARN)?;
    let flags = bindings::FOLL_LONGTERM | if writable { bindings::FOLL_WRITE } else { 0 };
    while pages.len() < npages {
        let n = (npages - pages.len()).min(CHUNK);
        let start = uaddr + ((pages.len() as u64) << PAGE_SHIFT);
        // SAFETY: Pins from the current task's mm, taking its mmap lock;
        // the array has room for `n` more entries (capacity `npages`).
        let got = unsafe {
            bindings::pin_user_pages_unlocked(
                start as usize,
                n,
                pages.as_mut_ptr().add(pages.len()),
                flags,
            )
        };
        if got <= 0 {
            // SAFETY: The pages pinned so far, given back once.
            unsafe {
                bindings::unpin_user_pages_dirty_lock(pages.as_mut_ptr(), pages.len(), false)
            };
            return Err(if got == 0 {
                EFAULT
            } else {
                Error::from_errno(got as i32)
            });
        }
        // SAFETY: `pin_user_pages_unlocked()` filled `got` (at most `n`)
        // entries.
        unsafe { pages.inc_len(got as usize) };
    }
    // SAFETY: A live mm.
    unsafe { rmdev_mm_pinned_add(mm.as_raw().cast(), npages as i64) };
    split_runs(mm, pages, writable)
}

/// Cuts pinned pages into physically contiguous runs. On error every page
/// is given back: nothing moves out of `rest` before every allocation is
/// done.
fn split_runs(
    mm: ARef<Mm>,
    pages: KVVec<*mut bindings::page>,
    writable: bool,
) -> Result<KVec<PinnedRun>> {
    // Owns every page until the pins move to the runs: dropping it unpins.
    let mut rest = PinnedRun {
        mm: mm.clone(),
        pages,
        pfn: 0,
        writable,
    };
    // The runs: (first page, end, first pfn).
    let mut bounds = KVec::<(usize, usize, usize)>::new();
    let mut first = 0;
    let mut first_pfn = 0;
    let mut prev = 0;
    for (i, &page) in rest.pages.iter().enumerate() {
        // SAFETY: A pinned page.
        let pfn = unsafe { rmdev_page_to_pfn(page.cast()) };
        if i == 0 {
            first_pfn = pfn;
        } else if pfn != prev + 1 {
            bounds.push((first, i, first_pfn), GFP_KERNEL)?;
            first = i;
            first_pfn = pfn;
        }
        prev = pfn;
    }
    bounds.push((first, rest.pages.len(), first_pfn), GFP_KERNEL)?;
    let mut lists = KVec::with_capacity(bounds.len(), GFP_KERNEL)?;
    for &(first, end, _) in bounds.iter() {
        lists.push(KVVec::with_capacity(end - first, GFP_KERNEL)?, GFP_KERNEL)?;
    }
    let mut runs = KVec::with_capacity(bounds.len(), GFP_KERNEL)?;
    // Nothing fails from here: every push is within capacity.
    for (&(first, end, pfn), mut list) in bounds.iter().zip(lists.drain_all()) {
        for &page in &rest.pages[first..end] {
            let _ = list.push_within_capacity(page);
        }
        let _ = runs.push_within_capacity(PinnedRun {
            mm: mm.clone(),
            pages: list,
            pfn,
            writable,
        });
    }
    // INVARIANT: Every pin moved to a run; `rest` keeps none and counts
    // none (its drop subtracts its length: 0).
    rest.pages.truncate(0);
    Ok(runs)
}
