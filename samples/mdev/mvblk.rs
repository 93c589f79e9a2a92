// SPDX-License-Identifier: GPL-2.0

//! mvblk: an mdev parent whose devices are virtio-blk disks backed by RAM.
//!
//! - Parent device `mvblk.0` on bus `vbus`, bound by this module's driver
//!   `mvblk`; the capacity comes with the type: `mvblk-virtio-8m`,
//!   `mvblk-virtio-64m` (class VIRTIO) and `mvblk-vhost-8m` (class VHOST).
//! - Device model: virtio 1.3 section 5.2 with `VIRTIO_F_VERSION_1`,
//!   `VIRTIO_BLK_F_SIZE_MAX`, `_SEG_MAX`, `_BLK_SIZE` and `_FLUSH`; one
//!   request queue; requests `VIRTIO_BLK_T_IN`, `_OUT`, `_FLUSH` and
//!   `_GET_ID`, others answered `VIRTIO_BLK_S_UNSUPP`. Request handling
//!   follows `drivers/vdpa/vdpa_sim/vdpa_sim_blk.c`: transfers above
//!   [`REQUEST_MAX`], outside the disk, or a non-zero sector on a request
//!   other than `IN`/`OUT` get `VIRTIO_BLK_S_IOERR`.
//! - The data lives as long as the mdev: a device reset keeps it, removing
//!   the mdev frees it. The id string is the mdev's UUID, cut to 20 bytes.

use kernel::{
    device::Core,
    prelude::*, //
};
use mdev::{
    Class,
    Parent,
    TypeInfo,
    TypeTable,
    Uuid, //
};
use vdev::{
    vhost::Vringh,
    virtio::{
        self,
        blk::{
            self,
            RequestStatus,
            RequestType, //
        },
        Features,
    },
    DeviceHandle,
    Model,
    Queues,
    VirtioDevice, //
};

/// Requests handled per run of the device's work before it yields.
const BATCH: u32 = 32;
/// Most data segments per request the device takes (`seg_max`).
const SEG_MAX: u32 = 32;
/// Largest data segment in bytes (`size_max`).
const SIZE_MAX: u32 = 4096;
/// Largest data transfer of one request, in bytes: `SEG_MAX * SIZE_MAX`, as
/// `vdpa_sim_blk` (larger ones get `VIRTIO_BLK_S_IOERR`), which bounds the
/// time the device's lock is held per request.
const REQUEST_MAX: usize = (SEG_MAX * SIZE_MAX) as usize;
/// Bytes in a MiB.
const MIB: u64 = 1 << 20;

/// The outcome of a request: its status and the data bytes written.
struct Done {
    status: RequestStatus,
    written: usize,
}

impl Done {
    fn status(status: RequestStatus) -> Self {
        Self { status, written: 0 }
    }
}

/// The virtio-blk device model over a RAM disk.
struct BlkModel {
    disk: VVec<u8>,
    id: [u8; blk::ID_BYTES],
}

impl BlkModel {
    fn new(capacity: u64, uuid: &Uuid) -> Result<Self> {
        let disk = VVec::from_elem(0u8, usize::try_from(capacity)?, GFP_KERNEL)?;
        let mut id = [0u8; blk::ID_BYTES];
        let s = uuid.to_cstring();
        id.copy_from_slice(&s.as_cstr().to_bytes()[..blk::ID_BYTES]);
        Ok(Self { disk, id })
    }

    /// The disk bytes `len` long at `sector`, if they are on the disk and
    /// `len` is at most [`REQUEST_MAX`].
    fn range(&self, sector: u64, len: usize) -> Option<core::ops::Range<usize>> {
        if len > REQUEST_MAX {
            return None;
        }
        let start = usize::try_from(sector.checked_mul(blk::SECTOR_SIZE)?).ok()?;
        let end = start.checked_add(len)?;
        (end <= self.disk.len()).then_some(start..end)
    }

