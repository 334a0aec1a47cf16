//! FreeBSD, NetBSD and OpenBSD.
//!
//! | | `clear_cache` | `pipeline_flush_mt` |
//! |---|---|---|
//! | aarch64 | `DC CVAU`/`IC IVAU` by `CTR_EL0` lines (see below) | FreeBSD 14.1+: `membarrier` (syscall 584, Linux-compatible); older FreeBSD, NetBSD, OpenBSD: nothing, [`FlushMechanism::LocalSyncRequired`] |
//! | x86, x86_64 | nothing: coherent fetch | nothing, [`FlushMechanism::NotRequired`] |
//! | riscv64 | OpenBSD: `sysarch(RISCV_SYNC_ICACHE)`; FreeBSD, NetBSD: [`Error::Unsupported`] | OpenBSD: [`FlushMechanism::ByClearCache`] |
//!
//! `CTR_EL0` is readable at EL0 on all three (`SCTLR_EL1.UCT`); FreeBSD 15
//! and NetBSD 10 trap and emulate it where cores differ, reporting the
//! system-wide minimum. OpenBSD's arm64 system compiler runtime (LLVM
//! compiler-rt's `__clear_cache`) reads it at EL0 as this crate does.
//!
//! FreeBSD answers a system call it does not implement with `SIGSYS`, which
//! kills the process by default; so `membarrier` is only called once
//! `sysctl kern.osreldate` says the kernel has it: 14.1 (1401000) or later
//! on stable/14 (membarrier(2), HISTORY), 1500001 or later on main and the
//! releases since (a 15.0-CURRENT kernel at 1500000 may predate the commit
//! that added it): [`crate::os::version::freebsd_has_membarrier`].

#[allow(unused_imports)] // which of these a target uses depends on its architecture
use crate::{range::CodeRange, CacheGeometry, Error, FlushMechanism, Syscall};

#[cfg(all(target_os = "freebsd", not(any(target_arch = "x86", target_arch = "x86_64"))))]
fn freebsd_osreldate() -> Option<i32> {
    let mut value: libc::c_int = 0;
    let mut size = core::mem::size_of::<libc::c_int>();
    // SAFETY: the name is NUL-terminated; `value` and `size` are valid for
    // writes and `size` holds the buffer's length; no new value is set.
    let ret = unsafe {
        libc::sysctlbyname(
            c"kern.osreldate".as_ptr(),
            (&mut value as *mut libc::c_int).cast(),
            &mut size,
            core::ptr::null(),
            0,
        )
    };
    (ret == 0 && size == core::mem::size_of::<libc::c_int>()).then_some(value)
}

cfg_table! {
    if #[cfg(target_arch = "aarch64")] {
        pub(crate) use crate::os::ctr_el0::*;

        #[inline]
        pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
            #[cfg(target_os = "freebsd")]
            if freebsd_membarrier() {
                return crate::os::membarrier::pipeline_flush_mt();
            }
            crate::policy::fixed(FlushMechanism::LocalSyncRequired).map(drop)
        }

        pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
            #[cfg(target_os = "freebsd")]
            if freebsd_membarrier() {
                return crate::os::membarrier::flush_mechanism_counted();
            }
            (crate::policy::fixed(FlushMechanism::LocalSyncRequired), 0)
        }

        pub(crate) fn flush_mechanism_peek() -> Option<Result<FlushMechanism, Error>> {
            #[cfg(target_os = "freebsd")]
            if freebsd_membarrier() {
                return crate::os::membarrier::flush_mechanism_peek();
            }
            Some(crate::policy::fixed(FlushMechanism::LocalSyncRequired))
        }

        /// The osreldate decision, made once per process.
        #[cfg(target_os = "freebsd")]
        fn freebsd_membarrier() -> bool {
            static HAS: once_cell::race::OnceBool = once_cell::race::OnceBool::new();
            HAS.get_or_init(|| crate::os::version::freebsd_has_membarrier(freebsd_osreldate()))
        }
    } else if #[cfg(any(target_arch = "x86", target_arch = "x86_64"))] {
        #[path = "coherent.rs"]
        mod coherent;
        pub(crate) use coherent::*;
    } else if #[cfg(all(target_os = "openbsd", target_arch = "riscv64"))] {
        /// `RISCV_SYNC_ICACHE` (`<machine/sysarch.h>`).
        const RISCV_SYNC_ICACHE: libc::c_int = 0;

        /// `struct riscv_sync_icache_args` (`<machine/sysarch.h>`).
        #[repr(C)]
        struct RiscvSyncIcacheArgs {
            addr: u64,
            len: u64,
        }

        extern "C" {
            fn sysarch(number: libc::c_int, args: *mut libc::c_void) -> libc::c_int;
        }

        /// `sysarch(RISCV_SYNC_ICACHE, {addr, len})`, as compiler-rt's
        /// `__clear_cache` does on OpenBSD: the kernel makes every hart see
        /// the new code.
        #[inline]
        pub(crate) unsafe fn clear_cache(range: CodeRange) -> Result<(), Error> {
            let mut args = RiscvSyncIcacheArgs {
                addr: range.start() as u64,
                len: range.len() as u64,
            };
            // SAFETY: `args` is a live, correctly laid out argument block.
            let ret = unsafe { sysarch(RISCV_SYNC_ICACHE, (&mut args as *mut RiscvSyncIcacheArgs).cast()) };
            if ret < 0 {
                return Err(Error::from_errno(Syscall::Sysarch, crate::os::errno()));
            }
            Ok(())
        }

        #[inline]
        pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
            // The first flush fixes the policy on every platform.
            let _ = crate::policy::current();
            Ok(())
        }

        pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
            (Ok(FlushMechanism::ByClearCache), 0)
        }

        mechanism_not_probed!();

        pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
            None
        }

        default_clear_cache_ranges!();
        default_clear_cache_dual!();
    } else {
        #[path = "unsupported.rs"]
        mod unsupported;
        pub(crate) use unsupported::*;
    }
}
