// SPDX-License-Identifier: GPL-2.0

//! A virtio device core for device models: it keeps status, features, the
//! config generation and the virtqueues (over [`Vringh`]), implements
//! [`DeviceOps`] on top of a [`Model`], and runs the model in a work item
//! when the driver kicks. A parent's device model is a [`Model`]; its
//! mdev's device is a [`VirtioDevice`].
//!
//! This is the Rust counterpart of
//! [`drivers/vdpa/vdpa_sim/vdpa_sim.c`](srctree/drivers/vdpa/vdpa_sim/vdpa_sim.c),
//! with the same state machine; the model is its `dev_attr`.

use crate::{
    ops::{
        Callback,
        DeviceOps,
        Notify, //
    },
    virtio::{
        self,
        Features,
        Status,
        StatusBit, //
    },
};
use core::{
    pin::Pin,
    sync::atomic::{
        AtomicBool,
        Ordering, //
    }, //
};
use kernel::{
    new_mutex,
    new_work,
    prelude::*,
    sync::{
        rcu,
        Arc,
        ArcBorrow,
        Mutex, //
    },
    workqueue::{
        self,
        Work,
        WorkItem, //
    }, //
};
use vhost::{
    Iotlb,
    RingAddrs,
    Vringh, //
};

unsafe extern "C" {
    /// `local_bh_disable()` (`vdev_helpers.c`).
    fn rmdev_local_bh_disable();
    /// `local_bh_enable()` (`vdev_helpers.c`).
    fn rmdev_local_bh_enable();
}

/// Calls `cb` with bottom halves disabled, as `vdpa_sim` wraps
/// `vringh_notify()`: a softirq the callback raises (NAPI) runs when they
/// are enabled again, not at the next interrupt.
#[inline(never)]
fn notify_bh(cb: &dyn Notify) {
    // SAFETY: Process context (the device's work); paired below.
    unsafe { rmdev_local_bh_disable() };
    cb.notify();
    // SAFETY: Disabled above, on this CPU: `notify` must not sleep.
    unsafe { rmdev_local_bh_enable() };
}

/// Where devices' work runs: on the unbound system workqueue (`false`, the
/// default: any idle CPU picks it up, so the device overlaps with the driver
/// that kicked it), or on the per-CPU system workqueue of the kicking CPU
/// (`true`: it runs when the sender yields). A knob for benchmarks,
/// `/sys/kernel/debug/rmdev_vdev/percpu_work`.
pub static PERCPU_WORK: AtomicBool = AtomicBool::new(false);

/// Largest config space a model may have, in bytes.
pub const MAX_CONFIG_SIZE: usize = 256;

/// Most mappings a device's IOTLB holds (vhost's default
/// `max_iotlb_entries`).
pub const IOTLB_ENTRIES: u32 = 2048;

/// What makes a virtio device a network card or a disk: its ids, features,
/// config space and what it does with buffers. All methods run under the
/// device's lock.
pub trait Model: Send + Unpin + 'static {
    /// Virtio device id ([`virtio::ID_NET`], [`virtio::ID_BLOCK`]).
    const DEVICE_ID: u32;
    /// Number of virtqueues.
    const NUM_QUEUES: u16;
    /// Size of the config space in bytes, at most [`MAX_CONFIG_SIZE`].
    const CONFIG_SIZE: usize;
    /// Largest queue size in entries (a power of 2).
    const MAX_QUEUE_SIZE: u16 = 256;

    /// The device's feature bits; the core requires `VIRTIO_F_VERSION_1`
    /// of drivers, so models should offer it.
    fn features(&self) -> Features;

    /// Renders the config space into `config` (`CONFIG_SIZE` bytes,
    /// little-endian fields).
    fn config(&self, config: &mut [u8]);

    /// A driver writes `data` at byte `offset` of the config space (range
    /// checked). The default ignores it: every field is read-only.
    fn set_config(&mut self, offset: usize, data: &[u8]) {
        let _ = (offset, data);
    }

    /// Processes buffers on the ready virtqueues, at most a batch; returns
    /// `true` when work is left, to be run again (after other work).
    ///
    /// # Errors
    ///
    /// An errno when the driver broke a virtqueue (vringh refused a ring or
    /// a chain): the core then sets `NEEDS_RESET` and signals a config
    /// change (virtio 1.3 section 2.1.2), and runs the device no more until
    /// it is reset.
    fn process(&mut self, vqs: &mut Queues<'_>) -> Result<bool>;

    /// The device is reset: forget in-flight requests (not backing data).
    fn reset(&mut self) {}
}

