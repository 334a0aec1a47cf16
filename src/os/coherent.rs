//! x86, x86_64 and s390x: instruction fetch is coherent with data stores,
//! so there is nothing to maintain and nothing is done.
//!
//! x86 snoops its instruction caches and pipelines, so a store to code is
//! seen by later instruction fetches on every core (Intel SDM vol. 3A,
//! 9.1.3 "Handling Self- and Cross-Modifying Code"); on s390x, Linux's
//! `flush_icache_range` and LLVM compiler-rt's `__clear_cache` are empty for
//! the same reason.
//!
//! For *cross*-modifying code the SDM formally asks the executing processor
//! to run a serialising instruction before it runs the new code. Under the
//! default policy nothing is done for other threads (what every x86 JIT and
//! Wasmtime do); [`pipeline_flush_local`](crate::pipeline_flush_local) does
//! it on the calling thread, and on Linux `FlushPolicy::Strict` does it for
//! every thread (`os/linux/coherent.rs`). On the OSes of this backend
//! `Strict` is refused: no facility reaches every thread.
//! [`FlushMechanism::NotRequired`] says so.

use crate::range::CodeRange;
use crate::{CacheGeometry, Error, FlushMechanism};

#[inline(always)]
pub(crate) unsafe fn clear_cache(_range: CodeRange) -> Result<(), Error> {
    Ok(())
}

#[inline(always)]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    crate::policy::fixed(FlushMechanism::NotRequired).map(drop)
}

#[inline]
pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
    (crate::policy::fixed(FlushMechanism::NotRequired), 0)
}

/// From `CPUID` on x86, `ECAG` on s390x (instructions, whatever the OS);
/// `None` under Miri.
#[inline]
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    crate::arch::cache_geometry()
}

coherent_clear_cache_ranges!();
default_clear_cache_dual!();
mechanism_not_probed!();
