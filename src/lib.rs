// The crate's front page (docs.rs) is the README, which CI doctests.
#![doc = include_str!("../README.md")]
//!
//! # API index
//!
//! - [`clear_cache`], then [`pipeline_flush_mt`]: the calls of the crates
//!   this replaces; [`pipeline_flush_local`] for the release/acquire
//!   publication protocol.
//! - [`init`], [`init_with`] with a [`FlushPolicy`], returning a [`Report`];
//!   the getters [`flush_policy`] (with its [`PolicyOrigin`]) and
//!   [`flush_mechanism`] ([`FlushMechanism`]), which change nothing.
//! - [`clear_cache_ranges`], [`clear_cache_dual`]; on AArch64
//!   [`clear_cache_with`] and [`clear_cache_ranges_with`].
//! - [`cache_geometry`] and [`CacheGeometry`].
//! - [`Error`] and [`Syscall`].

#![cfg_attr(not(test), no_std)]
// docs.rs (`--cfg docsrs`, nightly): "Available on ... only" badges.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[cfg(all(feature = "std", not(test)))]
extern crate std;

use core::ffi::c_void;

#[macro_use]
mod macros;

mod arch;
mod coalesce;
mod error;
mod geometry;
mod mechanism;
mod os;
mod plan;
mod policy;
mod race_cell;
mod range;
mod report;

#[cfg(test)]
mod tests;

/// Crate internals for the benchmarks. **Not part of the API**: no
/// stability promise, may change or disappear in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::coalesce::Coalescer;
    /// The AArch64 maintenance plan, recorded instead of executed, for the
    /// fuzz targets and the probe: the same generic code the aarch64
    /// backend runs.
    pub use crate::plan::{plan_batch, plan_dual, Op};

    /// The instruction `pipeline_flush_local` executes on this CPU, for the
    /// probe: `"SERIALIZE"` or `"IRET"` on x86 and x86_64 (outside SGX),
    /// `"ISB"` on AArch64 and 32-bit Arm (the CP15 form on Armv6), `"FENCE.I"` on RISC-V,
    /// `"BCR 15,0"` on s390x, `"compiler fence"` elsewhere and under Miri.
    pub fn local_sync_instruction() -> &'static str {
        crate::arch::local_sync_instruction()
    }

    /// The `IRET`-to-self path of `pipeline_flush_local` on x86, whatever
    /// the CPU has, so the probe can time it on a CPU with `SERIALIZE` too.
    #[cfg(all(
        not(miri),
        any(target_arch = "x86", target_arch = "x86_64"),
        not(target_env = "sgx")
    ))]
    pub fn x86_iret_to_self() {
        crate::arch::x86_iret_to_self()
    }

    /// `membarrier(cmd, 0, 0)`: the crate's one system-call wrapper for it,
    /// for the benchmarks' raw baseline.
    #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
    pub fn membarrier(cmd: i32) -> Result<(), i32> {
        use crate::os::membarrier::Kernel;
        crate::os::membarrier::Os.membarrier(cmd).map(drop)
    }
}

