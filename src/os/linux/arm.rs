//! Linux and Android on 32-bit Arm: cache maintenance is privileged there,
//! so the kernel does it (`cacheflush`, as LLVM compiler-rt and libgcc
//! call it), and `membarrier` across threads.

use crate::os::membarrier;
use crate::range::CodeRange;
use crate::{CacheGeometry, Error, FlushMechanism, Syscall};

/// `__ARM_NR_cacheflush` (`arch/arm/include/uapi/asm/unistd.h`:
/// `__ARM_NR_BASE + 2`, stable ABI).
const ARM_NR_CACHEFLUSH: libc::c_long = 0x0f_0002;

/// `cacheflush(start, end, 0)`: the kernel cleans the data cache and
/// invalidates the instruction cache for the range, on every core.
#[inline]
pub(crate) unsafe fn clear_cache(range: CodeRange) -> Result<(), Error> {
    let (start, end, flags) = crate::os::syscall_args::arm_cacheflush_args(&range);
    // SAFETY: the kernel validates the range against the process's mappings
    // and reads no memory through these arguments.
    let ret = unsafe { libc::syscall(ARM_NR_CACHEFLUSH, start, end, flags) };
    if ret < 0 {
        return Err(Error::from_errno(Syscall::ArmCacheflush, crate::os::errno()));
    }
    Ok(())
}

#[inline]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    membarrier::pipeline_flush_mt()
}

pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
    membarrier::flush_mechanism_counted()
}

pub(crate) use membarrier::flush_mechanism_peek;

/// `None`: `CTR` is not readable from user mode on 32-bit Arm.
#[inline]
pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    None
}

default_clear_cache_ranges!();
default_clear_cache_dual!();
