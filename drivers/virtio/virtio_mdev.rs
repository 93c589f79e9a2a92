// SPDX-License-Identifier: GPL-2.0

//! `virtio_mdev.ko`: the virtio class driver of mediated devices.
//!
//! It binds the mdevs of class VIRTIO (`MODALIAS=mdev:c02`, so udev loads
//! it when one is created) and registers each as a virtio device, child of
//! the mdev, whose bus name is the mdev's UUID: the kernel's virtio_net or
//! virtio_blk then drives the parent's device model through the transport
//! of the `virtio` crate (`rust/virtio/`). Unbinding (the mdev's `remove`,
//! a parent unload, `rmmod`, a sysfs `unbind`) unregisters the virtio
//! device first, so the driver is gone before the device stops.
//!
//! The 2019 virtio-mdev series' `drivers/virtio/virtio_mdev.c`; mainline's
//! descendant is [`drivers/virtio/virtio_vdpa.c`](srctree/drivers/virtio/virtio_vdpa.c).

use kernel::{
    device::Core,
    driver,
    prelude::*, //
};
use mdev::{
    Class,
    Device, //
};
use vdev::DeviceHandle;

/// The class driver.
struct VirtioMdev;

impl mdev::Driver for VirtioMdev {
    type IdInfo = ();
    type Data<'bound> = virtio::Registration<'bound>;

    const ID_TABLE: mdev::IdTable<()> = &[(Class::Virtio.device_id(), ())];

    fn probe<'bound>(
        dev: &'bound Device<Core<'_>>,
        _id_info: Option<&'bound ()>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let uuid = dev.uuid()?;
        let ops = dev.class_data::<DeviceHandle>()?.bind();
        virtio::Registration::new(dev.as_ref(), ops, uuid.to_cstring().as_cstr())
    }
}

/// The module: the driver, then the wait for the virtio devices' releases
/// (fields drop in order).
#[pin_data]
struct VirtioMdevModule {
    #[pin]
    _driver: driver::Registration<vbus::driver::Adapter<mdev::driver::Adapter<VirtioMdev>>>,
    _released: virtio::WaitReleased,
}

impl kernel::InPlaceModule for VirtioMdevModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _driver <- driver::Registration::new(<Self as kernel::ModuleMetadata>::NAME, module),
            _released: virtio::WaitReleased,
        })
    }
}

module! {
    type: VirtioMdevModule,
    name: "virtio_mdev",
    authors: ["rmdev developers"],
    description: "rmdev virtio class driver: mediated devices on the virtio bus",
    license: "GPL",
    alias: ["mdev:c02"],
}
