//! Model check of the coalescing protocol with loom: every interleaving (up
//! to a preemption bound) and every value a Relaxed load may return under
//! the C++ memory model, run against the very code of `mod.rs` (its atomics
//! are loom's under `cfg(loom)`, its futex the model in `wait.rs`, which
//! turns a lost wake into a reported deadlock).
//!
//! ```sh
//! RUSTFLAGS="--cfg loom -C debug-assertions" CARGO_TARGET_DIR=target/loom \
//!   cargo test --release --lib coalesce::loom
//! ```
//!
//! `-C debug-assertions` keeps the protocol's own assertions on in the
//! optimised build (one issuer at a time, checked at every end), besides
//! the model's (`issue` asserts under loom that no two protocol calls are
//! in progress; the mock barrier asserts it too where no caller can make a
//! call of its own). `LOOM_MAX_PREEMPTIONS=n` overrides the bounds below.
//! What the models do **not** cover is listed in the README's correctness
//! document: more than four callers, more than two flushes per caller,
//! preemption bounds above the ones named, and the real futex, clock and
//! fork (those are tested on real threads in `tests.rs`).
//!
//! Under loom, `seq` has 3 bits (it wraps every 4 calls), waiters poll
//! once before sleeping, and the modelled futex can return spuriously or
//! time out on a caller's first wait (per model), so those paths are
//! explored too.
//!
//! Each caller `i`, for each of its flushes:
//! 1. stores its flush number (from 1) in `data[i]` (Relaxed): the code it
//!    wrote before flushing;
//! 2. ticks `entry`, calls `run`, ticks `exit` (one shared Relaxed counter:
//!    Relaxed so that the counter adds no synchronisation of its own);
//! 3. loads `acks[i]` (Relaxed).
//!
//! The mock barrier ticks `start`, loads every `data[j]` (Relaxed) to learn
//! which flush of each caller it *sees*, fails if the model says its call
//! number fails, else raises `acks[j]` to what it saw (`fetch_max`), and
//! ticks `end`.
//!
//! Checked after every execution, for each flush that got `Ok`:
//! - some successful call has `start > entry` and `end < exit` (the rule,
//!   by the shared counter);
//! - that call saw this flush's number (or a later one) in `data[i]`: the
//!   caller's writes happen before the call (else loom also explores the
//!   execution where the Relaxed load returns an older number);
//! - `acks[i]` read at least this flush's number: a covering call's end
//!   happens before the return;
//!
//! and that exactly the flushes that issued failed calls got `Err`. A
//! waiter that never returns makes loom fail the model (deadlock or branch
//! limit). Models that are meant to show sharing also check, over all
//! executions, that some flush returned `Ok` served by another caller's
//! call (so the orderings a shared call relies on are exercised).

use super::wait::Model;
use super::{Coalescer, ONE_SEQ};
use loom::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::SeqCst};
use std::time::Instant;

/// Most callers in a model (loom allows five threads, main included).
const MAX: usize = 4;

/// One barrier call, as its issuer recorded it.
#[derive(Clone, Copy, Debug)]
struct Call {
    start: usize,
    end: usize,
    /// `seen[j]`: the last flush number of caller `j` the call saw in
    /// `data[j]` (0: none).
    seen: [usize; MAX],
    ok: bool,
}

/// One flush, as its caller saw it.
#[derive(Debug)]
struct Record {
    caller: usize,
    /// Which of the caller's flushes (from 1).
    flush: usize,
    entry: usize,
    exit: usize,
    ok: bool,
    /// The call this flush issued, if any (at most one per `run`).
    issued: Option<Call>,
    /// The flush number of this caller that a call had acknowledged when
    /// the flush returned.
    acked: usize,
}

/// How a model is set up.
#[derive(Clone, Copy, Default)]
struct Setup {
    callers: usize,
    /// Flushes per caller (1 or 2).
    flushes: usize,
    /// Bit `n`: the `n`th call (from 0) fails.
    fail: u32,
    /// `Some(n)`: callers use `run_adaptive`, the next `n` coalesced.
    adaptive: Option<u32>,
    /// Bit `i`: caller `i` takes `run_adaptive`'s solo path.
    solo: u32,
    /// The modelled futex's behaviour.
    model: Model,
    /// The coalescer starts as a forked child inherits it: a call in
    /// flight and a sleeper counted, of another generation.
    inherited: bool,
    /// Check that some execution has a flush served by another's call.
    shares: bool,
}

impl Setup {
    fn new(callers: usize) -> Self {
        Setup {
            callers,
            flushes: 1,
            ..Setup::default()
        }
    }

    /// Whether some caller may call the barrier outside the protocol (so
    /// calls may overlap).
    fn own_calls(&self) -> bool {
        self.adaptive.is_some() || self.solo != 0 || self.model.timeout || self.inherited
    }
}

