//! The process-wide flush policy: chosen once, by [`init_with`](crate::init_with),
//! or by [`init`](crate::init) or the first
//! [`pipeline_flush_mt`](crate::pipeline_flush_mt) (which take the default,
//! [`FlushPolicy::BestEffort`]), and never changed silently afterwards.
//! Nothing else fixes it: not [`clear_cache`](crate::clear_cache), not the
//! getters.

use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::{Error, FlushMechanism};

/// What [`pipeline_flush_mt`](crate::pipeline_flush_mt) may do, and what it
/// must guarantee, for the whole process. Set it with
/// [`init_with`](crate::init_with) before the first
/// [`pipeline_flush_mt`](crate::pipeline_flush_mt) (and before any
/// [`init`](crate::init)); otherwise the first of those two fixes it at
/// [`BestEffort`](FlushPolicy::BestEffort). [`flush_policy`](crate::flush_policy)
/// reads it without fixing it.
///
/// On x86 and x86_64 the choice decides what other threads get:
/// `BestEffort` does nothing for them (what every x86 JIT and Wasmtime do);
/// the Intel SDM formally asks each executing processor to serialise, which
/// `Strict` gives every thread at once (Linux `membarrier` SYNC_CORE) and
/// [`pipeline_flush_local`](crate::pipeline_flush_local) gives the thread
/// that calls it.
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

/// What fixed the process's [`FlushPolicy`], as
/// [`flush_policy`](crate::flush_policy) and
/// [`Error::PolicyConflict`] report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyOrigin {
    /// An explicit [`init_with`](crate::init_with).
    InitWith,
    /// [`init`](crate::init) with no policy chosen yet: the default,
    /// [`FlushPolicy::BestEffort`].
    Init,
    /// The first [`pipeline_flush_mt`](crate::pipeline_flush_mt) with no
    /// policy chosen yet: the default, [`FlushPolicy::BestEffort`].
    FirstFlush,
}

impl PolicyOrigin {
    const fn encode(self) -> u8 {
        match self {
            PolicyOrigin::InitWith => 0x10,
            PolicyOrigin::Init => 0x20,
            PolicyOrigin::FirstFlush => 0x30,
        }
    }

    const fn decode(v: u8) -> PolicyOrigin {
        match v & 0xf0 {
            0x10 => PolicyOrigin::InitWith,
            0x20 => PolicyOrigin::Init,
            _ => PolicyOrigin::FirstFlush,
        }
    }
}

impl fmt::Display for PolicyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyOrigin::InitWith => "an earlier init_with",
            PolicyOrigin::Init => "an earlier init(), which took the default",
            PolicyOrigin::FirstFlush => "the first pipeline_flush_mt, which took the default",
        })
    }
}

/// The decision: 0 = not chosen yet; else [`FlushPolicy::encode`] |
/// [`PolicyOrigin::encode`], set once by a compare-and-swap.
static STATE: AtomicU8 = AtomicU8::new(0);

/// The hot path's copy of the decided policy alone ([`FlushPolicy::encode`],
/// 0 until someone who saw the decision stored it): what
/// [`current`] loads, so that the flush's fast path is one load and one
/// compare, with no masking. Only ever set to `STATE`'s policy.
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

fn decode(v: u8) -> Option<(FlushPolicy, PolicyOrigin)> {
    (v != 0).then(|| (FlushPolicy::decode(v & 0x0f), PolicyOrigin::decode(v)))
}

/// The policy in force and what fixed it; `None` if nothing has yet. A
/// read: fixes nothing.
#[inline]
pub(crate) fn in_force() -> Option<(FlushPolicy, PolicyOrigin)> {
    decode(STATE.load(Ordering::Relaxed))
}

/// The policy in force, fixing it at `BestEffort` (origin: the first
/// flush) if none was chosen yet. One relaxed load once chosen. Called by
/// `pipeline_flush_mt` on every backend, and nowhere else before a policy
/// is chosen.
#[inline]
pub(crate) fn current() -> FlushPolicy {
    match POLICY.load(Ordering::Relaxed) {
        0 => first_use(),
        v => FlushPolicy::decode(v),
    }
}

