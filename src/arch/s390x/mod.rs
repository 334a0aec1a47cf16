//! s390x (z/Architecture) instruction-stream serialisation.

use core::arch::asm;

/// `BCR 15,0`: a serialising operation. z/Architecture Principles of
/// Operation (SA22-7832), chapter 5, "Serialization": all conceptually
/// previous storage accesses complete, and every conceptually subsequent
/// instruction is fetched after serialisation completes, so no instruction
/// prefetched before it is executed. (Not `BCR 14,0`, the fast-BCR form,
/// which the architecture defines without the checkpoint-synchronisation
/// part.)
#[inline(always)]
pub(crate) fn serialize() {
    // SAFETY: a branch-never that serialises; no register, flag or memory
    // changes. No `nomem`, so it also orders the compiler's memory accesses.
    unsafe { asm!("bcr 15,0", options(nostack, preserves_flags)) };
}
