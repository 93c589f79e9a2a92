// SPDX-License-Identifier: GPL-2.0

//! Bus descriptors and their registration.
//!
//! C header: [`include/linux/device/bus.h`](srctree/include/linux/device/bus.h);
//! the callbacks follow `auxiliary_match()`, `auxiliary_uevent()`,
//! `auxiliary_bus_probe()` and friends in
//! [`drivers/base/auxiliary.c`](srctree/drivers/base/auxiliary.c).

use crate::{
    device::{
        Device,
        RawDevice, //
    },
    driver::RawDriver,
    sysfs, //
};
use core::fmt::Write;
use kernel::{
    bindings,
    container_of,
    device::Normal,
    error::to_result,
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
    str::{
        as_char_ptr_in_const_context,
        Formatter, //
    }, //
};

/// Longest bus name: bytes, without the NUL.
pub const BUS_NAME_MAX: usize = 15;

/// Size of the buffer a modalias is formatted into: bytes, with the NUL.
pub(crate) const MODALIAS_SIZE: usize = BUS_NAME_MAX + 2 + crate::device::NAME_MAX + 1;

unsafe extern "C" {
    /// `device_match_driver_override()` of `include/linux/device.h`
    /// (`vbus_helpers.c`): > 0 when the override names `drv`, 0 when it names
    /// another driver, < 0 when no override is set. Takes a `struct device *`
    /// and a `const struct device_driver *` (declared `void *` here: those
    /// structs are not FFI-safe in Rust's eyes, though identical in C).
    fn rmdev_vbus_match_driver_override(dev: *mut c_void, drv: *const c_void) -> c_int;
}

/// A bus type: a `struct bus_type` whose callbacks are this crate's.
///
/// Built at compile time with [`Bus::new`] and placed in a `static`; registered
/// with a [`Registration`].
///
/// # Invariants
///
/// - `raw.name` points to a `'static` NUL-terminated string.
/// - `raw`'s callbacks are the ones of this module, so every device on the bus
///   is a [`RawDevice`] and every driver a [`RawDriver`]: devices are only
///   added by [`crate::device::Registration`] and drivers by
///   [`crate::driver::Adapter`].
#[repr(transparent)]
pub struct Bus {
    raw: bindings::bus_type,
}

// SAFETY: A `Bus` is never mutated after construction; the driver core only
// reads it, from any thread. The pointers it holds refer to `'static` data.
unsafe impl Sync for Bus {}

/// The attributes every device of a bus carries: `modalias`.
static DEVICE_ATTRS: sysfs::DeviceAttribute = sysfs::DeviceAttribute::read_only::<Modalias>();
crate::attribute_groups!(static DEVICE_GROUPS = [DEVICE_ATTRS]);

/// The `modalias` device attribute (0444): the same string as the uevent's `MODALIAS`.
struct Modalias;

impl sysfs::Show for Modalias {
    const NAME: &'static CStr = c"modalias";

    fn show(dev: &kernel::device::Device, out: &mut Formatter<'_>) -> Result {
        // SAFETY: The attribute is only in the `dev_groups` of buses made by
        // this crate, whose devices are all `RawDevice`s.
        let vdev = unsafe { Device::<Normal>::from_device(dev) };
        writeln!(out, "{}", ModaliasFmt::of(vdev)).map_err(|_| EOVERFLOW)
    }
}

/// Formats the modalias of a device (see the crate documentation):
/// `<bus>:c<XX>` with a class id, `<bus>:n<name>` without.
struct ModaliasFmt<'a> {
    bus: &'a CStr,
    class: Option<u8>,
    name: &'a CStr,
}

impl<'a> ModaliasFmt<'a> {
    fn of(dev: &'a Device) -> Self {
        Self {
            bus: dev.bus().name(),
            class: dev.class(),
            name: dev.name(),
        }
    }
}

impl core::fmt::Display for ModaliasFmt<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        fn text(s: &CStr) -> Result<&str, core::fmt::Error> {
            core::str::from_utf8(s.to_bytes()).map_err(|_| core::fmt::Error)
        }
        let bus = text(self.bus)?;
        match self.class {
            Some(class) => write!(f, "{bus}:c{class:02x}"),
            None => write!(f, "{bus}:n{}", text(self.name)?),
        }
    }
}

impl Bus {
    /// Builds a bus type named `name` (at most [`BUS_NAME_MAX`] bytes).
    ///
    /// The bus supports `driver_override`, and its devices carry a `modalias`
    /// attribute. Longer names fail the build.
    pub const fn new(name: &'static CStr) -> Self {
        assert!(name.to_bytes().len() <= BUS_NAME_MAX, "bus name too long");
        let mut raw: bindings::bus_type = pin_init::zeroed();
        raw.name = as_char_ptr_in_const_context(name);
        raw.dev_groups = DEVICE_GROUPS.as_ptr();
        raw.match_ = Some(match_callback);
        raw.uevent = Some(uevent_callback);
        raw.probe = Some(probe_callback);
        raw.remove = Some(remove_callback);
        raw.shutdown = Some(shutdown_callback);
        raw.driver_override = true;
        // INVARIANT: `name` is `'static` and the callbacks are this module's.
        Self { raw }
    }

