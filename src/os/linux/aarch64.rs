//! Linux and Android on AArch64: `DC CVAU`/`IC IVAU` by line with the
//! geometry from `CTR_EL0` (read once), and `membarrier` across threads.

use core::num::NonZeroUsize;
use once_cell::race::OnceNonZeroUsize;

use crate::arch::aarch64;
use crate::range::CodeRange;
use crate::{CacheGeometry, Error, FlushMechanism};

/// `CTR_EL0`, read once per process. Bit 31 is RES1, so a read value is never
/// zero, which is the cell's "not yet read" state.
///
/// Caching is sound because Linux reports the system-wide safe value to user
/// space (the minimum line sizes, IDC/DIC only if every core has them), and
/// traps and emulates the read on systems whose cores disagree.
static CTR_EL0: OnceNonZeroUsize = OnceNonZeroUsize::new();

/// A geometry that is correct on every AArch64 core: 4-byte lines, neither
/// IDC nor DIC. Used only if the register ever read as zero.
const CONSERVATIVE_CTR: usize = 0x8000_0000;

#[inline]
pub(crate) fn geometry() -> CacheGeometry {
    let ctr = CTR_EL0.get_or_init(|| {
        NonZeroUsize::new(aarch64::read_ctr_el0() as usize)
            .unwrap_or(NonZeroUsize::new(CONSERVATIVE_CTR).expect("non-zero"))
    });
    CacheGeometry::from_ctr_el0(ctr.get() as u64)
}

#[inline]
pub(crate) unsafe fn clear_cache(range: CodeRange) -> Result<(), Error> {
    // SAFETY: the caller guarantees the range is mapped and readable.
    unsafe { aarch64::clear_cache(&geometry(), range) };
    Ok(())
}

#[inline]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    super::membarrier::pipeline_flush_mt()
}

pub(crate) fn flush_mechanism() -> Result<FlushMechanism, Error> {
    super::membarrier::flush_mechanism()
}

#[inline]
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    Some(geometry())
}
