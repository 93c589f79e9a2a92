// SPDX-License-Identifier: GPL-2.0

//! Sample provider: creates `ndevs` devices named `rmdev_sample.<i>` on the
//! `vbus` bus, children of a faux device `vbus_sample_provider`.
//!
//! Follows `samples/rust/rust_driver_auxiliary.rs`.

use kernel::{
    faux,
    prelude::*, //
};
use vbus::device::{
    DeviceInfo,
    Family, //
};

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
    // The faux parent and the devices under it (deleted first).
    _devices: Family<faux::Registration>,
}

impl kernel::Module for SampleProvider {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let n = module_parameters::ndevs.value();
        if n > MAX_DEVICES {
            pr_err!("ndevs={} is above the limit of {}\n", n, MAX_DEVICES);
            return Err(EINVAL);
        }
        let parent = faux::Registration::new(c"vbus_sample_provider", None)?;
        let mut devices = Family::new(parent, |p| p.as_ref().as_ref())?;
        for id in 0..n {
            let info = DeviceInfo {
                name: c"rmdev_sample",
                id: Some(id),
                class: None,
                groups: None,
            };
            devices.add(&vbus::VBUS, info)?;
        }
        pr_info!("created {} devices\n", n);
        Ok(Self { _devices: devices })
    }
}
