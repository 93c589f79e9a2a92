// SPDX-License-Identifier: GPL-2.0

//! The mdev sysfs ABI, all of it in this file, as mainline
//! [`drivers/vfio/mdev/mdev_sysfs.c`](srctree/drivers/vfio/mdev/mdev_sysfs.c)
//! and [`Documentation/ABI/testing/sysfs-bus-vfio-mdev`](srctree/Documentation/ABI/testing/sysfs-bus-vfio-mdev):
//!
//! - `<parent>/mdev_supported_types/<driver>-<type>/`: `create` (0200),
//!   `name`, `description`, `device_api`, `available_instances` (0444) and
//!   `devices/` (links to the type's mdevs);
//! - `<parent>/<uuid>/` (also `/sys/bus/mdev/devices/<uuid>`): `remove`
//!   (0200) and `mdev_type` (a link to the type directory).

use crate::{
    device,
    kobject::TypeObj,
    uuid::UUID_STRING_LEN,
    Uuid, //
};
use core::fmt::Write;
use kernel::{
    bindings,
    container_of,
    prelude::*,
    str::{
        as_char_ptr_in_const_context,
        Formatter, //
    }, //
};
use vbus::sysfs::{
    AttributeGroup,
    PtrList,
    StoreContext, //
};

/// Reads a type-directory attribute into the page.
type ShowFn = fn(&TypeObj, &mut Formatter<'_>) -> Result;
/// Takes a write to a type-directory attribute.
type StoreFn = fn(&TypeObj, &[u8]) -> Result;

/// A type-directory attribute with its own show or store, as mainline's
/// `struct mdev_type_attribute`.
///
/// # Invariants
///
/// `attr.name` is a `'static` C string; `show` is set for readable modes,
/// `store` for writable ones.
#[repr(C)]
pub(crate) struct TypeAttr {
    attr: bindings::attribute,
    show: Option<ShowFn>,
    store: Option<StoreFn>,
}

// SAFETY: Never mutated after construction; only read by sysfs.
unsafe impl Sync for TypeAttr {}

impl TypeAttr {
    const fn new(
        name: &'static CStr,
        mode: u16,
        show: Option<ShowFn>,
        store: Option<StoreFn>,
    ) -> Self {
        let mut attr: bindings::attribute = pin_init::zeroed();
        attr.name = as_char_ptr_in_const_context(name);
        attr.mode = mode;
        // INVARIANT: the callers below pair 0444 with `show`, 0200 with `store`.
        Self { attr, show, store }
    }

    /// A read-only (0444) attribute.
    const fn read_only(name: &'static CStr, show: ShowFn) -> Self {
        Self::new(name, 0o444, Some(show), None)
    }

    /// A write-only (0200) attribute.
    const fn write_only(name: &'static CStr, store: StoreFn) -> Self {
        Self::new(name, 0o200, None, Some(store))
    }

    const fn ptr(&'static self) -> *const bindings::attribute {
        &raw const self.attr
    }

    /// Returns the `TypeAttr` a `struct attribute` of a type directory is
    /// embedded in.
    ///
    /// # Safety
    ///
    /// `attr` must be one of [`TYPE_GROUPS`]' attributes, as sysfs passes
    /// them to the type directories' `sysfs_ops`.
    pub(crate) unsafe fn from_raw(attr: *const bindings::attribute) -> &'static Self {
        // SAFETY: Per the safety requirements `attr` is the `attr` field of
        // one of the `'static` `TypeAttr`s below.
        unsafe { &*container_of!(attr, TypeAttr, attr) }
    }

    /// Runs the attribute's show (`EIO` for a write-only one: sysfs never
    /// asks).
    pub(crate) fn show(&self, ty: &TypeObj, out: &mut Formatter<'_>) -> Result {
        self.show.ok_or(EIO)?(ty, out)
    }

    /// Runs the attribute's store (`EIO` for a read-only one).
    pub(crate) fn store(&self, ty: &TypeObj, input: &[u8]) -> Result {
        self.store.ok_or(EIO)?(ty, input)
    }
}

/// A `&CStr` of ours as `&str` (all our strings are ASCII).
fn text(s: &CStr) -> Result<&str> {
    s.to_str().map_err(|_| EINVAL)
}

