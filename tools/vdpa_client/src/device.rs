//! A vhost-vdpa session: the control path of `include/uapi/linux/vhost.h`
//! (the `VHOST_*` and `VHOST_VDPA_*` ioctls, and IOTLB messages written to
//! the device file), as `drivers/vhost/vdpa.c` implements it and our
//! `/dev/vhost-mdev-N` mirrors it.
//!
//! The order is the virtio driver initialisation sequence (virtio 1.2
//! §3.1.1 "Driver Requirements: Device Initialization") carried over
//! vhost-vdpa:
//!
//! 1. open, `VHOST_SET_OWNER`, `VHOST_GET_BACKEND_FEATURES` and
//!    `VHOST_SET_BACKEND_FEATURES` (`IOTLB_MSG_V2 | IOTLB_BATCH` where
//!    offered) — [`Device::open`];
//! 2. `VHOST_VDPA_SET_STATUS 0` (reset), `ACKNOWLEDGE | DRIVER`,
//!    `VHOST_GET_FEATURES`, `VHOST_SET_FEATURES`, `FEATURES_OK` and
//!    `VHOST_VDPA_GET_STATUS` to see it stuck — [`Device::negotiate`];
//! 3. IOTLB `UPDATE` messages for the driver's memory, between
//!    `BATCH_BEGIN` and `BATCH_END` when batching was acked —
//!    [`Device::map`];
//! 4. per virtqueue `VHOST_SET_VRING_NUM`, `VHOST_SET_VRING_ADDR`,
//!    `VHOST_SET_VRING_BASE 0`, `VHOST_SET_VRING_KICK`,
//!    `VHOST_SET_VRING_CALL`, `VHOST_VDPA_SET_VRING_ENABLE 1` —
//!    [`Device::setup_queue`];
//! 5. `DRIVER_OK` — [`Device::driver_ok`];
//! 6. at the end `VHOST_VDPA_SET_STATUS 0`, IOTLB `INVALIDATE` of what was
//!    mapped, close — [`Device::shutdown`] (also run, best effort, on drop).
//!
//! Every ioctl goes through the rust-vmm `vhost` crate
//! ([`VhostKernVdpa`]); none is hand-written.

use std::sync::Arc;

