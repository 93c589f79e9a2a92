// SPDX-License-Identifier: GPL-2.0

//! `vhost_mdev.ko`: the vhost class driver of mediated devices.
//!
//! It binds the mdevs of class VHOST (`MODALIAS=mdev:c03`) and gives each a
//! char device, `/dev/vhost-mdev-<N>`, a child of the mdev, from a region
//! named `vhost-vdpa-mdev` in `/proc/devices` (DPDK's virtio_user takes a
//! char device whose major's name starts with `vhost-vdpa` for a vhost-vdpa
//! backend). Userspace drives the parent's device model through it with the
//! vhost-vdpa uAPI of [`include/uapi/linux/vhost.h`](srctree/include/uapi/linux/vhost.h),
//! with mainline's numbers, semantics and errnos
//! ([`drivers/vhost/vdpa.c`](srctree/drivers/vhost/vdpa.c),
//! `vhost_vdpa_unlocked_ioctl()`).
//!
//! One open at a time (`EBUSY`); open and close reset the device. Removing
//! the mdev (or unloading this module or the parent) while the device is
//! open does not wait for userspace, unlike mainline: the open file is
//! revoked (the device reset, the binding ended) and answers `ENODEV`.
//!
//! In this version: the device-wide commands (device id, status, config,
//! features, backend features, owner, counts, IOVA range, suspend and
//! resume). The virtqueue commands, the IOTLB messages and the eventfds are
//! not in yet: they answer as mainline does for a queue index it does not
//! have (`ENOBUFS`), or `ENOTTY`.

use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};
use kernel::{
    device::Core,
    driver,
    fs::File,
    mm::Mm,
    prelude::*,
    sync::aref::ARef,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};
use mdev::{
    Class,
    Device, //
};
use vdev::{
    vhost::uapi as v,
    virtio::{
        Features,
        Status,
        StatusBit, //
    },
    DeviceHandle, DeviceOps,
};

/// Devices at most (minors of the region), as `VHOST_VDPA_DEV_MAX`.
const MAX_DEVICES: u32 = 1 << 8;

/// What opening one device does: one open at a time.
struct VhostOpener<'a> {
    ops: &'a dyn DeviceOps,
    opened: AtomicBool,
}

impl chrdev::Opener for VhostOpener<'_> {
    fn open<'a>(&'a self, _file: &File) -> Result<KBox<dyn chrdev::FileHandler + 'a>> {
        if self.opened.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // As `vhost_vdpa_open()`: the device starts from a reset.
        self.ops.reset();
        let file = VhostFile {
            ops: self.ops,
            opened: &self.opened,
            owner: None,
            backend_features: 0,
        };
        KBox::new(file, GFP_KERNEL)
            .map(|f| f as KBox<dyn chrdev::FileHandler + 'a>)
            .map_err(|e| {
                self.opened.store(false, Ordering::Release);
                e.into()
            })
    }
}

/// An open device.
struct VhostFile<'a> {
    ops: &'a dyn DeviceOps,
    opened: &'a AtomicBool,
    /// The mm of `VHOST_SET_OWNER` (`mmgrab`, as vhost without a worker).
    owner: Option<ARef<Mm>>,
    backend_features: u64,
}

impl Drop for VhostFile<'_> {
    /// `close()`, or the revocation: as `vhost_vdpa_release()`, the device
    /// is reset.
    fn drop(&mut self) {
        self.ops.reset();
        self.opened.store(false, Ordering::Release);
    }
}

/// A user pointer of `len` bytes at `arg`.
fn user(arg: usize, len: usize) -> UserSlice {
    UserSlice::new(UserPtr::from_addr(arg), len)
}

/// Copies `value` to userspace at `arg` (`copy_to_user()`).
fn put<T: kernel::transmute::AsBytes>(arg: usize, value: T) -> Result<isize> {
    user(arg, size_of::<T>()).writer().write(&value)?;
    Ok(0)
}

/// Reads a `T` from userspace at `arg` (`copy_from_user()`).
fn get<T: kernel::transmute::FromBytes>(arg: usize) -> Result<T> {
    user(arg, size_of::<T>()).reader().read::<T>()
}

