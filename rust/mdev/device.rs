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
        Busy,
        DeviceState,
        ParentCore, //
    }, //
};
use core::sync::atomic::{
    AtomicU64,
    Ordering, //
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
    /// This entry among all there ever were (a UUID may come back, under
    /// another parent, while a failed create still has to drop its entry).
    id: u64,
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

/// What a parent says of the instances of one of its types.
enum Limit {
    /// The parent counts them itself: this many are left.
    Available(u32),
    /// The core counts them against this maximum.
    Max(u32),
}

impl Limit {
    /// Asks the parent of `ty`, outside the mdev list's lock (the lock
    /// order puts parents' code before it).
    fn of(ty: &TypeObj) -> Result<Self> {
        ty.parent
            .with_ops(|ops| match ops.available_instances(ty.index) {
                Some(n) => Limit::Available(n),
                None => Limit::Max(ops.max_instances(ty.index)),
            })
    }

    /// Instances of `ty` that can still be created, given the mdev list
    /// (mdevs being created or removed count as used).
    fn left(&self, list: &KVec<Mdev>, ty: &TypeObj) -> u32 {
        match *self {
            Limit::Available(n) => n,
            Limit::Max(max) => {
                let used = list.iter().filter(|m| m.of(&ty.parent, ty.index)).count();
                max.saturating_sub(u32::try_from(used).unwrap_or(u32::MAX))
            }
        }
    }
}

/// `available_instances` of a type.
///
/// # Errors
///
/// `ENODEV` when the parent is gone.
pub(crate) fn available(ty: &TypeObj) -> Result<u32> {
    let limit = Limit::of(ty)?;
    Ok(limit.left(&MDEVS.lock(), ty))
}

/// Drops list entry `id`, if it is still there (a parent's unregistration
/// drops the entries of its failed creates itself). Its mdev is not live.
fn forget(id: u64) {
    let mut list = MDEVS.lock();
    if let Some(i) = list.iter().position(|m| m.id == id) {
        let _ = list.remove(i);
    }
}

/// The next list entry id.
fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Logs why a create was refused (rate-limited: a loop of bad writes must
/// not flood the log), and returns the errno. Never called under the mdev
/// list's lock.
fn refuse(ty: &TypeObj, uuid: &Uuid, err: Error, why: &str) -> Error {
    if crate::ratelimit::refusals() {
        let name = ty.parent.with_ops(|ops| ops.type_info(ty.index).sysfs_name);
        dev_info!(
            ty.parent.device(),
            "mdev: create {} of type {} refused: {} ({})\n",
            uuid,
            name.ok().and_then(|n| n.to_str().ok()).unwrap_or("?"),
            why,
            err.to_errno()
        );
    }
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
    let limit = Limit::of(ty).map_err(|e| refuse(ty, &uuid, e, "parent is going away"))?;
    let id = next_id();
    let taken = {
        let mut list = MDEVS.lock();
        if list.iter().any(|m| m.uuid == uuid) {
            Err((EEXIST, "UUID in use"))
        } else if limit.left(&list, ty) == 0 {
            Err((EUSERS, "no instance left"))
        } else {
            let entry = Mdev {
                id,
                uuid,
                parent: parent.clone(),
                type_index: ty.index,
                active: false,
                live: None,
            };
            list.push(entry, GFP_KERNEL)
                .map_err(|_| (ENOMEM, "out of memory"))
        }
    };
    taken.map_err(|(e, why)| refuse(ty, &uuid, e, why))?;

    let live = (|| {
        let _busy = parent
            .begin()
            .map_err(|e| refuse(ty, &uuid, e, "parent is going away"))?;
        let live = make_live(ty, &uuid)?;
        let mut list = MDEVS.lock();
        let m = list.iter_mut().find(|m| m.id == id).ok_or(ENODEV)?;
        m.live = Some(live);
        m.active = true;
        Ok(())
    })();
    if live.is_err() {
        forget(id);
    }
    live
}

/// The parent's device model, the device on the mdev bus (carrying the
/// class data), and the links.
///
/// Called between a successful [`ParentCore::begin`] and the end of it.
fn make_live(ty: &TypeObj, uuid: &Uuid) -> Result<Live> {
    let parent = &ty.parent;
    let (info, made) = parent
        .with_ops(|ops| Ok((ops.type_info(ty.index), ops.create(ty.index, uuid)?)))
        .and_then(|r| r)
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

/// A removal under way (a write of a non-zero number to `remove`): the mdev
/// is claimed, so no other removal starts, and its parent is busy, so its
/// unregistration waits for [`Removal::finish`].
pub(crate) struct Removal {
    id: u64,
    _busy: Busy,
}

impl Removal {
    /// Claims the mdev named `name` for removal. Nothing is changed when it
    /// fails: the caller can still report the error through the file.
    ///
    /// # Errors
    ///
    /// `ENODEV` when there is no such mdev or its parent is being
    /// unregistered (which removes it), `EAGAIN` while it is being created
    /// or removed.
    pub(crate) fn begin(name: &CStr) -> Result<Self> {
        let uuid = Uuid::parse(name.to_bytes())?;
        let (id, parent) = {
            let mut list = MDEVS.lock();
            let m = list.iter_mut().find(|m| m.uuid == uuid).ok_or(ENODEV)?;
            if !m.active {
                return Err(EAGAIN);
            }
            m.active = false;
            (m.id, m.parent.clone())
        };
        match parent.begin() {
            Ok(busy) => Ok(Self { id, _busy: busy }),
            Err(e) => {
                // Unregistration removes it; let it see the entry as it was.
                if let Some(m) = MDEVS.lock().iter_mut().find(|m| m.id == id) {
                    m.active = true;
                }
                Err(e)
            }
        }
    }

    /// Removes the mdev: its links, its device (unbinding its class driver)
    /// and the parent's device model; then its list entry.
    pub(crate) fn finish(self) {
        let live = MDEVS
            .lock()
            .iter_mut()
            .find(|m| m.id == self.id)
            .and_then(|m| m.live.take());
        drop(live);
        forget(self.id);
    }
}

/// Removes every mdev of `parent` (its unregistration, after it stopped
/// new creates and removes), each outside the list's lock: deleting a device
/// waits for its class driver's remove, which may take any lock of its own
/// and must not wait on ours. One pass over the list, not one per mdev.
pub(crate) fn remove_all(parent: &ParentCore) {
    let of_parent = |m: &Mdev| core::ptr::eq(&*m.parent, parent);
    // Nothing of the parent is created or removed now: the count holds.
    // Without memory for the batch, one mdev per pass.
    let count = MDEVS.lock().iter().filter(|m| of_parent(m)).count();
    let mut batch = KVec::with_capacity(count, GFP_KERNEL).unwrap_or_default();
    loop {
        let mut extra = None;
        {
            let mut list = MDEVS.lock();
            for m in list.iter_mut().filter(|m| of_parent(m)) {
                m.active = false;
                let Some(live) = m.live.take() else {
                    continue;
                };
                if let Err(kernel::alloc::kvec::PushError(live)) = batch.push_within_capacity(live)
                {
                    extra = Some(live);
                    break;
                }
            }
        }
        if batch.is_empty() && extra.is_none() {
            break;
        }
        batch.clear();
        drop(extra);
    }
    MDEVS.lock().retain(|m| !of_parent(m));
}
