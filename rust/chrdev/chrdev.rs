// SPDX-License-Identifier: GPL-2.0

//! Character devices with a parent, a name of their own and open files
//! that their driver can revoke.
//!
//! The kernel crate has [`kernel::miscdevice`] only: a static name, no
//! parent, a misc major (which DPDK takes for vhost-kernel, not vhost-vdpa).
//! This crate is the `alloc_chrdev_region()` + `cdev_device_add()` pattern
//! of [`drivers/vhost/vdpa.c`](srctree/drivers/vhost/vdpa.c)
//! (`vhost_vdpa_probe()`, `vhost_vdpa_init()`), shaped like
//! `miscdevice.rs`:
//!
//! - [`Region`]: a range of device numbers under a name (`/proc/devices`),
//!   with its minors handed out to devices.
//! - [`Registration`]: one `struct device` + `struct cdev`, a child of a
//!   parent device, named by its driver (`/dev/<name>` through devtmpfs).
//! - [`Opener`] and [`FileHandler`]: what a driver does on `open()`, and
//!   what an open file does on `ioctl()` and `write()`.
//!
//! # Revocation
//!
//! Dropping a [`Registration`] does not wait for its files to be closed
//! (mainline's vhost_vdpa does: `vhost_vdpa_remove()` blocks until the
//! last `close()`). It stops new opens, then takes every open file's
//! [`FileHandler`] away and drops it, in the dropping thread; from then on
//! the file answers `ENODEV` to everything but `close()`, which only frees.
//!
//! Every call into a handler, and its drop, runs under the file's mutex,
//! and every call into the [`Opener`] under the device's: taking the
//! mutex is the barrier after which no code of the driver runs for that
//! file. So the drop waits for the calls under way (an `ioctl()` copying
//! from or to userspace included: a user who stalls that copy, with
//! userfaultfd for one, stalls the removal with it), never for `close()`.
//!
//! # Leaks
//!
//! The opener's borrow (`'a`) is checked by the drop, which must run
//! before `'a` ends: keep a [`Registration`] in a driver's per-device data,
//! which the driver core always drops at unbind. Leaking one (a
//! `mem::forget`, a reference cycle) would leave the device's files able to
//! call a dead opener; the type cannot rule that out by itself. The file operations are this crate's, and `owner` is the module
//! this crate is linked into (`rmdev_vdev.ko`), not the driver's: an open
//! file does not hold the driver's module, so the driver can be unloaded
//! (which unbinds, so revokes) while userspace keeps its file descriptor.

use core::{
    marker::PhantomData,
    mem::ManuallyDrop,
    ptr::NonNull,
    sync::atomic::{
        AtomicBool,
        Ordering, //
    }, //
};
use kernel::{
    bindings,
    device::{
        self,
        Bound, //
    },
    fs::{
        File,
        LocalFile, //
    },
    id_pool::IdPool,
    iov::IovIterSource,
    new_mutex,
    prelude::*,
    str::CString,
    sync::{
        Arc,
        Mutex, //
    },
    types::{
        ForeignOwnable,
        Opaque, //
    },
};
use vbus::release::Pending;

/// Number of minors in a [`Region`] at most (as `VHOST_VDPA_DEV_MAX`).
pub const MAX_MINORS: u32 = 1 << bindings::MINORBITS;

/// What an open file of a [`Registration`] does. One per open file; its
/// methods are called one at a time (under the file's mutex), so they take
/// `&mut self`. Dropping it is the file's `close()`, or its revocation when
/// the registration goes first.
pub trait FileHandler: Send {
    /// `ioctl(fd, cmd, arg)`: `arg` is the raw argument (a user pointer for
    /// most commands).
    ///
    /// # Errors
    ///
    /// The handler's errno, returned to userspace as is. (`ENOTTY` for an
    /// unknown command, as `-ENOIOCTLCMD` becomes in the VFS.)
    fn ioctl(&mut self, file: &File, cmd: u32, arg: usize) -> Result<isize>;

    /// `write(fd, ...)`: returns the bytes taken.
    ///
    /// # Errors
    ///
    /// The handler's errno. Without an override, `EINVAL` (as a file
    /// without a `write_iter`).
    fn write(&mut self, _file: &LocalFile, _data: &mut IovIterSource<'_>) -> Result<usize> {
        Err(EINVAL)
    }
}

