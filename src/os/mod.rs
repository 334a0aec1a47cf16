//! Operating-system backends, one file (or folder) per OS, after
//! `std_detect`'s `detect/os/`. This file holds the crate's one cfg table:
//! exactly one backend is compiled in as `imp`, and each provides the same
//! functions, which the portable API in `lib.rs` delegates to:
//!
//! ```text
//! unsafe fn clear_cache(range: CodeRange) -> Result<(), Error>
//! unsafe fn clear_cache_with(g: &CacheGeometry, range: CodeRange) -> Result<(), Error>   (aarch64)
//! fn pipeline_flush_mt() -> Result<(), Error>
//! fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32)   (and the system calls it made)
//! fn cache_geometry() -> Option<CacheGeometry>
//! ```
//!
//! | backend | targets |
//! |---|---|
//! | `miri` | any target under Miri |
//! | `windows` | Windows (any architecture) |
//! | `apple` | macOS, iOS, tvOS, watchOS, visionOS |
//! | `linux` | Linux and Android |
//! | `bsd` | FreeBSD, NetBSD, OpenBSD |
//! | `none` | bare metal (`target_os = "none"`) and UEFI |
//! | `coherent` | x86, x86_64 and s390x on any other OS |
//! | `unsupported` | everything else: [`Error::Unsupported`](crate::Error::Unsupported) |

cfg_table! {
    if #[cfg(miri)] {
        pub(crate) mod miri;
        pub(crate) use miri as imp;
    } else if #[cfg(windows)] {
        pub(crate) mod windows;
        pub(crate) use windows as imp;
    } else if #[cfg(target_vendor = "apple")] {
        pub(crate) mod apple;
        pub(crate) use apple as imp;
    } else if #[cfg(any(target_os = "linux", target_os = "android"))] {
        pub(crate) mod linux;
        pub(crate) use linux as imp;
    } else if #[cfg(any(target_os = "freebsd", target_os = "netbsd", target_os = "openbsd"))] {
        pub(crate) mod bsd;
        pub(crate) use bsd as imp;
    } else if #[cfg(any(target_os = "none", target_os = "uefi"))] {
        pub(crate) mod none;
        pub(crate) use none as imp;
    } else if #[cfg(any(target_arch = "x86", target_arch = "x86_64", target_arch = "s390x"))] {
        pub(crate) mod coherent;
        pub(crate) use coherent as imp;
    } else {
        pub(crate) mod unsupported;
        pub(crate) use unsupported as imp;
    }
}

// The AArch64 `CTR_EL0` path, shared by every OS that allows it.
#[cfg(all(
    not(miri),
    target_arch = "aarch64",
    not(any(target_vendor = "apple", windows))
))]
pub(crate) mod ctr_el0;

// The membarrier state machine runs on Linux, Android and FreeBSD, and is
// tested on every Linux host whatever its architecture.
#[cfg(all(
    not(miri),
    any(target_os = "linux", target_os = "android", target_os = "freebsd")
))]
pub(crate) mod membarrier;

// The Apple backend's libSystem calls as data: pure, tested on every host.
#[cfg(any(test, all(not(miri), target_vendor = "apple")))]
pub(crate) mod apple_plan;

// System-call arguments and the RISC-V decision: pure, tested on every host.
#[cfg(any(test, all(not(miri), any(target_os = "linux", target_os = "android"))))]
pub(crate) mod syscall_args;

// Decisions from OS versions (Android API level, FreeBSD osreldate): pure,
// and tested on every host.
#[cfg(any(
    test,
    all(not(miri), any(target_os = "android", target_os = "freebsd"))
))]
pub(crate) mod version;

/// The calling thread's `errno`, for the Unix backends that make system
/// calls (not every architecture of these OSes makes one).
#[allow(dead_code)]
#[cfg(all(
    not(miri),
    any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd"
    )
))]
#[inline]
pub(crate) fn errno() -> i32 {
    // SAFETY: each of these libc functions returns a valid pointer to the
    // calling thread's errno, readable for the life of the thread.
    unsafe {
        #[cfg(target_os = "linux")]
        let p = libc::__errno_location();
        #[cfg(any(target_os = "android", target_os = "netbsd", target_os = "openbsd"))]
        let p = libc::__errno();
        #[cfg(target_os = "freebsd")]
        let p = libc::__error();
        *p
    }
}