    /// Handles one request whose 16-byte header was read; the status byte
    /// is the chain's last writable byte, so `writable - 1` bytes are data.
    /// `kind` is `None` for a request type the device does not know.
    fn handle(
        &mut self,
        vq: &mut Pin<&mut Vringh>,
        kind: Option<RequestType>,
        sector: u64,
    ) -> Done {
        use RequestStatus::{
            IoErr,
            Ok as Good,
            Unsupp, //
        };
        let data_in = vq.writable().saturating_sub(1);
        // As `vdpa_sim_blk`: a sector on anything but a read or write is an
        // error, whatever the request is.
        if !matches!(kind, Some(RequestType::In | RequestType::Out)) && sector != 0 {
            return Done::status(IoErr);
        }
        let Some(kind) = kind else {
            return Done::status(Unsupp);
        };
        match kind {
            RequestType::In => {
                let Some(r) = self.range(sector, data_in) else {
                    return Done::status(IoErr);
                };
                match vq.as_mut().write(&self.disk[r]) {
                    Ok(n) => Done {
                        status: if n == data_in { Good } else { IoErr },
                        written: n,
                    },
                    Err(_) => Done::status(IoErr),
                }
            }
            RequestType::Out => {
                let Some(r) = self.range(sector, vq.readable()) else {
                    return Done::status(IoErr);
                };
                let len = r.len();
                match vq.as_mut().read(&mut self.disk[r]) {
                    Ok(n) if n == len => Done::status(Good),
                    _ => Done::status(IoErr),
                }
            }
            // RAM is always durable enough.
            RequestType::Flush => Done::status(Good),
            RequestType::GetId => {
                let n = data_in.min(blk::ID_BYTES);
                match vq.as_mut().write(&self.id[..n]) {
                    Ok(w) => Done {
                        status: Good,
                        written: w,
                    },
                    Err(_) => Done::status(IoErr),
                }
            }
        }
    }
}

impl Model for BlkModel {
    const DEVICE_ID: u32 = virtio::ID_BLOCK;
    const NUM_QUEUES: u16 = 1;
    const CONFIG_SIZE: usize = blk::CONFIG_BLK_SIZE + 4;

    fn features(&self) -> Features {
        virtio::F_VERSION_1 | blk::F_SIZE_MAX | blk::F_SEG_MAX | blk::F_BLK_SIZE | blk::F_FLUSH
    }

    fn config(&self, config: &mut [u8]) {
        let sectors = self.disk.len() as u64 / blk::SECTOR_SIZE;
        config[blk::CONFIG_CAPACITY..][..8].copy_from_slice(&sectors.to_le_bytes());
        config[blk::CONFIG_SIZE_MAX..][..4].copy_from_slice(&SIZE_MAX.to_le_bytes());
        config[blk::CONFIG_SEG_MAX..][..4].copy_from_slice(&SEG_MAX.to_le_bytes());
        config[blk::CONFIG_BLK_SIZE..][..4]
            .copy_from_slice(&(blk::SECTOR_SIZE as u32).to_le_bytes());
    }

    fn process(&mut self, vqs: &mut Queues<'_>) -> Result<bool> {
        let Some(mut vq) = vqs.get(0) else {
            return Ok(false);
        };
        for _ in 0..BATCH {
            let Some(head) = vq.as_mut().next()? else {
                return Ok(false);
            };
            let mut hdr = [0u8; blk::OUTHDR_LEN];
            if vq.writable() < 1 || vq.as_mut().read(&mut hdr) != Ok(blk::OUTHDR_LEN) {
                // No header or no status byte: nothing to answer with.
                vq.as_mut().complete(head, 0)?;
                continue;
            }
            let kind = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
            let mut sector = [0u8; 8];
            sector.copy_from_slice(&hdr[8..16]);
            let done = self.handle(
                &mut vq,
                RequestType::from_raw(kind),
                u64::from_le_bytes(sector),
            );
            // The status goes in the last writable byte.
            let left = vq.writable();
            vq.as_mut().skip_writable(left.saturating_sub(1));
            // `used.len` counts the bytes written, the status byte only if it
            // was (as `vdpa_sim_blk`): a driver must not read a status it
            // was not given. A used ring that cannot be written is a broken
            // ring: the device fails (NEEDS_RESET).
            let status = usize::from(vq.as_mut().write(&[done.status as u8]) == Ok(1));
            let used = u32::try_from(done.written + status).unwrap_or(u32::MAX);
            vq.as_mut().complete(head, used)?;
        }
        Ok(true)
    }
}

