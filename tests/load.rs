//! Load: 8 threads run JIT code in a loop while 2 threads each patch and
//! publish new code 10,000 times (natively; 2,000 times under QEMU, where
//! everything is ~100x slower), rotating through the three publication
//! protocols: `clear_cache` + `pipeline_flush_mt`, `clear_cache_dual` +
//! `pipeline_flush_mt`, and `clear_cache` with the runners'
//! `pipeline_flush_local`. Every call must return exactly the value of the
//! version it ran; zero errors; bounded time (a watchdog fails the test
//! after 120 s instead of hanging).

#![cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]

use core::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use icache_coherence::{clear_cache, clear_cache_dual, pipeline_flush_local, pipeline_flush_mt};

#[path = "support/jit.rs"]
mod jit;
use jit::{return_const, DualMapping};

const RUNNERS: usize = 8;
const PATCHERS: usize = 2;
/// Natively on x86_64; under QEMU (every other architecture in CI) fewer.
const PATCHES: usize = if cfg!(target_arch = "x86_64") {
    10_000
} else {
    2_000
};
const SLOT: usize = 16;

/// The value the code in slot `i` returns (every encoding takes < 2048).
fn value_of(slot: usize) -> u32 {
    (slot % 2000) as u32 + 1
}

/// `pipeline_flush_mt` calls made, for `.ci/qemu-counts.py`'s count of
/// membarrier calls per flush under QEMU's `-strace`.
static FLUSHES: AtomicU64 = AtomicU64::new(0);

fn flush() {
    FLUSHES.fetch_add(1, Ordering::Relaxed);
    pipeline_flush_mt().unwrap();
}

#[test]
fn runners_never_see_stale_or_unpublished_code() {
    let start = Instant::now();
    // Every version gets a fresh slot: no slot is rewritten while a runner
    // may still be executing it (QEMU would also keep a stale translation).
    let maps: Vec<Arc<DualMapping>> = (0..PATCHERS)
        .map(|_| Arc::new(DualMapping::new((PATCHES + 1) * SLOT)))
        .collect();
    let current: Arc<Vec<AtomicPtr<u8>>> = Arc::new(
        maps.iter()
            .map(|m| {
                let code = return_const(value_of(0));
                // SAFETY: slot 0 lies inside the mapping; nothing runs it yet.
                unsafe {
                    core::ptr::copy_nonoverlapping(code.as_ptr(), m.rw, code.len());
                    clear_cache_dual(m.rw as *const c_void, m.rx as *const c_void, code.len())
                        .unwrap();
                }
                AtomicPtr::new(m.rx)
            })
            .collect(),
    );
    flush();
    let done = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));

    let runners: Vec<_> = (0..RUNNERS)
        .map(|r| {
            let (current, done, calls, maps) =
                (current.clone(), done.clone(), calls.clone(), maps.clone());
            std::thread::spawn(move || {
                let mut i = r;
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let p = i % PATCHERS;
                    let code = current[p].load(Ordering::Acquire);
                    pipeline_flush_local();
                    let slot = (code as usize - maps[p].rx as usize) / SLOT;
                    // SAFETY: `code` was published (release) after it was
                    // written and made coherent; this thread synchronised
                    // its own instruction stream after the acquire load.
                    let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(code) };
                    assert_eq!(f(), value_of(slot), "patcher {p} slot {slot}");
                    calls.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                    if finished {
                        break;
                    }
                }
            })
        })
        .collect();

    let patchers: Vec<_> = (0..PATCHERS)
        .map(|p| {
            let (current, map) = (current.clone(), maps[p].clone());
            std::thread::spawn(move || {
                for v in 1..=PATCHES {
                    let code = return_const(value_of(v));
                    let (rw, rx) = (map.rw.wrapping_add(v * SLOT), map.rx.wrapping_add(v * SLOT));
                    // SAFETY: slot `v` lies inside both aliases and no thread
                    // runs it before it is published below.
                    unsafe {
                        core::ptr::copy_nonoverlapping(code.as_ptr(), rw, code.len());
                        match v % 3 {
                            0 => {
                                clear_cache(rx as *const c_void, code.len()).unwrap();
                                flush();
                            }
                            1 => {
                                clear_cache_dual(
                                    rw as *const c_void,
                                    rx as *const c_void,
                                    code.len(),
                                )
                                .unwrap();
                                flush();
                            }
                            // The runners' pipeline_flush_local does the rest.
                            _ => clear_cache(rx as *const c_void, code.len()).unwrap(),
                        }
                    }
                    current[p].store(rx, Ordering::Release);
                }
            })
        })
        .collect();

    // Watchdog: fail rather than hang.
    let deadline = Duration::from_secs(120);
    for t in patchers {
        while !t.is_finished() {
            assert!(
                start.elapsed() < deadline,
                "patchers did not finish in {deadline:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        t.join().expect("a patcher failed");
    }
    done.store(true, Ordering::Release);
    for t in runners {
        while !t.is_finished() {
            assert!(
                start.elapsed() < deadline,
                "runners did not finish in {deadline:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        t.join().expect("a runner saw stale or unpublished code");
    }
    assert!(calls.load(Ordering::Relaxed) >= RUNNERS as u64);
    // One string, one write: QEMU's -strace log interleaves with stderr.
    let summary = format!(
        "load: {RUNNERS} runners, {PATCHERS} x {PATCHES} patches, {} calls, {:?}, {} pipeline_flush_mt calls",
        calls.load(Ordering::Relaxed),
        start.elapsed(),
        FLUSHES.load(Ordering::Relaxed)
    );
    eprintln!("{summary}");
}