/// Records `p`, the decided policy, for [`current`]'s fast path.
fn publish(p: FlushPolicy) -> FlushPolicy {
    POLICY.store(p.encode(), Ordering::Relaxed);
    p
}

/// The first flush without a chosen policy: fixes `BestEffort` (or returns
/// what a racing `init`/`init_with` chose first).
#[cold]
#[inline(never)]
fn first_use() -> FlushPolicy {
    publish(
        match choose_in(&STATE, FlushPolicy::BestEffort, PolicyOrigin::FirstFlush) {
            Ok(p) => p,
            Err((in_force, _)) => in_force,
        },
    )
}

/// `init_with(p)`: `Ok` if `p` is (now) the policy in force, else the
/// conflict, saying what fixed the other one.
pub(crate) fn choose(p: FlushPolicy) -> Result<FlushPolicy, Error> {
    match choose_in(&STATE, p, PolicyOrigin::InitWith) {
        Ok(p) => Ok(publish(p)),
        Err((in_force, fixed_by)) => {
            publish(in_force);
            Err(Error::PolicyConflict {
                in_force,
                requested: p,
                fixed_by,
            })
        }
    }
}

/// `init()`: the policy in force, or the default if none is (origin
/// [`PolicyOrigin::Init`]). Never a conflict.
pub(crate) fn choose_default() -> FlushPolicy {
    publish(
        match choose_in(&STATE, FlushPolicy::BestEffort, PolicyOrigin::Init) {
            Ok(p) => p,
            Err((in_force, _)) => in_force,
        },
    )
}

/// Chooses `p` (recording `origin`) on a given cell (tests use their own):
/// `Ok(p)` if the cell was empty or already held `p`, else the policy in
/// force and its origin.
fn choose_in(
    cell: &AtomicU8,
    p: FlushPolicy,
    origin: PolicyOrigin,
) -> Result<FlushPolicy, (FlushPolicy, PolicyOrigin)> {
    match cell.compare_exchange(
        0,
        p.encode() | origin.encode(),
        Ordering::Relaxed,
        Ordering::Relaxed,
    ) {
        Ok(_) => Ok(p),
        Err(v) if v & 0x0f == p.encode() => Ok(p),
        Err(v) => Err((FlushPolicy::decode(v & 0x0f), PolicyOrigin::decode(v))),
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
        use PolicyOrigin::*;
        let cell = AtomicU8::new(0);
        assert_eq!(decode(cell.load(Ordering::Relaxed)), None);
        assert_eq!(
            choose_in(&cell, FlushPolicy::Strict, InitWith),
            Ok(FlushPolicy::Strict)
        );
        // The same policy from any origin is confirmed, and the first
        // origin stays.
        assert_eq!(
            choose_in(&cell, FlushPolicy::Strict, FirstFlush),
            Ok(FlushPolicy::Strict)
        );
        assert_eq!(
            decode(cell.load(Ordering::Relaxed)),
            Some((FlushPolicy::Strict, InitWith))
        );
        assert_eq!(
            choose_in(&cell, FlushPolicy::BestEffort, Init),
            Err((FlushPolicy::Strict, InitWith))
        );
        assert_eq!(
            choose_in(&cell, FlushPolicy::NoSyscalls, InitWith),
            Err((FlushPolicy::Strict, InitWith))
        );
        let cell = AtomicU8::new(0);
        assert_eq!(
            choose_in(&cell, FlushPolicy::BestEffort, FirstFlush),
            Ok(FlushPolicy::BestEffort)
        );
        assert_eq!(
            choose_in(&cell, FlushPolicy::Strict, InitWith),
            Err((FlushPolicy::BestEffort, FirstFlush))
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
            for o in [
                PolicyOrigin::InitWith,
                PolicyOrigin::Init,
                PolicyOrigin::FirstFlush,
            ] {
                assert_eq!(decode(p.encode() | o.encode()), Some((p, o)));
            }
        }
    }
}
