//! `net`: a loopback test of a virtio-net device (virtio 1.2 §5.1 "Network
//! Device"), made for `vdpa_sim_net`, whose datapath hands every frame sent
//! on the transmit queue back on the receive queue when it is addressed to
//! the device's own MAC (or is broadcast or multicast).
//!
//! Virtqueue 0 is receiveq1, 1 is transmitq1 (§5.1.2). Features:
//! `VIRTIO_F_VERSION_1`, `VIRTIO_F_ACCESS_PLATFORM` and `VIRTIO_NET_F_MAC`
//! where offered, nothing else, so every buffer starts with the 12-byte
//! `struct virtio_net_hdr_v1` (§5.1.6), all zero on transmit (no offloads).
//! Each frame and each receive buffer is one descriptor of a 4 KiB slot.
//!
//! Flow control: the simulator drops a frame when no receive buffer is
//! available, so the driver never has more frames in flight than receive
//! buffers posted (frames sent <= receive buffers ever posted).

use std::time::{Duration, Instant};

use virtio_bindings::virtio_config::VIRTIO_F_ACCESS_PLATFORM;
use virtio_bindings::virtio_ids::VIRTIO_ID_NET;
use virtio_bindings::virtio_net::{virtio_net_hdr_v1, VIRTIO_NET_F_MAC};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

use crate::device::{Device, MapChunks};
use crate::error::{Error, Result, SetupContext};
use crate::memory::{Layout, PAGE_SIZE};
use crate::ring::{Buf, RingAddrs, SplitQueue, Waiter};

/// Receive queue index.
const RXQ: usize = 0;
/// Transmit queue index.
const TXQ: usize = 1;
/// Bytes per buffer slot.
const SLOT: u64 = 4096;
/// `sizeof(struct virtio_net_hdr_v1)`.
pub const HDR_LEN: usize = std::mem::size_of::<virtio_net_hdr_v1>();
/// Ethernet header: destination, source, EtherType.
const ETH_HLEN: usize = 14;
/// Smallest frame: Ethernet header and the 8-byte sequence number.
pub const MIN_FRAME: usize = ETH_HLEN + 8;
/// Largest frame: header and frame fill one slot (vdpa_sim_net also copies
/// at most one page per frame).
pub const MAX_FRAME: usize = SLOT as usize - HDR_LEN;
/// Source MAC of the frames (locally administered).
const SRC_MAC: [u8; 6] = [0x02, 0x76, 0x64, 0x70, 0x61, 0x00];
/// IEEE 802 Local Experimental EtherType 1.
const ETHERTYPE: u16 = 0x88b5;

/// What `net` was asked to do.
#[derive(Debug, Clone)]
pub struct NetOptions {
    /// Device file.
    pub dev: String,
    /// Frames to send (ignored by `bench`).
    pub frames: u64,
    /// Frame size in bytes, Ethernet header included.
    pub size: usize,
    /// Virtqueue size.
    pub qsize: u16,
    /// Run for this long and measure instead of sending `frames`.
    pub bench: Option<Duration>,
    /// Give up when the device makes no progress for this long.
    pub timeout: Duration,
    /// Trace the setup on stderr.
    pub verbose: bool,
}

/// What came back.
#[derive(Debug, Default)]
pub struct NetReport {
    /// Frames handed to the transmit queue.
    pub sent: u64,
    /// Frames taken from the receive queue.
    pub received: u64,
    /// Received frames equal, byte for byte, to the frame sent in that
    /// position.
    pub identical: u64,
    /// How long the data path ran.
    pub elapsed: Duration,
    /// What went wrong first, if anything (mismatch, timeout).
    pub problem: Option<String>,
}

/// Runs the test (or benchmark) against the device at `opts.dev`.
pub fn run(opts: &NetOptions) -> Result<NetReport> {
    Device::session(&opts.dev, opts.verbose, |dev| drive(dev, opts))
}

/// The frame with sequence number `seq`: to `dst`, from [`SRC_MAC`],
/// EtherType [`ETHERTYPE`], the sequence number (big endian), then a
/// pattern that depends on `seq`, the byte position and the run's `seed`.
pub fn frame(seed: u64, seq: u64, size: usize, dst: [u8; 6]) -> Vec<u8> {
    let mut f = Vec::with_capacity(size);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&SRC_MAC);
    f.extend_from_slice(&ETHERTYPE.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    let mut x = seed ^ seq.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    while f.len() < size {
        x = splitmix64(x);
        let take = (size - f.len()).min(8);
        f.extend_from_slice(&x.to_le_bytes()[..take]);
    }
    f.truncate(size);
    f
}

