// SPDX-License-Identifier: GPL-2.0

//! Drivers for buses made by this crate.
//!
//! The driver trait, the generic adapter between the C callbacks and it, and
//! the id table; registration is [`kernel::driver::Registration`] over
//! [`Adapter`], as for the kernel crate's own buses
//! ([`rust/kernel/auxiliary.rs`](srctree/rust/kernel/auxiliary.rs)).

use crate::{
    bus::Bus,
    device::Device,
    sysfs, //
};
use core::{
    marker::PhantomData,
    mem::offset_of,
    pin::Pin, //
};
use kernel::{
    bindings,
    device::{
        Core,
        CoreInternal,
        Normal, //
    },
    driver,
    error::{
        from_result,
        to_result, //
    },
    ffi::c_int,
    prelude::*,
    str::as_char_ptr_in_const_context,
    types::Opaque,
    ThisModule, //
};

/// One entry of a driver's id table: a device matches when the names are
/// equal or the class ids are equal.
#[derive(Clone, Copy)]
pub struct DeviceId {
    name: Option<&'static CStr>,
    class: u8,
}

impl DeviceId {
    /// Matches devices whose match name is `name`.
    pub const fn name(name: &'static CStr) -> Self {
        Self {
            name: Some(name),
            class: 0,
        }
    }

    /// Matches devices of class id `class` (1..=255; 0 fails the build).
    pub const fn class(class: u8) -> Self {
        assert!(class != 0, "class id 0 means no class");
        Self { name: None, class }
    }

    fn matches(&self, dev: &Device) -> bool {
        if self.class != 0 {
            return dev.class() == Some(self.class);
        }
        self.name
            .is_some_and(|n| n.to_bytes() == dev.name().to_bytes())
    }
}

/// A driver's id table: each [`DeviceId`] with the driver's information for it.
pub type IdTable<I> = &'static [(DeviceId, I)];

/// A driver for devices on a bus made by this crate.
///
/// Mirrors [`kernel::auxiliary::Driver`]: the data returned by `probe` lives
/// until the device is unbound.
pub trait Driver: Send + 'static {
    /// The information the driver keeps per id table entry.
    type IdInfo: 'static;

    /// The driver's per-device private data.
    type Data<'bound>: Send + 'bound;

    /// The bus the driver registers on; [`crate::VBUS`] by default.
    const BUS: &'static Bus = &crate::VBUS;

    /// The devices the driver handles.
    const ID_TABLE: IdTable<Self::IdInfo>;

    /// Attribute groups added to each bound device (`device_driver.dev_groups`):
    /// they appear after `probe` and go before `unbind`.
    const DEVICE_GROUPS: Option<&'static sysfs::Groups> = None;

    /// Binds the driver to `dev`.
    ///
    /// `id_info` is the information of the first matching id table entry, or
    /// `None` when the device was bound through `driver_override` without a
    /// matching entry.
    ///
    /// # Errors
    ///
    /// Any errno; the device then stays unbound.
    fn probe<'bound>(
        dev: &'bound Device<Core<'_>>,
        id_info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound;

    /// Called before the device is unbound (the data is dropped right after).
    fn unbind<'bound>(dev: &'bound Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let _ = (dev, this);
    }

    /// Called at system shutdown for a bound device.
    fn shutdown<'bound>(dev: &'bound Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let _ = (dev, this);
    }
}

/// The C layout of every driver on a bus made by this crate: a `struct
/// device_driver` and the entry points of its [`Adapter`].
///
/// # Invariants
///
/// Once registered, the function pointers are set and belong to the
/// [`Adapter`] of the driver's [`Driver`] type.
#[repr(C)]
#[derive(Default)]
pub struct RawDriver {
    pub(crate) driver: bindings::device_driver,
    matches: Option<fn(&Device) -> Option<usize>>,
    probe: Option<unsafe extern "C" fn(*mut bindings::device) -> c_int>,
    remove: Option<unsafe extern "C" fn(*mut bindings::device)>,
    shutdown: Option<unsafe extern "C" fn(*mut bindings::device)>,
}

impl RawDriver {
    /// Whether `dev` matches the driver's id table.
    pub(crate) fn matches(&self, dev: &Device) -> bool {
        self.matches.is_some_and(|m| m(dev).is_some())
    }

    /// Runs the adapter's probe.
    ///
    /// # Safety
    ///
    /// `dev` is a device on our bus being probed by this driver, locked.
    pub(crate) unsafe fn probe(&self, dev: *mut bindings::device) -> c_int {
        match self.probe {
            // SAFETY: Per the safety requirements.
            Some(probe) => unsafe { probe(dev) },
            None => ENODEV.to_errno(),
        }
    }

    /// Runs the adapter's remove.
    ///
    /// # Safety
    ///
    /// `dev` is a device bound to this driver, locked.
    pub(crate) unsafe fn remove(&self, dev: *mut bindings::device) {
        if let Some(remove) = self.remove {
            // SAFETY: Per the safety requirements.
            unsafe { remove(dev) }
        }
    }

    /// Runs the adapter's shutdown.
    ///
    /// # Safety
    ///
    /// `dev` is a device bound to this driver, locked.
    pub(crate) unsafe fn shutdown(&self, dev: *mut bindings::device) {
        if let Some(shutdown) = self.shutdown {
            // SAFETY: Per the safety requirements.
            unsafe { shutdown(dev) }
        }
    }
}