/// What `open()` of a [`Registration`]'s device does: called under the
/// device's mutex, so opens are serialised with each other and with the
/// revocation.
pub trait Opener: Send + Sync {
    /// Opens the device for `file`.
    ///
    /// # Errors
    ///
    /// The errno `open()` returns (the file is not opened).
    fn open<'a>(&'a self, file: &File) -> Result<KBox<dyn FileHandler + 'a>>;
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init()` before any other use: `Region::new`
    // and `Registration::new` check `READY` first.
    unsafe(uninit) static REGIONS: Mutex<KVec<Arc<RegionInner>>> = KVec::new();
}

/// Whether `REGIONS` is initialised.
static READY: AtomicBool = AtomicBool::new(false);

/// Initialises the crate: the module it is linked into calls it first in
/// its init (later calls do nothing).
pub fn init() {
    if !READY.swap(true, Ordering::AcqRel) {
        // SAFETY: Once (above), before any other use (`READY` is checked).
        unsafe { REGIONS.init() };
    }
}

/// The registered regions, locked.
fn regions() -> Result<kernel::sync::GlobalGuard<REGIONS>> {
    if !READY.load(Ordering::Acquire) {
        return Err(ENODEV);
    }
    Ok(REGIONS.lock())
}

/// A range of char device numbers registered under a name (a line of
/// `/proc/devices`), whose minors go to the [`Registration`]s that name
/// it. A module keeps it from its init to its exit; dropping it gives the
/// range back once the last of its devices is gone.
pub struct Region(Arc<RegionInner>);

#[pin_data]
struct RegionInner {
    /// Given back first: fields drop in order, and the registration
    /// points to `name` until then.
    numbers: Numbers,
    /// Ours, not the caller's: `/proc/devices` reads it for as long as
    /// the numbers are registered, which may outlive the caller's module.
    name: CString,
    #[pin]
    minors: Mutex<IdPool>,
}

/// Registered device numbers, given back when dropped.
struct Numbers {
    /// The first device number (`MKDEV(major, 0)`).
    base: bindings::dev_t,
    count: u32,
}

impl Drop for Numbers {
    fn drop(&mut self) {
        // SAFETY: Registered by `Region::new`; no device uses them any more
        // (each holds the region).
        unsafe { bindings::unregister_chrdev_region(self.base, self.count) }
    }
}

impl Region {
    /// Registers `count` device numbers (at most [`MAX_MINORS`]) with a
    /// dynamic major under `name`, as `alloc_chrdev_region()`.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a `count` of 0 or above [`MAX_MINORS`]; `EEXIST` when
    /// this crate has a region of that name; `ENODEV` before [`init`];
    /// `ENOMEM`; the errno of `alloc_chrdev_region()` (`EBUSY` when no
    /// major is free).
    pub fn new(name: &CStr, count: u32) -> Result<Self> {
        if count == 0 || count > MAX_MINORS {
            return Err(EINVAL);
        }
        let mut all = regions()?;
        if all.iter().any(|r| *r.name == *name) {
            return Err(EEXIST);
        }
        all.reserve(1, GFP_KERNEL)?;
        let minors = IdPool::with_capacity(count as usize, GFP_KERNEL)?;
        let mut base: bindings::dev_t = 0;
        let name = CString::try_from(name)?;
        // SAFETY: `base` is writable; `name` is kept in the region, which
        // gives the numbers back before it frees `name` (field order).
        kernel::error::to_result(unsafe {
            bindings::alloc_chrdev_region(&mut base, 0, count, name.as_char_ptr())
        })?;
        // Given back on error from here on.
        let numbers = Numbers { base, count };
        let inner = Arc::pin_init(
            pin_init!(RegionInner {
                name,
                numbers,
                minors <- new_mutex!(minors),
            }),
            GFP_KERNEL,
        )?;
        all.push(inner.clone(), GFP_KERNEL)?;
        Ok(Self(inner))
    }

    /// The major number.
    pub fn major(&self) -> u32 {
        self.0.numbers.base >> bindings::MINORBITS
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        if let Ok(mut all) = regions() {
            all.retain(|r| !Arc::ptr_eq(r, &self.0));
            if all.is_empty() {
                // Frees the buffer: a static is never dropped.
                *all = KVec::new();
            }
        }
    }
}

impl RegionInner {
    /// A free minor, taken.
    fn take_minor(&self) -> Result<u32> {
        let mut pool = self.minors.lock();
        let id = pool.find_unused_id(0).ok_or(ENOSPC)?.acquire();
        if id >= self.numbers.count as usize {
            pool.release_id(id);
            return Err(ENOSPC);
        }
        Ok(id as u32)
    }
}

/// Device-wide state shared by the device and its open files.
#[pin_data]
struct Shared {
    #[pin]
    state: Mutex<State>,
}

struct State {
    /// `None` once the registration is dropped: opens fail with `ENODEV`.
    opener: Option<&'static dyn Opener>,
    /// The open files, for the revocation.
    files: KVec<Arc<Slot>>,
}

impl Shared {
    /// Stops opens and drops every open file's handler: from then on no
    /// code of the opener's driver runs for this device.
    fn revoke(&self) {
        let files = {
            let mut state = self.state.lock();
            state.opener = None;
            core::mem::take(&mut state.files)
        };
        for slot in files {
            // Waits for a call under way; the handler's drop (the driver's
            // close) runs here.
            drop(slot.handler.lock().take());
        }
    }
}

/// An open file: its handler until `close()` or the revocation.
#[pin_data]
struct Slot {
    #[pin]
    handler: Mutex<Option<KBox<dyn FileHandler>>>,
    shared: Arc<Shared>,
}

/// The C container of a device: freed by [`release`].
///
/// # Invariants
///
/// Allocated as a `KBox` by [`Registration::new`] and freed by [`release`]
/// only; `dev` is its first field.
#[repr(C)]
struct RawCdev {
    dev: Opaque<bindings::device>,
    cdev: Opaque<bindings::cdev>,
    shared: Arc<Shared>,
}

/// Devices registered and not yet released.
static DEVICES: Pending = Pending::new();

/// Waits, when dropped, until every device of this crate is released (the
/// release is this module's code): the last field of the module.
pub struct WaitReleased;

impl Drop for WaitReleased {
    fn drop(&mut self) {
        DEVICES.wait();
    }
}

/// `device.release`: frees the [`RawCdev`].
///
/// # Safety
///
/// Called by the driver core only, once, for a device of [`Registration::new`].
unsafe extern "C" fn release(dev: *mut bindings::device) {
    // SAFETY: `dev` is the first field of a `RawCdev` allocated as a `KBox`
    // (type invariant); this is its last reference.
    drop(unsafe { KBox::from_raw(dev.cast::<RawCdev>()) });
    DEVICES.done();
}

/// A char device for a driver's device: `/dev/<name>`, a child of `parent`
/// in sysfs. Opening it calls the [`Opener`]; dropping the registration
/// removes the device and revokes its open files (see the crate
/// documentation).
///
/// `'a` is how long the opener (and what it borrows) stays valid: a driver
/// keeps the registration in its per-device data, which the driver core
/// drops before the device is unbound.
///
/// # Invariants
///
/// `raw` is added with `cdev_device_add()`, and the registration holds a
/// reference on its device; `shared.state.opener` points to `opener` until
/// the drop takes it away.
pub struct Registration<'a> {
    raw: NonNull<RawCdev>,
    shared: Arc<Shared>,
    region: Arc<RegionInner>,
    minor: u32,
    opener: ManuallyDrop<KBox<dyn Opener + 'a>>,
    _parent: PhantomData<&'a device::Device<Bound>>,
}

