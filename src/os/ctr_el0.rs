//! The AArch64 maintenance every OS that lets user space read `CTR_EL0`
//! shares (Linux, Android, FreeBSD, NetBSD, OpenBSD, bare metal): `DC
//! CVAU`/`IC IVAU` by line, with the geometry read once per process or
//! given. Each of those backends re-exports these and adds its own
//! cross-thread mechanism.
//!
//! Maintenance uses `CTR_EL0` alone (one word, cached in
//! [`aarch64::geometry`]); [`cache_geometry`] adds what a caller may want
//! to know besides (`DCZID_EL0`, `MIDR_EL1`), cached separately so that
//! the hot path stays a load and a decode.

use crate::arch::aarch64;
use crate::geometry::zva_block_from_dczid;
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::geometry::HWCAP_CPUID;
use crate::race_cell::RaceCell;
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

/// The full geometry: `CTR_EL0` (the same value maintenance uses), the
/// `DC ZVA` block from `DCZID_EL0`, and on Linux and Android `MIDR_EL1`
/// where the kernel emulates its read; read once per process.
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    static FULL: RaceCell<CacheGeometry> = RaceCell::new();
    Some(FULL.get_or_init(|| {
        let mut g = aarch64::geometry();
        if let Some(bytes) = zva_block_from_dczid(aarch64::read_dczid_el0()) {
            g = g.with_zva_block(bytes);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(midr) = midr() {
            g = g.with_midr(midr);
        }
        g
    }))
}

/// `MIDR_EL1`, if the kernel advertises `HWCAP_CPUID`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn midr() -> Option<u64> {
    // SAFETY: `getauxval` reads the process's auxiliary vector; it has no
    // preconditions.
    let hwcap = unsafe { libc::getauxval(libc::AT_HWCAP) } as u64;
    if hwcap & HWCAP_CPUID == 0 {
        return None;
    }
    // SAFETY: HWCAP_CPUID says the kernel emulates the EL0 read.
    Some(unsafe { aarch64::read_midr_el1() })
}
