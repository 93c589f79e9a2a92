// SPDX-License-Identifier: GPL-2.0

//! Eventfds of a vhost client: signalled by a device ([`EventFd`], the call
//! and config eventfds of `VHOST_SET_VRING_CALL` and
//! `VHOST_VDPA_SET_CONFIG_CALL`) and polled for kicks ([`Poll`], the kick
//! eventfd of `VHOST_SET_VRING_KICK`).
//!
//! C sources: [`fs/eventfd.c`](srctree/fs/eventfd.c) and vhost's
//! `vhost_poll_*()` in [`drivers/vhost/vhost.c`](srctree/drivers/vhost/vhost.c),
//! which [`Poll`] follows without the worker (as vhost-vdpa, whose
//! `use_worker` is false): the wake-up itself calls the kick.

use core::{
    marker::PhantomPinned,
    ptr::{
        self,
        NonNull, //
    },
};
use kernel::{
    bindings,
    error::from_err_ptr,
    fs::File,
    prelude::*,
    sync::aref::ARef,
    types::Opaque, //
};

extern "C" {
    // `vhost_helpers.c`: `vfs_poll()`, a static inline; `file` is a
    // `struct file *` (opaque here: its Rust binding is not FFI-safe).
    fn rmdev_vfs_poll(file: *mut core::ffi::c_void, pt: *mut bindings::poll_table_struct) -> u32;
}

/// `EPOLLIN` and `EPOLLERR` of `include/uapi/linux/eventpoll.h`.
const EPOLLIN: u32 = 0x1;
const EPOLLERR: u32 = 0x8;

/// A reference to an eventfd's context (`struct eventfd_ctx`), to signal it.
///
/// # Invariants
///
/// `ctx` holds a reference of ours (`eventfd_ctx_fdget()`), put on drop.
pub struct EventFd {
    ctx: NonNull<bindings::eventfd_ctx>,
}

// SAFETY: A context reference may be put and signalled from any thread
// (`eventfd_signal_mask()` takes the context's lock).
unsafe impl Send for EventFd {}
// SAFETY: As above: `signal()` through a shared reference is thread-safe.
unsafe impl Sync for EventFd {}

impl EventFd {
    /// The eventfd of the current task's file descriptor `fd`
    /// (`eventfd_ctx_fdget()`).
    ///
    /// # Errors
    ///
    /// `EBADF` when `fd` is not open, `EINVAL` when it is not an eventfd.
    pub fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: Takes a reference, or returns an error pointer.
        let ctx = from_err_ptr(unsafe { bindings::eventfd_ctx_fdget(fd) })?;
        // INVARIANT: The reference of `eventfd_ctx_fdget()`.
        Ok(Self {
            ctx: NonNull::new(ctx).ok_or(EBADF)?,
        })
    }

    /// Adds 1 to the counter and wakes its readers and pollers
    /// (`eventfd_signal()`). Never sleeps; may be called in atomic context,
    /// but not from another eventfd's wake-up (`eventfd_signal_mask()`
    /// warns on that recursion).
    pub fn signal(&self) {
        // SAFETY: A live context (type invariant).
        unsafe { bindings::eventfd_signal_mask(self.ctx.as_ptr(), 0) };
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: Our reference (type invariant), put once.
        unsafe { bindings::eventfd_ctx_put(self.ctx.as_ptr()) };
    }
}

/// What a [`Poll`] calls when its eventfd is written.
pub trait Wake: Send + Sync {
    /// Called from the eventfd's wake-up: in atomic context (the wait queue's
    /// spinlock held, interrupts off), so it must not sleep, and must not
    /// signal an eventfd.
    fn wake(&self);
}

/// An eventfd polled for writes (a kick eventfd): each write to it calls
/// [`Wake::wake`], as `vhost_poll_wakeup()` calls the kick handler.
///
/// Holds a reference to the eventfd's file, so the wait queue outlives the
/// poll (the contract of `vhost_poll_start()`); dropping the poll takes it
/// off the wait queue, after which no wake-up runs or starts.
///
/// # Invariants
///
/// Once initialised, `wait` is on the wait queue `wqh` of `file` (it got
/// there through `table`'s queue function, during `vfs_poll()`), and `wqh`
/// lives as long as `file` is referenced.
#[pin_data(PinnedDrop)]
pub struct Poll<'a> {
    #[pin]
    wait: Opaque<bindings::wait_queue_entry>,
    #[pin]
    table: Opaque<bindings::poll_table_struct>,
    wqh: *mut bindings::wait_queue_head,
    file: ARef<File>,
    waker: KBox<dyn Wake + 'a>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The wait queue pointer is used only to leave it, from whichever
// thread drops the poll; the waker is `Send + Sync`.
unsafe impl Send for Poll<'_> {}
// SAFETY: `&self` gives nothing but the waker, which is `Sync`.
unsafe impl Sync for Poll<'_> {}

