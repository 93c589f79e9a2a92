// SPDX-License-Identifier: GPL-2.0

//! A virtio transport over the device-ops interface: [`Registration`]
//! registers a `struct virtio_device` whose `virtio_config_ops` call a
//! device model's [`DeviceOps`], so that the kernel's own virtio drivers
//! (virtio_net, virtio_blk) drive the model.
//!
//! The Rust counterpart of
//! [`drivers/virtio/virtio_vdpa.c`](srctree/drivers/virtio/virtio_vdpa.c);
//! the transport rules are virtio 1.3 section 4 (and section 3.1 for the
//! driver's initialisation the virtio core runs).
//!
//! # Address model
//!
//! The device models do not offer `VIRTIO_F_ACCESS_PLATFORM` (the transport
//! masks it, with `RING_PACKED`, `IN_ORDER` and `NOTIFICATION_DATA`, which
//! the device side's vringh cannot run), so `virtio_ring` bypasses the DMA
//! API and puts physical addresses in the rings
//! (`vring_use_map_api()`, [`drivers/virtio/virtio_ring.c`](srctree/drivers/virtio/virtio_ring.c)).
//! A registration fills the device's IOTLB with identity mappings of
//! System RAM only, one per `System RAM` resource: an address outside RAM
//! fails the request that carries it instead of reaching `pfn_to_page()`
//! of a hole. It empties the IOTLB again when it ends, so a class driver
//! that binds the device later (vhost) starts with no access to memory.
//!
//! Confidential guests (SEV, TDX) refuse devices without
//! `VIRTIO_F_ACCESS_PLATFORM` (`virtio_features_ok()`): the driver's probe
//! then fails with `ENODEV`.
//!
//! # Lifetimes
//!
//! The `struct virtio_device` is freed by its `release`, which may run
//! after the registration is gone (other code may hold references, and
//! `CONFIG_DEBUG_KOBJECT_RELEASE` delays it): its container holds nothing
//! whose drop runs a parent's code, and the module waits for every release
//! in its exit ([`WaitReleased`]). The device ops are borrowed for the
//! registration's lifetime only; the virtio core calls the config ops from
//! `register_virtio_device()` until `unregister_virtio_device()` returns,
//! which [`Registration`]'s drop calls before the borrow ends.
//!
//! # Context
//!
//! The notify hook (`virtqueue_notify()`, in atomic context) only calls
//! [`DeviceOps::kick_vq`]. Virtqueue callbacks come from the device's work
//! under its lock with bottom halves off and only call `vring_interrupt()`.
//! The config callback queues a work item (on the unbound system queue),
//! which reads the status and then calls `virtio_config_changed()`. A
//! `NEEDS_RESET` device has its virtqueues broken (`virtio_break_device()`),
//! so its driver sees a failed device: new buffers fail at once, with
//! `EIO`. Buffers the device held when it failed never come back; virtio_net
//! frees them when it is removed, but virtio_blk has no timeout handler, so
//! requests in flight on a failed disk wait until the disk is gone, and its
//! removal waits for them (as on every virtio transport in 7.3).

mod bindings;
mod memory;
mod ops;

use bindings as b;
use core::{
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{
        AtomicBool,
        AtomicPtr,
        Ordering, //
    }, //
};
use kernel::{
    device::{
        self,
        Bound, //
    },
    new_work,
    prelude::*,
    str::CString,
    sync::Arc,
    types::Opaque,
    workqueue::{
        self,
        Work,
        WorkItem, //
    }, //
};
use vbus::release::Pending;
use vdev::{
    virtio::{
        self as vt,
        StatusBit, //
    },
    Binding,
    DeviceOps,
    Notify, //
};

/// A registered `struct virtio_device` and what its config ops need.
///
/// # Invariants
///
/// - Allocated as a `KBox` by [`Registration::new`] and freed by
///   [`release`] only; `vdev` is its first field (`repr(C)`), so a pointer
///   to `vdev` is a pointer to the `RawVirtio`.
/// - `ops` is valid from `register_virtio_device()` until
///   `unregister_virtio_device()` returns (the borrow of the
///   [`Registration`]); the virtio core calls the config ops only then.
#[repr(C)]
struct RawVirtio {
    vdev: Opaque<b::virtio_device>,
    ops: NonNull<dyn DeviceOps>,
    /// `bus_name`: the mdev's UUID.
    bus_name: CString,
    /// The config callback given to the device in `find_vqs`.
    config_cb: Arc<ConfigNotify>,
}

