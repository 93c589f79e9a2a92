// SPDX-License-Identifier: GPL-2.0

//! The device-ops interface: what a parent's device model offers and a class
//! driver (virtio-mdev, vhost-mdev) calls. A parent never knows which class
//! driver binds its mdev, and a class driver never knows which parent made it.
//!
//! Ancestors: `struct mdev_virtio_device_ops` of the 2019 virtio-mdev series
//! and today's `struct vdpa_config_ops` in
//! [`include/linux/vdpa.h`](srctree/include/linux/vdpa.h). The semantics of
//! status, features, config space and virtqueues are virtio 1.3 chapters 2
//! and 3; the split ring is section 2.7.
//!
//! # Address translation
//!
//! Every device has one [`Iotlb`] ([`DeviceOps::iotlb`]); its virtqueues read
//! rings and buffers through it only. The class driver that binds the device
//! fills it and empties it again when it unbinds: the virtio class maps all
//! of memory 1:1 (the kernel's virtio drivers put physical addresses in the
//! rings), the vhost class maps what userspace sends in IOTLB messages. The
//! device itself never changes it, not even on reset.
//!
//! # Context
//!
//! [`DeviceOps::kick_vq`] may be called in atomic context and never sleeps;
//! it takes no lock that is held while callbacks run and never waits for a
//! callback, so it may be entered from inside a callback: the vhost class
//! kicks from an eventfd's wake-up (that eventfd's wait-queue lock held,
//! interrupts off), and a callback that signals the same eventfd (one
//! eventfd for kick and call) kicks from there. Every other method may
//! sleep. Callbacks ([`Notify::notify`]) are called in process context with
//! bottom halves disabled and the device's lock held: virtqueue callbacks
//! from the device's work, the config callback from there or from the
//! parent (a config change of its own). A callback may kick but must not
//! call other device ops, nor take a lock that the class driver holds while
//! it calls device ops (the device's lock comes after the class driver's);
//! a spinlock it shares with the kick path (an eventfd's wait queue) is
//! fine, since `kick_vq` takes no device lock.
//!
//! A class driver stops kicking and calling before its remove returns, and
//! its [`Binding`](crate::Binding) resets the device when the driver's data
//! is dropped (which drops its callbacks): the parent drops the device after
//! that, and may be unloaded; callbacks a driver left behind are never
//! called.

use crate::virtio::{
    Features,
    Status, //
};
use kernel::{
    prelude::*,
    sync::Arc, //
};
use vhost::{
    Iotlb,
    RingAddrs, //
};

/// Something a device calls to tell its driver about an event: buffers used
/// on a virtqueue, or the config space changed. The virtio class calls
/// `vring_interrupt()` here, the vhost class signals an eventfd.
pub trait Notify: Send + Sync {
    /// Delivers the notification. Called with bottom halves disabled; must
    /// not sleep and must not call device ops other than
    /// [`DeviceOps::kick_vq`].
    fn notify(&self);
}

/// A registered callback: see [`Notify`].
pub type Callback = Arc<dyn Notify>;

/// The operations of a device model, as a class driver calls them.
///
/// Virtqueues are numbered `0..num_queues()`; an index out of range gives
/// `EINVAL` (or is ignored, for [`Self::kick_vq`]).
pub trait DeviceOps: Send + Sync {
    /// The virtio device id (virtio 1.3 section 5: 1 = net, 2 = block).
    fn device_id(&self) -> u32;

    /// The vendor id.
    fn vendor_id(&self) -> u32;

    /// How many virtqueues the device has.
    fn num_queues(&self) -> u16;

    /// The largest queue size (entries) a virtqueue takes; a power of 2.
    fn max_queue_size(&self) -> u16;

    /// The feature bits the device offers.
    fn device_features(&self) -> Features;

    /// Records the feature bits the driver accepted; bits the device does
    /// not offer are dropped (as `vdpasim_set_driver_features()`).
    ///
    /// # Errors
    ///
    /// `EBUSY` once `FEATURES_OK` is set (virtio 1.3 section 3.1.1: the
    /// driver negotiates before it).
    fn set_driver_features(&self, features: Features) -> Result;

    /// The feature bits negotiated so far.
    fn driver_features(&self) -> Features;

    /// The device status byte (virtio 1.3 section 2.1). The device sets
    /// `NEEDS_RESET` (and calls the config callback) when the driver broke a
    /// virtqueue; it then processes nothing until reset.
    fn status(&self) -> Status;

