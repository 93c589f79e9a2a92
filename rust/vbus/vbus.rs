// SPDX-License-Identifier: GPL-2.0

//! The rmdev virtual-bus core: a library to define buses in Rust, and the
//! default bus instance `vbus`.
//!
//! Follows the 2019 virtual-bus patch series, which became mainline's
//! auxiliary bus ([`drivers/base/auxiliary.c`], [`rust/kernel/auxiliary.rs`]).
//!
//! # Buses
//!
//! A [`Bus`] is a `struct bus_type` built at compile time (`static MY_BUS: Bus =
//! Bus::new(c"mybus");`) and registered with the driver core by a
//! [`bus::Registration`]. Every bus made by this library shares one matching
//! engine (this crate), one device layout ([`Device`]) and one driver layout
//! ([`driver::RawDriver`]).
//!
//! # Devices
//!
//! A device carries a *match name* (at most [`device::NAME_MAX`] bytes) and an
//! optional *class id* (1..=255). Its sysfs name is `<name>.<id>` when it is
//! created with an instance id, or `<name>` otherwise. Devices are created
//! with a [`device::Registration`]; dropping it deletes the device.
//!
//! # Matching
//!
//! A driver ([`Driver`]) carries an id table of [`DeviceId`]s. A device
//! matches an entry when the entry's name equals the device's match name, or
//! when the entry's class id equals the device's class id. A device's
//! `driver_override` (sysfs, handled by the driver core) takes precedence: when
//! it is set, only the driver of that name matches.
//!
//! # Uevents and module autoloading
//!
//! Every device reports `MODALIAS=<bus>:c<XX>` (class id as two lower-case hex
//! digits) when it has a class id, and `MODALIAS=<bus>:n<name>` otherwise; the
//! same string is in its `modalias` attribute. A driver module declares the
//! matching `alias:` in its `module!` so that `modprobe` loads it.
//!
//! # Use from other modules
//!
//! This crate is built into `vbus.ko`. Other modules compile against its
//! metadata (`--extern vbus`) and link against the Rust symbols that `vbus.ko`
//! exports; `modinfo` of such a module shows `depends=vbus`.
//!
//! [`drivers/base/auxiliary.c`]: srctree/drivers/base/auxiliary.c
//! [`rust/kernel/auxiliary.rs`]: srctree/rust/kernel/auxiliary.rs

pub mod bus;
pub mod device;
pub mod driver;
pub mod release;
pub mod sysfs;

pub use bus::Bus;
pub use device::Device;
pub use driver::{
    DeviceId,
    Driver,
    IdTable, //
};

/// The default bus instance, `/sys/bus/vbus/`, for kernel-internal sub-devices.
///
/// It is registered by `vbus.ko` for as long as that module is loaded.
pub static VBUS: Bus = Bus::new(c"vbus");

/// Log prefix of this crate's `pr_*!` messages.
const __LOG_PREFIX: &[u8] = b"vbus\0";
