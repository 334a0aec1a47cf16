//! The AArch64 maintenance every OS that lets user space read `CTR_EL0`
//! shares (Linux, Android, FreeBSD, NetBSD, OpenBSD, bare metal): `DC
//! CVAU`/`IC IVAU` by line, with the geometry read once per process or
//! given. Each of those backends re-exports these and adds its own
//! cross-thread mechanism.

use crate::arch::aarch64;
use crate::range::CodeRange;
use crate::{CacheGeometry, Error};

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
pub(crate) unsafe fn clear_cache_ranges(
    ranges: impl Iterator<Item = CodeRange> + Clone,
) -> Result<(), Error> {
    // SAFETY: the caller guarantees every range is mapped and readable.
    unsafe { aarch64::clear_cache_ranges(&aarch64::geometry(), ranges) };
    Ok(())
}

#[inline]
pub(crate) unsafe fn clear_cache_ranges_with(
    g: &CacheGeometry,
    ranges: impl Iterator<Item = CodeRange> + Clone,
) -> Result<(), Error> {
    // SAFETY: the caller guarantees every rounded-out range is mapped and readable.
    unsafe { aarch64::clear_cache_ranges(g, ranges) };
    Ok(())
}

#[inline]
pub(crate) unsafe fn clear_cache_dual(
    written: CodeRange,
    executed: CodeRange,
) -> Result<(), Error> {
    // SAFETY: the caller guarantees both aliases are mapped and readable.
    unsafe { aarch64::clear_cache_dual(&aarch64::geometry(), written, executed) };
    Ok(())
}

#[inline]
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    Some(aarch64::geometry())
}