impl RawVirtio {
    /// The `RawVirtio` of a `struct virtio_device` this crate registered.
    ///
    /// # Safety
    ///
    /// `vdev` is the `vdev` of a live `RawVirtio`, and the returned
    /// reference is used only while it is live.
    unsafe fn from_vdev<'a>(vdev: *mut b::virtio_device) -> &'a Self {
        // SAFETY: By the type invariant `vdev` is the first field of a
        // `repr(C)` `RawVirtio`; the caller guarantees it is live.
        unsafe { &*vdev.cast::<Self>() }
    }

    /// The device ops.
    ///
    /// # Safety
    ///
    /// Only from a config op or a virtqueue hook (the virtio core calls
    /// them while the device is registered), or while the [`Registration`]
    /// that made `self` still holds its [`Binding`].
    unsafe fn ops(&self) -> &dyn DeviceOps {
        // SAFETY: The caller guarantees the borrow of the registration is
        // still on (type invariant).
        unsafe { self.ops.as_ref() }
    }
}

// SAFETY: The device ops are `Sync` and used only while valid (type
// invariant); the `struct virtio_device` is the virtio core's, which locks
// what it shares.
unsafe impl Send for RawVirtio {}
// SAFETY: As above.
unsafe impl Sync for RawVirtio {}

/// Devices registered and not yet released.
static DEVICES: Pending = Pending::new();

/// Waits, when dropped, until every `struct virtio_device` registered
/// through this crate is released: the release is this module's code. The
/// last field of the module, dropped after its driver is unregistered.
pub struct WaitReleased;

impl Drop for WaitReleased {
    fn drop(&mut self) {
        DEVICES.wait();
    }
}

/// `device.release` of our virtio devices: frees the [`RawVirtio`].
///
/// # Safety
///
/// Called by the driver core only, once, for a device registered by
/// [`Registration::new`].
unsafe extern "C" fn release(dev: *mut kernel::bindings::device) {
    // SAFETY: `dev` is the `dev` field of the `vdev` of a `RawVirtio`
    // (type invariant), the first field of it.
    let vdev = unsafe { kernel::container_of!(dev, b::virtio_device, dev) };
    // SAFETY: Allocated as a `KBox` by `Registration::new`; the driver core
    // calls `release` once, when the last reference is gone.
    drop(unsafe { KBox::from_raw(vdev.cast::<RawVirtio>()) });
    // Last: the module may go once the count is zero.
    DEVICES.done();
}

/// A config change of the device, delivered by a work item: see the crate
/// documentation ("Context").
///
/// # Invariants
///
/// `raw` is the [`RawVirtio`] that holds this event (set before the event
/// is shared); the work runs only
/// while the registration that made it holds its [`Binding`] and its
/// reference on the device (its drop flushes the work before giving up
/// either).
#[pin_data]
struct ConfigEvent {
    #[pin]
    work: Work<ConfigEvent>,
    raw: AtomicPtr<RawVirtio>,
    /// The virtqueues were broken for `NEEDS_RESET`, and the device not
    /// reset since.
    broken: AtomicBool,
}

impl ConfigEvent {
    /// The device was reset: a later `NEEDS_RESET` breaks the virtqueues
    /// of its next driver. (A break already under way in the work may still
    /// hit virtqueues set up after this reset; a driver that resets a
    /// failed device and starts again is not something the kernel's virtio
    /// drivers do, short of a new probe.)
    fn rearm(&self) {
        self.broken.store(false, Ordering::Release);
    }
}

// SAFETY: `raw` is used only while valid (type invariant), and `RawVirtio`
// is `Send + Sync`.
unsafe impl Send for ConfigEvent {}
// SAFETY: As above.
unsafe impl Sync for ConfigEvent {}

kernel::impl_has_work! {
    impl HasWork<ConfigEvent> for ConfigEvent { self.work }
}