/// SplitMix64 step: a cheap, well-spread pattern generator.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A per-run seed, so data left over from an earlier run never matches.
pub fn run_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x5eed, |d| d.as_nanos() as u64)
}

/// Slot bookkeeping for one queue whose chains are one buffer each.
struct Slots {
    base: GuestAddress,
    free: Vec<u16>,
    /// Slot of each in-flight head.
    of_head: Vec<u16>,
}

impl Slots {
    fn new(base: GuestAddress, n: u16) -> Self {
        Slots {
            base,
            free: (0..n).rev().collect(),
            of_head: vec![0; usize::from(n)],
        }
    }

    fn addr(&self, slot: u16) -> GuestAddress {
        GuestAddress(self.base.0 + SLOT * u64::from(slot))
    }
}

fn drive(dev: &mut Device, opts: &NetOptions) -> Result<NetReport> {
    let (first, last, max) = dev.expect(VIRTIO_ID_NET, "network device", opts.qsize)?;
    let features = dev.negotiate((1 << VIRTIO_F_ACCESS_PLATFORM) | (1 << VIRTIO_NET_F_MAC))?;

    // The device's MAC (virtio_net_config.mac, offset 0); without
    // VIRTIO_NET_F_MAC the field is not valid: use broadcast, which every
    // device accepts.
    let mut mac = [0xff; 6];
    if features & (1 << VIRTIO_NET_F_MAC) != 0 {
        dev.read_config(0, &mut mac)?;
    }
    if opts.verbose {
        eprintln!(
            "vdpa-client: destination MAC {}",
            mac.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        );
    }

    let mut layout = Layout::new(first);
    let rx_ring = RingAddrs::plan(&mut layout, opts.qsize);
    let tx_ring = RingAddrs::plan(&mut layout, opts.qsize);
    let rx_bufs = layout.alloc(SLOT * u64::from(opts.qsize), PAGE_SIZE);
    let tx_bufs = layout.alloc(SLOT * u64::from(opts.qsize), PAGE_SIZE);
    check_fits(&layout, last)?;
    dev.map(layout.allocate()?, MapChunks::Whole)?;

    let mut rxq = SplitQueue::new(RXQ, opts.qsize, rx_ring)?;
    let mut txq = SplitQueue::new(TXQ, opts.qsize, tx_ring)?;
    dev.setup_queue(&rxq, max)?;
    dev.setup_queue(&txq, max)?;
    dev.driver_ok()?;

    let mem = dev.mem()?;
    let waiter = Waiter::new(&[&rxq, &txq])?;
    let mut rx = Slots::new(rx_bufs, opts.qsize);
    let mut tx = Slots::new(tx_bufs, opts.qsize);
    let seed = run_seed();
    let limit = if opts.bench.is_some() {
        u64::MAX
    } else {
        opts.frames
    };
    let mut report = NetReport::default();
    let mut rx_posted = 0u64;
    let mut rx_buf = vec![0u8; SLOT as usize];

    rx_posted += post_rx(mem, &mut rxq, &mut rx)?;
    rxq.publish(mem)?;
    rxq.kick()?;

    let start = Instant::now();
    let deadline = opts.bench.map(|d| start + d);
    let mut last_progress = start;
    loop {
        let mut progress = false;
        while let Some(used) = txq.pop_used(mem)? {
            tx.free.push(tx.of_head[usize::from(used.head)]);
            progress = true;
        }
        let mut reposted = false;
        while let Some(used) = rxq.pop_used(mem)? {
            let slot = rx.of_head[usize::from(used.head)];
            let len = used.len as usize;
            if len > rx_buf.len() {
                return Err(Error::Device(format!(
                    "receive buffer of {SLOT} bytes came back with {len} bytes written"
                )));
            }
            mem.read_slice(&mut rx_buf[..len], rx.addr(slot))
                .setup("reading a receive buffer")?;
            let expected = frame(seed, report.received, opts.size, mac);
            match check_rx(&rx_buf[..len], &expected, report.received) {
                None => report.identical += 1,
                Some(why) => {
                    report.problem.get_or_insert(why);
                }
            }
            report.received += 1;
            rx.free.push(slot);
            progress = true;
            reposted = true;
        }
        if reposted {
            rx_posted += post_rx(mem, &mut rxq, &mut rx)?;
            rxq.publish(mem)?;
            rxq.kick()?;
        }

        let now = Instant::now();
        let time_up = deadline.is_some_and(|d| now >= d);
        if time_up || (report.sent >= limit && report.received >= report.sent) {
            break;
        }

        let mut queued = false;
        while report.sent < limit && report.sent < rx_posted {
            let Some(slot) = tx.free.pop() else { break };
            let f = frame(seed, report.sent, opts.size, mac);
            let at = tx.addr(slot);
            mem.write_slice(&[0u8; HDR_LEN], at)
                .setup("writing a virtio-net header")?;
            mem.write_slice(&f, GuestAddress(at.0 + HDR_LEN as u64))
                .setup("writing a frame")?;
            let len = (HDR_LEN + f.len()) as u32;
            let Some(head) = txq.push(mem, &[Buf::readable(at, len)])? else {
                tx.free.push(slot);
                break;
            };
            tx.of_head[usize::from(head)] = slot;
            report.sent += 1;
            queued = true;
        }
        if queued {
            txq.publish(mem)?;
            txq.kick()?;
            progress = true;
        }

        if progress {
            last_progress = now;
            continue;
        }
        let idle_until = last_progress + opts.timeout;
        if now >= idle_until {
            report.problem = Some(format!(
                "timed out: no progress for {} ms (sent {}, received {}, {} transmit and {} \
                 receive buffers with the device)",
                opts.timeout.as_millis(),
                report.sent,
                report.received,
                txq.in_flight(),
                rxq.in_flight()
            ));
            break;
        }
        let until = deadline.map_or(idle_until, |d| d.min(idle_until));
        waiter.wait(&[&rxq, &txq], until.saturating_duration_since(now))?;
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Posts a receive buffer for every free slot; returns how many.
fn post_rx(mem: &GuestMemoryMmap, rxq: &mut SplitQueue, rx: &mut Slots) -> Result<u64> {
    let mut n = 0;
    while let Some(slot) = rx.free.pop() {
        let Some(head) = rxq.push(mem, &[Buf::writable(rx.addr(slot), SLOT as u32)])? else {
            rx.free.push(slot);
            break;
        };
        rx.of_head[usize::from(head)] = slot;
        n += 1;
    }
    Ok(n)
}

/// Compares a received buffer (header and frame) with the frame expected
/// in position `seq`; says what differs.
fn check_rx(buf: &[u8], expected: &[u8], seq: u64) -> Option<String> {
    if buf.len() < HDR_LEN {
        return Some(format!(
            "frame {seq}: {} bytes received, shorter than the virtio-net header",
            buf.len()
        ));
    }
    let got = &buf[HDR_LEN..];
    if got == expected {
        return None;
    }
    let got_seq = got
        .get(ETH_HLEN..ETH_HLEN + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes);
    if got.len() != expected.len() {
        return Some(format!(
            "frame {seq}: {} bytes after the header, expected {}",
            got.len(),
            expected.len()
        ));
    }
    if got_seq != Some(seq) {
        return Some(format!(
            "frame {seq}: received frame carries sequence number {} (out of order or lost)",
            got_seq.map_or("?".into(), |s| s.to_string())
        ));
    }
    let at = got
        .iter()
        .zip(expected)
        .position(|(a, b)| a != b)
        .unwrap_or(0);
    Some(format!(
        "frame {seq}: byte {at} is {:#04x}, expected {:#04x}",
        got[at], expected[at]
    ))
}

/// Fails if the planned memory does not end inside the device's IOVA
/// range.
pub fn check_fits(layout: &Layout, last: u64) -> Result<()> {
    let end = layout.base() + layout.size() - 1;
    if end > last {
        return Err(Error::Setup(format!(
            "the device's IOVA range ends at {last:#x}, below the {:#x} bytes needed from {:#x}",
            layout.size(),
            layout.base()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_distinct_and_addressed() {
        let mac = [2, 0, 0, 0, 0, 1];
        let a = frame(7, 0, 64, mac);
        let b = frame(7, 1, 64, mac);
        assert_eq!(a.len(), 64);
        assert_eq!(&a[..6], &mac);
        assert_ne!(a, b);
        assert_eq!(a, frame(7, 0, 64, mac));
        assert_eq!(frame(7, 3, MIN_FRAME, mac).len(), MIN_FRAME);
    }

    #[test]
    fn check_rx_finds_differences() {
        let mac = [2, 0, 0, 0, 0, 1];
        let f = frame(1, 5, 64, mac);
        let mut buf = vec![0u8; HDR_LEN];
        buf.extend_from_slice(&f);
        assert_eq!(check_rx(&buf, &f, 5), None);
        let other = frame(1, 6, 64, mac);
        assert!(check_rx(&buf, &other, 6)
            .unwrap()
            .contains("sequence number 5"));
        buf[HDR_LEN + 40] ^= 1;
        assert!(check_rx(&buf, &f, 5).unwrap().contains("byte 40"));
        assert!(check_rx(&buf[..HDR_LEN + 10], &f, 5)
            .unwrap()
            .contains("10 bytes"));
    }
}
