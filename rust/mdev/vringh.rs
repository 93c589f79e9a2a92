// SPDX-License-Identifier: GPL-2.0

//! The device side of a split virtqueue, through the kernel's vringh over an
//! [`Iotlb`]: what device models use to take buffers from a driver and give
//! them back, exactly as `drivers/vdpa/vdpa_sim/` does.
//!
//! C header: [`include/linux/vringh.h`](srctree/include/linux/vringh.h);
//! the ring layout is virtio 1.3 section 2.7 ("Split Virtqueues").

use crate::{bindings, iotlb::Iotlb};
use core::pin::Pin;
use kernel::{error::to_result, prelude::*, sync::Arc, types::Opaque};

unsafe extern "C" {
    /// `vringh_kiov_init(kiov, NULL, 0)` (`mdev_helpers.c`).
    fn rmdev_vringh_kiov_init(kiov: *mut bindings::vringh_kiov);
    /// `vringh_kiov_cleanup()` (`mdev_helpers.c`).
    fn rmdev_vringh_kiov_cleanup(kiov: *mut bindings::vringh_kiov);
}

/// Where a split ring lives: I/O virtual addresses, translated by the IOTLB.
#[derive(Clone, Copy, Debug)]
pub struct RingAddrs {
    /// Descriptor table (16 bytes per entry).
    pub desc: u64,
    /// Available ring ("driver area").
    pub avail: u64,
    /// Used ring ("device area").
    pub used: u64,
}

/// The device side of one split virtqueue.
///
/// # Invariants
///
/// `vrh` was set up by `vringh_init_iotlb()` with `iotlb`'s IOTLB and lock;
/// `riov` and `wiov` are initialised kiovs, cleaned up on drop.
#[pin_data(PinnedDrop)]
pub struct Vringh {
    #[pin]
    vrh: Opaque<bindings::vringh>,
    #[pin]
    riov: Opaque<bindings::vringh_kiov>,
    #[pin]
    wiov: Opaque<bindings::vringh_kiov>,
    iotlb: Arc<Iotlb>,
}

impl Vringh {
    /// Sets up a split virtqueue of `num` entries (a power of 2, at most
    /// 32768) at `addrs`, for a driver that negotiated `features`.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `num` is not a power of 2 or too large.
    pub fn new(features: u64, num: u32, addrs: RingAddrs, iotlb: Arc<Iotlb>) -> impl PinInit<Self, Error> {
        let (raw_iotlb, lock) = iotlb.as_raw();
        try_pin_init!(Self {
            // SAFETY: `slot` is valid for writes. The ring pointers are I/O
            // virtual addresses that vringh only uses through the IOTLB set
            // right after; the IOTLB and its lock live as long as `self`
            // (the `Arc` below).
            vrh <- Opaque::try_ffi_init(|slot: *mut bindings::vringh| unsafe {
                to_result(bindings::vringh_init_iotlb(
                    slot,
                    features,
                    num,
                    false,
                    addrs.desc as usize as *mut _,
                    addrs.avail as usize as *mut _,
                    addrs.used as usize as *mut _,
                ))?;
                bindings::vringh_set_iotlb(slot, raw_iotlb, lock);
                Ok::<(), Error>(())
            }),
            // SAFETY: `slot` is valid for writes.
            riov <- Opaque::ffi_init(|slot| unsafe { rmdev_vringh_kiov_init(slot) }),
            // SAFETY: `slot` is valid for writes.
            wiov <- Opaque::ffi_init(|slot| unsafe { rmdev_vringh_kiov_init(slot) }),
            iotlb,
        })
    }

    /// Takes the next available descriptor chain: `Some(head)`, or `None`
    /// when the driver made none available. Its readable part is then read
    /// with [`Self::read`], its writable part written with [`Self::write`],
    /// and the chain given back with [`Self::complete`].
    ///
    /// # Errors
    ///
    /// `EINVAL` when the rings or a buffer lie outside the IOTLB (vringh's
    /// `iotlb_translate()`), `EFAULT` for a malformed chain (loops, bad
    /// indices), `ENOMEM`.
    pub fn next(self: Pin<&mut Self>) -> Result<Option<u16>> {
        let mut head: u16 = 0;
        // SAFETY: By the type invariant all three are initialised; `&mut`
        // gives exclusive access; vringh takes the IOTLB lock itself.
        let ret = unsafe {
            bindings::vringh_getdesc_iotlb(self.vrh.get(), self.riov.get(), self.wiov.get(), &mut head, kernel::bindings::GFP_KERNEL)
        };
        match ret {
            0 => Ok(None),
            r if r < 0 => Err(Error::from_errno(r)),
            _ => Ok(Some(head)),
        }
    }

