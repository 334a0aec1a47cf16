//! The arguments of the system calls the Linux backends make, built by pure
//! functions so that they are tested on every host: QEMU answers
//! `riscv_flush_icache` itself and returns 0 whatever it is passed, so
//! running the call proves nothing about its arguments.

// Each architecture uses its own part; tests use all.
#![allow(dead_code)]

use crate::range::CodeRange;
use crate::{Error, FlushMechanism};

/// `riscv_flush_icache(start, end, flags)`: flags 0 means every thread of
/// the process (`SYS_RISCV_FLUSH_ICACHE_LOCAL` = 1 would be this thread
/// only). The end is exclusive (see [`CodeRange::end_saturating`]).
pub(crate) const fn riscv_flush_icache_args(range: &CodeRange) -> (usize, usize, usize) {
    (range.start(), range.end_saturating(), 0)
}

/// Of several ranges, one `riscv_flush_icache` over their hull: the kernel
/// flushes the whole instruction cache of every hart running the process
/// whatever the range (`arch/riscv/mm/cacheflush.c`, `flush_icache_mm`), so
/// one call over the hull is as precise as one per range, and N-1 system
/// calls cheaper. `None` for no ranges.
pub(crate) fn riscv_flush_icache_hull(
    ranges: impl Iterator<Item = CodeRange>,
) -> Option<(usize, usize, usize)> {
    let (lo, hi) = ranges.fold(None, |acc: Option<(usize, usize)>, r| {
        Some(match acc {
            None => (r.start(), r.last()),
            Some((lo, hi)) => (lo.min(r.start()), hi.max(r.last())),
        })
    })?;
    Some((lo, hi.saturating_add(1), 0))
}

/// `cacheflush(start, end, 0)` on 32-bit Arm Linux.
pub(crate) const fn arm_cacheflush_args(range: &CodeRange) -> (usize, usize, usize) {
    (range.start(), range.end_saturating(), 0)
}

/// `PR_RISCV_SET_ICACHE_FLUSH_CTX` (`include/uapi/linux/prctl.h`).
pub(crate) const PR_RISCV_SET_ICACHE_FLUSH_CTX: i32 = 71;
/// `PR_RISCV_CTX_SW_FENCEI_ON`.
pub(crate) const PR_RISCV_CTX_SW_FENCEI_ON: usize = 0;
/// `PR_RISCV_SCOPE_PER_PROCESS`.
pub(crate) const PR_RISCV_SCOPE_PER_PROCESS: usize = 0;

/// `prctl(PR_RISCV_SET_ICACHE_FLUSH_CTX, PR_RISCV_CTX_SW_FENCEI_ON,
/// PR_RISCV_SCOPE_PER_PROCESS)`: from Linux 6.10, the kernel runs `fence.i`
/// whenever a thread of the process migrates to another hart, so user space
/// may use `fence.i` itself.
pub(crate) const fn riscv_prctl_args() -> (i32, usize, usize) {
    (
        PR_RISCV_SET_ICACHE_FLUSH_CTX,
        PR_RISCV_CTX_SW_FENCEI_ON,
        PR_RISCV_SCOPE_PER_PROCESS,
    )
}

/// How RISC-V Linux makes new code visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RiscvMode {
    /// `clear_cache` is `riscv_flush_icache(start, end, 0)`: every thread.
    Syscall,
    /// `clear_cache` is a local `fence.i` (no system call); migration is
    /// covered by the prctl, threads running on other harts right now by
    /// `pipeline_flush_mt`'s `membarrier(SYNC_CORE)`, which executes
    /// `fence.i` on them.
    FenceI,
}

/// The decision: `fence.i` only when the process asked for it by eager
/// initialisation ([`crate::init`] before the first `clear_cache`), `membarrier`
/// SYNC_CORE is in force, and the prctl is accepted; otherwise the system
/// call. Lazy first use keeps `riscv_flush_icache`, so that code written
/// for the crates this replaces, which may rely on `clear_cache` alone
/// reaching every thread, keeps that guarantee. SYNC_CORE is required
/// because the kernel leaves threads running on other harts to user space
/// (cmodx.rst: "the other thread must still emit an icache flushing
/// instruction"), and SYNC_CORE runs `fence.i` on them. `membarrier` is
/// probed first and the prctl only tried if it is in force, so the prctl
/// is never left on for nothing.
pub(crate) fn riscv_plan(
    eager: bool,
    membarrier: impl FnOnce() -> Result<FlushMechanism, Error>,
    prctl: impl FnOnce() -> Result<(), i32>,
) -> RiscvMode {
    if eager && membarrier() == Ok(FlushMechanism::MembarrierSyncCore) && prctl().is_ok() {
        RiscvMode::FenceI
    } else {
        RiscvMode::Syscall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: usize, len: usize) -> CodeRange {
        CodeRange::new(start, len).unwrap().unwrap()
    }

    #[test]
    fn flush_args_are_start_exclusive_end_and_all_threads() {
        assert_eq!(riscv_flush_icache_args(&r(0x1000, 64)), (0x1000, 0x1040, 0));
        assert_eq!(riscv_flush_icache_args(&r(0x1001, 1)), (0x1001, 0x1002, 0));
        // Ending exactly at the top: the end saturates instead of wrapping.
        assert_eq!(
            riscv_flush_icache_args(&r(usize::MAX - 15, 16)),
            (usize::MAX - 15, usize::MAX, 0)
        );
        assert_eq!(arm_cacheflush_args(&r(0x2000, 8)), (0x2000, 0x2008, 0));
        assert_eq!(
            arm_cacheflush_args(&r(usize::MAX, 1)),
            (usize::MAX, usize::MAX, 0)
        );
    }

    #[test]
    fn hull_of_ranges() {
        assert_eq!(riscv_flush_icache_hull([].into_iter()), None);
        assert_eq!(
            riscv_flush_icache_hull([r(0x3000, 16), r(0x1000, 8), r(0x2000, 0x2000)].into_iter()),
            Some((0x1000, 0x4000, 0))
        );
        assert_eq!(
            riscv_flush_icache_hull([r(usize::MAX - 1, 2), r(0, 1)].into_iter()),
            Some((0, usize::MAX, 0))
        );
    }

    #[test]
    fn prctl_args() {
        assert_eq!(riscv_prctl_args(), (71, 0, 0));
    }

    #[test]
    fn fence_i_only_when_eager_with_sync_core_and_prctl() {
        use FlushMechanism::*;
        // Lazy first use: the system call; nothing probed, no prctl.
        assert_eq!(
            riscv_plan(false, || panic!("probed membarrier"), || panic!("prctl")),
            RiscvMode::Syscall
        );
        // prctl refused (older kernels; QEMU, which forwards it to the x86
        // host): the system call.
        assert_eq!(
            riscv_plan(true, || Ok(MembarrierSyncCore), || Err(22)),
            RiscvMode::Syscall
        );
        assert_eq!(
            riscv_plan(true, || Ok(MembarrierSyncCore), || Ok(())),
            RiscvMode::FenceI
        );
        // Without SYNC_CORE the prctl is not even tried.
        for weaker in [
            Ok(MembarrierPrivateExpedited),
            Ok(MembarrierGlobal),
            Ok(LocalSyncRequired),
            Err(Error::NO_FACILITY),
        ] {
            assert_eq!(
                riscv_plan(true, || weaker, || panic!("prctl tried")),
                RiscvMode::Syscall,
                "{weaker:?}"
            );
        }
    }
}
