// SPDX-License-Identifier: GPL-2.0

//! The raw sysfs objects of the mdev ABI: the `mdev_supported_types` kset,
//! the type directories (kobjects with their own `sysfs_ops`), links, the
//! `mdev_bus` compat class and change uevents.
//!
//! C sources followed: [`drivers/vfio/mdev/mdev_sysfs.c`](srctree/drivers/vfio/mdev/mdev_sysfs.c),
//! [`lib/kobject.c`](srctree/lib/kobject.c), [`drivers/base/class.c`](srctree/drivers/base/class.c).

use crate::{
    parent::ParentCore,
    sysfs::{
        TypeAttr,
        TYPE_GROUPS, //
    },
};
use core::{
    ptr::NonNull,
    sync::atomic::{
        AtomicPtr,
        Ordering, //
    },
};
use kernel::{
    bindings,
    container_of,
    device,
    error::to_result,
    ffi::c_char,
    prelude::*,
    sync::Arc,
    time::{
        delay::fsleep,
        Delta, //
    },
    types::Opaque, //
};
use vbus::{
    device::raw_of,
    release::Pending, //
};

/// The `mdev_supported_types` directory of a parent.
///
/// Made as `kset_create_and_add()` does, with a `kobj_type` of our own, so
/// that the errno of a failure reaches the caller (the C function returns
/// NULL for every failure).
///
/// # Invariants
///
/// `0` points to a kset allocated as a `KBox` and registered with
/// `kset_register()`; it is unregistered on drop and freed by
/// [`kset_release`].
pub(crate) struct Kset(NonNull<bindings::kset>);

/// `kobj_type.release` of our ksets: frees the kset.
///
/// # Safety
///
/// Called by the kobject core only, once, when the last reference goes.
unsafe extern "C" fn kset_release(kobj: *mut bindings::kobject) {
    // SAFETY: Only `Kset`s use `KSET_KTYPE`; the kobject is embedded in a
    // `struct kset` allocated as a `KBox`.
    let kset = unsafe { container_of!(kobj, bindings::kset, kobj) };
    // SAFETY: See above; the last reference is gone.
    drop(unsafe { KBox::from_raw(kset.cast::<Opaque<bindings::kset>>()) });
    // Last: the module may go once the count is zero.
    KOBJECTS.done();
}

/// `kobj_type` of our ksets: as lib/kobject.c's `kset_ktype`.
struct KsetKtype(bindings::kobj_type);
// SAFETY: Never mutated after construction; only read by the kobject core.
unsafe impl Sync for KsetKtype {}

static KSET_KTYPE: KsetKtype = KsetKtype({
    let mut k: bindings::kobj_type = pin_init::zeroed();
    k.release = Some(kset_release);
    k.sysfs_ops = &raw const bindings::kobj_sysfs_ops;
    k
});

impl Kset {
    /// Creates `<parent>/<name>/`.
    ///
    /// # Errors
    ///
    /// `EEXIST` when the parent has a child of that name, `ENOMEM`.
    pub(crate) fn new(name: &CStr, parent: &device::Device) -> Result<Self> {
        let kset = KBox::into_raw(KBox::new(Opaque::<bindings::kset>::zeroed(), GFP_KERNEL)?);
        // CAST: `Opaque<T>` is a transparent wrapper of `T`.
        let raw = kset.cast::<bindings::kset>();
        // SAFETY: `raw` is a zeroed, exclusively owned kset; the format
        // matches its argument.
        let named = to_result(unsafe {
            bindings::kobject_set_name(
                &raw mut (*raw).kobj,
                c"%s".as_char_ptr(),
                name.as_char_ptr(),
            )
        });
        if let Err(e) = named {
            // SAFETY: Nothing was set up; the allocation is ours.
            drop(unsafe { KBox::from_raw(kset) });
            return Err(e);
        }
        // SAFETY: As above; `parent` is a live device whose kobject is in
        // sysfs (the kset takes a reference on it when added).
        let ret = unsafe {
            (*raw).kobj.parent = &raw mut (*raw_of(parent)).kobj;
            (*raw).kobj.ktype = &KSET_KTYPE.0;
            to_result(bindings::kset_register(raw))
        };
        if let Err(e) = ret {
            // SAFETY: A failed `kset_register()` freed the name and took no
            // reference: the kset is ours to free, as `kset_create_and_add()`
            // does.
            drop(unsafe { KBox::from_raw(kset) });
            return Err(e);
        }
        // Released by `kset_release`, from here on.
        KOBJECTS.add();
        // INVARIANT: allocated as a `KBox` and registered.
        // SAFETY: `raw` comes from `KBox::into_raw`, hence non-null.
        Ok(Self(unsafe { NonNull::new_unchecked(raw) }))
    }
}

