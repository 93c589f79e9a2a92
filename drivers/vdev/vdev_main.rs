// SPDX-License-Identifier: GPL-2.0

//! `rmdev_vdev.ko`: the virtio device-model library module.
//!
//! Carries the `vhost` crate (IOTLB and vringh wrappers, `rust/vhost/`) and
//! the `vdev` crate (device-ops interface and virtio device core,
//! `rust/vdev/`) for the parents that run device models and the class
//! drivers that drive them, and the `chrdev` crate (char devices whose open
//! files their driver can revoke, `rust/chrdev/`) for the vhost class
//! driver; their KUnit suites run when it loads. Its one
//! piece of state is a benchmark knob,
//! `/sys/kernel/debug/rmdev_vdev/percpu_work` ([`vdev::device::PERCPU_WORK`]):
//! `0` (default) runs devices' work on the unbound system workqueue, `1` on
//! the per-CPU one of the kicking CPU.

use core::sync::atomic::Ordering::Relaxed;
use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    prelude::*,
    uaccess::UserSliceReader, //
};
use vdev::device::PERCPU_WORK;

module! {
    type: VdevLibrary,
    name: "rmdev_vdev",
    authors: ["rmdev developers"],
    description: "rmdev virtio device-model library (device ops, vringh and IOTLB wrappers)",
    license: "GPL",
}

struct VdevLibrary {
    // Dropped first: the file goes before its directory.
    _percpu_work: Pin<KBox<File<()>>>,
    _dir: Dir,
    // Last: the char devices' releases are this module's code.
    _cdevs_released: chrdev::WaitReleased,
}

fn show(_: &(), f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
    writeln!(f, "{}", u8::from(PERCPU_WORK.load(Relaxed)))
}

/// Takes `0` or `1` (and a newline).
///
/// # Errors
///
/// `EINVAL` for anything else.
fn store(_: &(), input: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 2];
    let buf = buf.get_mut(..input.len()).ok_or(EINVAL)?;
    input.read_slice(buf)?;
    let on = match &*buf {
        b"0" | b"0\n" => false,
        b"1" | b"1\n" => true,
        _ => return Err(EINVAL),
    };
    PERCPU_WORK.store(on, Relaxed);
    Ok(())
}

impl kernel::Module for VdevLibrary {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        chrdev::init();
        let dir = Dir::new(c"rmdev_vdev");
        let file = KBox::pin_init(
            dir.read_write_callback_file(c"percpu_work", (), &show, &store),
            GFP_KERNEL,
        )?;
        Ok(Self {
            _percpu_work: file,
            _dir: dir,
            _cdevs_released: chrdev::WaitReleased,
        })
    }
}
