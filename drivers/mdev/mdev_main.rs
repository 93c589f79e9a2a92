// SPDX-License-Identifier: GPL-2.0

//! `rmdev_mdev.ko`: the mdev core module.
//!
//! Carries the `mdev` crate (see `rust/mdev/`) and runs it: bus `mdev` and
//! class `mdev_bus` exist while it is loaded. It cannot be loaded together
//! with mainline `mdev.ko` (both want bus `mdev`).

use kernel::prelude::*;

module! {
    type: MdevCore,
    name: "rmdev_mdev",
    authors: ["rmdev developers"],
    description: "rmdev mediated device core (bus mdev, class mdev_bus)",
    license: "GPL",
}

struct MdevCore {
    _core: mdev::Core,
}

impl kernel::Module for MdevCore {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let core = mdev::Core::new(module).inspect_err(|e| {
            if *e == EEXIST {
                pr_err!("bus mdev exists: is mainline mdev.ko loaded?\n");
            }
        })?;
        Ok(Self { _core: core })
    }
}
