//! The coalescer on real threads: its arithmetic, the rule checked on every
//! flush of a stress run against the real `membarrier`, what a waiter
//! arriving during a call gets, errors, panics, and a child forked while a
//! call is in flight.
//!
//! The interleavings themselves are model-checked in `loom_tests.rs`.

// The real-syscall and fork tests are Unix-only; their helpers idle elsewhere.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

use super::*;
use std::sync::atomic::{AtomicBool, AtomicU32 as StdAtomicU32, AtomicU64, AtomicUsize};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Relaxed and SeqCst, from std (the module's `Ordering` is the same type
/// outside loom).
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

// ---------------------------------------------------------------------------
// The arithmetic.

/// Waits until the fork handler is registered: until then (another test
/// thread may be registering it) callers make their own calls, outside the
/// protocol, which the tests that inspect the word do not expect.
fn ready() {
    assert!(
        eventually(fork::registered),
        "the fork handler was never registered"
    );
}

/// `seq`, as a word with no sleepers.
fn at(seq: u32) -> u32 {
    seq << SEQ_SHIFT
}

#[test]
fn tickets_name_the_end_of_the_first_call_that_starts_later() {
    // Idle at 4: the next call is 4 -> 5 -> 6.
    assert_eq!(ticket(4), 6);
    // In flight at 5: it ends at 6, the next one runs 6 -> 7 -> 8.
    assert_eq!(ticket(5), 8);
    // Across the wrap.
    assert_eq!(ticket(SEQ_MAX - 1), 0); // idle at the top: next ends at 0
    assert_eq!(ticket(SEQ_MAX), 2); // in flight at the top: ends at 0, next at 2
}

#[test]
fn covered_compares_across_the_wrap() {
    assert!(covered(6, 6));
    assert!(covered(7, 6));
    assert!(!covered(5, 6));
    assert!(!covered(3, 6), "a failed call may take seq one below entry");
    assert!(covered(1, SEQ_MAX - 1));
    assert!(!covered(SEQ_MAX - 2, 0));
}

/// For entries anywhere in the range and every later `seq` a waiter can
/// see (one below its entry after a failed call, up to twice around the
/// wrap): "covered" is only said of a reached ticket, and an unreached
/// ticket is the end of the call in flight or of the next one (the two
/// wake bits `wait.rs` targets), also when `seq` wrapped meanwhile.
#[test]
fn covered_is_right_however_far_seq_went() {
    let wrap = 1u64 << SEQ_BITS;
    let half = wrap / 2;
    for entry in [
        0u64,
        1,
        2,
        3,
        half - 2,
        half - 1,
        half,
        wrap - 4,
        wrap - 3,
        wrap - 2,
        wrap - 1,
    ] {
        let t = ticket(entry as u32);
        let true_ticket = (entry + 3) & !1; // unwrapped
        let all = entry - entry.min(1)..entry + 2 * wrap + 8;
        // Under Miri (slow), the start and the first wrap only.
        let windows = [
            entry - entry.min(1)..entry + 64,
            entry + wrap - 64..entry + wrap + 64,
        ];
        let nows: Vec<u64> = if cfg!(miri) {
            windows.into_iter().flatten().collect()
        } else {
            all.collect()
        };
        for now in nows {
            let s = (now % wrap) as u32;
            let reached = now >= true_ticket;
            let c = covered(s, t);
            assert!(!c || reached, "entry {entry} now {now}: covered too early");
            if !c {
                assert!((1..=4).contains(&ahead(s, t)));
                if now % 2 == 1 {
                    let end = (s + 1) & SEQ_MAX;
                    assert!(
                        t == end || t == (end + 2) & SEQ_MAX,
                        "entry {entry} now {now}"
                    );
                }
                // Only a wrap can hide a reached ticket.
                assert!(!reached || now - true_ticket >= wrap - 4);
            }
        }
    }
}

/// `seq` sits above the sleeper count: ends wrap it at the top of the word
/// and leave the count as it is; counting sleepers leaves `seq`.
#[test]
fn seq_and_sleepers_share_the_word_without_interfering() {
    let top_in_flight = at(SEQ_MAX) | 5;
    assert_eq!(seq(top_in_flight), SEQ_MAX);
    assert_eq!(sleepers(top_in_flight), 5);
    let ended = top_in_flight.wrapping_add(ONE_SEQ);
    assert_eq!((seq(ended), sleepers(ended)), (0, 5), "wrapped, count kept");
    let failed = top_in_flight - ONE_SEQ;
    assert_eq!((seq(failed), sleepers(failed)), (SEQ_MAX - 1, 5));
    assert_eq!(seq(at(7) + SLEEPERS), 7, "a full count stays out of seq");
}

// ---------------------------------------------------------------------------
// One thread.

#[test]
fn uncontended_calls_once_and_advances_by_one_call() {
    ready();
    let c = Coalescer::new();
    for i in 1..=5u32 {
        let mut calls = 0;
        c.run(|| {
            calls += 1;
            // In flight.
            assert_eq!(c.word.load(SeqCst), at(2 * i - 1));
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(calls, 1);
        assert_eq!(c.word.load(SeqCst), at(2 * i), "idle, no sleepers");
    }
}

#[test]
fn a_failed_call_returns_its_error_and_counts_for_nobody() {
    ready();
    let c = Coalescer::new();
    c.run(|| Ok::<(), i32>(())).unwrap();
    assert_eq!(c.run(|| Err(7)), Err(7));
    assert_eq!(c.word.load(SeqCst), at(2), "seq back to before the call");
    let mut called = false;
    c.run(|| {
        called = true;
        Ok::<(), i32>(())
    })
    .unwrap();
    assert!(called);
    assert_eq!(c.word.load(SeqCst), at(4));
}

#[test]
fn a_panicking_barrier_ends_its_call_as_failed() {
    ready();
    let c = Coalescer::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c.run(|| -> Result<(), ()> { panic!("barrier panics") })
    }));
    assert!(r.is_err());
    assert_eq!(c.word.load(SeqCst), at(0), "not left in flight");
    c.run(|| Ok::<(), ()>(())).unwrap();
    assert_eq!(c.word.load(SeqCst), at(2));
}

