//! Linux and Android on x86, x86_64 and s390x: instruction fetch is
//! coherent (see `os/coherent.rs` for the citations), so `clear_cache` does
//! nothing, and so does `pipeline_flush_mt` under
//! [`FlushPolicy::BestEffort`](crate::FlushPolicy::BestEffort), as in
//! Wasmtime and V8.
//!
//! Under [`FlushPolicy::Strict`] `pipeline_flush_mt` follows the Intel SDM's
//! cross-modifying-code rule for every thread at once:
//! `membarrier(PRIVATE_EXPEDITED_SYNC_CORE)`, which makes each CPU running
//! the process return to user mode through a core-serialising instruction
//! (`kernel/sched/membarrier.c`, x86 `sync_core_before_usermode`; s390x
//! implements SYNC_CORE too). So the whole membarrier path runs natively on
//! x86_64.

use crate::os::membarrier;
use crate::policy::{self, FlushPolicy};
use crate::range::CodeRange;
use crate::{CacheGeometry, Error, FlushMechanism};

#[inline(always)]
pub(crate) unsafe fn clear_cache(_range: CodeRange) -> Result<(), Error> {
    Ok(())
}

#[inline]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    if policy::current() == FlushPolicy::Strict {
        return strict_flush();
    }
    Ok(())
}

/// Out of line, so that the default path stays a load and a compare; a
/// call costs nothing next to the system call it makes.
#[inline(never)]
fn strict_flush() -> Result<(), Error> {
    membarrier::pipeline_flush_mt()
}

pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
    if policy::current() == FlushPolicy::Strict {
        return membarrier::flush_mechanism_counted();
    }
    (Ok(FlushMechanism::NotRequired), 0)
}

pub(crate) fn flush_mechanism_peek() -> Option<Result<FlushMechanism, Error>> {
    if policy::current() == FlushPolicy::Strict {
        return membarrier::flush_mechanism_peek();
    }
    Some(Ok(FlushMechanism::NotRequired))
}

/// From `CPUID` on x86, `ECAG` on s390x (instructions, whatever the OS);
/// `None` under Miri.
#[inline]
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    crate::arch::cache_geometry()
}

coherent_clear_cache_ranges!();
default_clear_cache_dual!();
