//! The atomics the protocol is written against: `core::sync::atomic`, or
//! loom's model of it under `cfg(loom)`. The loom tests therefore check the
//! very code that runs in production, not a copy of it.
//!
//! `--cfg loom` is only meaningful for `cargo test --lib` (loom is a
//! dev-dependency); see `loom_tests.rs` for the command.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, Ordering};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicU32, Ordering};
