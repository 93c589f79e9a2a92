// SPDX-License-Identifier: GPL-2.0

//! Devices on buses made by this crate, and their creation.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h). The
//! creation follows `auxiliary_device_init()` / `__auxiliary_device_add()` in
//! [`drivers/base/auxiliary.c`](srctree/drivers/base/auxiliary.c).

use crate::{
    bus::{
        self,
        Bus, //
    },
    release::Pending, //
};
use core::{
    any::Any,
    marker::PhantomData,
    mem::offset_of,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    container_of,
    device::{
        self,
        Bound,
        DeviceContext,
        Normal, //
    },
    error::to_result,
    ffi::c_uint,
    prelude::*,
    sync::aref::{
        ARef,
        AlwaysRefCounted, //
    },
    types::Opaque, //
};

/// Longest match name of a device: bytes, without the NUL (a UUID is 36).
pub const NAME_MAX: usize = 48;

/// Returns the `struct device` behind a generic device reference.
///
/// [`device::Device::as_raw`] is private to the kernel crate; `device::Device`
/// is a transparent wrapper of `struct device`, so the cast is the same.
pub fn raw_of<Ctx: DeviceContext>(dev: &device::Device<Ctx>) -> *mut bindings::device {
    core::ptr::from_ref(dev)
        .cast_mut()
        .cast::<bindings::device>()
}

/// The C layout of every device on a bus made by this crate.
///
/// # Invariants
///
/// - `dev` is initialized with `device_initialize()` and `dev.bus` points to a
///   `'static` [`Bus`]; `dev.release` is [`release`].
/// - `name[..name_len]` is the match name: 1..=[`NAME_MAX`] bytes, no NUL,
///   `/` or white space; `name[name_len]` is NUL.
/// - `data`, when set, points to the registration data owned by the
///   [`Registration`] of the device, which frees it only after the device is
///   deleted (hence unbound); none of these fields changes after
///   `device_add()`.
#[repr(C)]
pub(crate) struct RawDevice {
    pub(crate) dev: Opaque<bindings::device>,
    class: u8,
    name_len: usize,
    name: [u8; NAME_MAX + 1],
    data: Option<NonNull<RegistrationData>>,
}

/// Data that the creator of a device hands to the driver that binds it
/// (as `auxiliary_device.registration_data_rust`): typed, checked by
/// [`core::any::TypeId`] when the driver asks for it, and alive from before
/// the device is added until after it is deleted.
pub type RegistrationData = dyn Any + Send + Sync;

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
        // SAFETY: By the `RawDevice` invariant `name[..=name_len]` is
        // NUL-terminated with no inner NUL.
        unsafe { CStr::from_bytes_with_nul_unchecked(&raw.name[..=raw.name_len]) }
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

impl Device<Bound> {
    /// Returns the data the device was registered with, as a `T`.
    ///
    /// Only a bound device has it: the reference is valid while the device
    /// is bound, which ends before the data is freed.
    ///
    /// # Errors
    ///
    /// `ENOENT` when the device was registered without data, `EINVAL` when
    /// the data is not a `T`.
    pub fn registration_data<T: Any>(&self) -> Result<&T> {
        let data = self.raw().data.ok_or(ENOENT)?;
        // SAFETY: By the `RawDevice` invariant the data lives until after
        // the device is deleted, and a `Device<Bound>` exists only while the
        // device is bound, before it is deleted.
        let data: &RegistrationData = unsafe { data.as_ref() };
        (data as &dyn Any).downcast_ref::<T>().ok_or(EINVAL)
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

/// Devices allocated by [`Registration::new`] and not yet released.
static DEVICES: Pending = Pending::new();

/// Waits until every device made by this crate is released: their release
/// is this module's code (see [`crate::release`]). Called by `vbus.ko`'s
/// exit.
pub fn wait_released() {
    DEVICES.wait();
}

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
    // Last: the module may go once the count is zero.
    DEVICES.done();
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
    (1..=NAME_MAX).contains(&name.len()) && name.iter().all(|&b| b.is_ascii_graphic() && b != b'/')
}

/// A device added to a bus; dropping it deletes the device (`device_unregister()`),
/// then frees its registration data.
///
/// The memory lives on while others hold references ([`ARef<Device>`]).
/// `'a` is the time its parent device stays bound: a registration cannot
/// outlive the binding of its parent (as `auxiliary::Registration<'a, F>`).
///
/// # Invariants
///
/// `dev` points to a [`RawDevice`] that was added with `device_add()` and not
/// yet deleted; the registration owns the initial reference. `data` is what
/// `RawDevice::data` points to.
pub struct Registration<'a> {
    dev: NonNull<RawDevice>,
    // Freed after the device is deleted (see `Drop`).
    data: Option<KBox<RegistrationData>>,
    _parent: PhantomData<&'a device::Device<Bound>>,
}

