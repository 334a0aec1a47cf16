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
    /// Linux/ARM (32-bit) `cacheflush` (`__ARM_NR_cacheflush`, 0x0f0002),
    /// used by [`clear_cache`](crate::clear_cache) on `arm`.
    ArmCacheflush,
    /// OpenBSD `sysarch(RISCV_SYNC_ICACHE)`, used by
    /// [`clear_cache`](crate::clear_cache) on OpenBSD riscv64.
    Sysarch,
    /// Windows `FlushInstructionCache`, used by
    /// [`clear_cache`](crate::clear_cache) on Windows; the error number is
    /// `GetLastError()`.
    FlushInstructionCache,
}

impl Syscall {
    /// The call's name as the man pages spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Syscall::Membarrier => "membarrier",
            Syscall::RiscvFlushIcache => "riscv_flush_icache",
            Syscall::ArmCacheflush => "cacheflush",
            Syscall::Sysarch => "sysarch",
            Syscall::FlushInstructionCache => "FlushInstructionCache",
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
/// `std::io::Result`) that carries this `Error` inside: its message names
/// the call and the cause, and [`Error::from_io`] gives it back, with its
/// error number ([`Error::raw_os_error`]). See the `From` impl below.
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
    /// The operation is not available here.
    ///
    /// - `syscall: Some(_)`, `errno != 0`: the kernel refused the call as
    ///   unimplemented (`EINVAL` or `ENOSYS`): for `membarrier`, a kernel
    ///   before 4.3, or one built or sandboxed without the commands needed.
    /// - `syscall: Some(Membarrier)`, `errno == 0`: every call succeeded but
    ///   the kernel's `MEMBARRIER_CMD_QUERY` lists no command this crate can
    ///   use (no error number was returned, and none is invented).
    /// - `syscall: None`: the platform offers no facility at all, e.g.
    ///   [`pipeline_flush_mt`](crate::pipeline_flush_mt) on bare metal,
    ///   where no operating system can interrupt the other cores.
    Unsupported {
        /// The call that was refused, if one was made.
        syscall: Option<Syscall>,
        /// The error number the kernel returned; 0 if it returned none.
        errno: i32,
    },
    /// A sandbox forbids the call (`EPERM` or `EACCES`, typically seccomp).
    PermissionDenied {
        /// The call that was refused.
        syscall: Syscall,
        /// The error number the kernel returned.
        errno: i32,
    },
    /// [`init_with`](crate::init_with) asked for a policy, but another one
    /// is already in force for this process: chosen by an earlier
    /// `init_with`, or the default, [`FlushPolicy::BestEffort`](crate::FlushPolicy::BestEffort),
    /// taken by [`init`](crate::init) or the first
    /// [`pipeline_flush_mt`](crate::pipeline_flush_mt) (`fixed_by` says
    /// which). The policy is never changed silently. To avoid it, call
    /// `init_with` once, from the application, before any `init` or flush
    /// (for cranelift-jit: before creating the JIT module); libraries call
    /// `init`, which accepts the policy in force.
    PolicyConflict {
        /// The policy in force, which stays.
        in_force: crate::FlushPolicy,
        /// The policy that was asked for.
        requested: crate::FlushPolicy,
        /// What fixed `in_force`.
        fixed_by: crate::PolicyOrigin,
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
    // Used by the backends that make system calls: not on every Unix target.
    #[cfg(unix)]
    #[allow(dead_code)]
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

    /// No facility on this platform: see [`Error::Unsupported`].
    #[allow(dead_code)] // used by the backends of some targets only
    pub(crate) const NO_FACILITY: Error = Error::Unsupported {
        syscall: None,
        errno: 0,
    };

    /// The OS error number behind this error, if a system call failed
    /// (`errno` on Unix, `GetLastError()` on Windows).
    pub const fn raw_os_error(&self) -> Option<i32> {
        match *self {
            Error::RangeWraps { .. } | Error::PolicyConflict { .. } => None,
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
            } => f.write_str("this platform offers no facility for this operation"),
            Error::Unsupported {
                syscall: Some(s),
                errno: 0,
            } => write!(f, "{} offers no usable command here", s.name()),
            Error::Unsupported {
                syscall: Some(s),
                errno,
            } => write!(f, "{} is not supported here (errno {errno})", s.name()),
            Error::PermissionDenied {
                syscall: Syscall::Membarrier,
                errno,
            } => write!(
                f,
                "membarrier was denied, likely by a seccomp sandbox (errno {errno}); \
                 FlushPolicy::NoSyscalls never calls it"
            ),
            Error::PermissionDenied { syscall, errno } => write!(
                f,
                "{} was denied, likely by a seccomp sandbox (errno {errno})",
                syscall.name()
            ),
            Error::PolicyConflict {
                in_force,
                requested,
                fixed_by,
            } => write!(
                f,
                "init_with({requested}): the flush policy is already {in_force}, fixed by \
                 {fixed_by}; call init_with once, before any init() or pipeline_flush_mt"
            ),
            Error::Os { syscall, errno } => write!(f, "{} failed (errno {errno})", syscall.name()),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<Error> for std::io::Error {
    /// `std::io::Error::new(kind, error)`: the [`Error`] itself is the
    /// inner error, for every variant, so nothing is lost on the way.
    ///
    /// - **Display** is the `Error`'s, naming the call and the cause
    ///   (`membarrier was denied, likely by a seccomp sandbox (errno 1);
    ///   ...`); **Debug**, what `.expect(..)` and `.unwrap()` print, shows
    ///   the variant with its fields: `Custom { kind: PermissionDenied,
    ///   error: PermissionDenied { syscall: Membarrier, errno: 1 } }`.
    /// - **kind**: by variant, the same on every platform:
    ///   [`Error::PermissionDenied`] is
    ///   [`PermissionDenied`](std::io::ErrorKind::PermissionDenied),
    ///   [`Error::Unsupported`] is
    ///   [`Unsupported`](std::io::ErrorKind::Unsupported) (not the
    ///   `InvalidInput` that `EINVAL` maps to: nothing about the input was
    ///   wrong), [`Error::RangeWraps`] and [`Error::PolicyConflict`] are
    ///   [`InvalidInput`](std::io::ErrorKind::InvalidInput); [`Error::Os`]
    ///   has the kind `std` gives its error number on this platform.
    /// - **The error number**: [`std::io::Error::raw_os_error`] is `None`
    ///   for an error built with a payload, so read it from the payload:
    ///   [`Error::from_io`]`(&e).and_then(|e| e.raw_os_error())`.
    ///
    /// (`std::io::Error::from_raw_os_error` would keep `raw_os_error` but
    /// print only `Operation not permitted (os error 1)`: which call failed,
    /// and why it matters, would be lost.)
    fn from(e: Error) -> std::io::Error {
        let kind = match e {
            Error::RangeWraps { .. } | Error::PolicyConflict { .. } => {
                std::io::ErrorKind::InvalidInput
            }
            Error::Unsupported { .. } => std::io::ErrorKind::Unsupported,
            Error::PermissionDenied { .. } => std::io::ErrorKind::PermissionDenied,
            Error::Os { errno, .. } => std::io::Error::from_raw_os_error(errno).kind(),
        };
        std::io::Error::new(kind, e)
    }
}

#[cfg(feature = "std")]
impl Error {
    /// The [`Error`] inside a [`std::io::Error`] made from one (by `?` or
    /// `.into()`), e.g. from Wasmtime's stand-in in `compat/`; `None` for
    /// any other `io::Error`.
    ///
    /// ```
    /// use icache_coherence::{Error, Syscall};
    /// let denied = Error::PermissionDenied { syscall: Syscall::Membarrier, errno: 1 };
    /// let io: std::io::Error = denied.into();
    /// assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
    /// assert_eq!(Error::from_io(&io), Some(denied));
    /// assert_eq!(Error::from_io(&io).and_then(|e| e.raw_os_error()), Some(1));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn from_io(e: &std::io::Error) -> Option<Error> {
        e.get_ref()?.downcast_ref::<Error>().copied()
    }
}