/// What a forked child sees (the fork itself is tested below): a word in
/// flight with sleepers counted, from another generation. The first caller
/// resets it instead of waiting, then issues a call.
#[test]
fn a_word_from_another_generation_is_reset_before_use() {
    ready();
    let c = Coalescer::new();
    c.word.store(at(9) | 3, SeqCst);
    c.generation
        .store(fork::generation().wrapping_add(7), SeqCst);
    let mut called = false;
    c.run(|| {
        called = true;
        assert_eq!(c.word.load(SeqCst), at(1), "reset to idle, then started");
        Ok::<(), ()>(())
    })
    .unwrap();
    assert!(called);
    assert_eq!(c.word.load(SeqCst), at(2));
    assert_eq!(c.generation.load(SeqCst), fork::generation());
    // While another thread resets it, callers make their own calls and
    // leave the word alone.
    c.generation
        .store(fork::generation().wrapping_add(1) | fork::ADOPTING, SeqCst);
    let mut called = false;
    c.run(|| {
        called = true;
        Ok::<(), ()>(())
    })
    .unwrap();
    assert!(called);
    assert_eq!(c.word.load(SeqCst), at(2), "the word untouched");
}

// ---------------------------------------------------------------------------
// Several threads, mock barriers.

/// Per-flush entry/exit and per-call start/end instants, from one counter.
#[derive(Default)]
struct Log {
    /// `(entry, exit)` of every flush that returned `Ok`.
    flushes: Vec<(u64, u64)>,
    /// `(start, end)` of every successful call.
    calls: Vec<(u64, u64)>,
}

impl Log {
    fn merge(&mut self, other: Log) {
        self.flushes.extend(other.flushes);
        self.calls.extend(other.calls);
    }

    /// The rule, for every flush: some successful call started after the
    /// flush entered and ended before it returned.
    fn check(&self) {
        let mut calls = self.calls.clone();
        calls.sort_unstable();
        // min_end[i]: the earliest end among calls[i..].
        let mut min_end = vec![u64::MAX; calls.len() + 1];
        for i in (0..calls.len()).rev() {
            min_end[i] = min_end[i + 1].min(calls[i].1);
        }
        for &(entry, exit) in &self.flushes {
            let first_later = calls.partition_point(|&(start, _)| start < entry);
            assert!(
                min_end[first_later] < exit,
                "flush {entry}..{exit}: no call started after it and ended before it returned"
            );
        }
    }
}

/// `threads` threads each flush `per_thread` times through one coalescer,
/// with `barrier` as the call; every event takes a tick of one SeqCst
/// counter. Returns the log and the number of failed calls.
fn hammer(
    threads: usize,
    per_thread: usize,
    barrier: impl Fn() -> Result<(), i32> + Sync,
) -> (Log, usize) {
    hammer_with(protocol, threads, per_thread, barrier)
}

/// [`hammer`] through `run` ([`Coalescer::run`] or
/// [`Coalescer::run_adaptive`]).
/// How a test enters the coalescer: `run` or `run_adaptive`.
type Run = fn(&Coalescer, &mut dyn FnMut() -> Result<(), i32>) -> Result<(), i32>;

