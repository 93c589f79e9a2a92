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

use kernel::{device::Core, driver, prelude::*, InPlaceModule};
use mdev::{Parent, TypeInfo, Uuid};
use vbus::{device::DeviceInfo, DeviceId, IdTable};

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

/// The driver of the parent device: registers it with the mdev core.
struct SampleDriver;

impl vbus::Driver for SampleDriver {
    type IdInfo = ();
    type Data<'bound> = mdev::Registration;

    const ID_TABLE: IdTable<()> = &[(DeviceId::name(c"mdev_sample"), ())];

    fn probe<'bound>(
        dev: &'bound vbus::Device<Core<'_>>,
        _id_info: Option<&'bound ()>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        mdev::Registration::new(dev.as_ref(), SampleParent)
    }
}

/// Number of parent devices.
const PARENTS: u32 = 2;

#[pin_data]
struct SampleModule {
    // Dropped first: deleting the devices unbinds them, which unregisters
    // the parents (and removes their mdevs) before the driver goes.
    devs: KVec<vbus::device::Registration>,
    #[pin]
    driver: driver::Registration<vbus::driver::Adapter<SampleDriver>>,
}

impl InPlaceModule for SampleModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            driver <- driver::Registration::new(c"mdev_sample", module),
            devs: {
                let mut devs = KVec::with_capacity(PARENTS as usize, GFP_KERNEL)?;
                for id in 0..PARENTS {
                    let info = DeviceInfo { name: c"mdev_sample", id: Some(id), class: None, groups: None };
                    devs.push(vbus::device::Registration::new(&vbus::VBUS, None, info)?, GFP_KERNEL)?;
                }
                devs
            },
        })
    }
}

module! {
    type: SampleModule,
    name: "mdev_sample_parent",
    authors: ["rmdev developers"],
    description: "rmdev sample: two mdev parents with a virtio and a vhost type",
    license: "GPL",
}
