// SPDX-License-Identifier: GPL-2.0

//! Parents: devices that offer mdev types, and their registration.
//!
//! C source followed: `mdev_register_parent()` / `mdev_unregister_parent()` in
//! [`drivers/vfio/mdev/mdev_core.c`](srctree/drivers/vfio/mdev/mdev_core.c).

use crate::{
    device::{
        self as mdev_device,
        Uuid, //
    },
    kobject::{
        change_uevent,
        Kset,
        TypeDir, //
    },
    Class, //
};
use core::marker::PhantomData;
use kernel::{
    device::{
        self,
        Bound, //
    },
    new_condvar,
    new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        CondVar,
        Mutex, //
    }, //
};
use vbus::device::RegistrationData;

/// One mdev type a parent offers: `mdev_supported_types/<driver>-<sysfs_name>/`.
pub struct TypeInfo {
    /// Directory name after `<driver>-` (mainline `mdev_type.sysfs_name`).
    pub sysfs_name: &'static CStr,
    /// `name` attribute (mainline `pretty_name`).
    pub pretty_name: &'static CStr,
    /// `description` attribute.
    pub description: &'static CStr,
    /// `device_api` attribute (mdevctl requires it).
    pub device_api: &'static CStr,
    /// Class of the mdevs of this type: selects the class driver that binds
    /// them.
    pub class: Class,
    /// Most live mdevs of this type, counted by the core, unless
    /// [`Parent::max_instances`] or [`Parent::available_instances`] answers
    /// for the type.
    pub max_instances: u32,
}

/// A parent's types, each with the parent's own data for it (as a driver's
/// id table): `mdev_supported_types/` lists them in this order.
pub type TypeTable<D> = &'static [(TypeInfo, D)];

/// A parent driver's side of the mdev core: what it offers and how it makes
/// the device behind an mdev.
pub trait Parent: Send + Sync + 'static {
    /// The parent's data per type (a capacity, a size ...).
    type TypeData: Sync + 'static;

    /// The per-mdev state of the parent (its device model). Dropped when the
    /// mdev is removed, after its class driver is unbound and its class
    /// data dropped.
    type Device: Send + Sync + 'static;

    /// What the class driver binding an mdev gets
    /// ([`crate::Device::class_data`]): a type that the parent and the class
    /// drivers of its types agree on, `()` for none. Dropped right after
    /// the class driver is unbound.
    type ClassData: Send + Sync + 'static;

    /// The types the parent offers.
    const TYPES: TypeTable<Self::TypeData>;

    /// Makes the device behind a new mdev of type `info` (with `data`, both
    /// from [`Self::TYPES`]), and its class data.
    ///
    /// # Errors
    ///
    /// Any errno; it is returned to the writer of `create` and nothing of the
    /// mdev remains.
    fn create(
        &self,
        info: &'static TypeInfo,
        data: &'static Self::TypeData,
        uuid: &Uuid,
    ) -> Result<(Self::Device, Self::ClassData)>;

    /// Most live mdevs of type `info`, counted by the core: by default
    /// [`TypeInfo::max_instances`]; a parent overrides it for a limit chosen
    /// at load time (a module parameter).
    fn max_instances(&self, info: &'static TypeInfo) -> u32 {
        info.max_instances
    }

    /// The number of mdevs of type `info` that can still be created, when
    /// the parent counts them itself (mainline `get_available`); `None` lets
    /// the core count against [`Self::max_instances`].
    fn available_instances(&self, info: &'static TypeInfo) -> Option<u32> {
        let _ = info;
        None
    }
}

/// The type-erased per-mdev state of a parent.
pub(crate) type DeviceState = KBox<dyn core::any::Any + Send + Sync>;

/// What a parent made for a new mdev: its state, and the class data for the
/// class driver.
pub(crate) struct Made {
    pub(crate) state: DeviceState,
    pub(crate) class_data: KBox<RegistrationData>,
}

