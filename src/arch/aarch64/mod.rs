//! AArch64 cache maintenance by virtual address, to the point of unification.
//!
//! The sequence (Arm ARM B2.4.4, "Concurrent modification and execution of
//! instructions"; LLVM compiler-rt `clear_cache.c`):
//!
//! ```text
//!     DC CVAU, Xt     for every D line touching the range   (unless CTR_EL0.IDC)
//!     DSB ISH                                               (always)
//!     IC IVAU, Xt     for every I line touching the range   (unless CTR_EL0.DIC)
//!     DSB ISH                                               (only after IC)
//!     ISB                                                   (always)
//! ```
//!
//! The reviewed listing of what this compiles to is `asm/aarch64.s`.
//!
//! Apple silicon running Linux (Asahi, or a Linux guest of Apple's
//! hypervisor, where `IC IVAU` runs natively): Apple's own
//! `sys_icache_invalidate` adds a `DSB ISH` after every 20 `IC IVAU` on the
//! CPU families its commpage lists (`_cpus_that_need_dsb_for_ic_ivau`).
//! This crate does not: it is a documented gap, the same one Linux's own
//! user-space maintenance and LLVM compiler-rt's `__clear_cache` have
//! (neither looks at the implementer: `arch/arm64/mm/cache.S`,
//! `compiler-rt/lib/builtins/clear_cache.c`). Apple documents neither the
//! erratum nor which parts of the 0x61 implementer (`MIDR_EL1[31:24]`)
//! need it, and on Linux `MIDR_EL1` is a trapped, emulated read
//! (`HWCAP_CPUID`) that would have to be taken, and cached, before the
//! first maintenance; a barrier on every 0x61 core without knowing the
//! erratum would be a guess either way.

// On Apple platforms and Windows the OS does the maintenance; only `isb` is
// used there.
#![cfg_attr(any(target_vendor = "apple", windows), allow(dead_code))]

use core::arch::asm;

use crate::range::CodeRange;
use crate::CacheGeometry;

/// `MRS Xt, CTR_EL0`: the cache type register.
///
/// Readable at EL1 always, and at EL0 where the kernel sets
/// `SCTLR_EL1.UCT`: Linux and Android (which report the system-wide safe
/// minimum, trapping and emulating on mismatched big.LITTLE systems),
/// FreeBSD and NetBSD (which trap and emulate where cores differ, FreeBSD
/// from 15, NetBSD from 10), and OpenBSD (whose system compiler runtime,
/// LLVM compiler-rt's `__clear_cache`, reads it at EL0). Apple platforms do
/// not allow it and Windows provides its own call, so it is never compiled
/// there.
#[cfg(not(any(target_vendor = "apple", windows)))]
#[inline]
pub(crate) fn read_ctr_el0() -> u64 {
    let ctr: u64;
    // SAFETY: reads a system register into a general register; touches no
    // memory or stack. Only compiled for OSes that permit EL0 access.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    ctr
}

/// `MRS Xt, DCZID_EL0`: the `DC ZVA` block size and whether `DC ZVA` is
/// prohibited.
///
/// Readable at EL0 on every AArch64 implementation, with no trap control
/// (Arm ARM, `DCZID_EL0`); compiled where [`read_ctr_el0`] is.
#[cfg(not(any(target_vendor = "apple", windows)))]
#[inline]
pub(crate) fn read_dczid_el0() -> u64 {
    let dczid: u64;
    // SAFETY: reads a system register that is always accessible at EL0
    // into a general register; touches no memory or stack.
    unsafe { asm!("mrs {}, dczid_el0", out(reg) dczid, options(nomem, nostack, preserves_flags)) };
    dczid
}

/// `MRS Xt, MIDR_EL1`.
///
/// # Safety
/// At EL0 this traps: it may only run where the kernel emulates the read,
/// which Linux and Android advertise with `HWCAP_CPUID`
/// ([`crate::geometry::HWCAP_CPUID`]). Elsewhere it raises SIGILL.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
pub(crate) unsafe fn read_midr_el1() -> u64 {
    let midr: u64;
    // SAFETY: the caller guarantees the kernel emulates this read (it traps
    // to the kernel, which writes the register and returns); no memory or
    // stack is touched.
    unsafe { asm!("mrs {}, midr_el1", out(reg) midr, options(nomem, nostack, preserves_flags)) };
    midr
}

