//! Targets this crate has no implementation for (for example Linux on
//! powerpc64, mips or loongarch64, or an OS it does not know on aarch64 or
//! riscv64). Every call returns [`Error::Unsupported`] with no system call,
//! rather than silently doing nothing on hardware that may need maintenance.

use crate::range::CodeRange;
#[allow(unused_imports)] // `CacheGeometry` only for `clear_cache_with`, on aarch64
use crate::{CacheGeometry, Error, FlushMechanism};

pub(crate) unsafe fn clear_cache(_range: CodeRange) -> Result<(), Error> {
    Err(Error::NO_FACILITY)
}

#[cfg(target_arch = "aarch64")]
pub(crate) unsafe fn clear_cache_with(_g: &CacheGeometry, _range: CodeRange) -> Result<(), Error> {
    Err(Error::NO_FACILITY)
}

pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
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

/// The given geometry is ignored here, as in `clear_cache_with`.
#[cfg(target_arch = "aarch64")]
#[inline]
pub(crate) unsafe fn clear_cache_ranges_with(
    _g: &CacheGeometry,
    ranges: impl Iterator<Item = CodeRange> + Clone,
) -> Result<(), Error> {
    // SAFETY: the caller guarantees every range is mapped and readable.
    unsafe { clear_cache_ranges(ranges) }
}