    /// Reads from the readable part of the current chain into `dst`;
    /// returns the number of bytes read (less than `dst.len()` at its end).
    ///
    /// # Errors
    ///
    /// `EINVAL` when the IOTLB does not map the buffer, `EPERM` when it does
    /// not allow reading it.
    pub fn read(self: Pin<&mut Self>, dst: &mut [u8]) -> Result<usize> {
        // SAFETY: Initialised and exclusive; `dst` is valid for `len` bytes.
        let n = unsafe {
            bindings::vringh_iov_pull_iotlb(self.vrh.get(), self.riov.get(), dst.as_mut_ptr().cast(), dst.len())
        };
        usize::try_from(n).map_err(|_| Error::from_errno(n as i32))
    }

    /// Writes `src` into the writable part of the current chain; returns the
    /// number of bytes written (less than `src.len()` when it is full).
    ///
    /// # Errors
    ///
    /// `EINVAL` when the IOTLB does not map the buffer, `EPERM` when it does
    /// not allow writing it.
    pub fn write(self: Pin<&mut Self>, src: &[u8]) -> Result<usize> {
        // SAFETY: Initialised and exclusive; `src` is valid for `len` bytes.
        let n = unsafe {
            bindings::vringh_iov_push_iotlb(self.vrh.get(), self.wiov.get(), src.as_ptr().cast(), src.len())
        };
        usize::try_from(n).map_err(|_| Error::from_errno(n as i32))
    }

    /// Gives chain `head` back to the driver with `len` bytes written.
    ///
    /// # Errors
    ///
    /// `EINVAL` when the used ring is not mapped.
    pub fn complete(self: Pin<&mut Self>, head: u16, len: u32) -> Result {
        // SAFETY: Initialised and exclusive.
        to_result(unsafe { bindings::vringh_complete_iotlb(self.vrh.get(), head, len) })
    }

    /// Whether the driver wants a notification (used-buffer "call") now.
    ///
    /// # Errors
    ///
    /// `EINVAL` when the rings are not mapped.
    pub fn need_notify(self: Pin<&mut Self>) -> Result<bool> {
        // SAFETY: Initialised and exclusive.
        let r = unsafe { bindings::vringh_need_notify_iotlb(self.vrh.get()) };
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        Ok(r > 0)
    }

    /// The IOTLB the virtqueue reads through.
    pub fn iotlb(&self) -> &Arc<Iotlb> {
        &self.iotlb
    }
}

#[pinned_drop]
impl PinnedDrop for Vringh {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the kiovs are initialised; vringh
        // itself holds no other resources.
        unsafe {
            rmdev_vringh_kiov_cleanup(self.riov.get());
            rmdev_vringh_kiov_cleanup(self.wiov.get());
        }
    }
}

// SAFETY: A `Vringh` is used through `Pin<&mut Self>` only, from any thread;
// its IOTLB is `Sync`.
unsafe impl Send for Vringh {}

#[kernel::macros::kunit_tests(rmdev_vringh)]
mod tests {
    use super::*;
    use crate::iotlb::Perm;

    unsafe extern "C" {
        fn rmdev_virt_to_phys(p: *mut kernel::ffi::c_void) -> u64;
    }

    /// A split ring of 4 entries and two buffers, in one kmalloc'd block:
    /// desc at 0, avail at 64, used at 128, out buffer at 256, in at 384.
    struct Ring {
        mem: KBox<[u8; 512]>,
    }

    const VIRTQ_DESC_F_NEXT: u16 = 1;
    const VIRTQ_DESC_F_WRITE: u16 = 2;
    const VIRTIO_F_VERSION_1: u64 = 1 << 32;

    impl Ring {
        fn base(&mut self) -> *mut u8 {
            self.mem.as_mut_ptr()
        }

