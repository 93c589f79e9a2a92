//! The driver side of a split virtqueue (virtio 1.2 §2.7 "Split
//! Virtqueues"): descriptor table, available ring and used ring in the
//! IOTLB-mapped guest memory, accessed through `vm-memory`.
//!
//! Memory ordering follows §2.7.13 "Supplying Buffers to The Device" and
//! §2.7.14 "Receiving Used Buffers From The Device":
//! - descriptors and the available-ring entry are written first, then
//!   `avail->idx` is stored with `Release` ordering, so the device never sees
//!   an index that covers entries it cannot read yet;
//! - `used->idx` is loaded with `Acquire` ordering before the used elements
//!   and the buffers they name are read;
//! - the device is notified (kick eventfd) after the index store; the
//!   `write(2)` on the eventfd is a full barrier.
//!
//! No feature that changes the ring is negotiated (no `VIRTIO_F_EVENT_IDX`,
//! no indirect descriptors, no packed ring): the driver always kicks after
//! publishing and always gets a call for each batch of used buffers.
//! Everything in the ring is little-endian (`VIRTIO_F_VERSION_1`).

use std::os::unix::io::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::Duration;

use vhost::VringConfigData;
use virtio_bindings::virtio_ring::{VRING_DESC_F_NEXT, VRING_DESC_F_WRITE};
use vm_memory::{Address, Bytes, GuestAddress, GuestMemoryMmap};
use vmm_sys_util::epoll::{ControlOperation, Epoll, EpollEvent, EventSet};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::error::{Error, Result, SetupContext};
use crate::memory::Layout;

/// Size of one descriptor (`struct vring_desc`).
const DESC_SIZE: u64 = 16;
/// `flags` and `idx` in front of the available and used rings.
const RING_HEADER: u64 = 4;
/// One available-ring entry (`le16` descriptor index).
const AVAIL_ELEM: u64 = 2;
/// One used-ring entry (`struct vring_used_elem`: `le32 id, le32 len`).
const USED_ELEM: u64 = 8;

/// One buffer of a descriptor chain.
#[derive(Clone, Copy, Debug)]
pub struct Buf {
    /// Guest address (IOVA) of the buffer.
    pub addr: GuestAddress,
    /// Length in bytes.
    pub len: u32,
    /// The device writes this buffer (`VRING_DESC_F_WRITE`).
    pub device_writes: bool,
}

impl Buf {
    /// A buffer the device reads.
    pub fn readable(addr: GuestAddress, len: u32) -> Self {
        Buf {
            addr,
            len,
            device_writes: false,
        }
    }

    /// A buffer the device writes.
    pub fn writable(addr: GuestAddress, len: u32) -> Self {
        Buf {
            addr,
            len,
            device_writes: true,
        }
    }
}

/// A used-ring entry: the head of the chain the device returned and the
/// number of bytes it wrote into the chain's writable buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    /// Head descriptor index of the returned chain.
    pub head: u16,
    /// Bytes written by the device.
    pub len: u32,
}

/// Where the three parts of a split virtqueue live.
#[derive(Clone, Copy, Debug)]
pub struct RingAddrs {
    /// Descriptor table (16-byte aligned).
    pub desc: GuestAddress,
    /// Available ("driver") ring (2-byte aligned).
    pub avail: GuestAddress,
    /// Used ("device") ring (4-byte aligned).
    pub used: GuestAddress,
}

impl RingAddrs {
    /// Reserves the three parts of a `size`-entry split virtqueue in
    /// `layout` (§2.7 table "Virtqueue Part Alignment and Size"; the
    /// trailing `used_event`/`avail_event` words are included).
    pub fn plan(layout: &mut Layout, size: u16) -> Self {
        let n = u64::from(size);
        RingAddrs {
            desc: layout.alloc(DESC_SIZE * n, 16),
            avail: layout.alloc(RING_HEADER + AVAIL_ELEM * n + 2, 2),
            used: layout.alloc(RING_HEADER + USED_ELEM * n + 2, 4),
        }
    }
}