impl<'a> Poll<'a> {
    /// Polls the eventfd of the current task's file descriptor `fd`; when
    /// it is already signalled, `waker` is called before this returns (as
    /// `vhost_poll_start()`).
    ///
    /// # Errors
    ///
    /// `EBADF` when `fd` is not open, `EINVAL` when it is not an eventfd or
    /// reports an error.
    pub fn new(fd: i32, waker: KBox<dyn Wake + 'a>) -> impl PinInit<Self, Error> + 'a {
        // SAFETY: On `Ok`, every field is initialised and `wait` is queued
        // (the type invariant); on `Err`, everything written is dropped
        // and nothing is queued.
        unsafe {
            pin_init::pin_init_from_closure(move |slot: *mut Self| {
                // SAFETY: Takes a file reference, or returns an error
                // pointer.
                let file = from_err_ptr(bindings::eventfd_fget(fd))?;
                // SAFETY: `eventfd_fget()` gave us a reference, now owned
                // by the `ARef`.
                let file = ARef::from_raw(NonNull::new_unchecked(file.cast::<File>()));
                let wait = Opaque::cast_into(&raw const (*slot).wait);
                // `init_waitqueue_func_entry()`.
                wait.write(bindings::wait_queue_entry {
                    flags: 0,
                    private: ptr::null_mut(),
                    func: Some(wake_function),
                    entry: bindings::list_head {
                        next: ptr::null_mut(),
                        prev: ptr::null_mut(),
                    },
                });
                let table = Opaque::cast_into(&raw const (*slot).table);
                // `init_poll_funcptr()`.
                table.write(bindings::poll_table_struct {
                    _qproc: Some(queue_proc),
                    _key: !0,
                });
                (&raw mut (*slot).wqh).write(ptr::null_mut());
                (&raw mut (*slot).waker).write(waker);
                let raw_file = file.as_ptr();
                (&raw mut (*slot).file).write(file);
                // Queues `wait` (`queue_proc`) and reads the state.
                let mask = rmdev_vfs_poll(raw_file.cast(), table);
                if mask & EPOLLERR != 0 || (*slot).wqh.is_null() {
                    Self::stop(slot);
                    ptr::drop_in_place(&raw mut (*slot).file);
                    ptr::drop_in_place(&raw mut (*slot).waker);
                    return Err(EINVAL);
                }
                if mask & EPOLLIN != 0 {
                    (*slot).waker.wake();
                }
                Ok(())
            })
        }
    }

    /// Takes `wait` off its wait queue (`vhost_poll_stop()`): a wake-up
    /// running on another CPU holds the queue's lock, so it has returned
    /// once this has.
    ///
    /// # Safety
    ///
    /// `this` points to a poll whose `wait`, `wqh` and `file` are
    /// initialised.
    unsafe fn stop(this: *mut Self) {
        // SAFETY: The caller's guarantee.
        let wqh = unsafe { (*this).wqh };
        if !wqh.is_null() {
            // SAFETY: `wait` is on `wqh`, which lives while `file` is
            // referenced.
            unsafe { bindings::remove_wait_queue(wqh, Opaque::cast_into(&raw const (*this).wait)) };
            // SAFETY: As above.
            unsafe { (*this).wqh = ptr::null_mut() };
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Poll<'_> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Used in place: nothing moves out of the poll.
        let this: &mut Self = unsafe { Pin::into_inner_unchecked(self) };
        // SAFETY: The poll is initialised.
        unsafe { Self::stop(this) };
        // The file reference goes after this (a field), once nothing waits
        // on its queue.
    }
}

/// The queue function of the poll table (`vhost_poll_func()`): called by
/// the eventfd's `poll()` inside `vfs_poll()`, it puts the poll on the
/// eventfd's wait queue.
///
/// # Safety
///
/// `pt` is the `table` of a [`Poll`] being initialised by [`Poll::new`].
unsafe extern "C" fn queue_proc(
    _file: *mut bindings::file,
    wqh: *mut bindings::wait_queue_head,
    pt: *mut bindings::poll_table_struct,
) {
    // SAFETY: `pt` is the `table` field of a `Poll` (the caller's
    // guarantee).
    let poll = unsafe { kernel::container_of!(Opaque::cast_from(pt).cast_mut(), Poll<'_>, table) };
    // SAFETY: The poll is being initialised by `Poll::new()`, which alone
    // uses it now; an eventfd has one wait queue, queued once.
    unsafe {
        (*poll).wqh = wqh;
        bindings::add_wait_queue(wqh, Opaque::cast_into(&raw const (*poll).wait));
    }
}

/// The wake function of the poll's wait queue entry (`vhost_poll_wakeup()`):
/// calls the waker for writes (`EPOLLIN`), and ignores the rest (the
/// `EPOLLHUP` of a release cannot come while the poll holds the file).
///
/// # Safety
///
/// `wait` is the `wait` field of a [`Poll`] on the wait queue; called by
/// the wait queue's wake-up with the queue's lock held. The poll may still
/// be in [`Poll::new`] (a write on another CPU right after `vfs_poll()`
/// queued it): its `waker` is written before that.
unsafe extern "C" fn wake_function(
    wait: *mut bindings::wait_queue_entry,
    _mode: u32,
    _sync: i32,
    key: *mut core::ffi::c_void,
) -> i32 {
    // `key_to_poll()`.
    if (key as usize as u32) & EPOLLIN == 0 {
        return 0;
    }
    // SAFETY: `wait` is the `wait` field of a `Poll` (the caller's
    // guarantee): it is queued, so not yet dropped (`stop()` takes the
    // queue's lock, which the caller holds), and its `waker` is written
    // and never changed. Only that field is borrowed: the poll's owner may
    // hold the rest.
    let waker = unsafe {
        &(*kernel::container_of!(Opaque::cast_from(wait).cast_mut(), Poll<'_>, wait)).waker
    };
    waker.wake();
    0
}
