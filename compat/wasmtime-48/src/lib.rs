//! A stand-in for Wasmtime's instruction-cache crate, with
//! [`icache-coherence`](https://docs.rs/icache-coherence) doing the work.
//!
//! This source builds the stand-ins for every Wasmtime line whose functions
//! return [`std::io::Result`]: `wasmtime-internal-jit-icache-coherence`
//! 48.0.x and 49.0.x (cranelift-jit 0.135.x, 0.136.x) and
//! `wasmtime-jit-icache-coherence` 34.0.x (the name up to cranelift-jit
//! 0.121); the 50.0.x stand-in wraps it in Wasmtime's own `Result`. Each
//! has exactly the public API of the crate it replaces, [`clear_cache`] and
//! [`pipeline_flush_mt`], and the version cranelift-jit pins, so that one
//! `[patch.crates-io]` entry makes an unmodified cranelift-jit use
//! icache-coherence (see compat/README.md in its repository).
//!
//! In self-modifying code such as a JIT, the new code must be made visible
//! to instruction fetch before it runs: x86 and s390x keep their caches
//! coherent, AArch64 and RISC-V do not. Call [`clear_cache`] on every range
//! of newly written code, then, if any other thread may run it,
//! [`pipeline_flush_mt`], in that order:
//!
//! ```
//! # use std::ffi::c_void;
//! use wasmtime_internal_jit_icache_coherence::{clear_cache, pipeline_flush_mt};
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
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
//! # Differences from Wasmtime's crate
//!
//! What each call executes is icache-coherence's (its platform table):
//! on AArch64 Linux, `DC CVAU`/`IC IVAU` by the lines `CTR_EL0` reports
//! (Wasmtime's assumes 64-byte lines and issues no `DC CVAU`), and a
//! registered `membarrier(PRIVATE_EXPEDITED_SYNC_CORE)` with fallbacks; on
//! riscv64 Linux, `riscv_flush_icache` for every thread of the process
//! (flags 0; Wasmtime's 34.0.2, 48.0.x, 49.0.x, 50.0.x and 51.0.0 pass 1,
//! `SYS_RISCV_FLUSH_ICACHE_LOCAL`, which covers the calling thread only).
//! Both functions return [`std::io::Result`] on every platform (Wasmtime's
//! returns its own error type on some non-Linux platforms; `?` and
//! `.expect(..)`, which cranelift-jit uses, work with either). On a target
//! icache-coherence does not support (e.g. Linux on powerpc64), both return
//! an [`std::io::ErrorKind::Unsupported`] error instead of doing nothing;
//! cranelift-jit does not generate code for those targets.
//!
//! # Features
//!
//! - `one-core`, as in Wasmtime's crate: a promise that the program only
//!   ever runs on one core. On riscv64 Linux, [`clear_cache`] is then a
//!   local `fence.i` (icache-coherence's `pipeline_flush_local`) instead of
//!   the `riscv_flush_icache` system call. Nothing else changes. A program
//!   built with it is incorrect on a multi-core machine.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

use std::ffi::c_void;

/// Flushes instructions in the processor pipeline of every thread of the
/// process, so that code made visible by [`clear_cache`] is what they run
/// next.
///
/// Required only when threads other than the one that called
/// [`clear_cache`] may run the code, and then it must be called after all
/// calls to [`clear_cache`]. `icache_coherence::pipeline_flush_mt`:
/// on Linux/Android aarch64 one `membarrier(PRIVATE_EXPEDITED_SYNC_CORE)`
/// (registered on first use), on Windows aarch64 `FlushProcessWriteBuffers`,
/// on x86, x86_64 and s390x nothing (coherent in hardware). Where the
/// platform has no such facility (Apple, for example) it returns `Ok` and
/// each executing thread must run `icache_coherence::pipeline_flush_local`
/// before jumping to the new code.
///
/// # Errors
/// The `membarrier` error (seccomp, a kernel before 4.3), converted into
/// [`std::io::Error`] with icache-coherence's typed error inside: the
/// message that `.expect(..)` prints names the call and the cause
/// (`Failed pipeline flush: Custom { kind: PermissionDenied, error:
/// PermissionDenied { syscall: Membarrier, errno: 1 } }`), and
/// `icache_coherence::Error::from_io(&e)` gives the typed error back, with
/// its error number. On targets icache-coherence does not support,
/// [`std::io::ErrorKind::Unsupported`].
#[inline]
pub fn pipeline_flush_mt() -> std::io::Result<()> {
    icache_coherence::pipeline_flush_mt().map_err(Into::into)
}

