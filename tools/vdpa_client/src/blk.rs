//! `blk`: write, flush and read back blocks of a virtio-blk device (virtio
//! 1.2 §5.2 "Block Device"), and a 4 KiB random I/O benchmark.
//!
//! One virtqueue (requestq, index 0). Features: `VIRTIO_F_VERSION_1`,
//! `VIRTIO_F_ACCESS_PLATFORM` and `VIRTIO_BLK_F_FLUSH` where offered,
//! nothing else. A request (§5.2.6) is a chain of three descriptors: the
//! 16-byte `struct virtio_blk_outhdr` (`le32 type, le32 reserved, le64
//! sector`, device-readable), the 4 KiB data buffer (device-readable for
//! `VIRTIO_BLK_T_OUT`, device-writable for `VIRTIO_BLK_T_IN`) and the 1-byte
//! status (device-writable); a `VIRTIO_BLK_T_FLUSH` has no data buffer.
//! The capacity is `virtio_blk_config.capacity` (offset 0, `le64`, in
//! 512-byte sectors).

use std::time::{Duration, Instant};

use virtio_bindings::virtio_blk::{
    virtio_blk_outhdr, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_S_OK, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_IN,
    VIRTIO_BLK_T_OUT,
};
use virtio_bindings::virtio_config::VIRTIO_F_ACCESS_PLATFORM;
use virtio_bindings::virtio_ids::VIRTIO_ID_BLOCK;
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

use crate::device::{Device, MapChunks};
use crate::error::{Error, Result, SetupContext};
use crate::memory::{Layout, PAGE_SIZE};
use crate::net::{check_fits, run_seed, splitmix64};
use crate::ring::{Buf, RingAddrs, SplitQueue, Waiter};

/// Bytes per block this client reads and writes.
pub const BLOCK: u64 = 4096;
/// virtio-blk sectors are 512 bytes whatever the device's block size.
const SECTOR: u64 = 512;
/// `sizeof(struct virtio_blk_outhdr)`.
const HDR_LEN: u64 = std::mem::size_of::<virtio_blk_outhdr>() as u64;
/// Status the driver writes before submitting, so a request the device
/// completed without writing its status is caught.
const STATUS_UNSET: u8 = 0xff;

/// What `blk` was asked to do.
#[derive(Debug, Clone)]
pub struct BlkOptions {
    /// Device file.
    pub dev: String,
    /// Blocks to write and read back (ignored by `bench`).
    pub blocks: u64,
    /// Virtqueue size.
    pub qsize: u16,
    /// Run random I/O for this long instead.
    pub bench: Option<Duration>,
    /// The benchmark writes instead of reading.
    pub write: bool,
    /// Give up when the device makes no progress for this long.
    pub timeout: Duration,
    /// Trace the setup on stderr.
    pub verbose: bool,
}

/// What happened.
#[derive(Debug, Default)]
pub struct BlkReport {
    /// Writes completed with `VIRTIO_BLK_S_OK`.
    pub wrote: u64,
    /// Reads completed with `VIRTIO_BLK_S_OK`.
    pub read: u64,
    /// Reads whose data equals what was written.
    pub identical: u64,
    /// A flush was sent (`VIRTIO_BLK_F_FLUSH` negotiated) and succeeded.
    pub flushed: Option<bool>,
    /// Benchmark: requests completed, and in how long.
    pub completed: u64,
    /// How long the data path (or the benchmark) ran.
    pub elapsed: Duration,
    /// What went wrong first, if anything.
    pub problem: Option<String>,
}

/// Runs the test (or benchmark) against the device at `opts.dev`.
pub fn run(opts: &BlkOptions) -> Result<BlkReport> {
    Device::session(&opts.dev, opts.verbose, |dev| drive(dev, opts))
}

/// The content of `block` in this run: 512 little-endian words from
/// SplitMix64 seeded by the run's seed and the block number.
pub fn pattern(seed: u64, block: u64) -> Vec<u8> {
    let mut x = seed ^ block.wrapping_mul(0xd134_2543_de82_ef95);
    let mut data = Vec::with_capacity(BLOCK as usize);
    for _ in 0..BLOCK / 8 {
        x = splitmix64(x);
        data.extend_from_slice(&x.to_le_bytes());
    }
    data
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    In,
    Out,
    Flush,
}

