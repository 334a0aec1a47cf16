//! Linux and Android.

pub(crate) mod membarrier;

#[cfg(target_arch = "aarch64")]
pub(crate) mod aarch64;

#[cfg(target_arch = "riscv64")]
pub(crate) mod riscv64;

/// The calling thread's `errno`.
#[inline]
pub(crate) fn errno() -> i32 {
    // SAFETY: libc returns a valid pointer to the calling thread's errno.
    #[cfg(target_os = "android")]
    unsafe {
        *libc::__errno()
    }
    // SAFETY: as above.
    #[cfg(not(target_os = "android"))]
    unsafe {
        *libc::__errno_location()
    }
}