fn hammer_with(
    run: Run,
    threads: usize,
    per_thread: usize,
    barrier: impl Fn() -> Result<(), i32> + Sync,
) -> (Log, usize) {
    let c = Coalescer::new();
    let clock = AtomicU64::new(0);
    let failed = AtomicUsize::new(0);
    let mut log = Log::default();
    thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut log = Log {
                        flushes: Vec::with_capacity(per_thread),
                        calls: Vec::new(),
                    };
                    for _ in 0..per_thread {
                        let entry = clock.fetch_add(1, SeqCst);
                        let r = run(&c, &mut || {
                            let start = clock.fetch_add(1, SeqCst);
                            let r = barrier();
                            let end = clock.fetch_add(1, SeqCst);
                            match r {
                                Ok(()) => log.calls.push((start, end)),
                                Err(_) => {
                                    failed.fetch_add(1, Relaxed);
                                }
                            }
                            r
                        });
                        let exit = clock.fetch_add(1, SeqCst);
                        if r.is_ok() {
                            log.flushes.push((entry, exit));
                        }
                    }
                    log
                })
            })
            .collect();
        for w in workers {
            log.merge(w.join().unwrap());
        }
    });
    assert_eq!(
        c.word.load(SeqCst) & (IN_FLIGHT | SLEEPERS),
        0,
        "idle, nobody counted asleep, at the end"
    );
    (log, failed.into_inner())
}

/// Small enough for Miri, which checks the protocol for data races and
/// undefined behaviour (its futex emulation included).
#[test]
fn mock_barrier_every_flush_covered() {
    let per_thread = if cfg!(miri) { 20 } else { 2_000 };
    let (log, failed) = hammer(4, per_thread, || {
        for _ in 0..50 {
            std::hint::spin_loop();
        }
        Ok(())
    });
    assert_eq!(failed, 0);
    assert_eq!(log.flushes.len(), 4 * per_thread);
    log.check();
}

/// The same through `run_adaptive`, with calls long enough to overlap: the
/// solo calls, the switch to the protocol and back, all keep the rule.
#[test]
fn adaptive_every_flush_covered() {
    let per_thread = if cfg!(miri) { 20 } else { 2_000 };
    let (log, failed) = hammer_with(adaptive, 4, per_thread, || {
        for _ in 0..if cfg!(miri) { 20 } else { 500 } {
            std::hint::spin_loop();
        }
        Ok(())
    });
    assert_eq!(failed, 0);
    assert_eq!(log.flushes.len(), 4 * per_thread);
    log.check();
}

fn adaptive(c: &Coalescer, f: &mut dyn FnMut() -> Result<(), i32>) -> Result<(), i32> {
    c.run_adaptive(f)
}

fn protocol(c: &Coalescer, f: &mut dyn FnMut() -> Result<(), i32>) -> Result<(), i32> {
    c.run(f)
}

/// Alone, `run_adaptive` never touches the protocol's word (no locked
/// read-modify-write); told to coalesce, it runs the protocol that many
/// times, then goes back.
#[test]
fn adaptive_alone_makes_its_own_calls_without_the_protocol() {
    ready();
    let c = Coalescer::new();
    let calls = AtomicUsize::new(0);
    for _ in 0..10 {
        c.run_adaptive(|| {
            calls.fetch_add(1, Relaxed);
            Ok::<(), ()>(())
        })
        .unwrap();
    }
    assert_eq!(calls.load(Relaxed), 10);
    assert_eq!(c.word.load(SeqCst), 0, "the word is untouched");
    c.coalesce_next(3);
    for _ in 0..10 {
        c.run_adaptive(|| Ok::<(), ()>(())).unwrap();
    }
    // Three protocol calls: seq advanced by 2 per call.
    assert_eq!(seq(c.word.load(SeqCst)), 6);
    assert_eq!(c.solo_busy.load(SeqCst), 0);
}

/// A caller that finds another inside its own call switches to the
/// protocol; a panicking solo call still clears its busy mark.
#[test]
fn adaptive_sees_overlap_and_survives_a_panic() {
    let c = Coalescer::new();
    let (inside, release) = (AtomicBool::new(false), AtomicBool::new(false));
    thread::scope(|s| {
        let a = s.spawn(|| c.run_adaptive(|| blocking_call(&inside, &release)));
        while !inside.load(SeqCst) {
            std::hint::spin_loop();
        }
        c.run_adaptive(|| Ok::<(), ()>(())).unwrap();
        assert_eq!(c.coalesce_for.load(SeqCst), COALESCE_RUNS);
        release.store(true, SeqCst);
        a.join().unwrap().unwrap();
    });
    let c = Coalescer::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c.run_adaptive(|| -> Result<(), ()> { panic!("barrier panicked") })
    }));
    assert!(r.is_err());
    assert_eq!(c.solo_busy.load(SeqCst), 0);
}