impl Drop for Kset {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the kset is registered; the last
        // reference frees it through `kset_release`.
        unsafe { bindings::kset_unregister(self.0.as_ptr()) };
    }
}

// SAFETY: `kset_unregister()` may be called from any thread.
unsafe impl Send for Kset {}
// SAFETY: No method through `&Kset`.
unsafe impl Sync for Kset {}

/// A type directory `mdev_supported_types/<driver>-<type>/`: a kobject of
/// its own `kobj_type`, the parent it belongs to, and its `devices/` child.
///
/// # Invariants
///
/// Allocated by [`TypeDir::new`] as a `KBox` and freed by [`type_release`]
/// when the last kobject reference goes; `devices` is a live kobject while
/// the `TypeDir` that owns this object lives.
#[repr(C)]
pub(crate) struct TypeObj {
    kobj: Opaque<bindings::kobject>,
    /// `devices/`: stored before the directory's attributes are added, so
    /// every `create` sees it (see [`TypeDir::new`]).
    devices: AtomicPtr<bindings::kobject>,
    /// The parent the type belongs to.
    pub(crate) parent: Arc<ParentCore>,
    /// Index into the parent's types.
    pub(crate) index: usize,
}

impl TypeObj {
    fn kobj(&self) -> *mut bindings::kobject {
        self.kobj.get()
    }

    /// The `devices/` kobject.
    ///
    /// Non-null for every caller: attributes, the only way in, are added
    /// after it is stored.
    pub(crate) fn devices(&self) -> *mut bindings::kobject {
        self.devices.load(Ordering::Acquire)
    }

    /// Returns the `TypeObj` of a kobject of [`TYPE_KTYPE`].
    ///
    /// # Safety
    ///
    /// `kobj` must be the kobject of a live `TypeObj`.
    unsafe fn from_kobj<'a>(kobj: *mut bindings::kobject) -> &'a Self {
        // SAFETY: Per the safety requirements.
        unsafe { &*container_of!(kobj.cast::<Opaque<bindings::kobject>>(), TypeObj, kobj) }
    }
}

/// Kobjects of ours (type directories, ksets) not yet released.
static KOBJECTS: Pending = Pending::new();

/// Waits until every kobject of ours is released: their release is this
/// module's code (see [`vbus::release`]). Called from the core's exit.
pub(crate) fn wait_released() {
    KOBJECTS.wait();
}

/// `kobj_type.release` of type directories: frees the [`TypeObj`].
///
/// # Safety
///
/// Called by the kobject core only, once, when the last reference goes.
unsafe extern "C" fn type_release(kobj: *mut bindings::kobject) {
    // SAFETY: Only `TypeObj`s use `TYPE_KTYPE`; they were allocated as `KBox`.
    let obj = unsafe { container_of!(kobj.cast::<Opaque<bindings::kobject>>(), TypeObj, kobj) };
    // SAFETY: See above; the last reference is gone.
    drop(unsafe { KBox::from_raw(obj) });
    // Last: the module may go once the count is zero.
    KOBJECTS.done();
}

