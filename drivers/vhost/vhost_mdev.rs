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
//! Eventfds: a kick eventfd is polled, and its wake-up calls the device's
//! `kick_vq` (in atomic context, as vhost-vdpa without a worker); a call
//! eventfd belongs to its virtqueue's callback, which the device swaps under
//! its lock (mainline reads `call_ctx` unlocked); the config eventfd is the
//! device's config callback (mvnet's link changes reach userspace through
//! it) and survives `VHOST_VDPA_SET_STATUS` 0. Close tears down in the order
//! stop the device (and drop its callbacks: call and config eventfds) →
//! stop kick polling → drop the error eventfds → empty the IOTLB → unpin →
//! drop the mm.
//!
//! Not in this version: dirty-page logging (`VHOST_SET_LOG_BASE`,
//! `VHOST_SET_LOG_FD` give `ENOTTY`; no feature offers it).

use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};
use kernel::{
    device::Core,
    driver,
    fs::{
        File,
        LocalFile, //
    },
    iov::IovIterSource,
    mm::Mm,
    page::PAGE_SHIFT,
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
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
    vhost::{
        eventfd::{
            EventFd,
            Poll,
            Wake, //
        },
        pin::PinnedRun,
        uapi as v, //
    },
    virtio::{
        Features,
        Status,
        StatusBit, //
    },
    Callback, DeviceHandle, DeviceOps, Notify,
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
        self.open_reset()
            .inspect_err(|_| self.opened.store(false, Ordering::Release))
    }
}

impl VhostOpener<'_> {
    /// The open after the single-open check: as `vhost_vdpa_open()`, the
    /// device starts from a reset.
    fn open_reset(&self) -> Result<KBox<dyn chrdev::FileHandler + '_>> {
        self.ops.reset();
        let mut vqs = KVec::new();
        for _ in 0..self.ops.num_queues() {
            vqs.push(Vq::default(), GFP_KERNEL)?;
        }
        let file = VhostFile {
            ops: self.ops,
            opened: &self.opened,
            owner: None,
            backend_features: 0,
            vqs,
            maps: KVVec::new(),
            as_ready: false,
            config_call: None,
        };
        Ok(KBox::new(file, GFP_KERNEL)? as KBox<dyn chrdev::FileHandler + '_>)
    }
}

/// What vhost keeps of a virtqueue (`struct vhost_virtqueue`'s fields that
/// vhost-vdpa uses). Its call eventfd is not here: the device holds it, in
/// the virtqueue's callback.
#[derive(Default)]
struct Vq<'a> {
    /// `VHOST_SET_VRING_NUM`.
    num: u32,
    /// `VHOST_SET_VRING_BASE`, or the last `VHOST_GET_VRING_BASE`.
    last_avail: u16,
    /// `VHOST_SET_VRING_BUSYLOOP_TIMEOUT` (kept, unused: no worker).
    busyloop_timeout: u32,
    /// `VHOST_SET_VRING_KICK`: the polled kick eventfd.
    kick: Option<Pin<KBox<Poll<'a>>>>,
    /// `VHOST_SET_VRING_ERR` (kept: vhost-vdpa signals it for nothing).
    err: Option<EventFd>,
}

/// The waker of a kick eventfd (`handle_vq_kick()`).
struct Kick<'a> {
    ops: &'a dyn DeviceOps,
    index: u16,
}

impl Wake for Kick<'_> {
    fn wake(&self) {
        self.ops.kick_vq(self.index);
    }
}

/// A call or config eventfd as a device callback
/// (`vhost_vdpa_virtqueue_cb()`, `vhost_vdpa_config_cb()`).
struct Call(EventFd);

impl Notify for Call {
    fn notify(&self) {
        self.0.signal();
    }
}

/// The eventfd of a `struct vhost_vring_file`'s or `VHOST_VDPA_SET_CONFIG_CALL`'s
/// `fd`, or none for `VHOST_FILE_UNBIND` (-1).
///
/// # Errors
///
/// `EBADF`, `EINVAL` as [`EventFd::from_fd`].
fn eventfd(fd: i32) -> Result<Option<EventFd>> {
    if fd == v::FILE_UNBIND {
        return Ok(None);
    }
    EventFd::from_fd(fd).map(Some)
}