/// `CTR_EL0`, read once per process; 0 = not read yet. Bit 31 is RES1, so a
/// read value is never zero.
///
/// Loaded and stored `Relaxed`: the word is self-contained (it publishes no
/// other data), and any thread that sees 0 reads the register itself and
/// stores the same value. (`once_cell`'s cells load with `Acquire`: one
/// `LDAR` on every call, for nothing.)
///
/// Caching is sound where the OS reports the system-wide safe value to user
/// space (the minimum line sizes, IDC/DIC only if every core has them), or
/// traps and emulates the read on systems whose cores disagree: see
/// [`read_ctr_el0`]. (IDC and DIC must be equal on every core of an
/// inner-shareable domain in any case: Arm ARM, `CTR_EL0`.)
#[cfg(not(any(target_vendor = "apple", windows)))]
static CTR_EL0: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// A geometry that is correct on every AArch64 core: 4-byte lines, neither
/// IDC nor DIC. Used only if the register ever read as zero, which bit 31
/// (RES1) rules out on conforming hardware.
#[cfg(not(any(target_vendor = "apple", windows)))]
const CONSERVATIVE_CTR: usize = 0x8000_0000;

/// This machine's geometry from `CTR_EL0`, read once per process.
#[cfg(not(any(target_vendor = "apple", windows)))]
#[inline]
pub(crate) fn geometry() -> CacheGeometry {
    let mut ctr = CTR_EL0.load(core::sync::atomic::Ordering::Relaxed);
    if ctr == 0 {
        ctr = read_and_cache_ctr_el0();
    }
    CacheGeometry::from_ctr_el0(ctr as u64)
}

/// The first use: reads `CTR_EL0` and caches it (out of line, so the hot
/// path is a load and a test).
#[cfg(not(any(target_vendor = "apple", windows)))]
#[cold]
#[inline(never)]
fn read_and_cache_ctr_el0() -> usize {
    let ctr = match read_ctr_el0() as usize {
        0 => CONSERVATIVE_CTR,
        v => v,
    };
    CTR_EL0.store(ctr, core::sync::atomic::Ordering::Relaxed);
    ctr
}

/// `DC CVAU, Xt`: clean the data-cache line holding `addr` to the point of
/// unification.
///
/// # Safety
/// `addr` must be mapped readable, or the instruction faults.
#[inline(always)]
unsafe fn dc_cvau(addr: usize) {
    // A 64-bit operand whatever `usize` is: on an ILP32 target the
    // register's upper half would otherwise be undefined.
    let addr = addr as u64;
    // No `nomem`: this must stay ordered after the stores of the new code.
    // SAFETY: the caller guarantees `addr` is mapped and readable.
    unsafe { asm!("dc cvau, {}", in(reg) addr, options(nostack, preserves_flags)) };
}

/// `IC IVAU, Xt`: invalidate the instruction-cache line holding `addr` to
/// the point of unification, in every core of the inner-shareable domain.
///
/// # Safety
/// `addr` must be mapped and readable: at EL0, `IC IVAU` on an address
/// without read permission may raise a Permission fault (Arm ARM, `IC
/// IVAU`, and B2.4.4), hence the public contract's "mapped and readable".
#[inline(always)]
unsafe fn ic_ivau(addr: usize) {
    // 64-bit operand, as in `dc_cvau`.
    let addr = addr as u64;
    // SAFETY: the caller guarantees `addr` is mapped and readable.
    unsafe { asm!("ic ivau, {}", in(reg) addr, options(nostack, preserves_flags)) };
}

/// `DSB ISH`: wait until every earlier store and maintenance operation is
/// complete for the inner-shareable domain.
#[inline(always)]
fn dsb_ish() {
    // SAFETY: a barrier; it changes no register or memory. No `nomem`, so
    // it also orders the compiler's memory accesses.
    unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
}

/// `ISB`: discard this core's already-fetched instructions.
#[inline(always)]
pub(crate) fn isb() {
    // SAFETY: a context synchronisation event; no register or memory changes.
    unsafe { asm!("isb", options(nostack, preserves_flags)) };
}

/// Make the bytes of `range` visible to instruction fetch on this and every
/// other core, for a machine with geometry `g`.
///
/// Each loop aligns down to its own line size and touches each line once.
///
/// # Safety
/// Every byte of `range` must be mapped and readable.
#[inline]
pub(crate) unsafe fn clear_cache(g: &CacheGeometry, range: CodeRange) {
    // SAFETY: forwarded.
    unsafe { clear_cache_dual(g, range, range) }
}