/// The ready virtqueues of a device, as [`Model::process`] sees them.
pub struct Queues<'a> {
    vqs: &'a mut [Vq],
}

impl Queues<'_> {
    /// Virtqueue `index`, when it is ready.
    pub fn get(&mut self, index: u16) -> Option<Pin<&mut Vringh>> {
        Some(
            self.vqs
                .get_mut(usize::from(index))?
                .ring
                .as_mut()?
                .as_mut(),
        )
    }

    /// Virtqueues `a` and `b` (distinct), when both are ready.
    pub fn pair(&mut self, a: u16, b: u16) -> Option<(Pin<&mut Vringh>, Pin<&mut Vringh>)> {
        let (a, b) = (usize::from(a), usize::from(b));
        if a.max(b) >= self.vqs.len() {
            return None;
        }
        // `split_at_mut`: `get_disjoint_mut` needs Rust 1.86, the kernel 1.85.
        let (x, y) = match a.cmp(&b) {
            core::cmp::Ordering::Less => {
                let (lo, hi) = self.vqs.split_at_mut(b);
                (lo.get_mut(a)?, hi.first_mut()?)
            }
            core::cmp::Ordering::Greater => {
                let (lo, hi) = self.vqs.split_at_mut(a);
                (hi.first_mut()?, lo.get_mut(b)?)
            }
            core::cmp::Ordering::Equal => return None,
        };
        Some((x.ring.as_mut()?.as_mut(), y.ring.as_mut()?.as_mut()))
    }
}

/// A test hook of KUnit builds: it holds a kick between its check that the
/// device runs and its queueing of the work, to make the window that a
/// stopping device must close as wide as a test wants. Off unless a test
/// arms it.
#[cfg(CONFIG_KUNIT = "y")]
mod kick_hook {
    use core::sync::atomic::{
        AtomicU32,
        Ordering, //
    };
    use kernel::time::{
        delay::udelay,
        Delta, //
    };

    /// Busy-waits this many 5 ms steps inside the window (0: off).
    pub(super) static DELAY_STEPS: AtomicU32 = AtomicU32::new(0);
    /// Kicks that entered the window.
    pub(super) static IN_WINDOW: AtomicU32 = AtomicU32::new(0);
    /// Runs of devices' work.
    pub(super) static RUNS: AtomicU32 = AtomicU32::new(0);

    pub(super) fn in_window() {
        IN_WINDOW.fetch_add(1, Ordering::AcqRel);
        for _ in 0..DELAY_STEPS.load(Ordering::Acquire) {
            // A busy wait: the window is an RCU read-side section.
            udelay(Delta::from_millis(5));
        }
    }

    pub(super) fn ran() {
        RUNS.fetch_add(1, Ordering::AcqRel);
    }
}

/// Whether the rings of a virtqueue of `num` entries at `addrs` are where a
/// device can use them (virtio 1.3 section 2.7): the descriptor table
/// (16 bytes per entry) 16-byte aligned and readable, the available ring
/// (6 + 2 * `num` bytes) 2-byte aligned and readable, the used ring
/// (6 + 8 * `num` bytes) 4-byte aligned and writable, in `iotlb`.
fn rings_placed(iotlb: &Iotlb, addrs: RingAddrs, num: u32) -> bool {
    let num = u64::from(num);
    addrs.desc % 16 == 0
        && addrs.avail % 2 == 0
        && addrs.used % 4 == 0
        && iotlb.covers(addrs.desc, 16 * num, false)
        && iotlb.covers(addrs.avail, 6 + 2 * num, false)
        && iotlb.covers(addrs.used, 6 + 8 * num, true)
}

/// One virtqueue's state (`struct vdpasim_virtqueue`).
#[derive(Default)]
struct Vq {
    addrs: Option<RingAddrs>,
    num: u32,
    /// Next available entry to take while not ready.
    avail_index: u16,
    cb: Option<Callback>,
    /// Present exactly while the virtqueue is ready.
    ring: Option<Pin<KBox<Vringh>>>,
}

impl Vq {
    fn avail_index(&self) -> u16 {
        self.ring
            .as_ref()
            .map_or(self.avail_index, |r| r.last_avail_idx())
    }
}

