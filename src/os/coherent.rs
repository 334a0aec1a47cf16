//! x86, x86_64 and s390x on any OS, and every target under Miri: nothing to
//! do, and nothing is done.
//!
//! These architectures keep instruction fetch coherent with data stores in
//! hardware. x86 snoops its instruction caches and pipeline: a store to code
//! is seen by later instruction fetches on every core (Intel SDM vol. 3,
//! 8.1.3 "Handling Self- and Cross-Modifying Code"; AMD APM vol. 2, 7.6.1).
//! s390x guarantees the same for stores observed by the CPU, and the kernel
//! needs no user-visible maintenance (Principles of Operation, "Storage-
//! Operand Fetch References"). The one residual rule, that a thread running
//! *cross-modified* code should execute a serialising instruction first, is
//! met by any branch through a function pointer published with release/
//! acquire ordering on the hardware JITs target. Miri models no caches.

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
