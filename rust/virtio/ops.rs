// SPDX-License-Identifier: GPL-2.0

//! The transport's `virtio_config_ops` and virtqueue hooks: each turns the
//! virtio core's call into [`DeviceOps`] calls, as `virtio_vdpa_config_ops`
//! does into `vdpa_config_ops`
//! ([`drivers/virtio/virtio_vdpa.c`](srctree/drivers/virtio/virtio_vdpa.c)).

use crate::{
    bindings as b,
    RawVirtio,
    MASKED_FEATURES, //
};
use kernel::{
    ffi::{
        c_char,
        c_int,
        c_uint,
        c_void, //
    },
    page::PAGE_SIZE,
    prelude::*,
    sync::Arc,
};
use vdev::{
    virtio::{
        Features,
        Status, //
    },
    DeviceOps,
    Notify, //
};
use vhost::RingAddrs;

/// The config ops of every virtio device the transport registers.
///
/// Not implemented, as in `virtio_vdpa`: `get_extended_features` (the
/// devices have 64 feature bits), `set_vq_affinity`/`get_vq_affinity`,
/// `get_shm_region`, and per-virtqueue reset.
pub(crate) static CONFIG_OPS: b::virtio_config_ops = b::virtio_config_ops {
    get: Some(get),
    set: Some(set),
    generation: Some(generation),
    get_status: Some(get_status),
    set_status: Some(set_status),
    reset: Some(reset),
    find_vqs: Some(find_vqs),
    del_vqs: Some(del_vqs),
    synchronize_cbs: Some(synchronize_cbs),
    get_features: Some(get_features),
    finalize_features: Some(finalize_features),
    bus_name: Some(bus_name),
    // SAFETY: All-zero is a valid `virtio_config_ops` (every member an
    // `Option` of a function pointer: `None`).
    ..unsafe { core::mem::zeroed() }
};

/// The [`RawVirtio`] and device ops of a config op's device.
///
/// # Safety
///
/// `vdev` is a device of ours, in a config op or virtqueue hook the virtio
/// core calls (the device is registered, its ops valid), and the results
/// are used only within that call.
unsafe fn device<'a>(vdev: *mut b::virtio_device) -> (&'a RawVirtio, &'a dyn DeviceOps) {
    // SAFETY: The caller guarantees `vdev` is ours and live for the call.
    let raw = unsafe { RawVirtio::from_vdev(vdev) };
    // SAFETY: In a config op or hook (the caller guarantees it).
    (raw, unsafe { raw.ops() })
}

/// `get`: reads `len` bytes of the config space from `offset`; a range
/// outside it reads as zeroes (the virtio core has no error to give).
///
/// # Safety
///
/// Called by the virtio core on a device of ours; `buf` holds `len` bytes.
unsafe extern "C" fn get(
    vdev: *mut b::virtio_device,
    offset: c_uint,
    buf: *mut c_void,
    len: c_uint,
) {
    // SAFETY: Called by the virtio core on a device of ours.
    let (_, ops) = unsafe { device(vdev) };
    // SAFETY: The caller guarantees `buf` holds `len` writable bytes.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), len as usize) };
    if ops.get_config(offset as usize, buf).is_err() {
        buf.fill(0);
    }
}

/// `set`: writes `len` bytes at `offset` of the config space (a range
/// outside it is ignored).
///
/// # Safety
///
/// Called by the virtio core on a device of ours; `buf` holds `len` bytes.
unsafe extern "C" fn set(
    vdev: *mut b::virtio_device,
    offset: c_uint,
    buf: *const c_void,
    len: c_uint,
) {
    // SAFETY: Called by the virtio core on a device of ours.
    let (_, ops) = unsafe { device(vdev) };
    // SAFETY: The caller guarantees `buf` holds `len` readable bytes.
    let buf = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), len as usize) };
    let _ = ops.set_config(offset as usize, buf);
}

/// `generation`: the config generation.
///
/// # Safety
///
/// Called by the virtio core on a device of ours.
unsafe extern "C" fn generation(vdev: *mut b::virtio_device) -> u32 {
    // SAFETY: Called by the virtio core on a device of ours.
    unsafe { device(vdev) }.1.config_generation()
}

/// `get_status`: the device status byte.
///
/// # Safety
///
/// Called by the virtio core on a device of ours.
unsafe extern "C" fn get_status(vdev: *mut b::virtio_device) -> u8 {
    // SAFETY: Called by the virtio core on a device of ours.
    unsafe { device(vdev) }.1.status().raw()
}

/// `set_status`: writes the device status byte (never 0: that is `reset`).
///
/// # Safety
///
/// Called by the virtio core on a device of ours.
unsafe extern "C" fn set_status(vdev: *mut b::virtio_device, status: u8) {
    // SAFETY: Called by the virtio core on a device of ours.
    unsafe { device(vdev) }
        .1
        .set_status(Status::from_raw(status));
}