impl VhostFile<'_> {
    /// The backend features offered: mainline's `VHOST_VDPA_BACKEND_FEATURES`
    /// plus suspend and resume (every device model has them).
    const BACKEND_FEATURES: u64 =
        v::F_IOTLB_MSG_V2 | v::F_IOTLB_BATCH | v::F_IOTLB_ASID | v::F_SUSPEND | v::F_RESUME;

    /// `vhost_vdpa_set_status()`.
    fn set_status(&mut self, arg: usize) -> Result<isize> {
        let status: u8 = get(arg)?;
        let old = self.ops.status().raw();
        if status != 0 && old & !status != 0 {
            return Err(EINVAL);
        }
        if status == 0 {
            self.ops.reset();
        } else {
            self.ops.set_status(Status::from_raw(status));
        }
        Ok(0)
    }

    /// The `struct vhost_vdpa_config` header at `arg`, checked against the
    /// config size (`vhost_vdpa_config_validate()`): offset and length.
    fn config_range(&self, arg: usize) -> Result<(usize, usize)> {
        let mut hdr = user(arg, v::VDPA_CONFIG_HDR).reader();
        let off = hdr.read::<u32>()? as usize;
        let len = hdr.read::<u32>()? as usize;
        let size = self.ops.config_size();
        if len == 0 || off > size || len > size - off {
            return Err(EINVAL);
        }
        Ok((off, len))
    }

    /// `vhost_vdpa_get_config()`.
    fn get_config(&self, arg: usize) -> Result<isize> {
        let (off, len) = self.config_range(arg)?;
        let mut buf = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        self.ops.get_config(off, &mut buf)?;
        user(arg + v::VDPA_CONFIG_HDR, len)
            .writer()
            .write_slice(&buf)?;
        Ok(0)
    }

    /// `vhost_vdpa_set_config()`.
    fn set_config(&self, arg: usize) -> Result<isize> {
        let (off, len) = self.config_range(arg)?;
        let mut buf = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        user(arg + v::VDPA_CONFIG_HDR, len)
            .reader()
            .read_slice(&mut buf)?;
        self.ops.set_config(off, &buf)?;
        Ok(0)
    }

    /// `vhost_vdpa_set_features()`.
    fn set_features(&self, arg: usize) -> Result<isize> {
        if self.ops.status().contains(StatusBit::FeaturesOk) {
            return Err(EBUSY);
        }
        let features: u64 = get(arg)?;
        self.ops
            .set_driver_features(Features::from_raw(features))
            .map_err(|_| EINVAL)?;
        Ok(0)
    }

    /// `VHOST_SET_BACKEND_FEATURES` (no owner check, as mainline).
    fn set_backend_features(&mut self, arg: usize) -> Result<isize> {
        let features: u64 = get(arg)?;
        if features & !v::F_KNOWN != 0 {
            return Err(EOPNOTSUPP);
        }
        if features & v::F_DESC_ASID != 0 && features & v::F_IOTLB_ASID == 0 {
            return Err(EINVAL);
        }
        if features & !Self::BACKEND_FEATURES & !v::F_ENABLE_AFTER_DRIVER_OK != 0 {
            return Err(EOPNOTSUPP);
        }
        self.backend_features = features;
        Ok(0)
    }

    /// Whether the caller's mm owns the device (`vhost_dev_check_owner()`).
    fn is_owner(&self) -> bool {
        let current = kernel::current!();
        let mm = current.mm().map(|mm| mm.as_raw());
        mm.is_some() && self.owner.as_ref().map(|owner| owner.as_raw()) == mm
    }

    /// `VHOST_SET_OWNER` (`vhost_dev_set_owner()`).
    fn set_owner(&mut self) -> Result<isize> {
        if self.owner.is_some() {
            return Err(EBUSY);
        }
        let current = kernel::current!();
        let mm = current.mm().ok_or(EINVAL)?;
        self.owner = Some(ARef::from(&**mm));
        Ok(0)
    }

    /// `VHOST_SET_MEM_TABLE` (`vhost_set_memory()`): checked, and unused by
    /// vhost-vdpa (which maps through IOTLB messages).
    fn set_mem_table(&self, arg: usize) -> Result<isize> {
        let mut hdr = user(arg, v::MEMORY_HDR).reader();
        let nregions = hdr.read::<u32>()?;
        if hdr.read::<u32>()? != 0 {
            return Err(EOPNOTSUPP);
        }
        // vhost's `max_mem_regions` default.
        if nregions > 64 {
            return Err(E2BIG);
        }
        let mut regions = KVec::from_elem(0u8, nregions as usize * v::MEMORY_REGION, GFP_KERNEL)?;
        user(arg + v::MEMORY_HDR, regions.len())
            .reader()
            .read_slice(&mut regions)?;
        Ok(0)
    }

    /// The commands that need the owner, and the per-queue ones
    /// (`vhost_dev_ioctl()`, then `vhost_vdpa_vring_ioctl()`).
    fn owner_ioctl(&mut self, cmd: u32, arg: usize) -> Result<isize> {
        if cmd == v::SET_OWNER {
            return self.set_owner();
        }
        if !self.is_owner() {
            return Err(EPERM);
        }
        if cmd == v::SET_MEM_TABLE {
            return self.set_mem_table(arg);
        }
        // Every other command reads a queue index first.
        let index: u32 = get(arg)?;
        if index >= u32::from(self.ops.num_queues()) {
            return Err(ENOBUFS);
        }
        Err(ENOTTY)
    }
}

