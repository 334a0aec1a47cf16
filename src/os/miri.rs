//! Every target under Miri, which models no caches and cannot execute
//! machine code: each function validates its range (in `lib.rs`, as on
//! every platform) and does nothing else, as on a coherent machine, so JIT
//! crates can run the rest of their logic under Miri; on AArch64 the
//! given-geometry functions exist too.

#[path = "coherent.rs"]
mod coherent;
pub(crate) use coherent::*;

#[cfg(target_arch = "aarch64")]
use crate::{range::CodeRange, CacheGeometry, Error};

#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub(crate) unsafe fn clear_cache_with(_g: &CacheGeometry, _range: CodeRange) -> Result<(), Error> {
    Ok(())
}

/// The given geometry is ignored here, as in `clear_cache_with`.
#[cfg(target_arch = "aarch64")]
#[inline]
pub(crate) unsafe fn clear_cache_ranges_with(
    _g: &CacheGeometry,
    _ranges: impl Iterator<Item = CodeRange> + Clone,
) -> Result<(), Error> {
    Ok(())
}