/// [`Parent`] with its types erased, as the core stores it. Types are named
/// by their index in [`Parent::TYPES`].
pub(crate) trait ParentOps: Send + Sync {
    fn type_info(&self, index: usize) -> &'static TypeInfo;
    fn create(&self, index: usize, uuid: &Uuid) -> Result<Made>;
    fn max_instances(&self, index: usize) -> u32;
    fn available_instances(&self, index: usize) -> Option<u32>;
}

impl<P: Parent> ParentOps for P {
    fn type_info(&self, index: usize) -> &'static TypeInfo {
        &P::TYPES[index].0
    }

    fn create(&self, index: usize, uuid: &Uuid) -> Result<Made> {
        let (info, data) = &P::TYPES[index];
        let (dev, class_data) = Parent::create(self, info, data, uuid)?;
        let state: DeviceState = KBox::new(dev, GFP_KERNEL)?;
        let class_data: KBox<RegistrationData> = KBox::new(class_data, GFP_KERNEL)?;
        Ok(Made { state, class_data })
    }

    fn max_instances(&self, index: usize) -> u32 {
        Parent::max_instances(self, &P::TYPES[index].0)
    }

    fn available_instances(&self, index: usize) -> Option<u32> {
        Parent::available_instances(self, &P::TYPES[index].0)
    }
}

/// What creates and removes of a parent's mdevs are doing, against its
/// unregistration (mainline's `unreg_sem`, as a count and a flag).
struct Activity {
    /// Set once unregistration starts: new creates and removes get `ENODEV`.
    unregistering: bool,
    /// Creates and removes in flight; unregistration waits for zero.
    busy: u32,
}

/// The shared state of a registered parent: referenced by its registration,
/// its type directories and its mdevs. Some of them may drop the last
/// reference after the parent module is gone (a type directory's release is
/// delayed by the kobject core), so it holds nothing of that module once
/// the registration is dropped: the parent's object is taken out then.
#[pin_data]
pub(crate) struct ParentCore {
    dev: ARef<device::Device>,
    /// The parent's object; `None` once unregistered. Its code is the
    /// parent module's; calls into it hold this lock, which comes before
    /// the mdev list's (and is never taken under it).
    #[pin]
    ops: Mutex<Option<KBox<dyn ParentOps>>>,
    #[pin]
    activity: Mutex<Activity>,
    #[pin]
    idle: CondVar,
}

impl ParentCore {
    /// The parent device.
    pub(crate) fn device(&self) -> &device::Device {
        &self.dev
    }

    /// Runs `f` on the parent's object.
    ///
    /// # Errors
    ///
    /// `ENODEV` once the parent is unregistered.
    pub(crate) fn with_ops<R>(&self, f: impl FnOnce(&dyn ParentOps) -> R) -> Result<R> {
        let ops = self.ops.lock();
        Ok(f(&**ops.as_ref().ok_or(ENODEV)?))
    }

    /// The parent device, bound for as long as any mdev of the parent
    /// exists.
    ///
    /// # Safety
    ///
    /// Only for an mdev's device registration while the parent is
    /// registered and not quiesced ([`Self::begin`] succeeded): its
    /// unregistration removes every mdev before the parent is unbound.
    pub(crate) unsafe fn bound_device(&self) -> &'static device::Device<Bound> {
        let dev: *const device::Device = &*self.dev;
        // SAFETY: Per the safety requirements the device is bound for as
        // long as the caller uses the reference; `ARef` keeps it allocated
        // for the lifetime of `self`, which the mdev list holds.
        unsafe { &*dev.cast::<device::Device<Bound>>() }
    }

    /// Starts a create or remove: fails with `ENODEV` once unregistration has
    /// started (mainline's `down_read_trylock(&parent->unreg_sem)`).
    pub(crate) fn begin(self: &Arc<Self>) -> Result<Busy> {
        let mut a = self.activity.lock();
        if a.unregistering {
            return Err(ENODEV);
        }
        a.busy += 1;
        Ok(Busy(self.clone()))
    }

    /// Stops new creates and removes and waits for those in flight.
    fn quiesce(&self) {
        let mut a = self.activity.lock();
        a.unregistering = true;
        while a.busy != 0 {
            self.idle.wait(&mut a);
        }
    }
}

