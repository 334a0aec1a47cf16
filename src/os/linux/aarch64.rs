//! Linux and Android on AArch64: `DC CVAU`/`IC IVAU` by line with the
//! geometry from `CTR_EL0` (read once), and `membarrier` across threads.

use crate::arch::aarch64;
use crate::os::membarrier;
use crate::range::CodeRange;
use crate::{CacheGeometry, Error, FlushMechanism};

#[inline]
pub(crate) unsafe fn clear_cache(range: CodeRange) -> Result<(), Error> {
    // SAFETY: the caller guarantees the range is mapped and readable.
    unsafe { aarch64::clear_cache(&aarch64::geometry(), range) };
    Ok(())
}

#[inline]
pub(crate) unsafe fn clear_cache_with(g: &CacheGeometry, range: CodeRange) -> Result<(), Error> {
    // SAFETY: the caller guarantees the rounded-out range is mapped and readable.
    unsafe { aarch64::clear_cache(g, range) };
    Ok(())
}

#[inline]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    membarrier::pipeline_flush_mt()
}

pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
    membarrier::flush_mechanism_counted()
}

#[inline]
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    Some(aarch64::geometry())
}

#[inline]
pub(crate) unsafe fn clear_cache_ranges(
    ranges: impl Iterator<Item = CodeRange> + Clone,
) -> Result<(), Error> {
    // SAFETY: the caller guarantees every range is mapped and readable.
    unsafe { crate::arch::aarch64::clear_cache_ranges(&crate::arch::aarch64::geometry(), ranges) };
    Ok(())
}

#[inline]
pub(crate) unsafe fn clear_cache_ranges_with(
    g: &CacheGeometry,
    ranges: impl Iterator<Item = CodeRange> + Clone,
) -> Result<(), Error> {
    // SAFETY: the caller guarantees every rounded-out range is mapped and readable.
    unsafe { crate::arch::aarch64::clear_cache_ranges(g, ranges) };
    Ok(())
}

#[inline]
pub(crate) unsafe fn clear_cache_dual(written: CodeRange, executed: CodeRange) -> Result<(), Error> {
    // SAFETY: the caller guarantees both aliases are mapped and readable.
    unsafe { crate::arch::aarch64::clear_cache_dual(&crate::arch::aarch64::geometry(), written, executed) };
    Ok(())
}