impl chrdev::FileHandler for VhostFile<'_> {
    fn ioctl(&mut self, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let ops = self.ops;
        match cmd {
            v::SET_BACKEND_FEATURES => self.set_backend_features(arg),
            v::VDPA_GET_DEVICE_ID => put(arg, ops.device_id()),
            v::VDPA_GET_STATUS => put(arg, ops.status().raw()),
            v::VDPA_SET_STATUS => self.set_status(arg),
            v::VDPA_GET_CONFIG => self.get_config(arg),
            v::VDPA_SET_CONFIG => self.set_config(arg),
            v::GET_FEATURES => put(arg, ops.device_features().raw()),
            v::SET_FEATURES => self.set_features(arg),
            v::VDPA_GET_VRING_NUM => put(arg, ops.max_queue_size()),
            // One virtqueue group, one address space.
            v::VDPA_GET_GROUP_NUM | v::VDPA_GET_AS_NUM => put(arg, 1u32),
            v::SET_LOG_BASE | v::SET_LOG_FD => Err(ENOTTY),
            v::GET_BACKEND_FEATURES => put(arg, Self::BACKEND_FEATURES),
            // Every address: the IOTLB decides (no platform IOMMU).
            v::VDPA_GET_IOVA_RANGE => put(arg, [0u64, u64::MAX]),
            v::VDPA_GET_CONFIG_SIZE => put(arg, ops.config_size() as u32),
            v::VDPA_GET_VQS_COUNT => put(arg, u32::from(ops.num_queues())),
            // Not DRIVER_OK: nothing to stop or start (`vhost_vdpa_suspend()`).
            v::VDPA_SUSPEND | v::VDPA_RESUME if !ops.status().contains(StatusBit::DriverOk) => {
                Ok(0)
            }
            v::VDPA_SUSPEND => ops.suspend().map(|()| 0),
            v::VDPA_RESUME => ops.resume().map(|()| 0),
            _ => self.owner_ioctl(cmd, arg),
        }
    }
}

/// The class driver.
struct VhostMdev;

/// What a bound mdev keeps: its char device, then its binding (fields drop
/// in order: the files are revoked before the device's reset).
struct Bound<'a> {
    _cdev: chrdev::Registration<'a>,
    _binding: vdev::Binding<'a>,
}

/// The name of the char device region (`/proc/devices`).
const REGION: &CStr = c"vhost-vdpa-mdev";

impl mdev::Driver for VhostMdev {
    type IdInfo = ();
    type Data<'bound> = Bound<'bound>;

    const ID_TABLE: mdev::IdTable<()> = &[(Class::Vhost.device_id(), ())];

    fn probe<'bound>(
        dev: &'bound Device<Core<'_>>,
        _id_info: Option<&'bound ()>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let binding = dev.class_data::<DeviceHandle>()?.bind();
        let opener = VhostOpener {
            ops: binding.ops(),
            opened: AtomicBool::new(false),
        };
        let cdev = chrdev::Registration::new(REGION, dev.as_ref(), c"vhost-mdev-", opener)?;
        Ok(Bound {
            _cdev: cdev,
            _binding: binding,
        })
    }
}

/// The module: the driver, and its char device region (made first, and
/// dropped last: fields drop in order).
#[pin_data]
struct VhostMdevModule {
    #[pin]
    _driver: driver::Registration<vbus::driver::Adapter<mdev::driver::Adapter<VhostMdev>>>,
    _region: chrdev::Region,
}

impl kernel::InPlaceModule for VhostMdevModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _region: chrdev::Region::new(REGION, MAX_DEVICES)?,
            _driver <- driver::Registration::new(<Self as kernel::ModuleMetadata>::NAME, module),
        })
    }
}

module! {
    type: VhostMdevModule,
    name: "vhost_mdev",
    authors: ["rmdev developers"],
    description: "rmdev vhost class driver: the vhost-vdpa uAPI on mediated devices",
    license: "GPL",
    alias: ["mdev:c03"],
}
