//! 32-bit Arm (Armv7-A and later) instruction-stream synchronisation.

use core::arch::asm;

/// `ISB SY`: discard this core's already-fetched instructions (Armv7-A ARM,
/// A8.8.54). Cache maintenance itself is privileged on 32-bit Arm, so
/// `clear_cache` asks the kernel (`cacheflush`).
#[inline(always)]
pub(crate) fn isb() {
    // SAFETY: a context synchronisation event; no register or memory changes.
    unsafe { asm!("isb sy", options(nostack, preserves_flags)) };
}