struct State<M> {
    model: M,
    status: Status,
    features: Features,
    suspended: bool,
    /// The owner dropped the device: it never runs again.
    stopped: bool,
    generation: u32,
    config_cb: Option<Callback>,
    vqs: KVec<Vq>,
}

impl<M> State<M> {
    fn running(&self) -> bool {
        !self.stopped
            && !self.suspended
            && self.status.contains(StatusBit::DriverOk)
            && !self.status.contains(StatusBit::NeedsReset)
    }

    /// Moves the config generation on and tells the driver, if the device
    /// still has one.
    fn config_changed(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if let Some(cb) = self.config_cb.as_ref().filter(|_| !self.stopped) {
            notify_bh(&**cb);
        }
    }

    fn vq(&mut self, index: u16) -> Result<&mut Vq> {
        self.vqs.get_mut(usize::from(index)).ok_or(EINVAL)
    }
}

/// The shared part of a [`VirtioDevice`]: what class drivers hold as
/// `Arc<dyn DeviceOps>`.
///
/// # Invariants
///
/// Only ever created inside an [`Arc`] (by [`VirtioDevice::new`]).
/// `running` is `state.running()`, updated under the lock.
#[pin_data]
pub struct Vdev<M: Model> {
    #[pin]
    state: Mutex<State<M>>,
    running: AtomicBool,
    #[pin]
    work: Work<Vdev<M>>,
    iotlb: Arc<Iotlb>,
}

kernel::impl_has_work! {
    impl{M: Model} HasWork<Vdev<M>> for Vdev<M> { self.work }
}

impl<M: Model> WorkItem for Vdev<M> {
    type Pointer = Arc<Vdev<M>>;

    fn run(this: Arc<Vdev<M>>) {
        this.process();
    }
}

impl<M: Model> Vdev<M> {
    /// Queues the device's work (it runs once even if queued many times).
    fn schedule(&self) {
        // SAFETY: By the type invariant `self` is the value of an `Arc`
        // (the address `Arc::as_ptr` gives), never of a `UniqueArc` once
        // shared; the caller's reference keeps its count above zero for the
        // borrow, which ends within this call.
        let this: Arc<Self> = unsafe { ArcBorrow::from_raw(self) }.into();
        let queue = if PERCPU_WORK.load(Ordering::Relaxed) {
            workqueue::system()
        } else {
            workqueue::system_unbound()
        };
        // Already queued: the queued run will see the new buffers.
        let _ = queue.enqueue(this);
    }

    /// Records whether the device runs now; starts it when it does.
    fn update(&self, st: &State<M>) {
        let running = st.running();
        let was = self.running.swap(running, Ordering::AcqRel);
        if running && !was {
            self.schedule();
        }
    }

    /// One run of the model, then the callbacks of the virtqueues it used
    /// (under the lock and with bottom halves off, as `vdpasim_net_work()`
    /// does: a callback may schedule NAPI). When work is left it queues the
    /// next run before it unlocks, so a stop (which takes the lock) is
    /// either seen by that run or followed by it in `flush_work()`.
    fn process(&self) {
        #[cfg(CONFIG_KUNIT = "y")]
        kick_hook::ran();
        let mut guard = self.state.lock();
        if !guard.running() {
            return;
        }
        let st = &mut *guard;
        let more = match st.model.process(&mut Queues { vqs: &mut st.vqs }) {
            Ok(more) => more,
            Err(_) => {
                st.status |= StatusBit::NeedsReset;
                st.config_changed();
                self.update(st);
                false
            }
        };
        for vq in st.vqs.iter_mut() {
            let Some(ring) = vq.ring.as_mut() else {
                continue;
            };
            if ring.as_mut().take_completed() && ring.as_mut().need_notify().unwrap_or(false) {
                if let Some(cb) = &vq.cb {
                    notify_bh(&**cb);
                }
            }
        }
        if more {
            self.schedule();
        }
    }

    /// `suspend` and `resume`: only a `DRIVER_OK` device has either.
    fn set_suspended(&self, suspended: bool) -> Result {
        let mut st = self.state.lock();
        if !st.status.contains(StatusBit::DriverOk) {
            return Err(EINVAL);
        }
        st.suspended = suspended;
        self.update(&st);
        Ok(())
    }

