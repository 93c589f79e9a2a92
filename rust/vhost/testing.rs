// SPDX-License-Identifier: GPL-2.0

//! Test support (built with KUnit only): the driver side of a split
//! virtqueue in kernel memory, so KUnit tests of vringh and of device models
//! can feed a device buffers without any transport (as a virtio driver
//! would, virtio 1.3 section 2.7).
//!
//! The ring lives in one kmalloc'd block (physically contiguous, in the
//! linear map), so its I/O virtual addresses are physical addresses and an
//! identity [`Iotlb`](crate::Iotlb) maps it, as the virtio class does.

use crate::vringh::RingAddrs;
use kernel::{
    prelude::*,
    sync::Arc, //
};

unsafe extern "C" {
    /// `virt_to_phys()` (`vhost_helpers.c`).
    fn rmdev_virt_to_phys(p: *mut kernel::ffi::c_void) -> u64;
}

/// Descriptor flag: the chain continues in `next`.
const VIRTQ_DESC_F_NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer.
const VIRTQ_DESC_F_WRITE: u16 = 2;
/// Descriptor flag: the buffer is a table of descriptors.
pub const VIRTQ_DESC_F_INDIRECT: u16 = 4;
/// Descriptor flag: the chain continues in `next` (for hand-made chains).
pub const VIRTQ_DESC_F_NEXT_RAW: u16 = VIRTQ_DESC_F_NEXT;

/// The driver side of a split virtqueue of `num` entries, with a data area
/// for the buffers it makes available.
///
/// Layout of the block: descriptor table (16 bytes per entry), available
/// ring (4 + 2 * num bytes), used ring (4 + 8 * num bytes, 4-aligned), then
/// the data area. Descriptors and data are handed out in order and wrap
/// around: a test keeps fewer than `num` chains in flight.
///
/// A ring handed to a device is attached to it ([`Self::attach`]): dropping
/// the ring first stops the device from using it, so a device never reads
/// freed memory, whatever order a test drops things in.
pub struct DriverRing {
    mem: KVec<u8>,
    num: u16,
    avail: usize,
    used: usize,
    data: usize,
    next_desc: u16,
    next_data: usize,
    avail_idx: u16,
    last_used: u16,
    user: Option<Arc<dyn Detach>>,
}

/// What a device offers a [`DriverRing`] it uses: a way to stop using it.
pub trait Detach: Send + Sync {
    /// Stops every use of the ring's memory (a device reset); returns once
    /// none is in progress.
    fn detach(&self);
}

impl Drop for DriverRing {
    fn drop(&mut self) {
        if let Some(user) = self.user.take() {
            user.detach();
        }
    }
}

impl DriverRing {
    /// A ring of `num` entries (a power of 2) with `data_bytes` bytes of
    /// buffer space, all zero.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `num` is 0 or not a power of 2, `ENOMEM`.
    pub fn new(num: u16, data_bytes: usize) -> Result<Self> {
        if !num.is_power_of_two() {
            return Err(EINVAL);
        }
        let n = usize::from(num);
        let avail = 16 * n;
        let used = (avail + 6 + 2 * n).next_multiple_of(4);
        let data = (used + 6 + 8 * n).next_multiple_of(16);
        let mem = KVec::from_elem(0u8, data + data_bytes, GFP_KERNEL)?;
        Ok(Self {
            mem,
            num,
            avail,
            used,
            data,
            next_desc: 0,
            next_data: data,
            avail_idx: 0,
            last_used: 0,
            user: None,
        })
    }

    /// Records that `user` uses the ring: it is detached before the ring's
    /// memory is freed (and a previous user is detached now).
    pub fn attach(&mut self, user: Arc<dyn Detach>) {
        if let Some(old) = self.user.replace(user) {
            old.detach();
        }
    }

    /// The ring's size in entries.
    pub fn num(&self) -> u16 {
        self.num
    }

    /// `i` modulo the ring size (a power of 2).
    fn wrap(&self, i: u16) -> u16 {
        i & self.num.wrapping_sub(1)
    }

    fn addr(&mut self, off: usize) -> u64 {
        assert!(off < self.mem.len());
        // SAFETY: `off` is inside the block, which is kmalloc'd (linear map).
        unsafe { rmdev_virt_to_phys(self.mem.as_mut_ptr().wrapping_add(off).cast()) }
    }