struct Shared {
    c: Coalescer,
    setup: Setup,
    clock: AtomicUsize,
    /// `data[i]`: the number of caller `i`'s latest flush (its "code").
    data: [AtomicUsize; MAX],
    /// `acks[i]`: the latest flush number of caller `i` a successful call
    /// saw.
    acks: [AtomicUsize; MAX],
    /// Calls so far.
    calls: AtomicUsize,
    /// Calls in progress.
    in_call: AtomicUsize,
}

fn caller(s: &Shared, i: usize) -> Vec<Record> {
    let callers = s.setup.callers;
    let mut records = Vec::new();
    for flush in 1..=s.setup.flushes {
        s.data[i].store(flush, Relaxed);
        let entry = s.clock.fetch_add(1, Relaxed);
        let mut issued = None;
        let barrier = || {
            let others = s.in_call.fetch_add(1, Relaxed);
            assert!(
                others == 0 || s.setup.own_calls(),
                "two barrier calls at once where only the protocol calls"
            );
            let start = s.clock.fetch_add(1, Relaxed);
            let mut seen = [0; MAX];
            for (j, d) in s.data.iter().enumerate().take(callers) {
                seen[j] = d.load(Relaxed);
            }
            let ok = s.setup.fail & 1 << s.calls.fetch_add(1, Relaxed) == 0;
            if ok {
                for (j, a) in s.acks.iter().enumerate().take(callers) {
                    // fetch_max: a slower call that saw an older flush must
                    // not lower a newer acknowledgement.
                    a.fetch_max(seen[j], Relaxed);
                }
            }
            let end = s.clock.fetch_add(1, Relaxed);
            s.in_call.fetch_sub(1, Relaxed);
            issued = Some(Call {
                start,
                end,
                seen,
                ok,
            });
            if ok {
                Ok(())
            } else {
                Err(())
            }
        };
        let r = if s.setup.solo & 1 << i != 0 {
            s.c.run_solo(barrier)
        } else if s.setup.adaptive.is_some() {
            s.c.run_adaptive(barrier)
        } else {
            s.c.run(barrier)
        };
        let exit = s.clock.fetch_add(1, Relaxed);
        let acked = s.acks[i].load(Relaxed);
        records.push(Record {
            caller: i,
            flush,
            entry,
            exit,
            ok: r.is_ok(),
            issued,
            acked,
        });
    }
    records
}

/// Checks one execution; returns whether a flush was served by another
/// caller's call.
fn check(records: &[Record]) -> bool {
    let calls: Vec<Call> = records.iter().filter_map(|r| r.issued).collect();
    let mut shared = false;
    for r in records {
        let i = r.caller;
        if !r.ok {
            assert!(
                matches!(r.issued, Some(Call { ok: false, .. })),
                "caller {i} got Err without issuing a failed call: {records:?}"
            );
            continue;
        }
        assert!(
            calls
                .iter()
                .any(|c| c.ok && c.start > r.entry && c.end < r.exit && c.seen[i] >= r.flush),
            "caller {i} returned Ok without a covering call: {records:?}"
        );
        assert!(
            r.acked >= r.flush,
            "caller {i} flush {} returned before a covering call ended",
            r.flush
        );
        shared |= r.issued.is_none();
    }
    let failed = calls.iter().filter(|c| !c.ok).count();
    let errs = records.iter().filter(|r| !r.ok).count();
    assert_eq!(failed, errs, "{records:?}");
    shared
}

/// Runs the model under `bound` preemptions (unless LOOM_MAX_PREEMPTIONS
/// says otherwise).
fn model(setup: Setup, bound: usize) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    let t0 = Instant::now();
    let executions = std::sync::Arc::new(StdAtomicUsize::new(0));
    let sharing = std::sync::Arc::new(StdAtomicUsize::new(0));
    let (e, sh) = (executions.clone(), sharing.clone());
    builder.check(move || {
        #[allow(unused_mut)]
        let mut c = Coalescer::new();
        c.model = setup.model;
        if let Some(n) = setup.adaptive {
            c.coalesce_next(n);
        }
        if setup.inherited {
            c.word.store(ONE_SEQ | 1, Relaxed);
            c.generation
                .store(super::fork::FIRST_GENERATION + 1, Relaxed);
        }
        let s = Arc::new(Shared {
            c,
            setup,
            clock: AtomicUsize::new(0),
            data: Default::default(),
            acks: Default::default(),
            calls: AtomicUsize::new(0),
            in_call: AtomicUsize::new(0),
        });
        let others: Vec<_> = (1..setup.callers)
            .map(|i| {
                let s = s.clone();
                thread::spawn(move || caller(&s, i))
            })
            .collect();
        let mut records = caller(&s, 0);
        for h in others {
            records.extend(h.join().unwrap());
        }
        e.fetch_add(1, SeqCst);
        if check(&records) {
            sh.fetch_add(1, SeqCst);
        }
    });
    let (executions, sharing) = (executions.load(SeqCst), sharing.load(SeqCst));
    eprintln!(
        "loom: {} callers x {} flushes, failing calls {:#b}, adaptive {:?}, solo {:#b}, {:?}, inherited {}, preemption bound {:?}: {} executions, {} with a shared call, {:.1?}",
        setup.callers,
        setup.flushes,
        setup.fail,
        setup.adaptive,
        setup.solo,
        setup.model,
        setup.inherited,
        builder.preemption_bound,
        executions,
        sharing,
        t0.elapsed()
    );
    if setup.shares {
        assert!(
            sharing > 0,
            "no execution had a flush served by another caller's call"
        );
    }
}