/// The driver side of one split virtqueue, with its kick and call eventfds.
pub struct SplitQueue {
    index: usize,
    size: u16,
    addrs: RingAddrs,
    /// Free descriptor indices (a stack).
    free: Vec<u16>,
    /// For each descriptor index: the chain hanging off it while it is an
    /// in-flight head (empty otherwise).
    chains: Vec<Vec<u16>>,
    /// Next free slot of the available ring (our copy of `avail->idx`).
    avail_idx: u16,
    /// Next used-ring slot to consume.
    last_used: u16,
    /// Chains handed to the device and not yet returned.
    in_flight: u16,
    kick: EventFd,
    call: EventFd,
}

impl SplitQueue {
    /// A queue of `size` entries (a power of two) at `addrs`, for virtqueue
    /// number `index` of the device. The ring memory must be zeroed (a
    /// fresh mapping is).
    pub fn new(index: usize, size: u16, addrs: RingAddrs) -> Result<Self> {
        let kick = EventFd::new(EFD_NONBLOCK).setup("creating kick eventfd")?;
        let call = EventFd::new(EFD_NONBLOCK).setup("creating call eventfd")?;
        Ok(SplitQueue {
            index,
            size,
            addrs,
            free: (0..size).rev().collect(),
            chains: vec![Vec::new(); usize::from(size)],
            avail_idx: 0,
            last_used: 0,
            in_flight: 0,
            kick,
            call,
        })
    }

    /// Virtqueue number on the device.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Number of entries.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// The eventfd the driver writes to notify the device
    /// (`VHOST_SET_VRING_KICK`).
    pub fn kick_fd(&self) -> &EventFd {
        &self.kick
    }

    /// The eventfd the device signals when it used buffers
    /// (`VHOST_SET_VRING_CALL`).
    pub fn call_fd(&self) -> &EventFd {
        &self.call
    }

    /// The addresses for `VHOST_SET_VRING_ADDR` (IOVAs; no logging).
    pub fn config(&self, max_size: u16) -> VringConfigData {
        VringConfigData {
            queue_max_size: max_size,
            queue_size: self.size,
            flags: 0,
            desc_table_addr: self.addrs.desc.0,
            used_ring_addr: self.addrs.used.0,
            avail_ring_addr: self.addrs.avail.0,
            log_addr: None,
        }
    }

    /// Free descriptors.
    #[cfg(test)]
    pub fn num_free(&self) -> usize {
        self.free.len()
    }

    /// Chains handed to the device and not yet returned.
    pub fn in_flight(&self) -> u16 {
        self.in_flight
    }

    /// Writes a descriptor chain for `bufs` and its available-ring entry,
    /// without publishing it (see [`SplitQueue::publish`]). Returns the head
    /// index, or `None` if there are not enough free descriptors.
    pub fn push(&mut self, mem: &GuestMemoryMmap, bufs: &[Buf]) -> Result<Option<u16>> {
        if bufs.is_empty() || bufs.len() > self.free.len() {
            return Ok(None);
        }
        let start = self.free.len() - bufs.len();
        let chain: Vec<u16> = self.free.drain(start..).rev().collect();
        for (i, (buf, &idx)) in bufs.iter().zip(&chain).enumerate() {
            let next = chain.get(i + 1).copied();
            let mut flags = 0u16;
            if next.is_some() {
                flags |= VRING_DESC_F_NEXT as u16;
            }
            if buf.device_writes {
                flags |= VRING_DESC_F_WRITE as u16;
            }
            // struct vring_desc { le64 addr; le32 len; le16 flags; le16 next; }
            let mut desc = [0u8; DESC_SIZE as usize];
            desc[0..8].copy_from_slice(&buf.addr.0.to_le_bytes());
            desc[8..12].copy_from_slice(&buf.len.to_le_bytes());
            desc[12..14].copy_from_slice(&flags.to_le_bytes());
            desc[14..16].copy_from_slice(&next.unwrap_or(0).to_le_bytes());
            let at = self.addrs.desc.0 + DESC_SIZE * u64::from(idx);
            mem.write_slice(&desc, GuestAddress(at))
                .setup("writing a descriptor")?;
        }
        let head = chain[0];
        let slot = u64::from(self.avail_idx % self.size);
        let at = self.addrs.avail.0 + RING_HEADER + AVAIL_ELEM * slot;
        mem.write_obj(head.to_le(), GuestAddress(at))
            .setup("writing the available ring")?;
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.in_flight += 1;
        self.chains[usize::from(head)] = chain;
        Ok(Some(head))
    }