/// The parent.
struct MvblkParent;

impl Parent for MvblkParent {
    /// The disk's capacity in bytes.
    type TypeData = u64;
    type Device = VirtioDevice<BlkModel>;
    type ClassData = DeviceHandle;

    const TYPES: TypeTable<u64> = &[
        (
            TypeInfo {
                sysfs_name: c"virtio-8m",
                pretty_name: c"mvblk RAM disk, 8 MiB (virtio class)",
                description: c"virtio-blk RAM disk of 8 MiB, for the kernel's virtio_blk",
                device_api: c"virtio-mdev",
                class: Class::Virtio,
                max_instances: 8,
            },
            8 * MIB,
        ),
        (
            TypeInfo {
                sysfs_name: c"virtio-64m",
                pretty_name: c"mvblk RAM disk, 64 MiB (virtio class)",
                description: c"virtio-blk RAM disk of 64 MiB, for the kernel's virtio_blk",
                device_api: c"virtio-mdev",
                class: Class::Virtio,
                max_instances: 2,
            },
            64 * MIB,
        ),
        (
            TypeInfo {
                sysfs_name: c"vhost-8m",
                pretty_name: c"mvblk RAM disk, 8 MiB (vhost class)",
                description: c"virtio-blk RAM disk of 8 MiB, for vhost-vdpa userspace",
                device_api: c"vhost-mdev",
                class: Class::Vhost,
                max_instances: 8,
            },
            8 * MIB,
        ),
    ];

    fn create(
        &self,
        _info: &TypeInfo,
        capacity: &u64,
        uuid: &Uuid,
    ) -> Result<(VirtioDevice<BlkModel>, DeviceHandle)> {
        let dev = VirtioDevice::new(BlkModel::new(*capacity, uuid)?)?;
        let handle = dev.handle();
        Ok((dev, handle))
    }
}

/// The parent module's driver: parent `mvblk.0`.
struct MvblkDriver;

impl mdev::ParentDriver for MvblkDriver {
    const NAME: &'static CStr = c"mvblk";
    type Parent = MvblkParent;

    fn parent(_dev: &vbus::Device<Core<'_>>) -> Result<MvblkParent> {
        Ok(MvblkParent)
    }
}

mdev::module_parent! {
    driver: MvblkDriver,
    name: "mvblk",
    authors: ["rmdev developers"],
    description: "rmdev sample parent: virtio-blk RAM disk mdevs",
    license: "GPL",
}

#[kernel::macros::kunit_tests(rmdev_mvblk)]
mod tests {
    use super::*;
    use vdev::{
        testing::{
            bring_up,
            wait_until,
            DriverRing, //
        },
        vhost::Perm,
    };

    const UUID: &[u8] = b"5e1d0c3b-2a49-4f68-8e7d-6c5b4a392817";
    const SECTOR: usize = blk::SECTOR_SIZE as usize;

    struct Disk {
        dev: VirtioDevice<BlkModel>,
        vq: DriverRing,
        sent: u16,
    }

    fn disk() -> Result<Disk> {
        let dev = VirtioDevice::new(BlkModel::new(MIB, &Uuid::parse(UUID)?)?)?;
        // Room for a transfer above REQUEST_MAX.
        let mut vq = DriverRing::new(16, 2 * REQUEST_MAX)?;
        bring_up(dev.ops(), blk::F_FLUSH | blk::F_BLK_SIZE, &mut [&mut vq])?;
        Ok(Disk { dev, vq, sent: 0 })
    }

