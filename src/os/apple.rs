//! Apple platforms (macOS, iOS, tvOS, watchOS, visionOS; aarch64 and
//! x86_64): libSystem does the maintenance, and there is no cross-thread
//! instruction-sync facility.
//!
//! - `clear_cache` calls `sys_icache_invalidate(start, len)`
//!   (`<libkern/OSCacheControl.h>`), as LLVM compiler-rt's `__clear_cache`
//!   does on Darwin. On arm64 it issues `IC IVAU` per line, `DSB ISH` and
//!   `ISB`, plus Apple's own erratum workarounds on some cores (extra
//!   barriers between invalidations, libplatform's `cache.s`), which an
//!   inline copy would miss. On x86_64 it does nothing (coherent fetch). The
//!   `libc` crate does not declare it, so it is declared here.
//! - `CTR_EL0` is never read: EL0 reads are not permitted on Apple systems
//!   and have been reported to raise SIGILL.
//! - `pipeline_flush_mt` has nothing to call; it returns `Ok` and reports
//!   [`FlushMechanism::LocalSyncRequired`]: the executing thread must run
//!   [`pipeline_flush_local`](crate::pipeline_flush_local) (`ISB`).
//! - `cache_geometry` reports `sysctlbyname("hw.cachelinesize")`.

use core::ffi::{c_char, c_void};
use core::num::NonZeroUsize;
use once_cell::race::OnceNonZeroUsize;

use crate::range::CodeRange;
#[allow(unused_imports)] // `CacheGeometry` in `clear_cache_with` on aarch64 only
use crate::{CacheGeometry, Error, FlushMechanism, GeometrySource};

extern "C" {
    /// libSystem: make `len` bytes at `start` coherent for instruction fetch.
    fn sys_icache_invalidate(start: *mut c_void, len: usize);
    /// libSystem: write the data-cache lines of `len` bytes at `start` back
    /// to memory.
    fn sys_dcache_flush(start: *mut c_void, len: usize);
}

#[inline]
pub(crate) unsafe fn clear_cache(range: CodeRange) -> Result<(), Error> {
    // SAFETY: the caller guarantees the range is mapped and readable, which
    // is all `sys_icache_invalidate` needs; it returns nothing and cannot
    // fail.
    unsafe { sys_icache_invalidate(range.start() as *mut c_void, range.len()) };
    Ok(())
}

#[inline(always)]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    crate::policy::fixed(FlushMechanism::LocalSyncRequired).map(drop)
}

pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
    (crate::policy::fixed(FlushMechanism::LocalSyncRequired), 0)
}

/// `hw.cachelinesize`, read once; `usize::MAX` records "not available".
static LINE: OnceNonZeroUsize = OnceNonZeroUsize::new();

fn read_cachelinesize() -> usize {
    const NAME: &[u8] = b"hw.cachelinesize\0";
    let mut value: u64 = 0;
    let mut size = core::mem::size_of::<u64>();
    // SAFETY: NAME is NUL-terminated; `value` and `size` are valid for
    // writes and `size` holds the buffer's length; no new value is set.
    let ret = unsafe {
        libc::sysctlbyname(
            NAME.as_ptr() as *const c_char,
            (&mut value as *mut u64).cast(),
            &mut size,
            core::ptr::null_mut(),
            0,
        )
    };
    // The kernel may answer with a 4-byte integer: the low bytes then hold
    // it (both Apple architectures are little-endian).
    if ret != 0 || size == 0 || size > 8 {
        return usize::MAX;
    }
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// The line size from `hw.cachelinesize` (for both caches, which Apple does
/// not report separately), with neither IDC nor DIC claimed; `None` if the
/// sysctl fails or reports a size that is not a power of two from 4 bytes
/// to 128 KiB.
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    let line = LINE
        .get_or_init(|| NonZeroUsize::new(read_cachelinesize()).unwrap_or(NonZeroUsize::MAX))
        .get();
    CacheGeometry::from_lines(GeometrySource::Sysctl, line, line)
}

default_clear_cache_ranges!();

/// A dual mapping: `sys_dcache_flush` through the written alias, then
/// `sys_icache_invalidate` through the executed one, so that neither
/// depends on the other alias sharing cache lines.
#[inline]
pub(crate) unsafe fn clear_cache_dual(
    written: CodeRange,
    executed: CodeRange,
) -> Result<(), Error> {
    // SAFETY: the caller guarantees both aliases are mapped and readable;
    // neither function can fail.
    unsafe {
        sys_dcache_flush(written.start() as *mut c_void, written.len());
        sys_icache_invalidate(executed.start() as *mut c_void, executed.len());
    }
    Ok(())
}

given_geometry_ignored!();
mechanism_not_probed!();
