// SPDX-License-Identifier: GPL-2.0

//! The IOTLB of a device model: the address translation a class driver
//! fills and the device model's virtqueue accesses go through (identity for the virtio
//! class, userspace mappings for the vhost class).
//!
//! C header: [`include/linux/vhost_iotlb.h`](srctree/include/linux/vhost_iotlb.h);
//! used as `drivers/vdpa/vdpa_sim/vdpa_sim.c` uses it.

use crate::bindings;
use core::{
    pin::Pin,
    ptr::NonNull, //
};
use kernel::{
    error::to_result,
    prelude::*,
    types::Opaque, //
};

/// Access rights of a mapping (`VHOST_ACCESS_*` of `uapi/linux/vhost_types.h`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum Perm {
    /// The device may read.
    ReadOnly = bindings::VHOST_ACCESS_RO,
    /// The device may write.
    WriteOnly = bindings::VHOST_ACCESS_WO,
    /// The device may read and write.
    ReadWrite = bindings::VHOST_ACCESS_RW,
}

/// An IOTLB: ranges `[start, last]` of I/O virtual addresses (bytes,
/// inclusive), each mapped to an address with a [`Perm`]. Ranges may
/// overlap; a lookup finds the lowest one that covers the address.
///
/// It carries the spinlock that vringh takes around its lookups, and takes
/// it around every change, so one IOTLB can be shared (`Arc<Iotlb>`) by the
/// class driver that fills it and the device model whose virtqueues read
/// through it.
///
/// # Invariants
///
/// - `raw` was returned by `vhost_iotlb_alloc()` and is freed on drop.
/// - `lock` is an initialised spinlock; `raw` is only touched under it.
#[pin_data(PinnedDrop)]
pub struct Iotlb {
    raw: NonNull<bindings::vhost_iotlb>,
    #[pin]
    lock: Opaque<kernel::bindings::spinlock_t>,
}

impl Iotlb {
    /// Creates an empty IOTLB holding at most `limit` mappings.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `limit` is 0 (the C IOTLB then refuses every mapping),
    /// `ENOMEM`.
    pub fn new(limit: u32) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            raw: {
                if limit == 0 {
                    return Err(EINVAL);
                }
                // SAFETY: No preconditions. Flags 0: a full IOTLB refuses new
                // mappings (`ENOSPC`) rather than retiring old ones.
                NonNull::new(unsafe { bindings::vhost_iotlb_alloc(limit, 0) }).ok_or(ENOMEM)?
            },
            // SAFETY: `slot` is valid for writes; the name and class are static.
            lock <- Opaque::ffi_init(|slot| unsafe {
                kernel::bindings::__spin_lock_init(
                    slot,
                    c"rmdev_iotlb".as_char_ptr(),
                    kernel::static_lock_class!().as_ptr(),
                )
            }),
        })
    }

    /// Runs `f` on the raw IOTLB under its lock.
    fn locked<R>(&self, f: impl FnOnce(*mut bindings::vhost_iotlb) -> R) -> R {
        // SAFETY: By the type invariant the lock is initialised.
        unsafe { kernel::bindings::spin_lock(self.lock.get()) };
        let r = f(self.raw.as_ptr());
        // SAFETY: Taken above.
        unsafe { kernel::bindings::spin_unlock(self.lock.get()) };
        r
    }

    /// Maps `[start, last]` to `addr` with `perm`.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `last < start` (the C function says `EFAULT`; the
    /// vhost uAPI refuses such messages with `EINVAL` before), `ENOSPC` when
    /// the limit is reached, `ENOMEM`.
    pub fn add_range(&self, start: u64, last: u64, addr: u64, perm: Perm) -> Result {
        if last < start {
            return Err(EINVAL);
        }
        self.locked(|t| {
            // SAFETY: The IOTLB is live and we hold its lock.
            to_result(unsafe { bindings::vhost_iotlb_add_range(t, start, last, addr, perm as u32) })
        })
    }

    /// Unmaps every mapping that overlaps `[start, last]`.
    pub fn del_range(&self, start: u64, last: u64) {
        // SAFETY: The IOTLB is live and we hold its lock.
        self.locked(|t| unsafe { bindings::vhost_iotlb_del_range(t, start, last) })
    }

    /// Translates `iova`: the address it maps to and the mapping's rights,
    /// or `None` when no mapping covers it.
    pub fn translate(&self, iova: u64) -> Option<(u64, Perm)> {
        self.locked(|t| {
            // SAFETY: The IOTLB is live and we hold its lock.
            let map = unsafe { bindings::vhost_iotlb_itree_first(t, iova, iova) };
            // SAFETY: A non-NULL result is a live mapping, stable under the lock.
            let map = unsafe { map.as_ref() }?;
            let perm = match map.perm {
                bindings::VHOST_ACCESS_RO => Perm::ReadOnly,
                bindings::VHOST_ACCESS_WO => Perm::WriteOnly,
                _ => Perm::ReadWrite,
            };
            Some((map.addr + (iova - map.start), perm))
        })
    }

    /// Unmaps everything.
    pub fn reset(&self) {
        // SAFETY: The IOTLB is live and we hold its lock.
        self.locked(|t| unsafe { bindings::vhost_iotlb_reset(t) })
    }

    /// The raw IOTLB and its lock, for vringh.
    pub(crate) fn as_raw(
        &self,
    ) -> (
        *mut bindings::vhost_iotlb,
        *mut kernel::bindings::spinlock_t,
    ) {
        (self.raw.as_ptr(), self.lock.get())
    }
}