/// `reset`: resets the device. When it returns, no virtqueue or config
/// callback runs or will run (the device's reset takes its lock, under
/// which callbacks run, and drops them), as `virtio_reset_device()`
/// requires. A config event queued before may still run: the virtio core
/// holds back config changes until the driver is ready again.
///
/// # Safety
///
/// Called by the virtio core on a device of ours.
unsafe extern "C" fn reset(vdev: *mut b::virtio_device) {
    // SAFETY: Called by the virtio core on a device of ours.
    let (raw, ops) = unsafe { device(vdev) };
    ops.reset();
    // A reset device may fail again, and be broken again for its next driver.
    raw.config_cb.0.rearm();
}

/// `get_features`: the device's feature bits, less [`MASKED_FEATURES`].
///
/// # Safety
///
/// Called by the virtio core on a device of ours.
unsafe extern "C" fn get_features(vdev: *mut b::virtio_device) -> u64 {
    // SAFETY: Called by the virtio core on a device of ours.
    let features = unsafe { device(vdev) }.1.device_features();
    features.raw() & !MASKED_FEATURES.raw()
}

/// `finalize_features`: keeps the transport features `virtio_ring`
/// supports (`vring_transport_features()`), then gives the device the
/// driver's features. A device that refuses them does not latch
/// `FEATURES_OK` and the virtio core fails the probe (`ENODEV`).
///
/// # Safety
///
/// Called by the virtio core on a device of ours.
unsafe extern "C" fn finalize_features(vdev: *mut b::virtio_device) -> c_int {
    // SAFETY: Called by the virtio core on a device of ours.
    let (_, ops) = unsafe { device(vdev) };
    // SAFETY: `vdev` is a live, registered virtio device; the core calls
    // this before `FEATURES_OK`, while nothing else writes its features.
    let features = unsafe {
        b::vring_transport_features(vdev);
        // The `u64 features` member of the features union (its first).
        core::ptr::addr_of!((*vdev).__bindgen_anon_1)
            .cast::<u64>()
            .read()
    };
    match ops.set_driver_features(Features::from_raw(features & !MASKED_FEATURES.raw())) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `bus_name`: the mdev's UUID.
///
/// # Safety
///
/// Called by the virtio core on a device of ours.
unsafe extern "C" fn bus_name(vdev: *mut b::virtio_device) -> *const c_char {
    // SAFETY: Called by the virtio core on a device of ours.
    unsafe { device(vdev) }.0.bus_name.as_char_ptr()
}

/// `synchronize_cbs`: returns once no callback runs that started before.
///
/// # Safety
///
/// Called by the virtio core on a device of ours.
unsafe extern "C" fn synchronize_cbs(vdev: *mut b::virtio_device) {
    // SAFETY: Called by the virtio core on a device of ours.
    unsafe { device(vdev) }.1.synchronize_callbacks();
}

/// The notify hook of our virtqueues (`virtqueue_notify()`, atomic
/// context): kicks the device's virtqueue.
///
/// # Safety
///
/// Called by `virtio_ring` on a virtqueue that `find_vqs` made.
unsafe extern "C" fn notify(vq: *mut b::virtqueue) -> bool {
    // SAFETY: A virtqueue of ours: `vdev` is its (registered) device, and
    // `index` the device's queue index `find_vqs` gave.
    let (vdev, index) = unsafe { ((*vq).vdev, (*vq).index) };
    // SAFETY: In a virtqueue hook of a registered device of ours.
    let (_, ops) = unsafe { device(vdev) };
    // Indices come from `find_vqs`, below `num_queues()` (a `u16`).
    ops.kick_vq(index as u16);
    true
}

/// The callback the transport gives the device for a virtqueue with a
/// driver callback: `vring_interrupt()`, which calls the driver's callback
/// when buffers were used.
///
/// # Invariants
///
/// `0` is a virtqueue made by `find_vqs`; the device drops this callback
/// (`set_vq_callback(None)` or a reset, both under the lock its callbacks
/// run under) before `vring_del_virtqueue()` frees the virtqueue.
struct VqNotify(*mut b::virtqueue);

// SAFETY: `vring_interrupt()` may be called from any thread; the pointer is
// valid while the device holds the callback (type invariant).
unsafe impl Send for VqNotify {}
// SAFETY: As above.
unsafe impl Sync for VqNotify {}

impl Notify for VqNotify {
    fn notify(&self) {
        // SAFETY: The virtqueue is live while the device holds us (type
        // invariant); `vring_interrupt()` ignores a broken virtqueue.
        unsafe { b::vring_interrupt(0, self.0.cast()) };
    }
}

/// Sets up device queue `index` for a driver's virtqueue `info`: a split
/// ring from `vring_create_virtqueue()` of the device's largest size
/// (halved while allocation fails), its rings given to the device, and the
/// virtqueue made ready (`virtio_vdpa_setup_vq()`).
///
/// # Safety
///
/// `vdev` is a registered device of ours, in its `find_vqs`; `info` is the
/// driver's.
unsafe fn setup_vq(
    vdev: *mut b::virtio_device,
    ops: &dyn DeviceOps,
    index: u16,
    info: &b::virtqueue_info,
) -> Result<*mut b::virtqueue> {
    if index >= ops.num_queues() || ops.vq_ready(index)? {
        return Err(ENOENT);
    }
    // SAFETY: `vdev` is registered (the caller); `notify` and the driver's
    // callback and name are valid for the virtqueue's life.
    let vq = unsafe {
        b::vring_create_virtqueue(
            index.into(),
            ops.max_queue_size().into(),
            PAGE_SIZE as u32,
            vdev,
            true,
            true,
            info.ctx,
            Some(notify),
            info.callback,
            info.name,
        )
    };
    if vq.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: `vq` is live and not shared yet; `num_max` is what ethtool's
    // ring size reports and its resize checks (`virtio_vdpa_setup_vq()`).
    unsafe { (*vq).num_max = ops.max_queue_size().into() };
    let started = (|| -> Result {
        // SAFETY: `vq` is a live virtqueue (made above).
        let (num, addrs) = unsafe {
            (
                b::virtqueue_get_vring_size(vq),
                RingAddrs {
                    desc: b::virtqueue_get_desc_addr(vq),
                    avail: b::virtqueue_get_avail_addr(vq),
                    used: b::virtqueue_get_used_addr(vq),
                },
            )
        };
        ops.set_vq_num(index, num)?;
        ops.set_vq_address(index, addrs)?;
        ops.set_vq_state(index, 0)?;
        if info.callback.is_some() {
            // INVARIANT: Dropped by the device before `vq` is freed (in
            // `del_vq` or below).
            let cb = Arc::new(VqNotify(vq), GFP_KERNEL)?;
            ops.set_vq_callback(index, Some(cb))?;
        }
        ops.set_vq_ready(index, true)
    })();
    if let Err(e) = started {
        // SAFETY: `vq` is ours, made above, and the device lets go of it
        // first.
        unsafe { del_vq(ops, vq) };
        return Err(e);
    }
    Ok(vq)
}

/// Stops device queue `vq->index` and frees the virtqueue.
///
/// # Safety
///
/// `vq` is a live virtqueue made by `setup_vq` for the device of `ops`; it
/// is not used after.
unsafe fn del_vq(ops: &dyn DeviceOps, vq: *mut b::virtqueue) {
    // SAFETY: `vq` is live (the caller).
    let index = unsafe { (*vq).index } as u16;
    // Not ready, and without our callback: the device is done with the
    // rings, and no callback touches `vq` (both under the device's lock).
    let _ = ops.set_vq_ready(index, false);
    let _ = ops.set_vq_callback(index, None);
    // SAFETY: `vq` is live, and the device no longer uses it (above).
    unsafe { b::vring_del_virtqueue(vq) };
}

/// `find_vqs`: sets up a virtqueue for every named entry of `vqs_info`
/// (device queues numbered in order, unnamed entries skipped, as
/// `virtio_vdpa_find_vqs()`), then gives the device our config callback.
///
/// # Safety
///
/// Called by the virtio core on a device of ours; `vqs` and `vqs_info` hold
/// `nvqs` entries.
unsafe extern "C" fn find_vqs(
    vdev: *mut b::virtio_device,
    nvqs: c_uint,
    vqs: *mut *mut b::virtqueue,
    vqs_info: *mut b::virtqueue_info,
    _desc: *mut b::irq_affinity,
) -> c_int {
    // SAFETY: Called by the virtio core on a device of ours.
    let (raw, ops) = unsafe { device(vdev) };
    let mut queue = 0u16;
    for i in 0..nvqs as usize {
        // SAFETY: The caller guarantees `nvqs` entries in both arrays.
        let (info, slot) = unsafe { (&*vqs_info.add(i), &mut *vqs.add(i)) };
        if info.name.is_null() {
            *slot = core::ptr::null_mut();
            continue;
        }
        // SAFETY: In `find_vqs` of a registered device of ours.
        match unsafe { setup_vq(vdev, ops, queue, info) } {
            Ok(vq) => *slot = vq,
            Err(e) => {
                // SAFETY: As above; the virtqueues made so far are ours.
                unsafe { del_vqs(vdev) };
                return e.to_errno();
            }
        }
        queue += 1;
    }
    ops.set_config_callback(Some(raw.config_cb.clone()));
    0
}

/// `del_vqs`: stops and frees every virtqueue of the device and drops the
/// config callback `find_vqs` gave (the driver reset the device before,
/// except on some probe failure paths).
///
/// # Safety
///
/// Called by the virtio core on a device of ours (or by `find_vqs`).
unsafe extern "C" fn del_vqs(vdev: *mut b::virtio_device) {
    // SAFETY: Called by the virtio core on a device of ours.
    let (_, ops) = unsafe { device(vdev) };
    ops.set_config_callback(None);
    // SAFETY: `vqs` is the virtio core's list of the device's virtqueues,
    // initialised by `register_virtio_device()`; `vring_del_virtqueue()`
    // unlinks the entry it frees, so the next one is read first.
    unsafe {
        let head = &raw mut (*vdev).vqs;
        let mut pos = (*head).next;
        while pos != head {
            let next = (*pos).next;
            let vq = kernel::container_of!(pos, b::virtqueue, list);
            del_vq(ops, vq);
            pos = next;
        }
    }
}
