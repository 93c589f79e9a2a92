//! The driver's "guest" memory: one anonymous private mapping, laid out by a
//! bump allocator, whose guest addresses *are* the IOVAs the device sees.
//!
//! The region starts at the low end of the device's IOVA range
//! (`VHOST_VDPA_GET_IOVA_RANGE`, 0 on vdpa_sim and on vhost-mdev), so a
//! [`GuestAddress`] written into a descriptor is exactly the IOVA that the
//! IOTLB update messages of [`crate::device::Device::map`] translate back to
//! this process's memory.

use vm_memory::{GuestAddress, GuestMemoryMmap};

use crate::error::{Error, Result};

/// Page size the layout rounds to (x86-64; also the IOTLB granule).
pub const PAGE_SIZE: u64 = 4096;

/// Rounds `v` up to a multiple of `align` (a power of two).
pub const fn align_up(v: u64, align: u64) -> u64 {
    (v + align - 1) & !(align - 1)
}

/// A bump allocator over guest (IOVA) addresses, used to plan the layout
/// before the memory is allocated.
#[derive(Debug)]
pub struct Layout {
    base: u64,
    next: u64,
}

impl Layout {
    /// A layout whose first allocation is at `base` (page aligned up).
    pub fn new(base: u64) -> Self {
        let base = align_up(base, PAGE_SIZE);
        Layout { base, next: base }
    }

    /// Reserves `size` bytes aligned to `align` (a power of two).
    pub fn alloc(&mut self, size: u64, align: u64) -> GuestAddress {
        let at = align_up(self.next, align);
        self.next = at + size;
        GuestAddress(at)
    }

    /// First guest address of the layout.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Size of the layout, in whole pages.
    pub fn size(&self) -> u64 {
        align_up(self.next - self.base, PAGE_SIZE).max(PAGE_SIZE)
    }

    /// Allocates the memory: an anonymous private (`MAP_PRIVATE |
    /// MAP_ANONYMOUS | MAP_NORESERVE`) mapping, zero filled.
    pub fn allocate(&self) -> Result<GuestMemoryMmap> {
        allocate(self.base, self.size())
    }
}

/// Allocates `size` bytes of guest memory at guest address `base`.
pub fn allocate(base: u64, size: u64) -> Result<GuestMemoryMmap> {
    let len = usize::try_from(size)
        .map_err(|_| Error::Setup(format!("{size} bytes of guest memory do not fit usize")))?;
    GuestMemoryMmap::from_ranges(&[(GuestAddress(base), len)]).map_err(|e| {
        Error::Setup(format!(
            "allocating {size} bytes of guest memory at {base:#x}: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_aligns_and_rounds_to_pages() {
        let mut l = Layout::new(1);
        assert_eq!(l.base(), PAGE_SIZE);
        assert_eq!(l.alloc(10, 16), GuestAddress(PAGE_SIZE));
        assert_eq!(l.alloc(4, 16), GuestAddress(PAGE_SIZE + 16));
        assert_eq!(l.size(), PAGE_SIZE);
        l.alloc(PAGE_SIZE, PAGE_SIZE);
        assert_eq!(l.size(), 2 * PAGE_SIZE);
    }
}
