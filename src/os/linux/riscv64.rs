//! Linux (and Android) on riscv64. `fence.i` only affects the hart that
//! executes it and threads migrate between harts, so by default user space
//! asks the kernel, `riscv_flush_icache(start, end, 0)`, to make every hart
//! of the process see the new code ([`FlushMechanism::ByClearCache`]).
//!
//! From Linux 6.10, `prctl(PR_RISCV_SET_ICACHE_FLUSH_CTX, ON,
//! PER_PROCESS)` makes the kernel run `fence.i` on migration. If the
//! process calls [`init`](crate::init) before its first `clear_cache`, and
//! `membarrier` SYNC_CORE is available and the prctl accepted, `clear_cache`
//! becomes a local `fence.i` with no system call and `pipeline_flush_mt`
//! the `membarrier`, which runs `fence.i` on every hart running the process
//! ([`FlushMechanism::MembarrierSyncCore`]: other threads then need
//! `pipeline_flush_mt`). Lazy first use keeps the system call, whose
//! guarantee (every thread, with `clear_cache` alone) code written for the
//! crates this replaces may rely on. The decision is
//! [`riscv_plan`](crate::os::syscall_args::riscv_plan), made once per
//! process. Under [`FlushPolicy::NoSyscalls`](crate::FlushPolicy::NoSyscalls),
//! which never calls `membarrier`, the prctl is not tried.
//!
//! `cache_geometry` reads the auxiliary vector's cache entries and makes one
//! `riscv_hwprobe` system call, once per process
//! ([`crate::geometry::riscv`]).
//!
//! # References
//! - [cmodx.rst](https://docs.kernel.org/arch/riscv/cmodx.html)
//! - [PR_RISCV_SET_ICACHE_FLUSH_CTX(2const)](https://man7.org/linux/man-pages/man2/PR_RISCV_SET_ICACHE_FLUSH_CTX.2const.html)

use core::sync::atomic::{AtomicU8, Ordering};

use crate::geometry::riscv;
use crate::os::membarrier;
use crate::os::syscall_args::{self as args, RiscvMode};
use crate::race_cell::RaceCell;
use crate::policy::{self, FlushPolicy};
use crate::range::CodeRange;
use crate::{CacheGeometry, Error, FlushMechanism, Syscall};

/// `__NR_riscv_flush_icache` (`arch/riscv/include/uapi/asm/unistd.h`:
/// `__NR_arch_specific_syscall + 15`).
const SYS_RISCV_FLUSH_ICACHE: libc::c_long = 259;

/// 0 = not decided; 1 = [`RiscvMode::Syscall`]; 2 = [`RiscvMode::FenceI`].
static MODE: AtomicU8 = AtomicU8::new(0);

/// The mode, deciding it on first use; and the system calls deciding made.
#[inline]
fn mode_counted() -> (RiscvMode, u32) {
    match MODE.load(Ordering::Acquire) {
        1 => (RiscvMode::Syscall, 0),
        2 => (RiscvMode::FenceI, 0),
        _ => decide(),
    }
}

/// The first use: the prctl, and if it is accepted the `membarrier` probe.
#[cold]
#[inline(never)]
fn decide() -> (RiscvMode, u32) {
    let calls = core::cell::Cell::new(0);
    // Eager only after init/init_with, which chose the policy first. A lazy
    // first `clear_cache` decides the mode without fixing any policy: the
    // system-call mode (ByClearCache) suits every policy, so a later
    // `init_with` of any policy still succeeds, as on every other platform.
    let eager = policy::eager()
        && policy::in_force().is_some_and(|(p, _)| p != FlushPolicy::NoSyscalls);
    let mode = args::riscv_plan(
        eager,
        || {
            let (m, n) = membarrier::flush_mechanism_counted();
            calls.set(calls.get() + n);
            m
        },
        || {
            let (option, ctx, scope) = args::riscv_prctl_args();
            calls.set(calls.get() + 1);
            // SAFETY: prctl with integer arguments only; it reads no memory.
            let ret = unsafe {
                libc::prctl(
                    option,
                    ctx as libc::c_ulong,
                    scope as libc::c_ulong,
                    0 as libc::c_ulong,
                    0 as libc::c_ulong,
                )
            };
            if ret == 0 {
                Ok(())
            } else {
                Err(crate::os::errno())
            }
        },
    );
    // Racing deciders reach the same answer from the same kernel; the first
    // stored wins and is what everybody uses from then on.
    let code = if mode == RiscvMode::FenceI { 2 } else { 1 };
    match MODE.compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => (mode, calls.get()),
        Err(2) => (RiscvMode::FenceI, calls.get()),
        Err(_) => (RiscvMode::Syscall, calls.get()),
    }
}