/// `sysfs_ops.show` of type directories.
///
/// # Safety
///
/// Called by sysfs only, on a live type directory, with a page-sized buffer.
unsafe extern "C" fn type_show(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: The kernfs active reference of the file keeps the directory
    // live during `show`: `TypeDir::drop`'s `kobject_del()` waits for it
    // before the owner's last `kobject_put()`.
    let ty = unsafe { TypeObj::from_kobj(kobj) };
    // SAFETY: sysfs passes one of the type directories' attributes.
    let attr = unsafe { TypeAttr::from_raw(attr) };
    // SAFETY: sysfs passes its page, exclusive to this call.
    unsafe { vbus::sysfs::show_page(buf, |out| attr.show(ty, out)) }
}

/// `sysfs_ops.store` of type directories.
///
/// # Safety
///
/// Called by sysfs only, on a live type directory, with `count` bytes at `buf`.
unsafe extern "C" fn type_store(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: The kernfs active reference of the file keeps the directory
    // live during `store`: `TypeDir::drop`'s `kobject_del()` waits for it
    // before the owner's last `kobject_put()`.
    let ty = unsafe { TypeObj::from_kobj(kobj) };
    // SAFETY: sysfs passes one of the type directories' attributes.
    let attr = unsafe { TypeAttr::from_raw(attr) };
    // SAFETY: sysfs passes `count` readable bytes.
    unsafe { vbus::sysfs::store_input(buf, count, |input| attr.store(ty, input)) }
}

/// `sysfs_ops` of type directories, built at compile time.
struct TypeOps(bindings::sysfs_ops);
// SAFETY: Never mutated after construction; only read by sysfs.
unsafe impl Sync for TypeOps {}

static TYPE_OPS: TypeOps = TypeOps(bindings::sysfs_ops {
    show: Some(type_show),
    store: Some(type_store),
});

/// `kobj_type` of type directories, built at compile time.
struct TypeKtype(bindings::kobj_type);
// SAFETY: Never mutated after construction; only read by the kobject core.
unsafe impl Sync for TypeKtype {}

static TYPE_KTYPE: TypeKtype = TypeKtype({
    let mut k: bindings::kobj_type = pin_init::zeroed();
    k.release = Some(type_release);
    k.sysfs_ops = &raw const TYPE_OPS.0;
    k
});

/// The owner's handle of a type directory: dropping it removes the directory
/// (as `mdev_type_remove()`); the memory goes with the last reference.
///
/// # Invariants
///
/// `obj` is a live, added [`TypeObj`] on which this handle owns the initial
/// reference.
pub(crate) struct TypeDir {
    obj: NonNull<TypeObj>,
}

impl TypeDir {
    /// Creates `<kset>/<driver>-<sysfs_name>/` and its `devices/`, as
    /// `mdev_type_add()`.
    pub(crate) fn new(kset: &Kset, parent: Arc<ParentCore>, index: usize) -> Result<Self> {
        let dev = raw_of(parent.device());
        let name = parent.with_ops(|ops| ops.type_info(index).sysfs_name)?;
        let obj = KBox::new(
            TypeObj {
                kobj: Opaque::zeroed(),
                devices: AtomicPtr::new(core::ptr::null_mut()),
                parent,
                index,
            },
            GFP_KERNEL,
        )?;
        let obj = KBox::into_raw(obj);
        // Released by `type_release`, from here on.
        KOBJECTS.add();
        // SAFETY: `obj` is a valid, exclusively owned allocation.
        let kobj = unsafe { (*obj).kobj() };
        // SAFETY: `kobj` is zeroed; `kset` is live; the format matches its
        // arguments (`dev_driver_string()` of a live device is a C string).
        let ret = unsafe {
            (*kobj).kset = kset.0.as_ptr();
            to_result(bindings::kobject_init_and_add(
                kobj,
                &TYPE_KTYPE.0,
                core::ptr::null_mut(),
                c"%s-%s".as_char_ptr(),
                bindings::dev_driver_string(dev),
                name.as_char_ptr(),
            ))
        };
        if let Err(e) = ret {
            // SAFETY: After `kobject_init_and_add()`, even a failed one, the
            // kobject is freed by `kobject_put()` through `type_release`.
            unsafe { bindings::kobject_put(kobj) };
            return Err(e);
        }
        // SAFETY: `kobj` is added; the name is a C string.
        let devices = unsafe { bindings::kobject_create_and_add(c"devices".as_char_ptr(), kobj) };
        if devices.is_null() {
            // SAFETY: `kobj` is added; this removes and frees it.
            unsafe {
                bindings::kobject_del(kobj);
                bindings::kobject_put(kobj);
            }
            return Err(ENOMEM);
        }
        // SAFETY: `obj` is live (we own its reference).
        unsafe { (*obj).devices.store(devices, Ordering::Release) };
        // The attributes come last, as a group rather than the ktype's
        // `default_groups`: a `create` can only be written once the
        // directory is whole. (Mainline adds them with the kobject, and a
        // `create` racing the parent's registration links at the sysfs
        // root, through a NULL `devices_kobj`.)
        // SAFETY: `kobj` is added; the groups are static.
        let ret = unsafe { to_result(bindings::sysfs_create_groups(kobj, TYPE_GROUPS.as_ptr())) };
        if let Err(e) = ret {
            // SAFETY: As above: removes and frees both kobjects (no mdev
            // links into `devices/`: `create` is the last file added, and
            // a failure means it was not).
            unsafe {
                bindings::kobject_put(devices);
                bindings::kobject_del(kobj);
                bindings::kobject_put(kobj);
            }
            return Err(e);
        }
        // INVARIANT: added, and we own the initial reference.
        Ok(Self {
            // SAFETY: `obj` comes from `KBox::into_raw`, hence non-null.
            obj: unsafe { NonNull::new_unchecked(obj) },
        })
    }
}

