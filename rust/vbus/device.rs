// SPDX-License-Identifier: GPL-2.0

//! Devices on buses made by this crate, and their creation.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h). The
//! creation follows `auxiliary_device_init()` / `__auxiliary_device_add()` in
//! [`drivers/base/auxiliary.c`](srctree/drivers/base/auxiliary.c).

use crate::bus::{self, Bus};
use core::{marker::PhantomData, mem::offset_of, ptr::NonNull};
use kernel::{
    bindings, container_of,
    device::{self, DeviceContext, Normal},
    error::to_result,
    ffi::c_uint,
    prelude::*,
    sync::aref::{ARef, AlwaysRefCounted},
    types::Opaque,
};

/// Longest match name of a device: bytes, without the NUL (a UUID is 36).
pub const NAME_MAX: usize = 48;

/// Returns the `struct device` behind a generic device reference.
///
/// [`device::Device::as_raw`] is private to the kernel crate; `device::Device`
/// is a transparent wrapper of `struct device`, so the cast is the same.
pub fn raw_of<Ctx: DeviceContext>(dev: &device::Device<Ctx>) -> *mut bindings::device {
    core::ptr::from_ref(dev).cast_mut().cast::<bindings::device>()
}

/// The C layout of every device on a bus made by this crate.
///
/// # Invariants
///
/// - `dev` is initialized with `device_initialize()` and `dev.bus` points to a
///   `'static` [`Bus`]; `dev.release` is [`release`].
/// - `name[..name_len]` is the match name: 1..=[`NAME_MAX`] bytes, no NUL,
///   `/` or white space; `name[name_len]` is NUL.
#[repr(C)]
pub(crate) struct RawDevice {
    pub(crate) dev: Opaque<bindings::device>,
    class: u8,
    name_len: usize,
    name: [u8; NAME_MAX + 1],
}

/// A device on a bus made by this crate.
///
/// `Ctx` is the device context of [`kernel::device`]: what the holder of the
/// reference may assume (bound, in a bus callback, or nothing).
///
/// # Invariants
///
/// The wrapped memory is a live [`RawDevice`].
#[repr(transparent)]
pub struct Device<Ctx: DeviceContext = Normal>(Opaque<RawDevice>, PhantomData<Ctx>);

impl<Ctx: DeviceContext> Device<Ctx> {
    fn as_raw(&self) -> *mut RawDevice {
        self.0.get()
    }

    /// Returns the device of a raw `struct device` pointer.
    ///
    /// # Safety
    ///
    /// `dev` must be a device on a bus made by this crate, valid for `'a`, and
    /// the caller must guarantee the context `Ctx` for `'a`.
    pub(crate) unsafe fn from_raw<'a>(dev: *mut bindings::device) -> &'a Self {
        // SAFETY: By the safety requirements `dev` is embedded in a `RawDevice`.
        let raw = unsafe { container_of!(dev.cast::<Opaque<bindings::device>>(), RawDevice, dev) };
        // SAFETY: `Device` is a transparent wrapper of `RawDevice`, live for `'a`.
        unsafe { &*raw.cast::<Self>() }
    }

    /// Returns our device from a generic device reference.
    ///
    /// # Safety
    ///
    /// `dev` must be a device on a bus made by this crate.
    pub unsafe fn from_device<'a>(dev: &'a device::Device<Ctx>) -> &'a Self {
        // SAFETY: The caller guarantees `dev` is one of ours.
        unsafe { Self::from_raw(raw_of(dev)) }
    }

    fn raw(&self) -> &RawDevice {
        // SAFETY: By the type invariant the `RawDevice` is live; its fields
        // other than `dev` are never written after `device_add()`.
        unsafe { &*self.as_raw() }
    }

    /// Returns the match name (not the sysfs name, which may add `.<id>`).
    pub fn name(&self) -> &CStr {
        let raw = self.raw();
        // By the `RawDevice` invariant the name is NUL-terminated with no inner NUL.
        CStr::from_bytes_with_nul(&raw.name[..=raw.name_len]).unwrap_or(c"")
    }

    /// Returns the class id, or `None` for a device matched by name only.
    pub fn class(&self) -> Option<u8> {
        match self.raw().class {
            0 => None,
            c => Some(c),
        }
    }

    /// Returns the raw `struct device`, for abstractions in `rust/` that
    /// hand it to C (links, uevents). Using it is `unsafe` there.
    pub fn as_raw_device(&self) -> *mut bindings::device {
        // SAFETY: By the type invariant the `RawDevice` is live.
        unsafe { (*self.as_raw()).dev.get() }
    }

    /// Returns the bus the device is on.
    pub fn bus(&self) -> &'static Bus {
        // SAFETY: By the type invariant the device is on one of our buses.
        unsafe { bus::bus_of(self.raw()) }
    }
}

