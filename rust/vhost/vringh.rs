// SPDX-License-Identifier: GPL-2.0

//! The device side of a split virtqueue, through the kernel's vringh over an
//! [`Iotlb`]: what device models use to take buffers from a driver and give
//! them back, exactly as `drivers/vdpa/vdpa_sim/` does.
//!
//! C header: [`include/linux/vringh.h`](srctree/include/linux/vringh.h);
//! the ring layout is virtio 1.3 section 2.7 ("Split Virtqueues").

use crate::{
    bindings,
    iotlb::Iotlb, //
};
use core::pin::Pin;
use kernel::{
    error::to_result,
    prelude::*,
    sync::Arc,
    types::Opaque, //
};

unsafe extern "C" {
    /// `vringh_kiov_init(kiov, NULL, 0)` (`vhost_helpers.c`).
    fn rmdev_vringh_kiov_init(kiov: *mut bindings::vringh_kiov);
    /// `vringh_kiov_cleanup()` (`vhost_helpers.c`).
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
    /// Chains completed since [`Self::take_completed`] last looked.
    completed: bool,
}

impl Vringh {
    /// Sets up a split virtqueue of `num` entries (a power of 2, at most
    /// 32768) at `addrs`, for a driver that negotiated `features`.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `num` is not a power of 2 or too large.
    pub fn new(
        features: u64,
        num: u32,
        addrs: RingAddrs,
        iotlb: Arc<Iotlb>,
    ) -> impl PinInit<Self, Error> {
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
                    true,
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
            completed: false,
        })
    }

    /// The index of the next available entry the device will take.
    pub fn last_avail_idx(&self) -> u16 {
        // SAFETY: By the type invariant `vrh` is initialised; a shared
        // reference excludes concurrent mutation through `Pin<&mut Self>`.
        unsafe { (*self.vrh.get()).last_avail_idx }
    }

    /// Sets the next available entry to take, and the used index with it:
    /// no buffers are in flight (as `vdpasim_queue_ready()` does).
    pub fn set_base(self: Pin<&mut Self>, avail_index: u16) {
        // SAFETY: Initialised (type invariant) and exclusive (`&mut`).
        // `completed` counts entries past `last_used_idx` that vringh has
        // not folded in yet (it does so only with event indices): cleared
        // too, or the next used index written would be off by it.
        unsafe {
            let vrh = &mut *self.vrh.get();
            vrh.last_avail_idx = avail_index;
            vrh.last_used_idx = avail_index;
            vrh.completed = 0;
        }
    }

    /// Bytes of `kiov` not yet consumed (`vringh_kiov_length()`: entry
    /// `i` is shortened as it is consumed).
    fn kiov_left(kiov: &Opaque<bindings::vringh_kiov>) -> usize {
        // SAFETY: By the type invariant the kiov is initialised: `iov`
        // holds `used` entries (none when NULL), the first `i` consumed.
        unsafe {
            let k = &*kiov.get();
            if k.iov.is_null() {
                return 0;
            }
            let iov = core::slice::from_raw_parts(k.iov, k.used as usize);
            iov.iter()
                .skip(k.i as usize)
                .fold(0usize, |n, v| n.saturating_add(v.iov_len))
        }
    }

    /// Bytes of the current chain's readable part not yet read.
    pub fn readable(&self) -> usize {
        Self::kiov_left(&self.riov)
    }

    /// Bytes of the current chain's writable part not yet written.
    pub fn writable(&self) -> usize {
        Self::kiov_left(&self.wiov)
    }

    /// Skips up to `len` bytes of the current chain's writable part,
    /// leaving them as they are (`vringh_kiov_advance()`).
    pub fn skip_writable(self: Pin<&mut Self>, len: usize) {
        // SAFETY: Initialised (type invariant) and exclusive (`&mut`);
        // vringh stops at the end of the kiov.
        unsafe { bindings::vringh_kiov_advance(self.wiov.get(), len) }
    }

    /// Whether chains were completed since the last call (which resets it):
    /// only then may the driver need a notification.
    pub fn take_completed(self: Pin<&mut Self>) -> bool {
        // SAFETY: `completed` is not structurally pinned.
        core::mem::take(unsafe { &mut self.get_unchecked_mut().completed })
    }

    /// Takes the next available descriptor chain: `Some(head)`, or `None`
    /// when the driver made none available. Its readable part is then read
    /// with [`Self::read`], its writable part written with [`Self::write`],
    /// and the chain given back with [`Self::complete`].
    ///
    /// A chain is at most the queue size in descriptors, indirect ones
    /// included (virtio 1.3 section 2.7.5.3.1); vringh bounds direct chains
    /// so but lets a chain that hops between indirect tables, or one huge
    /// indirect table, grow its buffer list without end. Here the list's
    /// allocations fail fast and never warn (a hostile ring must not splat
    /// or make the allocator work hard), and a chain of more buffers than
    /// the queue has entries is refused (in IOTLB mode vringh makes one
    /// buffer per descriptor: the IOTLB is applied when the buffers are
    /// copied).
    ///
    /// # Errors
    ///
    /// `EINVAL` when the rings or a buffer lie outside the IOTLB (vringh's
    /// `iotlb_translate()`), `EFAULT` or `ELOOP` for a malformed chain
    /// (loops, bad indices, too long), `ENOMEM` (also what an endless chain
    /// ends in).
    pub fn next(self: Pin<&mut Self>) -> Result<Option<u16>> {
        let mut head: u16 = 0;
        // SAFETY: By the type invariant all three are initialised; `&mut`
        // gives exclusive access; vringh takes the IOTLB lock itself.
        let ret = unsafe {
            bindings::vringh_getdesc_iotlb(
                self.vrh.get(),
                self.riov.get(),
                self.wiov.get(),
                &mut head,
                kernel::bindings::GFP_KERNEL
                    | kernel::bindings::__GFP_NOWARN
                    // `__GFP_NORETRY`, which the kernel crate does not bind.
                    | (1 << kernel::bindings::___GFP_NORETRY_BIT),
            )
        };
        match ret {
            0 => Ok(None),
            r if r < 0 => Err(Error::from_errno(r)),
            _ => {
                // SAFETY: Initialised (type invariant); vringh is done with
                // them until the next call.
                let (buffers, num) = unsafe {
                    (
                        (*self.riov.get()).used + (*self.wiov.get()).used,
                        (*self.vrh.get()).vring.num,
                    )
                };
                if buffers > num {
                    return Err(ELOOP);
                }
                Ok(Some(head))
            }
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
            bindings::vringh_iov_pull_iotlb(
                self.vrh.get(),
                self.riov.get(),
                dst.as_mut_ptr().cast(),
                dst.len(),
            )
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
            bindings::vringh_iov_push_iotlb(
                self.vrh.get(),
                self.wiov.get(),
                src.as_ptr().cast(),
                src.len(),
            )
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
        to_result(unsafe { bindings::vringh_complete_iotlb(self.vrh.get(), head, len) })?;
        // SAFETY: `completed` is not structurally pinned.
        unsafe { self.get_unchecked_mut().completed = true };
        Ok(())
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

// SAFETY: The vring's pointers are I/O virtual addresses (not dereferenced
// directly), the kiovs' buffers are owned, `notify` is NULL, and the IOTLB
// is `Sync`: nothing ties a `Vringh` to a thread. Mutation needs
// `Pin<&mut Self>`; `&self` methods only read.
unsafe impl Send for Vringh {}

#[kernel::macros::kunit_tests(rmdev_vringh)]
mod tests {
    use super::*;
    use crate::{
        iotlb::Perm,
        testing::{
            DriverRing,
            VIRTQ_DESC_F_INDIRECT,
            VIRTQ_DESC_F_NEXT_RAW, //
        },
    };

    fn identity() -> Result<Arc<Iotlb>> {
        let t = Arc::pin_init(Iotlb::new(16), GFP_KERNEL)?;
        t.add_range(0, u64::MAX, 0, Perm::ReadWrite)?;
        Ok(t)
    }

    /// `VIRTIO_F_VERSION_1` (bit 32, virtio 1.3 section 6).
    const VERSION_1: u64 = 1 << 32;

    #[test]
    fn one_chain_read_write_complete() -> Result {
        let mut r = DriverRing::new(4, 256)?;
        let head = r.add(&[b"hello, vringh!!!"], &[32])?;
        let mut vq = KBox::pin_init(
            Vringh::new(VERSION_1, 4, r.addrs(), identity()?),
            GFP_KERNEL,
        )?;
        assert_eq!(vq.as_mut().next(), Ok(Some(head)));
        assert_eq!((vq.readable(), vq.writable()), (16, 32));
        let mut buf = [0u8; 32];
        assert_eq!(vq.as_mut().read(&mut buf), Ok(16));
        assert_eq!(&buf[..16], b"hello, vringh!!!");
        assert_eq!(vq.as_mut().write(b"0123456789"), Ok(10));
        assert_eq!((vq.readable(), vq.writable()), (0, 22));
        assert!(!vq.as_mut().take_completed());
        assert_eq!(vq.as_mut().complete(head, 10), Ok(()));
        assert!(vq.as_mut().take_completed());
        assert_eq!(vq.as_mut().next(), Ok(None));
        assert_eq!(vq.last_avail_idx(), 1);

        assert_eq!(r.used(), Some((head, 10)));
        assert_eq!(r.used(), None);
        let mut out = [0u8; 32];
        assert_eq!(r.written(head, &mut out), 32);
        assert_eq!(&out[..10], b"0123456789");
        Ok(())
    }

    #[test]
    fn set_base_skips_entries() -> Result {
        let mut r = DriverRing::new(4, 256)?;
        r.add(&[b"a"], &[])?;
        let second = r.add(&[b"b"], &[])?;
        let mut vq = KBox::pin_init(
            Vringh::new(VERSION_1, 4, r.addrs(), identity()?),
            GFP_KERNEL,
        )?;
        vq.as_mut().set_base(1);
        assert_eq!(vq.as_mut().next(), Ok(Some(second)));
        assert_eq!(vq.as_mut().complete(second, 0), Ok(()));
        assert_eq!(r.used_idx(), 2);
        Ok(())
    }

    #[test]
    fn set_base_after_traffic_keeps_used_index() -> Result {
        // Without event indices vringh folds completions into the used
        // index lazily; a new base must not count them twice.
        let mut r = DriverRing::new(4, 256)?;
        let a = r.add(&[b"a"], &[])?;
        let mut vq = KBox::pin_init(
            Vringh::new(VERSION_1, 4, r.addrs(), identity()?),
            GFP_KERNEL,
        )?;
        assert_eq!(vq.as_mut().next(), Ok(Some(a)));
        assert_eq!(vq.as_mut().complete(a, 0), Ok(()));
        assert_eq!(r.used_idx(), 1);
        vq.as_mut().set_base(1);
        let b = r.add(&[b"b"], &[])?;
        assert_eq!(vq.as_mut().next(), Ok(Some(b)));
        assert_eq!(vq.as_mut().complete(b, 0), Ok(()));
        assert_eq!(r.used_idx(), 2);
        Ok(())
    }

    #[test]
    fn unmapped_ring_is_einval() -> Result {
        let mut r = DriverRing::new(4, 64)?;
        let empty = Arc::pin_init(Iotlb::new(16), GFP_KERNEL)?;
        let mut vq = KBox::pin_init(Vringh::new(VERSION_1, 4, r.addrs(), empty), GFP_KERNEL)?;
        assert_eq!(vq.as_mut().next(), Err(EINVAL));
        Ok(())
    }

    #[test]
    fn bad_num_is_einval() -> Result {
        let addrs = RingAddrs {
            desc: 0,
            avail: 0,
            used: 0,
        };
        assert_eq!(
            KBox::pin_init(Vringh::new(0, 3, addrs, identity()?), GFP_KERNEL).err(),
            Some(EINVAL)
        );
        Ok(())
    }

    #[test]
    fn chain_hopping_between_indirect_tables_is_refused_without_warning() -> Result {
        // Descriptors 1 and 2 are indirect *and* chained to each other (a
        // driver must not set both flags, virtio 1.3 2.7.5.3.1): vringh goes
        // round 1 -> table -> 2 -> table -> 1 ... growing the buffer list.
        let mut r = DriverRing::new(4, 256)?;
        let buf = r.alloc(16)?;
        let table = r.alloc(16)?;
        r.write_desc(table, buf, 16, 0, 0)?;
        let flags = VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT_RAW;
        let (d0, d1, d2) = (r.desc_table(0), r.desc_table(1), r.desc_table(2));
        r.write_desc(d0, table, 16, flags, 1)?;
        r.write_desc(d1, table, 16, flags, 2)?;
        r.write_desc(d2, table, 16, flags, 1)?;
        r.make_available(0);
        let mut vq = KBox::pin_init(
            Vringh::new(VERSION_1, 4, r.addrs(), identity()?),
            GFP_KERNEL,
        )?;
        assert!(vq.as_mut().next().is_err());
        Ok(())
    }

    #[test]
    fn oversized_indirect_table_is_refused_without_warning() -> Result {
        // One indirect table that claims 300 000 entries (vringh bounds a
        // walk of it by that, not by the queue size), of which the 4096
        // real ones form a cycle: the walk gathers over 262 144 segments,
        // more than a 4 MiB buffer list holds.
        const REAL: u16 = 4096;
        let mut r = DriverRing::new(4, 16 * usize::from(REAL) + 64)?;
        let buf = r.alloc(16)?;
        let table = r.alloc(16 * usize::from(REAL))?;
        for k in 0..REAL {
            let next = (k + 1) % REAL;
            r.write_desc(
                table + 16 * u64::from(k),
                buf,
                16,
                VIRTQ_DESC_F_NEXT_RAW,
                next,
            )?;
        }
        let head = r.desc_table(0);
        r.write_desc(head, table, 300_000 * 16, VIRTQ_DESC_F_INDIRECT, 0)?;
        r.make_available(0);
        let mut vq = KBox::pin_init(
            Vringh::new(VERSION_1, 4, r.addrs(), identity()?),
            GFP_KERNEL,
        )?;
        assert!(vq.as_mut().next().is_err());
        Ok(())
    }

    #[test]
    fn chain_of_more_segments_than_the_queue_allows_is_eloop() -> Result {
        // A legal-looking indirect table of 64 entries on a queue of 4:
        // a chain longer than the queue.
        let mut r = DriverRing::new(4, 64 * 16 + 64)?;
        let buf = r.alloc(16)?;
        let table = r.alloc(64 * 16)?;
        for k in 0..64u16 {
            let (flags, next) = if k < 63 {
                (VIRTQ_DESC_F_NEXT_RAW, k + 1)
            } else {
                (0, 0)
            };
            r.write_desc(table + 16 * u64::from(k), buf, 16, flags, next)?;
        }
        let head = r.desc_table(0);
        r.write_desc(head, table, 64 * 16, VIRTQ_DESC_F_INDIRECT, 0)?;
        r.make_available(0);
        let mut vq = KBox::pin_init(
            Vringh::new(VERSION_1, 4, r.addrs(), identity()?),
            GFP_KERNEL,
        )?;
        assert_eq!(vq.as_mut().next(), Err(ELOOP));
        Ok(())
    }
}
