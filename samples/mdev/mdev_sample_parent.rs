// SPDX-License-Identifier: GPL-2.0

//! Sample mdev parents: devices `mdev_sample.0` and `mdev_sample.1` on bus
//! `vbus`, bound by this module's driver `mdev_sample`, which registers each
//! as an mdev parent with three types:
//!
//! - `mdev_sample-virtio` (class VIRTIO, at most 4 instances);
//! - `mdev_sample-vhost` (class VHOST, at most 2 instances);
//! - `mdev_sample-bulk` (class VIRTIO, at most 1024 instances).
//!
//! Its mdevs have no device behind them: it exists to exercise the mdev core
//! and its sysfs ABI (like mainline's `samples/vfio-mdev/mtty.c` without the
//! serial port). The device models are the `mvnet` and `mvblk` parents.

use kernel::{
    device::Core,
    prelude::*,
    time::{
        delay::fsleep,
        Delta, //
    },
};
use mdev::{
    Class,
    Parent,
    TypeInfo,
    TypeTable,
    Uuid, //
};

/// The parent's side of one mdev: what it was created as.
struct SampleMdev {
    uuid: Uuid,
    info: &'static TypeInfo,
}

impl Drop for SampleMdev {
    fn drop(&mut self) {
        pr_info!(
            "mdev {} of type {} released\n",
            self.uuid,
            self.info.sysfs_name.to_str().unwrap_or("?")
        );
    }
}

struct SampleParent;

impl Parent for SampleParent {
    type TypeData = ();
    type Device = SampleMdev;
    // No device model: nothing for a class driver.
    type ClassData = ();

    const TYPES: TypeTable<()> = &[
        (
            TypeInfo {
                sysfs_name: c"virtio",
                pretty_name: c"mdev sample, virtio class",
                description: c"sample mdev without a device, bound by the virtio class driver",
                device_api: c"virtio-mdev",
                class: Class::Virtio,
                max_instances: 4,
            },
            (),
        ),
        (
            TypeInfo {
                sysfs_name: c"vhost",
                pretty_name: c"mdev sample, vhost class",
                description: c"sample mdev without a device, bound by the vhost class driver",
                device_api: c"vhost-mdev",
                class: Class::Vhost,
                max_instances: 2,
            },
            (),
        ),
        (
            TypeInfo {
                sysfs_name: c"bulk",
                pretty_name: c"mdev sample, many instances",
                description: c"sample mdev without a device, for stress tests and benchmarks",
                device_api: c"virtio-mdev",
                class: Class::Virtio,
                max_instances: 1024,
            },
            (),
        ),
    ];

    fn create(&self, info: &'static TypeInfo, _data: &(), uuid: &Uuid) -> Result<(SampleMdev, ())> {
        pr_info!(
            "mdev {} of type {} created\n",
            uuid,
            info.sysfs_name.to_str().unwrap_or("?")
        );
        Ok((SampleMdev { uuid: *uuid, info }, ()))
    }

    /// Counted by the core; with `available_delay_ms` set, the answer is
    /// slow (a parent asking its hardware), which must not hold up other
    /// parents' creates.
    fn available_instances(&self, _info: &'static TypeInfo) -> Option<u32> {
        let delay = module_parameters::available_delay_ms.value().min(10_000);
        if delay != 0 {
            pr_info!("available_instances: answering in {} ms\n", delay);
            fsleep(Delta::from_millis(i64::from(delay)));
        }
        None
    }
}

/// The parent module's driver: parents `mdev_sample.0` and `mdev_sample.1`.
struct SampleDriver;

impl mdev::ParentDriver for SampleDriver {
    const NAME: &'static CStr = c"mdev_sample";
    const DEVICES: u32 = 2;
    type Parent = SampleParent;

    fn parent(_dev: &vbus::Device<Core<'_>>) -> Result<SampleParent> {
        Ok(SampleParent)
    }
}

mdev::module_parent! {
    driver: SampleDriver,
    name: "mdev_sample_parent",
    authors: ["rmdev developers"],
    description: "rmdev sample: two mdev parents with virtio, vhost and bulk types",
    license: "GPL",
    params: {
        available_delay_ms: u32 {
            default: 0,
            description: "Milliseconds each available_instances query takes (at most 10000)",
        },
    },
}
