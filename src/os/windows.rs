//! Windows (x86, x86_64, aarch64), through `windows-sys`.
//!
//! - `clear_cache` calls `FlushInstructionCache(GetCurrentProcess(), ptr,
//!   len)` on every architecture, as Microsoft's documentation asks of any
//!   program that generates or modifies code (on x86 and x86_64 the kernel
//!   makes it cheap; it still orders the operation as documented).
//! - `pipeline_flush_mt` calls `FlushProcessWriteBuffers()` on aarch64 and
//!   reports [`FlushMechanism::FlushProcessWriteBuffers`]: an IPI to every
//!   processor running the process that flushes write buffers, which is all
//!   Microsoft documents. On x86 and x86_64 it does nothing
//!   ([`FlushMechanism::NotRequired`]), as Wasmtime does.
//! - `cache_geometry` is `CPUID`'s on x86 and x86_64, `None` on aarch64.
//!
//! # References
//! - [FlushInstructionCache](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-flushinstructioncache)
//! - [FlushProcessWriteBuffers](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-flushprocesswritebuffers)

use core::ffi::c_void;

use windows_sys::Win32::Foundation::GetLastError;
use windows_sys::Win32::System::Diagnostics::Debug::FlushInstructionCache;
use windows_sys::Win32::System::Threading::GetCurrentProcess;

use crate::range::CodeRange;
#[allow(unused_imports)] // `CacheGeometry` in `clear_cache_with` on aarch64 only
use crate::{CacheGeometry, Error, FlushMechanism, Syscall};

#[inline]
pub(crate) unsafe fn clear_cache(range: CodeRange) -> Result<(), Error> {
    // SAFETY: `GetCurrentProcess` returns a pseudo-handle that needs no
    // closing; `FlushInstructionCache` reads no memory through the pointer
    // (the caller guarantees the range is mapped in any case).
    let ok = unsafe {
        FlushInstructionCache(
            GetCurrentProcess(),
            range.start() as *const c_void,
            range.len(),
        )
    };
    if ok == 0 {
        // SAFETY: reads the calling thread's last-error value.
        let code = unsafe { GetLastError() };
        return Err(Error::Os {
            syscall: Syscall::FlushInstructionCache,
            errno: code as i32,
        });
    }
    Ok(())
}

#[inline]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    // Strict refuses both: neither is documented as serialising.
    crate::policy::fixed(MECHANISM)?;
    #[cfg(any(target_arch = "aarch64", target_arch = "arm64ec", target_arch = "arm"))]
    // SAFETY: takes no arguments and cannot fail.
    unsafe {
        windows_sys::Win32::System::Threading::FlushProcessWriteBuffers()
    };
    Ok(())
}

/// The mechanism of this architecture.
const MECHANISM: FlushMechanism = if cfg!(any(
    target_arch = "aarch64",
    target_arch = "arm64ec",
    target_arch = "arm"
)) {
    FlushMechanism::FlushProcessWriteBuffers
} else {
    FlushMechanism::NotRequired
};

pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
    (crate::policy::fixed(MECHANISM), 0)
}

/// x86 and x86_64: `CPUID`, an instruction, not an OS call. aarch64:
/// `None` (Windows maintains the caches itself).
#[inline]
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    return crate::arch::cache_geometry();
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    None
}

default_clear_cache_ranges!();
default_clear_cache_dual!();

given_geometry_ignored!();
mechanism_not_probed!();