    fn lock_vq<R>(&self, index: u16, f: impl FnOnce(bool, &mut Vq) -> Result<R>) -> Result<R> {
        let mut st = self.state.lock();
        let running = st.running();
        f(running, st.vq(index)?)
    }
}

impl<M: Model> DeviceOps for Vdev<M> {
    fn device_id(&self) -> u32 {
        M::DEVICE_ID
    }

    fn vendor_id(&self) -> u32 {
        virtio::VENDOR_ID
    }

    fn num_queues(&self) -> u16 {
        M::NUM_QUEUES
    }

    fn max_queue_size(&self) -> u16 {
        M::MAX_QUEUE_SIZE
    }

    fn device_features(&self) -> Features {
        self.state.lock().model.features()
    }

    fn set_driver_features(&self, features: Features) -> Result {
        let mut st = self.state.lock();
        if st.status.contains(StatusBit::FeaturesOk) {
            return Err(EBUSY);
        }
        st.features = features & st.model.features();
        Ok(())
    }

    fn driver_features(&self) -> Features {
        self.state.lock().features
    }

    fn status(&self) -> Status {
        self.state.lock().status
    }

    fn set_status(&self, status: Status) {
        if status == Status::empty() {
            return self.reset();
        }
        let mut st = self.state.lock();
        let mut status = status;
        let newly_ok =
            status.contains(StatusBit::FeaturesOk) && !st.status.contains(StatusBit::FeaturesOk);
        if newly_ok && !st.features.contains(virtio::F_VERSION_1) {
            // Virtio 1.3 section 2.2: a device refuses features by not
            // latching FEATURES_OK; we are a modern-only device.
            status &= !StatusBit::FeaturesOk;
        }
        if !status.contains(StatusBit::FeaturesOk) {
            // Section 3.1.1: DRIVER_OK only after FEATURES_OK.
            status &= !StatusBit::DriverOk;
        }
        // Only a reset clears NEEDS_RESET (section 2.1.2).
        st.status = status | (st.status & StatusBit::NeedsReset);
        self.update(&st);
    }

    fn reset(&self) {
        let mut st = self.state.lock();
        st.status = Status::empty();
        st.features = Features::EMPTY;
        st.suspended = false;
        st.generation = st.generation.wrapping_add(1);
        st.config_cb = None;
        for vq in st.vqs.iter_mut() {
            *vq = Vq::default();
        }
        st.model.reset();
        self.update(&st);
    }

    fn config_size(&self) -> usize {
        M::CONFIG_SIZE
    }

    fn get_config(&self, offset: usize, buf: &mut [u8]) -> Result {
        const { assert!(M::CONFIG_SIZE <= MAX_CONFIG_SIZE) };
        let end = offset
            .checked_add(buf.len())
            .filter(|&e| e <= M::CONFIG_SIZE)
            .ok_or(EINVAL)?;
        let mut config = [0u8; MAX_CONFIG_SIZE];
        self.state
            .lock()
            .model
            .config(&mut config[..M::CONFIG_SIZE]);
        buf.copy_from_slice(&config[offset..end]);
        Ok(())
    }

    fn set_config(&self, offset: usize, buf: &[u8]) -> Result {
        offset
            .checked_add(buf.len())
            .filter(|&e| e <= M::CONFIG_SIZE)
            .ok_or(EINVAL)?;
        self.state.lock().model.set_config(offset, buf);
        Ok(())
    }

    fn config_generation(&self) -> u32 {
        self.state.lock().generation
    }

    fn set_config_callback(&self, cb: Option<Callback>) {
        self.state.lock().config_cb = cb;
    }

    fn synchronize_callbacks(&self) {
        // Callbacks run under the lock (`process`, `config_changed`).
        drop(self.state.lock());
    }

    fn set_vq_address(&self, index: u16, addrs: RingAddrs) -> Result {
        self.lock_vq(index, |_, vq| {
            if vq.ring.is_some() {
                return Err(EBUSY);
            }
            vq.addrs = Some(addrs);
            Ok(())
        })
    }

    fn set_vq_num(&self, index: u16, num: u32) -> Result {
        self.lock_vq(index, |_, vq| {
            if !num.is_power_of_two() || num > u32::from(M::MAX_QUEUE_SIZE) {
                return Err(EINVAL);
            }
            if vq.ring.is_some() {
                return Err(EBUSY);
            }
            vq.num = num;
            Ok(())
        })
    }

