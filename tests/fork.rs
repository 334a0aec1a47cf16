//! `fork` and `execve` with a registered process, natively on x86_64 Linux
//! under `FlushPolicy::Strict` (so `membarrier` SYNC_CORE is real):
//!
//! - (a) a forked child keeps the kernel's registration (the mm's
//!   membarrier state is copied) *and* the crate's probed state: its first
//!   raw `membarrier(SYNC_CORE)` succeeds, `init_with(Strict)` reports 0
//!   system calls, 1000 flushes succeed; under strace the child makes no
//!   registration (the crate's EPERM → re-register → retry path would
//!   otherwise hide a lost registration);
//! - (b) a child that execs this binary has lost it (raw SYNC_CORE: EPERM),
//!   and registers again (`syscalls == 1`);
//! - (c) 4 forked children flushing 1000 times each, concurrently;
//! - (d) children forked while another thread of the parent is inside
//!   `pipeline_flush_mt` in a loop do not hang.
//!
//! Every wait is bounded: a hung child is killed and the test fails.
//! strace is required (`apt-get install strace`).

#![cfg(all(target_os = "linux", target_arch = "x86_64", not(miri)))]

#[path = "support/child.rs"]
mod child;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use child::{Checks, Outcome};
use icache_coherence::{
    flush_mechanism, init_with, pipeline_flush_mt, FlushMechanism, FlushPolicy,
};

const SYNC_CORE: i32 = 32;
const TIMEOUT: Duration = Duration::from_secs(60);
/// Selects what `entry` does in a re-executed test binary.
const ROLE_ENV: &str = "ICACHE_FORK_ROLE";

fn register_parent() {
    let r = init_with(FlushPolicy::Strict).expect("Strict on this kernel");
    assert_eq!(r.mechanism, FlushMechanism::MembarrierSyncCore);
}

/// The forked child of a registered parent (allocation-free): the kernel
/// and the crate both remember the registration.
fn forked_child_body(c: &mut Checks, flushes: usize) {
    c.eq(
        "raw SYNC_CORE before any crate call",
        child::raw_membarrier(SYNC_CORE),
        Ok(0),
    );
    let r = init_with(FlushPolicy::Strict).map(|r| (r.mechanism, r.syscalls));
    c.eq(
        "init_with(Strict) in the child",
        r,
        Ok((FlushMechanism::MembarrierSyncCore, 0)),
    );
    for _ in 0..flushes {
        c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Ok(()));
    }
    c.eq(
        "flush_mechanism()",
        flush_mechanism(),
        Ok(Some(FlushMechanism::MembarrierSyncCore)),
    );
}

/// The child side for a re-executed test binary; nothing without
/// `ICACHE_FORK_ROLE`.
#[test]
fn entry() {
    let Ok(role) = std::env::var(ROLE_ENV) else {
        return;
    };
    let mut c = Checks::new("fork");
    match role.as_str() {
        // (b): execve dropped the registration; the crate registers again.
        "exec_child" => {
            c.eq(
                "raw SYNC_CORE after execve",
                child::raw_membarrier(SYNC_CORE),
                Err(libc::EPERM),
            );
            let r = init_with(FlushPolicy::Strict).map(|r| (r.mechanism, r.syscalls));
            c.eq(
                "init_with(Strict) after execve",
                r,
                Ok((FlushMechanism::MembarrierSyncCore, 1)),
            );
            for _ in 0..1000 {
                c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Ok(()));
            }
        }
        // (a) under strace: register, fork, the child flushes.
        "traced_fork" => {
            register_parent();
            let got = child::fork_run(TIMEOUT, || {
                forked_child_body(&mut Checks::new("traced fork child"), 1000);
                0
            });
            c.eq("forked child", got, Outcome::Exited(0));
        }
        // (b) under strace: register, then exec a child that registers.
        "traced_exec" => {
            register_parent();
            let (got, _) = child::run_self("entry", &[(ROLE_ENV, "exec_child")], TIMEOUT);
            c.eq("exec'd child", got, Outcome::Exited(0));
        }
        other => c.that("known role", false, &other),
    }
    child::exit(0);
}