        fn pa(&mut self, off: usize) -> u64 {
            // SAFETY: `off` is inside the block, which is kmalloc'd (linear map).
            unsafe { rmdev_virt_to_phys(self.base().add(off).cast()) }
        }

        fn put<const N: usize>(&mut self, off: usize, bytes: [u8; N]) {
            for (i, b) in bytes.into_iter().enumerate() {
                // SAFETY: In bounds; volatile because vringh accesses the
                // block through its physical address, behind the compiler's back.
                unsafe { self.base().add(off + i).write_volatile(b) };
            }
        }

        fn get(&mut self, off: usize) -> u8 {
            // SAFETY: In bounds; volatile as above.
            unsafe { self.base().add(off).read_volatile() }
        }

        fn get_u32(&mut self, off: usize) -> u32 {
            u32::from_le_bytes([self.get(off), self.get(off + 1), self.get(off + 2), self.get(off + 3)])
        }

        fn desc(&mut self, i: usize, addr: u64, len: u32, flags: u16, next: u16) {
            let off = i * 16;
            self.put(off, addr.to_le_bytes());
            self.put(off + 8, len.to_le_bytes());
            self.put(off + 12, flags.to_le_bytes());
            self.put(off + 14, next.to_le_bytes());
        }
    }

    fn identity() -> Arc<Iotlb> {
        let t = Arc::pin_init(Iotlb::new(16), GFP_KERNEL).unwrap();
        t.add_range(0, u64::MAX, 0, Perm::ReadWrite).unwrap();
        t
    }

    #[test]
    fn one_chain_read_write_complete() {
        let mut r = Ring { mem: KBox::new([0u8; 512], GFP_KERNEL).unwrap() };
        let (out, inb) = (r.pa(256), r.pa(384));
        r.put(256, *b"hello, vringh!!!");
        r.desc(0, out, 16, VIRTQ_DESC_F_NEXT, 1);
        r.desc(1, inb, 32, VIRTQ_DESC_F_WRITE, 0);
        r.put(64 + 4, 0u16.to_le_bytes()); // avail.ring[0] = 0
        r.put(64 + 2, 1u16.to_le_bytes()); // avail.idx = 1
        let addrs = RingAddrs { desc: r.pa(0), avail: r.pa(64), used: r.pa(128) };

        let mut vq = KBox::pin_init(Vringh::new(VIRTIO_F_VERSION_1, 4, addrs, identity()), GFP_KERNEL).unwrap();
        assert_eq!(vq.as_mut().next(), Ok(Some(0)));
        let mut buf = [0u8; 32];
        assert_eq!(vq.as_mut().read(&mut buf), Ok(16));
        assert_eq!(&buf[..16], b"hello, vringh!!!");
        assert_eq!(vq.as_mut().write(b"0123456789"), Ok(10));
        assert_eq!(vq.as_mut().complete(0, 10), Ok(()));
        assert_eq!(vq.as_mut().next(), Ok(None));

        // used.idx == 1, used.ring[0] == { id: 0, len: 10 }, data in place.
        assert_eq!(r.get(128 + 2), 1);
        assert_eq!(r.get_u32(128 + 4), 0);
        assert_eq!(r.get_u32(128 + 8), 10);
        assert_eq!(r.get(384), b'0');
        assert_eq!(r.get(393), b'9');
    }

    #[test]
    fn unmapped_ring_is_einval() {
        let mut r = Ring { mem: KBox::new([0u8; 512], GFP_KERNEL).unwrap() };
        let addrs = RingAddrs { desc: r.pa(0), avail: r.pa(64), used: r.pa(128) };
        let empty = Arc::pin_init(Iotlb::new(16), GFP_KERNEL).unwrap();
        let mut vq = KBox::pin_init(Vringh::new(VIRTIO_F_VERSION_1, 4, addrs, empty), GFP_KERNEL).unwrap();
        assert_eq!(vq.as_mut().next(), Err(EINVAL));
    }

    #[test]
    fn bad_num_is_einval() {
        let addrs = RingAddrs { desc: 0, avail: 0, used: 0 };
        assert_eq!(KBox::pin_init(Vringh::new(0, 3, addrs, identity()), GFP_KERNEL).err(), Some(EINVAL));
    }
}
