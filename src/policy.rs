//! The process-wide flush policy: chosen once, by [`init_with`](crate::init_with)
//! or by the first use of the crate (which chooses
//! [`FlushPolicy::BestEffort`]), and never changed silently afterwards.

use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::{Error, FlushMechanism};

/// What [`pipeline_flush_mt`](crate::pipeline_flush_mt) may do, and what it
/// must guarantee, for the whole process. Set it with
/// [`init_with`](crate::init_with) before the first flush; otherwise the
/// first use of the crate fixes it at [`BestEffort`](FlushPolicy::BestEffort).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FlushPolicy {
    /// The strongest mechanism the platform offers, falling back to weaker
    /// ones rather than failing (Linux: `membarrier` SYNC_CORE, then
    /// `PRIVATE_EXPEDITED`, then `GLOBAL`); on x86, x86_64 and s390x
    /// nothing, as Wasmtime and V8 do. [`flush_mechanism`](crate::flush_mechanism)
    /// and the [`Report`](crate::Report) say which one was taken.
    #[default]
    BestEffort,
    /// Only a mechanism that serialises every thread
    /// ([`FlushMechanism::serialises_all_threads`]) is accepted; anything
    /// weaker is an error ([`Error::Unsupported`]), never a silent fallback.
    ///
    /// On x86 and x86_64 (and s390x) Linux this follows the Intel SDM's
    /// cross-modifying-code rule for every thread:
    /// `membarrier(PRIVATE_EXPEDITED_SYNC_CORE)`, which the kernel implements
    /// with a core-serialising return to user mode on every CPU running the
    /// process. Elsewhere it accepts SYNC_CORE (Linux aarch64/arm, FreeBSD
    /// 14.1+) and [`ByClearCache`](FlushMechanism::ByClearCache) (RISC-V
    /// Linux, OpenBSD riscv64), and refuses the rest: Apple, NetBSD,
    /// OpenBSD aarch64, Windows (`FlushProcessWriteBuffers` is not
    /// documented as serialising), old kernels, Android below API 29.
    Strict,
    /// `membarrier` is never called, for sandboxes that kill the process on
    /// it (seccomp `KILL`, Android below API 29, some container profiles).
    /// [`pipeline_flush_mt`](crate::pipeline_flush_mt) then makes no system
    /// call and returns `Ok`, and guarantees nothing for other threads:
    /// wherever it would have used `membarrier` the mechanism is
    /// [`FlushMechanism::LocalSyncRequired`], and each thread that runs new
    /// code calls [`pipeline_flush_local`](crate::pipeline_flush_local)
    /// first. [`clear_cache`](crate::clear_cache) is unaffected (on RISC-V
    /// Linux it keeps `riscv_flush_icache`, which reaches every thread).
    NoSyscalls,
}

impl FlushPolicy {
    /// A short stable name: `"best-effort"`, `"strict"`, `"no-syscalls"`.
    pub const fn name(self) -> &'static str {
        match self {
            FlushPolicy::BestEffort => "best-effort",
            FlushPolicy::Strict => "strict",
            FlushPolicy::NoSyscalls => "no-syscalls",
        }
    }

    const fn encode(self) -> u8 {
        match self {
            FlushPolicy::BestEffort => 1,
            FlushPolicy::Strict => 2,
            FlushPolicy::NoSyscalls => 3,
        }
    }

    const fn decode(v: u8) -> FlushPolicy {
        match v {
            2 => FlushPolicy::Strict,
            3 => FlushPolicy::NoSyscalls,
            _ => FlushPolicy::BestEffort,
        }
    }
}

impl fmt::Display for FlushPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// 0 = not chosen yet; else [`FlushPolicy::encode`].
static POLICY: AtomicU8 = AtomicU8::new(0);

/// Whether the process initialised eagerly ([`init_with`](crate::init_with)),
/// which opts in to modes whose `clear_cache` reaches only the calling
/// thread (RISC-V's `fence.i` mode).
static EAGER: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Records eager initialisation (before its probe runs).
pub(crate) fn mark_eager() {
    EAGER.store(true, Ordering::Relaxed);
}

/// See [`mark_eager`].
#[allow(dead_code)] // read on riscv64 Linux only
pub(crate) fn eager() -> bool {
    EAGER.load(Ordering::Relaxed)
}

/// The policy in force, fixing it at `BestEffort` if none was chosen yet.
/// One relaxed load once chosen.
#[inline]
pub(crate) fn current() -> FlushPolicy {
    match POLICY.load(Ordering::Relaxed) {
        0 => first_use(),
        v => FlushPolicy::decode(v),
    }
}

/// The first use without [`choose`]: fixes `BestEffort` (or returns what a
/// racing `init_with` chose first).
#[cold]
#[inline(never)]
fn first_use() -> FlushPolicy {
    choose_in(&POLICY, FlushPolicy::BestEffort).unwrap_or_else(|in_force| in_force)
}

/// Chooses `p` for the process: `Ok` if it is (now) the policy in force,
/// `Err(in_force)` if another one was chosen first.
pub(crate) fn choose(p: FlushPolicy) -> Result<FlushPolicy, Error> {
    choose_in(&POLICY, p).map_err(|in_force| Error::PolicyConflict {
        in_force,
        requested: p,
    })
}

/// [`choose`] on a given cell (tests use their own).
fn choose_in(cell: &AtomicU8, p: FlushPolicy) -> Result<FlushPolicy, FlushPolicy> {
    match cell.compare_exchange(0, p.encode(), Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => Ok(p),
        Err(v) if v == p.encode() => Ok(p),
        Err(v) => Err(FlushPolicy::decode(v)),
    }
}

/// For backends whose mechanism is fixed (no system call to probe): the
/// mechanism under the policy in force, or, under
/// [`FlushPolicy::Strict`], the error for a mechanism that does not
/// serialise every thread.
#[allow(dead_code)] // not every backend has a fixed mechanism
#[inline]
pub(crate) fn fixed(m: FlushMechanism) -> Result<FlushMechanism, Error> {
    if current() == FlushPolicy::Strict && !m.serialises_all_threads() {
        Err(Error::NO_FACILITY)
    } else {
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_once_then_only_confirmed() {
        let cell = AtomicU8::new(0);
        assert_eq!(
            choose_in(&cell, FlushPolicy::Strict),
            Ok(FlushPolicy::Strict)
        );
        assert_eq!(
            choose_in(&cell, FlushPolicy::Strict),
            Ok(FlushPolicy::Strict)
        );
        assert_eq!(
            choose_in(&cell, FlushPolicy::BestEffort),
            Err(FlushPolicy::Strict)
        );
        assert_eq!(
            choose_in(&cell, FlushPolicy::NoSyscalls),
            Err(FlushPolicy::Strict)
        );
    }

    #[test]
    fn encodings_round_trip() {
        for p in [
            FlushPolicy::BestEffort,
            FlushPolicy::Strict,
            FlushPolicy::NoSyscalls,
        ] {
            assert_eq!(FlushPolicy::decode(p.encode()), p);
            assert_ne!(p.encode(), 0);
        }
    }
}