    /// Writes the device status. An empty status resets the device
    /// ([`Self::reset`]).
    /// Setting `FEATURES_OK` does not stick when the device refuses the
    /// negotiated features (here: without `VIRTIO_F_VERSION_1`); the driver
    /// reads the status back to see it. Setting `DRIVER_OK` starts the
    /// device.
    fn set_status(&self, status: Status);

    /// Resets the device: status and features 0, every virtqueue not ready,
    /// with no address, no callback and index 0; the config callback is
    /// dropped and the config generation moves on. The IOTLB and the
    /// device's backing data (a disk's contents) stay.
    fn reset(&self);

    /// The size of the config space in bytes.
    fn config_size(&self) -> usize;

    /// Reads `buf.len()` bytes of the config space from byte `offset`
    /// (little-endian fields, virtio 1.3 section 2.5).
    ///
    /// # Errors
    ///
    /// `EINVAL` when the range is not inside the config space.
    fn get_config(&self, offset: usize, buf: &mut [u8]) -> Result;

    /// Writes `buf` to the config space at byte `offset`. Fields the driver
    /// may not write are left as they are.
    ///
    /// # Errors
    ///
    /// `EINVAL` when the range is not inside the config space.
    fn set_config(&self, offset: usize, buf: &[u8]) -> Result;

    /// The config generation: changes whenever the config space may have
    /// changed (virtio 1.3 section 2.5.1).
    fn config_generation(&self) -> u32;

    /// Sets (or clears, with `None`) the callback for config changes.
    fn set_config_callback(&self, cb: Option<Callback>);

    /// Returns once every callback that started before the call has
    /// returned (the virtio core's `synchronize_cbs`): what the driver
    /// wrote before is then seen by every later callback.
    fn synchronize_callbacks(&self);

    /// Sets where virtqueue `index`'s rings are (I/O virtual addresses).
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad index, `EBUSY` while the virtqueue is ready.
    fn set_vq_address(&self, index: u16, addrs: RingAddrs) -> Result;

    /// Sets virtqueue `index`'s size in entries.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad index, a size that is not a power of 2 or above
    /// [`Self::max_queue_size`]; `EBUSY` while the virtqueue is ready.
    fn set_vq_num(&self, index: u16, num: u32) -> Result;

    /// Makes virtqueue `index` ready (the device may use it) or not. When it
    /// stops being ready, its available index is kept for
    /// [`Self::vq_state`].
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad index, when no valid size was set, or when the
    /// rings are misaligned (virtio 1.3 section 2.7: descriptors 16,
    /// available ring 2, used ring 4 bytes) or not mapped in the IOTLB
    /// (the used ring writable), checked as the virtqueue becomes ready;
    /// `ENOMEM`.
    fn set_vq_ready(&self, index: u16, ready: bool) -> Result;

    /// Whether virtqueue `index` is ready.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad index.
    fn vq_ready(&self, index: u16) -> Result<bool>;

    /// Sets the index of the next available entry the device will take from
    /// virtqueue `index` (vhost's `VHOST_SET_VRING_BASE`); the used index
    /// follows it (no buffers in flight, as in `vdpasim_queue_ready()`).
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad index, `EBUSY` while the device runs the virtqueue
    /// (ready, `DRIVER_OK` and not suspended).
    fn set_vq_state(&self, index: u16, avail_index: u16) -> Result;

    /// The index of the next available entry the device will take from
    /// virtqueue `index` (vhost's `VHOST_GET_VRING_BASE`).
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad index.
    fn vq_state(&self, index: u16) -> Result<u16>;

    /// Sets (or clears) the callback for buffers used on virtqueue `index`.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad index.
    fn set_vq_callback(&self, index: u16, cb: Option<Callback>) -> Result;

    /// The driver made buffers available on virtqueue `index`. Never
    /// sleeps, takes no lock held around callbacks, never signals an
    /// eventfd (see the module's "Context"); the device processes the
    /// buffers later, in its own work. Kicks while suspended are processed
    /// on resume.
    fn kick_vq(&self, index: u16);

    /// Stops processing virtqueues; their state can then be read and set.
    ///
    /// # Errors
    ///
    /// `EINVAL` unless the device is `DRIVER_OK`.
    fn suspend(&self) -> Result;

    /// Starts processing again after [`Self::suspend`].
    ///
    /// # Errors
    ///
    /// `EINVAL` unless the device is `DRIVER_OK`.
    fn resume(&self) -> Result;

    /// Whether the device is suspended.
    fn suspended(&self) -> bool;

    /// The IOTLB the device's virtqueues read through (see the module
    /// documentation: the class driver fills it).
    fn iotlb(&self) -> &Arc<Iotlb>;
}