    fn set_vq_ready(&self, index: u16, ready: bool) -> Result {
        let mut st = self.state.lock();
        let features = st.features;
        let vq = st.vq(index)?;
        match (ready, vq.ring.is_some()) {
            (true, false) => {
                let addrs = vq.addrs.ok_or(EINVAL)?;
                if vq.num == 0 || !rings_placed(&self.iotlb, addrs, vq.num) {
                    return Err(EINVAL);
                }
                let mut ring = KBox::pin_init(
                    Vringh::new(features.raw(), vq.num, addrs, self.iotlb.clone()),
                    GFP_KERNEL,
                )?;
                ring.as_mut().set_base(vq.avail_index);
                vq.ring = Some(ring);
            }
            (false, true) => {
                vq.avail_index = vq.avail_index();
                vq.ring = None;
            }
            _ => {}
        }
        Ok(())
    }

    fn vq_ready(&self, index: u16) -> Result<bool> {
        self.lock_vq(index, |_, vq| Ok(vq.ring.is_some()))
    }

    fn set_vq_state(&self, index: u16, avail_index: u16) -> Result {
        self.lock_vq(index, |running, vq| {
            if running && vq.ring.is_some() {
                return Err(EBUSY);
            }
            vq.avail_index = avail_index;
            if let Some(ring) = vq.ring.as_mut() {
                ring.as_mut().set_base(avail_index);
            }
            Ok(())
        })
    }

    fn vq_state(&self, index: u16) -> Result<u16> {
        self.lock_vq(index, |_, vq| Ok(vq.avail_index()))
    }

    fn set_vq_callback(&self, index: u16, cb: Option<Callback>) -> Result {
        self.lock_vq(index, |_, vq| {
            vq.cb = cb;
            Ok(())
        })
    }

    fn kick_vq(&self, index: u16) {
        if index >= M::NUM_QUEUES {
            return;
        }
        // The check and the queueing are one RCU read-side section: the
        // owner's drop clears `running`, waits for a grace period, then
        // flushes, so no kick queues work after it.
        let _rcu = rcu::read_lock();
        if self.running.load(Ordering::Acquire) {
            #[cfg(CONFIG_KUNIT = "y")]
            kick_hook::in_window();
            self.schedule();
        }
    }

    fn suspend(&self) -> Result {
        self.set_suspended(true)
    }

    fn resume(&self) -> Result {
        self.set_suspended(false)
    }

    fn suspended(&self) -> bool {
        self.state.lock().suspended
    }

    fn iotlb(&self) -> &Arc<Iotlb> {
        &self.iotlb
    }
}

/// A virtio device running model `M`: what a parent keeps per mdev. Class
/// drivers reach it through [`Self::ops`]. Dropping it stops the device and
/// waits for its work, so no work of it runs once the owner is gone.
pub struct VirtioDevice<M: Model> {
    dev: Arc<Vdev<M>>,
}

impl<M: Model> VirtioDevice<M> {
    /// A reset device running `model`, with an empty IOTLB.
    ///
    /// # Errors
    ///
    /// `ENOMEM`.
    pub fn new(model: M) -> Result<Self> {
        let iotlb = Arc::pin_init(Iotlb::new(IOTLB_ENTRIES), GFP_KERNEL)?;
        let mut vqs = KVec::with_capacity(usize::from(M::NUM_QUEUES), GFP_KERNEL)?;
        for _ in 0..M::NUM_QUEUES {
            vqs.push(Vq::default(), GFP_KERNEL)?;
        }
        let state = State {
            model,
            status: Status::empty(),
            features: Features::EMPTY,
            suspended: false,
            stopped: false,
            generation: 0,
            config_cb: None,
            vqs,
        };
        // INVARIANT: made inside an `Arc`; not running.
        let dev = Arc::pin_init(
            pin_init!(Vdev {
                state <- new_mutex!(state),
                running: AtomicBool::new(false),
                work <- new_work!("rmdev_vdev::work"),
                iotlb,
            }),
            GFP_KERNEL,
        )?;
        Ok(Self { dev })
    }

    /// The device's operations, for the parent and for tests. A class
    /// driver gets them through the [`DeviceHandle`] the parent hands it.
    pub fn ops(&self) -> Arc<dyn DeviceOps> {
        self.dev.clone()
    }