    fn outhdr(kind: u32, sector: u64) -> [u8; blk::OUTHDR_LEN] {
        let mut h = [0u8; blk::OUTHDR_LEN];
        h[..4].copy_from_slice(&kind.to_le_bytes());
        h[8..].copy_from_slice(&sector.to_le_bytes());
        h
    }

    impl Disk {
        /// Sends a request and waits for it: (bytes written, status, data read).
        fn request(&mut self, out: &[&[u8]], inl: &[usize]) -> Result<(u32, u8, KVec<u8>)> {
            let head = self.vq.add(out, inl)?;
            self.sent += 1;
            self.dev.ops().kick_vq(0);
            let sent = self.sent;
            assert!(wait_until(|| self.vq.used_idx() == sent));
            let (id, len) = self.vq.used().ok_or(EINVAL)?;
            assert_eq!(id, head);
            let total: usize = inl.iter().sum();
            let mut data = KVec::from_elem(0u8, total, GFP_KERNEL)?;
            self.vq.written(head, &mut data);
            let status = data.last().copied().unwrap_or(0xff);
            data.truncate(total.saturating_sub(1));
            Ok((len, status, data))
        }
    }

    #[test]
    fn config_space() -> Result {
        let d = disk()?;
        let ops = d.dev.ops();
        assert_eq!(ops.device_id(), 2);
        let mut cfg = [0u8; 24];
        assert_eq!(ops.get_config(0, &mut cfg), Ok(()));
        assert_eq!(
            u64::from_le_bytes(cfg[..8].try_into().map_err(|_| EINVAL)?),
            MIB / 512
        );
        assert_eq!(
            u32::from_le_bytes(cfg[8..12].try_into().map_err(|_| EINVAL)?),
            SIZE_MAX
        );
        assert_eq!(
            u32::from_le_bytes(cfg[12..16].try_into().map_err(|_| EINVAL)?),
            SEG_MAX
        );
        assert_eq!(
            u32::from_le_bytes(cfg[20..24].try_into().map_err(|_| EINVAL)?),
            512
        );
        Ok(())
    }

    #[test]
    fn write_then_read_back() -> Result {
        let mut d = disk()?;
        let data = [0x5au8; 2 * SECTOR];
        let (len, status, _) = d.request(&[&outhdr(RequestType::Out as u32, 7), &data], &[1])?;
        assert_eq!((len, status), (1, RequestStatus::Ok as u8));
        let (len, status, back) =
            d.request(&[&outhdr(RequestType::In as u32, 7)], &[2 * SECTOR, 1])?;
        assert_eq!(
            (len as usize, status),
            (2 * SECTOR + 1, RequestStatus::Ok as u8)
        );
        assert_eq!(&back[..], &data[..]);
        // The sector before is still zero.
        let (_, status, before) = d.request(&[&outhdr(RequestType::In as u32, 6)], &[SECTOR, 1])?;
        assert_eq!(status, RequestStatus::Ok as u8);
        assert!(before.iter().all(|&b| b == 0));
        Ok(())
    }

    #[test]
    fn data_survives_reset() -> Result {
        let mut d = disk()?;
        d.request(&[&outhdr(RequestType::Out as u32, 0), &[1u8; SECTOR]], &[1])?;
        // The old ring goes first (dropping it resets the device), then the
        // device comes up again on a new one.
        d.vq = DriverRing::new(16, 8 * 4096)?;
        bring_up(d.dev.ops(), Features::EMPTY, &mut [&mut d.vq])?;
        d.sent = 0;
        let (_, status, back) = d.request(&[&outhdr(RequestType::In as u32, 0)], &[SECTOR, 1])?;
        assert_eq!(status, RequestStatus::Ok as u8);
        assert!(back.iter().all(|&b| b == 1));
        Ok(())
    }