#[test]
fn a_forked_child_keeps_the_registration() {
    register_parent();
    let t = Instant::now();
    let got = child::fork_run(TIMEOUT, || {
        forked_child_body(&mut Checks::new("forked child"), 1000);
        0
    });
    assert_eq!(got, Outcome::Exited(0), "forked child: {got}");
    println!(
        "(a) forked child: 1000 flushes, {got} ({:.2?})",
        t.elapsed()
    );

    // Under strace: the parent thread registers once; the child's calls
    // are its raw SYNC_CORE and 1000 flushes, no registration.
    let (got, calls, _) = child::strace_self("entry", &[(ROLE_ENV, "traced_fork")], TIMEOUT);
    assert_eq!(got, Outcome::Exited(0), "traced: {got}");
    let parent = calls.first().expect("a registration").tid;
    let (mine, theirs): (Vec<_>, Vec<_>) = calls.iter().cloned().partition(|c| c.tid == parent);
    assert_eq!(child::seq(&mine), "64=ok", "parent: {calls:?}");
    assert_eq!(child::seq(&theirs), "32=ok*1001", "child: {theirs:?}");
    assert!(theirs.iter().all(|c| c.tid == theirs[0].tid));
    println!(
        "(a) under strace: parent {}, child {}",
        child::seq(&mine),
        child::seq(&theirs)
    );
}

#[test]
fn b_an_execd_child_registers_again() {
    register_parent();
    let t = Instant::now();
    let (got, _) = child::run_self("entry", &[(ROLE_ENV, "exec_child")], TIMEOUT);
    assert_eq!(got, Outcome::Exited(0), "exec'd child: {got}");
    println!("(b) exec'd child: {got} ({:.2?})", t.elapsed());

    let (got, calls, _) = child::strace_self("entry", &[(ROLE_ENV, "traced_exec")], TIMEOUT);
    assert_eq!(got, Outcome::Exited(0), "traced: {got}");
    let parent = calls.first().expect("a registration").tid;
    let (mine, theirs): (Vec<_>, Vec<_>) = calls.iter().cloned().partition(|c| c.tid == parent);
    assert_eq!(child::seq(&mine), "64=ok", "parent: {calls:?}");
    assert_eq!(
        child::seq(&theirs),
        "32=EPERM 64=ok 32=ok*1000",
        "exec'd child: {theirs:?}"
    );
    println!(
        "(b) under strace: parent {}, exec'd child {}",
        child::seq(&mine),
        child::seq(&theirs)
    );
}

#[test]
fn c_four_children_flush_concurrently() {
    register_parent();
    let t = Instant::now();
    let deadline = Instant::now() + TIMEOUT;
    let pids: Vec<_> = (0..4)
        .map(|_| {
            child::fork(|| {
                forked_child_body(&mut Checks::new("one of 4 children"), 1000);
                0
            })
        })
        .collect();
    let outcomes: Vec<_> = pids.iter().map(|&p| child::wait_pid(p, deadline)).collect();
    assert_eq!(outcomes, [Outcome::Exited(0); 4]);
    println!(
        "(c) 4 children x 1000 flushes: all exit 0 ({:.2?})",
        t.elapsed()
    );
}

#[test]
fn d_fork_while_another_thread_flushes() {
    register_parent();
    let stop = Arc::new(AtomicBool::new(false));
    let flushes = Arc::new(AtomicU64::new(0));
    let flusher = {
        let (stop, flushes) = (stop.clone(), flushes.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                pipeline_flush_mt().expect("flush in the parent's loop");
                flushes.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while flushes.load(Ordering::Relaxed) == 0 {
        std::thread::yield_now();
    }
    let t = Instant::now();
    let mut worst = Duration::ZERO;
    for _ in 0..50 {
        let one = Instant::now();
        let got = child::fork_run(Duration::from_secs(20), || {
            forked_child_body(&mut Checks::new("forked during a flush loop"), 10);
            0
        });
        assert_eq!(
            got,
            Outcome::Exited(0),
            "child forked during flushes: {got}"
        );
        worst = worst.max(one.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    flusher.join().expect("flusher");
    println!(
        "(d) 50 forks during {} parent flushes: all exit 0, slowest child {:.2?} ({:.2?})",
        flushes.load(Ordering::Relaxed),
        worst,
        t.elapsed()
    );
}
