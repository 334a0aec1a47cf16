//! Architecture primitives: the instructions themselves, parameterised by
//! geometry and independent of the operating system. One folder per
//! architecture; the OS backends in [`crate::os`] decide when to use them.

#[cfg(all(target_arch = "aarch64", not(miri)))]
pub(crate) mod aarch64;