#[pinned_drop]
impl PinnedDrop for Iotlb {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the IOTLB is live and ours; nobody
        // else can hold the lock while we are dropped.
        unsafe { bindings::vhost_iotlb_free(self.raw.as_ptr()) }
    }
}

// SAFETY: The IOTLB is only touched under its spinlock, from any thread.
unsafe impl Send for Iotlb {}
// SAFETY: See above.
unsafe impl Sync for Iotlb {}

#[kernel::macros::kunit_tests(rmdev_iotlb)]
mod tests {
    use super::*;

    #[test]
    fn translate_within_and_outside() -> Result {
        let t = KBox::pin_init(Iotlb::new(16), GFP_KERNEL)?;
        assert_eq!(
            t.add_range(0x1000, 0x1fff, 0x10000, Perm::ReadWrite),
            Ok(())
        );
        assert_eq!(t.translate(0x1000), Some((0x10000, Perm::ReadWrite)));
        assert_eq!(t.translate(0x1800), Some((0x10800, Perm::ReadWrite)));
        assert_eq!(t.translate(0x1fff), Some((0x10fff, Perm::ReadWrite)));
        assert_eq!(t.translate(0x0fff), None);
        assert_eq!(t.translate(0x2000), None);
        Ok(())
    }

    #[test]
    fn permissions_are_kept() -> Result {
        let t = KBox::pin_init(Iotlb::new(16), GFP_KERNEL)?;
        assert_eq!(t.add_range(0, 0xfff, 0, Perm::ReadOnly), Ok(()));
        assert_eq!(t.add_range(0x1000, 0x1fff, 0x1000, Perm::WriteOnly), Ok(()));
        assert_eq!(t.translate(0x10).map(|m| m.1), Some(Perm::ReadOnly));
        assert_eq!(t.translate(0x1010).map(|m| m.1), Some(Perm::WriteOnly));
        Ok(())
    }

    #[test]
    fn bad_ranges_and_limits() -> Result {
        assert_eq!(
            KBox::pin_init(Iotlb::new(0), GFP_KERNEL).err(),
            Some(EINVAL)
        );
        let t = KBox::pin_init(Iotlb::new(1), GFP_KERNEL)?;
        assert_eq!(t.add_range(0x2000, 0x1000, 0, Perm::ReadWrite), Err(EINVAL));
        assert_eq!(t.add_range(0, 0xfff, 0, Perm::ReadWrite), Ok(()));
        assert_eq!(t.add_range(0x1000, 0x1fff, 0, Perm::ReadWrite), Err(ENOSPC));
        Ok(())
    }

    #[test]
    fn del_and_reset() -> Result {
        let t = KBox::pin_init(Iotlb::new(16), GFP_KERNEL)?;
        assert_eq!(t.add_range(0, 0xfff, 0x5000, Perm::ReadWrite), Ok(()));
        assert_eq!(t.add_range(0x1000, 0x1fff, 0x6000, Perm::ReadWrite), Ok(()));
        t.del_range(0, 0xfff);
        assert_eq!(t.translate(0x10), None);
        assert_eq!(t.translate(0x1010), Some((0x6010, Perm::ReadWrite)));
        t.reset();
        assert_eq!(t.translate(0x1010), None);
        Ok(())
    }
}