#[derive(Clone, Copy, Debug)]
struct Req {
    kind: Kind,
    block: u64,
}

/// A request that came back.
struct Done {
    req: Req,
    slot: u16,
    status: u8,
}

/// The request queue with its request slots (header, data, status each).
struct ReqQueue {
    q: SplitQueue,
    hdrs: GuestAddress,
    status: GuestAddress,
    data: GuestAddress,
    free: Vec<u16>,
    /// Slot and request of each in-flight head.
    of_head: Vec<Option<(u16, Req)>>,
}

impl ReqQueue {
    fn hdr_addr(&self, slot: u16) -> GuestAddress {
        GuestAddress(self.hdrs.0 + HDR_LEN * u64::from(slot))
    }
    fn status_addr(&self, slot: u16) -> GuestAddress {
        GuestAddress(self.status.0 + u64::from(slot))
    }
    fn data_addr(&self, slot: u16) -> GuestAddress {
        GuestAddress(self.data.0 + BLOCK * u64::from(slot))
    }

    /// Writes and queues `req` (not published), with `data` as the block to
    /// write for `Out`. Returns `false` if no slot is free.
    fn submit(&mut self, mem: &GuestMemoryMmap, req: Req, data: Option<&[u8]>) -> Result<bool> {
        let Some(slot) = self.free.pop() else {
            return Ok(false);
        };
        let (ty, sector) = match req.kind {
            Kind::In => (VIRTIO_BLK_T_IN, req.block * (BLOCK / SECTOR)),
            Kind::Out => (VIRTIO_BLK_T_OUT, req.block * (BLOCK / SECTOR)),
            Kind::Flush => (VIRTIO_BLK_T_FLUSH, 0),
        };
        let mut hdr = [0u8; HDR_LEN as usize];
        hdr[0..4].copy_from_slice(&ty.to_le_bytes());
        hdr[8..16].copy_from_slice(&sector.to_le_bytes());
        mem.write_slice(&hdr, self.hdr_addr(slot))
            .setup("writing a request header")?;
        mem.write_obj(STATUS_UNSET, self.status_addr(slot))
            .setup("writing a request status")?;
        if let Some(data) = data {
            mem.write_slice(data, self.data_addr(slot))
                .setup("writing a data block")?;
        }
        let hdr = Buf::readable(self.hdr_addr(slot), HDR_LEN as u32);
        let status = Buf::writable(self.status_addr(slot), 1);
        let data = self.data_addr(slot);
        let chain: &[Buf] = match req.kind {
            Kind::In => &[hdr, Buf::writable(data, BLOCK as u32), status],
            Kind::Out => &[hdr, Buf::readable(data, BLOCK as u32), status],
            Kind::Flush => &[hdr, status],
        };
        let Some(head) = self.q.push(mem, chain)? else {
            self.free.push(slot);
            return Ok(false);
        };
        self.of_head[usize::from(head)] = Some((slot, req));
        Ok(true)
    }

    /// The next completed request, if any. The caller frees its slot with
    /// [`ReqQueue::release`] once it has looked at the data.
    fn complete(&mut self, mem: &GuestMemoryMmap) -> Result<Option<Done>> {
        let Some(used) = self.q.pop_used(mem)? else {
            return Ok(None);
        };
        let (slot, req) = self.of_head[usize::from(used.head)]
            .take()
            .ok_or_else(|| Error::Device(format!("request {} returned twice", used.head)))?;
        let status: u8 = mem
            .read_obj(self.status_addr(slot))
            .setup("reading a request status")?;
        Ok(Some(Done { req, slot, status }))
    }

    fn release(&mut self, slot: u16) {
        self.free.push(slot);
    }
}