    /// The handle on the device that the parent gives the mdev core as the
    /// mdev's class data, for the class driver that binds it.
    pub fn handle(&self) -> DeviceHandle {
        DeviceHandle(self.dev.clone())
    }

    /// A handle for the parent to signal config changes of this device
    /// (link state, capacity ...).
    pub fn config_notifier(&self) -> ConfigNotifier<M> {
        ConfigNotifier(self.dev.clone())
    }
}

/// Signals config changes of a [`VirtioDevice`], from its parent's side
/// (a debugfs or sysfs knob). It keeps the device's shared state alive, not
/// the device running: after the device is dropped it has no driver to tell.
///
/// # Context
///
/// [`Self::config_changed`] takes the device's lock and may sleep: never
/// call it from a [`Model`] method or a callback (they run under that
/// lock). A model must not keep one (the model would keep its own device
/// alive).
pub struct ConfigNotifier<M: Model>(Arc<Vdev<M>>);

impl<M: Model> ConfigNotifier<M> {
    /// The config space changed: moves the config generation on and calls
    /// the driver's config callback (virtio 1.3 section 2.5.1, 4.1.4.3).
    pub fn config_changed(&self) {
        self.0.state.lock().config_changed();
    }
}

impl<M: Model> Drop for VirtioDevice<M> {
    fn drop(&mut self) {
        {
            let mut st = self.dev.state.lock();
            st.stopped = true;
            self.dev.update(&st);
        }
        // A kick that saw the device running has queued its work once this
        // returns (`kick_vq`), whatever a class driver still does.
        rcu::synchronize_rcu();
        // SAFETY: `work` is initialised and lives as long as `self.dev`.
        // A run queues the next one under the lock only while the device
        // runs (`process`), and kicks queue nothing once `running` is clear
        // and a grace period passed: at most one run is queued or running,
        // and it is done when `flush_work()` returns.
        unsafe { kernel::bindings::flush_work(Work::raw_get(&self.dev.work)) };
    }
}

/// The class data of an mdev whose parent runs a device model: what its
/// class driver binds to. It gives no owned reference to the device (it is
/// not `Clone`): a class driver only borrows the device, through a
/// [`Binding`], for as long as it is bound.
pub struct DeviceHandle(Arc<dyn DeviceOps>);

impl DeviceHandle {
    /// Binds the device to the calling class driver, which keeps the
    /// [`Binding`] in its per-device data.
    pub fn bind(&self) -> Binding<'_> {
        Binding(&*self.0)
    }
}

/// A class driver's hold on a device's operations, from its probe to its
/// unbind. Dropping it resets the device, which drops every callback the
/// class driver set: no code of the class driver is called after it, even
/// when the class driver's module goes while the device stays.
pub struct Binding<'a>(&'a (dyn DeviceOps + 'static));

impl core::ops::Deref for Binding<'_> {
    type Target = dyn DeviceOps;

    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl<'a> Binding<'a> {
    /// The device ops, for as long as the device is bound (`'a`): for what
    /// the class driver keeps next to the binding (the binding itself only
    /// adds the reset when it ends).
    pub fn ops(&self) -> &'a dyn DeviceOps {
        self.0
    }
}

impl Drop for Binding<'_> {
    fn drop(&mut self) {
        self.0.reset();
    }
}

#[kernel::macros::kunit_tests(rmdev_vdev)]
mod tests {
    use super::*;
    use crate::testing::{
        bring_up,
        wait_until,
        Counter,
        DriverRing, //
    };
    use kernel::time::{
        delay::fsleep,
        Delta, //
    };
    use vhost::Perm;

    /// A model that echoes queue 0: each chain's readable bytes are written
    /// back into its writable part.
    struct Echo;

    impl Model for Echo {
        const DEVICE_ID: u32 = 42;
        const NUM_QUEUES: u16 = 2;
        const CONFIG_SIZE: usize = 4;

        fn features(&self) -> Features {
            virtio::F_VERSION_1
        }

        fn config(&self, config: &mut [u8]) {
            config.copy_from_slice(&[1, 2, 3, 4]);
        }

        fn process(&mut self, vqs: &mut Queues<'_>) -> Result<bool> {
            let Some(mut vq) = vqs.get(0) else {
                return Ok(false);
            };
            while let Some(head) = vq.as_mut().next()? {
                let mut buf = [0u8; 64];
                let n = vq.as_mut().read(&mut buf)?;
                let w = vq.as_mut().write(&buf[..n])?;
                vq.as_mut().complete(head, w as u32)?;
            }
            Ok(false)
        }
    }

