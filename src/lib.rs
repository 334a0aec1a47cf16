//! Instruction-cache coherence for JIT compilers.
//!
//! After writing machine code, a JIT must make every core execute the new
//! bytes, not stale ones. Two steps, in this order:
//!
//! 1. [`clear_cache`]`(ptr, len)` after the code is written: on AArch64 it
//!    cleans the data cache and invalidates the instruction cache for the
//!    range (for every core: the maintenance is broadcast), and serialises
//!    the calling core.
//! 2. [`pipeline_flush_mt`]`()` before any *other* thread may run the new
//!    code: their pipelines may already hold stale instructions, which only a
//!    context-synchronising event on that core discards. On Linux this is one
//!    `membarrier` system call.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # let code = [0u8; 64];
//! # let (ptr, len) = (code.as_ptr().cast(), code.len());
//! // ...write code to ptr..ptr+len, make it executable...
//! // SAFETY: ptr..ptr+len is mapped and readable.
//! unsafe { icache_coherence::clear_cache(ptr, len)? };
//! icache_coherence::pipeline_flush_mt()?;
//! // ...now publish the code to other threads...
//! # Ok(())
//! # }
//! ```
//!
//! The API is a drop-in replacement for `wasmtime-jit-icache-coherence`, with
//! a typed [`Error`] that converts into [`std::io::Error`], plus what its
//! users asked for: the probed [`CacheGeometry`], maintenance with a given
//! geometry ([`clear_cache_with`], AArch64), and the [`FlushMechanism`] in
//! force.
//!
//! # Platforms
//!
//! | target | [`clear_cache`] | [`pipeline_flush_mt`] |
//! |---|---|---|
//! | Linux/Android aarch64 | `DC CVAU` per D line (skipped if IDC), `DSB ISH`, `IC IVAU` per I line + `DSB ISH` (skipped if DIC), `ISB`; no syscall | `membarrier(PRIVATE_EXPEDITED_SYNC_CORE)`, registered once; falls back to `PRIVATE_EXPEDITED`, then `GLOBAL` |
//! | Linux riscv64 | `riscv_flush_icache(start, end, 0)` (all threads) | nothing more needed |
//! | x86, x86_64, s390x (any OS) | range check only: fetch is coherent | no-op |
//! | Miri (any target) | range check only | no-op |
//! | anything else | [`Error::Unsupported`] | [`Error::Unsupported`] |
//!
//! # Features
//!
//! - `std` (default): `From<Error> for std::io::Error`. Without it the crate
//!   is `no_std` and allocation-free.

#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[cfg(all(feature = "std", not(test)))]
extern crate std;

use core::ffi::c_void;

mod arch;
mod coalesce;
mod error;
mod geometry;
mod mechanism;
mod os;
mod range;

#[cfg(test)]
mod tests;

/// Crate internals for the benchmarks. **Not part of the API**: no
/// stability promise, may change or disappear in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::coalesce::Coalescer;
}

pub use crate::error::{Error, Syscall};
pub use crate::geometry::{CacheGeometry, L1Ip};
pub use crate::mechanism::FlushMechanism;

use crate::range::CodeRange;

/// Makes the `len` bytes at `ptr`, just written as machine code, visible to
/// instruction fetch on every core.
///
/// What it executes:
/// - **Linux/Android aarch64**, with the [`cache_geometry`] probed once:
///   `DC CVAU` on every data-cache line touching the range (skipped when
///   `CTR_EL0.IDC`), `DSB ISH`, `IC IVAU` on every instruction-cache line
///   (skipped when `CTR_EL0.DIC`) and `DSB ISH`, then `ISB`. Each loop
///   starts at the range's start aligned down to its own line size and
///   touches each line once. No system call.
/// - **Linux riscv64**: `riscv_flush_icache(ptr, ptr + len, 0)`, which makes
///   every thread of the process see the new code.
/// - **x86, x86_64, s390x, Miri**: nothing beyond the range check; these
///   keep instruction fetch coherent in hardware.
/// - **other targets**: [`Error::Unsupported`].
///
/// Other threads may still hold stale instructions in their pipelines: call
/// [`pipeline_flush_mt`] before letting them run the code.
///
/// # Errors
/// - `len == 0`: `Ok(())`, a no-op whatever `ptr` is (null included).
/// - [`Error::RangeWraps`] if `ptr + len` exceeds the address space, checked
///   on every platform before any instruction or system call. A range ending
///   exactly at the top of the address space is valid.
/// - riscv64: the kernel's error, typed ([`Error::Unsupported`],
///   [`Error::PermissionDenied`], [`Error::Os`]).
///
/// # Safety
/// Every byte of `[ptr, ptr + len)` must be mapped and readable (on AArch64,
/// `DC CVAU` needs read permission: flush before making a page
/// execute-only). Otherwise the CPU faults, as with any other access to
/// unmapped memory.
///
/// With a dual mapping (one writable alias, one executable alias of the same
/// memory), pass the executable alias: the data cache is physically
/// addressed, the instruction cache must be invalidated by the address that
/// will be executed.
///
/// # References
/// - Arm ARM, B2.4.4 "Concurrent modification and execution of instructions"
/// - [riscv_flush_icache(2)](https://docs.kernel.org/arch/riscv/cmodx.html)
#[inline]
pub unsafe fn clear_cache(ptr: *const c_void, len: usize) -> Result<(), Error> {
    let Some(range) = CodeRange::new(ptr as usize, len)? else {
        return Ok(());
    };
    // SAFETY: the caller guarantees the range is mapped and readable.
    unsafe { os::imp::clear_cache(range) }
}