// SAFETY: `Device` is a transparent wrapper of a type that doesn't depend on
// `Device`'s generic argument.
kernel::impl_device_context_deref!(unsafe { Device });
kernel::impl_device_context_into_aref!(Device);

// SAFETY: Instances of `Device` are always reference-counted through the
// embedded `struct device`.
unsafe impl AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        // SAFETY: A shared reference guarantees a non-zero refcount.
        unsafe { bindings::get_device((*self.as_raw()).dev.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // CAST: `Device` is a transparent wrapper of `RawDevice`.
        let raw = obj.cast::<RawDevice>().as_ptr();
        // SAFETY: The caller owns a reference, so the device is live.
        unsafe { bindings::put_device((*raw).dev.get()) }
    }
}

impl<Ctx: DeviceContext> AsRef<device::Device<Ctx>> for Device<Ctx> {
    fn as_ref(&self) -> &device::Device<Ctx> {
        // SAFETY: By the type invariant `dev` is a valid `struct device`, live
        // as long as `self`, in the same context.
        unsafe { device::Device::from_raw((*self.as_raw()).dev.get()) }
    }
}

// SAFETY: `OFFSET` is the offset of the `struct device` in `RawDevice`, which
// `Device` wraps transparently.
unsafe impl<Ctx: DeviceContext> device::AsBusDevice<Ctx> for Device<Ctx> {
    const OFFSET: usize = offset_of!(RawDevice, dev);
}

// SAFETY: A `Device` is reference-counted and can be released from any thread.
unsafe impl Send for Device {}

// SAFETY: All methods of `Device<Normal>` are thread safe.
unsafe impl Sync for Device {}

// SAFETY: `Bound` is a zero-sized marker that does not affect thread safety.
unsafe impl Sync for Device<device::Bound> {}

/// `device.release`: frees the [`RawDevice`] once the last reference is gone.
///
/// # Safety
///
/// Called by the driver core only, once, for a device created by
/// [`Registration::new`].
unsafe extern "C" fn release(dev: *mut bindings::device) {
    // SAFETY: `release` is only set on devices embedded in a `RawDevice`
    // allocated by `Registration::new()` as a `KBox`.
    let raw = unsafe { container_of!(dev.cast::<Opaque<bindings::device>>(), RawDevice, dev) };
    // SAFETY: See above; the driver core calls `release` exactly once.
    drop(unsafe { KBox::from_raw(raw) });
}

/// What a new device is: its match name, instance id and class id.
#[derive(Clone, Copy)]
pub struct DeviceInfo<'a> {
    /// Match name: 1..=[`NAME_MAX`] bytes, no `/` or white space.
    pub name: &'a CStr,
    /// Instance id: the sysfs name becomes `<name>.<id>`; `None` keeps `<name>`.
    pub id: Option<u32>,
    /// Class id (1..=255), or `None` for a device matched by name only.
    pub class: Option<u8>,
    /// Attribute groups of the device itself (`device.groups`), beside the
    /// bus's `modalias`.
    pub groups: Option<&'static crate::sysfs::Groups>,
}

/// Checks a match name against the `RawDevice` invariant.
fn valid_name(name: &[u8]) -> bool {
    (1..=NAME_MAX).contains(&name.len())
        && name.iter().all(|&b| b.is_ascii_graphic() && b != b'/')
}

