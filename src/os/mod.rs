//! Operating-system backends, one file per OS and architecture (after
//! `std_detect`'s `detect/os/`). Exactly one is compiled in as `imp`; each
//! provides the same four functions, which the portable API in `lib.rs`
//! delegates to:
//!
//! ```text
//! unsafe fn clear_cache(range: CodeRange) -> Result<(), Error>
//! fn pipeline_flush_mt() -> Result<(), Error>
//! fn flush_mechanism() -> Result<FlushMechanism, Error>
//! fn cache_geometry() -> Option<CacheGeometry>
//! ```

#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
pub(crate) mod linux;

#[cfg(any(
    miri,
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "s390x"
))]
pub(crate) mod coherent;
#[cfg(any(
    miri,
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "s390x"
))]
pub(crate) use coherent as imp;

#[cfg(all(
    not(miri),
    target_arch = "aarch64",
    any(target_os = "linux", target_os = "android")
))]
pub(crate) use linux::aarch64 as imp;

#[cfg(all(not(miri), target_arch = "riscv64", target_os = "linux"))]
pub(crate) use linux::riscv64 as imp;

#[cfg(not(any(
    miri,
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "s390x",
    all(
        target_arch = "aarch64",
        any(target_os = "linux", target_os = "android")
    ),
    all(target_arch = "riscv64", target_os = "linux"),
)))]
pub(crate) mod unsupported;
#[cfg(not(any(
    miri,
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "s390x",
    all(
        target_arch = "aarch64",
        any(target_os = "linux", target_os = "android")
    ),
    all(target_arch = "riscv64", target_os = "linux"),
)))]
pub(crate) use unsupported as imp;