    /// Where the rings are, for `set_vq_address`.
    pub fn addrs(&mut self) -> RingAddrs {
        RingAddrs {
            desc: self.addr(0),
            avail: self.addr(self.avail),
            used: self.addr(self.used),
        }
    }

    // The device reads and writes the block through its physical address,
    // behind the compiler's back: it is only accessed through raw pointers
    // and volatile accesses, never through references to its bytes.

    fn put(&mut self, off: usize, bytes: &[u8]) {
        assert!(off + bytes.len() <= self.mem.len());
        let base = self.mem.as_mut_ptr();
        for (i, b) in bytes.iter().enumerate() {
            // SAFETY: In bounds (checked above) of the live allocation.
            unsafe { base.add(off + i).write_volatile(*b) };
        }
    }

    fn get(&self, off: usize, out: &mut [u8]) {
        assert!(off + out.len() <= self.mem.len());
        let base = self.mem.as_ptr();
        for (i, o) in out.iter_mut().enumerate() {
            // SAFETY: In bounds (checked above) of the live allocation.
            *o = unsafe { base.add(off + i).read_volatile() };
        }
    }

    fn zero(&mut self, off: usize, len: usize) {
        assert!(off + len <= self.mem.len());
        let base = self.mem.as_mut_ptr();
        for i in 0..len {
            // SAFETY: In bounds (checked above) of the live allocation.
            unsafe { base.add(off + i).write_volatile(0) };
        }
    }

    fn get_u16(&self, off: usize) -> u16 {
        let mut b = [0u8; 2];
        self.get(off, &mut b);
        u16::from_le_bytes(b)
    }

    fn get_u32(&self, off: usize) -> u32 {
        let mut b = [0u8; 4];
        self.get(off, &mut b);
        u32::from_le_bytes(b)
    }

    fn take_data(&mut self, len: usize) -> Result<usize> {
        if self.next_data + len > self.mem.len() {
            self.next_data = self.data;
        }
        if self.next_data + len > self.mem.len() {
            return Err(ENOSPC);
        }
        let off = self.next_data;
        self.next_data += len.next_multiple_of(16);
        Ok(off)
    }

    /// Makes a chain available: device-readable buffers holding `out`,
    /// then device-writable buffers of the lengths `inl` (zeroed). Returns
    /// the chain's head descriptor. The device sees it once kicked.
    ///
    /// # Errors
    ///
    /// `EINVAL` for an empty chain or one longer than the ring, `ENOSPC`
    /// when the data area cannot hold the buffers.
    pub fn add(&mut self, out: &[&[u8]], inl: &[usize]) -> Result<u16> {
        let count = out.len() + inl.len();
        if count == 0 || count > usize::from(self.num) {
            return Err(EINVAL);
        }
        let head = self.next_desc;
        for i in 0..count {
            let d = self.next_desc;
            self.next_desc = self.wrap(d.wrapping_add(1));
            let (off, len, flags) = match out.get(i) {
                Some(o) => {
                    let off = self.take_data(o.len())?;
                    self.put(off, o);
                    (off, o.len(), 0)
                }
                None => {
                    let len = inl[i - out.len()];
                    let off = self.take_data(len)?;
                    self.zero(off, len);
                    (off, len, VIRTQ_DESC_F_WRITE)
                }
            };
            let addr = self.addr(off);
            let more = if i + 1 < count { VIRTQ_DESC_F_NEXT } else { 0 };
            let desc = usize::from(d) * 16;
            self.put(desc, &addr.to_le_bytes());
            self.put(
                desc + 8,
                &u32::try_from(len).map_err(|_| EINVAL)?.to_le_bytes(),
            );
            self.put(desc + 12, &(flags | more).to_le_bytes());
            self.put(desc + 14, &self.next_desc.to_le_bytes());
        }
        self.make_available(head);
        Ok(head)
    }

    /// Takes `len` bytes of the data area, zeroed, for a hand-made chain or
    /// table; returns their I/O virtual address.
    ///
    /// # Errors
    ///
    /// `ENOSPC` when the data area cannot hold them.
    pub fn alloc(&mut self, len: usize) -> Result<u64> {
        let off = self.take_data(len)?;
        self.zero(off, len);
        Ok(self.addr(off))
    }

