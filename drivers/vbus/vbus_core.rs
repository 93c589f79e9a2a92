// SPDX-License-Identifier: GPL-2.0

//! `vbus.ko`: the virtual-bus core module.
//!
//! Carries the `vbus` crate (the bus library, see `rust/vbus/`) and registers
//! its default bus instance [`vbus::VBUS`], `/sys/bus/vbus/`, while loaded.
//! Modules that use the library depend on this one, so it cannot be unloaded
//! while they are loaded.

use kernel::prelude::*;

module! {
    type: VbusModule,
    name: "vbus",
    authors: ["rmdev developers"],
    description: "rmdev virtual-bus core and the default bus vbus",
    license: "GPL",
}

struct VbusModule {
    _bus: vbus::bus::Registration,
}

impl Drop for VbusModule {
    fn drop(&mut self) {
        // Every module with devices on our buses is gone; their releases,
        // this module's code, may still be on their way.
        vbus::device::wait_released();
    }
}

impl kernel::Module for VbusModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let bus = vbus::bus::Registration::new(&vbus::VBUS)?;
        pr_info!(
            "bus {} registered\n",
            bus.bus().name().to_str().unwrap_or("?")
        );
        Ok(Self { _bus: bus })
    }
}
