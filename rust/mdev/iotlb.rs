// SPDX-License-Identifier: GPL-2.0

//! The IOTLB of an mdev: the address translation a class driver fills and a
//! device model's virtqueue accesses go through (identity for the virtio
//! class, userspace mappings for the vhost class).
//!
//! C header: [`include/linux/vhost_iotlb.h`](srctree/include/linux/vhost_iotlb.h);
//! used as `drivers/vdpa/vdpa_sim/vdpa_sim.c` uses it.

use crate::bindings;
use core::ptr::NonNull;
use kernel::{error::to_result, prelude::*};

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
/// # Invariants
///
/// `0` was returned by `vhost_iotlb_alloc()` and is freed on drop.
pub struct Iotlb(NonNull<bindings::vhost_iotlb>);

impl Iotlb {
    /// Creates an empty IOTLB holding at most `limit` mappings.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `limit` is 0 (the C IOTLB then refuses every mapping),
    /// `ENOMEM`.
    pub fn new(limit: u32) -> Result<Self> {
        if limit == 0 {
            return Err(EINVAL);
        }
        // SAFETY: No preconditions. Flags 0: a full IOTLB refuses new
        // mappings (`ENOSPC`) rather than retiring old ones.
        let p = unsafe { bindings::vhost_iotlb_alloc(limit, 0) };
        // INVARIANT: non-NULL means allocated.
        NonNull::new(p).map(Self).ok_or(ENOMEM)
    }

    /// Maps `[start, last]` to `addr` with `perm`.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `last < start` (the C function says `EFAULT`; the
    /// vhost uAPI refuses such messages with `EINVAL` before), `ENOSPC` when
    /// the limit is reached, `ENOMEM`.
    pub fn add_range(&mut self, start: u64, last: u64, addr: u64, perm: Perm) -> Result {
        if last < start {
            return Err(EINVAL);
        }
        // SAFETY: By the type invariant the IOTLB is live; `&mut self` gives
        // exclusive access, as the C API requires.
        to_result(unsafe { bindings::vhost_iotlb_add_range(self.0.as_ptr(), start, last, addr, perm as u32) })
    }

    /// Unmaps every mapping that overlaps `[start, last]`.
    pub fn del_range(&mut self, start: u64, last: u64) {
        // SAFETY: Live and exclusively borrowed.
        unsafe { bindings::vhost_iotlb_del_range(self.0.as_ptr(), start, last) }
    }

    /// Translates `iova`: the address it maps to and the mapping's rights,
    /// or `None` when no mapping covers it.
    pub fn translate(&self, iova: u64) -> Option<(u64, Perm)> {
        // SAFETY: The IOTLB is live; shared access only reads the tree, and
        // mutation needs `&mut self`.
        let map = unsafe { bindings::vhost_iotlb_itree_first(self.0.as_ptr(), iova, iova) };
        // SAFETY: A non-NULL result is a live mapping of this IOTLB, which
        // cannot change while `self` is borrowed.
        let map = unsafe { map.as_ref() }?;
        let perm = match map.perm {
            bindings::VHOST_ACCESS_RO => Perm::ReadOnly,
            bindings::VHOST_ACCESS_WO => Perm::WriteOnly,
            _ => Perm::ReadWrite,
        };
        Some((map.addr + (iova - map.start), perm))
    }

    /// Unmaps everything.
    pub fn reset(&mut self) {
        // SAFETY: Live and exclusively borrowed.
        unsafe { bindings::vhost_iotlb_reset(self.0.as_ptr()) }
    }
}

impl Drop for Iotlb {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the IOTLB is live and ours.
        unsafe { bindings::vhost_iotlb_free(self.0.as_ptr()) }
    }
}

// SAFETY: An IOTLB may be used and freed from any thread; mutation needs
// `&mut`, so shared references only read.
unsafe impl Send for Iotlb {}
// SAFETY: See above.
unsafe impl Sync for Iotlb {}

#[kernel::macros::kunit_tests(rmdev_iotlb)]
mod tests {
    use super::*;

    #[test]
    fn translate_within_and_outside() {
        let mut t = Iotlb::new(16).unwrap();
        assert_eq!(t.add_range(0x1000, 0x1fff, 0x10000, Perm::ReadWrite), Ok(()));
        assert_eq!(t.translate(0x1000), Some((0x10000, Perm::ReadWrite)));
        assert_eq!(t.translate(0x1800), Some((0x10800, Perm::ReadWrite)));
        assert_eq!(t.translate(0x1fff), Some((0x10fff, Perm::ReadWrite)));
        assert_eq!(t.translate(0x0fff), None);
        assert_eq!(t.translate(0x2000), None);
    }

    #[test]
    fn permissions_are_kept() {
        let mut t = Iotlb::new(16).unwrap();
        assert_eq!(t.add_range(0, 0xfff, 0, Perm::ReadOnly), Ok(()));
        assert_eq!(t.add_range(0x1000, 0x1fff, 0x1000, Perm::WriteOnly), Ok(()));
        assert_eq!(t.translate(0x10).map(|m| m.1), Some(Perm::ReadOnly));
        assert_eq!(t.translate(0x1010).map(|m| m.1), Some(Perm::WriteOnly));
    }

    #[test]
    fn bad_ranges_and_limits() {
        assert_eq!(Iotlb::new(0).err(), Some(EINVAL));
        let mut t = Iotlb::new(1).unwrap();
        assert_eq!(t.add_range(0x2000, 0x1000, 0, Perm::ReadWrite), Err(EINVAL));
        assert_eq!(t.add_range(0, 0xfff, 0, Perm::ReadWrite), Ok(()));
        assert_eq!(t.add_range(0x1000, 0x1fff, 0, Perm::ReadWrite), Err(ENOSPC));
    }

    #[test]
    fn del_and_reset() {
        let mut t = Iotlb::new(16).unwrap();
        assert_eq!(t.add_range(0, 0xfff, 0x5000, Perm::ReadWrite), Ok(()));
        assert_eq!(t.add_range(0x1000, 0x1fff, 0x6000, Perm::ReadWrite), Ok(()));
        t.del_range(0, 0xfff);
        assert_eq!(t.translate(0x10), None);
        assert_eq!(t.translate(0x1010), Some((0x6010, Perm::ReadWrite)));
        t.reset();
        assert_eq!(t.translate(0x1010), None);
    }
}
