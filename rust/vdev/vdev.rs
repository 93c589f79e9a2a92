// SPDX-License-Identifier: GPL-2.0

//! The virtio device-model library: the device-ops interface between
//! parents and class drivers ([`DeviceOps`], [`Notify`]), a virtio device
//! core that runs a [`Model`] over the kernel's vringh ([`VirtioDevice`]),
//! the handle a parent gives the mdev core as an mdev's class data
//! ([`DeviceHandle`]), and the virtio constants ([`virtio`]).
//!
//! The Rust counterpart of `struct vdpa_config_ops`
//! ([`include/linux/vdpa.h`](srctree/include/linux/vdpa.h)) and of
//! [`drivers/vdpa/vdpa_sim/vdpa_sim.c`](srctree/drivers/vdpa/vdpa_sim/vdpa_sim.c).
//! It knows nothing of mdev: a parent glues the two together, as
//! `vdpa_sim_net` glues vdpa and vdpa_sim. Built into `rmdev_vdev.ko`
//! with the [`vhost`] crate it stands on.

mod bindings;
pub mod device;
pub mod ops;
#[cfg(CONFIG_KUNIT = "y")]
pub mod testing;
pub mod virtio;

pub use device::{
    Binding,
    ConfigNotifier,
    DeviceHandle,
    Model,
    Queues,
    VirtioDevice, //
};
pub use ops::{
    Callback,
    DeviceOps,
    Notify, //
};
pub use vhost;