    /// Makes every pushed chain visible to the device: stores `avail->idx`
    /// with release ordering (§2.7.13.3: the index is updated after the ring
    /// entries, with a write barrier in between).
    pub fn publish(&mut self, mem: &GuestMemoryMmap) -> Result<()> {
        mem.store(
            self.avail_idx.to_le(),
            self.addrs.avail.unchecked_add(2),
            Ordering::Release,
        )
        .setup("storing avail->idx")
    }

    /// Notifies the device that the available ring moved.
    pub fn kick(&self) -> Result<()> {
        self.kick.write(1).setup("writing the kick eventfd")
    }

    /// Takes the next used-ring entry, if the device returned one, and frees
    /// its chain. An entry that names no in-flight chain is a device error.
    pub fn pop_used(&mut self, mem: &GuestMemoryMmap) -> Result<Option<Used>> {
        let used_idx: u16 = mem
            .load(self.addrs.used.unchecked_add(2), Ordering::Acquire)
            .map(u16::from_le)
            .setup("loading used->idx")?;
        if used_idx == self.last_used {
            return Ok(None);
        }
        let pending = used_idx.wrapping_sub(self.last_used);
        if pending > self.in_flight {
            return Err(Error::Device(format!(
                "virtqueue {}: used->idx {used_idx} is {pending} ahead of the driver's {} \
                 with only {} chains in flight",
                self.index, self.last_used, self.in_flight
            )));
        }
        let slot = u64::from(self.last_used % self.size);
        let at = self.addrs.used.0 + RING_HEADER + USED_ELEM * slot;
        let id = u32::from_le(
            mem.read_obj(GuestAddress(at))
                .setup("reading the used ring")?,
        );
        let len = u32::from_le(
            mem.read_obj(GuestAddress(at + 4))
                .setup("reading the used ring")?,
        );
        let head = u16::try_from(id)
            .ok()
            .filter(|&h| h < self.size && !self.chains[usize::from(h)].is_empty())
            .ok_or_else(|| {
                Error::Device(format!(
                    "virtqueue {}: used ring entry {} names descriptor {id}, which is not the \
                     head of an in-flight chain",
                    self.index, self.last_used
                ))
            })?;
        let chain = std::mem::take(&mut self.chains[usize::from(head)]);
        self.free.extend(chain.iter().rev());
        self.last_used = self.last_used.wrapping_add(1);
        self.in_flight -= 1;
        Ok(Some(Used { head, len }))
    }
}

/// Waits for the call eventfds of a set of queues.
pub struct Waiter {
    epoll: Epoll,
    fds: Vec<i32>,
}

impl Waiter {
    /// Watches the call eventfd of every queue in `queues`.
    pub fn new(queues: &[&SplitQueue]) -> Result<Self> {
        let epoll = Epoll::new().setup("epoll_create")?;
        let mut fds = Vec::new();
        for q in queues {
            let fd = q.call_fd().as_raw_fd();
            epoll
                .ctl(
                    ControlOperation::Add,
                    fd,
                    EpollEvent::new(EventSet::IN, q.index() as u64),
                )
                .setup("epoll_ctl")?;
            fds.push(fd);
        }
        Ok(Waiter { epoll, fds })
    }