    /// Writes a 16-byte descriptor at `at` (an address [`Self::alloc`] or
    /// [`Self::desc_table`] gave), whatever it says: for tests of broken
    /// rings.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `at` is not inside the ring's memory.
    pub fn write_desc(&mut self, at: u64, addr: u64, len: u32, flags: u16, next: u16) -> Result {
        let base = self.addr(0);
        let off = usize::try_from(at.checked_sub(base).ok_or(EINVAL)?)?;
        if off.checked_add(16).is_none_or(|end| end > self.mem.len()) {
            return Err(EINVAL);
        }
        self.put(off, &addr.to_le_bytes());
        self.put(off + 8, &len.to_le_bytes());
        self.put(off + 12, &flags.to_le_bytes());
        self.put(off + 14, &next.to_le_bytes());
        Ok(())
    }

    /// The address of descriptor `index` of the ring's own table.
    pub fn desc_table(&mut self, index: u16) -> u64 {
        self.addr(usize::from(self.wrap(index)) * 16)
    }

    /// The buffer address descriptor `index` of the ring's table points to.
    pub fn desc_buffer(&self, index: u16) -> u64 {
        let mut addr = [0u8; 8];
        self.get(usize::from(self.wrap(index)) * 16, &mut addr);
        u64::from_le_bytes(addr)
    }

    /// Makes descriptor `head` available, whatever it holds ([`Self::add`]
    /// fills it first; tests of broken rings give any index).
    pub fn make_available(&mut self, head: u16) {
        let slot = self.avail + 4 + 2 * usize::from(self.wrap(self.avail_idx));
        self.put(slot, &head.to_le_bytes());
        self.avail_idx = self.avail_idx.wrapping_add(1);
        // The index after the entry, as virtio 1.3 section 2.7.13 orders it.
        core::sync::atomic::fence(core::sync::atomic::Ordering::Release);
        self.put(self.avail + 2, &self.avail_idx.to_le_bytes());
    }

    /// Sets the available ring's flags (`VRING_AVAIL_F_NO_INTERRUPT` = 1).
    pub fn set_avail_flags(&mut self, flags: u16) {
        self.put(self.avail, &flags.to_le_bytes());
    }

    /// The next chain the device gave back: `(head, bytes written)`.
    pub fn used(&mut self) -> Option<(u16, u32)> {
        if self.get_u16(self.used + 2) == self.last_used {
            return None;
        }
        core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
        let slot = self.used + 4 + 8 * usize::from(self.wrap(self.last_used));
        let id = u16::try_from(self.get_u32(slot)).ok()?;
        self.last_used = self.last_used.wrapping_add(1);
        Some((id, self.get_u32(slot + 4)))
    }

    /// The used ring's index: how many chains the device gave back in all.
    pub fn used_idx(&self) -> u16 {
        self.get_u16(self.used + 2)
    }

    /// Copies the device-writable buffers of chain `head`, in order, into
    /// `out`; returns the bytes copied.
    pub fn written(&self, head: u16, out: &mut [u8]) -> usize {
        let mut d = usize::from(head);
        let mut n = 0;
        for _ in 0..self.num {
            let desc = d * 16;
            let flags = self.get_u16(desc + 12);
            if flags & VIRTQ_DESC_F_WRITE != 0 {
                let len = self.get_u32(desc + 8) as usize;
                let mut addr = [0u8; 8];
                self.get(desc, &mut addr);
                // Find the buffer by its address: the data area is ours.
                let base = {
                    let p = self.mem.as_ptr().cast_mut();
                    // SAFETY: `p` is the start of the kmalloc'd block.
                    unsafe { rmdev_virt_to_phys(p.cast()) }
                };
                let off = (u64::from_le_bytes(addr) - base) as usize;
                let take = len.min(out.len() - n);
                self.get(off, &mut out[n..n + take]);
                n += take;
            }
            if flags & VIRTQ_DESC_F_NEXT == 0 {
                break;
            }
            d = usize::from(self.get_u16(desc + 14));
        }
        n
    }
}
