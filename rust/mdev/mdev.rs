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
use kernel::{
    bindings,
    prelude::*, //
};

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

/// The module that runs the core (`THIS_MODULE` of `rmdev_mdev.ko`).
static MODULE: AtomicPtr<bindings::module> = AtomicPtr::new(core::ptr::null_mut());

/// A reference on the core's own module (`__module_get()`), for code of the
/// core that goes on after nothing else pins the module: a `remove` store
/// that removed its own file, after which the parent, then the core, may be
/// unloaded while the store still returns.
pub(crate) struct ModulePin(*mut bindings::module);

impl ModulePin {
    /// Pins the core's module. Called from the core's own code, so the
    /// module is live (and NULL, when the core is not running, pins
    /// nothing).
    pub(crate) fn new() -> Self {
        let module = MODULE.load(Ordering::Acquire);
        // SAFETY: `module` is NULL or the running core's module, whose code
        // is executing (this call): it is live and not yet unloaded.
        unsafe { bindings::__module_get(module) };
        Self(module)
    }
}

impl Drop for ModulePin {
    fn drop(&mut self) {
        // SAFETY: Pairs with `__module_get()` in `new`.
        unsafe { bindings::module_put(self.0) };
    }
}

/// Rate limits of the core's log messages.
pub(crate) mod ratelimit {
    unsafe extern "C" {
        /// `__ratelimit()` on the core's refused-create state
        /// (`mdev_helpers.c`).
        fn rmdev_mdev_refusals_ratelimit() -> bool;
    }

    /// Whether a refused create may be logged now (the kernel's default
    /// burst: 10 per 5 s; the rest is counted as "callbacks suppressed").
    pub(crate) fn refusals() -> bool {
        // SAFETY: No preconditions; the state is the helper's own.
        unsafe { rmdev_mdev_refusals_ratelimit() }
    }
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
    /// Registers bus `mdev` and class `mdev_bus`, run by `module`.
    ///
    /// # Errors
    ///
    /// `EBUSY` when a core is already running, `EEXIST` when bus `mdev`
    /// exists (mainline `mdev.ko` is loaded), `ENOMEM`.
    pub fn new(module: &'static ThisModule) -> Result<Self> {
        static STARTED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
        if STARTED.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: `STARTED` makes this the only call; nothing used the list yet.
        unsafe { device::init() };
        let bus = vbus::bus::Registration::new(&MDEV_BUS)?;
        let compat = KBox::pin(CompatClass::new(c"mdev_bus")?, GFP_KERNEL)?;
        COMPAT.store(core::ptr::from_ref(&*compat).cast_mut(), Ordering::Release);
        MODULE.store(module.as_ptr(), Ordering::Release);
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
        // Type directories are released late (the kobject core may delay
        // it): their release is this module's code.
        kobject::wait_released();
    }
}

/// Log prefix of this crate's `pr_*!` messages.
const __LOG_PREFIX: &[u8] = b"rmdev_mdev\0";