pub use crate::error::{Error, Syscall};
pub use crate::geometry::{
    CacheGeometry, CacheKind, CacheLevel, GeometrySource, L1Ip, MAX_CACHE_LEVELS,
};
pub use crate::mechanism::FlushMechanism;
pub use crate::policy::{FlushPolicy, PolicyOrigin};
pub use crate::report::Report;

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
/// - **FreeBSD, NetBSD, OpenBSD, bare metal aarch64**: as Linux aarch64.
/// - **Linux/Android arm**: `cacheflush(ptr, ptr + len, 0)`.
/// - **Linux/Android riscv64**: `riscv_flush_icache(ptr, ptr + len, 0)`,
///   which makes every thread of the process see the new code; after an
///   eager [`init`] (before the first `clear_cache`) on Linux 6.10+ with
///   `membarrier` SYNC_CORE, a local `FENCE.I` instead (then
///   [`pipeline_flush_mt`] reaches the other threads; [`flush_mechanism`]
///   says which). It fixes no [`FlushPolicy`]. OpenBSD
///   riscv64: `sysarch(RISCV_SYNC_ICACHE)`. Bare metal: `FENCE.I`, this
///   hart only.
/// - **Apple**: `sys_icache_invalidate(ptr, len)` (libSystem).
/// - **Windows**: `FlushInstructionCache(GetCurrentProcess(), ptr, len)`.
/// - **x86, x86_64, s390x on other OSes, Miri**: nothing beyond the range
///   check; these keep instruction fetch coherent in hardware.
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
/// testing the IDC/DIC paths, which no emulator models.
///
/// Per platform (every AArch64 target):
/// - **Linux, Android, FreeBSD, NetBSD, OpenBSD, bare metal**: `DC CVAU` per
///   `geometry.d_line()` (unless IDC), `DSB ISH`, `IC IVAU` per
///   `geometry.i_line()` + `DSB ISH` (unless DIC), `ISB`.
/// - **Apple** and **Windows**: `geometry` is ignored and the call is exactly
///   [`clear_cache`] (`sys_icache_invalidate`, `FlushInstructionCache`):
///   the OS knows its cores' lines and errata.
/// - **Miri**: the range check only.
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
#[cfg(any(doc, target_arch = "aarch64"))]
#[cfg_attr(docsrs, doc(cfg(target_arch = "aarch64")))]
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
    #[cfg(target_arch = "aarch64")]
    return unsafe { os::imp::clear_cache_with(geometry, range) };
    // Only documentation builds for other targets reach this: never compiled
    // into a program.
    #[cfg(not(target_arch = "aarch64"))]
    {
        let _ = (geometry, range);
        Ok(())
    }
}

