//! RISC-V (RV64) instruction-stream synchronisation.

use core::arch::asm;

/// `FENCE.I` (Zifencei): makes this hart's instruction fetches observe every
/// store this hart has made visible so far, and discards instructions it
/// fetched before. It affects the executing hart only (RISC-V unprivileged
/// ISA, chapter "Zifencei"); other harts need the kernel's help.
#[inline(always)]
pub(crate) fn fence_i() {
    // SAFETY: a fence; it changes no register or memory. No `nomem`, so it
    // also keeps the compiler's memory accesses on their side of it.
    unsafe { asm!("fence.i", options(nostack, preserves_flags)) };
}