/// Writes `args` and a newline, `EOVERFLOW` when the page is full.
fn line(out: &mut Formatter<'_>, args: core::fmt::Arguments<'_>) -> Result {
    writeln!(out, "{args}").map_err(|_| EOVERFLOW)
}

static CREATE: TypeAttr = TypeAttr::write_only(c"create", create_store);
/// Writes one string of a type's [`TypeInfo`](crate::TypeInfo) as a line.
fn info_line(
    ty: &TypeObj,
    out: &mut Formatter<'_>,
    field: fn(&crate::TypeInfo) -> &'static CStr,
) -> Result {
    let s = ty.parent.with_ops(|ops| field(ops.type_info(ty.index)))?;
    line(out, format_args!("{}", text(s)?))
}

static NAME: TypeAttr = TypeAttr::read_only(c"name", |ty, out| {
    // Mainline shows the sysfs name when there is no pretty name.
    info_line(ty, out, |info| {
        if info.pretty_name.is_empty() {
            info.sysfs_name
        } else {
            info.pretty_name
        }
    })
});
static DESCRIPTION: TypeAttr = TypeAttr::read_only(c"description", |ty, out| {
    info_line(ty, out, |info| info.description)
});
static DEVICE_API: TypeAttr = TypeAttr::read_only(c"device_api", |ty, out| {
    info_line(ty, out, |info| info.device_api)
});
static AVAILABLE_INSTANCES: TypeAttr = TypeAttr::read_only(c"available_instances", |ty, out| {
    line(out, format_args!("{}", device::available(ty)?))
});

// `create` comes last: `sysfs_create_groups()` adds the files in order, and
// when one fails, no `create` may have been taken (its mdev would link into
// the `devices/` that `TypeDir::new`'s error path frees).
static TYPE_ATTRS: PtrList<bindings::attribute, 6> =
    // SAFETY: Type directories have their own `sysfs_ops`, which take the
    // `struct attribute` of these `TypeAttr` statics.
    unsafe {
        PtrList::new([
            DEVICE_API.ptr(),
            NAME.ptr(),
            AVAILABLE_INSTANCES.ptr(),
            DESCRIPTION.ptr(),
            CREATE.ptr(),
            core::ptr::null(),
        ])
    };
static TYPE_GROUP: AttributeGroup =
    // SAFETY: Used only as the groups of type directories (see above).
    unsafe { AttributeGroup::new(&TYPE_ATTRS) };

/// The attribute groups of type directories, added by `TypeDir::new` once
/// `devices/` exists.
pub(crate) static TYPE_GROUPS: vbus::sysfs::Groups =
    // SAFETY: `TYPE_GROUP` is a static attribute group.
    unsafe { PtrList::new([TYPE_GROUP.as_raw(), core::ptr::null()]) };

/// `create` of a type directory: a UUID of 36 bytes, or 37 with a trailing
/// byte (the newline of `echo`), as mainline `create_store()`.
///
/// # Errors
///
/// `EINVAL` for a bad length or UUID; see [`device::create`] for the rest.
fn create_store(ty: &TypeObj, input: &[u8]) -> Result {
    device::create(ty, parse_create(input)?)
}

/// The UUID written to `create`.
///
/// # Errors
///
/// `EINVAL` for a length other than 36 or 37 bytes, or a bad UUID.
fn parse_create(input: &[u8]) -> Result<Uuid> {
    if input.len() < UUID_STRING_LEN || input.len() > UUID_STRING_LEN + 1 {
        return Err(EINVAL);
    }
    // As `kstrndup()` + `guid_parse()`: a NUL ends the string early.
    let end = input.iter().position(|&b| b == 0).unwrap_or(input.len());
    Uuid::parse(&input[..end])
}

/// `remove` (0200) of an mdev: writing a non-zero number (`kstrtoul()`,
/// base 0) removes it; zero does nothing.
struct Remove;

impl vbus::sysfs::Store for Remove {
    const NAME: &'static CStr = c"remove";

    fn store(file: &StoreContext<'_>, input: &[u8]) -> Result {
        if parse_ulong(input)? == 0 {
            return Ok(());
        }
        // Claim the mdev first: a refused removal keeps its file, so the
        // write can be tried again (mainline removes the file first).
        let removal = device::Removal::begin(file.device().name())?;
        // From `remove_self` on, sysfs no longer keeps this module loaded
        // while the store runs; the claim keeps the parent (which keeps
        // this module) only until `finish` returns.
        let _pin = crate::ModulePin::new();
        // SAFETY: `remove` is in `device.groups` of the mdevs this crate
        // creates, not in a driver's `dev_groups`; this module is pinned.
        // Its result does not matter: the claim makes this store the one
        // that removes the mdev.
        let _ = unsafe { file.remove_self() };
        removal.finish();
        Ok(())
    }
}