/// `Ok` means every thread will run the code made coherent by [`clear_cache`]
/// with no action of its own where [`flush_mechanism`] serialises every
/// thread ([`FlushMechanism::serialises_all_threads`]: Linux `membarrier`
/// SYNC_CORE, riscv64's `clear_cache`); everywhere else it means only that
/// the platform's mechanism ran, which may be nothing
/// ([`FlushMechanism::NotRequired`] on x86, x86_64, s390x under the default
/// policy; [`FlushMechanism::LocalSyncRequired`] on Apple, NetBSD, OpenBSD
/// aarch64, and under [`FlushPolicy::NoSyscalls`]), and each executing
/// thread that needs more calls [`pipeline_flush_local`] (required under
/// `LocalSyncRequired`; on x86 the serialisation the Intel SDM formally
/// asks, which [`FlushPolicy::Strict`] gives every thread instead).
///
/// What it executes, after [`clear_cache`], so that other threads discard
/// instructions they may already have fetched:
/// - **Linux/Android aarch64**: `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0)`:
///   every running thread of the process executes a core-serialising event
///   before this returns. Registration
///   (`MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE`) happens once
///   per process, on the first call (or in [`init`]), so the
///   first call makes two system calls and every later one exactly one.
///   Kernels without SYNC_CORE get the best fallback, `PRIVATE_EXPEDITED`
///   then `GLOBAL`; see [`FlushMechanism`] for what each guarantees.
///   On Android below API level 29 (whose app seccomp policy kills a
///   process that calls `membarrier`) and on FreeBSD 14.1+ (the same call,
///   syscall 584), see [`FlushMechanism`].
/// - **riscv64 Linux/Android, OpenBSD**: nothing; [`clear_cache`] already
///   reached every thread (`ByClearCache`), except in the `FENCE.I` mode an
///   eager [`init`] may enable on riscv64 Linux: then `membarrier` SYNC_CORE.
/// - **Windows aarch64**: `FlushProcessWriteBuffers()`.
/// - **Apple, NetBSD, OpenBSD aarch64, FreeBSD before 14.1, Android below
///   API 29**: nothing exists (or may be called); returns `Ok` and the
///   mechanism is [`FlushMechanism::LocalSyncRequired`]: each executing
///   thread must call [`pipeline_flush_local`].
/// - **x86, x86_64, s390x, Miri**: nothing under the default policy
///   (coherent fetch, as every x86 JIT and Wasmtime do); under
///   [`FlushPolicy::Strict`] on Linux, `membarrier` SYNC_CORE, which
///   serialises every thread as the Intel SDM formally asks.
/// - **bare metal aarch64, riscv64**: [`Error::Unsupported`] with
///   `syscall: None`: no OS can interrupt the other cores.
/// - **other targets**: [`Error::Unsupported`].
///
/// The first call fixes the process's [`FlushPolicy`] at the default if
/// nothing chose one ([`init_with`]). Call [`init`] early if the process
/// will have many threads: registering costs more once threads exist.
///
/// **Concurrent callers** (where it calls `membarrier`) share system calls:
/// each returns only after a call that *started after it entered* has
/// completed, so one call can serve several callers that arrived while
/// another was in flight. A caller alone makes its own call, with no
/// locked instruction added. **A caller sleeps about 50 µs at most waiting
/// for another thread** (a 50 µs deadline, which Linux may extend by the
/// thread's timer slack, 50 µs by default): a caller waiting for a shared
/// call that another thread issued (which may be preempted, starved or
/// stopped) then makes its own call, so its worst case is that plus one
/// call of its own (`docs/COALESCER.md`).
///
/// **Not async-signal-safe**: do not call it from a signal handler. A
/// handler that interrupts a thread in the middle of a shared call waits
/// out that deadline for a call only the interrupted code can end; that
/// happens only while calls overlap (under load), so a handler that works
/// in a quiet test can stall under load. The first use of the sharing
/// protocol registers a `pthread_atfork` handler (which allocates). A
/// child forked while another thread of the parent was inside it does not
/// wait for that thread's call.
///
/// Under [`FlushPolicy::BestEffort`] a kernel without SYNC_CORE gets the
/// best fallback, visible in [`flush_mechanism`] and the [`Report`]: for
/// example gVisor, which refuses SYNC_CORE but accepts
/// `REGISTER_PRIVATE_EXPEDITED`, ends on
/// [`FlushMechanism::MembarrierPrivateExpedited`]. Under
/// [`FlushPolicy::Strict`] that is an error instead, and under
/// [`FlushPolicy::NoSyscalls`] no call is made.
///
/// # Errors
/// - [`Error::Unsupported`]: no usable `membarrier` command (before Linux
///   4.3, `nohz_full` without expedited commands, or under `Strict` no
///   SYNC_CORE); or, under `Strict`, a platform whose mechanism does not
///   serialise every thread.
/// - [`Error::PermissionDenied`]: a sandbox (seccomp) returns `EPERM` or
///   `EACCES`.
/// - [`Error::Os`]: any other errno.
///
/// **Remembered for the life of the process** (later calls return the
/// same error with no system call): `Unsupported` and `PermissionDenied`
/// from the first probe. The thread that probes first decides for every
/// thread: seccomp filters are per thread unless installed with
/// `SECCOMP_FILTER_FLAG_TSYNC` (as real sandboxes do), so a filter on that
/// thread alone still makes the answer `PermissionDenied` process-wide
/// (failing closed), and a filter added to some thread *after* a successful
/// probe is not reflected by [`flush_mechanism`]: that thread's flushes then
/// fail, each after one re-registration attempt. **Retried**: any other errno from the probe (the next call
/// probes again), and any error of the barrier itself once probed (an
/// `EPERM` there first gets one re-registration and one retry). A seccomp
/// filter that *kills* the process on `membarrier` cannot be detected from
/// user space: use [`FlushPolicy::NoSyscalls`] there (Android below API 29
/// is handled automatically).
///
/// # References
/// - [membarrier(2)](https://man7.org/linux/man-pages/man2/membarrier.2.html)
#[inline]
pub fn pipeline_flush_mt() -> Result<(), Error> {
    os::imp::pipeline_flush_mt()
}