impl Drop for TypeDir {
    fn drop(&mut self) {
        let obj = self.obj.as_ptr();
        // SAFETY: By the type invariant `obj` is live and added, with a live
        // `devices` child; this is `mdev_type_remove()`.
        unsafe {
            bindings::kobject_put((*obj).devices.load(Ordering::Acquire));
            bindings::kobject_del((*obj).kobj());
            bindings::kobject_put((*obj).kobj());
        }
    }
}

// SAFETY: Kobject removal may happen from any thread.
unsafe impl Send for TypeDir {}
// SAFETY: `&TypeDir` only reads immutable fields.
unsafe impl Sync for TypeDir {}

/// A counted reference to a type directory, held by each of its mdevs (as
/// `kobject_get(&type->kobj)` in `mdev_device_create()`).
///
/// # Invariants
///
/// Owns one reference on the kobject of a live [`TypeObj`].
pub(crate) struct TypeRef(NonNull<TypeObj>);

impl TypeRef {
    /// Takes a reference on `obj`.
    pub(crate) fn new(obj: &TypeObj) -> Self {
        // SAFETY: `obj` is live, so its refcount is non-zero.
        unsafe { bindings::kobject_get(obj.kobj()) };
        // INVARIANT: we took a reference.
        Self(NonNull::from(obj))
    }

    /// The type object.
    pub(crate) fn obj(&self) -> &TypeObj {
        // SAFETY: Our reference keeps it live.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for TypeRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own a reference.
        unsafe { bindings::kobject_put(self.0.as_ref().kobj()) };
    }
}

// SAFETY: Kobject references may be dropped from any thread.
unsafe impl Send for TypeRef {}
// SAFETY: `&TypeRef` only gives `&TypeObj`, whose fields are immutable.
unsafe impl Sync for TypeRef {}

/// The two links of a live mdev: `<type>/devices/<uuid>` and
/// `<mdev>/mdev_type`, as `mdev_create_sysfs_files()`.
///
/// # Invariants
///
/// Both links exist; `dev` and `ty` outlive `self` (the owner drops `self`
/// before the device registration and the [`TypeRef`]).
pub(crate) struct Links {
    dev: *mut bindings::device,
    ty: NonNull<TypeObj>,
}

