// SPDX-License-Identifier: GPL-2.0

//! Mediated devices: creation and removal, and the list of all of them.
//!
//! C source followed: `mdev_device_create()`, `mdev_device_remove()` and
//! `mdev_list` in [`drivers/vfio/mdev/mdev_core.c`](srctree/drivers/vfio/mdev/mdev_core.c).

pub use crate::uuid::Uuid;
use crate::{
    kobject::{
        Links,
        TypeObj,
        TypeRef, //
    },
    parent::{
        DeviceState,
        ParentCore, //
    }, //
};
use kernel::{
    prelude::*,
    sync::Arc, //
};
use vbus::device::{
    DeviceInfo,
    Registration as VbusDevice, //
};

kernel::sync::global_lock! {
    // SAFETY: Initialised by `crate::Core::new()`, the first thing the mdev
    // core module does, before any parent can register.
    unsafe(uninit) static MDEVS: Mutex<KVec<Mdev>> = KVec::new();
}

/// Initialises the mdev list.
///
/// # Safety
///
/// Must be called once, before any other use of this module.
pub(crate) unsafe fn init() {
    // SAFETY: Per the safety requirements.
    unsafe { MDEVS.init() };
}

/// Frees the list's memory (a `static` is never dropped).
///
/// # Safety
///
/// Called once, when the core stops, after every parent is gone.
pub(crate) unsafe fn fini() {
    *MDEVS.lock() = KVec::new();
}

/// What exists of a live mdev. Dropped in field order: the links, the
/// device (which unbinds its class driver, then drops the class data), the
/// parent's device model, the type reference.
struct Live {
    _links: Links,
    _dev: VbusDevice<'static>,
    _state: DeviceState,
    _ty: TypeRef,
}

/// An entry of the mdev list: the UUID is taken (and an instance of its type
/// counted) from the start of creation to the end of removal.
struct Mdev {
    uuid: Uuid,
    parent: Arc<ParentCore>,
    type_index: usize,
    /// Fully created and not being removed (mainline `mdev->active`).
    active: bool,
    live: Option<Live>,
}

impl Mdev {
    fn of(&self, parent: &ParentCore, type_index: usize) -> bool {
        core::ptr::eq(&*self.parent, parent) && self.type_index == type_index
    }
}

/// Instances of `ty` that can still be created, given the mdev list: the
/// parent's own count when it keeps one, else its `max_instances` less the
/// mdevs of the type (including those being created or removed).
fn left(list: &KVec<Mdev>, ty: &TypeObj) -> u32 {
    let parent = &*ty.parent;
    parent
        .ops()
        .available_instances(ty.index)
        .unwrap_or_else(|| {
            let used = list.iter().filter(|m| m.of(parent, ty.index)).count();
            parent
                .ops()
                .max_instances(ty.index)
                .saturating_sub(u32::try_from(used).unwrap_or(u32::MAX))
        })
}

/// `available_instances` of a type.
pub(crate) fn available(ty: &TypeObj) -> u32 {
    left(&MDEVS.lock(), ty)
}

/// Drops the list entry of `uuid`.
fn forget(uuid: &Uuid) {
    let mut list = MDEVS.lock();
    if let Some(i) = list.iter().position(|m| m.uuid == *uuid) {
        let _ = list.remove(i);
    }
}

/// Logs why a create was refused, and returns the errno.
fn refuse(ty: &TypeObj, uuid: &Uuid, err: Error, why: &str) -> Error {
    dev_info!(
        ty.parent.device(),
        "mdev: create {} of type {} refused: {} ({})\n",
        uuid,
        ty.parent
            .type_info(ty.index)
            .sysfs_name
            .to_str()
            .unwrap_or("?"),
        why,
        err.to_errno()
    );
    err
}