#[test]
fn failing_barriers_fail_only_their_issuer() {
    // Every third call fails. Every flush either returned its own call's
    // error or is covered by a successful call.
    let n = AtomicUsize::new(0);
    let per_thread = if cfg!(miri) { 20 } else { 2_000 };
    let (log, failed) = hammer(4, per_thread, || {
        if n.fetch_add(1, Relaxed) % 3 == 0 {
            Err(1)
        } else {
            Ok(())
        }
    });
    assert!(failed > 0);
    assert_eq!(
        log.flushes.len() + failed,
        4 * per_thread,
        "exactly the issuers of failed calls returned errors"
    );
    log.check();
}

// ---------------------------------------------------------------------------
// The real kernel.

/// `membarrier(cmd, 0, 0)` through the crate's own kernel interface.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
fn membarrier(cmd: i32) -> Result<(), i32> {
    use crate::os::membarrier::Kernel;
    crate::os::membarrier::Os.membarrier(cmd).map(drop)
}

/// Miri has no `membarrier` (the tests that call this are ignored there;
/// it only has to compile): `ENOSYS`.
#[cfg(all(any(target_os = "linux", target_os = "android"), miri))]
fn membarrier(_cmd: i32) -> Result<(), i32> {
    Err(libc::ENOSYS)
}

