// SPDX-License-Identifier: GPL-2.0

//! Sample class driver: binds virtio-class mdevs through the mdev class-driver
//! API, takes its parent's device handle from the mdev's class data, and
//! logs the virtio device id it reads through the device's ops.
//!
//! It declares no `alias:`, so udev never loads it: load it by hand, or move
//! an mdev to it with `driver_override`. The `probe_delay_ms` parameter makes
//! probe sleep, so that tests can act on an mdev while it is being bound.
//!
//! Follows `samples/rust/rust_driver_auxiliary.rs`.

use kernel::{
    device::Core,
    prelude::*,
    time::{
        delay::fsleep,
        Delta, //
    }, //
};
use mdev::{
    Class,
    Device, //
};
use vdev::{
    Binding,
    DeviceHandle, //
};

/// The driver's data per bound mdev: its hold on the device.
struct SampleClassDevice<'bound> {
    _ops: Binding<'bound>,
}

struct SampleClassDriver;

impl mdev::Driver for SampleClassDriver {
    type IdInfo = ();
    type Data<'bound> = SampleClassDevice<'bound>;

    const ID_TABLE: mdev::IdTable<()> = &[(Class::Virtio.device_id(), ())];

    fn probe<'bound>(
        dev: &'bound Device<Core<'_>>,
        _id_info: Option<&'bound ()>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let delay = module_parameters::probe_delay_ms.value().min(10_000);
        if delay != 0 {
            fsleep(Delta::from_millis(i64::from(delay)));
        }
        bind(dev)
    }
}

/// Binds the mdev's device model, from the handle its parent made.
fn bind<'bound>(dev: &'bound Device<Core<'_>>) -> Result<SampleClassDevice<'bound>> {
    let ops = dev.class_data::<DeviceHandle>()?.bind();
    dev_info!(
        dev.as_ref(),
        "bound: virtio device id {}\n",
        ops.device_id()
    );
    Ok(SampleClassDevice { _ops: ops })
}

mdev::module_mdev_driver! {
    type: SampleClassDriver,
    name: "mdev_sample_class",
    authors: ["rmdev developers"],
    description: "rmdev sample: a class driver binding virtio-class mdevs",
    license: "GPL",
    params: {
        probe_delay_ms: u32 {
            default: 0,
            description: "Milliseconds each probe sleeps before binding (at most 10000)",
        },
    },
}
