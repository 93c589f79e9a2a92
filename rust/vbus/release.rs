// SPDX-License-Identifier: GPL-2.0

//! Releases a module still owes: the driver core and the kobject core may
//! run a device's or a kobject's release after its owner dropped the last
//! reference it held (`CONFIG_DEBUG_KOBJECT_RELEASE` delays every release by
//! 1 to 4 seconds), and that release is the module's code, so the module
//! may not go before it ran.
//!
//! A module counts the objects whose release is its code in a [`Pending`],
//! and waits for them in its exit.

use core::sync::atomic::{
    AtomicUsize,
    Ordering, //
};
use kernel::{
    prelude::*,
    time::{
        delay::fsleep,
        Delta, //
    },
};

/// A count of objects whose release is still to run.
pub struct Pending(AtomicUsize);

impl Pending {
    /// No object yet.
    pub const fn new() -> Self {
        Self(AtomicUsize::new(0))
    }

    /// One more object whose release is ours: call before the object can
    /// be released (before its `*_initialize()`).
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// An object's release ran: the last thing that release does.
    pub fn done(&self) {
        self.0.fetch_sub(1, Ordering::Release);
    }

    /// Waits until every counted release ran (the module's exit). A release
    /// that does not come within 10 s means a leaked reference: that is
    /// said once, and the wait goes on (freeing the code would be worse).
    pub fn wait(&self) {
        let mut waited = 0u32;
        while self.0.load(Ordering::Acquire) != 0 {
            fsleep(Delta::from_millis(20));
            waited += 1;
            if waited == 500 {
                pr_warn!("still waiting for the release of references leaked to us\n");
            }
        }
    }
}

impl Default for Pending {
    fn default() -> Self {
        Self::new()
    }
}
