//! Every target under Miri, which models no caches and cannot execute
//! machine code: each function validates its range (in `lib.rs`, as on
//! every platform) and does nothing else, so JIT crates can run the rest of
//! their logic under Miri.

use crate::range::CodeRange;
#[allow(unused_imports)] // `CacheGeometry` is used on aarch64 only
use crate::{CacheGeometry, Error, FlushMechanism};

#[inline(always)]
pub(crate) unsafe fn clear_cache(_range: CodeRange) -> Result<(), Error> {
    Ok(())
}

#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub(crate) unsafe fn clear_cache_with(_g: &CacheGeometry, _range: CodeRange) -> Result<(), Error> {
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

#[inline]
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
