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

use core::arch::asm;

use crate::range::CodeRange;
use crate::CacheGeometry;

/// `MRS Xt, CTR_EL0`: the cache type register.
///
/// Linux and Android let EL0 read it (`SCTLR_EL1.UCT`) and report the
/// system-wide safe minimum, trapping and emulating on mismatched big.LITTLE
/// systems. macOS does not allow it; this is never called there.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
pub(crate) fn read_ctr_el0() -> u64 {
    let ctr: u64;
    // SAFETY: reads a system register into a general register; touches no
    // memory or stack. Only compiled for OSes that permit EL0 access.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    ctr
}

/// `DC CVAU, Xt`: clean the data-cache line holding `addr` to the point of
/// unification.
///
/// # Safety
/// `addr` must be mapped readable, or the instruction faults.
#[inline(always)]
unsafe fn dc_cvau(addr: usize) {
    // No `nomem`: this must stay ordered after the stores of the new code.
    // SAFETY: the caller guarantees `addr` is mapped and readable.
    unsafe { asm!("dc cvau, {}", in(reg) addr, options(nostack, preserves_flags)) };
}

/// `IC IVAU, Xt`: invalidate the instruction-cache line holding `addr` to
/// the point of unification, in every core of the inner-shareable domain.
///
/// # Safety
/// `addr` must be mapped, or the instruction may fault.
#[inline(always)]
unsafe fn ic_ivau(addr: usize) {
    // SAFETY: the caller guarantees `addr` is mapped.
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
fn isb() {
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
    if !g.idc() {
        for line in range.lines(g.d_line()) {
            // SAFETY: `line` starts a line that shares a byte with `range`,
            // which the caller guarantees is mapped and readable; maintenance
            // acts on the whole line whichever of its addresses is passed.
            unsafe { dc_cvau(line) };
        }
    }
    dsb_ish();
    if !g.dic() {
        for line in range.lines(g.i_line()) {
            // SAFETY: as above.
            unsafe { ic_ivau(line) };
        }
        dsb_ish();
    }
    isb();
}
