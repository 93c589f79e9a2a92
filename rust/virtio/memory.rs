// SPDX-License-Identifier: GPL-2.0

//! The identity map of System RAM that the virtio transport gives a device:
//! the kernel's virtio drivers put physical addresses in the rings (see the
//! crate documentation, "Address model").

use kernel::{
    bindings,
    error::to_result,
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
};
use vhost::{
    Iotlb,
    Perm, //
};

/// Adds one System RAM range 1:1, read-write.
///
/// # Safety
///
/// `res` is a valid `struct resource`; `arg` points to the [`Iotlb`] that
/// [`map_system_ram`] passed, alive for the call.
unsafe extern "C" fn add_range(res: *mut bindings::resource, arg: *mut c_void) -> c_int {
    // SAFETY: The caller guarantees both pointers.
    let (iotlb, res) = unsafe { (&*arg.cast::<Iotlb>(), &*res) };
    match iotlb.add_range(res.start, res.end, res.start, Perm::ReadWrite) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Maps every System RAM range of the machine 1:1 in `iotlb` (read-write),
/// as `walk_system_ram_range()` finds them (busy `IORESOURCE_SYSTEM_RAM`
/// resources, [`kernel/resource.c`](srctree/kernel/resource.c)); nothing
/// outside RAM.
///
/// # Errors
///
/// `ENOSPC` when `iotlb` cannot hold the ranges, `ENOMEM`, `EINVAL` when
/// the machine has no System RAM resource. Ranges added before the error
/// stay: the caller resets the IOTLB.
pub(crate) fn map_system_ram(iotlb: &Iotlb) -> Result {
    // SAFETY: `add_range` matches the callback type; `iotlb` outlives the
    // walk, which calls it synchronously.
    to_result(unsafe {
        bindings::walk_iomem_res_desc(
            bindings::IORES_DESC_NONE as usize,
            (bindings::IORESOURCE_SYSTEM_RAM | bindings::IORESOURCE_BUSY) as usize,
            0,
            u64::MAX,
            core::ptr::from_ref(iotlb).cast_mut().cast(),
            Some(add_range),
        )
    })
}