/// The device callback that signals the eventfd `fd`, or none.
fn call(fd: i32) -> Result<Option<Callback>> {
    Ok(match eventfd(fd)? {
        Some(efd) => Some(Arc::new(Call(efd), GFP_KERNEL)? as Callback),
        None => None,
    })
}

/// An open device.
struct VhostFile<'a> {
    ops: &'a dyn DeviceOps,
    opened: &'a AtomicBool,
    /// The mm of `VHOST_SET_OWNER` (`mmgrab`, as vhost without a worker).
    owner: Option<ARef<Mm>>,
    backend_features: u64,
    vqs: KVec<Vq<'a>>,
    /// The IOTLB entries userspace mapped, with their pinned pages.
    maps: KVVec<Map>,
    /// Address space 0 exists (made by the first `UPDATE` or `BATCH_BEGIN`).
    as_ready: bool,
    /// `VHOST_VDPA_SET_CONFIG_CALL`: the device's config callback, given
    /// again after a reset through `VHOST_VDPA_SET_STATUS`.
    config_call: Option<Callback>,
}

/// One IOTLB entry of the device and the pages behind it.
struct Map {
    /// First and last I/O virtual address (bytes, inclusive).
    start: u64,
    last: u64,
    _pages: PinnedRun,
}

impl Drop for VhostFile<'_> {
    /// `close()`, or the revocation: as `vhost_vdpa_release()`, the device
    /// is reset.
    fn drop(&mut self) {
        // Stop the device (its callbacks go: the call and config
        // eventfds), stop polling the kick eventfds and drop the error
        // eventfds, end the device's access to memory, unpin (the order of
        // `vhost_vdpa_release()`), then drop the mm (a field).
        self.ops.reset();
        self.config_call = None;
        self.vqs.clear();
        self.ops.iotlb().reset();
        self.maps.clear();
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
    /// plus suspend and resume (every device model has them) and a
    /// persistent IOTLB: a reset never empties it, negotiated or not (as
    /// vhost-vdpa's own IOTLB; without the feature mainline resets the
    /// parent's copy, which for vdpa_sim means a 1:1 map of every address).
    const BACKEND_FEATURES: u64 = v::F_IOTLB_MSG_V2
        | v::F_IOTLB_BATCH
        | v::F_IOTLB_ASID
        | v::F_SUSPEND
        | v::F_RESUME
        | v::F_IOTLB_PERSIST;

    /// `vhost_vdpa_set_status()`.
    fn set_status(&mut self, arg: usize) -> Result<isize> {
        let status: u8 = get(arg)?;
        let old = self.ops.status().raw();
        if status != 0 && old & !status != 0 {
            return Err(EINVAL);
        }
        if status == 0 {
            self.ops.reset();
            // The config eventfd stays set (mainline keeps `config_ctx`).
            self.ops.set_config_callback(self.config_call.clone());
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
        self.owner
            .as_ref()
            .is_some_and(|owner| vdev::vhost::pin::is_current_mm(owner))
    }

    /// `VHOST_SET_OWNER` (`vhost_dev_set_owner()`).
    fn set_owner(&mut self) -> Result<isize> {
        if self.owner.is_some() {
            return Err(EBUSY);
        }
        self.owner = Some(vdev::vhost::pin::current_mm()?);
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
        // Every other command is a virtqueue's, and reads its index first.
        let index: u32 = get(arg)?;
        if index >= u32::from(self.ops.num_queues()) {
            return Err(ENOBUFS);
        }
        self.vring_ioctl(cmd, index as u16, arg)
    }

    /// `VHOST_VDPA_SET_CONFIG_CALL` (`vhost_vdpa_set_config_call()`).
    fn set_config_call(&mut self, arg: usize) -> Result<isize> {
        let fd: i32 = get(arg)?;
        self.config_call = call(fd)?;
        self.ops.set_config_callback(self.config_call.clone());
        Ok(0)
    }

    /// `VHOST_SET_VRING_KICK`: polls the new eventfd, then stops polling
    /// the old one (`vhost_vring_ioctl()`).
    fn set_vring_kick(&mut self, index: u16, arg: usize) -> Result<isize> {
        let [_, fd] = get::<[i32; 2]>(arg)?;
        let ops = self.ops;
        let i = usize::from(index);
        self.vqs[i].kick = match fd {
            v::FILE_UNBIND => None,
            fd => {
                let kick = KBox::new(Kick { ops, index }, GFP_KERNEL)?;
                Some(KBox::pin_init(Poll::new(fd, kick), GFP_KERNEL)?)
            }
        };
        Ok(0)
    }

    /// `VHOST_SET_VRING_ADDR` (`vhost_vring_set_addr()`, then vhost-vdpa's
    /// checks).
    fn set_vring_addr(&mut self, index: u16, arg: usize) -> Result<isize> {
        let mut a = user(arg, v::VRING_ADDR).reader();
        let _index = a.read::<u32>()?;
        let flags = a.read::<u32>()?;
        let desc = a.read::<u64>()?;
        let used = a.read::<u64>()?;
        let avail = a.read::<u64>()?;
        let log = a.read::<u64>()?;
        if flags & !v::VRING_F_LOG != 0 {
            return Err(EOPNOTSUPP);
        }
        // `VRING_AVAIL_ALIGN_SIZE`, `VRING_USED_ALIGN_SIZE`.
        if avail & 1 != 0 || used & 3 != 0 || log & 3 != 0 {
            return Err(EINVAL);
        }
        self.check_stopped()?;
        self.ops
            .set_vq_address(index, vdev::vhost::RingAddrs { desc, avail, used })
            .map_err(|_| EINVAL)?;
        Ok(0)
    }

    /// Ring addresses and bases change only while the device is not
    /// running: before `DRIVER_OK`, or suspended (`EINVAL`).
    fn check_stopped(&self) -> Result {
        if self.ops.status().contains(StatusBit::DriverOk) && !self.ops.suspended() {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// The virtqueue commands (`vhost_vdpa_vring_ioctl()`, with
    /// `vhost_vring_ioctl()`); `index` is checked.
    fn vring_ioctl(&mut self, cmd: u32, index: u16, arg: usize) -> Result<isize> {
        let ops = self.ops;
        let i = usize::from(index);
        let driver_ok = ops.status().contains(StatusBit::DriverOk);
        match cmd {
            v::SET_VRING_NUM => {
                let [_, num] = get::<[u32; 2]>(arg)?;
                if num == 0 || num > u32::from(ops.max_queue_size()) || !num.is_power_of_two() {
                    return Err(EINVAL);
                }
                self.vqs[i].num = num;
                // A void op in vDPA: the device's answer is not the caller's.
                let _ = ops.set_vq_num(index, num);
                Ok(0)
            }
            v::VDPA_SET_VRING_ENABLE => {
                let [_, num] = get::<[u32; 2]>(arg)?;
                // As above (`set_vq_ready`).
                let _ = ops.set_vq_ready(index, num != 0);
                Ok(0)
            }
            // One group (0), one address space (0).
            v::VDPA_GET_VRING_GROUP => put(arg, [u32::from(index), 0]),
            v::VDPA_GET_VRING_DESC_GROUP => Err(EOPNOTSUPP),
            v::VDPA_SET_GROUP_ASID => {
                let [group, asid] = get::<[u32; 2]>(arg)?;
                if group >= 1 || asid >= 1 {
                    return Err(EINVAL);
                }
                if driver_ok {
                    return Err(EBUSY);
                }
                Ok(0)
            }
            v::VDPA_GET_VRING_SIZE => {
                let num = if driver_ok {
                    self.vqs[i].num
                } else {
                    u32::from(ops.max_queue_size())
                };
                put(arg, [u32::from(index), num])
            }
            v::GET_VRING_BASE => {
                self.vqs[i].last_avail = ops.vq_state(index)?;
                put(arg, [u32::from(index), u32::from(self.vqs[i].last_avail)])
            }
            v::SET_VRING_BASE => {
                let [_, num] = get::<[u32; 2]>(arg)?;
                let base = u16::try_from(num).map_err(|_| EINVAL)?;
                self.vqs[i].last_avail = base;
                self.check_stopped()?;
                ops.set_vq_state(index, base)?;
                Ok(0)
            }
            v::SET_VRING_ADDR => self.set_vring_addr(index, arg),
            v::SET_VRING_BUSYLOOP_TIMEOUT => {
                let [_, num] = get::<[u32; 2]>(arg)?;
                self.vqs[i].busyloop_timeout = num;
                Ok(0)
            }
            v::GET_VRING_BUSYLOOP_TIMEOUT => {
                put(arg, [u32::from(index), self.vqs[i].busyloop_timeout])
            }
            v::SET_VRING_KICK => self.set_vring_kick(index, arg),
            v::SET_VRING_CALL => {
                let [_, fd] = get::<[i32; 2]>(arg)?;
                // The old callback (and its eventfd) goes under the
                // device's lock: no call can still be reading it.
                ops.set_vq_callback(index, call(fd)?)?;
                Ok(0)
            }
            v::SET_VRING_ERR => {
                let [_, fd] = get::<[i32; 2]>(arg)?;
                self.vqs[i].err = eventfd(fd)?;
                Ok(0)
            }
            // No cross-endian legacy devices (`vhost_set_vring_endian()`
            // without `CONFIG_VHOST_CROSS_ENDIAN_LEGACY`).
            _ => Err(ENOTTY),
        }
    }
}

/// A `struct vhost_iotlb_msg`.
struct IotlbMsg {
    iova: u64,
    size: u64,
    uaddr: u64,
    perm: u8,
    kind: u8,
}

impl VhostFile<'_> {
    /// `write()` of an IOTLB message (`vhost_chr_write_iter()`): returns
    /// the message size; `EINVAL` for a short or unknown message, `EFAULT`
    /// for every error of its processing (as mainline).
    fn write_msg(&mut self, data: &mut IovIterSource<'_>) -> Result<usize> {
        let mut word = [0u8; 4];
        if data.copy_from_iter(&mut word) != 4 {
            return Err(EINVAL);
        }
        let mut asid = 0;
        match u32::from_ne_bytes(word) {
            // `struct vhost_msg`: the body is 8-byte aligned.
            v::IOTLB_MSG => data.advance(4),
            v::IOTLB_MSG_V2 if self.backend_features & v::F_IOTLB_ASID != 0 => {
                if data.copy_from_iter(&mut word) != 4 {
                    return Err(EINVAL);
                }
                asid = u32::from_ne_bytes(word);
            }
            v::IOTLB_MSG_V2 => data.advance(4),
            _ => return Err(EINVAL),
        }
        let mut body = [0u8; v::IOTLB_BODY];
        if data.copy_from_iter(&mut body) != body.len() {
            return Err(EINVAL);
        }
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&body[i..i + 8]);
            u64::from_ne_bytes(b)
        };
        let msg = IotlbMsg {
            iova: u64_at(0),
            size: u64_at(8),
            uaddr: u64_at(16),
            perm: body[24],
            kind: body[25],
        };
        if msg.kind == v::IOTLB_UPDATE && msg.size == 0 {
            return Err(EINVAL);
        }
        self.process_msg(asid, &msg).map_err(|_| EFAULT)?;
        Ok(v::IOTLB_MSG_SIZE)
    }

    /// `vhost_vdpa_process_iotlb_msg()`, for one address space.
    fn process_msg(&mut self, asid: u32, msg: &IotlbMsg) -> Result {
        if !self.is_owner() {
            return Err(EPERM);
        }
        if msg.kind == v::IOTLB_UPDATE || msg.kind == v::IOTLB_BATCH_BEGIN {
            if asid != 0 {
                return Err(EINVAL);
            }
            self.as_ready = true;
        } else if asid != 0 || !self.as_ready {
            return Err(EINVAL);
        }
        match msg.kind {
            v::IOTLB_UPDATE => self.update(msg),
            v::IOTLB_INVALIDATE => {
                // Size 0 from address 0 is everything (`last` wraps), as
                // mainline; from elsewhere, nothing.
                self.unmap(msg.iova, msg.iova.wrapping_add(msg.size).wrapping_sub(1));
                Ok(())
            }
            // The device reads the IOTLB itself: nothing to hand over at
            // the end of a batch, and with one address space no message can
            // belong to another batch (mainline's `batch_asid` check).
            v::IOTLB_BATCH_BEGIN | v::IOTLB_BATCH_END => Ok(()),
            _ => Err(EINVAL),
        }
    }

    /// `VHOST_IOTLB_UPDATE` (`vhost_vdpa_process_iotlb_update()` and
    /// `vhost_vdpa_pa_map()`): pins the pages and maps each physically
    /// contiguous run.
    fn update(&mut self, msg: &IotlbMsg) -> Result {
        if msg.size == 0 || msg.iova > u64::MAX - (msg.size - 1) {
            return Err(EINVAL);
        }
        // Mainline takes any value and maps by the write bit; nonsense is
        // refused here (`Documentation/driver-api/vhost_mdev.rst`).
        let perm = match u32::from(msg.perm) {
            p if p == vdev::vhost::Perm::ReadOnly as u32 => vdev::vhost::Perm::ReadOnly,
            p if p == vdev::vhost::Perm::WriteOnly as u32 => vdev::vhost::Perm::WriteOnly,
            p if p == vdev::vhost::Perm::ReadWrite as u32 => vdev::vhost::Perm::ReadWrite,
            _ => return Err(EINVAL),
        };
        let last = msg.iova + (msg.size - 1);
        if self
            .maps
            .iter()
            .any(|m| m.start <= last && msg.iova <= m.last)
        {
            return Err(EEXIST);
        }
        let page = 1u64 << PAGE_SHIFT;
        // From the first page to the last, without overflow.
        let npages = (last >> PAGE_SHIFT) - (msg.iova >> PAGE_SHIFT) + 1;
        let runs = vdev::vhost::pin::pin(
            msg.uaddr & !(page - 1),
            usize::try_from(npages).map_err(|_| ENOMEM)?,
            perm != vdev::vhost::Perm::ReadOnly,
        )?;
        self.maps.reserve(runs.len(), GFP_KERNEL)?;
        let first = self.maps.len();
        let mut iova = msg.iova & !(page - 1);
        for run in runs {
            let (start, last) = (iova, iova + (run.len() - 1));
            if let Err(e) = self.ops.iotlb().add_range(start, last, run.phys(), perm) {
                // Undo this update's entries (the runs left unpin as they
                // drop).
                for m in &self.maps[first..] {
                    self.ops.iotlb().del_range(m.start, m.last);
                }
                self.ops.synchronize_callbacks();
                self.maps.truncate(first);
                return Err(e);
            }
            iova = last.wrapping_add(1);
            let _ = self.maps.push_within_capacity(Map {
                start,
                last,
                _pages: run,
            });
        }
        Ok(())
    }

    /// `VHOST_IOTLB_INVALIDATE` of `[start, last]`: every entry that
    /// overlaps it goes, whole. The device can no longer translate to the
    /// pages before they are unpinned (mainline unpins first).
    fn unmap(&mut self, start: u64, last: u64) {
        if last < start {
            return;
        }
        let overlaps = |m: &Map| m.start <= last && start <= m.last;
        for m in self.maps.iter().filter(|m| overlaps(m)) {
            self.ops.iotlb().del_range(m.start, m.last);
        }
        // A run of the device's work that translated before `del_range`
        // may still copy: wait for it (it runs under the device's lock).
        self.ops.synchronize_callbacks();
        self.maps.retain(|m| !overlaps(m));
    }
}

impl chrdev::FileHandler for VhostFile<'_> {
    fn write(&mut self, _file: &LocalFile, data: &mut IovIterSource<'_>) -> Result<usize> {
        self.write_msg(data)
    }

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
            v::VDPA_SET_CONFIG_CALL => self.set_config_call(arg),
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