/// A device added to a bus; dropping it deletes the device (`device_unregister()`).
///
/// The memory lives on while others hold references ([`ARef<Device>`]).
///
/// # Invariants
///
/// `dev` points to a [`RawDevice`] that was added with `device_add()` and not
/// yet deleted; the registration owns the initial reference.
pub struct Registration {
    dev: NonNull<RawDevice>,
}

impl Registration {
    /// Creates a device on `bus`, as a child of `parent` (or at the top of
    /// `/sys/devices/` when `None`), and adds it, which probes matching drivers.
    ///
    /// # Errors
    ///
    /// - `EINVAL`: the name is empty, longer than [`NAME_MAX`] bytes, or holds
    ///   `/` or white space; or `class` is `Some(0)`.
    /// - `EEXIST`: a device of the same sysfs name exists on the bus.
    /// - `ENOMEM`: out of memory.
    pub fn new(bus: &'static Bus, parent: Option<&device::Device>, info: DeviceInfo<'_>) -> Result<Self> {
        let name = info.name.to_bytes();
        if !valid_name(name) || info.class == Some(0) {
            return Err(EINVAL);
        }
        let mut buf = [0u8; NAME_MAX + 1];
        buf[..name.len()].copy_from_slice(name);

        let raw = KBox::new(
            RawDevice {
                dev: Opaque::zeroed(),
                class: info.class.unwrap_or(0),
                name_len: name.len(),
                name: buf,
            },
            GFP_KERNEL,
        )?;
        let raw = KBox::into_raw(raw);
        // SAFETY: `raw` is a valid, exclusively owned allocation.
        let dev = unsafe { (*raw).dev.get() };

        // SAFETY: `dev` is zeroed and not yet initialized; setting the fields
        // before `device_initialize()` is what `auxiliary_device_init()` does.
        unsafe {
            (*dev).bus = bus.as_raw();
            (*dev).parent = parent.map_or(core::ptr::null_mut(), raw_of);
            (*dev).release = Some(release);
            // CAST: `device.groups` is not const-qualified in C, but only read.
            (*dev).groups = info.groups.map_or(core::ptr::null_mut(), |g| g.as_ptr().cast_mut());
            bindings::device_initialize(dev);
        }
        // From here on, `put_device()` frees `raw` through `release`.

        let cname = info.name.as_char_ptr();
        // SAFETY: `dev` is initialized; the format matches the arguments.
        let ret = unsafe {
            match info.id {
                Some(id) => bindings::dev_set_name(dev, c"%s.%u".as_char_ptr(), cname, id as c_uint),
                None => bindings::dev_set_name(dev, c"%s".as_char_ptr(), cname),
            }
        };
        // SAFETY: `dev` is initialized and fully set up.
        let ret = to_result(ret).and_then(|()| to_result(unsafe { bindings::device_add(dev) }));
        if let Err(e) = ret {
            // SAFETY: Pairs with `device_initialize()`; frees `raw` via `release`.
            unsafe { bindings::put_device(dev) };
            return Err(e);
        }
        // INVARIANT: the device was added; we own the initial reference.
        // SAFETY: `raw` comes from `KBox::into_raw`, hence non-null.
        Ok(Self { dev: unsafe { NonNull::new_unchecked(raw) } })
    }

    /// Returns the device.
    pub fn device(&self) -> &Device {
        // SAFETY: By the type invariant the device is live while `self` is.
        unsafe { &*self.dev.as_ptr().cast::<Device>() }
    }

    /// Returns a counted reference to the device, valid after `self` is dropped.
    pub fn get(&self) -> ARef<Device> {
        self.device().into()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the device is added and we own the
        // initial reference, which this drops.
        unsafe { bindings::device_unregister((*self.dev.as_ptr()).dev.get()) };
    }
}

// SAFETY: `device_unregister()` may be called from any thread.
unsafe impl Send for Registration {}

// SAFETY: `&Registration` only gives access to `&Device`, which is `Sync`.
unsafe impl Sync for Registration {}