/// `DC CVAU` (`OP` = `dc cvau`) or `IC IVAU` on each of `lines`: one loop
/// in assembly, unrolled four times (six instructions per four lines: four
/// `ADD`s, `SUBS`, `B.NE`), after peeling `count % 4` lines one at a time.
/// The address register may wrap past the last line: it is never used
/// again.
macro_rules! maintain_lines {
    ($op:literal, $lines:expr) => {{
        let (first, count, step) = $lines.parts();
        // 64-bit operands whatever `usize` is (an ILP32 target would
        // otherwise leave the registers' upper halves undefined).
        let (first, count, step) = (first as u64, count as u64, step as u64);
        if count != 0 {
            // No `nomem`: ordered after the stores of the new code.
            // SAFETY: the caller guarantees every line is mapped and
            // readable (DC CVAU needs read permission, and IC IVAU at EL0
            // may); the loop touches exactly `count` lines from
            // `first`, `step` apart (count >= 1 on entry), and changes only
            // the two scratch registers and the flags.
            unsafe {
                asm!(
                    "tst {n}, #3",
                    "b.eq 3f",
                    "2:",
                    concat!($op, ", {a}"),
                    "add {a}, {a}, {s}",
                    "sub {n}, {n}, #1",
                    "tst {n}, #3",
                    "b.ne 2b",
                    "cbz {n}, 4f",
                    "3:",
                    concat!($op, ", {a}"),
                    "add {a}, {a}, {s}",
                    concat!($op, ", {a}"),
                    "add {a}, {a}, {s}",
                    concat!($op, ", {a}"),
                    "add {a}, {a}, {s}",
                    concat!($op, ", {a}"),
                    "add {a}, {a}, {s}",
                    "subs {n}, {n}, #4",
                    "b.ne 3b",
                    "4:",
                    a = inout(reg) first => _,
                    n = inout(reg) count => _,
                    s = in(reg) step,
                    options(nostack),
                )
            }
        }
    }};
}

/// The instructions themselves, as a plan's sink.
struct Execute;

impl crate::plan::Sink for Execute {
    #[inline(always)]
    unsafe fn dc_lines(&mut self, lines: crate::range::Lines) {
        maintain_lines!("dc cvau", lines)
    }
    #[inline(always)]
    unsafe fn ic_lines(&mut self, lines: crate::range::Lines) {
        maintain_lines!("ic ivau", lines)
    }
    #[inline(always)]
    unsafe fn dc(&mut self, line: usize) {
        // SAFETY: forwarded (the plan passes lines of mapped ranges).
        unsafe { dc_cvau(line) }
    }
    #[inline(always)]
    unsafe fn ic(&mut self, line: usize) {
        // SAFETY: forwarded.
        unsafe { ic_ivau(line) }
    }
    #[inline(always)]
    fn dsb(&mut self) {
        dsb_ish()
    }
    #[inline(always)]
    fn isb(&mut self) {
        isb()
    }
}

/// [`clear_cache`] for a dual mapping: clean the data-cache lines of
/// `written` (the alias the code was stored through), invalidate the
/// instruction-cache lines of `executed` (the alias it will run from).
/// The sequence is [`crate::plan::dual`]'s.
///
/// # Safety
/// Every byte of both ranges must be mapped and readable.
#[inline]
pub(crate) unsafe fn clear_cache_dual(g: &CacheGeometry, written: CodeRange, executed: CodeRange) {
    // SAFETY: forwarded.
    unsafe { crate::plan::dual(&mut Execute, g, written, executed) }
}

/// [`clear_cache`] for several ranges at once: the `DC` loops of every
/// range, one `DSB ISH`, the `IC` loops of every range, one `DSB ISH`, one
/// `ISB`. A line shared by consecutive ranges (adjacent or overlapping) is
/// not cleaned or invalidated twice in a row. Nothing at all for no ranges.
/// The sequence is [`crate::plan::batch`]'s.
///
/// # Safety
/// Every byte of every range must be mapped and readable.
#[inline]
pub(crate) unsafe fn clear_cache_ranges(
    g: &CacheGeometry,
    ranges: impl Iterator<Item = CodeRange> + Clone,
) {
    // SAFETY: forwarded.
    unsafe { crate::plan::batch(&mut Execute, g, ranges) }
}