// SAFETY: The registration only calls thread-safe C functions; the opener
// is `Send + Sync`.
unsafe impl Send for Registration<'_> {}
// SAFETY: It has no `&self` methods that touch shared state unlocked.
unsafe impl Sync for Registration<'_> {}

impl<'a> Registration<'a> {
    /// Adds a char device with a minor of the [`Region`] named `region`,
    /// named `<prefix><minor>` (`/dev/<prefix><minor>`), as a child of
    /// `parent`; `opener` is called for each `open()`.
    ///
    /// # Errors
    ///
    /// `ENODEV` when no region has that name; `ENOSPC` when the region has
    /// no free minor; `ENOMEM`; the errno of `cdev_device_add()`. Nothing is
    /// left registered on error.
    pub fn new(
        region: &CStr,
        parent: &'a device::Device<Bound>,
        prefix: &CStr,
        opener: impl Opener + 'a,
    ) -> Result<Self> {
        Self::register(region, parent, prefix, KBox::new(opener, GFP_KERNEL)?)
    }

    /// [`Self::new`], not generic: what it creates that outlives the
    /// driver's module (the device's lock and its lock class, which an open
    /// file keeps) is this crate's, never monomorphised into the driver.
    #[inline(never)]
    fn register(
        region: &CStr,
        parent: &'a device::Device<Bound>,
        prefix: &CStr,
        opener: KBox<dyn Opener + 'a>,
    ) -> Result<Self> {
        let region = regions()?
            .iter()
            .find(|r| *r.name == *region)
            .cloned()
            .ok_or(ENODEV)?;
        let opener_ref: &'static dyn Opener =
            // SAFETY: Only the lifetime is changed. The `'static` reference
            // is kept in `shared` until `drop` takes it away (under the
            // device's mutex), before `opener` is dropped, and `'a`
            // outlives the registration.
            unsafe { core::mem::transmute::<&(dyn Opener + 'a), &'static dyn Opener>(&*opener) };
        let shared = Arc::pin_init(
            pin_init!(Shared {
                state <- new_mutex!(State {
                    opener: Some(opener_ref),
                    files: KVec::new(),
                }),
            }),
            GFP_KERNEL,
        )?;
        let prefix = prefix.to_str()?;
        let minor = region.take_minor()?;
        let name = CString::try_from_fmt(fmt!("{prefix}{minor}"))
            .inspect_err(|_| region.minors.lock().release_id(minor as usize))?;
        let raw = match KBox::new(
            RawCdev {
                dev: Opaque::zeroed(),
                cdev: Opaque::zeroed(),
                shared: shared.clone(),
            },
            GFP_KERNEL,
        ) {
            Ok(raw) => KBox::into_raw(raw),
            Err(e) => {
                region.minors.lock().release_id(minor as usize);
                return Err(e.into());
            }
        };
        DEVICES.add();
        // SAFETY: `raw` is a valid, zeroed allocation not yet shared:
        // initialised as `vhost_vdpa_probe()` does, after which the device
        // is released through `put_device()` only. `FILE_OPS` is static;
        // `parent` is bound for `'a`.
        let err = unsafe {
            let dev = Opaque::cast_into(&raw const (*raw).dev);
            let cdev = Opaque::cast_into(&raw const (*raw).cdev);
            bindings::device_initialize(dev);
            (*dev).parent = vbus::device::raw_of(parent);
            (*dev).release = Some(release);
            (*dev).devt = region.numbers.base + minor;
            bindings::cdev_init(cdev, &FILE_OPS.0);
            (*cdev).owner = this_module();
            let mut err = bindings::dev_set_name(dev, c"%s".as_char_ptr(), name.as_char_ptr());
            if err == 0 {
                err = bindings::cdev_device_add(cdev, dev);
            }
            err
        };
        if err != 0 {
            // `cdev_device_add()` makes the cdev reachable before it adds
            // the device: an open may have come in before a failure.
            shared.revoke();
            // SAFETY: Initialised above and not added: the last reference.
            unsafe { bindings::put_device(Opaque::cast_into(&raw const (*raw).dev)) };
            region.minors.lock().release_id(minor as usize);
            return Err(Error::from_errno(err));
        }
        // INVARIANT: Added; `device_initialize()`'s reference is ours.
        Ok(Self {
            // SAFETY: Not null: from `KBox::into_raw`.
            raw: unsafe { NonNull::new_unchecked(raw) },
            shared,
            region,
            minor,
            opener: ManuallyDrop::new(opener),
            _parent: PhantomData,
        })
    }

    /// The device number (`MKDEV(major, minor)`).
    pub fn devt(&self) -> u32 {
        self.region.numbers.base + self.minor
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let raw = self.raw.as_ptr();
        // SAFETY: Added (type invariant): no new open finds the device after
        // this; opens under way finish, and are revoked below.
        unsafe {
            bindings::cdev_device_del(
                Opaque::cast_into(&raw const (*raw).cdev),
                Opaque::cast_into(&raw const (*raw).dev),
            )
        };
        self.shared.revoke();
        // SAFETY: No reference to it is left (above, under the mutex).
        unsafe { ManuallyDrop::drop(&mut self.opener) };
        self.region.minors.lock().release_id(self.minor as usize);
        // SAFETY: Our reference (type invariant); `raw` is not used after.
        unsafe { bindings::put_device(Opaque::cast_into(&raw const (*raw).dev)) };
    }
}

/// The module this crate is linked into (`__this_module` of the `.ko`):
/// the owner of the files.
fn this_module() -> *mut bindings::module {
    (&raw const bindings::__this_module).cast_mut()
}

extern "C" {
    /// `inode->i_cdev` (`chrdev_helpers.c`; `struct inode *` in, `struct
    /// cdev *` out, as opaque pointers).
    fn rmdev_inode_cdev(inode: *mut core::ffi::c_void) -> *mut core::ffi::c_void;
}

/// The `open` file operation.
///
/// # Safety
///
/// Called by the VFS for an inode of a [`RawCdev`]'s cdev (`chrdev_open()`
/// holds the cdev).
unsafe extern "C" fn open(inode: *mut bindings::inode, raw_file: *mut bindings::file) -> i32 {
    // SAFETY: `i_cdev` is the `cdev` of a live `RawCdev` (above).
    let shared = unsafe {
        let cdev = rmdev_inode_cdev(inode.cast()).cast::<bindings::cdev>();
        let raw = kernel::container_of!(Opaque::cast_from(cdev), RawCdev, cdev);
        (*raw).shared.clone()
    };
    // SAFETY: The file is being opened and valid for this call; no
    // `fdget_pos` region is active on it.
    let file = unsafe { File::from_raw_file(raw_file) };
    let result = (|| -> Result<Arc<Slot>> {
        let mut state = shared.state.lock();
        let opener = state.opener.ok_or(ENODEV)?;
        state.files.reserve(1, GFP_KERNEL)?;
        // The handler borrows the opener, which the registration keeps
        // until it has dropped every handler (under this mutex and the
        // file's): see `Registration::new`.
        let handler = opener.open(file)?;
        let device = shared.clone();
        let slot = Arc::pin_init(
            pin_init!(Slot {
                handler <- new_mutex!(Some(handler)),
                shared: device,
            }),
            GFP_KERNEL,
        )?;
        state.files.push(slot.clone(), GFP_KERNEL)?;
        Ok(slot)
    })();
    match result {
        Ok(slot) => {
            // SAFETY: The open call owns the private data.
            unsafe { (*raw_file).private_data = slot.into_foreign() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// The `release` file operation (the last `close()`).
///
/// # Safety
///
/// Called by the VFS once, for a file `open` opened.
unsafe extern "C" fn close(_inode: *mut bindings::inode, file: *mut bindings::file) -> i32 {
    // SAFETY: Set by `open`; the release owns it.
    let slot = unsafe { <Arc<Slot> as ForeignOwnable>::from_foreign((*file).private_data) };
    // The driver's close, under the file's mutex: a revocation waits for it.
    drop(slot.handler.lock().take());
    let mut state = slot.shared.state.lock();
    state.files.retain(|s| !Arc::ptr_eq(s, &slot));
    0
}

/// The `unlocked_ioctl` file operation.
///
/// # Safety
///
/// Called by the VFS for a file `open` opened, before its release.
unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: u32, arg: usize) -> isize {
    // SAFETY: Set by `open`, valid until `close`.
    let slot = unsafe { <Arc<Slot> as ForeignOwnable>::borrow((*file).private_data) };
    // SAFETY: Valid for this call; no `fdget_pos` region is active.
    let f = unsafe { File::from_raw_file(file) };
    let mut handler = slot.handler.lock();
    match handler
        .as_deref_mut()
        .ok_or(ENODEV)
        .and_then(|h| h.ioctl(f, cmd, arg))
    {
        Ok(v) => v,
        Err(e) => e.to_errno() as isize,
    }
}

/// The `write_iter` file operation.
///
/// # Safety
///
/// Called by the VFS for a file `open` opened, with a valid source `iter`.
unsafe extern "C" fn write_iter(
    kiocb: *mut bindings::kiocb,
    iter: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: `ki_filp` is the file being written, opened by `open`.
    let file = unsafe { (*kiocb).ki_filp };
    // SAFETY: Set by `open`, valid until `close`.
    let slot = unsafe { <Arc<Slot> as ForeignOwnable>::borrow((*file).private_data) };
    // SAFETY: Valid for this call. `write()` runs under `fdget_pos()`,
    // which may skip the position lock: a `LocalFile`, not a `File`.
    let f = unsafe { LocalFile::from_raw_file(file) };
    // SAFETY: A valid source iterator for this call.
    let data = unsafe { IovIterSource::from_raw(iter) };
    let mut handler = slot.handler.lock();
    match handler
        .as_deref_mut()
        .ok_or(ENODEV)
        .and_then(|h| h.write(f, data))
    {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// A `file_operations` table in a static.
#[repr(transparent)]
struct FileOps(bindings::file_operations);

// SAFETY: Read-only after initialisation; the pointers in it are to code
// and to the module, shared by design.
unsafe impl Sync for FileOps {}

/// The file operations of every [`Registration`]'s device.
static FILE_OPS: FileOps = FileOps(bindings::file_operations {
    open: Some(open),
    release: Some(close),
    unlocked_ioctl: Some(ioctl),
    #[cfg(CONFIG_COMPAT)]
    compat_ioctl: bindings::compat_ptr_ioctl,
    write_iter: Some(write_iter),
    llseek: Some(bindings::noop_llseek),
    // The module this crate is linked into: see `this_module()`.
    owner: (&raw const bindings::__this_module).cast_mut(),
    ..pin_init::zeroed()
});
