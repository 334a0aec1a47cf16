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
