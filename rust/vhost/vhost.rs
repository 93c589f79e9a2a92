// SPDX-License-Identifier: GPL-2.0

//! Rust wrappers of the kernel's vhost helper libraries, for device models:
//! an IOTLB ([`Iotlb`], over `vhost_iotlb`) and the device side of a split
//! virtqueue ([`Vringh`], over vringh in IOTLB mode); for the vhost class
//! driver, eventfds ([`eventfd`]), page pinning ([`pin`]) and the uAPI
//! constants ([`uapi`]).
//!
//! C sources: [`drivers/vhost/iotlb.c`](srctree/drivers/vhost/iotlb.c) and
//! [`drivers/vhost/vringh.c`](srctree/drivers/vhost/vringh.c), used as
//! [`drivers/vdpa/vdpa_sim/`](srctree/drivers/vdpa/vdpa_sim/) uses them. The
//! headers are bound by this crate's own bindgen run (`bindings_helper.h`),
//! since the kernel crate's bindings do not cover them.
//!
//! This crate is built into `rmdev_vdev.ko`, which therefore depends on
//! `vhost_iotlb.ko` and `vringh.ko` (`CONFIG_VHOST_IOTLB`,
//! `CONFIG_VHOST_RING`).

mod bindings;
pub mod eventfd;
pub mod iotlb;
pub mod pin;
#[cfg(CONFIG_KUNIT = "y")]
pub mod testing;
pub mod uapi;
pub mod vringh;

pub use iotlb::{
    Iotlb,
    Perm, //
};
pub use vringh::{
    RingAddrs,
    Vringh, //
};