/// Makes the *calling* thread's instruction stream coherent with code that
/// another thread wrote and made coherent with [`clear_cache`]: no system
/// call, no interrupt of other cores.
///
/// Executes, on this core only:
/// - **AArch64**: `ISB`.
/// - **32-bit Arm**: `ISB SY`.
/// - **RISC-V**: `FENCE.I`.
/// - **x86, x86_64**: `SERIALIZE` where CPUID reports it, else an `IRET`
///   to the next instruction, as Linux's `sync_core()` (the CPUID answer
///   is cached). Both are serialising, the Intel SDM's protocol for
///   cross-modifying code (vol. 3A, 9.1.3); unlike `CPUID`, neither exits
///   to the hypervisor in a virtual machine.
/// - **s390x**: `BCR 15,0`, a serialising operation (Principles of
///   Operation, chapter 5, "Serialization").
/// - **Miri**, x86_64 SGX enclaves (where `CPUID` faults), other
///   architectures: a compiler fence only.
///
/// # The publication protocol
///
/// It replaces [`pipeline_flush_mt`] for threads that run code published
/// through a pointer:
///
/// 1. The writer stores the code, calls [`clear_cache`] on it, then
///    publishes a pointer to it with a `Release` store.
/// 2. Each runner loads the pointer with `Acquire`; once it sees the new
///    pointer it calls `pipeline_flush_local()`, then jumps.
///
/// The acquire load orders the runner after the writer's maintenance; the
/// local synchronisation discards anything this core fetched before. It is
/// the only cross-thread protocol on platforms whose mechanism is
/// [`FlushMechanism::LocalSyncRequired`] (Apple, NetBSD, OpenBSD, old
/// Android), and it costs one instruction instead of an interrupt of every
/// core.
///
/// ```
/// use core::sync::atomic::{AtomicPtr, Ordering};
/// static CODE: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
///
/// // Writer, after writing `len` bytes of code at `p`:
/// # let mut buf = [0xc3u8; 16]; let (p, len) = (buf.as_mut_ptr(), buf.len());
/// // SAFETY: p..p+len is mapped and readable.
/// unsafe { icache_coherence::clear_cache(p.cast(), len)? };
/// CODE.store(p, Ordering::Release);
///
/// // Runner, on any thread:
/// let f = CODE.load(Ordering::Acquire);
/// if !f.is_null() {
///     icache_coherence::pipeline_flush_local();
///     // ... jump to `f` ...
/// }
/// # Ok::<(), icache_coherence::Error>(())
/// ```
#[inline]
pub fn pipeline_flush_local() {
    arch::pipeline_flush_local()
}

/// The mechanism [`pipeline_flush_mt`] uses in this process, if it has
/// been decided: a read, with no system call and no side effect. It fixes
/// no policy and registers nothing (that is [`init`]'s job).
///
/// `Ok(None)` until a policy is in force ([`init`], [`init_with`] or the
/// first [`pipeline_flush_mt`]) and, where the mechanism is probed (Linux
/// `membarrier`, riscv64 Linux, FreeBSD 14.1+), until that probe has run;
/// then `Ok(Some(mechanism))`, or the probe's remembered error.
///
/// ```
/// use icache_coherence::{flush_mechanism, init};
/// // Before init: nothing decided, and asking decides nothing.
/// let before = flush_mechanism()?;
/// let report = init()?;
/// assert_eq!(flush_mechanism()?, Some(report.mechanism));
/// # let _ = before;
/// # Ok::<(), icache_coherence::Error>(())
/// ```
///
/// # Errors
/// The probe's error, once it has failed in a way that is remembered for
/// the process (see [`pipeline_flush_mt`]).
pub fn flush_mechanism() -> Result<Option<FlushMechanism>, Error> {
    if policy::in_force().is_none() {
        return Ok(None);
    }
    os::imp::flush_mechanism_peek().transpose()
}

/// The [`FlushPolicy`] in force and what fixed it, or `None` if nothing
/// has yet: a read, which fixes nothing.
///
/// ```
/// use icache_coherence::{flush_policy, init, FlushPolicy};
/// let (policy, _fixed_by) = match flush_policy() {
///     Some(p) => p,
///     None => (init()?.policy, icache_coherence::PolicyOrigin::Init),
/// };
/// assert_eq!(flush_policy().map(|(p, _)| p), Some(policy));
/// # let _ = FlushPolicy::BestEffort;
/// # Ok::<(), icache_coherence::Error>(())
/// ```
pub fn flush_policy() -> Option<(FlushPolicy, PolicyOrigin)> {
    policy::in_force()
}

/// Eager initialisation with the policy in force, or the default,
/// [`FlushPolicy::BestEffort`], if none is. Never conflicts: a library may
/// call it "to be safe" in a process whose application chose another
/// policy with [`init_with`], and gets that policy.
///
/// Does what [`init_with`] does after choosing: reads the cache geometry
/// and probes and registers the cross-thread mechanism, now.
///
/// ```
/// let report = icache_coherence::init()?;
/// println!("{report}");
/// // A second call changes nothing and makes no system call.
/// assert_eq!(icache_coherence::init()?.syscalls, 0);
/// # Ok::<(), icache_coherence::Error>(())
/// ```
///
/// # Errors
/// The probe's error, as [`init_with`] (never [`Error::PolicyConflict`]).
pub fn init() -> Result<Report, Error> {
    initialise(policy::choose_default())
}

