// SPDX-License-Identifier: GPL-2.0

//! Device attributes and attribute groups built at compile time.
//!
//! C header: [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h),
//! [`include/linux/device.h`](srctree/include/linux/device.h) (`DEVICE_ATTR_RO`,
//! `DEVICE_ATTR_WO`, `ATTRIBUTE_GROUPS`).
//!
//! ```ignore
//! struct Greeting;
//! impl vbus::sysfs::Show for Greeting {
//!     const NAME: &'static CStr = c"greeting";
//!     fn show(dev: &device::Device, out: &mut Formatter<'_>) -> Result {
//!         writeln!(out, "hello").map_err(|_| EOVERFLOW)
//!     }
//! }
//! static GREETING: vbus::sysfs::DeviceAttribute = vbus::sysfs::DeviceAttribute::read_only::<Greeting>();
//! vbus::attribute_groups!(static GROUPS = [GREETING]);
//! ```

use kernel::{
    bindings,
    device::Device,
    ffi::c_char,
    page::PAGE_SIZE,
    prelude::*,
    str::{
        as_char_ptr_in_const_context,
        Formatter, //
    },
    sync::aref::ARef, //
};

/// The read side of a device attribute.
pub trait Show {
    /// The attribute's file name.
    const NAME: &'static CStr;

    /// Writes the attribute's value into `out` (at most [`PAGE_SIZE`] - 1 bytes).
    ///
    /// # Errors
    ///
    /// The errno is returned to the reader's `read()`; `EOVERFLOW` by
    /// convention when `out` is full.
    fn show(dev: &Device, out: &mut Formatter<'_>) -> Result;
}

/// The write side of a device attribute.
pub trait Store {
    /// The attribute's file name.
    const NAME: &'static CStr;

    /// Takes the bytes written by userspace (at most one page; not NUL-terminated).
    ///
    /// # Errors
    ///
    /// The errno is returned to the writer's `write()`; on error the
    /// implementation must leave its state as it was.
    fn store(file: &StoreContext<'_>, input: &[u8]) -> Result;
}

/// What a [`Store`] gets besides the written bytes: the device, and the
/// means to remove its own file (for attributes such as mdev's `remove`).
pub struct StoreContext<'a> {
    dev: &'a Device,
    attr: *const bindings::device_attribute,
}

impl StoreContext<'_> {
    /// The device the attribute belongs to.
    pub fn device(&self) -> &Device {
        self.dev
    }

    /// Removes this attribute file while its `store` runs, as
    /// `device_remove_file_self()`: after it, the device may be deleted from
    /// within `store` without waiting on this very call (the adapter holds a
    /// device reference for the call). Returns `false` when another writer
    /// removed it first (that writer does the deletion).
    ///
    /// # Safety
    ///
    /// After it returns, nothing waits for this `store` call to end before
    /// the attribute's owner goes: the attribute must belong to the bus's own
    /// code (`device.groups` set by the crate that creates the device), never
    /// to a driver module's `dev_groups`.
    pub unsafe fn remove_self(&self) -> bool {
        // SAFETY: `dev` and `attr` are the live device and attribute of the
        // running `store` call, as `device_remove_file_self()` requires.
        unsafe { bindings::device_remove_file_self(crate::device::raw_of(self.dev), self.attr) }
    }
}

/// A `struct device_attribute` built at compile time.
///
/// # Invariants
///
/// `raw.attr.name` is a `'static` C string, and the callbacks are the adapters
/// of this module for the [`Show`]/[`Store`] type the attribute was built with.
#[repr(transparent)]
pub struct DeviceAttribute {
    raw: bindings::device_attribute,
}

// SAFETY: A `DeviceAttribute` is never mutated after construction; sysfs only
// reads it.
unsafe impl Sync for DeviceAttribute {}

impl DeviceAttribute {
    const fn with_mode(name: &'static CStr, mode: u16) -> bindings::device_attribute {
        let mut raw: bindings::device_attribute = pin_init::zeroed();
        raw.attr.name = as_char_ptr_in_const_context(name);
        raw.attr.mode = mode;
        raw
    }

    /// A read-only attribute (mode 0444) whose value comes from `T::show`.
    pub const fn read_only<T: Show>() -> Self {
        let mut raw = Self::with_mode(T::NAME, 0o444);
        raw.__bindgen_anon_1.show = Some(show_callback::<T>);
        // INVARIANT: `T::NAME` is `'static`; the callback is ours.
        Self { raw }
    }

    /// A write-only attribute (mode 0200) handled by `T::store`.
    pub const fn write_only<T: Store>() -> Self {
        let mut raw = Self::with_mode(T::NAME, 0o200);
        raw.__bindgen_anon_2.store = Some(store_callback::<T>);
        // INVARIANT: `T::NAME` is `'static`; the callback is ours.
        Self { raw }
    }

    /// Returns the embedded `struct attribute`, for an attribute list.
    pub const fn as_attr_ptr(&'static self) -> *mut bindings::attribute {
        (&raw const self.raw.attr).cast_mut()
    }
}

/// `device_attribute.show` adapter.
///
/// # Safety
///
/// Called by sysfs only: `dev` is a live device and `buf` a page-sized buffer.
unsafe extern "C" fn show_callback<T: Show>(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs passes a valid device whose reference is held by the open file.
    let dev = unsafe { Device::from_raw(dev) };
    // SAFETY: sysfs passes its page, exclusive to this call.
    unsafe { show_page(buf, |out| T::show(dev, out)) }
}