impl<'a> Registration<'a> {
    /// Creates a device on `bus`, as a child of `parent` (or at the top of
    /// `/sys/devices/` when `None`) carrying `data` for its driver (see
    /// [`Device::registration_data`]), and adds it, which probes matching
    /// drivers.
    ///
    /// `bus` must be registered ([`crate::bus::Registration`]); see there for
    /// the rule that keeps it so.
    ///
    /// # Errors
    ///
    /// - `EINVAL`: the name is empty, longer than [`NAME_MAX`] bytes, or holds
    ///   `/` or white space; or `class` is `Some(0)`.
    /// - `EEXIST`: a device of the same sysfs name exists on the bus.
    /// - `ENOMEM`: out of memory.
    pub fn new(
        bus: &'static Bus,
        parent: Option<&'a device::Device<Bound>>,
        info: DeviceInfo<'_>,
        data: Option<KBox<RegistrationData>>,
    ) -> Result<Self> {
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
                data: data.as_deref().map(NonNull::from),
            },
            GFP_KERNEL,
        )?;
        let raw = KBox::into_raw(raw);
        // Released by `release`, from the `device_initialize()` below on.
        DEVICES.add();
        // SAFETY: `raw` is a valid, exclusively owned allocation.
        let dev = unsafe { (*raw).dev.get() };

        // SAFETY: `dev` is zeroed and not yet initialized; setting the fields
        // before `device_initialize()` is what `auxiliary_device_init()` does.
        unsafe {
            (*dev).bus = bus.as_raw();
            (*dev).parent = parent.map_or(core::ptr::null_mut(), raw_of);
            (*dev).release = Some(release);
            // CAST: `device.groups` is not const-qualified in C, but only read.
            (*dev).groups = info
                .groups
                .map_or(core::ptr::null_mut(), |g| g.as_ptr().cast_mut());
            bindings::device_initialize(dev);
        }
        // From here on, `put_device()` frees `raw` through `release`.

        let cname = info.name.as_char_ptr();
        // SAFETY: `dev` is initialized; the format matches the arguments.
        let ret = unsafe {
            match info.id {
                Some(id) => {
                    bindings::dev_set_name(dev, c"%s.%u".as_char_ptr(), cname, id as c_uint)
                }
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
        // INVARIANT: the device was added; we own the initial reference;
        // `data` is what the device points to.
        Ok(Self {
            // SAFETY: `raw` comes from `KBox::into_raw`, hence non-null.
            dev: unsafe { NonNull::new_unchecked(raw) },
            data,
            _parent: PhantomData,
        })
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

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the device is added and we own the
        // initial reference, which this drops. `device_unregister()` unbinds
        // the driver before it returns.
        unsafe { bindings::device_unregister((*self.dev.as_ptr()).dev.get()) };
        // No driver can reach the data any more: free it here, in the
        // creator's module, whose code its drop may be.
        drop(self.data.take());
    }
}

// SAFETY: `device_unregister()` may be called from any thread; the data is
// `Send`.
unsafe impl Send for Registration<'_> {}

// SAFETY: `&Registration` only gives access to `&Device`, which is `Sync`.
unsafe impl Sync for Registration<'_> {}

/// A parent device together with the devices registered under it, for a
/// module whose parent and children live as long as the module (a
/// [`Registration`] borrows its parent, which a struct cannot do of its own
/// field). The children are deleted before the parent goes.
///
/// # Invariants
///
/// `parent` is never moved out or replaced while `children` is non-empty;
/// the children borrow the device it gives, which its `KBox` keeps at one
/// address.
pub struct Family<P: Send + Sync + 'static> {
    // Dropped first: the children go before their parent.
    children: KVec<Registration<'static>>,
    parent: KBox<P>,
    device: for<'p> fn(&'p P) -> &'p device::Device<Bound>,
}

impl<P: Send + Sync + 'static> Family<P> {
    /// Takes `parent`, whose bound device `device` returns, with no children
    /// yet.
    ///
    /// # Errors
    ///
    /// `ENOMEM`.
    pub fn new(parent: P, device: for<'p> fn(&'p P) -> &'p device::Device<Bound>) -> Result<Self> {
        Ok(Self {
            children: KVec::new(),
            parent: KBox::new(parent, GFP_KERNEL)?,
            device,
        })
    }

    /// Registers a child device on `bus` (see [`Registration::new`]).
    ///
    /// # Errors
    ///
    /// As [`Registration::new`], and `ENOMEM`.
    pub fn add(&mut self, bus: &'static Bus, info: DeviceInfo<'_>) -> Result {
        self.children.reserve(1, GFP_KERNEL)?;
        let parent: *const device::Device<Bound> = (self.device)(&self.parent);
        // SAFETY: By the type invariant the parent device stays at this
        // address and bound until `self` is dropped, and the children, which
        // are the only users of this reference, are dropped first.
        let parent: &'static device::Device<Bound> = unsafe { &*parent };
        let child = Registration::new(bus, Some(parent), info, None)?;
        self.children.push(child, GFP_KERNEL)?;
        Ok(())
    }

    /// The number of children.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether there are no children.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }
}

#[kernel::macros::kunit_tests(rmdev_vbus_device)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() -> Result {
        assert!(valid_name(b"mvnet"));
        assert!(valid_name(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"));
        assert!(valid_name(&[b'a'; NAME_MAX]));
        Ok(())
    }

    #[test]
    fn invalid_names() -> Result {
        assert!(!valid_name(b""));
        assert!(!valid_name(&[b'a'; NAME_MAX + 1]));
        for bad in [&b"a/b"[..], b"a b", b"a\tb", b"a\nb", b"a\0b", b"\xff"] {
            assert!(!valid_name(bad));
        }
        Ok(())
    }
}