/// Chooses the process's [`FlushPolicy`] and does, now, everything the first
/// flush would otherwise do lazily: reads the cache geometry, probes and
/// registers the cross-thread mechanism (Linux: `membarrier` registration;
/// riscv64 Linux: the `PR_RISCV_SET_ICACHE_FLUSH_CTX` prctl). Call it before
/// the process starts threads: registering costs more once they exist.
/// After it, every [`pipeline_flush_mt`] is exactly one system call where it
/// makes any.
///
/// Idempotent: a second call with the same policy makes no system call and
/// returns the same report with `syscalls == 0`. A later [`init`] keeps this
/// policy.
///
/// Only a different policy than the one in force is refused. The policy is
/// fixed by an earlier `init_with`, by [`init`] or by the first
/// [`pipeline_flush_mt`]; nothing else ([`clear_cache`], the getters) fixes
/// it, on any platform. So an application calls `init_with` once, before
/// anything flushes (cranelift-jit: before creating its JIT module).
///
/// ```
/// use icache_coherence::{init_with, FlushPolicy};
/// // This doctest's process has made no flush yet, so Strict can be chosen.
/// match init_with(FlushPolicy::Strict) {
///     Ok(report) => assert!(report.mechanism.serialises_all_threads()),
///     // No serialising mechanism here (no SYNC_CORE, Apple, Windows...):
///     // a typed error, never a silent fallback. Strict stays in force, so
///     // every later pipeline_flush_mt returns this error too: such a
///     // process uses the pipeline_flush_local protocol instead.
///     Err(e) => println!("strict flushing unavailable: {e}"),
/// }
/// ```
///
/// # Errors
/// - [`Error::PolicyConflict`] if another policy is already in force; its
///   `fixed_by` says what fixed it ([`PolicyOrigin`]).
/// - The probe's error, as [`pipeline_flush_mt`] would return it
///   (`Strict` without a serialising mechanism: [`Error::Unsupported`]).
pub fn init_with(policy: FlushPolicy) -> Result<Report, Error> {
    initialise(policy::choose(policy)?)
}

/// [`init`] and [`init_with`] once the policy is in force.
fn initialise(policy: FlushPolicy) -> Result<Report, Error> {
    policy::mark_eager();
    let geometry = cache_geometry();
    let (mechanism, syscalls) = os::imp::flush_mechanism_counted();
    Ok(Report {
        policy,
        mechanism: mechanism?,
        geometry,
        syscalls,
    })
}

/// Maintenance of several ranges at once, for patching many small call
/// sites: the effect of [`clear_cache`] on each, with the barriers paid
/// once. Allocates nothing.
///
/// - **AArch64 (not Apple or Windows)**: the `DC CVAU` loops of every range,
///   one `DSB ISH`, the `IC IVAU` loops of every range, one `DSB ISH`, one
///   `ISB`. A line shared by consecutive ranges (adjacent or overlapping) is
///   not cleaned or invalidated twice in a row. Sixteen 256-byte ranges on
///   64-byte lines: 64 `DC`, 64 `IC`, 2 `DSB`, 1 `ISB` (sixteen
///   [`clear_cache`] calls: 32 `DSB`, 16 `ISB`).
/// - **riscv64 Linux**: one `riscv_flush_icache` over the ranges' hull (the
///   kernel flushes whole instruction caches whatever the range, so the hull
///   is as precise as one call per range), or one `FENCE.I` with the prctl.
/// - **elsewhere**: [`clear_cache`] on each range.
///
/// ```
/// let a = [0xc3u8; 64];
/// let b = [0xc3u8; 32];
/// // SAFETY: both ranges are live, readable memory.
/// unsafe {
///     icache_coherence::clear_cache_ranges(&[
///         (a.as_ptr().cast(), a.len()),
///         (b.as_ptr().cast(), b.len()),
///     ])?
/// };
/// # Ok::<(), icache_coherence::Error>(())
/// ```
///
/// # Errors
/// [`Error::RangeWraps`] for the first range that wraps, before any
/// instruction or system call for any range. Zero-length ranges are
/// skipped; no ranges, or only empty ones, is a no-op. Otherwise as
/// [`clear_cache`].
///
/// # Safety
/// As [`clear_cache`], for every range.
#[inline]
pub unsafe fn clear_cache_ranges(ranges: &[(*const c_void, usize)]) -> Result<(), Error> {
    let ranges = range::checked_ranges(ranges)?;
    // SAFETY: the caller guarantees every range is mapped and readable.
    unsafe { os::imp::clear_cache_ranges(ranges) }
}