/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED` and its registration (membarrier(2)).
#[cfg(any(target_os = "linux", target_os = "android"))]
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: i32 = 8;
#[cfg(any(target_os = "linux", target_os = "android"))]
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: i32 = 16;

/// Registers for `MEMBARRIER_CMD_PRIVATE_EXPEDITED`; `false` if this kernel
/// has no such command.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn register_private_expedited() -> bool {
    match membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) {
        Ok(()) => true,
        Err(e) if e == libc::EINVAL || e == libc::ENOSYS => {
            eprintln!("SKIPPED: this kernel has no MEMBARRIER_CMD_PRIVATE_EXPEDITED (errno {e})");
            false
        }
        Err(e) => panic!("membarrier registration failed: errno {e}"),
    }
}

/// 8 threads x 10,000 flushes through the real `membarrier`, every flush
/// checked against the rule, `then` run after each call. A watchdog fails
/// the test after 60 s instead of hanging. Returns (flushes, calls).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn stress(then: fn()) -> (usize, usize) {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 10_000;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let t0 = Instant::now();
        // As pipeline_flush_mt runs it: adaptive.
        let r = hammer_with(adaptive, THREADS, PER_THREAD, || {
            let r = membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
            then();
            r
        });
        let _ = tx.send((r, t0.elapsed()));
    });
    let ((log, failed), took) = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the stress run hung (over 60 s)"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the stress run panicked"),
    };
    assert_eq!(failed, 0, "membarrier failed");
    assert_eq!(log.flushes.len(), THREADS * PER_THREAD);
    log.check();
    assert!(log.calls.len() <= log.flushes.len());
    eprintln!(
        "{} flushes, {} membarrier calls ({:.3} per flush), {:.2?}",
        log.flushes.len(),
        log.calls.len(),
        log.calls.len() as f64 / log.flushes.len() as f64,
        took
    );
    (log.flushes.len(), log.calls.len())
}

/// The real `membarrier(PRIVATE_EXPEDITED)` alone. On a machine with few
/// CPUs it is so quick that most flushes find nothing in flight and issue
/// their own call.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri has no membarrier")]
fn stress_real_membarrier_every_flush_covered() {
    if register_private_expedited() {
        stress(|| {});
    }
}

/// The real `membarrier`, then 20 us more in the call (as with many CPUs to
/// interrupt), yielding the CPU meanwhile (on a 2-CPU machine a spinning
/// issuer would keep the callers it woke from running), so that callers
/// pile up behind calls in flight and most flushes are served by another
/// thread's call.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri has no membarrier")]
fn stress_slow_membarrier_every_flush_covered() {
    if register_private_expedited() {
        let (flushes, calls) = stress(|| {
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_micros(20) {
                thread::yield_now();
            }
        });
        assert!(
            calls < flushes,
            "no flush was ever served by another's call"
        );
    }
}

// ---------------------------------------------------------------------------
// Who serves whom: threads blocked on purpose, observed through /proc.

/// The calling thread's kernel id.
#[cfg(target_os = "linux")]
fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// Whether thread `tid` of this process is asleep (state `S`). A thread
/// inside `run` sleeps only in the futex wait, which comes after its entry.
#[cfg(target_os = "linux")]
fn asleep(tid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
    // "tid (comm) S ...": the state follows the last ')'.
    stat.rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('S'))
}

/// Polls `f` every millisecond for up to 10 s.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if f() {
            return true;
        }
        thread::sleep(Duration::from_millis(1));
    }
    false
}

/// The wait bound of the tests that hold a call in flight on purpose (their
/// waiters must sleep through it, not make their own calls): 60 s.
const HELD: u64 = 60_000_000_000;

/// Sets the flag when dropped, so that a failing assertion still releases
/// a thread blocked on it (else the scope would wait for it forever).
struct ReleaseOnDrop<'a>(&'a AtomicBool);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// A barrier call that signals it has started and then blocks until
/// released.
fn blocking_call(inside: &AtomicBool, release: &AtomicBool) -> Result<(), ()> {
    inside.store(true, SeqCst);
    while !release.load(SeqCst) {
        thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// Three callers arriving while a call is in flight are not served by it,
/// and are all served by the one next call: two calls for four callers.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "reads /proc")]
fn callers_arriving_during_a_call_share_the_next_one() {
    ready();
    let c = Coalescer::with_wait_bound(HELD);
    let (inside, release) = (AtomicBool::new(false), AtomicBool::new(false));
    let calls = StdAtomicU32::new(0);
    let tids: Vec<_> = (0..3).map(|_| AtomicUsize::new(0)).collect();
    thread::scope(|s| {
        let _release = ReleaseOnDrop(&release);
        let first = s.spawn(|| {
            c.run(|| {
                calls.fetch_add(1, SeqCst);
                blocking_call(&inside, &release)
            })
        });
        assert!(eventually(|| inside.load(SeqCst)));
        let late: Vec<_> = tids
            .iter()
            .map(|tid| {
                let (c, calls) = (&c, &calls);
                s.spawn(move || {
                    tid.store(gettid() as usize, SeqCst);
                    c.run(|| {
                        calls.fetch_add(1, SeqCst);
                        Ok::<(), ()>(())
                    })
                })
            })
            .collect();
        // All three have entered: each is asleep on the word.
        assert!(
            eventually(|| tids.iter().all(|t| {
                let t = t.load(SeqCst);
                t != 0 && asleep(t as i32)
            })),
            "the late callers never went to sleep"
        );
        assert_eq!(calls.load(SeqCst), 1, "nobody served by the call in flight");
        assert_eq!(sleepers(c.word.load(SeqCst)), 3, "three counted asleep");
        release.store(true, SeqCst);
        assert_eq!(first.join().unwrap(), Ok(()));
        for t in late {
            assert_eq!(t.join().unwrap(), Ok(()));
        }
        assert_eq!(
            calls.load(SeqCst),
            2,
            "one call after the first served all three"
        );
    });
}

/// If the call that would serve the waiters fails, they are not served by
/// it: they issue a call of their own, and none returns the error.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "reads /proc")]
fn waiters_of_a_failed_call_issue_another() {
    ready();
    let c = Coalescer::with_wait_bound(HELD);
    let (inside, release) = (AtomicBool::new(false), AtomicBool::new(false));
    let calls = StdAtomicU32::new(0);
    let tid = AtomicUsize::new(0);
    thread::scope(|s| {
        let _release = ReleaseOnDrop(&release);
        let first = s.spawn(|| {
            c.run(|| {
                blocking_call(&inside, &release).unwrap();
                Err("first call fails")
            })
        });
        assert!(eventually(|| inside.load(SeqCst)));
        let waiter = s.spawn(|| {
            tid.store(gettid() as usize, SeqCst);
            c.run(|| {
                calls.fetch_add(1, SeqCst);
                Ok::<(), &str>(())
            })
        });
        assert!(eventually(|| {
            let t = tid.load(SeqCst);
            t != 0 && asleep(t as i32)
        }));
        release.store(true, SeqCst);
        assert_eq!(first.join().unwrap(), Err("first call fails"));
        assert_eq!(waiter.join().unwrap(), Ok(()));
        assert_eq!(calls.load(SeqCst), 1, "the waiter issued its own call");
    });
}

// ---------------------------------------------------------------------------
// fork.

/// Waits up to 10 s for child `pid`; kills it if it is still running then.
/// Returns its wait status, or `None` if it had to be killed.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn wait_child(pid: libc::pid_t) -> Option<libc::c_int> {
    let mut status = 0;
    let exited = eventually(|| {
        // SAFETY: `pid` is our child; `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(r >= 0, "waitpid failed");
        r == pid
    });
    if exited {
        return Some(status);
    }
    // SAFETY: `pid` is our child, not yet reaped; reap it after the kill.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, &mut status, 0);
    }
    None
}

