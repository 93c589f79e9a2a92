// SPDX-License-Identifier: GPL-2.0

//! Sample driver: binds the `rmdev_sample` devices of the `vbus` bus and gives
//! each bound device a read-only attribute `sample_greeting`.
//!
//! Follows `samples/rust/rust_driver_auxiliary.rs`.

use core::{
    fmt::Write,
    pin::Pin, //
};
use kernel::{
    device,
    device::Core,
    prelude::*,
    str::Formatter, //
};
use vbus::{
    sysfs,
    Device,
    DeviceId,
    IdTable, //
};

struct SampleDriver;

/// Per-device data: when the device was bound, as a count of binds.
struct SampleData {
    bind_seq: u64,
}

static BINDS: kernel::sync::atomic::Atomic<u64> = kernel::sync::atomic::Atomic::new(0);

impl vbus::Driver for SampleDriver {
    type IdInfo = &'static str;
    type Data<'bound> = SampleData;

    const ID_TABLE: IdTable<Self::IdInfo> = &[(DeviceId::name(c"rmdev_sample"), "sample")];
    const DEVICE_GROUPS: Option<&'static sysfs::Groups> = Some(&GROUPS);

    fn probe<'bound>(
        dev: &'bound Device<Core<'_>>,
        id_info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let bind_seq = BINDS.fetch_add(1, kernel::sync::atomic::Relaxed) + 1;
        dev_info!(
            dev.as_ref(),
            "bound ({}), bind #{}\n",
            id_info.copied().unwrap_or("override"),
            bind_seq
        );
        Ok(SampleData { bind_seq })
    }

    fn unbind<'bound>(dev: &'bound Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        dev_info!(dev.as_ref(), "unbound, was bind #{}\n", this.bind_seq);
    }
}

/// `sample_greeting` (0444): names the device and its match name.
struct Greeting;

impl sysfs::Show for Greeting {
    const NAME: &'static CStr = c"sample_greeting";

    fn show(dev: &device::Device, out: &mut Formatter<'_>) -> Result {
        writeln!(
            out,
            "hello from vbus_sample_driver to {}",
            dev.name().to_str().map_err(|_| EINVAL)?
        )
        .map_err(|_| EOVERFLOW)
    }
}

static GREETING: sysfs::DeviceAttribute = sysfs::DeviceAttribute::read_only::<Greeting>();
vbus::attribute_groups!(static GROUPS = [GREETING]);

vbus::module_vbus_driver! {
    type: SampleDriver,
    name: "vbus_sample_driver",
    authors: ["rmdev developers"],
    description: "rmdev sample: a driver for the vbus sample devices",
    license: "GPL",
    alias: ["vbus:nrmdev_sample"],
}