    /// Returns the bus name, as in `/sys/bus/<name>`.
    pub fn name(&self) -> &'static CStr {
        // SAFETY: By the type invariant `raw.name` is a `'static` C string.
        unsafe { CStr::from_char_ptr(self.raw.name) }
    }

    /// Returns the `struct bus_type` for the driver core.
    pub(crate) fn as_raw(&'static self) -> *const bindings::bus_type {
        &self.raw
    }

    /// Returns the bus a raw `struct bus_type` pointer belongs to.
    ///
    /// # Safety
    ///
    /// `raw` must point to the `raw` field of a `'static` [`Bus`].
    pub(crate) unsafe fn from_raw(raw: *const bindings::bus_type) -> &'static Bus {
        // SAFETY: `Bus` is `repr(transparent)` over `bus_type`, and by the
        // safety requirements `raw` is the field of a `'static` `Bus`.
        unsafe { &*raw.cast::<Bus>() }
    }
}

/// The registration of a [`Bus`] with the driver core: `/sys/bus/<name>/`
/// exists for as long as it lives.
///
/// It must outlive every device and driver registered on the bus: dropping
/// it first leaves them behind unbound (the driver core's `bus_unregister()`
/// does not unbind). The rule that guarantees it, the one C buses live by:
///
/// - a bus `static` is registered only by the module of the crate that
///   defines it, in its init, and unregistered in its exit (`vbus.ko` for
///   [`crate::VBUS`], `rmdev_mdev.ko` for bus `mdev`);
/// - device and driver registrations name the bus by that `static`, a
///   symbol of the owning module, so every module that registers on the bus
///   depends on the owner: the module loader loads the owner first and
///   unloads it last;
/// - inside the owning module, its own devices are registrations that
///   borrow a bound parent (`device::Registration<'a>`), and the bus
///   registration is the module's first field to be made and last to go.
///
/// A borrow of the bus registration cannot cross modules (it would be
/// `'static` either way), so the module dependency is the tie.
///
/// # Invariants
///
/// `bus` was registered with `bus_register()` and is unregistered on drop.
pub struct Registration {
    bus: &'static Bus,
}

impl Registration {
    /// Registers `bus` with the driver core.
    ///
    /// # Errors
    ///
    /// `EEXIST` when a bus of that name is already registered (for example
    /// mainline `mdev.ko` holding `mdev`), `ENOMEM` when out of memory.
    pub fn new(bus: &'static Bus) -> Result<Self> {
        // SAFETY: `bus.as_raw()` is a fully built `bus_type` that lives forever.
        to_result(unsafe { bindings::bus_register(bus.as_raw()) })?;
        // INVARIANT: `bus_register()` succeeded.
        Ok(Self { bus })
    }

    /// Returns the registered bus.
    pub fn bus(&self) -> &'static Bus {
        self.bus
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the bus is registered.
        unsafe { bindings::bus_unregister(self.bus.as_raw()) };
    }
}

/// Returns the [`RawDriver`] a `struct device_driver` of one of our buses is embedded in.
///
/// # Safety
///
/// `drv` must be the driver of a device on a bus made by this crate, and valid
/// for `'a`.
unsafe fn raw_driver<'a>(drv: *const bindings::device_driver) -> &'a RawDriver {
    // SAFETY: By the `Bus` invariant every driver on our buses is embedded in a
    // `RawDriver`, which the safety requirements keep alive for `'a`.
    unsafe { &*container_of!(drv.cast_mut(), RawDriver, driver) }
}

/// `bus_type.match`: driver_override first, then the driver's id table.
///
/// # Safety
///
/// Called by the driver core only, with valid pointers to a device (and
/// driver) of a bus made by this crate.
unsafe extern "C" fn match_callback(
    dev: *mut bindings::device,
    drv: *const bindings::device_driver,
) -> c_int {
    // SAFETY: The driver core passes a valid device and driver.
    let ret = unsafe { rmdev_vbus_match_driver_override(dev.cast(), drv.cast()) };
    if ret >= 0 {
        return ret;
    }
    // SAFETY: `drv` is a driver on our bus, valid for this call.
    let rdrv = unsafe { raw_driver(drv) };
    // SAFETY: `dev` is a device on our bus, valid for this call.
    let vdev = unsafe { Device::<Normal>::from_raw(dev) };
    c_int::from(rdrv.matches(vdev))
}

/// `bus_type.uevent`: adds `MODALIAS=`.
///
/// # Safety
///
/// Called by the driver core only, with valid pointers to a device (and
/// driver) of a bus made by this crate.
unsafe extern "C" fn uevent_callback(
    dev: *const bindings::device,
    env: *mut bindings::kobj_uevent_env,
) -> c_int {
    // SAFETY: `dev` is a device on our bus, valid for this call.
    let vdev = unsafe { Device::<Normal>::from_raw(dev.cast_mut()) };
    let mut buf = [0u8; MODALIAS_SIZE];
    let mut f = Formatter::new(&mut buf[..MODALIAS_SIZE - 1]);
    if write!(f, "{}", ModaliasFmt::of(vdev)).is_err() {
        return EOVERFLOW.to_errno();
    }
    // SAFETY: `env` is valid for this call; `buf` is NUL-terminated (its last
    // byte is never written) and matches the `%s` of the format.
    unsafe { bindings::add_uevent_var(env, c"MODALIAS=%s".as_char_ptr(), buf.as_ptr()) }
}