/// Runs a show function on the page sysfs gave a `show` callback, and
/// returns what the callback returns: the bytes written, or the errno.
/// Like `sysfs_emit()`, it leaves the last byte: a full page is a bug to
/// `sysfs_kf_seq_show()`. For every sysfs show of rmdev, device attributes
/// and kobject attributes alike.
///
/// # Safety
///
/// `buf` is valid for writes of `PAGE_SIZE` bytes and not otherwise
/// accessed during the call (the page sysfs passes a `show` callback).
pub unsafe fn show_page(
    buf: *mut c_char,
    show: impl FnOnce(&mut Formatter<'_>) -> Result,
) -> isize {
    // SAFETY: Per the safety requirements.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE - 1) };
    let mut out = Formatter::new(page);
    match show(&mut out) {
        Ok(()) => out.bytes_written() as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// Runs a store function on the bytes sysfs gave a `store` callback, and
/// returns what the callback returns: `count` (all taken), or the errno.
///
/// # Safety
///
/// `buf` holds `count` readable bytes (sysfs: at most `PAGE_SIZE`) for the
/// duration of the call.
pub unsafe fn store_input(
    buf: *const c_char,
    count: usize,
    store: impl FnOnce(&[u8]) -> Result,
) -> isize {
    // SAFETY: Per the safety requirements.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match store(input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `device_attribute.store` adapter.
///
/// # Safety
///
/// Called by sysfs only: `dev` is a live device and `buf` holds `count` bytes.
unsafe extern "C" fn store_callback<T: Store>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs keeps the device alive while the attribute's active
    // reference is held, which it is on entry. `StoreContext::remove_self()`
    // drops that protection, so take a reference of our own first: the
    // device stays valid until this call ends, even if `store` deletes it.
    let dev: ARef<Device> = unsafe { Device::<kernel::device::Normal>::from_raw(dev) }.into();
    // SAFETY: sysfs passes `count` readable bytes.
    unsafe {
        store_input(buf, count, |input| {
            T::store(&StoreContext { dev: &dev, attr }, input)
        })
    }
}

/// A NULL-terminated array of pointers, as sysfs wants attribute and group lists.
///
/// Built by [`attribute_groups!`](crate::attribute_groups); `N` counts the
/// terminating NULL.
#[repr(transparent)]
pub struct PtrList<T, const N: usize>([*const T; N]);

// SAFETY: The list is never mutated after construction and points to `Sync`
// statics only.
unsafe impl<T, const N: usize> Sync for PtrList<T, N> {}

impl<T, const N: usize> PtrList<T, N> {
    /// Wraps `ptrs`, whose last entry must be NULL (checked at compile time).
    ///
    /// # Safety
    ///
    /// Every other entry must point to a `'static`, never mutated object of
    /// the type C expects there: a `struct attribute` embedded in a
    /// [`DeviceAttribute`] for device attribute lists, an [`AttributeGroup`]
    /// for group lists. [`attribute_groups!`](crate::attribute_groups) does this.
    pub const unsafe fn new(ptrs: [*const T; N]) -> Self {
        assert!(
            N > 0 && ptrs[N - 1].is_null(),
            "pointer list must be NULL-terminated"
        );
        Self(ptrs)
    }

    /// Returns the first element, for the C side.
    pub const fn as_ptr(&'static self) -> *const *const T {
        self.0.as_ptr()
    }
}

/// An unnamed `struct attribute_group` built at compile time.
#[repr(transparent)]
pub struct AttributeGroup(bindings::attribute_group);

// SAFETY: Never mutated after construction; points to `Sync` statics only.
unsafe impl Sync for AttributeGroup {}

impl AttributeGroup {
    /// Builds a group over a NULL-terminated attribute list.
    ///
    /// # Safety
    ///
    /// The attributes must be of the kind the group's users expect (device
    /// attributes for `dev_groups`/`groups`), as [`PtrList::new`] requires.
    pub const unsafe fn new<const N: usize>(
        attrs: &'static PtrList<bindings::attribute, N>,
    ) -> Self {
        let mut raw: bindings::attribute_group = pin_init::zeroed();
        raw.__bindgen_anon_2.attrs_const = attrs.as_ptr();
        Self(raw)
    }

    /// Returns the `struct attribute_group` for a group list.
    pub const fn as_raw(&'static self) -> *const bindings::attribute_group {
        &raw const self.0
    }
}

/// The type of a NULL-terminated list of attribute groups (`dev_groups`).
pub type Groups = PtrList<bindings::attribute_group, 2>;

/// Declares `static $name: Groups` holding one group with the given
/// [`DeviceAttribute`] statics, like C's `ATTRIBUTE_GROUPS()`.
#[macro_export]
macro_rules! attribute_groups {
    ($vis:vis static $name:ident = [$($attr:path),+ $(,)?]) => {
        $vis static $name: $crate::sysfs::Groups = {
            const N: usize = [$(stringify!($attr)),+].len() + 1;
            // SAFETY: The entries are `DeviceAttribute` statics (checked by
            // `as_attr_ptr`'s receiver type) and the group is a static.
            static ATTRS: $crate::sysfs::PtrList<::kernel::bindings::attribute, N> = unsafe {
                $crate::sysfs::PtrList::new([$($attr.as_attr_ptr().cast_const(),)+ ::core::ptr::null()])
            };
            static GROUP: $crate::sysfs::AttributeGroup =
                // SAFETY: `ATTRS` lists device attributes.
                unsafe { $crate::sysfs::AttributeGroup::new(&ATTRS) };
            // SAFETY: `GROUP` is a static attribute group.
            unsafe { $crate::sysfs::PtrList::new([GROUP.as_raw(), ::core::ptr::null()]) }
        };
    };
}
