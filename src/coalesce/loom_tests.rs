//! Model check of the coalescing protocol with loom: every interleaving (up
//! to a preemption bound) and every value a Relaxed load may return under
//! the C++ memory model, run against the very code of `mod.rs` (its atomics
//! are loom's under `cfg(loom)`, its futex the model in `wait.rs`, which
//! turns a lost wake into a reported deadlock).
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test --release --lib coalesce::loom
//! ```
//!
//! (Add `CARGO_TARGET_DIR=target/loom` to keep the normal build's artefacts;
//! `LOOM_MAX_PREEMPTIONS=n` overrides the bounds below, which keep each
//! three-caller model near two minutes on a 2-CPU machine; unbounded, two
//! callers take about ten.)
//!
//! Each caller `i`:
//! 1. stores `data[i]` (Relaxed): the code it wrote before flushing;
//! 2. ticks `entry`, calls `run`, ticks `exit` (one shared Relaxed counter:
//!    Relaxed so that the counter adds no synchronisation of its own);
//! 3. loads `acks[i]` (Relaxed).
//!
//! The mock barrier ticks `start`, loads every `data[j]` (Relaxed) to learn
//! whose writes it *sees*, fails if the model says its call number fails,
//! else stores `acks[j]` for each `j` it saw, and ticks `end`.
//!
//! Checked after every execution, for each caller that got `Ok`:
//! - some successful call has `start > entry` and `end < exit` (the rule,
//!   by the shared counter);
//! - that call saw `data[i]`: the caller's writes happen before the call
//!   (else loom also explores the execution where the Relaxed load returns
//!   the old `false`);
//! - `acks[i]` read `true`: a covering call's end happens before the return;
//!
//! and that exactly the issuers of failed calls got `Err`. A waiter that
//! never returns makes loom fail the model (deadlock or branch limit).

use super::Coalescer;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use loom::sync::Arc;
use loom::thread;
use std::time::Instant;

/// Most callers in a model (loom allows four threads, main included).
const MAX: usize = 3;

/// One barrier call, as its issuer recorded it.
#[derive(Clone, Copy, Debug)]
struct Call {
    start: usize,
    end: usize,
    /// Bit `j`: the call saw `data[j]`.
    seen: u32,
    ok: bool,
}

/// One caller's view.
#[derive(Debug)]
struct Record {
    entry: usize,
    exit: usize,
    ok: bool,
    /// The call this caller issued, if any (at most one per `run`).
    issued: Option<Call>,
    acked: bool,
}

struct Shared {
    c: Coalescer,
    clock: AtomicUsize,
    data: [AtomicBool; MAX],
    acks: [AtomicBool; MAX],
    /// Calls so far.
    calls: AtomicUsize,
    /// Bit `n`: the `n`th call (from 0) fails.
    fail: u32,
    /// Callers use `run_adaptive` (else `run`).
    adaptive: bool,
    /// Bit `i`: caller `i` takes `run_adaptive`'s solo path (its own call,
    /// beside the others' protocol calls).
    solo: u32,
}

fn caller(s: &Shared, i: usize, callers: usize) -> Record {
    s.data[i].store(true, Relaxed);
    let entry = s.clock.fetch_add(1, Relaxed);
    let mut issued = None;
    let barrier = || {
        let start = s.clock.fetch_add(1, Relaxed);
        let mut seen = 0;
        for (j, d) in s.data.iter().enumerate().take(callers) {
            if d.load(Relaxed) {
                seen |= 1 << j;
            }
        }
        let ok = s.fail & 1 << s.calls.fetch_add(1, Relaxed) == 0;
        if ok {
            for (j, a) in s.acks.iter().enumerate().take(callers) {
                if seen & 1 << j != 0 {
                    a.store(true, Relaxed);
                }
            }
        }
        let end = s.clock.fetch_add(1, Relaxed);
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
    let r = if s.solo & 1 << i != 0 {
        s.c.run_solo(barrier)
    } else if s.adaptive {
        s.c.run_adaptive(barrier)
    } else {
        s.c.run(barrier)
    };
    let exit = s.clock.fetch_add(1, Relaxed);
    let acked = s.acks[i].load(Relaxed);
    Record {
        entry,
        exit,
        ok: r.is_ok(),
        issued,
        acked,
    }
}

fn check(records: &[Record]) {
    let calls: Vec<Call> = records.iter().filter_map(|r| r.issued).collect();
    for (i, r) in records.iter().enumerate() {
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
                .any(|c| c.ok && c.start > r.entry && c.end < r.exit && c.seen & 1 << i != 0),
            "caller {i} returned Ok without a covering call: {records:?}"
        );
        assert!(r.acked, "caller {i} returned before a covering call ended");
    }
    let failed = calls.iter().filter(|c| !c.ok).count();
    let errs = records.iter().filter(|r| !r.ok).count();
    assert_eq!(failed, errs, "{records:?}");
}

