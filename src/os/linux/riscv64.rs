//! Linux on riscv64: the kernel does the work. `fence.i` only affects the
//! hart that executes it and threads migrate between harts, so user space
//! asks the kernel to make every hart of the process see the new code.

use crate::range::CodeRange;
use crate::{CacheGeometry, Error, FlushMechanism, Syscall};

/// `__NR_riscv_flush_icache` (`arch/riscv/include/uapi/asm/unistd.h`:
/// `__NR_arch_specific_syscall + 15`).
const SYS_RISCV_FLUSH_ICACHE: libc::c_long = 259;

/// `riscv_flush_icache(start, end, 0)`: flags 0 = every thread of the
/// process (1, `SYS_RISCV_FLUSH_ICACHE_LOCAL`, would be this thread only).
#[inline]
pub(crate) unsafe fn clear_cache(range: CodeRange) -> Result<(), Error> {
    // The end is exclusive; for a range ending at the top of the address
    // space it is not representable, so pass `usize::MAX` (the kernel
    // currently ignores the range and flushes everything).
    let end = range.end_saturating();
    // SAFETY: the kernel reads no memory through these arguments.
    let ret = unsafe {
        libc::syscall(
            SYS_RISCV_FLUSH_ICACHE,
            range.start(),
            end,
            0 as libc::c_ulong,
        )
    };
    if ret < 0 {
        return Err(Error::from_errno(Syscall::RiscvFlushIcache, crate::os::errno()));
    }
    Ok(())
}

#[inline]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    Ok(())
}

pub(crate) fn flush_mechanism() -> Result<FlushMechanism, Error> {
    Ok(FlushMechanism::ByClearCache)
}

pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    None
}