/// A thread of this process is inside the barrier when the main thread
/// forks. The child inherits "in flight" but not that thread; its own
/// `run` must reset the inherited word and issue its own call, without
/// waiting for the deadline.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn child_forked_during_a_call_does_not_wait_for_it() {
    ready();
    let c = Coalescer::with_wait_bound(HELD);
    let (inside, release) = (AtomicBool::new(false), AtomicBool::new(false));
    thread::scope(|s| {
        let _release = ReleaseOnDrop(&release);
        let issuer = s.spawn(|| c.run(|| blocking_call(&inside, &release)));
        assert!(eventually(|| inside.load(SeqCst)));
        assert_ne!(c.word.load(SeqCst) & IN_FLIGHT, 0);

        // SAFETY: the child only uses atomics, the futex, `run` (which
        // allocates nothing once registered, as here) and `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let mut called = false;
            let r = c.run(|| {
                called = true;
                Ok::<(), ()>(())
            });
            // Idle again: it reset the word (a caller that had waited out
            // its deadline would have made its own call, leaving the
            // inherited call in flight).
            let idle = c.word.load(SeqCst) & (IN_FLIGHT | SLEEPERS) == 0;
            let code = if r.is_ok() && called && idle { 0 } else { 1 };
            // SAFETY: ends the child without running the parent's
            // destructors or test harness.
            unsafe { libc::_exit(code) };
        }
        assert!(pid > 0, "fork failed");
        let status = wait_child(pid);
        release.store(true, SeqCst);
        assert_eq!(issuer.join().unwrap(), Ok(()));
        let status = status.expect("the child hung in run (killed after 10 s)");
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the child's run did not issue its own call and end idle (status {status:#x})"
        );
        assert_eq!(c.word.load(SeqCst), at(2), "the parent's call ended");
    });
}

/// The child handler is registered once and counts every fork exactly
/// once: a child is one generation on, a child of that child two, and the
/// parent's is unchanged. (The old per-pid de-duplication missed a fork
/// where parent and child had the same pid, in two PID namespaces.)
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn a_fork_is_one_generation_in_a_child_and_a_childs_child() {
    ready();
    let parent = fork::generation();
    // SAFETY: the child and grandchild only read an atomic, fork, wait and
    // call `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let mut code = if fork::generation() == parent + 1 {
            0
        } else {
            1
        };
        // SAFETY: as above.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = if fork::generation() == parent + 2 {
                0
            } else {
                1
            };
            // SAFETY: as above.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: `pid` is this process's child; `status` is writable.
        if pid < 0 || unsafe { libc::waitpid(pid, &mut status, 0) } != pid || status != 0 {
            code |= 2;
        }
        // SAFETY: as above.
        unsafe { libc::_exit(code) };
    }
    assert!(pid > 0, "fork failed");
    let status = wait_child(pid).expect("the child hung");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child (bit 0) or grandchild (bit 1) saw a wrong generation: status {status:#x}"
    );
    assert_eq!(fork::generation(), parent, "the parent's is unchanged");
}

/// In a just-forked child (one thread, generation `parent + 1`): enters a
/// new PID namespace, forks (pid 1 there), enters another, forks again (pid
/// 1 there too), and returns 0 if that last child is generation
/// `parent + 3`, 77 if the machine refuses the namespaces, else 1.
///
/// # Safety
/// Only in a just-forked child of a test: it forks and exits processes and
/// makes only async-signal-safe calls (unshare, fork, waitpid, getpid,
/// _exit).
#[cfg(target_os = "linux")]
unsafe fn in_new_pid_namespaces(parent: u32) -> i32 {
    // SAFETY: the caller is a just-forked test child (the Safety section);
    // every call below is async-signal-safe and gets valid arguments.
    unsafe { in_new_pid_namespaces_body(parent) }
}

/// The body of [`in_new_pid_namespaces`] (one unsafe context).
#[cfg(target_os = "linux")]
#[allow(unsafe_op_in_unsafe_fn)]
unsafe fn in_new_pid_namespaces_body(parent: u32) -> i32 {
    let unshare = |flags| libc::unshare(flags) == 0;
    let pid_ns =
        || unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWPID) || unshare(libc::CLONE_NEWPID);
    let wait = |pid| {
        let mut st = 0;
        if pid < 0 || libc::waitpid(pid, &mut st, 0) != pid || !libc::WIFEXITED(st) {
            return 1;
        }
        libc::WEXITSTATUS(st)
    };
    if !pid_ns() {
        return 77;
    }
    let g1 = libc::fork();
    if g1 != 0 {
        return wait(g1);
    }
    if libc::getpid() != 1 || !unshare(libc::CLONE_NEWPID) {
        libc::_exit(77);
    }
    let g2 = libc::fork();
    if g2 != 0 {
        libc::_exit(wait(g2));
    }
    let ok = libc::getpid() == 1 && fork::generation() == parent + 3;
    libc::_exit(if ok { 0 } else { 1 })
}

/// The case the per-pid de-duplication missed: the child of a process that
/// is pid 1 of a new PID namespace is pid 1 of another one, yet one
/// generation on, and a word in flight in its parent does not hold it.
/// Needs `unshare(CLONE_NEWUSER | CLONE_NEWPID)`; says SKIPPED where the
/// machine refuses it.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn a_fork_across_pid_namespaces_is_one_generation() {
    ready();
    let parent = fork::generation();
    // SAFETY: see `in_new_pid_namespaces`: the children only make
    // async-signal-safe calls and read atomics.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: this is the just-forked child, as that function needs.
        let code = unsafe { in_new_pid_namespaces(parent) };
        // SAFETY: ends the child without the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    assert!(pid > 0, "fork failed");
    let status = wait_child(pid).expect("a child hung");
    assert!(libc::WIFEXITED(status), "status {status:#x}");
    match libc::WEXITSTATUS(status) {
        0 => {}
        77 => eprintln!("SKIPPED: this machine refuses unshare(CLONE_NEWPID)"),
        c => panic!("a child two PID namespaces down saw a wrong generation (exit {c})"),
    }
}

