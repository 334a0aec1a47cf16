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

#[test]
fn tickets_name_the_end_of_the_first_call_that_starts_later() {
    // Idle at 4: the next call is 4 -> 5 -> 6.
    assert_eq!(ticket(4), 6);
    // In flight at 5: it ends at 6, the next one runs 6 -> 7 -> 8.
    assert_eq!(ticket(5), 8);
    // Across the wrap.
    assert_eq!(ticket(u16::MAX - 1), 0); // idle at 65534: next ends at 0
    assert_eq!(ticket(u16::MAX), 2); // in flight at 65535: ends at 0, next at 2
}

#[test]
fn covered_compares_across_the_wrap() {
    assert!(covered(6, 6));
    assert!(covered(7, 6));
    assert!(!covered(5, 6));
    assert!(!covered(3, 6), "a failed call may take seq one below entry");
    assert!(covered(1, u16::MAX - 1));
    assert!(!covered(u16::MAX - 2, 0));
}

/// For entries anywhere in the range and every later `seq` a waiter can
/// see (one below its entry after a failed call, up to twice around the
/// wrap): "covered" is only said of a reached ticket, and an unreached
/// ticket is the end of the call in flight or of the next one (the two
/// wake bits `wait.rs` targets), also when `seq` wrapped meanwhile.
#[test]
fn covered_is_right_however_far_seq_went() {
    for entry in [
        0u32, 1, 2, 3, 0x7ffe, 0x7fff, 0x8000, 0xfffc, 0xfffd, 0xfffe, 0xffff,
    ] {
        let t = ticket(entry as u16);
        let true_ticket = (entry + 3) & !1; // unwrapped
        let all = entry - entry.min(1)..entry + (1 << 17) + 8;
        // Under Miri (slow), the start and the first wrap only.
        let windows = [
            entry - entry.min(1)..entry + 64,
            entry + (1 << 16) - 64..entry + (1 << 16) + 64,
        ];
        let nows: Vec<u32> = if cfg!(miri) {
            windows.into_iter().flatten().collect()
        } else {
            all.collect()
        };
        for now in nows {
            let reached = now >= true_ticket;
            let c = covered(now as u16, t);
            assert!(!c || reached, "entry {entry} now {now}: covered too early");
            if !c {
                let ahead = t.wrapping_sub(now as u16);
                assert!((1..=4).contains(&ahead));
                if now % 2 == 1 {
                    let end = (now + 1) as u16;
                    assert!(
                        t == end || t == end.wrapping_add(2),
                        "entry {entry} now {now}"
                    );
                }
                // Only a wrap can hide a reached ticket.
                assert!(!reached || now - true_ticket >= (1 << 16) - 4);
            }
        }
    }
}

#[test]
fn words_keep_stamp_only_in_flight() {
    let s = stamp(5);
    assert_eq!(word(4, s), 4 << SEQ_SHIFT);
    assert_eq!(word(5, s), 5 << SEQ_SHIFT | s);
    assert_eq!(seq(word(5, s) | WAITERS), 5);
    assert_eq!(word(5, s) & !(SEQ_MASK | WAITERS), s);
    assert_eq!(
        stamp(1 << fork::STAMP_BITS),
        0,
        "the generation wraps in its bits"
    );
}

// ---------------------------------------------------------------------------
// One thread.

#[test]
fn uncontended_calls_once_and_advances_by_one_call() {
    let c = Coalescer::new();
    for i in 1..=5u16 {
        let mut calls = 0;
        c.run(|| {
            calls += 1;
            // In flight, stamped with this process's generation.
            let w = c.word.load(SeqCst);
            assert_eq!(seq(w), 2 * i - 1);
            assert_eq!(w & !(SEQ_MASK | WAITERS), stamp(fork::generation()));
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(calls, 1);
        assert_eq!(c.word.load(SeqCst), word(2 * i, 0), "idle, no waiters");
    }
}

#[test]
fn a_failed_call_returns_its_error_and_counts_for_nobody() {
    let c = Coalescer::new();
    c.run(|| Ok::<(), i32>(())).unwrap();
    assert_eq!(c.run(|| Err(7)), Err(7));
    assert_eq!(
        c.word.load(SeqCst),
        word(2, 0),
        "seq back to before the call"
    );
    let mut called = false;
    c.run(|| {
        called = true;
        Ok::<(), i32>(())
    })
    .unwrap();
    assert!(called);
    assert_eq!(c.word.load(SeqCst), word(4, 0));
}

#[test]
fn a_panicking_barrier_ends_its_call_as_failed() {
    let c = Coalescer::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c.run(|| -> Result<(), ()> { panic!("barrier panics") })
    }));
    assert!(r.is_err());
    assert_eq!(c.word.load(SeqCst), word(0, 0), "not left in flight");
    c.run(|| Ok::<(), ()>(())).unwrap();
    assert_eq!(c.word.load(SeqCst), word(2, 0));
}

#[test]
fn an_abandoned_call_is_ended_as_failed_by_the_next_caller() {
    // What a forked child sees (the fork itself is tested below): in
    // flight, with a stamp that is not this process's, and WAITERS set by
    // the parent's waiters.
    let foreign = stamp(fork::generation().wrapping_add(1));
    let c = Coalescer::new();
    c.word.store(word(9, foreign) | WAITERS, SeqCst);
    let mut called = false;
    c.run(|| {
        called = true;
        // Reverted to 8, then started by this caller.
        assert_eq!(seq(c.word.load(SeqCst)), 9);
        Ok::<(), ()>(())
    })
    .unwrap();
    assert!(called);
    assert_eq!(c.word.load(SeqCst), word(10, 0));
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
        c.word.load(SeqCst) & (IN_FLIGHT | WAITERS),
        0,
        "idle at the end"
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
    let c = Coalescer::new();
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
        assert_ne!(c.word.load(SeqCst) & WAITERS, 0);
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
    let c = Coalescer::new();
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
/// `run` must end the inherited call and issue its own, not wait forever.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn child_forked_during_a_call_does_not_wait_for_it() {
    let c = Coalescer::new();
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
            let idle = c.word.load(SeqCst) & (IN_FLIGHT | WAITERS) == 0;
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
        assert_eq!(c.word.load(SeqCst), word(2, 0), "the parent's call ended");
    });
}

/// Several registrations of the child handler (threads racing on first
/// use) still count a fork once.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn a_fork_is_one_generation_however_often_the_handler_is_registered() {
    fork::register_for_test();
    fork::register_for_test();
    let parent = fork::generation();
    // SAFETY: the child only reads an atomic and calls `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = if fork::generation() == parent.wrapping_add(1) {
            0
        } else {
            1
        };
        // SAFETY: as above.
        unsafe { libc::_exit(code) };
    }
    assert!(pid > 0, "fork failed");
    let status = wait_child(pid).expect("the child hung");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    assert_eq!(fork::generation(), parent, "the parent's is unchanged");
}
