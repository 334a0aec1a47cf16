//! Architecture primitives: the instructions themselves, parameterised by
//! geometry and independent of the operating system. One folder per
//! architecture; the OS backends in [`crate::os`] decide when to use them.
//!
//! Each architecture provides `pipeline_flush_local()`, the instruction that
//! discards what the calling core has already fetched. x86, x86_64 and
//! s390x also provide `cache_geometry()`, from an unprivileged instruction
//! (`CPUID`, `ECAG`) that needs no OS; under Miri it is `None`.

cfg_table! {
    if #[cfg(miri)] {
        /// Miri models no instruction fetch: a compiler fence keeps the
        /// ordering the real instruction would have.
        #[inline(always)]
        pub(crate) fn pipeline_flush_local() {
            core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        }

        /// Miri cannot execute `CPUID` or `ECAG`: no geometry.
        #[inline]
        pub(crate) fn cache_geometry() -> Option<crate::CacheGeometry> {
            None
        }
    } else if #[cfg(target_arch = "aarch64")] {
        pub(crate) mod aarch64;
        pub(crate) use aarch64::isb as pipeline_flush_local;
    } else if #[cfg(target_arch = "arm64ec")] {
        /// `ISB` on Windows' Arm64EC (AArch64 hardware, x64-compatible ABI).
        #[inline(always)]
        pub(crate) fn pipeline_flush_local() {
            // SAFETY: a context synchronisation event; no register or memory changes.
            unsafe { core::arch::asm!("isb", options(nostack, preserves_flags)) };
        }
    } else if #[cfg(target_arch = "arm")] {
        pub(crate) mod arm;
        pub(crate) use arm::isb as pipeline_flush_local;
    } else if #[cfg(target_arch = "riscv64")] {
        pub(crate) mod riscv64;
        pub(crate) use riscv64::fence_i as pipeline_flush_local;
    } else if #[cfg(all(target_arch = "x86_64", target_env = "sgx"))] {
        /// Inside an SGX enclave `CPUID` faults and `SERIALIZE` cannot be
        /// assumed: a compiler fence only. Documented on
        /// [`pipeline_flush_local`](crate::pipeline_flush_local).
        #[inline(always)]
        pub(crate) fn pipeline_flush_local() {
            core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        }
    } else if #[cfg(any(target_arch = "x86", target_arch = "x86_64"))] {
        pub(crate) mod x86;
        pub(crate) use x86::serialize as pipeline_flush_local;
        pub(crate) use x86::iret_to_self as x86_iret_to_self;
        #[cfg(not(target_vendor = "apple"))]
        pub(crate) use x86::cache_geometry;
    } else if #[cfg(target_arch = "s390x")] {
        pub(crate) mod s390x;
        pub(crate) use s390x::serialize as pipeline_flush_local;
        pub(crate) use s390x::cache_geometry;
    } else {
        /// Architectures this crate has no instructions for: a compiler
        /// fence only (their backends return `Error::Unsupported`).
        #[inline(always)]
        pub(crate) fn pipeline_flush_local() {
            core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// The name of the instruction [`pipeline_flush_local`] executes here.
#[allow(unreachable_code)]
pub(crate) fn local_sync_instruction() -> &'static str {
    #[cfg(miri)]
    return "compiler fence";
    #[cfg(all(not(miri), any(target_arch = "aarch64", target_arch = "arm64ec")))]
    return "ISB";
    #[cfg(all(not(miri), target_arch = "arm"))]
    return arm::isb_name();
    #[cfg(all(not(miri), target_arch = "riscv64"))]
    return "FENCE.I";
    #[cfg(all(
        not(miri),
        any(target_arch = "x86", target_arch = "x86_64"),
        not(target_env = "sgx")
    ))]
    return x86::serializing_instruction();
    #[cfg(all(not(miri), target_arch = "s390x"))]
    return "BCR 15,0";
    "compiler fence"
}
