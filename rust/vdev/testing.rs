// SPDX-License-Identifier: GPL-2.0

//! Test support for device models (built with KUnit only): bring a device
//! up as a virtio driver would, count callbacks, wait for the device's work.
//! The driver side of the rings is [`vhost::testing::DriverRing`].

use crate::{
    ops::{
        DeviceOps,
        Notify, //
    },
    virtio::{
        self,
        Features,
        StatusBit, //
    },
};
use core::sync::atomic::{
    AtomicU32,
    Ordering, //
};
use kernel::{
    prelude::*,
    sync::Arc,
    time::{
        delay::fsleep,
        Delta, //
    }, //
};
pub use vhost::testing::{
    Detach,
    DriverRing, //
};
use vhost::Perm;

/// A callback that counts its calls.
#[derive(Default)]
pub struct Counter(AtomicU32);

impl Counter {
    /// How many times it was called.
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Acquire)
    }
}

impl Notify for Counter {
    fn notify(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Polls `done` every millisecond for up to 10 seconds (a loaded host under
/// TCG is slow); whether it came true. For waiting on a device's work,
/// which runs asynchronously.
pub fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..10_000 {
        if done() {
            return true;
        }
        fsleep(Delta::from_millis(1));
    }
    done()
}

/// A device's hold on the test rings it was brought up on: detaching
/// resets the device, which stops its virtqueues under its lock.
struct Resetter(Arc<dyn DeviceOps>);

impl Detach for Resetter {
    fn detach(&self) {
        self.0.reset();
    }
}

/// Brings a device up as a virtio driver would (virtio 1.3 section 3.1.1),
/// with an identity IOTLB as the virtio class fills it: negotiates
/// `features` (plus `VIRTIO_F_VERSION_1`), sets virtqueue `i` to `rings[i]`,
/// makes them ready and sets `DRIVER_OK`. The rings are attached to the
/// device: dropping one resets the device first.
///
/// # Errors
///
/// `EIO` when the device does not accept the features, or the device op's
/// errno.
pub fn bring_up(
    ops: Arc<dyn DeviceOps>,
    features: Features,
    rings: &mut [&mut DriverRing],
) -> Result {
    ops.iotlb().add_range(0, u64::MAX, 0, Perm::ReadWrite)?;
    ops.reset();
    let detach: Arc<dyn Detach> = Arc::new(Resetter(ops.clone()), GFP_KERNEL)?;
    for ring in rings.iter_mut() {
        ring.attach(detach.clone());
    }
    ops.set_status(StatusBit::Acknowledge | StatusBit::Driver);
    ops.set_driver_features(features | virtio::F_VERSION_1)?;
    let status = StatusBit::Acknowledge | StatusBit::Driver | StatusBit::FeaturesOk;
    ops.set_status(status);
    if !ops.status().contains(StatusBit::FeaturesOk) {
        return Err(EIO);
    }
    for (i, ring) in rings.iter_mut().enumerate() {
        let i = u16::try_from(i)?;
        ops.set_vq_num(i, u32::from(ring.num()))?;
        ops.set_vq_address(i, ring.addrs())?;
        ops.set_vq_ready(i, true)?;
    }
    ops.set_status(status | StatusBit::DriverOk);
    Ok(())
}
