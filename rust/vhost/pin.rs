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
    fn rmdev_pfn_to_page(pfn: usize) -> *mut core::ffi::c_void;
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

// `unpin_user_page_range_dirty_lock()` over a run needs a contiguous
// memory map (`PinnedRun`).
#[cfg(all(CONFIG_SPARSEMEM, not(CONFIG_SPARSEMEM_VMEMMAP)))]
compile_error!(
    "rmdev pins physically contiguous runs: needs CONFIG_SPARSEMEM_VMEMMAP with SPARSEMEM"
);

/// Physically contiguous pinned pages of one mm: unpinned (and marked
/// dirty when writable) when dropped, and taken off the mm's `pinned_vm`.
/// Kept as a frame range, not a page list, and unpinned with one
/// `unpin_user_page_range_dirty_lock()` from the first frame's page
/// (`vhost_vdpa_pa_unmap()` unpins the frames of an IOTLB entry one by
/// one). That function steps through `struct page`s by pointer, so the
/// memory map must be contiguous across a run: true without
/// `CONFIG_SPARSEMEM` and with `CONFIG_SPARSEMEM_VMEMMAP` (every 64-bit
/// x86 and arm64 kernel); the build refuses the other configurations.
///
/// # Invariants
///
/// The `npages` (at least 1) pages from frame `pfn` each hold one pin taken
/// by [`pin`] and counted in `mm`'s `pinned_vm`.
pub struct PinnedRun {
    mm: ARef<Mm>,
    pfn: usize,
    npages: usize,
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
        (self.npages as u64) << PAGE_SHIFT
    }

    /// Whether the run is empty (never, by the type invariant).
    pub fn is_empty(&self) -> bool {
        self.npages == 0
    }
}

impl Drop for PinnedRun {
    fn drop(&mut self) {
        // SAFETY: The frames are pinned pages (type invariant), so they have
        // a `struct page`, contiguous in the memory map (see the type's
        // documentation); each pin is given back here once.
        unsafe {
            bindings::unpin_user_page_range_dirty_lock(
                rmdev_pfn_to_page(self.pfn).cast(),
                self.npages,
                self.writable,
            )
        };
        // SAFETY: `mm` is held (`mmgrab`); the count was added by `pin`.
        unsafe { rmdev_mm_pinned_add(self.mm.as_raw().cast(), -(self.npages as i64)) };
    }
}

/// Pins `npages` pages of the current task's memory from `uaddr` (page
/// aligned), writable by the device when `writable`, and returns them as
/// physically contiguous runs in address order.
///
/// # Errors
///
/// - `EINVAL`: `npages` is 0, or `uaddr` is not page aligned.
/// - `EINVAL`: the current task has no mm.
/// - `EFAULT`: a page is not mapped (or not writable when `writable`).
/// - `ENOMEM`: `npages` more pinned pages would exceed `RLIMIT_MEMLOCK`, or
///   no memory.
/// - Other errnos of `pin_user_pages()`.
///
/// Nothing stays pinned on error.
pub fn pin(uaddr: u64, npages: usize, writable: bool) -> Result<KVVec<PinnedRun>> {
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
    let mut chunk = KVVec::<*mut bindings::page>::with_capacity(npages.min(CHUNK), GFP_KERNEL)?;
    // Every pin moves into a run as soon as it is taken: on error, dropping
    // the runs gives them back.
    let mut runs = KVVec::<PinnedRun>::new();
    let flags = bindings::FOLL_LONGTERM | if writable { bindings::FOLL_WRITE } else { 0 };
    let mut done = 0;
    while done < npages {
        let n = (npages - done).min(CHUNK);
        let start = uaddr + ((done as u64) << PAGE_SHIFT);
        chunk.clear();
        // SAFETY: Pins from the current task's mm, taking its mmap lock;
        // the array has room for `n` entries (capacity `min(npages,
        // CHUNK)`).
        let got = unsafe {
            bindings::pin_user_pages_unlocked(start as usize, n, chunk.as_mut_ptr(), flags)
        };
        if got <= 0 {
            return Err(if got == 0 {
                EFAULT
            } else {
                Error::from_errno(got as i32)
            });
        }
        let got = got as usize;
        // SAFETY: `pin_user_pages_unlocked()` filled `got` (at most `n`,
        // within the capacity) entries of the chunk, emptied above.
        unsafe { chunk.inc_len(got) };
        // SAFETY: A live mm; the runs below take these pins.
        unsafe { rmdev_mm_pinned_add(mm.as_raw().cast(), got as i64) };
        if runs.reserve(got, GFP_KERNEL | __GFP_NOWARN).is_err() {
            // SAFETY: The chunk's pins, in no run yet, given back once.
            unsafe {
                bindings::unpin_user_pages_dirty_lock(chunk.as_mut_ptr(), got, false);
                rmdev_mm_pinned_add(mm.as_raw().cast(), -(got as i64));
            }
            return Err(ENOMEM);
        }
        for &page in chunk.iter() {
            // SAFETY: A pinned page.
            let pfn = unsafe { rmdev_page_to_pfn(page.cast()) };
            match runs.last_mut() {
                // INVARIANT: The next frame of the run, pinned and counted.
                Some(run) if run.pfn + run.npages == pfn => run.npages += 1,
                // Within the capacity reserved for this chunk.
                _ => {
                    let _ = runs.push_within_capacity(PinnedRun {
                        mm: mm.clone(),
                        pfn,
                        npages: 1,
                        writable,
                    });
                }
            }
        }
        done += got;
    }
    Ok(runs)
}