impl WorkItem for ConfigEvent {
    type Pointer = Arc<ConfigEvent>;

    fn run(this: Arc<ConfigEvent>) {
        // SAFETY: The work runs while the registration holds its binding and
        // its reference (type invariant).
        let raw = unsafe { &*this.raw.load(Ordering::Acquire) };
        let vdev = raw.vdev.get();
        // SAFETY: As above.
        let ops = unsafe { raw.ops() };
        if ops.status().contains(StatusBit::NeedsReset) && !this.broken.swap(true, Ordering::AcqRel)
        {
            // SAFETY: `vdev` is live (above); the `struct device` in it is
            // initialised from `register_virtio_device()` on.
            let dev: &device::Device = unsafe { device::Device::from_raw(&raw mut (*vdev).dev) };
            dev_err!(dev, "device needs a reset: its virtqueues are broken\n");
            // SAFETY: `vdev` is registered or held (above); breaking takes
            // the virtio core's own lock.
            unsafe { b::virtio_break_device(vdev) };
        }
        // SAFETY: As above; the virtio core defers the change while config
        // reporting is off (probe, remove).
        unsafe { b::virtio_config_changed(vdev) };
    }
}

/// The config callback the transport gives the device: queues the
/// [`ConfigEvent`] (it runs once however often it is queued).
struct ConfigNotify(Arc<ConfigEvent>);

impl Notify for ConfigNotify {
    fn notify(&self) {
        // Already queued: the queued run reads the latest state.
        let _ = workqueue::system_unbound().enqueue(self.0.clone());
    }
}

/// A `struct virtio_device` registered on the virtio bus for a device
/// model, as a child of `parent`: the kernel's virtio driver for the
/// model's device id binds it. Dropping it unregisters the device (the
/// driver's remove runs), resets the device model, waits for the config
/// work, empties the IOTLB and ends the binding.
///
/// `'a` is the time the device ops and `parent` stay bound: a class
/// driver keeps the registration in its per-device data.
///
/// # Invariants
///
/// `raw` is a registered [`RawVirtio`] on which the registration holds a
/// reference of its own; `ops` is `Some` until the drop, and `raw.ops`
/// points to it.
pub struct Registration<'a> {
    raw: NonNull<RawVirtio>,
    ops: Option<Binding<'a>>,
    _parent: PhantomData<&'a device::Device<Bound>>,
}

impl<'a> Registration<'a> {
    /// Maps System RAM 1:1 in the device's IOTLB and registers a virtio
    /// device for the device model behind `ops`, named `virtio<N>` by the
    /// virtio core, with `bus_name` as its bus name (the mdev's UUID). The
    /// virtio core resets the device, and a loaded driver for its device id
    /// probes it before this returns; udev loads one otherwise
    /// (`MODALIAS=virtio:d<id>v<vendor>`).
    ///
    /// # Errors
    ///
    /// - `EINVAL`: the device id is 0 (no device, virtio 1.3 section 5).
    /// - `ENOSPC`: the IOTLB cannot hold one mapping per System RAM range.
    /// - `ENOMEM`, or the driver core's errno for `device_add()`.
    ///
    /// On error the device is reset and its IOTLB empty, as before.
    pub fn new(
        parent: &'a device::Device<Bound>,
        ops: Binding<'a>,
        bus_name: &CStr,
    ) -> Result<Self> {
        let raw = Self::register(parent, &ops, bus_name)?;
        // INVARIANT: `raw` is registered and referenced; `raw.ops` points to
        // the device ops of `ops`.
        Ok(Self {
            raw,
            ops: Some(ops),
            _parent: PhantomData,
        })
    }