/// [`clear_cache_ranges`] with a given geometry, as [`clear_cache_with`] is
/// to [`clear_cache`]; on Apple and Windows the geometry is ignored.
///
/// # Errors
/// As [`clear_cache_ranges`].
///
/// # Safety
/// As [`clear_cache_with`], for every range.
///
/// **Available on AArch64 only** (shown in documentation built for any target).
#[cfg(any(doc, target_arch = "aarch64"))]
#[cfg_attr(docsrs, doc(cfg(target_arch = "aarch64")))]
#[inline]
pub unsafe fn clear_cache_ranges_with(
    geometry: &CacheGeometry,
    ranges: &[(*const c_void, usize)],
) -> Result<(), Error> {
    let ranges = range::checked_ranges(ranges)?;
    // SAFETY: the caller guarantees every rounded-out range is mapped and readable.
    #[cfg(target_arch = "aarch64")]
    return unsafe { os::imp::clear_cache_ranges_with(geometry, ranges) };
    // Only documentation builds for other targets reach this.
    #[cfg(not(target_arch = "aarch64"))]
    {
        let _ = (geometry, ranges);
        Ok(())
    }
}

/// [`clear_cache`] for code written through one mapping and executed
/// through another of the same memory (a W^X dual mapping, e.g. a `memfd`
/// mapped read-write and read-execute).
///
/// - **AArch64 (not Apple or Windows)**: `DC CVAU` on the lines of
///   `written`, `DSB ISH`, `IC IVAU` on the lines of `executed`, `DSB ISH`,
///   `ISB`.
/// - **Apple**: `sys_icache_invalidate(executed)` only. Apple's cores need
///   no data-cache clean for instruction fetch (libplatform's arm64
///   `sys_dcache_flush` is a single `DSB ISH`, which
///   `sys_icache_invalidate` issues too), and on x86_64
///   `sys_dcache_flush` would evict the new code with `CLFLUSH`.
/// - **x86, x86_64** (any OS): when `written != executed`, the calling
///   thread serialises, as [`pipeline_flush_local`] (`SERIALIZE` or
///   `IRET`): the Intel SDM (vol. 3A, 9.1.3) asks software that modifies an
///   instruction through a linear address other than the one it is
///   fetched from to execute a serialising instruction before running it,
///   because the processor's self-modifying-code detection compares linear
///   addresses. Then, on Windows, `FlushInstructionCache(executed)`. Other
///   threads that run the code need what they need after [`clear_cache`]:
///   each executes a serialising instruction of its own
///   ([`pipeline_flush_local`]) before running it. With equal aliases,
///   nothing beyond [`clear_cache`].
/// - **s390x**: when `written != executed`, `BCR 15,0` on the calling
///   thread, conservatively (see `src/arch/s390x`).
/// - **elsewhere**: [`clear_cache`] on `executed` (the OS maintains by
///   virtual address, and data caches are physically tagged, so the
///   executed alias reaches the written lines).
///
/// ```no_run
/// # let (rw, rx, len) = (core::ptr::null::<u8>(), core::ptr::null::<u8>(), 0);
/// // ...code stored through `rw`; `rx` maps the same memory executable...
/// // SAFETY: both aliases are mapped and readable for `len` bytes.
/// unsafe { icache_coherence::clear_cache_dual(rw.cast(), rx.cast(), len)? };
/// icache_coherence::pipeline_flush_mt()?;
/// # Ok::<(), icache_coherence::Error>(())
/// ```
///
/// # Errors
/// [`Error::RangeWraps`] if either range wraps, before anything is done:
/// its `ptr` is the alias that wraps (`written` is checked first, so with
/// both wrapping it is `written`); `len == 0` is a no-op. Otherwise as
/// [`clear_cache`].
///
/// ```
/// use icache_coherence::{clear_cache_dual, Error};
/// let (rw, rx) = (0x1000usize, usize::MAX - 7);
/// // SAFETY: the range is rejected before anything is touched.
/// let e = unsafe {
///     clear_cache_dual(core::ptr::without_provenance(rw), core::ptr::without_provenance(rx), 16)
/// };
/// assert_eq!(e, Err(Error::RangeWraps { ptr: rx, len: 16 })); // the executed alias
/// ```
///
/// # Safety
/// Both `[written, written + len)` and `[executed, executed + len)` must be
/// mapped and readable, and must be aliases of the same memory.
#[inline]
pub unsafe fn clear_cache_dual(
    written: *const c_void,
    executed: *const c_void,
    len: usize,
) -> Result<(), Error> {
    let w = CodeRange::new(written as usize, len)?;
    let x = CodeRange::new(executed as usize, len)?;
    let (Some(w), Some(x)) = (w, x) else {
        return Ok(());
    };
    // SAFETY: the caller guarantees both aliases are mapped and readable.
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "s390x")))]
    return unsafe { os::imp::clear_cache_dual(w, x) };
    // x86 detects stores to code by linear address: through another alias
    // the calling thread must serialise (Intel SDM vol. 3A, 9.1.3).
    #[cfg(any(target_arch = "x86", target_arch = "x86_64", target_arch = "s390x"))]
    {
        // SAFETY: as above.
        unsafe { os::imp::clear_cache_dual(w, x)? };
        if written != executed {
            arch::pipeline_flush_local();
        }
        Ok(())
    }
}