// ---------------------------------------------------------------------------
// Bounded waiting and lost wakes, forced with the test hooks.

/// A waiter whose issuer never ends its call (stopped inside it) returns
/// `Ok` after the deadline, through a call of its own, and leaves the
/// word to the issuer.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "reads /proc")]
fn a_waiter_behind_a_stopped_issuer_makes_its_own_call_after_the_deadline() {
    ready();
    let c = Coalescer::new();
    let (inside, release) = (AtomicBool::new(false), AtomicBool::new(false));
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        let _release = ReleaseOnDrop(&release);
        let issuer = s.spawn(|| c.run(|| blocking_call(&inside, &release)));
        assert!(eventually(|| inside.load(SeqCst)));
        let waiter = s.spawn(|| {
            let mut own = false;
            let t0 = Instant::now();
            let r = c.run(|| {
                own = true;
                Ok::<(), ()>(())
            });
            done.store(true, SeqCst);
            (r, own, t0.elapsed())
        });
        // A watchdog: an unbounded wait fails here (the issuer is released
        // on the way out, which ends the wait) instead of hanging.
        assert!(
            eventually(|| done.load(SeqCst)),
            "the waiter never returned"
        );
        let (r, own, took) = waiter.join().unwrap();
        assert_eq!(r, Ok(()));
        assert!(own, "returned Ok without a call of its own");
        assert!(
            took >= Duration::from_nanos(WAIT_BOUND_NS),
            "gave up before the deadline ({took:?})"
        );
        // Generous: the bound is 50 µs; this only catches a wait that is
        // not bounded at all (a loaded machine may add scheduling delay).
        assert!(took < Duration::from_secs(5), "waited {took:?}");
        assert_eq!(c.word.load(SeqCst), at(1), "still in flight, uncounted");
        release.store(true, SeqCst);
        assert_eq!(issuer.join().unwrap(), Ok(()));
        assert_eq!(c.word.load(SeqCst), at(2));
    });
}

thread_local! {
    /// What this thread's hook does at each point (the lost-wake test).
    static ROLE: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
}

/// Sets this thread's hook.
fn set_hook(f: fn(u8)) {
    super::hooks::HOOK.with(|h| h.set(Some(f)));
}

