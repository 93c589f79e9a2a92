// SPDX-License-Identifier: GPL-2.0

//! Sample mdev parents: devices `mdev_sample.0` and `mdev_sample.1` on bus
//! `vbus`, bound by this module's driver `mdev_sample`, which registers each
//! as an mdev parent with two types:
//!
//! - `mdev_sample-virtio` (class VIRTIO, at most 4 instances);
//! - `mdev_sample-vhost` (class VHOST, at most 2 instances);
//! - `mdev_sample-bulk` (class VIRTIO, at most 1024 instances).
//!
//! Its mdevs have no device behind them: it exists to exercise the mdev core
//! and its sysfs ABI (like mainline's `samples/vfio-mdev/mtty.c` without the
//! serial port). The device models are the `mvnet` and `mvblk` parents.

use kernel::{device::Core, prelude::*};
use mdev::{Parent, TypeInfo, Uuid};

/// The parent's side of one mdev: what it was created as.
struct SampleMdev {
    uuid: Uuid,
    type_index: usize,
}

impl Drop for SampleMdev {
    fn drop(&mut self) {
        pr_info!("mdev {} of type {} released\n", self.uuid, SampleParent::TYPES[self.type_index].sysfs_name.to_str().unwrap_or("?"));
    }
}

struct SampleParent;

impl Parent for SampleParent {
    type Device = SampleMdev;

    const TYPES: &'static [TypeInfo] = &[
        TypeInfo {
            sysfs_name: c"virtio",
            pretty_name: c"mdev sample, virtio class",
            description: c"sample mdev without a device, bound by the virtio class driver",
            device_api: c"virtio-mdev",
            class_id: mdev::CLASS_VIRTIO,
            max_instances: 4,
        },
        TypeInfo {
            sysfs_name: c"vhost",
            pretty_name: c"mdev sample, vhost class",
            description: c"sample mdev without a device, bound by the vhost class driver",
            device_api: c"vhost-mdev",
            class_id: mdev::CLASS_VHOST,
            max_instances: 2,
        },
        TypeInfo {
            sysfs_name: c"bulk",
            pretty_name: c"mdev sample, many instances",
            description: c"sample mdev without a device, for stress tests and benchmarks",
            device_api: c"virtio-mdev",
            class_id: mdev::CLASS_VIRTIO,
            max_instances: 1024,
        },
    ];

    fn create(&self, type_index: usize, uuid: &Uuid) -> Result<SampleMdev> {
        pr_info!("mdev {} of type {} created\n", uuid, Self::TYPES[type_index].sysfs_name.to_str().unwrap_or("?"));
        Ok(SampleMdev { uuid: *uuid, type_index })
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
    description: "rmdev sample: two mdev parents with a virtio and a vhost type",
    license: "GPL",
}