/// `callers` callers (main thread included), the calls whose bit is set in
/// `fail` failing; checked under `bound` preemptions unless
/// LOOM_MAX_PREEMPTIONS says otherwise.
fn model(callers: usize, fail: u32, bound: Option<usize>) {
    model_with(callers, fail, bound, None, 0)
}

/// [`model`] with `run_adaptive`, its next `coalesce` calls coalesced (so
/// that callers race between the solo path and the protocol, and switch).
fn model_with(callers: usize, fail: u32, bound: Option<usize>, coalesce: Option<u32>, solo: u32) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = bound;
    }
    let t0 = Instant::now();
    builder.check(move || {
        let c = Coalescer::new();
        if let Some(n) = coalesce {
            c.coalesce_next(n);
        }
        let s = Arc::new(Shared {
            c,
            clock: AtomicUsize::new(0),
            data: Default::default(),
            acks: Default::default(),
            calls: AtomicUsize::new(0),
            fail,
            adaptive: coalesce.is_some(),
            solo,
        });
        let others: Vec<_> = (1..callers)
            .map(|i| {
                let s = s.clone();
                thread::spawn(move || caller(&s, i, callers))
            })
            .collect();
        let mut records = vec![caller(&s, 0, callers)];
        records.extend(others.into_iter().map(|h| h.join().unwrap()));
        check(&records);
    });
    eprintln!(
        "loom: {callers} callers, failing calls {fail:#b}, adaptive {coalesce:?}, solo {solo:#b}, preemption bound {:?}: {:.1?}",
        builder.preemption_bound,
        t0.elapsed()
    );
}

#[test]
fn two_callers() {
    model(2, 0, Some(6));
}

#[test]
fn three_callers() {
    model(3, 0, Some(3));
}

#[test]
fn two_callers_first_call_fails() {
    model(2, 0b1, None);
}

/// The failed call's waiters entered before it started.
#[test]
fn three_callers_first_call_fails() {
    model(3, 0b1, Some(3));
}

/// A caller can enter at an idle `seq` only after a call ended (the fast
/// path starts a call from any idle word it sees first): here the call that
/// follows fails, and must not count for it.
#[test]
fn three_callers_second_call_fails() {
    model(3, 0b10, Some(3));
}

/// `run_adaptive`: one caller may find the protocol armed (one call), the
/// other takes the solo path after it or sees the overlap and re-arms it.
/// (With one call per caller the two paths never overlap here: see
/// `solo_beside_protocol` for that.)
#[test]
fn two_callers_adaptive() {
    model_with(2, 0, Some(6), Some(1), 0);
}

/// `run_adaptive` from its initial state: both callers start solo, one may
/// see the other inside its call and arm the protocol.
#[test]
fn two_callers_adaptive_from_solo() {
    model_with(2, 0, Some(6), Some(0), 0);
}

/// The same, the first call failing.
#[test]
fn two_callers_adaptive_first_call_fails() {
    model_with(2, 0b1, Some(4), Some(1), 0);
}

/// A solo call (`run_adaptive`'s own-call path) in flight beside protocol
/// callers, one of whose calls fails: every protocol caller still returns
/// only after a covering call, and the solo caller is covered by its own.
#[test]
fn solo_beside_protocol() {
    model_with(3, 0b10, Some(3), None, 0b1);
}

/// The same with two callers and a deeper preemption bound.
#[test]
fn solo_beside_protocol_two_callers() {
    model_with(2, 0, Some(6), None, 0b1);
}
