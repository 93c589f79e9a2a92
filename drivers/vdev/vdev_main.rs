// SPDX-License-Identifier: GPL-2.0

//! `rmdev_vdev.ko`: the virtio device-model library module.
//!
//! Carries the `vhost` crate (IOTLB and vringh wrappers, `rust/vhost/`) and
//! the `vdev` crate (device-ops interface and virtio device core,
//! `rust/vdev/`) for the parents that run device models and the class
//! drivers that drive them; their KUnit suites run when it loads. It has no
//! state of its own.

use kernel::prelude::*;

module! {
    type: VdevLibrary,
    name: "rmdev_vdev",
    authors: ["rmdev developers"],
    description: "rmdev virtio device-model library (device ops, vringh and IOTLB wrappers)",
    license: "GPL",
}

struct VdevLibrary;

impl kernel::Module for VdevLibrary {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}
