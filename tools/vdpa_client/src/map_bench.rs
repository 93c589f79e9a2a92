//! `map-bench`: how long the device takes to map a given amount of memory
//! through IOTLB `UPDATE` messages (`struct vhost_iotlb_msg` in
//! `include/uapi/linux/vhost_types.h`, written to the device file as
//! `VHOST_IOTLB_MSG_V2`), inside one `BATCH_BEGIN`/`BATCH_END` pair when the
//! device offers batching.
//!
//! The device is only owned (`VHOST_SET_OWNER`, backend features): no
//! status is written, no virtqueue set up. The memory is touched page by
//! page before the clock starts, so the time is the IOTLB path (pinning
//! and the device's own mapping), not page-fault zero filling.

use std::time::{Duration, Instant};

use vm_memory::{Bytes, GuestAddress};

use crate::device::{Device, MapChunks};
use crate::error::{Error, Result, SetupContext};
use crate::memory::{allocate, PAGE_SIZE};

/// What `map-bench` was asked to do.
#[derive(Debug, Clone)]
pub struct MapOptions {
    /// Device file.
    pub dev: String,
    /// MiB to map.
    pub mib: u64,
    /// MiB per update message; 0: one message for all.
    pub chunk_mib: u64,
    /// Trace on stderr.
    pub verbose: bool,
}

/// The measured times.
#[derive(Debug)]
pub struct MapReport {
    /// All `UPDATE` messages (and the batch around them).
    pub map: Duration,
    /// The `INVALIDATE` of the whole range.
    pub unmap: Duration,
    /// Update messages sent.
    pub messages: u64,
}

/// Runs the benchmark.
pub fn run(opts: &MapOptions) -> Result<MapReport> {
    Device::session(&opts.dev, opts.verbose, |dev| drive(dev, opts))
}

fn drive(dev: &mut Device, opts: &MapOptions) -> Result<MapReport> {
    let size = opts
        .mib
        .checked_mul(1 << 20)
        .ok_or_else(|| Error::Setup(format!("--mib {} is too large", opts.mib)))?;
    let (first, last) = dev.iova_range()?;
    let base = first.div_ceil(PAGE_SIZE) * PAGE_SIZE;
    if base.checked_add(size - 1).is_none_or(|end| end > last) {
        return Err(Error::Setup(format!(
            "{size:#x} bytes from IOVA {base:#x} do not fit the device's IOVA range \
             [{first:#x}, {last:#x}]"
        )));
    }
    let mem = allocate(base, size)?;
    for page in 0..size / PAGE_SIZE {
        mem.write_obj(1u8, GuestAddress(base + page * PAGE_SIZE))
            .setup("touching guest memory")?;
    }
    let (chunks, messages) = match opts.chunk_mib {
        0 => (MapChunks::Whole, 1),
        n => (MapChunks::Every(n << 20), size.div_ceil(n << 20)),
    };

    let start = Instant::now();
    dev.map(mem, chunks)?;
    let map = start.elapsed();

    let start = Instant::now();
    dev.unmap()?;
    let unmap = start.elapsed();
    Ok(MapReport {
        map,
        unmap,
        messages,
    })
}
