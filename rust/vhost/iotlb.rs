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

    /// Maps `[start, last]` to `[addr, addr + (last - start)]` with `perm`.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `last < start` (the C function says `EFAULT`; the
    /// vhost uAPI refuses such messages with `EINVAL` before) or when the
    /// target range wraps past the end of the address space (the C function
    /// takes it, and every translation into it would overflow); `ENOSPC`
    /// when the limit is reached, `ENOMEM`.
    pub fn add_range(&self, start: u64, last: u64, addr: u64, perm: Perm) -> Result {
        if last < start || addr.checked_add(last - start).is_none() {
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
            // Cannot overflow: `add_range` refuses targets that wrap, and
            // the lookup gives a mapping with `start <= iova <= last`.
            let offset = iova.checked_sub(map.start)?;
            Some((map.addr.checked_add(offset)?, perm))
        })
    }

    /// Whether every byte of `[iova, iova + len)` is mapped with a right to
    /// read it (`write` false) or to write it (`write` true), across as many
    /// mappings as it takes. An empty range is covered.
    pub fn covers(&self, iova: u64, len: u64, write: bool) -> bool {
        if len == 0 {
            return true;
        }
        let Some(last) = iova.checked_add(len - 1) else {
            return false;
        };
        let need = if write {
            bindings::VHOST_ACCESS_WO
        } else {
            bindings::VHOST_ACCESS_RO
        };
        self.locked(|t| {
            let mut at = iova;
            loop {
                // SAFETY: The IOTLB is live and we hold its lock.
                let map = unsafe { bindings::vhost_iotlb_itree_first(t, at, at) };
                // SAFETY: A non-NULL result is a live mapping, stable under the lock.
                let Some(map) = (unsafe { map.as_ref() }) else {
                    return false;
                };
                if map.perm & need == 0 {
                    return false;
                }
                if map.last >= last {
                    return true;
                }
                // `map.last < last <= u64::MAX`: no overflow.
                at = map.last + 1;
            }
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
    fn target_ranges_that_wrap_are_einval() -> Result {
        let t = KBox::pin_init(Iotlb::new(16), GFP_KERNEL)?;
        assert_eq!(
            t.add_range(0x1000, 0x1fff, u64::MAX - 0x10, Perm::ReadWrite),
            Err(EINVAL)
        );
        assert_eq!(t.add_range(0, u64::MAX, 1, Perm::ReadWrite), Err(EINVAL));
        assert_eq!(t.translate(0x1fff), None);
        // The last page of the address space, mapped to itself, is fine.
        assert_eq!(
            t.add_range(0, 0xfff, u64::MAX - 0xfff, Perm::ReadOnly),
            Ok(())
        );
        assert_eq!(t.translate(0xfff), Some((u64::MAX, Perm::ReadOnly)));
        Ok(())
    }

    #[test]
    fn covers_checks_every_byte_and_the_right() -> Result {
        let t = KBox::pin_init(Iotlb::new(16), GFP_KERNEL)?;
        assert_eq!(
            t.add_range(0x1000, 0x1fff, 0x10000, Perm::ReadWrite),
            Ok(())
        );
        assert_eq!(t.add_range(0x2000, 0x2fff, 0x30000, Perm::ReadOnly), Ok(()));
        assert!(t.covers(0x1000, 0x2000, false));
        assert!(!t.covers(0x1000, 0x2000, true));
        assert!(t.covers(0x1800, 0x800, true));
        assert!(!t.covers(0x1800, 0x1801, false)); // one byte past 0x2fff
        assert!(!t.covers(0xfff, 2, false));
        assert!(t.covers(0x5000, 0, true));
        assert!(!t.covers(u64::MAX, 2, false));
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
