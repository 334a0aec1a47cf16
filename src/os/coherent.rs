//! x86, x86_64 and s390x on any OS, and every target under Miri: nothing to
//! do, and nothing is done.
//!
//! These architectures keep instruction fetch coherent with data stores in
//! hardware: x86 snoops its instruction caches and pipelines, so a store to
//! code is seen by later instruction fetches on every core (Intel SDM vol. 3,
//! "Handling Self- and Cross-Modifying Code"); on s390x, Linux's
//! `flush_icache_range` and GCC's `__clear_cache` are empty for the same
//! reason. Miri models no caches.
//!
//! One caveat, documented rather than paid for: for *cross*-modifying code the
//! Intel SDM asks the executing thread to run a serialising instruction
//! (`CPUID`, or `SERIALIZE` where available) between seeing that new code is
//! ready and running it. Wasmtime, V8 and most JITs skip this in practice,
//! and so does this crate's default; it is the executing thread's job, not
//! something a flush on the writing thread can do.

use crate::range::CodeRange;
use crate::{CacheGeometry, Error, FlushMechanism};

#[inline(always)]
pub(crate) unsafe fn clear_cache(_range: CodeRange) -> Result<(), Error> {
    Ok(())
}

#[inline(always)]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    Ok(())
}

#[inline]
pub(crate) fn flush_mechanism() -> Result<FlushMechanism, Error> {
    Ok(FlushMechanism::NotRequired)
}

#[inline]
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    None
}