    fn echo() -> Result<(VirtioDevice<Echo>, DriverRing, DriverRing)> {
        let dev = VirtioDevice::new(Echo)?;
        let (mut q0, mut q1) = (DriverRing::new(8, 1024)?, DriverRing::new(8, 64)?);
        bring_up(dev.ops(), Features::EMPTY, &mut [&mut q0, &mut q1])?;
        Ok((dev, q0, q1))
    }

    #[test]
    fn bad_input_is_refused_and_changes_nothing() -> Result {
        let (dev, mut q0, _q1) = echo()?;
        let ops = dev.ops();
        let (status, features) = (ops.status(), ops.driver_features());
        let addrs = q0.addrs();
        let cb = Arc::new(Counter::default(), GFP_KERNEL)?;
        // Virtqueue 2 does not exist.
        assert_eq!(ops.set_vq_address(2, addrs), Err(EINVAL));
        assert_eq!(ops.set_vq_num(2, 8), Err(EINVAL));
        assert_eq!(ops.set_vq_ready(2, true), Err(EINVAL));
        assert_eq!(ops.vq_ready(u16::MAX), Err(EINVAL));
        assert_eq!(ops.set_vq_state(2, 0), Err(EINVAL));
        assert_eq!(ops.vq_state(2), Err(EINVAL));
        assert_eq!(ops.set_vq_callback(2, Some(cb.clone())), Err(EINVAL));
        ops.kick_vq(2);
        // A ready virtqueue keeps its rings and size; a running one its index.
        assert_eq!(ops.set_vq_address(0, addrs), Err(EBUSY));
        assert_eq!(ops.set_vq_num(0, 4), Err(EBUSY));
        assert_eq!(ops.set_vq_state(0, 7), Err(EBUSY));
        // Sizes: powers of 2 up to the maximum.
        for num in [0, 3, 6, 257, 512, u32::MAX] {
            assert_eq!(ops.set_vq_num(1, num), Err(EINVAL));
        }
        // Config space bounds.
        assert_eq!(ops.get_config(3, &mut [0u8; 2]), Err(EINVAL));
        assert_eq!(ops.get_config(usize::MAX, &mut [0u8; 1]), Err(EINVAL));
        assert_eq!(ops.set_config(4, &[0]), Err(EINVAL));
        let mut cfg = [0u8; 4];
        assert_eq!(ops.get_config(0, &mut cfg), Ok(()));
        assert_eq!(cfg, [1, 2, 3, 4]);
        // Features are fixed once FEATURES_OK is set.
        assert_eq!(ops.set_driver_features(Features::EMPTY), Err(EBUSY));
        assert_eq!((ops.status(), ops.driver_features()), (status, features));
        assert_eq!(ops.vq_ready(0), Ok(true));
        Ok(())
    }

    #[test]
    fn suspend_needs_driver_ok_and_driver_ok_needs_features_ok() -> Result {
        let dev = VirtioDevice::new(Echo)?;
        let ops = dev.ops();
        assert_eq!(ops.suspend(), Err(EINVAL));
        assert_eq!(ops.resume(), Err(EINVAL));
        ops.set_status(StatusBit::Acknowledge | StatusBit::Driver | StatusBit::DriverOk);
        assert_eq!(ops.status(), StatusBit::Acknowledge | StatusBit::Driver);
        Ok(())
    }

    #[test]
    fn echo_and_notification_suppression() -> Result {
        let (dev, mut q0, _q1) = echo()?;
        let ops = dev.ops();
        let calls = Arc::new(Counter::default(), GFP_KERNEL)?;
        ops.set_vq_callback(0, Some(calls.clone()))?;
        // VRING_AVAIL_F_NO_INTERRUPT: buffers are used, no callback.
        q0.set_avail_flags(1);
        let head = q0.add(&[b"ping"], &[16])?;
        ops.kick_vq(0);
        assert!(wait_until(|| q0.used_idx() == 1));
        assert_eq!(q0.used(), Some((head, 4)));
        let mut out = [0u8; 16];
        q0.written(head, &mut out);
        assert_eq!(&out[..4], b"ping");
        fsleep(Delta::from_millis(20));
        assert_eq!(calls.get(), 0);
        q0.set_avail_flags(0);
        q0.add(&[b"pong"], &[16])?;
        ops.kick_vq(0);
        assert!(wait_until(|| calls.get() == 1));
        assert_eq!(q0.used_idx(), 2);
        Ok(())
    }