#[inline]
fn mode() -> RiscvMode {
    mode_counted().0
}

/// `riscv_flush_icache(start, end, 0)`.
fn flush_icache_syscall((start, end, flags): (usize, usize, usize)) -> Result<(), Error> {
    // SAFETY: the kernel reads no memory through these arguments.
    let ret = unsafe { libc::syscall(SYS_RISCV_FLUSH_ICACHE, start, end, flags) };
    if ret < 0 {
        return Err(Error::from_errno(Syscall::RiscvFlushIcache, crate::os::errno()));
    }
    Ok(())
}

#[inline]
pub(crate) unsafe fn clear_cache(range: CodeRange) -> Result<(), Error> {
    match mode() {
        RiscvMode::FenceI => {
            crate::arch::riscv64::fence_i();
            Ok(())
        }
        RiscvMode::Syscall => flush_icache_syscall(args::riscv_flush_icache_args(&range)),
    }
}

/// Several ranges: one `fence.i`, or one `riscv_flush_icache` over their
/// hull (see [`args::riscv_flush_icache_hull`] for why that is enough).
#[inline]
pub(crate) unsafe fn clear_cache_ranges(
    ranges: impl Iterator<Item = CodeRange> + Clone,
) -> Result<(), Error> {
    match mode() {
        RiscvMode::FenceI => {
            if ranges.clone().next().is_some() {
                crate::arch::riscv64::fence_i();
            }
            Ok(())
        }
        RiscvMode::Syscall => match args::riscv_flush_icache_hull(ranges) {
            Some(a) => flush_icache_syscall(a),
            None => Ok(()),
        },
    }
}

#[inline]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    match mode() {
        RiscvMode::FenceI => membarrier_flush(),
        RiscvMode::Syscall => {
            // The first flush fixes the policy on every platform.
            let _ = policy::current();
            Ok(())
        }
    }
}

/// Out of line: the default mode's flush stays a load and a compare.
#[inline(never)]
fn membarrier_flush() -> Result<(), Error> {
    membarrier::pipeline_flush_mt()
}

pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
    match mode_counted() {
        (RiscvMode::FenceI, n) => (Ok(FlushMechanism::MembarrierSyncCore), n),
        (RiscvMode::Syscall, n) => (Ok(FlushMechanism::ByClearCache), n),
    }
}

/// The mode if decided (by `init`, or lazily by the first `clear_cache` or
/// `pipeline_flush_mt`), with no system call.
pub(crate) fn flush_mechanism_peek() -> Option<Result<FlushMechanism, Error>> {
    match MODE.load(Ordering::Acquire) {
        1 => Some(Ok(FlushMechanism::ByClearCache)),
        2 => Some(Ok(FlushMechanism::MembarrierSyncCore)),
        _ => None,
    }
}

/// The geometry from the auxiliary vector and `riscv_hwprobe`
/// ([`crate::geometry::riscv::decode`]), read once per process.
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    static GEOMETRY: RaceCell<Option<CacheGeometry>> = RaceCell::new();
    GEOMETRY.get_or_init(|| riscv::decode(&read_geometry()))
}

/// `struct riscv_hwprobe` (`arch/riscv/include/uapi/asm/hwprobe.h`).
#[repr(C)]
struct HwprobePair {
    key: i64,
    value: u64,
}

/// What the kernel says about caches: four `getauxval` look-ups and one
/// `riscv_hwprobe` system call.
fn read_geometry() -> riscv::Raw {
    // SAFETY: `getauxval` reads the process's auxiliary vector; it has no
    // preconditions and returns 0 for an absent entry.
    let aux = |t: u64| unsafe { libc::getauxval(t as libc::c_ulong) } as u64;
    let mut pairs = riscv::Raw::QUERY.map(|(key, value)| HwprobePair { key, value });
    // SAFETY: `pairs` is a live, writable array of `pairs.len()`
    // `struct riscv_hwprobe`; a cpu set size of 0 with a null set means
    // "all online harts"; no flags.
    let ret = unsafe {
        libc::syscall(
            riscv::SYS_RISCV_HWPROBE as libc::c_long,
            pairs.as_mut_ptr(),
            pairs.len(),
            0usize,
            core::ptr::null_mut::<libc::c_void>(),
            0 as libc::c_uint,
        )
    };
    riscv::Raw {
        l1i: aux(riscv::AT_L1I_CACHEGEOMETRY),
        l1d: aux(riscv::AT_L1D_CACHEGEOMETRY),
        l2: aux(riscv::AT_L2_CACHEGEOMETRY),
        l3: aux(riscv::AT_L3_CACHEGEOMETRY),
        hwprobe: (ret == 0).then(|| pairs.map(|p| (p.key, p.value))),
    }
}

default_clear_cache_dual!();
