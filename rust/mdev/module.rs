// SPDX-License-Identifier: GPL-2.0

//! Parent modules: a module that creates its parent devices on bus `vbus`
//! and a driver that registers each as an mdev parent when it binds, the
//! shape of every sample parent (mainline's `mtty` does the same with a
//! platform-like device of its own).
//!
//! A parent module implements [`ParentDriver`] and declares itself with
//! [`module_parent!`](crate::module_parent).

use crate::{
    Parent,
    Registration, //
};
use core::marker::PhantomData;
use kernel::{
    device::Core,
    driver,
    prelude::*,
    InPlaceModule, //
};
use vbus::{
    device::DeviceInfo,
    DeviceId,
    IdTable, //
};

/// What a parent module provides: the name of its devices and driver, how
/// many devices, and the parent of each.
pub trait ParentDriver: Send + Sync + 'static {
    /// Name of the parent devices (`<NAME>.<i>` on bus `vbus`) and of their
    /// driver, hence the prefix of the type directories (`<NAME>-<type>`).
    const NAME: &'static CStr;

    /// How many parent devices the module creates.
    const DEVICES: u32 = 1;

    /// The parent.
    type Parent: Parent;

    /// Makes the parent of `dev` when the driver binds it.
    ///
    /// # Errors
    ///
    /// Any errno: the device stays unbound.
    fn parent(dev: &vbus::Device<Core<'_>>) -> Result<Self::Parent>;
}

/// The vbus driver of a [`ParentDriver`]'s devices: registers each with the
/// mdev core while bound.
pub struct Binder<T>(PhantomData<T>);

impl<T: ParentDriver> vbus::Driver for Binder<T> {
    type IdInfo = ();
    type Data<'bound> = Registration<'bound>;

    const ID_TABLE: IdTable<()> = &[(DeviceId::name(T::NAME), ())];

    fn probe<'bound>(
        dev: &'bound vbus::Device<Core<'_>>,
        _id_info: Option<&'bound ()>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        T::parent(dev).and_then(|parent| Registration::new(dev.as_ref(), parent))
    }
}

/// A parent module's state: its devices and their driver.
#[pin_data]
pub struct ParentModule<T: ParentDriver> {
    // Dropped first: deleting the devices unbinds them, which unregisters
    // the parents (and removes their mdevs) before the driver goes.
    devs: KVec<vbus::device::Registration<'static>>,
    #[pin]
    driver: driver::Registration<vbus::driver::Adapter<Binder<T>>>,
}

impl<T: ParentDriver> InPlaceModule for ParentModule<T> {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            driver <- driver::Registration::new(T::NAME, module),
            devs: {
                let mut devs = KVec::with_capacity(T::DEVICES as usize, GFP_KERNEL)?;
                for id in 0..T::DEVICES {
                    let info = DeviceInfo { name: T::NAME, id: Some(id), class: None, groups: None };
                    devs.push(vbus::device::Registration::new(&vbus::VBUS, None, info, None)?, GFP_KERNEL)?;
                }
                devs
            },
        })
    }
}

/// Declares a parent module: `driver:` a [`ParentDriver`], then the fields
/// of `module!` after its `type:` (`name`, `authors`, `description`,
/// `license`, `params`).
///
/// # Examples
///
/// ```ignore
/// mdev::module_parent! {
///     driver: MvnetDriver,
///     name: "mvnet",
///     authors: ["rmdev developers"],
///     description: "network loopback mdevs",
///     license: "GPL",
/// }
/// ```
#[macro_export]
macro_rules! module_parent {
    (driver: $driver:ty, $($f:tt)*) => {
        #[::kernel::prelude::pin_data]
        struct __MdevParentModule {
            #[pin]
            _inner: $crate::module::ParentModule<$driver>,
        }

        impl ::kernel::InPlaceModule for __MdevParentModule {
            fn init(
                module: &'static ::kernel::ThisModule,
            ) -> impl ::kernel::prelude::PinInit<Self, ::kernel::error::Error> {
                ::kernel::try_pin_init!(Self {
                    _inner <- <$crate::module::ParentModule<$driver> as ::kernel::InPlaceModule>::init(module),
                })
            }
        }

        ::kernel::prelude::module! {
            type: __MdevParentModule,
            $($f)*
        }
    };
}