impl Links {
    /// Creates both links.
    pub(crate) fn new(ty: &TypeRef, dev: &vbus::Device) -> Result<Self> {
        let obj = ty.obj();
        let devices = obj.devices();
        let raw = dev.as_raw_device();
        // SAFETY: The kobjects are live; `dev_name()` is a C string.
        unsafe {
            to_result(bindings::sysfs_create_link(
                devices,
                &raw mut (*raw).kobj,
                bindings::dev_name(raw),
            ))?;
            if let Err(e) = to_result(bindings::sysfs_create_link(
                &raw mut (*raw).kobj,
                obj.kobj(),
                c"mdev_type".as_char_ptr(),
            )) {
                bindings::sysfs_remove_link(devices, bindings::dev_name(raw));
                return Err(e);
            }
        }
        // INVARIANT: both links were created.
        Ok(Self {
            dev: raw,
            ty: NonNull::from(obj),
        })
    }
}

impl Drop for Links {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the links exist and both ends are live.
        unsafe {
            bindings::sysfs_remove_link(&raw mut (*self.dev).kobj, c"mdev_type".as_char_ptr());
            bindings::sysfs_remove_link(
                self.ty.as_ref().devices.load(Ordering::Acquire),
                bindings::dev_name(self.dev),
            );
        }
    }
}

// SAFETY: sysfs links may be removed from any thread.
unsafe impl Send for Links {}
// SAFETY: No method through `&Links`.
unsafe impl Sync for Links {}

/// The `mdev_bus` compat class (`/sys/class/mdev_bus/`).
///
/// # Invariants
///
/// `0` was returned by `class_compat_register()` and is unregistered on drop.
pub struct CompatClass(NonNull<bindings::class_compat>);

impl CompatClass {
    /// Registers `/sys/class/<name>/`.
    ///
    /// `class_compat_unregister()` only drops its kobject, so the directory
    /// of a previous registration leaves sysfs when that kobject is
    /// released, which the kobject core may delay by seconds
    /// (`CONFIG_DEBUG_KOBJECT_RELEASE`): a module reloaded at once would
    /// find it still there. A failed registration is retried for up to 5 s.
    ///
    /// # Errors
    ///
    /// `ENOMEM` when it cannot be registered (the C function says NULL for
    /// every failure; mainline's `mdev_init()` says `ENOMEM` too).
    pub fn new(name: &'static CStr) -> Result<Self> {
        for _ in 0..50 {
            // SAFETY: `name` is a `'static` C string.
            let cls = unsafe { bindings::class_compat_register(name.as_char_ptr()) };
            if let Some(cls) = NonNull::new(cls) {
                // INVARIANT: non-NULL means registered.
                return Ok(Self(cls));
            }
            fsleep(Delta::from_millis(100));
        }
        Err(ENOMEM)
    }

    /// Adds the link `/sys/class/<name>/<dev>`.
    pub(crate) fn link(&self, dev: &device::Device) -> Result {
        // SAFETY: The class is registered and `dev` is live.
        to_result(unsafe { bindings::class_compat_create_link(self.0.as_ptr(), raw_of(dev)) })
    }

    /// Removes the link of `dev`.
    pub(crate) fn unlink(&self, dev: &device::Device) {
        // SAFETY: The class is registered and `dev` is live.
        unsafe { bindings::class_compat_remove_link(self.0.as_ptr(), raw_of(dev)) }
    }
}

impl Drop for CompatClass {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the class is registered.
        unsafe { bindings::class_compat_unregister(self.0.as_ptr()) };
    }
}

// SAFETY: The compat class API is thread safe.
unsafe impl Send for CompatClass {}
// SAFETY: The compat class API is thread safe.
unsafe impl Sync for CompatClass {}

/// Sends a `KOBJ_CHANGE` uevent for `dev` with the one variable `var`
/// (`KEY=value`).
pub(crate) fn change_uevent(dev: &device::Device, var: &CStr) {
    let mut envp = [
        var.as_char_ptr().cast_mut(),
        core::ptr::null_mut::<c_char>(),
    ];
    // SAFETY: `dev` is live; `envp` is a NULL-terminated array of C strings
    // that the uevent code only reads, during this call.
    let _ = unsafe {
        bindings::kobject_uevent_env(
            &raw mut (*raw_of(dev)).kobj,
            bindings::kobject_action_KOBJ_CHANGE,
            envp.as_mut_ptr(),
        )
    };
}