/// AArch64 maintenance for a given geometry instead of the probed one:
/// exactly the instruction sequence of [`clear_cache`], with `geometry`'s line
/// sizes and IDC/DIC bits.
///
/// For users who know their hardware (or must be correct on a system whose
/// cores report different geometries to different processes), and for
/// testing the IDC/DIC paths, which no emulator models. Available on every
/// AArch64 target where user space may execute `DC CVAU` and `IC IVAU`
/// (Linux, Android, macOS, the BSDs); not under Miri.
///
/// Using a line size *larger* than the hardware's skips lines: the result is
/// then incoherent. A smaller one only costs time.
///
/// # Errors
/// As [`clear_cache`]: `len == 0` is a no-op, a wrapping range is
/// [`Error::RangeWraps`].
///
/// # Safety
/// As [`clear_cache`], and every line touched (the range rounded out to
/// `geometry`'s line sizes) must be mapped and readable: true whenever the
/// line sizes do not exceed the page size, as on all real hardware.
///
/// **Available on AArch64 only** (shown in documentation built for any target).
#[cfg(any(doc, all(target_arch = "aarch64", not(miri))))]
#[inline]
pub unsafe fn clear_cache_with(
    geometry: &CacheGeometry,
    ptr: *const c_void,
    len: usize,
) -> Result<(), Error> {
    let Some(range) = CodeRange::new(ptr as usize, len)? else {
        return Ok(());
    };
    // SAFETY: the caller guarantees the rounded-out range is mapped and readable.
    #[cfg(all(target_arch = "aarch64", not(miri)))]
    unsafe {
        arch::aarch64::clear_cache(geometry, range)
    };
    // Only documentation builds for other targets reach this: never compiled
    // into a program.
    #[cfg(not(all(target_arch = "aarch64", not(miri))))]
    let _ = (geometry, range);
    Ok(())
}

/// Makes every thread of the process discard instructions it may already
/// have fetched, so that code made coherent by [`clear_cache`] is what they
/// run next.
///
/// - **Linux/Android aarch64**: `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0)`:
///   every running thread of the process executes a core-serialising event
///   before this returns. Registration
///   (`MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE`) happens once
///   per process, on the first call (or on [`flush_mechanism`]), so the
///   first call makes two system calls and every later one exactly one.
///   Kernels without SYNC_CORE get the best fallback, `PRIVATE_EXPEDITED`
///   then `GLOBAL`; see [`FlushMechanism`] for what each guarantees.
/// - **Linux riscv64**: nothing; [`clear_cache`] already reached every thread.
/// - **x86, x86_64, s390x, Miri**: nothing; coherent in hardware.
/// - **other targets**: [`Error::Unsupported`].
///
/// Call it early once (or [`flush_mechanism`]) if the process will have
/// many threads: registering costs more once threads exist.
///
/// # Errors
/// [`Error::Unsupported`] when no membarrier command works (before Linux
/// 4.3, gVisor, `nohz_full` without expedited commands),
/// [`Error::PermissionDenied`] when a sandbox (seccomp) returns `EPERM`.
/// Both are remembered: later calls return them with no system call. A
/// seccomp filter that *kills* the process on `membarrier` (Android before
/// API 29, old container profiles) cannot be detected from user space.
///
/// # References
/// - [membarrier(2)](https://man7.org/linux/man-pages/man2/membarrier.2.html)
#[inline]
pub fn pipeline_flush_mt() -> Result<(), Error> {
    os::imp::pipeline_flush_mt()
}

/// The mechanism [`pipeline_flush_mt`] uses in this process, probing (and on
/// Linux aarch64, registering with `membarrier`) on first use.
///
/// Calling this early, before the process has many threads, is the eager
/// initialisation: every [`pipeline_flush_mt`] afterwards is exactly one
/// system call.
///
/// # Errors
/// The same errors, with the same caching, as [`pipeline_flush_mt`].
pub fn flush_mechanism() -> Result<FlushMechanism, Error> {
    os::imp::flush_mechanism()
}

/// This machine's cache geometry, as [`clear_cache`] uses it.
///
/// `Some` on Linux/Android aarch64, where `CTR_EL0` is read once per process
/// (lock-free; Linux reports the system-wide safe value). `None` where
/// maintenance does not step by cache lines (riscv64, x86, s390x, Miri) or
/// where the register must not be read (macOS).
#[inline]
pub fn cache_geometry() -> Option<CacheGeometry> {
    os::imp::cache_geometry()
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