    #[test]
    fn vq_state_survives_not_ready() -> Result {
        let (dev, mut q0, _q1) = echo()?;
        let ops = dev.ops();
        q0.add(&[b"a"], &[4])?;
        q0.add(&[b"b"], &[4])?;
        ops.kick_vq(0);
        assert!(wait_until(|| q0.used_idx() == 2));
        assert_eq!(ops.vq_state(0), Ok(2));
        assert_eq!(ops.set_vq_ready(0, false), Ok(()));
        assert_eq!(ops.vq_state(0), Ok(2));
        assert_eq!(ops.set_vq_state(0, 5), Ok(()));
        assert_eq!(ops.set_vq_ready(0, true), Ok(()));
        assert_eq!(ops.vq_state(0), Ok(5));
        // Suspended, the index can be set on a ready virtqueue too.
        assert_eq!(ops.suspend(), Ok(()));
        assert_eq!(ops.set_vq_state(0, 2), Ok(()));
        assert_eq!(ops.resume(), Ok(()));
        assert_eq!(ops.vq_state(0), Ok(2));
        // A reset forgets it.
        ops.reset();
        assert_eq!((ops.vq_state(0), ops.vq_ready(0)), (Ok(0), Ok(false)));
        Ok(())
    }

    #[test]
    fn rings_must_be_aligned_and_mapped() -> Result {
        let dev = VirtioDevice::new(Echo)?;
        let ops = dev.ops();
        let mut q = DriverRing::new(8, 64)?;
        let a = q.addrs();
        ops.set_vq_num(0, 8)?;
        ops.set_vq_address(0, a)?;
        // Nothing mapped: the device cannot reach the rings.
        assert_eq!(ops.set_vq_ready(0, true), Err(EINVAL));
        // Mapped read-only: the used ring is not writable.
        ops.iotlb().add_range(0, u64::MAX, 0, Perm::ReadOnly)?;
        assert_eq!(ops.set_vq_ready(0, true), Err(EINVAL));
        ops.iotlb().reset();
        ops.iotlb().add_range(0, u64::MAX, 0, Perm::ReadWrite)?;
        // Virtio 1.3 2.7: desc 16, avail 2, used 4 bytes aligned.
        let misplaced = [
            RingAddrs {
                desc: a.desc + 8,
                ..a
            },
            RingAddrs {
                avail: a.avail + 1,
                ..a
            },
            RingAddrs {
                used: a.used + 2,
                ..a
            },
        ];
        for bad in misplaced {
            ops.set_vq_address(0, bad)?;
            assert_eq!(ops.set_vq_ready(0, true), Err(EINVAL));
            assert_eq!(ops.vq_ready(0), Ok(false));
        }
        ops.set_vq_address(0, a)?;
        assert_eq!(ops.set_vq_ready(0, true), Ok(()));
        // The device lets go of the ring before it is freed.
        ops.reset();
        Ok(())
    }

    #[test]
    fn no_work_runs_after_the_device_is_dropped() -> Result {
        use kernel::workqueue;
        let (dev, _q0, _q1) = echo()?;
        let ops = dev.ops();
        let entered = kick_hook::IN_WINDOW.load(Ordering::Acquire);
        // A kick held 100 ms between its check and its queueing, from
        // another CPU; the device is dropped while it is held.
        kick_hook::DELAY_STEPS.store(20, Ordering::Release);
        let kicker = ops.clone();
        workqueue::system_unbound().try_spawn(GFP_KERNEL, move || kicker.kick_vq(0))?;
        assert!(wait_until(
            || kick_hook::IN_WINDOW.load(Ordering::Acquire) != entered
        ));
        drop(dev);
        let runs = kick_hook::RUNS.load(Ordering::Acquire);
        kick_hook::DELAY_STEPS.store(0, Ordering::Release);
        // Long after the held kick is done: nothing ran since the drop.
        fsleep(Delta::from_millis(300));
        assert_eq!(kick_hook::RUNS.load(Ordering::Acquire), runs);
        Ok(())
    }
}