fn drive(dev: &mut Device, opts: &BlkOptions) -> Result<BlkReport> {
    let (first, last, max) = dev.expect(VIRTIO_ID_BLOCK, "block device", opts.qsize)?;
    let features = dev.negotiate((1 << VIRTIO_F_ACCESS_PLATFORM) | (1 << VIRTIO_BLK_F_FLUSH))?;
    let mut cap = [0u8; 8];
    dev.read_config(0, &mut cap)?;
    let capacity_blocks = u64::from_le_bytes(cap) / (BLOCK / SECTOR);
    if opts.verbose {
        eprintln!(
            "vdpa-client: capacity {} sectors ({capacity_blocks} blocks of {BLOCK} bytes)",
            u64::from_le_bytes(cap)
        );
    }
    if opts.bench.is_none() && opts.blocks > capacity_blocks {
        return Err(Error::Setup(format!(
            "--blocks {} exceeds the device's capacity of {capacity_blocks} blocks",
            opts.blocks
        )));
    }
    if capacity_blocks == 0 {
        return Err(Error::Setup(
            "the device has no complete 4 KiB block".into(),
        ));
    }

    // Three descriptors per request.
    let slots = (opts.qsize / 3).max(1);
    let mut layout = Layout::new(first);
    let ring = RingAddrs::plan(&mut layout, opts.qsize);
    let hdrs = layout.alloc(HDR_LEN * u64::from(slots), 16);
    let status = layout.alloc(u64::from(slots), 8);
    let data = layout.alloc(BLOCK * u64::from(slots), PAGE_SIZE);
    check_fits(&layout, last)?;
    dev.map(layout.allocate()?, MapChunks::Whole)?;

    let q = SplitQueue::new(0, opts.qsize, ring)?;
    dev.setup_queue(&q, max)?;
    dev.driver_ok()?;

    let mem = dev.mem()?;
    let waiter = Waiter::new(&[&q])?;
    let mut rq = ReqQueue {
        q,
        hdrs,
        status,
        data,
        free: (0..slots).rev().collect(),
        of_head: vec![None; usize::from(opts.qsize)],
    };
    let mut report = BlkReport::default();
    let start = Instant::now();

    if let Some(duration) = opts.bench {
        bench(
            mem,
            &waiter,
            &mut rq,
            opts,
            capacity_blocks,
            duration,
            &mut report,
        )?;
        report.elapsed = start.elapsed();
        return Ok(report);
    }

    let seed = run_seed();
    // Writes.
    let writes = (0..opts.blocks).map(|block| Req {
        kind: Kind::Out,
        block,
    });
    let stalled = pipeline(
        mem,
        &waiter,
        &mut rq,
        opts.timeout,
        writes,
        seed,
        |_, done| {
            if done.status == VIRTIO_BLK_S_OK as u8 {
                report.wrote += 1;
            } else {
                report.problem.get_or_insert(format!(
                    "write of block {} completed with status {:#04x}",
                    done.req.block, done.status
                ));
            }
            Ok(())
        },
    )?;
    if let Some(why) = stalled {
        report.problem.get_or_insert(why);
    }

    // Flush.
    if features & (1 << VIRTIO_BLK_F_FLUSH) != 0 && report.problem.is_none() {
        let flush = std::iter::once(Req {
            kind: Kind::Flush,
            block: 0,
        });
        let mut status = None;
        let stalled = pipeline(
            mem,
            &waiter,
            &mut rq,
            opts.timeout,
            flush,
            seed,
            |_, done| {
                status = Some(done.status);
                Ok(())
            },
        )?;
        let ok = status == Some(VIRTIO_BLK_S_OK as u8);
        if let Some(why) = stalled {
            report.problem.get_or_insert(why);
        } else if let Some(status) = status.filter(|_| !ok) {
            report
                .problem
                .get_or_insert(format!("flush completed with status {status:#04x}"));
        }
        report.flushed = Some(ok);
    }

    // Reads, compared with the pattern.
    if report.problem.is_none() {
        let reads = (0..opts.blocks).map(|block| Req {
            kind: Kind::In,
            block,
        });
        let mut buf = vec![0u8; BLOCK as usize];
        let stalled = pipeline(
            mem,
            &waiter,
            &mut rq,
            opts.timeout,
            reads,
            seed,
            |rq, done| {
                if done.status != VIRTIO_BLK_S_OK as u8 {
                    report.problem.get_or_insert(format!(
                        "read of block {} completed with status {:#04x}",
                        done.req.block, done.status
                    ));
                    return Ok(());
                }
                report.read += 1;
                mem.read_slice(&mut buf, rq.data_addr(done.slot))
                    .setup("reading a data block")?;
                let expected = pattern(seed, done.req.block);
                if buf == expected {
                    report.identical += 1;
                } else {
                    let at = buf
                        .iter()
                        .zip(&expected)
                        .position(|(a, b)| a != b)
                        .unwrap_or(0);
                    report.problem.get_or_insert(format!(
                        "block {} read back differs from what was written, first at byte {at} \
                     ({:#04x}, expected {:#04x})",
                        done.req.block, buf[at], expected[at]
                    ));
                }
                Ok(())
            },
        )?;
        if let Some(why) = stalled {
            report.problem.get_or_insert(why);
        }
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Submits every request of `reqs`, keeping as many in flight as there
/// are slots, and hands each completion to `done` (then frees its slot).
/// Returns what went wrong if the device stopped making progress.
fn pipeline(
    mem: &GuestMemoryMmap,
    waiter: &Waiter,
    rq: &mut ReqQueue,
    timeout: Duration,
    mut reqs: impl Iterator<Item = Req>,
    seed: u64,
    mut done: impl FnMut(&ReqQueue, &Done) -> Result<()>,
) -> Result<Option<String>> {
    let mut pending = reqs.next();
    let mut last_progress = Instant::now();
    loop {
        let mut progress = false;
        while let Some(d) = rq.complete(mem)? {
            if d.status == STATUS_UNSET {
                return Err(Error::Device(format!(
                    "{:?} request for block {} came back without a status",
                    d.req.kind, d.req.block
                )));
            }
            done(rq, &d)?;
            rq.release(d.slot);
            progress = true;
        }
        let mut queued = false;
        while let Some(req) = pending {
            let data = (req.kind == Kind::Out).then(|| pattern(seed, req.block));
            if !rq.submit(mem, req, data.as_deref())? {
                break;
            }
            queued = true;
            pending = reqs.next();
        }
        if queued {
            rq.q.publish(mem)?;
            rq.q.kick()?;
            progress = true;
        }
        if pending.is_none() && rq.q.in_flight() == 0 {
            return Ok(None);
        }
        let now = Instant::now();
        if progress {
            last_progress = now;
            continue;
        }
        let until = last_progress + timeout;
        if now >= until {
            return Ok(Some(format!(
                "timed out: no completion for {} ms with {} requests in flight",
                timeout.as_millis(),
                rq.q.in_flight()
            )));
        }
        waiter.wait(&[&rq.q], until - now)?;
    }
}

/// Random 4 KiB reads (or writes) over the whole capacity, every slot busy,
/// for `duration`.
fn bench(
    mem: &GuestMemoryMmap,
    waiter: &Waiter,
    rq: &mut ReqQueue,
    opts: &BlkOptions,
    capacity_blocks: u64,
    duration: Duration,
    report: &mut BlkReport,
) -> Result<()> {
    let kind = if opts.write { Kind::Out } else { Kind::In };
    let mut rng = run_seed();
    let start = Instant::now();
    let deadline = start + duration;
    let mut last_progress = start;
    loop {
        let mut progress = false;
        while let Some(d) = rq.complete(mem)? {
            if d.status == VIRTIO_BLK_S_OK as u8 {
                report.completed += 1;
            } else {
                report.problem.get_or_insert(format!(
                    "{:?} of block {} completed with status {:#04x}",
                    d.req.kind, d.req.block, d.status
                ));
            }
            rq.release(d.slot);
            progress = true;
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        let mut queued = false;
        loop {
            rng = splitmix64(rng);
            let req = Req {
                kind,
                block: rng % capacity_blocks,
            };
            // Benchmark writes carry whatever the slot holds.
            if !rq.submit(mem, req, None)? {
                break;
            }
            queued = true;
        }
        if queued {
            rq.q.publish(mem)?;
            rq.q.kick()?;
            progress = true;
        }
        if progress {
            last_progress = now;
            continue;
        }
        let until = last_progress + opts.timeout;
        if now >= until {
            report.problem = Some(format!(
                "timed out: no completion for {} ms with {} requests in flight",
                opts.timeout.as_millis(),
                rq.q.in_flight()
            ));
            return Ok(());
        }
        waiter.wait(&[&rq.q], until.min(deadline) - now)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_differ_per_block_and_seed() {
        let a = pattern(1, 0);
        assert_eq!(a.len(), BLOCK as usize);
        assert_ne!(a, pattern(1, 1));
        assert_ne!(a, pattern(2, 0));
        assert_eq!(a, pattern(1, 0));
    }
}