    #[test]
    fn flush_get_id_unsupported() -> Result {
        let mut d = disk()?;
        assert_eq!(
            d.request(&[&outhdr(RequestType::Flush as u32, 0)], &[1])?.1,
            RequestStatus::Ok as u8
        );
        let (len, status, id) = d.request(
            &[&outhdr(RequestType::GetId as u32, 0)],
            &[blk::ID_BYTES, 1],
        )?;
        assert_eq!(
            (len as usize, status),
            (blk::ID_BYTES + 1, RequestStatus::Ok as u8)
        );
        assert_eq!(&id[..], &UUID[..blk::ID_BYTES]);
        assert_eq!(
            d.request(&[&outhdr(42, 0)], &[1])?.1,
            RequestStatus::Unsupp as u8
        );
        Ok(())
    }

    #[test]
    fn out_of_range_is_ioerr() -> Result {
        let mut d = disk()?;
        let last = MIB / 512;
        assert_eq!(
            d.request(&[&outhdr(RequestType::In as u32, last)], &[SECTOR, 1])?
                .1,
            RequestStatus::IoErr as u8
        );
        assert_eq!(
            d.request(
                &[&outhdr(RequestType::In as u32, last - 1)],
                &[2 * SECTOR, 1]
            )?
            .1,
            RequestStatus::IoErr as u8
        );
        assert_eq!(
            d.request(
                &[&outhdr(RequestType::Out as u32, u64::MAX), &[0u8; SECTOR]],
                &[1]
            )?
            .1,
            RequestStatus::IoErr as u8
        );
        assert_eq!(
            d.request(&[&outhdr(RequestType::In as u32, last - 1)], &[SECTOR, 1])?
                .1,
            RequestStatus::Ok as u8
        );
        // Sector must be 0 for other requests; transfers are bounded.
        assert_eq!(
            d.request(&[&outhdr(RequestType::Flush as u32, 1)], &[1])?.1,
            RequestStatus::IoErr as u8
        );
        assert_eq!(
            d.request(
                &[&outhdr(RequestType::GetId as u32, 1)],
                &[blk::ID_BYTES, 1]
            )?
            .1,
            RequestStatus::IoErr as u8
        );
        assert_eq!(
            d.request(
                &[&outhdr(RequestType::In as u32, 0)],
                &[REQUEST_MAX + SECTOR, 1]
            )?
            .1,
            RequestStatus::IoErr as u8
        );
        Ok(())
    }

    #[test]
    fn malformed_request_completes_empty() -> Result {
        let mut d = disk()?;
        // A header cut short, and no status byte: given back with 0 bytes.
        let head = d.vq.add(&[&[0u8; 8]], &[])?;
        d.dev.ops().kick_vq(0);
        assert!(wait_until(|| d.vq.used_idx() == 1));
        assert_eq!(d.vq.used(), Some((head, 0)));
        Ok(())
    }

    #[test]
    fn status_byte_the_device_cannot_write_is_not_reported() -> Result {
        let mut d = disk()?;
        d.request(&[&outhdr(RequestType::Out as u32, 3), &[7u8; SECTOR]], &[1])?;
        // A read whose status byte (its last descriptor) is read-only in the
        // IOTLB: the data is written, the status is not, and `used.len`
        // says so (as `vdpa_sim_blk`).
        let head =
            d.vq.add(&[&outhdr(RequestType::In as u32, 3)], &[SECTOR, 1])?;
        let status = d.vq.desc_buffer(head.wrapping_add(2));
        let iotlb = d.dev.ops().iotlb().clone();
        iotlb.reset();
        iotlb.add_range(0, status - 1, 0, Perm::ReadWrite)?;
        iotlb.add_range(status, status + 15, status, Perm::ReadOnly)?;
        iotlb.add_range(status + 16, u64::MAX, status + 16, Perm::ReadWrite)?;
        d.dev.ops().kick_vq(0);
        assert!(wait_until(|| d.vq.used_idx() == 2));
        assert_eq!(d.vq.used(), Some((head, SECTOR as u32)));
        let mut back = [0u8; SECTOR + 1];
        d.vq.written(head, &mut back);
        assert!(back[..SECTOR].iter().all(|&b| b == 7));
        assert_eq!(back[SECTOR], 0);
        Ok(())
    }
}
