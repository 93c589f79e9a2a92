// SPDX-License-Identifier: GPL-2.0

//! Sample provider: creates `ndevs` devices named `rmdev_sample.<i>` on the
//! `vbus` bus, children of a faux device `vbus_sample_provider`.
//!
//! Follows `samples/rust/rust_driver_auxiliary.rs`.

use kernel::{faux, prelude::*};
use vbus::device::{DeviceInfo, Registration};

/// Most devices the provider creates.
const MAX_DEVICES: u32 = 4096;

module! {
    type: SampleProvider,
    name: "vbus_sample_provider",
    authors: ["rmdev developers"],
    description: "rmdev sample: creates devices on the vbus bus",
    license: "GPL",
    params: {
        ndevs: u32 {
            default: 2,
            description: "Number of devices to create (0..=4096)",
        },
    },
}

struct SampleProvider {
    // Dropped first: the devices go before their parent.
    _devices: KVec<Registration>,
    _parent: faux::Registration,
}

impl kernel::Module for SampleProvider {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let n = module_parameters::ndevs.value();
        if n > MAX_DEVICES {
            pr_err!("ndevs={} is above the limit of {}\n", n, MAX_DEVICES);
            return Err(EINVAL);
        }
        let parent = faux::Registration::new(c"vbus_sample_provider", None)?;
        let parent_dev: &kernel::device::Device<kernel::device::Bound> = parent.as_ref().as_ref();
        let mut devices = KVec::with_capacity(n as usize, GFP_KERNEL)?;
        for id in 0..n {
            let info = DeviceInfo { name: c"rmdev_sample", id: Some(id), class: None, groups: None };
            devices.push(Registration::new(&vbus::VBUS, Some(parent_dev), info)?, GFP_KERNEL)?;
        }
        pr_info!("created {} devices\n", n);
        Ok(Self { _devices: devices, _parent: parent })
    }
}
