// SPDX-License-Identifier: GPL-2.0

//! The rmdev mdev core: parents offer device types, users create and remove
//! mediated devices through sysfs, with mainline's ABI.
//!
//! Follows [`drivers/vfio/mdev/`](srctree/drivers/vfio/mdev/) and
//! [`Documentation/driver-api/vfio-mediated-device.rst`](srctree/Documentation/driver-api/vfio-mediated-device.rst);
//! the bus, its matching and its uevents are the [`vbus`] library's.
//!
//! - A parent driver registers its device with a [`parent::Registration`]
//!   and a [`Parent`] implementation that lists its types ([`TypeInfo`]) and
//!   makes the device model of each new mdev.
//! - Users write a UUID to a type's `create`; the core adds a device named by
//!   the UUID to bus `mdev`, as a child of the parent, with the type's class
//!   id: `MODALIAS=mdev:c<XX>` loads the class driver, which binds it.
//! - Class ids ([`Class`]) follow the 2019 mdev class-id series; a class
//!   driver is an [`mdev::Driver`](Driver) whose id table lists the classes
//!   it binds, declared with [`module_mdev_driver!`].
//! - The parent hands each new mdev *class data* of a type that the class
//!   driver knows (the device model's operations, defined by the library
//!   that parent and class driver share); the core carries it, typed and
//!   opaque, and the bound class driver reads it with
//!   [`Device::class_data`]. The core itself knows nothing of what a class
//!   does.
//!
//! # Locking
//!
//! Lock order, outermost first: a parent's activity lock (creates and
//! removes in flight), then the mdev list (`MDEVS`). Neither is held across
//! a call into the driver core or a parent.
//!
//! The core cannot be loaded together with mainline `mdev.ko`: both register
//! bus `mdev` (the second gets `EEXIST`).

pub mod device;
pub mod driver;
mod kobject;
pub mod module;
pub mod parent;
mod sysfs;
mod uuid;

pub use driver::{
    Adapter,
    Class,
    Device,
    Driver,
    IdTable, //
};
pub use kobject::CompatClass;
pub use module::ParentDriver;
pub use parent::{
    Parent,
    Registration,
    TypeInfo,
    TypeTable, //
};
pub use uuid::Uuid;

#[doc(hidden)]
pub use vbus as __vbus;

use core::sync::atomic::{
    AtomicPtr,
    Ordering, //
};
use kernel::prelude::*;

/// Bus `mdev` (`/sys/bus/mdev/`).
pub static MDEV_BUS: vbus::Bus = vbus::Bus::new(c"mdev");

/// The compat class of the running core, for parent registrations.
static COMPAT: AtomicPtr<CompatClass> = AtomicPtr::new(core::ptr::null_mut());

/// Returns the `mdev_bus` compat class.
///
/// # Errors
///
/// `ENODEV` when the core is not running.
fn core_compat() -> Result<&'static CompatClass> {
    let p = COMPAT.load(Ordering::Acquire);
    // SAFETY: A non-NULL pointer is the `CompatClass` of the live `Core`,
    // which outlives every parent registration (parents depend on the core
    // module, so it is unloaded after them).
    unsafe { p.as_ref() }.ok_or(ENODEV)
}

/// The running mdev core: bus `mdev` and class `mdev_bus`. Created once, by
/// the core module's init; dropping it unregisters both.
pub struct Core {
    // Pointed to by `COMPAT` while the core runs; `drop` clears the pointer
    // before the fields go.
    _compat: Pin<KBox<CompatClass>>,
    _bus: vbus::bus::Registration,
}

impl Core {
    /// Registers bus `mdev` and class `mdev_bus`.
    ///
    /// # Errors
    ///
    /// `EBUSY` when a core is already running, `EEXIST` when bus `mdev`
    /// exists (mainline `mdev.ko` is loaded), `ENOMEM`.
    pub fn new() -> Result<Self> {
        static STARTED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
        if STARTED.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: `STARTED` makes this the only call; nothing used the list yet.
        unsafe { device::init() };
        let bus = vbus::bus::Registration::new(&MDEV_BUS)?;
        let compat = KBox::pin(CompatClass::new(c"mdev_bus")?, GFP_KERNEL)?;
        COMPAT.store(core::ptr::from_ref(&*compat).cast_mut(), Ordering::Release);
        Ok(Self {
            _compat: compat,
            _bus: bus,
        })
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        COMPAT.store(core::ptr::null_mut(), Ordering::Release);
        // SAFETY: Parents depend on this module, so none is left.
        unsafe { device::fini() };
    }
}

/// Log prefix of this crate's `pr_*!` messages.
const __LOG_PREFIX: &[u8] = b"rmdev_mdev\0";
