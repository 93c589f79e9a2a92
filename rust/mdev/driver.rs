// SPDX-License-Identifier: GPL-2.0

//! Class drivers: drivers on bus `mdev`, matched by class id.
//!
//! The shape of [`rust/kernel/auxiliary.rs`](srctree/rust/kernel/auxiliary.rs):
//! a [`Device<Ctx>`] in the driver core's device contexts, a [`Driver`]
//! trait with an id table, an [`Adapter`] between the bus and the trait, and
//! [`module_mdev_driver!`](crate::module_mdev_driver). Matching, uevents and
//! the C callbacks are the [`vbus`] library's; this module adds what an mdev
//! is to a class driver: its UUID, its [`Class`] and the class data its
//! parent made for it.

use crate::Uuid;
use core::{
    any::Any,
    marker::PhantomData,
    pin::Pin, //
};
use kernel::{
    device::{
        self,
        Bound,
        Core,
        DeviceContext,
        Normal, //
    },
    prelude::*, //
};

/// The class of an mdev: which class driver binds it (`MODALIAS=mdev:c<XX>`).
///
/// Ids as the 2019 mdev class-id series numbered them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Class {
    /// VFIO (reserved: no class driver here).
    Vfio = 1,
    /// Bound by a transport that registers the device with the kernel's
    /// own device drivers (the role of mainline's vDPA bus drivers).
    Virtio = 2,
    /// Bound by a class driver that hands the device to userspace
    /// (`vhost_mdev`).
    Vhost = 3,
}

impl Class {
    /// The class id, as in `MODALIAS=mdev:c<XX>`.
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// The class of a class id, if it is one.
    pub const fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(Self::Vfio),
            2 => Some(Self::Virtio),
            3 => Some(Self::Vhost),
            _ => None,
        }
    }

    /// An id table entry matching the mdevs of this class.
    pub const fn device_id(self) -> vbus::DeviceId {
        vbus::DeviceId::class(self.id())
    }
}

/// A class driver's id table: each entry ([`Class::device_id`]) with the
/// driver's information for it.
pub type IdTable<I> = vbus::IdTable<I>;

/// A mediated device, as its class driver sees it.
///
/// # Invariants
///
/// The wrapped device is on bus `mdev` ([`crate::MDEV_BUS`]): its name is its
/// UUID, its class id a [`Class`], and its registration data the class data
/// its parent made.
#[repr(transparent)]
pub struct Device<Ctx: DeviceContext = Normal>(vbus::Device<Ctx>);

impl<Ctx: DeviceContext> Device<Ctx> {
    /// Returns the mdev behind a device of bus `mdev`.
    ///
    /// # Safety
    ///
    /// `dev` must be on bus `mdev`.
    pub(crate) unsafe fn from_vbus(dev: &vbus::Device<Ctx>) -> &Self {
        // CAST: `Device` is a transparent wrapper of `vbus::Device`.
        let ptr = core::ptr::from_ref(dev).cast::<Self>();
        // INVARIANT: the caller guarantees `dev` is on bus `mdev`.
        // SAFETY: Same layout; the reference lives as long as `dev`.
        unsafe { &*ptr }
    }

    /// The mdev's UUID (its name).
    ///
    /// # Errors
    ///
    /// `EINVAL` never for mdevs made by the core (it names them by UUID).
    pub fn uuid(&self) -> Result<Uuid> {
        Uuid::parse(self.0.name().to_bytes())
    }

    /// The mdev's class.
    pub fn class(&self) -> Option<Class> {
        self.0.class().and_then(Class::from_id)
    }
}

impl Device<Bound> {
    /// The class data the parent made for this mdev, as a `T`: the type a
    /// class driver and the parents of its class agree on.
    ///
    /// # Errors
    ///
    /// `EINVAL` when the parent made no class data or data of another type
    /// (a parent whose mdevs this class driver cannot drive).
    pub fn class_data<T: Any>(&self) -> Result<&T> {
        self.0.registration_data::<T>().map_err(|_| EINVAL)
    }
}

// SAFETY: `Device` is a transparent wrapper of a type that doesn't depend on
// `Device`'s generic argument.
kernel::impl_device_context_deref!(unsafe { Device });

impl<Ctx: DeviceContext> AsRef<device::Device<Ctx>> for Device<Ctx> {
    fn as_ref(&self) -> &device::Device<Ctx> {
        self.0.as_ref()
    }
}

/// A class driver: binds the mdevs of the classes in its id table.
///
/// Mirrors [`kernel::auxiliary::Driver`]: the data returned by `probe` lives
/// until the mdev is unbound, which happens before the mdev is removed and
/// before its class data is dropped.
pub trait Driver: Send + 'static {
    /// The information the driver keeps per id table entry.
    type IdInfo: 'static;

    /// The driver's per-device private data.
    type Data<'bound>: Send + 'bound;

    /// The classes the driver binds ([`Class::device_id`]).
    const ID_TABLE: IdTable<Self::IdInfo>;

    /// Binds the driver to `dev`.
    ///
    /// `id_info` is the information of the matching id table entry, or
    /// `None` when bound through `driver_override` without one.
    ///
    /// # Errors
    ///
    /// Any errno; the mdev then stays unbound.
    fn probe<'bound>(
        dev: &'bound Device<Core<'_>>,
        id_info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound;

    /// Called before the mdev is unbound (the data is dropped right after).
    fn unbind<'bound>(dev: &'bound Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let _ = (dev, this);
    }
}

/// The adapter between bus `mdev` and a class [`Driver`]: a [`vbus::Driver`]
/// on [`crate::MDEV_BUS`].
pub struct Adapter<T: Driver>(PhantomData<T>);

impl<T: Driver> vbus::Driver for Adapter<T> {
    type IdInfo = T::IdInfo;
    type Data<'bound> = T::Data<'bound>;

    const BUS: &'static vbus::Bus = &crate::MDEV_BUS;
    const ID_TABLE: vbus::IdTable<T::IdInfo> = T::ID_TABLE;

    fn probe<'bound>(
        dev: &'bound vbus::Device<Core<'_>>,
        id_info: Option<&'bound T::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        // SAFETY: The adapter's driver is on bus `mdev` (`BUS`), so are the
        // devices it probes.
        T::probe(unsafe { Device::from_vbus(dev) }, id_info)
    }

    fn unbind<'bound>(dev: &'bound vbus::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        // SAFETY: As in `probe`.
        T::unbind(unsafe { Device::from_vbus(dev) }, this)
    }
}

/// Declares a kernel module that registers a single class [`Driver`].
///
/// The fields are those of [`kernel::prelude::module!`] after `type:`; list
/// the modaliases of the classes under `alias:` (`"mdev:c02"`) so that udev
/// loads the module when such an mdev is created.
#[macro_export]
macro_rules! module_mdev_driver {
    ($($f:tt)*) => {
        ::kernel::module_driver!(
            <T>,
            $crate::__vbus::driver::Adapter<$crate::driver::Adapter<T>>,
            { $($f)* }
        );
    };
}