    /// Waits until a call eventfd fires, or `timeout` passes (then returns
    /// `false`). Consumes the eventfd counters, so a call that arrives after
    /// the driver last looked at the used rings is never lost: the driver
    /// checks the used rings, then waits; a call in between leaves the
    /// counter non-zero and the wait returns at once.
    pub fn wait(&self, queues: &[&SplitQueue], timeout: Duration) -> Result<bool> {
        let mut events = vec![EpollEvent::default(); self.fds.len()];
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let n = loop {
            match self.epoll.wait(ms, &mut events) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Setup(format!("epoll_wait: {e}"))),
            }
        };
        for q in queues {
            match q.call_fd().read() {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(Error::Setup(format!("reading a call eventfd: {e}"))),
            }
        }
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays the device: returns chain `head` with `len` bytes written.
    fn device_use(mem: &GuestMemoryMmap, q: &SplitQueue, slot: u16, head: u16, len: u32) {
        let at = q.addrs.used.0 + RING_HEADER + USED_ELEM * u64::from(slot);
        mem.write_obj(u32::from(head).to_le(), GuestAddress(at))
            .unwrap();
        mem.write_obj(len.to_le(), GuestAddress(at + 4)).unwrap();
        mem.store(
            (slot + 1).to_le(),
            q.addrs.used.unchecked_add(2),
            Ordering::Release,
        )
        .unwrap();
    }

    #[test]
    fn push_publish_and_pop() {
        let mut layout = Layout::new(0);
        let addrs = RingAddrs::plan(&mut layout, 4);
        assert_eq!(addrs.desc.0 % 16, 0);
        assert_eq!(addrs.used.0 % 4, 0);
        let buf = layout.alloc(64, 8);
        let mem = layout.allocate().unwrap();
        let mut q = SplitQueue::new(0, 4, addrs).unwrap();

        let bufs = [Buf::readable(buf, 16), Buf::writable(buf, 48)];
        let head = q.push(&mem, &bufs).unwrap().unwrap();
        assert_eq!(q.num_free(), 2);
        q.publish(&mem).unwrap();
        let idx: u16 = mem.read_obj(addrs.avail.unchecked_add(2)).unwrap();
        assert_eq!(u16::from_le(idx), 1);
        let ring0: u16 = mem.read_obj(addrs.avail.unchecked_add(4)).unwrap();
        assert_eq!(u16::from_le(ring0), head);
        // The head descriptor chains to the second, which is device-writable.
        let d0 = addrs.desc.0 + DESC_SIZE * u64::from(head);
        let flags: u16 = mem.read_obj(GuestAddress(d0 + 12)).unwrap();
        let next: u16 = mem.read_obj(GuestAddress(d0 + 14)).unwrap();
        assert_eq!(flags, VRING_DESC_F_NEXT as u16);
        let d1 = addrs.desc.0 + DESC_SIZE * u64::from(next);
        let flags1: u16 = mem.read_obj(GuestAddress(d1 + 12)).unwrap();
        assert_eq!(flags1, VRING_DESC_F_WRITE as u16);

        // Not enough descriptors for a 3-chain.
        assert!(q.push(&mem, &[Buf::readable(buf, 1); 3]).unwrap().is_none());

        assert_eq!(q.pop_used(&mem).unwrap(), None);
        device_use(&mem, &q, 0, head, 48);
        assert_eq!(q.pop_used(&mem).unwrap(), Some(Used { head, len: 48 }));
        assert_eq!(q.num_free(), 4);
        assert_eq!(q.in_flight(), 0);

        // A used entry naming a descriptor that is not in flight.
        device_use(&mem, &q, 1, 3, 0);
        assert!(matches!(q.pop_used(&mem), Err(Error::Device(_))));
    }
}