/// This machine's cache geometry: the line sizes, where they came from
/// ([`CacheGeometry::source`]), and what else the platform reports (cache
/// levels, block sizes, `MIDR_EL1`). Probed once per process, lock-free;
/// every later call returns the same value without asking again.
///
/// Per platform:
///
/// | target | source | also reported |
/// |---|---|---|
/// | AArch64 Linux, Android | `CTR_EL0` ([`GeometrySource::CtrEl0`]), as [`clear_cache`] uses it | [`zva_block`](CacheGeometry::zva_block) (`DCZID_EL0`), [`midr`](CacheGeometry::midr) (with `HWCAP_CPUID`) |
/// | AArch64 FreeBSD, NetBSD, OpenBSD, bare metal | `CTR_EL0` | `zva_block` |
/// | Apple (macOS, iOS, ...; aarch64 and x86_64) | [`GeometrySource::Sysctl`]: on arm64, 64-byte lines (xnu `MMU_CLINE`, what maintenance steps by on every Apple core); on x86_64 `sysctlbyname("hw.cachelinesize")` | [`coherence_granule`](CacheGeometry::coherence_granule): `hw.cachelinesize` (128 on Apple silicon) |
/// | x86, x86_64 on any OS but Apple (Windows, Linux, Android, the BSDs, bare metal) | `CPUID` ([`GeometrySource::Cpuid`]): leaf 4 (Intel and others), `0x8000_001D` or `0x8000_0005`/`6` (AMD, Hygon) | [`levels`](CacheGeometry::levels), [`clflush_line`](CacheGeometry::clflush_line) |
/// | riscv64 Linux, Android | the auxiliary vector's `AT_L1D_CACHEGEOMETRY`/`AT_L1I_CACHEGEOMETRY` ([`GeometrySource::Auxv`]), else the `riscv_hwprobe` Zicbom block ([`GeometrySource::RiscvHwprobe`]); one `riscv_hwprobe` system call, once | `levels` (auxv), [`cbom_block`](CacheGeometry::cbom_block), [`cboz_block`](CacheGeometry::cboz_block) |
/// | s390x (any OS) | `ECAG` ([`GeometrySource::Ecag`]) | `levels` |
/// | Miri, 32-bit Arm, Windows on Arm, OpenBSD and bare-metal riscv64, x86 in an SGX enclave, other targets | `None` | |
///
/// `None` also where the source gives no usable answer: a kernel without
/// cache information and without Zicbom (and QEMU 7.2's riscv64, which has
/// neither auxv entries nor `riscv_hwprobe`), QEMU's s390x (whose `ECAG`
/// answers all ones), an x86 CPU without a cache leaf (Intel before the
/// Pentium 4), or line sizes that are not powers of two from 4 bytes to
/// 128 KiB.
///
/// Maintenance steps by these lines only on AArch64 (not Apple or
/// Windows). Elsewhere they are information: x86 and s390x fetch
/// coherently, and the RISC-V kernel call takes a range.
///
/// ```
/// match icache_coherence::cache_geometry() {
///     Some(g) => println!("D line {} B, I line {} B ({})", g.d_line(), g.i_line(), g.source()),
///     None => println!("no cache geometry here"),
/// }
/// ```
#[inline]
pub fn cache_geometry() -> Option<CacheGeometry> {
    os::imp::cache_geometry()
}
