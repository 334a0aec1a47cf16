//! Racing first use under `FlushPolicy::Strict`, natively on x86_64 Linux
//! (real `membarrier`). One test in this file, so it runs in a fresh
//! process: 16 threads released by one `Barrier` each call
//! `init_with(Strict)`, `pipeline_flush_mt()` and `cache_geometry()` (half
//! read the geometry first); all must succeed, and every thread must see
//! the same CPUID geometry (its first probe races too).
//!
//! How many registrations (`membarrier(64)`) the race makes: the probe
//! state is a lock-free `OnceNonZeroUsize` (`once_cell::race`), so every
//! thread that finds it empty probes, and under Strict a probe is exactly
//! one registration: at most 16, at least 1. Each `Report::syscalls` counts
//! its own call's probes, so their sum is the number of registrations; it
//! is checked against strace's count, in re-executed fresh processes.
//! strace is required (`apt-get install strace`).

#![cfg(all(target_os = "linux", target_arch = "x86_64", not(miri)))]

#[path = "support/child.rs"]
mod child;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use icache_coherence::{
    cache_geometry, init_with, pipeline_flush_mt, FlushMechanism, FlushPolicy, GeometrySource,
};

const THREADS: usize = 16;
const CHILD_ENV: &str = "ICACHE_RACE_CHILD";
const TIMEOUT: Duration = Duration::from_secs(60);

/// The race in this process: the sum of the reports' `syscalls` (the
/// registrations made). Panics if any call fails.
fn race() -> u32 {
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let early = (i % 2 == 1).then(cache_geometry);
                let r = init_with(FlushPolicy::Strict);
                let f = pipeline_flush_mt();
                let late = cache_geometry();
                (r, f, early, late)
            })
        })
        .collect();
    let mut registrations = 0;
    let mut geometry = None;
    for t in threads {
        let (r, f, early, late) = t.join().expect("no panic");
        let r = r.expect("init_with(Strict) in the race");
        assert_eq!(r.mechanism, FlushMechanism::MembarrierSyncCore);
        assert_eq!(r.policy, FlushPolicy::Strict);
        assert!(r.syscalls <= 1, "one registration per racing probe: {r:?}");
        assert_eq!(f, Ok(()));
        // CPUID's geometry, the same answer before and after, in every
        // thread (the first probe to finish is the one kept).
        let late = late.expect("CPUID reports caches");
        assert!(matches!(late.source(), GeometrySource::Cpuid { .. }));
        assert!(early.is_none_or(|e| e == Some(late)));
        assert_eq!(
            *geometry.get_or_insert(late),
            late,
            "one geometry for every thread"
        );
        registrations += r.syscalls;
    }
    assert!(
        (1..=THREADS as u32).contains(&registrations),
        "{registrations}"
    );
    registrations
}

#[test]
fn racing_strict_first_use() {
    if std::env::var_os(CHILD_ENV).is_some() {
        // A re-executed fresh process: race, report, exit.
        let n = race();
        println!("registrations={n}");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        child::exit(0);
    }
    let t = Instant::now();
    let here = race();

    // More fresh processes, without strace: the reports' counts.
    let mut plain = Vec::new();
    for _ in 0..20 {
        let (got, out) = child::run_self("racing_strict_first_use", &[(CHILD_ENV, "1")], TIMEOUT);
        assert_eq!(got, child::Outcome::Exited(0), "race child: {got}");
        plain.push(reported(&out));
    }

    // Under strace (slower threads, a different interleaving): strace's
    // count of registrations equals the reports' sum, within 1..=16, and
    // the only other calls are the flushes (at most 16: coalesced).
    let mut traced = Vec::new();
    for _ in 0..5 {
        let (got, calls, out) =
            child::strace_self("racing_strict_first_use", &[(CHILD_ENV, "1")], TIMEOUT);
        assert_eq!(got, child::Outcome::Exited(0), "traced race child: {got}");
        let regs = calls.iter().filter(|c| c.cmd == 64).count() as u32;
        let flushes = calls.iter().filter(|c| c.cmd == 32).count();
        assert!(
            calls.iter().all(|c| c.result == child::Ret::Ok(0)),
            "{calls:?}"
        );
        // Each flush is covered by a call that started after it entered;
        // the coalescer lets one call serve several.
        assert!((1..=THREADS).contains(&flushes), "{calls:?}");
        assert_eq!(regs + flushes as u32, calls.len() as u32, "{calls:?}");
        assert!((1..=THREADS as u32).contains(&regs), "{regs}");
        assert_eq!(reported(&out), regs, "the reports' sum against strace");
        traced.push(regs);
    }
    println!(
        "registrations by 16 racing threads (bound 1..=16): this process {here}; \
         20 fresh processes {plain:?}; 5 under strace {traced:?} ({:.2?})",
        t.elapsed()
    );
}

/// The `registrations=N` line a race child printed (its reports' sum).
fn reported(out: &str) -> u32 {
    out.lines()
        .find_map(|l| l.strip_prefix("registrations="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no registrations line in {out:?}"))
}