/// A create or remove in flight on a parent; see [`ParentCore::begin`].
pub(crate) struct Busy(Arc<ParentCore>);

impl Drop for Busy {
    fn drop(&mut self) {
        let mut a = self.0.activity.lock();
        a.busy -= 1;
        if a.busy == 0 {
            self.0.idle.notify_all();
        }
    }
}

/// The registration of a parent with the mdev core (RAII): while it lives,
/// `<parent>/mdev_supported_types/` and `/sys/class/mdev_bus/<parent>` exist
/// and users may create mdevs. Dropping it removes every mdev of the parent
/// first, then the types. It borrows the bound parent device (`'bound`): a
/// parent driver keeps it in its driver data, so it cannot outlive the
/// binding.
///
/// # Invariants
///
/// Once `registered`, `core` is registered: its types are in sysfs through
/// `types` and `kset`.
pub struct Registration<'bound> {
    core: Arc<ParentCore>,
    // Drop order: the type directories before their kset.
    types: KVec<TypeDir>,
    kset: Option<Kset>,
    linked: bool,
    /// Fully registered (announced with a uevent), not just being unwound.
    registered: bool,
    _parent: PhantomData<&'bound device::Device<Bound>>,
}

impl<'bound> Registration<'bound> {
    /// Registers `dev` as a parent offering `P::TYPES`, and sends the
    /// `MDEV_STATE=registered` change uevent.
    ///
    /// # Errors
    ///
    /// `ENODEV` when the mdev core is not initialised, `EINVAL` when `P` has
    /// no types, `EEXIST` when `dev` is already a parent, `ENOMEM`.
    pub fn new<P: Parent>(dev: &'bound device::Device<Bound>, parent: P) -> Result<Self> {
        let compat = crate::core_compat()?;
        if P::TYPES.is_empty() {
            return Err(EINVAL);
        }
        let ops: KBox<dyn ParentOps> = KBox::new(parent, GFP_KERNEL)?;
        let core = Arc::pin_init(
            pin_init!(ParentCore {
                dev: ARef::from(&**dev),
                ops <- new_mutex!(Some(ops)),
                activity <- new_mutex!(Activity { unregistering: false, busy: 0 }),
                idle <- new_condvar!(),
            }),
            GFP_KERNEL,
        )?;
        // From here on, a failure unwinds through `Drop`, as an
        // unregistration: a type directory already in sysfs may have taken
        // a create, and it holds `core` (with the parent's object) until
        // its release, which may come late.
        let mut this = Self {
            core,
            types: KVec::with_capacity(P::TYPES.len(), GFP_KERNEL)?,
            kset: None,
            linked: false,
            registered: false,
            _parent: PhantomData,
        };
        let kset = this.kset.insert(Kset::new(c"mdev_supported_types", dev)?);
        for index in 0..P::TYPES.len() {
            let ty = TypeDir::new(kset, this.core.clone(), index)?;
            this.types.push(ty, GFP_KERNEL)?;
        }
        this.linked = match compat.link(dev) {
            Ok(()) => true,
            Err(_) => {
                dev_warn!(dev, "Failed to create compatibility class link\n");
                false
            }
        };
        dev_info!(dev, "MDEV: Registered\n");
        change_uevent(dev, c"MDEV_STATE=registered");
        // INVARIANT: the types are in sysfs.
        this.registered = true;
        Ok(this)
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let dev = self.core.device();
        if self.registered {
            dev_info!(dev, "MDEV: Unregistering\n");
        }
        self.core.quiesce();
        if self.linked {
            if let Ok(compat) = crate::core_compat() {
                compat.unlink(dev);
            }
        }
        mdev_device::remove_all(&self.core);
        // As `parent_remove_sysfs_files()`: the types, then their kset.
        self.types.clear();
        drop(self.kset.take());
        if self.registered {
            change_uevent(dev, c"MDEV_STATE=unregistered");
        }
        // Nothing can call the parent any more (no types in sysfs, no
        // create or remove in flight, no mdev left): drop its object here,
        // in the parent module's own unbind, whoever keeps `core` alive.
        drop(self.core.ops.lock().take());
    }
}