#[test]
fn two_callers() {
    model(Setup::new(2), 6);
}

/// Three callers: two may arrive during one call, and both be served by
/// the next one (checked to happen).
#[test]
fn three_callers() {
    model(
        Setup {
            shares: true,
            ..Setup::new(3)
        },
        2,
    );
}

/// A caller that flushes twice, beside another: its second flush can be
/// served by the other's call, and `seq` goes past a wrap (3 bits).
#[test]
fn two_callers_twice_share_and_wrap() {
    model(
        Setup {
            flushes: 2,
            shares: true,
            ..Setup::new(2)
        },
        3,
    );
}

#[test]
fn two_callers_first_call_fails() {
    model(
        Setup {
            fail: 0b1,
            ..Setup::new(2)
        },
        6,
    );
}

/// The failed call's waiters entered before it started.
#[test]
fn three_callers_first_call_fails() {
    model(
        Setup {
            fail: 0b1,
            ..Setup::new(3)
        },
        2,
    );
}

/// A caller can enter at an idle `seq` only after a call ended (the fast
/// path starts a call from any idle word it sees first): here the call that
/// follows fails, and must not count for it.
#[test]
fn three_callers_second_call_fails() {
    model(
        Setup {
            fail: 0b10,
            ..Setup::new(3)
        },
        2,
    );
}

/// Two callers flushing twice, the second call failing: a waiter behind a
/// failed call needs one more call, not two.
#[test]
fn two_callers_twice_second_call_fails() {
    model(
        Setup {
            flushes: 2,
            fail: 0b10,
            ..Setup::new(2)
        },
        3,
    );
}

/// Every caller's first futex wait returns at once, as a spurious wake.
#[test]
fn three_callers_spurious_wakes() {
    model(
        Setup {
            model: Model {
                spurious: true,
                timeout: false,
            },
            ..Setup::new(3)
        },
        2,
    );
}

/// Every caller's first futex wait returns with its deadline passed: it
/// makes its own call, beside protocol calls.
#[test]
fn three_callers_deadline_passes() {
    model(
        Setup {
            model: Model {
                spurious: false,
                timeout: true,
            },
            ..Setup::new(3)
        },
        2,
    );
}

/// The coalescer as a forked child inherits it (a call in flight and a
/// sleeper, of another generation): no caller may wait for them (the model
/// has no deadline, so waiting would deadlock).
#[test]
fn two_callers_inherited_from_a_fork() {
    model(
        Setup {
            inherited: true,
            ..Setup::new(2)
        },
        4,
    );
}

/// Four callers (the most loom runs), at a small bound.
#[test]
fn four_callers() {
    model(Setup::new(4), 1);
}

/// `run_adaptive`: one caller may find the protocol armed (one call), the
/// other takes the solo path after it or sees the overlap and re-arms it.
#[test]
fn two_callers_adaptive() {
    model(
        Setup {
            adaptive: Some(1),
            ..Setup::new(2)
        },
        6,
    );
}

/// `run_adaptive` from its initial state: both callers start solo, one may
/// see the other inside its call and arm the protocol.
#[test]
fn two_callers_adaptive_from_solo() {
    model(
        Setup {
            adaptive: Some(0),
            ..Setup::new(2)
        },
        4,
    );
}

/// The same, the first call failing.
#[test]
fn two_callers_adaptive_first_call_fails() {
    model(
        Setup {
            adaptive: Some(1),
            fail: 0b1,
            ..Setup::new(2)
        },
        4,
    );
}

/// A solo call (`run_adaptive`'s own-call path) in flight beside protocol
/// callers, one of whose calls fails: every protocol caller still returns
/// only after a covering call, and the solo caller is covered by its own.
#[test]
fn solo_beside_protocol() {
    model(
        Setup {
            fail: 0b10,
            solo: 0b1,
            ..Setup::new(3)
        },
        2,
    );
}