    fn register(
        parent: &'a device::Device<Bound>,
        ops: &Binding<'a>,
        bus_name: &CStr,
    ) -> Result<NonNull<RawVirtio>> {
        let id = ops.device_id();
        if id == 0 {
            return Err(EINVAL);
        }
        let bus_name = CString::try_from(bus_name)?;
        let config = Arc::pin_init(
            pin_init!(ConfigEvent {
                work <- new_work!("virtio_mdev::config"),
                raw: AtomicPtr::new(core::ptr::null_mut()),
                broken: AtomicBool::new(false),
            }),
            GFP_KERNEL,
        )?;
        let config_cb = Arc::new(ConfigNotify(config), GFP_KERNEL)?;
        let raw = KBox::new(
            RawVirtio {
                vdev: Opaque::zeroed(),
                ops: NonNull::from(&**ops),
                bus_name,
                config_cb,
            },
            GFP_KERNEL,
        )?;
        memory::map_system_ram(ops.iotlb()).inspect_err(|_| ops.iotlb().reset())?;

        let raw = KBox::into_raw(raw);
        // Released by `release`, from `register_virtio_device()` on.
        DEVICES.add();
        // INVARIANT: Before the event is shared (its callback is given to
        // the device in `find_vqs`, from `register_virtio_device()` on).
        // SAFETY: `raw` is a valid allocation, not yet shared.
        let this = unsafe { &*raw };
        this.config_cb.0.raw.store(raw, Ordering::Release);
        // SAFETY: `vdev` is zeroed and not yet initialised: the fields a
        // transport sets before `register_virtio_device()`
        // (`virtio_vdpa_probe()`). `CONFIG_OPS` is static; `parent` stays
        // bound for `'a`, which the registration cannot outlive.
        let err = unsafe {
            // From `raw` (not a reference to the field): the config ops get
            // back to the whole `RawVirtio` through this pointer.
            let vdev = Opaque::cast_into(&raw const (*raw).vdev);
            (*vdev).dev.parent = vbus::device::raw_of(parent);
            (*vdev).dev.release = Some(release);
            (*vdev).config = &ops::CONFIG_OPS;
            (*vdev).id.device = id;
            (*vdev).id.vendor = ops.vendor_id();
            b::register_virtio_device(vdev)
        };
        if err != 0 {
            // SAFETY: `register_virtio_device()` initialised the device;
            // its contract is `put_device()` on error, which releases it.
            unsafe { kernel::bindings::put_device(&raw mut (*(*raw).vdev.get()).dev) };
            ops.reset();
            ops.iotlb().reset();
            return Err(Error::from_errno(err));
        }
        // SAFETY: Registered: a reference for the registration (put in drop).
        unsafe { kernel::bindings::get_device(&raw mut (*(*raw).vdev.get()).dev) };
        // SAFETY: Not null: from `KBox::into_raw`.
        Ok(unsafe { NonNull::new_unchecked(raw) })
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        // SAFETY: Our reference keeps the `RawVirtio` (type invariant).
        let raw = unsafe { self.raw.as_ref() };
        let vdev = raw.vdev.get();
        // SAFETY: Registered (type invariant): unregistering runs the
        // driver's remove, which resets the device and deletes the
        // virtqueues (`virtio_dev_remove()`); no config op is called after.
        unsafe { b::unregister_virtio_device(vdev) };
        if let Some(ops) = self.ops.take() {
            // Drops every callback we gave (a driver may not have reset):
            // no new config event after this.
            ops.reset();
            // SAFETY: The event's work is initialised and lives as long as
            // `raw`; nothing queues it any more (above). A queued run reads
            // `ops` and the device, both still valid until it returns.
            unsafe { kernel::bindings::flush_work(Work::raw_get(&raw.config_cb.0.work)) };
            // The device can no longer reach memory.
            ops.iotlb().reset();
            // `ops` is dropped here: the binding ends (another reset).
        }
        // SAFETY: The reference taken in `register`; `release` may run now,
        // and `raw` is not used after.
        unsafe { kernel::bindings::put_device(&raw mut (*vdev).dev) };
    }
}

// SAFETY: The registration only calls thread-safe C functions and `Sync`
// device ops.
unsafe impl Send for Registration<'_> {}
// SAFETY: It has no `&self` methods.
unsafe impl Sync for Registration<'_> {}

/// The features the transport never offers, whatever the device says:
/// vringh (the device side) runs split rings only, with no in-order
/// layout and no notification data, and the transport has no platform
/// address translation (see the crate documentation).
const MASKED_FEATURES: vt::Features = vt::F_ACCESS_PLATFORM
    .with(vt::F_RING_PACKED)
    .with(vt::F_IN_ORDER)
    .with(vt::F_NOTIFICATION_DATA);