/// `bus_type.probe`: hands over to the driver's adapter.
///
/// # Safety
///
/// Called by the driver core only, with valid pointers to a device (and
/// driver) of a bus made by this crate.
unsafe extern "C" fn probe_callback(dev: *mut bindings::device) -> c_int {
    // SAFETY: The driver core sets `dev->driver` before calling `probe`, and
    // holds the device lock, so the driver stays valid.
    let rdrv = unsafe { raw_driver((*dev).driver) };
    // SAFETY: `dev` is a valid device on our bus, locked for probe.
    unsafe { rdrv.probe(dev) }
}

/// `bus_type.remove`: hands over to the driver's adapter.
///
/// # Safety
///
/// Called by the driver core only, with valid pointers to a device (and
/// driver) of a bus made by this crate.
unsafe extern "C" fn remove_callback(dev: *mut bindings::device) {
    // SAFETY: The driver core calls `remove` on a bound device, with
    // `dev->driver` set and the device lock held.
    let rdrv = unsafe { raw_driver((*dev).driver) };
    // SAFETY: `dev` is bound to `rdrv` and locked.
    unsafe { rdrv.remove(dev) }
}

/// `bus_type.shutdown`: hands over to the driver's adapter, if bound.
///
/// # Safety
///
/// Called by the driver core only, with valid pointers to a device (and
/// driver) of a bus made by this crate.
unsafe extern "C" fn shutdown_callback(dev: *mut bindings::device) {
    // SAFETY: `dev` is valid and locked by `device_shutdown()`.
    let drv = unsafe { (*dev).driver };
    if drv.is_null() {
        return;
    }
    // SAFETY: `drv` is the bound driver of a device on our bus.
    let rdrv = unsafe { raw_driver(drv) };
    // SAFETY: `dev` is bound to `rdrv` and locked.
    unsafe { rdrv.shutdown(dev) }
}

/// Finds the [`Bus`] of a device of ours.
///
/// # Safety
///
/// `dev` must be a device on a bus made by this crate.
pub(crate) unsafe fn bus_of(dev: &RawDevice) -> &'static Bus {
    // SAFETY: Devices on our buses have `dev.bus` set to a `'static` `Bus`'s
    // `raw` field before `device_add()`, and it never changes.
    unsafe { Bus::from_raw((*dev.dev.get()).bus) }
}

#[kernel::macros::kunit_tests(rmdev_vbus)]
mod tests {
    use super::*;

    /// The modalias of `fmt` as a string in `buf`.
    fn modalias<'b>(buf: &'b mut [u8; MODALIAS_SIZE], fmt: ModaliasFmt<'_>) -> Result<&'b [u8]> {
        let mut f = Formatter::new(&mut buf[..MODALIAS_SIZE - 1]);
        write!(f, "{fmt}")?;
        let n = f.bytes_written();
        Ok(&buf[..n])
    }

    #[test]
    fn modalias_by_class_is_two_hex_digits() -> Result {
        let mut buf = [0u8; MODALIAS_SIZE];
        let name = c"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
        let fmt = |class| ModaliasFmt {
            bus: c"mdev",
            class: Some(class),
            name,
        };
        assert_eq!(modalias(&mut buf, fmt(2))?, b"mdev:c02");
        assert_eq!(modalias(&mut buf, fmt(0x3a))?, b"mdev:c3a");
        assert_eq!(modalias(&mut buf, fmt(255))?, b"mdev:cff");
        Ok(())
    }

    #[test]
    fn modalias_by_name() -> Result {
        let mut buf = [0u8; MODALIAS_SIZE];
        let fmt = ModaliasFmt {
            bus: c"vbus",
            class: None,
            name: c"rmdev_sample",
        };
        assert_eq!(modalias(&mut buf, fmt)?, b"vbus:nrmdev_sample");
        Ok(())
    }

    #[test]
    fn modalias_of_longest_names_fits_its_buffer() -> Result {
        let mut buf = [0u8; MODALIAS_SIZE];
        // A name of NAME_MAX bytes and its NUL, on a bus of BUS_NAME_MAX.
        let mut raw = [b'x'; crate::device::NAME_MAX + 1];
        raw[crate::device::NAME_MAX] = 0;
        let name = CStr::from_bytes_with_nul(&raw).map_err(|_| EINVAL)?;
        let fmt = ModaliasFmt {
            bus: c"abcdefghijklmno",
            class: None,
            name,
        };
        // The uevent callback formats into all but the last byte (its NUL).
        assert_eq!(modalias(&mut buf, fmt)?.len(), MODALIAS_SIZE - 1);
        Ok(())
    }
}
