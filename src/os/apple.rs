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
//! - `cache_geometry`: on arm64, 64-byte lines, what maintenance by
//!   address steps by on every Apple core (xnu `osfmk/arm64/proc_reg.h`
//!   `MMU_CLINE`/`MMU_I_CLINE` = 6; libplatform's `sys_icache_invalidate`
//!   steps by `1 << MMU_I_CLINE`), with `sysctlbyname("hw.cachelinesize")`
//!   (128 on Apple silicon) as the coherence granule; on x86_64 the sysctl
//!   for both. The decision is [`crate::geometry::apple_geometry`].

use core::ffi::{c_char, c_void};
use core::num::NonZeroUsize;
use once_cell::race::OnceNonZeroUsize;

use crate::range::CodeRange;
#[allow(unused_imports)] // `CacheGeometry` in `clear_cache_with` on aarch64 only
use crate::{CacheGeometry, Error, FlushMechanism};

extern "C" {
    /// libSystem: make `len` bytes at `start` coherent for instruction fetch.
    fn sys_icache_invalidate(start: *mut c_void, len: usize);
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

/// [`crate::geometry::apple_geometry`] of `hw.cachelinesize`, read once:
/// neither IDC nor DIC claimed.
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    let line = LINE
        .get_or_init(|| NonZeroUsize::new(read_cachelinesize()).unwrap_or(NonZeroUsize::MAX))
        .get();
    let line = (line != usize::MAX).then_some(line);
    crate::geometry::apple_geometry(cfg!(target_arch = "aarch64"), line)
}

default_clear_cache_ranges!();

/// A dual mapping: the calls of [`crate::os::apple_plan::dual`], which is
/// `sys_icache_invalidate(executed)` alone (see there why no
/// `sys_dcache_flush`).
#[inline]
pub(crate) unsafe fn clear_cache_dual(
    written: CodeRange,
    executed: CodeRange,
) -> Result<(), Error> {
    for call in crate::os::apple_plan::dual(written, executed) {
        match call {
            crate::os::apple_plan::Call::IcacheInvalidate { start, len } => {
                // SAFETY: the caller guarantees both aliases are mapped and
                // readable, which is all `sys_icache_invalidate` needs; it
                // cannot fail.
                unsafe { sys_icache_invalidate(start as *mut c_void, len) }
            }
        }
    }
    Ok(())
}

given_geometry_ignored!();
mechanism_not_probed!();
