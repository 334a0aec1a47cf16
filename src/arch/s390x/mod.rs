//! s390x (z/Architecture) instruction-stream serialisation.

use core::arch::asm;

/// `BCR 15,0`: a serialising operation. z/Architecture Principles of
/// Operation (SA22-7832), chapter 5, "Serialization": all conceptually
/// previous storage accesses complete, and every conceptually subsequent
/// instruction is fetched after serialisation completes, so no instruction
/// prefetched before it is executed. (Not `BCR 14,0`, the fast-BCR form,
/// which the architecture defines without the checkpoint-synchronisation
/// part.)
///
/// Also run by `clear_cache_dual` when the written and executed aliases
/// differ. Issue 17 asked what the Principles of Operation say about code
/// stored through one virtual address and fetched through another (the x86
/// SDM asks for a serialising instruction there). The text of its
/// chapter 5 sections on instruction fetching was not found in the sources
/// searched for this change, so the question stays open; Linux's
/// `flush_icache_range` is empty on s390 whatever the alias. Until it is
/// answered, one `BCR 15,0` on the calling thread is the conservative
/// choice, and costs little.
#[inline(always)]
pub(crate) fn serialize() {
    // SAFETY: a branch-never that serialises; no register, flag or memory
    // changes. No `nomem`, so it also orders the compiler's memory accesses.
    unsafe { asm!("bcr 15,0", options(nostack, preserves_flags)) };
}

/// `ECAG` with `address` as the second-operand address: the CPU attribute
/// it selects ([`crate::geometry::ecag`]).
#[inline]
fn ecag(address: u64) -> u64 {
    let value: u64;
    // SAFETY: ECAG reads no storage (the operand address only selects the
    // attribute) and leaves the condition code unchanged; it is part of the
    // z10 baseline that Rust's s390x targets require. `reg_addr` excludes
    // r0, which as a base register would mean 0 rather than `address`.
    unsafe {
        asm!(
            "ecag {value}, %r0, 0({address})",
            value = out(reg) value,
            address = in(reg_addr) address,
            options(nomem, nostack, preserves_flags),
        )
    };
    value
}

/// This CPU's cache geometry from `ECAG`, read once per process. `None`
/// where the machine provides no cache attributes (QEMU, measured).
pub(crate) fn cache_geometry() -> Option<crate::CacheGeometry> {
    static GEOMETRY: crate::race_cell::RaceCell<Option<crate::CacheGeometry>> =
        crate::race_cell::RaceCell::new();
    GEOMETRY.get_or_init(|| crate::geometry::ecag::decode(ecag))
}
