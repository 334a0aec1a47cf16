//! Linux and Android, one file per architecture.
//!
//! | architecture | `clear_cache` | `pipeline_flush_mt` |
//! |---|---|---|
//! | aarch64 | `DC CVAU`/`IC IVAU` by `CTR_EL0` lines, no syscall | `membarrier` |
//! | arm | `cacheflush(start, end, 0)` | `membarrier` |
//! | riscv64 | `riscv_flush_icache(start, end, 0)`, or with the Linux 6.10+ prctl `FENCE.I` | nothing more, or `membarrier` |
//! | x86, x86_64, s390x | nothing: coherent fetch | nothing; `membarrier` under `Strict` |
//! | others | `Error::Unsupported` | `Error::Unsupported` |
//!
//! On Android `membarrier` is only called from API level 29 on (see
//! [`crate::os::android`]).

cfg_table! {
    if #[cfg(target_arch = "aarch64")] {
        mod aarch64;
        pub(crate) use aarch64::*;
    } else if #[cfg(target_arch = "arm")] {
        mod arm;
        pub(crate) use arm::*;
    } else if #[cfg(target_arch = "riscv64")] {
        mod riscv64;
        pub(crate) use riscv64::*;
    } else if #[cfg(any(target_arch = "x86", target_arch = "x86_64", target_arch = "s390x"))] {
        mod coherent;
        pub(crate) use coherent::*;
    } else {
        #[path = "../unsupported.rs"]
        mod unsupported;
        pub(crate) use unsupported::*;
    }
}