/// `kstrtoul(buf, 0, &val)`: one number in base 0 (decimal, `0x` hex, `0`
/// octal), an optional trailing newline, nothing else; any number of
/// leading zeros, as the C function (the input is at most a page).
fn parse_ulong(input: &[u8]) -> Result<u64> {
    let mut buf = KVec::with_capacity(input.len() + 1, GFP_KERNEL)?;
    buf.extend_from_slice(input, GFP_KERNEL)?;
    // A NUL inside ends the number there, as in mainline (sysfs hands
    // `kstrtoul()` the buffer as a C string).
    buf.push(0, GFP_KERNEL)?;
    let mut val: u64 = 0;
    // SAFETY: `buf` is NUL-terminated and `val` is writable.
    kernel::error::to_result(unsafe { bindings::kstrtoull(buf.as_ptr(), 0, &mut val) })
        .map_err(|_| EINVAL)?;
    Ok(val)
}

static REMOVE: vbus::sysfs::DeviceAttribute = vbus::sysfs::DeviceAttribute::write_only::<Remove>();
vbus::attribute_groups!(pub(crate) static DEVICE_GROUPS = [REMOVE]);

#[kernel::macros::kunit_tests(rmdev_mdev_sysfs)]
mod tests {
    use super::*;

    #[test]
    fn create_takes_36_or_37_bytes() -> Result {
        let u = Uuid::parse(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001")?;
        assert!(parse_create(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001")? == u);
        assert!(parse_create(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001\n")? == u);
        assert!(parse_create(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001x")? == u);
        Ok(())
    }

    #[test]
    fn create_refuses_other_lengths_and_inner_nul() -> Result {
        assert!(parse_create(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa100") == Err(EINVAL));
        assert!(parse_create(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001\n\n") == Err(EINVAL));
        assert!(parse_create(b"83b8f4f2-509f-382f\0-3c1e-e6bfe0fa109") == Err(EINVAL));
        assert!(parse_create(b"") == Err(EINVAL));
        Ok(())
    }

    #[test]
    fn remove_value_is_kstrtoul_base_0() -> Result {
        assert_eq!(parse_ulong(b"1")?, 1);
        assert_eq!(parse_ulong(b"1\n")?, 1);
        assert_eq!(parse_ulong(b"0")?, 0);
        assert_eq!(parse_ulong(b"0x1f")?, 31);
        assert_eq!(parse_ulong(b"010")?, 8);
        Ok(())
    }

    #[test]
    fn remove_value_takes_any_number_of_leading_zeros() -> Result {
        let mut many = [b'0'; 41];
        many[40] = b'1';
        assert_eq!(parse_ulong(&many)?, 1);
        Ok(())
    }

    #[test]
    fn remove_value_refuses_what_kstrtoul_refuses() -> Result {
        for bad in [
            &b""[..],
            b"\n",
            b"abc",
            b"-1",
            b"1 1",
            b"1x",
            b"0x",
            b"99999999999999999999999",
        ] {
            assert_eq!(parse_ulong(bad), Err(EINVAL));
        }
        Ok(())
    }

    /// `mdev_supported_types/` under a device that has left sysfs: the
    /// kobject core's errno comes back (`ENOENT` from
    /// `sysfs_create_dir_ns()`, with no stack dump, unlike a duplicate name's
    /// `EEXIST`), not `ENOMEM` for every failure.
    #[test]
    fn kset_registration_errno_is_the_kobject_cores() -> Result {
        use vbus::device::{
            DeviceInfo,
            Registration, //
        };
        let info = DeviceInfo {
            name: c"rmdev_kunit_kset",
            id: None,
            class: None,
            groups: None,
        };
        let reg = Registration::new(&vbus::VBUS, None, info, None)?;
        let dev = reg.get();
        // Deleted from sysfs; our reference keeps the memory.
        drop(reg);
        let kset = crate::kobject::Kset::new(c"mdev_supported_types", (*dev).as_ref());
        assert!(matches!(kset, Err(e) if e == ENOENT));
        Ok(())
    }
}
