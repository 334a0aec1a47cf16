//! Bare metal (`target_os = "none"`): the crate runs at EL1 (or above) or in
//! machine/supervisor mode, with no operating system to ask.
//!
//! - aarch64: `DC CVAU`/`IC IVAU` by `CTR_EL0` lines, as on Linux
//!   (`CTR_EL0` is always readable at EL1). The maintenance is broadcast to
//!   every core of the inner-shareable domain.
//! - riscv64: `fence.i`, which synchronises the calling hart only: code
//!   that other harts will run needs a `fence.i` on each of them
//!   ([`pipeline_flush_local`](crate::pipeline_flush_local)).
//! - x86, x86_64: nothing (coherent fetch).
//! - `pipeline_flush_mt`: no facility exists to interrupt the other cores,
//!   so it returns [`Error::Unsupported`] with no system call named
//!   (`syscall: None`), except on x86, where nothing is needed.

#[allow(unused_imports)] // which of these a target uses depends on its architecture
use crate::{range::CodeRange, CacheGeometry, Error, FlushMechanism};

cfg_table! {
    if #[cfg(target_arch = "aarch64")] {
        pub(crate) use crate::os::ctr_el0::*;

        pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
            // The first flush fixes the policy on every platform.
            let _ = crate::policy::current();
            Err(Error::NO_FACILITY)
        }

        pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
            (Err(Error::NO_FACILITY), 0)
        }

        mechanism_not_probed!();
    } else if #[cfg(target_arch = "riscv64")] {
        #[inline]
        pub(crate) unsafe fn clear_cache(_range: CodeRange) -> Result<(), Error> {
            crate::arch::riscv64::fence_i();
            Ok(())
        }

        #[inline]
        pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
            None
        }

        default_clear_cache_ranges!();
        default_clear_cache_dual!();

        pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
            // The first flush fixes the policy on every platform.
            let _ = crate::policy::current();
            Err(Error::NO_FACILITY)
        }

        pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
            (Err(Error::NO_FACILITY), 0)
        }

        mechanism_not_probed!();
    } else if #[cfg(any(target_arch = "x86", target_arch = "x86_64"))] {
        #[path = "coherent.rs"]
        mod coherent;
        pub(crate) use coherent::*;
    } else {
        #[path = "unsupported.rs"]
        mod unsupported;
        pub(crate) use unsupported::*;
    }
}
