//! Targets this crate has no implementation for (for example Linux on
//! powerpc64, mips or loongarch64, or an OS it does not know on aarch64 or
//! riscv64). Every call returns [`Error::Unsupported`] with no system call,
//! rather than silently doing nothing on hardware that may need maintenance.

use crate::range::CodeRange;
#[allow(unused_imports)]
use crate::{CacheGeometry, Error, FlushMechanism};

pub(crate) unsafe fn clear_cache(_range: CodeRange) -> Result<(), Error> {
    Err(Error::NO_FACILITY)
}

pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    // The first flush fixes the policy on every platform.
    let _ = crate::policy::current();
    Err(Error::NO_FACILITY)
}

pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
    (Err(Error::NO_FACILITY), 0)
}

pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    None
}

default_clear_cache_ranges!();
default_clear_cache_dual!();

given_geometry_ignored!();
mechanism_not_probed!();
