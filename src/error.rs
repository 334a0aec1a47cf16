//! The crate's one error type.

use core::fmt;

/// The system call an [`Error`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Syscall {
    /// Linux `membarrier(2)`, used by [`pipeline_flush_mt`](crate::pipeline_flush_mt).
    Membarrier,
    /// Linux/RISC-V `riscv_flush_icache(2)` (syscall 259), used by
    /// [`clear_cache`](crate::clear_cache) on riscv64.
    RiscvFlushIcache,
}

impl Syscall {
    /// The call's name as the man pages spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Syscall::Membarrier => "membarrier",
            Syscall::RiscvFlushIcache => "riscv_flush_icache",
        }
    }
}

/// Why [`clear_cache`](crate::clear_cache) or
/// [`pipeline_flush_mt`](crate::pipeline_flush_mt) failed.
///
/// Every variant is returned *before* any cache is left half-maintained in a
/// way the caller could not repeat: retrying after an OS error is always
/// sound. With the default `std` feature, `Error` converts into
/// [`std::io::Error`] (so `?` works in functions returning
/// `std::io::Result`), keeping the OS error number where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// `[ptr, ptr + len)` does not fit in the address space: `ptr + len`
    /// exceeds `usize::MAX + 1`. Rejected before any instruction or system
    /// call is issued. (A range that ends exactly at the top of the address
    /// space, `ptr + len == usize::MAX + 1`, is valid.)
    RangeWraps {
        /// The start address that was passed.
        ptr: usize,
        /// The length that was passed.
        len: usize,
    },
    /// The kernel does not implement the operation (`EINVAL` or `ENOSYS`):
    /// for `membarrier`, a kernel before 4.3, one without any usable
    /// command, or a sandbox such as gVisor; or the platform has no
    /// implementation in this crate at all (`errno` is 0 then).
    Unsupported {
        /// The call that was refused.
        syscall: Option<Syscall>,
        /// The error number the kernel returned (0 if no call was made).
        errno: i32,
    },
    /// A sandbox forbids the call (`EPERM` or `EACCES`, typically seccomp).
    PermissionDenied {
        /// The call that was refused.
        syscall: Syscall,
        /// The error number the kernel returned.
        errno: i32,
    },
    /// Any other error the kernel returned.
    Os {
        /// The call that failed.
        syscall: Syscall,
        /// The error number the kernel returned.
        errno: i32,
    },
}

impl Error {
    /// Classifies an error number returned by `syscall`.
    #[cfg_attr(
        any(miri, not(any(target_os = "linux", target_os = "android"))),
        allow(dead_code)
    )]
    pub(crate) const fn from_errno(syscall: Syscall, errno: i32) -> Error {
        match errno {
            libc::EINVAL | libc::ENOSYS => Error::Unsupported {
                syscall: Some(syscall),
                errno,
            },
            libc::EPERM | libc::EACCES => Error::PermissionDenied { syscall, errno },
            _ => Error::Os { syscall, errno },
        }
    }

    /// The OS error number behind this error, if a system call failed.
    pub const fn raw_os_error(&self) -> Option<i32> {
        match *self {
            Error::RangeWraps { .. } => None,
            Error::Unsupported { errno: 0, .. } => None,
            Error::Unsupported { errno, .. }
            | Error::PermissionDenied { errno, .. }
            | Error::Os { errno, .. } => Some(errno),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::RangeWraps { ptr, len } => write!(
                f,
                "code range {ptr:#x}+{len:#x} wraps around the end of the address space"
            ),
            Error::Unsupported {
                syscall: None,
                errno: _,
            } => f.write_str("instruction-cache maintenance is not implemented on this platform"),
            Error::Unsupported {
                syscall: Some(s),
                errno,
            } => write!(f, "{} is not supported here (errno {errno})", s.name()),
            Error::PermissionDenied { syscall, errno } => write!(
                f,
                "{} was denied, likely by a seccomp sandbox (errno {errno})",
                syscall.name()
            ),
            Error::Os { syscall, errno } => write!(f, "{} failed (errno {errno})", syscall.name()),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    /// OS errors keep their error number ([`std::io::Error::raw_os_error`]);
    /// [`Error::RangeWraps`] becomes [`std::io::ErrorKind::InvalidInput`] and a
    /// platform without an implementation [`std::io::ErrorKind::Unsupported`].
    fn from(e: Error) -> std::io::Error {
        match e {
            Error::RangeWraps { .. } => std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
            Error::Unsupported { errno: 0, .. } => {
                std::io::Error::new(std::io::ErrorKind::Unsupported, e)
            }
            Error::Unsupported { errno, .. }
            | Error::PermissionDenied { errno, .. }
            | Error::Os { errno, .. } => std::io::Error::from_raw_os_error(errno),
        }
    }
}
