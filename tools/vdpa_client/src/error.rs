//! Errors, and the exit code each kind maps to.
//!
//! A test driving this client must tell "the device misbehaved" (exit 1)
//! from "the client could not even set the device up" (exit 2): every failed
//! ioctl, every failed IOTLB message write and every local setup failure is
//! [`Error::Ioctl`] or [`Error::Setup`]; only what the device did wrong on
//! the virtio protocol level is [`Error::Device`].

use std::fmt;
use std::io;

/// Exit code of a run whose device misbehaved (wrong data, timeout, bad
/// used-ring entry, refused features).
pub const EXIT_DEVICE: i32 = 1;
/// Exit code of a run that failed to set up (an ioctl failed, bad arguments,
/// out of memory).
pub const EXIT_SETUP: i32 = 2;

/// What went wrong.
#[derive(Debug)]
pub enum Error {
    /// A vhost/vhost-vdpa ioctl, or a write of an IOTLB message to the
    /// device file, failed; `op` names it (e.g. `VHOST_VDPA_SET_STATUS`).
    Ioctl {
        /// The ioctl or message, with its arguments where they help.
        op: String,
        /// The error the kernel returned.
        err: io::Error,
    },
    /// Local setup failed: arguments, memory, eventfds, epoll.
    Setup(String),
    /// The device broke the protocol or returned wrong data.
    Device(String),
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Ioctl { .. } | Error::Setup(_) => EXIT_SETUP,
            Error::Device(_) => EXIT_DEVICE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Ioctl { op, err } => match err.raw_os_error() {
                Some(code) => {
                    // io::Error's text ends in " (os error N)": say it once.
                    let text = err.to_string();
                    let text = text.split(" (os error").next().unwrap_or(&text);
                    write!(
                        f,
                        "{op} failed: {} (errno {code}: {text})",
                        errno_name(code)
                    )?;
                    if code == EFAULT && op.starts_with("VHOST_IOTLB") {
                        // vhost_chr_write_iter() turns every failure of an
                        // IOTLB message into EFAULT.
                        write!(
                            f,
                            "; vhost turns every failed IOTLB message into EFAULT: likely \
                             RLIMIT_MEMLOCK (pinned pages count against it: ulimit -l) or the \
                             IOTLB entry limit (vhost_vdpa and vdpa_sim max_iotlb_entries, 2048 \
                             by default, one entry per physically contiguous run)"
                        )?;
                    }
                    Ok(())
                }
                None => write!(f, "{op} failed: {err}"),
            },
            Error::Setup(msg) => write!(f, "setup: {msg}"),
            Error::Device(msg) => write!(f, "device: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

const EFAULT: i32 = 14;

/// The symbolic name of an errno value (Linux, x86 and most architectures).
pub fn errno_name(code: i32) -> &'static str {
    match code {
        1 => "EPERM",
        2 => "ENOENT",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        22 => "EINVAL",
        24 => "EMFILE",
        25 => "ENOTTY",
        28 => "ENOSPC",
        34 => "ERANGE",
        38 => "ENOSYS",
        95 => "EOPNOTSUPP",
        110 => "ETIMEDOUT",
        _ => "errno",
    }
}

/// Turns the `vhost` crate's errors into [`Error::Ioctl`] naming the ioctl.
pub trait IoctlContext<T> {
    /// Names the ioctl (or IOTLB message) that produced this result.
    fn ioctl(self, op: impl Into<String>) -> Result<T>;
}

impl<T> IoctlContext<T> for std::result::Result<T, vhost::Error> {
    fn ioctl(self, op: impl Into<String>) -> Result<T> {
        self.map_err(|e| match e {
            vhost::Error::IoctlError(err)
            | vhost::Error::IOError(err)
            | vhost::Error::VhostOpen(err) => Error::Ioctl { op: op.into(), err },
            other => Error::Setup(format!("{}: {other}", op.into())),
        })
    }
}

impl<T> IoctlContext<T> for io::Result<T> {
    fn ioctl(self, op: impl Into<String>) -> Result<T> {
        self.map_err(|err| Error::Ioctl { op: op.into(), err })
    }
}

/// Turns local failures (guest-memory access, eventfd, epoll) into
/// [`Error::Setup`].
pub trait SetupContext<T> {
    /// Says what was being done.
    fn setup(self, what: &str) -> Result<T>;
}

impl<T, E: fmt::Display> SetupContext<T> for std::result::Result<T, E> {
    fn setup(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::Setup(format!("{what}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_errors_name_the_ioctl_and_errno() {
        let e = Error::Ioctl {
            op: "VHOST_SET_OWNER".into(),
            err: io::Error::from_raw_os_error(16),
        };
        assert_eq!(e.exit_code(), EXIT_SETUP);
        assert_eq!(
            e.to_string(),
            "VHOST_SET_OWNER failed: EBUSY (errno 16: Device or resource busy)"
        );
        assert_eq!(Error::Device("x".into()).exit_code(), EXIT_DEVICE);
    }
}