/// The interleaving of `shared/repro/coalescer-lost-wake`, made
/// deterministic with the hook points. In the old protocol an issuer that
/// had woken its waiters cleared a WAITERS bit afterwards, with a
/// compare-and-swap on the idle word it had left; delayed across a full
/// wrap of `seq`, that compare-and-swap succeeded on a new, identical word
/// whose sleepers relied on the bit, and one of them slept forever. (Run
/// against the old `mod.rs`, this test fails: the last caller is still
/// asleep after 5 s.) Here the same schedule must end with every caller
/// served by another's call, none by its own call after its deadline.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "reads /proc")]
fn no_wake_is_lost_when_an_issuer_is_delayed_across_a_wrap() {
    ready();
    static C: Coalescer = Coalescer::with_wait_bound(HELD);
    static I_AFTER_WAKES: AtomicBool = AtomicBool::new(false);
    static GO_I: AtomicBool = AtomicBool::new(false);
    static X_ENDED: AtomicBool = AtomicBool::new(false);
    static GO_X: AtomicBool = AtomicBool::new(false);
    const ROLE_I: u8 = 1;
    const ROLE_X: u8 = 2;
    fn wait_for(f: &AtomicBool) {
        while !f.load(SeqCst) {
            thread::sleep(Duration::from_micros(200));
        }
    }
    fn hook(point: u8) {
        match (ROLE.with(|r| r.get()), point) {
            (ROLE_I, 3) => {
                I_AFTER_WAKES.store(true, SeqCst);
                wait_for(&GO_I);
            }
            (ROLE_X, 2) => {
                X_ENDED.store(true, SeqCst);
                wait_for(&GO_X);
            }
            _ => {}
        }
    }
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let release_all = || {
            GO_I.store(true, SeqCst);
            GO_X.store(true, SeqCst);
        };
        let result = std::panic::catch_unwind(|| {
            let sleeping = |tids: &[AtomicUsize]| {
                eventually(|| {
                    tids.iter()
                        .all(|t| t.load(SeqCst) != 0 && asleep(t.load(SeqCst) as i32))
                })
            };
            let (p_in, p_go) = (AtomicBool::new(false), AtomicBool::new(false));
            let (x_in, x_go) = (AtomicBool::new(false), AtomicBool::new(false));
            let tids: [AtomicUsize; 2] = Default::default();
            let tids2: [AtomicUsize; 2] = Default::default();
            thread::scope(|s| {
                // 1. P's call in flight; A1, A2 arrive and sleep.
                let p = s.spawn(|| C.run(|| blocking_call(&p_in, &p_go)));
                assert!(eventually(|| p_in.load(SeqCst)));
                let a: Vec<_> = tids
                    .iter()
                    .map(|tid| {
                        s.spawn(move || {
                            ROLE.with(|r| r.set(ROLE_I));
                            set_hook(hook);
                            tid.store(gettid() as usize, SeqCst);
                            C.run(|| Ok::<(), ()>(()))
                        })
                    })
                    .collect();
                assert!(sleeping(&tids), "A1, A2 never slept");
                // 2. P ends and wakes one A, which issues Q; Q's end wakes
                //    the other; Q's issuer (role I) stops after its wakes.
                p_go.store(true, SeqCst);
                assert_eq!(p.join().unwrap(), Ok(()));
                assert!(eventually(|| I_AFTER_WAKES.load(SeqCst)), "Q never ended");
                // 3. Enough calls, with the issuer of Q stopped, to bring
                //    seq round to where it was (a wrap minus one call).
                for _ in 0..(1u32 << (SEQ_BITS - 1)) - 1 {
                    C.run(|| Ok::<(), ()>(())).unwrap();
                }
                // 4. X's call in flight; B and C arrive and sleep.
                let x = s.spawn(|| {
                    ROLE.with(|r| r.set(ROLE_X));
                    set_hook(hook);
                    C.run(|| blocking_call(&x_in, &x_go))
                });
                assert!(eventually(|| x_in.load(SeqCst)));
                let bc: Vec<_> = tids2
                    .iter()
                    .map(|tid| {
                        s.spawn(move || {
                            tid.store(gettid() as usize, SeqCst);
                            let mut own = false;
                            let r = C.run(|| {
                                own = true;
                                Ok::<(), ()>(())
                            });
                            (r, own)
                        })
                    })
                    .collect();
                assert!(sleeping(&tids2), "B, C never slept");
                // 5. X ends and stops before its wakes; now the issuer of
                //    Q resumes (in the old protocol: its delayed clear).
                x_go.store(true, SeqCst);
                assert!(eventually(|| X_ENDED.load(SeqCst)));
                GO_I.store(true, SeqCst);
                for h in a {
                    assert_eq!(h.join().unwrap(), Ok(()));
                }
                // 6. X wakes: one of B, C issues the next call, whose end
                //    must wake the other.
                GO_X.store(true, SeqCst);
                assert_eq!(x.join().unwrap(), Ok(()));
                let own: Vec<bool> = bc
                    .into_iter()
                    .map(|h| {
                        let (r, own) = h.join().unwrap();
                        assert_eq!(r, Ok(()));
                        own
                    })
                    .collect();
                assert_eq!(
                    own.iter().filter(|&&o| o).count(),
                    1,
                    "exactly one of B, C issued the call that served both \
                     (two: one was left asleep until its deadline)"
                );
            });
        });
        release_all();
        let _ = tx.send(result);
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("a caller was never woken (still inside run after 30 s)"),
    }
}

/// Behind a stuck call (its issuer stopped inside it), `run_adaptive`
/// waits out one deadline, then switches to solo calls: later callers make
/// their own calls at once instead of each waiting out a deadline behind
/// the same call (examples/starved_issuer.rs measures the difference).
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "waits for a real deadline")]
fn adaptive_goes_solo_after_a_deadline_passes() {
    ready();
    let c = Coalescer::new();
    c.coalesce_next(100);
    let (inside, release) = (AtomicBool::new(false), AtomicBool::new(false));
    thread::scope(|s| {
        let _release = ReleaseOnDrop(&release);
        let issuer = s.spawn(|| c.run_adaptive(|| blocking_call(&inside, &release)));
        assert!(eventually(|| inside.load(SeqCst)));
        let own = AtomicUsize::new(0);
        let call = || {
            own.fetch_add(1, SeqCst);
            Ok::<(), ()>(())
        };
        c.run_adaptive(call).unwrap();
        assert_eq!(own.load(SeqCst), 1, "its own call, after the deadline");
        assert_eq!(c.coalesce_for.load(SeqCst), 0, "switched to solo calls");
        for _ in 0..10 {
            c.run_adaptive(call).unwrap();
        }
        assert_eq!(own.load(SeqCst), 11);
        assert_eq!(
            c.word.load(SeqCst),
            at(1),
            "the stuck call's word untouched"
        );
        release.store(true, SeqCst);
        assert_eq!(issuer.join().unwrap(), Ok(()));
    });
}
