//! A stand-in for Wasmtime's instruction-cache crate 50.0.x, with
//! [`icache-coherence`](https://docs.rs/icache-coherence) doing the work.
//!
//! The same two functions as 50.0.x, [`clear_cache`] and
//! [`pipeline_flush_mt`], with its return type, Wasmtime's own
//! `wasmtime_internal_core::error::Result` (50.0 replaced 48.x/49.x's
//! [`std::io::Result`]), and the version cranelift-jit 0.137.x pins, so that
//! one `[patch.crates-io]` entry makes an unmodified cranelift-jit 0.137 use
//! icache-coherence (compat/README.md in its repository).
//!
//! Each function is the 48.x/49.x stand-in's (its documentation below),
//! with the [`std::io::Error`] converted into Wasmtime's error, which keeps
//! it as its source (`err.downcast_ref::<std::io::Error>()`).
//!
//! ```
//! # use std::ffi::c_void;
//! use wasmtime_internal_jit_icache_coherence::{clear_cache, pipeline_flush_mt};
//! # fn main() -> wasmtime_core::error::Result<()> {
//! # let code = vec![0u8; 64];
//! # let pages = [(code.as_ptr() as *const c_void, code.len())];
//! // After writing the code (and making it executable):
//! for (addr, len) in pages {
//!     // SAFETY: each range is mapped and readable.
//!     unsafe { clear_cache(addr, len)? };
//! }
//! // Before other threads run it:
//! pipeline_flush_mt()?;
//! # Ok(())
//! # }
//! ```
//!
//! # Differences from Wasmtime's 50.0.x
//!
//! On AArch64 Linux both do the full sequence (`DC CVAU` unless IDC,
//! `IC IVAU` unless DIC, by the line sizes `CTR_EL0` reports) and, on Apple,
//! `sys_icache_invalidate`. The differences that remain: on riscv64 Linux
//! this one asks `riscv_flush_icache` for every thread of the process
//! (flags 0; Wasmtime 50.0.x passes 1, `SYS_RISCV_FLUSH_ICACHE_LOCAL`,
//! which covers the calling thread only); where `PRIVATE_EXPEDITED_SYNC_CORE`
//! is refused, `pipeline_flush_mt` falls back visibly
//! (`icache_coherence::flush_mechanism()`, or an error under
//! `FlushPolicy::Strict`) where 50.0.x falls back silently to
//! `MEMBARRIER_CMD_GLOBAL`; on Android below API 29, whose seccomp policy
//! kills a process that calls `membarrier`, it never makes the call; a
//! range that wraps around the address space is an error.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

use std::ffi::c_void;

/// The 48.x/49.x stand-in, returning [`std::io::Result`].
#[path = "../../wasmtime-48/src/lib.rs"]
mod io;

/// Flushes instructions in the processor pipeline of every thread of the
/// process, so that code made visible by [`clear_cache`] is what they run
/// next: `icache_coherence::pipeline_flush_mt`.
///
/// Required only when threads other than the one that called
/// [`clear_cache`] may run the code, and then it must be called after all
/// calls to [`clear_cache`]. On Linux/Android aarch64 one
/// `membarrier(PRIVATE_EXPEDITED_SYNC_CORE)` (registered on first use), on
/// Windows aarch64 `FlushProcessWriteBuffers`, on x86, x86_64 and s390x
/// nothing (coherent in hardware). Where the platform has no such facility
/// (Apple, for example) it returns `Ok` and each executing thread must run
/// `icache_coherence::pipeline_flush_local` before jumping to the new code.
///
/// # Errors
/// The `membarrier` error (seccomp, a kernel before 4.3) as a
/// [`std::io::Error`] with its error number, inside Wasmtime's error; on
/// targets icache-coherence does not support,
/// [`std::io::ErrorKind::Unsupported`].
#[inline]
pub fn pipeline_flush_mt() -> wasmtime_core::error::Result<()> {
    Ok(io::pipeline_flush_mt()?)
}

/// Makes the `len` bytes of machine code at `ptr` visible to instruction
/// fetch: `icache_coherence::clear_cache`.
///
/// If the architecture keeps its caches coherent (x86, x86_64, s390x), this
/// only checks the range. On AArch64 the data-cache clean and
/// instruction-cache invalidation of every line of the range (broadcast to
/// every core), on riscv64 Linux `riscv_flush_icache` for every thread (with
/// the `one-core` feature: a local `fence.i`), on Apple
/// `sys_icache_invalidate`, on Windows `FlushInstructionCache`.
///
/// Call [`pipeline_flush_mt`] afterwards if another thread may run the code.
///
/// # Errors
/// A range that wraps around the end of the address space is
/// [`std::io::ErrorKind::InvalidInput`], before anything is done; `len == 0`
/// is a no-op. System-call errors (riscv64, Windows) keep their error
/// number. Each is a [`std::io::Error`] inside Wasmtime's error.
///
/// # Safety
/// Every byte of `[ptr, ptr + len)` must be mapped and readable. With a dual
/// mapping, pass the executable alias.
#[inline]
pub unsafe fn clear_cache(ptr: *const c_void, len: usize) -> wasmtime_core::error::Result<()> {
    // SAFETY: the caller guarantees that the range is mapped and readable.
    Ok(unsafe { io::clear_cache(ptr, len) }?)
}

#[cfg(test)]
mod tests_50 {
    use super::*;

    #[test]
    fn exact_signatures_50() {
        // The signatures of Wasmtime's 50.0.x, as cranelift-jit 0.137 calls them.
        let _: unsafe fn(*const c_void, usize) -> wasmtime_core::error::Result<()> = clear_cache;
        let _: fn() -> wasmtime_core::error::Result<()> = pipeline_flush_mt;
    }

    #[test]
    fn flushes_a_buffer_50() {
        let code = vec![0xc3u8; 4096];
        // SAFETY: a live, readable buffer.
        unsafe { clear_cache(code.as_ptr().cast(), code.len()) }.expect("clear_cache");
        pipeline_flush_mt().expect("pipeline_flush_mt");
    }

    #[test]
    fn wrapping_range_keeps_the_io_error() {
        // SAFETY: rejected before any memory is touched.
        let err = unsafe { clear_cache(usize::MAX as *const c_void, 2) }.unwrap_err();
        let io = err
            .downcast_ref::<std::io::Error>()
            .expect("an io::Error inside");
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    }
}