/// Creates the mdev `uuid` of type `ty` (a write to `create`).
///
/// # Errors
///
/// `EEXIST` when the UUID is in use under any parent, `EUSERS` when the type
/// has no instance left, `ENODEV` when the parent is being unregistered, or
/// the parent's or the driver core's errno.
pub(crate) fn create(ty: &TypeObj, uuid: Uuid) -> Result {
    let parent = &ty.parent;
    {
        let mut list = MDEVS.lock();
        if list.iter().any(|m| m.uuid == uuid) {
            return Err(refuse(ty, &uuid, EEXIST, "UUID in use"));
        }
        if left(&list, ty) == 0 {
            return Err(refuse(ty, &uuid, EUSERS, "no instance left"));
        }
        let entry = Mdev {
            uuid,
            parent: parent.clone(),
            type_index: ty.index,
            active: false,
            live: None,
        };
        list.push(entry, GFP_KERNEL)?;
    }

    let live = (|| {
        let _busy = parent
            .begin()
            .map_err(|e| refuse(ty, &uuid, e, "parent is going away"))?;
        let live = make_live(ty, &uuid)?;
        let mut list = MDEVS.lock();
        let m = list.iter_mut().find(|m| m.uuid == uuid).ok_or(ENODEV)?;
        m.live = Some(live);
        m.active = true;
        Ok(())
    })();
    if live.is_err() {
        forget(&uuid);
    }
    live
}

/// The parent's device model, the device on the mdev bus (carrying the
/// class data), and the links.
///
/// Called between a successful [`ParentCore::begin`] and the end of it.
fn make_live(ty: &TypeObj, uuid: &Uuid) -> Result<Live> {
    let parent = &ty.parent;
    let info = parent.type_info(ty.index);
    let made = parent
        .ops()
        .create(ty.index, uuid)
        .map_err(|e| refuse(ty, uuid, e, "the parent failed to create the device"))?;
    let type_ref = TypeRef::new(ty);
    let name = uuid.to_cstring();
    // SAFETY: The caller is inside `begin()`: the parent is registered, and
    // its unregistration removes this mdev (`remove_all`) before it ends.
    let parent_dev = unsafe { parent.bound_device() };
    let dev = VbusDevice::new(
        &crate::MDEV_BUS,
        Some(parent_dev),
        DeviceInfo {
            name: name.as_cstr(),
            id: None,
            class: Some(info.class.id()),
            groups: Some(&crate::sysfs::DEVICE_GROUPS),
        },
        Some(made.class_data),
    )
    .map_err(|e| refuse(ty, uuid, e, "the device could not be added"))?;
    let links = Links::new(&type_ref, dev.device())
        .map_err(|e| refuse(ty, uuid, e, "the sysfs links could not be made"))?;
    Ok(Live {
        _links: links,
        _dev: dev,
        _state: made.state,
        _ty: type_ref,
    })
}

/// Removes the mdev named `name` (a write of a non-zero number to `remove`).
///
/// # Errors
///
/// `ENODEV` when there is no such mdev or its parent is being unregistered
/// (which removes it), `EAGAIN` while it is being created or removed.
pub(crate) fn remove(name: &CStr) -> Result {
    let uuid = Uuid::parse(name.to_bytes())?;
    let parent = {
        let mut list = MDEVS.lock();
        let m = list.iter_mut().find(|m| m.uuid == uuid).ok_or(ENODEV)?;
        if !m.active {
            return Err(EAGAIN);
        }
        m.active = false;
        m.parent.clone()
    };
    let busy = match parent.begin() {
        Ok(busy) => busy,
        Err(e) => {
            // Unregistration removes it; let it see the entry as it was.
            if let Some(m) = MDEVS.lock().iter_mut().find(|m| m.uuid == uuid) {
                m.active = true;
            }
            return Err(e);
        }
    };
    let live = MDEVS
        .lock()
        .iter_mut()
        .find(|m| m.uuid == uuid)
        .and_then(|m| m.live.take());
    drop(live);
    forget(&uuid);
    drop(busy);
    Ok(())
}

/// Removes every mdev of `parent` (its unregistration, after it stopped
/// new creates and removes), one at a time, each outside the list's lock:
/// deleting a device waits for its class driver's remove, which may take
/// any lock of its own and must not wait on ours.
pub(crate) fn remove_all(parent: &ParentCore) {
    loop {
        let live = {
            let mut list = MDEVS.lock();
            list.iter_mut()
                .filter(|m| core::ptr::eq(&*m.parent, parent))
                .find_map(|m| {
                    m.active = false;
                    m.live.take()
                })
        };
        match live {
            Some(live) => drop(live),
            None => break,
        }
    }
    MDEVS.lock().retain(|m| !core::ptr::eq(&*m.parent, parent));
}
