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

use crate::{device, kobject::TypeObj, uuid::UUID_STRING_LEN, Uuid};
use core::fmt::Write;
use kernel::{
    bindings,
    prelude::*,
    str::{as_char_ptr_in_const_context, Formatter},
};
use vbus::sysfs::{AttributeGroup, PtrList, StoreContext};

/// A type-directory attribute: a `struct attribute` told apart by address.
#[repr(transparent)]
pub(crate) struct TypeAttr(bindings::attribute);

// SAFETY: Never mutated after construction; only read by sysfs.
unsafe impl Sync for TypeAttr {}

impl TypeAttr {
    const fn new(name: &'static CStr, mode: u16) -> Self {
        let mut a: bindings::attribute = pin_init::zeroed();
        a.name = as_char_ptr_in_const_context(name);
        a.mode = mode;
        Self(a)
    }

    const fn ptr(&'static self) -> *const bindings::attribute {
        &raw const self.0
    }

    fn is(&'static self, attr: *const bindings::attribute) -> bool {
        core::ptr::eq(self.ptr(), attr)
    }
}

static CREATE: TypeAttr = TypeAttr::new(c"create", 0o200);
static NAME: TypeAttr = TypeAttr::new(c"name", 0o444);
static DESCRIPTION: TypeAttr = TypeAttr::new(c"description", 0o444);
static DEVICE_API: TypeAttr = TypeAttr::new(c"device_api", 0o444);
static AVAILABLE_INSTANCES: TypeAttr = TypeAttr::new(c"available_instances", 0o444);

static TYPE_ATTRS: PtrList<bindings::attribute, 6> =
    // SAFETY: Type directories have their own `sysfs_ops`, which take plain
    // `struct attribute`s: these statics.
    unsafe { PtrList::new([
    CREATE.ptr(),
    DEVICE_API.ptr(),
    NAME.ptr(),
    AVAILABLE_INSTANCES.ptr(),
    DESCRIPTION.ptr(),
    core::ptr::null(),
]) };
static TYPE_GROUP: AttributeGroup =
    // SAFETY: Used only as `default_groups` of type directories (see above).
    unsafe { AttributeGroup::new(&TYPE_ATTRS) };

/// `default_groups` of type directories.
pub(crate) static TYPE_GROUPS: vbus::sysfs::Groups =
    // SAFETY: `TYPE_GROUP` is a static attribute group.
    unsafe { PtrList::new([TYPE_GROUP.as_raw(), core::ptr::null()]) };

/// A `&CStr` of ours as `&str` (all our strings are ASCII).
fn text(s: &CStr) -> Result<&str> {
    s.to_str().map_err(|_| EINVAL)
}

/// The attributes of type directories.
pub(crate) struct TypeAttributes;

impl TypeAttributes {
    /// Reads an attribute of a type directory.
    pub(crate) fn show(ty: &TypeObj, attr: *const bindings::attribute, out: &mut Formatter<'_>) -> Result {
        let info = ty.parent.type_info(ty.index);
        let r = if NAME.is(attr) {
            // Mainline shows the sysfs name when there is no pretty name.
            let name = if info.pretty_name.is_empty() { info.sysfs_name } else { info.pretty_name };
            writeln!(out, "{}", text(name)?)
        } else if DESCRIPTION.is(attr) {
            writeln!(out, "{}", text(info.description)?)
        } else if DEVICE_API.is(attr) {
            writeln!(out, "{}", text(info.device_api)?)
        } else if AVAILABLE_INSTANCES.is(attr) {
            writeln!(out, "{}", device::available(ty))
        } else {
            // `create` is write-only; sysfs never calls show for it.
            return Err(EIO);
        };
        r.map_err(|_| EOVERFLOW)
    }

    /// Writes an attribute of a type directory: only `create` is writable.
    ///
    /// `create` takes a UUID of 36 bytes, or 37 with a trailing byte (the
    /// newline of `echo`), as mainline `create_store()`.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad length or UUID; see [`device::create`] for the rest.
    pub(crate) fn store(ty: &TypeObj, attr: *const bindings::attribute, input: &[u8]) -> Result {
        if !CREATE.is(attr) {
            return Err(EIO);
        }
        if input.len() < UUID_STRING_LEN || input.len() > UUID_STRING_LEN + 1 {
            return Err(EINVAL);
        }
        // As `kstrndup()` + `guid_parse()`: a NUL ends the string early.
        let end = input.iter().position(|&b| b == 0).unwrap_or(input.len());
        let uuid = Uuid::parse(&input[..end])?;
        device::create(ty, uuid)
    }
}

/// `remove` (0200) of an mdev: writing a non-zero number (`kstrtoul()`,
/// base 0) removes it; zero does nothing.
struct Remove;

impl vbus::sysfs::Store for Remove {
    const NAME: &'static CStr = c"remove";

    fn store(file: &StoreContext<'_>, input: &[u8]) -> Result {
        let val = parse_ulong(input)?;
        // SAFETY: `remove` is in `device.groups` of the mdevs this crate
        // creates, not in a driver's `dev_groups`.
        if val != 0 && unsafe { file.remove_self() } {
            device::remove(file.device().name())?;
        }
        Ok(())
    }
}

/// `kstrtoul(buf, 0, &val)`: one number in base 0 (decimal, `0x` hex, `0`
/// octal), an optional trailing newline, nothing else.
fn parse_ulong(input: &[u8]) -> Result<u64> {
    let mut buf = [0u8; 32];
    if input.len() >= buf.len() {
        return Err(EINVAL);
    }
    buf[..input.len()].copy_from_slice(input);
    let mut val: u64 = 0;
    // SAFETY: `buf` is NUL-terminated (its tail is zero) and `val` is writable.
    kernel::error::to_result(unsafe { bindings::kstrtoull(buf.as_ptr(), 0, &mut val) })
        .map_err(|_| EINVAL)?;
    Ok(val)
}

static REMOVE: vbus::sysfs::DeviceAttribute = vbus::sysfs::DeviceAttribute::write_only::<Remove>();
vbus::attribute_groups!(pub(crate) static DEVICE_GROUPS = [REMOVE]);