use vhost::vdpa::VhostVdpa;
use vhost::vhost_kern::vdpa::VhostKernVdpa;
use vhost::vhost_kern::vhost_binding::{VHOST_BACKEND_F_IOTLB_BATCH, VHOST_BACKEND_F_IOTLB_MSG_V2};
use vhost::vhost_kern::VhostKernFeatures;
use vhost::{VhostAccess, VhostBackend, VhostIotlbBackend, VhostIotlbMsg, VhostIotlbType};
use virtio_bindings::virtio_config::{
    VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_DRIVER_OK,
    VIRTIO_CONFIG_S_FAILED, VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_NEEDS_RESET,
    VIRTIO_F_VERSION_1,
};
use vm_memory::{GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

use crate::error::{Error, IoctlContext, Result};
use crate::ring::SplitQueue;

const S_ACKNOWLEDGE: u8 = VIRTIO_CONFIG_S_ACKNOWLEDGE as u8;
const S_DRIVER: u8 = VIRTIO_CONFIG_S_DRIVER as u8;
const S_FEATURES_OK: u8 = VIRTIO_CONFIG_S_FEATURES_OK as u8;
const S_DRIVER_OK: u8 = VIRTIO_CONFIG_S_DRIVER_OK as u8;
const S_BAD: u8 = (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED) as u8;

/// The `vhost` crate's handle. Its guest-memory object is only consulted by
/// vhost-net/vsock-style address translation; vhost-vdpa takes IOVAs
/// as they are, so it gets an empty one and the driver's memory lives in
/// [`Device`].
type Backend = VhostKernVdpa<Arc<GuestMemoryMmap>>;

/// An owned vhost-vdpa device file and what the driver did to it.
pub struct Device {
    vdpa: Backend,
    /// The char device's path, for messages.
    path: String,
    verbose: bool,
    /// The status was written, so teardown resets the device.
    status_written: bool,
    /// The driver's memory and the IOVA ranges mapped for it, unmapped in
    /// [`Device::shutdown`].
    mem: Option<GuestMemoryMmap>,
    mapped: Vec<(u64, u64)>,
    shut_down: bool,
}

/// How [`Device::map`] splits the IOTLB update messages.
#[derive(Clone, Copy, Debug)]
pub enum MapChunks {
    /// One `UPDATE` per memory region.
    Whole,
    /// One `UPDATE` per this many bytes.
    Every(u64),
}

impl Device {
    /// Opens `path`, takes ownership (`VHOST_SET_OWNER`) and acks the
    /// backend features this client uses (`IOTLB_MSG_V2`, `IOTLB_BATCH`)
    /// where the device offers them.
    pub fn open(path: &str, verbose: bool) -> Result<Self> {
        let vdpa =
            Backend::new(path, Arc::new(GuestMemoryMmap::new())).ioctl(format!("open {path}"))?;
        let mut dev = Device {
            vdpa,
            path: path.to_string(),
            verbose,
            status_written: false,
            mem: None,
            mapped: Vec::new(),
            shut_down: false,
        };
        dev.vdpa.set_owner().ioctl("VHOST_SET_OWNER")?;
        let offered = dev
            .vdpa
            .get_backend_features()
            .ioctl("VHOST_GET_BACKEND_FEATURES")?;
        let wanted = (1 << VHOST_BACKEND_F_IOTLB_MSG_V2) | (1 << VHOST_BACKEND_F_IOTLB_BATCH);
        let acked = offered & wanted;
        dev.vdpa
            .set_backend_features(acked)
            .ioctl(format!("VHOST_SET_BACKEND_FEATURES {acked:#x}"))?;
        dev.trace(format_args!(
            "{path}: owned; backend features offered {offered:#x}, acked {acked:#x}"
        ));
        Ok(dev)
    }

    /// Opens `path` ([`Device::open`]), runs `f` on the device, then shuts
    /// it down ([`Device::shutdown`]) whatever `f` returned; `f`'s error
    /// comes first, then the shutdown's.
    pub fn session<T>(
        path: &str,
        verbose: bool,
        f: impl FnOnce(&mut Device) -> Result<T>,
    ) -> Result<T> {
        let mut dev = Device::open(path, verbose)?;
        let result = f(&mut dev);
        let shutdown = dev.shutdown();
        let value = result?;
        shutdown?;
        Ok(value)
    }

    /// Checks that the device is virtio device type `id` (`what`, for the
    /// message) and takes virtqueues of `qsize` entries; returns its IOVA
    /// range (first, last) and its largest queue size. A wrong type or a
    /// queue too large is a setup error.
    pub fn expect(&self, id: u32, what: &str, qsize: u16) -> Result<(u64, u64, u16)> {
        let got = self.device_id()?;
        if got != id {
            return Err(Error::Setup(format!(
                "{} is virtio device type {got}, not a {what} ({id})",
                self.path
            )));
        }
        let max = self.max_queue_size()?;
        if qsize > max {
            return Err(Error::Setup(format!(
                "--qsize {qsize} is larger than the device's maximum {max}"
            )));
        }
        let (first, last) = self.iova_range()?;
        Ok((first, last, max))
    }

    fn trace(&self, msg: std::fmt::Arguments<'_>) {
        if self.verbose {
            eprintln!("vdpa-client: {msg}");
        }
    }

    /// True if IOTLB batching (`VHOST_BACKEND_F_IOTLB_BATCH`) was acked.
    pub fn batching(&self) -> bool {
        self.vdpa.get_backend_features_acked() & (1 << VHOST_BACKEND_F_IOTLB_BATCH) != 0
    }

    /// `VHOST_VDPA_GET_DEVICE_ID`: the virtio device type.
    pub fn device_id(&self) -> Result<u32> {
        self.vdpa.get_device_id().ioctl("VHOST_VDPA_GET_DEVICE_ID")
    }

    /// `VHOST_VDPA_GET_IOVA_RANGE`: the first and last usable IOVA.
    pub fn iova_range(&self) -> Result<(u64, u64)> {
        let r = self
            .vdpa
            .get_iova_range()
            .ioctl("VHOST_VDPA_GET_IOVA_RANGE")?;
        Ok((r.first, r.last))
    }

    /// `VHOST_VDPA_GET_VRING_NUM`: the largest virtqueue the device takes.
    pub fn max_queue_size(&self) -> Result<u16> {
        self.vdpa.get_vring_num().ioctl("VHOST_VDPA_GET_VRING_NUM")
    }

    fn set_status(&mut self, status: u8) -> Result<()> {
        self.status_written = true;
        self.vdpa
            .set_status(status)
            .ioctl(format!("VHOST_VDPA_SET_STATUS {status:#x}"))
    }

    fn get_status(&self) -> Result<u8> {
        self.vdpa.get_status().ioctl("VHOST_VDPA_GET_STATUS")
    }

    /// Resets the device and negotiates features: the driver accepts
    /// `VIRTIO_F_VERSION_1` (required), and of the rest only the bits in
    /// `optional` that the device offers. Returns the negotiated set.
    ///
    /// A device that does not offer `VIRTIO_F_VERSION_1`, or clears
    /// `FEATURES_OK`, is a device error.
    pub fn negotiate(&mut self, optional: u64) -> Result<u64> {
        self.set_status(0)?;
        self.set_status(S_ACKNOWLEDGE | S_DRIVER)?;
        let offered = self.vdpa.get_features().ioctl("VHOST_GET_FEATURES")?;
        let version_1 = 1u64 << VIRTIO_F_VERSION_1;
        if offered & version_1 == 0 {
            self.set_status(S_ACKNOWLEDGE | S_DRIVER | VIRTIO_CONFIG_S_FAILED as u8)?;
            return Err(Error::Device(format!(
                "the device offers features {offered:#x} without VIRTIO_F_VERSION_1 \
                 (legacy devices are not supported)"
            )));
        }
        let features = offered & (version_1 | optional);
        self.vdpa
            .set_features(features)
            .ioctl(format!("VHOST_SET_FEATURES {features:#x}"))?;
        self.set_status(S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK)?;
        let status = self.get_status()?;
        self.trace(format_args!(
            "features offered {offered:#x}, acked {features:#x}; status {status:#x}"
        ));
        if status & S_FEATURES_OK == 0 || status & S_BAD != 0 {
            return Err(Error::Device(format!(
                "the device did not accept features {features:#x}: status {status:#x} after \
                 FEATURES_OK"
            )));
        }
        Ok(features)
    }

    /// `VHOST_VDPA_GET_CONFIG`: `buf.len()` bytes of the device-specific
    /// configuration space from `offset`.
    pub fn read_config(&self, offset: u32, buf: &mut [u8]) -> Result<()> {
        self.vdpa.get_config(offset, buf).ioctl(format!(
            "VHOST_VDPA_GET_CONFIG offset {offset} len {}",
            buf.len()
        ))
    }

    /// Maps all of `mem` read-write, IOVA = guest address, with IOTLB
    /// `UPDATE` messages split as `chunks` says, inside `BATCH_BEGIN` /
    /// `BATCH_END` when batching was acked. The device keeps `mem` (see
    /// [`Device::mem`]) until [`Device::shutdown`] unmaps it.
    pub fn map(&mut self, mem: GuestMemoryMmap, chunks: MapChunks) -> Result<()> {
        let mut regions = Vec::new();
        for region in mem.iter() {
            let iova = region.start_addr().0;
            let host = mem
                .get_host_address(region.start_addr())
                .map_err(|e| Error::Setup(format!("host address of {iova:#x}: {e}")))?;
            regions.push((iova, region.len(), host as u64));
        }
        // The device keeps the memory from the first update on, so that it
        // is unmapped (invalidated) before it is freed even on error paths.
        self.mem = Some(mem);

        let batch = self.batching();
        if batch {
            self.iotlb(VhostIotlbType::BatchBegin, 0, 0, 0)?;
        }
        let mut messages = 0u64;
        let mut result = Ok(());
        'regions: for &(iova, size, host) in &regions {
            let step = match chunks {
                MapChunks::Whole => size,
                MapChunks::Every(n) => n.max(1),
            };
            let mut off = 0;
            while off < size {
                let len = step.min(size - off);
                result = self.iotlb(VhostIotlbType::Update, iova + off, len, host + off);
                if result.is_err() {
                    break 'regions;
                }
                if off == 0 {
                    // Recorded once partly mapped: shutdown invalidates it.
                    self.mapped.push((iova, size));
                }
                off += len;
                messages += 1;
            }
        }
        if batch {
            // Close the batch even after a failed update.
            let end = self.iotlb(VhostIotlbType::BatchEnd, 0, 0, 0);
            result = result.and(end);
        }
        result?;
        self.trace(format_args!(
            "mapped {:#x} bytes in {messages} IOTLB update(s){}",
            regions.iter().map(|r| r.1).sum::<u64>(),
            if batch { " in one batch" } else { "" }
        ));
        Ok(())
    }

    /// The memory handed to [`Device::map`].
    pub fn mem(&self) -> Result<&GuestMemoryMmap> {
        self.mem
            .as_ref()
            .ok_or_else(|| Error::Setup("no memory mapped".into()))
    }

    fn iotlb(&self, msg_type: VhostIotlbType, iova: u64, size: u64, uaddr: u64) -> Result<()> {
        let (name, perm) = match msg_type {
            VhostIotlbType::Update => ("VHOST_IOTLB_UPDATE", VhostAccess::ReadWrite),
            VhostIotlbType::Invalidate => ("VHOST_IOTLB_INVALIDATE", VhostAccess::No),
            VhostIotlbType::BatchBegin => ("VHOST_IOTLB_BATCH_BEGIN", VhostAccess::No),
            VhostIotlbType::BatchEnd => ("VHOST_IOTLB_BATCH_END", VhostAccess::No),
            _ => ("VHOST_IOTLB_?", VhostAccess::No),
        };
        let msg = VhostIotlbMsg {
            iova,
            size,
            userspace_addr: uaddr,
            perm,
            msg_type,
        };
        self.vdpa.send_iotlb_msg(&msg).ioctl(if size != 0 {
            format!("{name} (write) iova {iova:#x} size {size:#x}")
        } else {
            format!("{name} (write)")
        })
    }

    /// Hands virtqueue `q` to the device: size, ring addresses (IOVAs),
    /// base index 0, kick and call eventfds, enable.
    pub fn setup_queue(&self, q: &SplitQueue, max_size: u16) -> Result<()> {
        let i = q.index();
        self.vdpa
            .set_vring_num(i, q.size())
            .ioctl(format!("VHOST_SET_VRING_NUM {i} {}", q.size()))?;
        self.vdpa
            .set_vring_addr(i, &q.config(max_size))
            .ioctl(format!("VHOST_SET_VRING_ADDR {i}"))?;
        self.vdpa
            .set_vring_base(i, 0)
            .ioctl(format!("VHOST_SET_VRING_BASE {i} 0"))?;
        self.vdpa
            .set_vring_kick(i, q.kick_fd())
            .ioctl(format!("VHOST_SET_VRING_KICK {i}"))?;
        self.vdpa
            .set_vring_call(i, q.call_fd())
            .ioctl(format!("VHOST_SET_VRING_CALL {i}"))?;
        self.vdpa
            .set_vring_enable(i, true)
            .ioctl(format!("VHOST_VDPA_SET_VRING_ENABLE {i} 1"))?;
        self.trace(format_args!("virtqueue {i}: {} entries, enabled", q.size()));
        Ok(())
    }

    /// Sets `DRIVER_OK`; a device that then reports `NEEDS_RESET` or
    /// `FAILED`, or drops `DRIVER_OK`, is a device error.
    pub fn driver_ok(&mut self) -> Result<()> {
        self.set_status(S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)?;
        let status = self.get_status()?;
        self.trace(format_args!("DRIVER_OK; status {status:#x}"));
        if status & S_DRIVER_OK == 0 || status & S_BAD != 0 {
            return Err(Error::Device(format!("status {status:#x} after DRIVER_OK")));
        }
        Ok(())
    }

    /// Invalidates what [`Device::map`] mapped (one `INVALIDATE` per memory
    /// region) and forgets the memory.
    pub fn unmap(&mut self) -> Result<()> {
        let mut first = None;
        for (iova, size) in std::mem::take(&mut self.mapped) {
            if let Err(e) = self.iotlb(VhostIotlbType::Invalidate, iova, size, 0) {
                first.get_or_insert(e);
            }
        }
        self.mem = None;
        first.map_or(Ok(()), Err)
    }

    /// Resets the device (if its status was written) and unmaps the driver's
    /// memory; the file is closed when the `Device` is dropped. Returns the
    /// first error, after trying every step.
    pub fn shutdown(&mut self) -> Result<()> {
        self.shut_down = true;
        let mut first = None;
        if self.status_written {
            if let Err(e) = self.set_status(0) {
                first.get_or_insert(e);
            }
        }
        if let Err(e) = self.unmap() {
            first.get_or_insert(e);
        }
        self.trace(format_args!(
            "{}unmapped; closing",
            if self.status_written { "reset, " } else { "" }
        ));
        first.map_or(Ok(()), Err)
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        if !self.shut_down {
            // Error paths: best effort, the first error was already reported.
            let _ = self.shutdown();
        }
    }
}