/// The adapter between the driver core's callbacks and a [`Driver`].
pub struct Adapter<T: Driver>(PhantomData<T>);

// SAFETY:
// - `RawDriver` is `repr(C)` and embeds a `struct device_driver` at `DEVICE_DRIVER_OFFSET`.
// - `T::Data` is what `probe_callback` stores as the device's driver data.
unsafe impl<T: Driver> driver::DriverLayout for Adapter<T> {
    type DriverType = RawDriver;
    type DriverData<'bound> = T::Data<'bound>;
    const DEVICE_DRIVER_OFFSET: usize = offset_of!(RawDriver, driver);
}

// SAFETY: `unregister` calls `driver_unregister()`, valid after a successful `driver_register()`.
unsafe impl<T: Driver> driver::RegistrationOps for Adapter<T> {
    unsafe fn register(
        reg: &Opaque<Self::DriverType>,
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> Result {
        let raw = reg.get();
        // SAFETY: `reg` is valid, pinned and not yet registered, so we may set
        // its fields; the strings and groups are `'static`.
        unsafe {
            (*raw).driver.name = as_char_ptr_in_const_context(name);
            (*raw).driver.mod_name = as_char_ptr_in_const_context(name);
            (*raw).driver.owner = module.as_ptr();
            (*raw).driver.bus = T::BUS.as_raw();
            (*raw).driver.dev_groups = T::DEVICE_GROUPS.map_or(core::ptr::null(), |g| g.as_ptr());
            // INVARIANT: the entry points are this adapter's.
            (*raw).matches = Some(Self::match_index);
            (*raw).probe = Some(Self::probe_callback);
            (*raw).remove = Some(Self::remove_callback);
            (*raw).shutdown = Some(Self::shutdown_callback);
        }
        // SAFETY: The driver is fully set up and stays pinned until `unregister`.
        to_result(unsafe { bindings::driver_register(&raw mut (*raw).driver) })
    }

    unsafe fn unregister(reg: &Opaque<Self::DriverType>) {
        // SAFETY: Registered by `register`, per the trait's safety requirements.
        unsafe { bindings::driver_unregister(&raw mut (*reg.get()).driver) }
    }
}

impl<T: Driver> Adapter<T> {
    /// Index of the first id table entry matching `dev`.
    fn match_index(dev: &Device) -> Option<usize> {
        T::ID_TABLE.iter().position(|(id, _)| id.matches(dev))
    }

    /// Probe entry point, called through [`RawDriver`] by the bus.
    ///
    /// # Safety
    ///
    /// `dev` is a valid device of our bus, locked, being probed by this driver.
    unsafe extern "C" fn probe_callback(dev: *mut bindings::device) -> c_int {
        // SAFETY: The bus calls probe with a valid device of ours, locked for
        // the duration of the call.
        //
        // INVARIANT: `dev` is valid and in probe for the duration of this call.
        let vdev = unsafe { Device::<CoreInternal<'_>>::from_raw(dev) };
        let plain: &Device<Normal> = vdev;
        let info = Self::match_index(plain).map(|i| &T::ID_TABLE[i].1);
        from_result(|| {
            let data = T::probe(vdev, info);
            vdev.as_ref().set_drvdata(data)?;
            Ok(0)
        })
    }

    /// Remove entry point, called through [`RawDriver`] by the bus.
    ///
    /// # Safety
    ///
    /// `dev` is a valid device of our bus, locked, bound to this driver.
    unsafe extern "C" fn remove_callback(dev: *mut bindings::device) {
        // SAFETY: The bus calls remove with a valid device bound to us, locked.
        let vdev = unsafe { Device::<CoreInternal<'_>>::from_raw(dev) };
        // SAFETY: `remove` only follows a successful `probe`, which stored a
        // `Pin<KBox<T::Data>>`; it is dropped only after `remove` returns.
        let data = unsafe { vdev.as_ref().drvdata_borrow::<T::Data<'_>>() };
        T::unbind(vdev, data);
    }

    /// Shutdown entry point, called through [`RawDriver`] by the bus.
    ///
    /// # Safety
    ///
    /// `dev` is a valid device of our bus, locked, bound to this driver.
    unsafe extern "C" fn shutdown_callback(dev: *mut bindings::device) {
        // SAFETY: The bus calls shutdown with a valid device bound to us, locked.
        let vdev = unsafe { Device::<CoreInternal<'_>>::from_raw(dev) };
        // SAFETY: The device is bound, so `probe` stored a `Pin<KBox<T::Data>>`.
        let data = unsafe { vdev.as_ref().drvdata_borrow::<T::Data<'_>>() };
        T::shutdown(vdev, data);
    }
}

/// Declares a kernel module that registers a single [`Driver`].
///
/// The fields are those of [`kernel::prelude::module!`] after `type:`; list the
/// modaliases of the id table under `alias:` (for example
/// `alias: ["vbus:nmy_device"]`) so that `modprobe` loads the module.
#[macro_export]
macro_rules! module_vbus_driver {
    ($($f:tt)*) => {
        ::kernel::module_driver!(<T>, $crate::driver::Adapter<T>, { $($f)* });
    };
}