/// Makes the `len` bytes of machine code at `ptr` visible to instruction
/// fetch.
///
/// If the architecture keeps its caches coherent (x86, x86_64, s390x), this
/// only checks the range. Otherwise it is `icache_coherence::clear_cache`:
/// on AArch64 the data-cache clean and instruction-cache invalidation of
/// every line of the range (broadcast to every core), on riscv64 Linux
/// `riscv_flush_icache` for every thread (with the `one-core` feature: a
/// local `fence.i`), on Apple `sys_icache_invalidate`, on Windows
/// `FlushInstructionCache`.
///
/// Call [`pipeline_flush_mt`] afterwards if another thread may run the code.
///
/// # Errors
/// A range that wraps around the end of the address space is
/// [`std::io::ErrorKind::InvalidInput`], before anything is done; `len == 0`
/// is a no-op. System-call errors (riscv64, Windows) carry
/// icache-coherence's typed error, with the call and its error number
/// (`icache_coherence::Error::from_io`).
///
/// # Safety
/// Every byte of `[ptr, ptr + len)` must be mapped and readable. With a dual
/// mapping, pass the executable alias.
#[inline]
pub unsafe fn clear_cache(ptr: *const c_void, len: usize) -> std::io::Result<()> {
    #[cfg(all(feature = "one-core", target_arch = "riscv64", target_os = "linux"))]
    return one_core_clear_cache(ptr, len);

    // SAFETY: the caller guarantees that the range is mapped and readable.
    #[cfg(not(all(feature = "one-core", target_arch = "riscv64", target_os = "linux")))]
    return unsafe { icache_coherence::clear_cache(ptr, len) }.map_err(Into::into);
}

/// `one-core` on riscv64 Linux: with a single hart, the local `fence.i` is
/// the whole synchronisation (Wasmtime's `one-core` does the same).
#[cfg(all(feature = "one-core", target_arch = "riscv64", target_os = "linux"))]
fn one_core_clear_cache(ptr: *const c_void, len: usize) -> std::io::Result<()> {
    let (start, len) = (ptr as usize, len);
    if len != 0 && start.checked_add(len - 1).is_none() {
        return Err(icache_coherence::Error::RangeWraps { ptr: start, len }.into());
    }
    icache_coherence::pipeline_flush_local();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_signatures() {
        // The signatures of Wasmtime's crate, as cranelift-jit calls them.
        let _: unsafe fn(*const c_void, usize) -> std::io::Result<()> = clear_cache;
        let _: fn() -> std::io::Result<()> = pipeline_flush_mt;
    }

    #[test]
    fn flushes_a_buffer() {
        let code = vec![0xc3u8; 4096];
        // SAFETY: a live, readable buffer.
        unsafe { clear_cache(code.as_ptr().cast(), code.len()) }.expect("clear_cache");
        // SAFETY: a zero-length range is a no-op at any address.
        unsafe { clear_cache(std::ptr::null(), 0) }.expect("empty range");
        pipeline_flush_mt().expect("pipeline_flush_mt");
    }

    #[test]
    fn wrapping_range_is_invalid_input() {
        // SAFETY: rejected before any memory is touched.
        let err = unsafe { clear_cache(usize::MAX as *const c_void, 2) }.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}
