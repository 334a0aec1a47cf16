//! `cargo bench --bench coalesce`: per-flush latency of K threads flushing
//! at once, each thread calling the barrier itself ("raw") or going through
//! the crate's `Coalescer` ("coalesced").
//!
//! - `mock-yield/`, `mock-spin/`: a simulated kernel. Linux serialises
//!   expedited `membarrier` commands under one mutex
//!   (`membarrier_ipi_mutex`); the other callers sleep on it. The mock is a
//!   `std::sync::Mutex` (whose waiters sleep on a futex after a short spin)
//!   held for [`COST`] per call, measured on the monotonic clock.
//!
//!   While holding it, `mock-yield` gives the CPU to any runnable thread
//!   (`sched_yield` in the polling loop); this is the model the target
//!   applies to. The kernel's holder does busy-wait for its IPIs, but on the
//!   16-core machines where the cost was measured that is one CPU of 16 and
//!   the waiting callers need none: the cost of a call is latency, not CPU.
//!   On this 2-CPU machine a holder spinning for the whole call takes half
//!   of it, and the callers it wakes queue for a CPU behind it (Linux tends
//!   to wake them on the waker's CPU), so the CPU, not the lock, becomes the
//!   bottleneck: `mock-spin` shows that artefact. Sleeping for the cost
//!   would model the same as yielding, but `thread::sleep(10 us)` lasts
//!   30-35 us here even with a 1 ns timer slack.
//! - `membarrier/`: the real `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`,
//!   K = 1, 2, 4, with the number of system calls per flush.
//!
//! Criterion's time per iteration is the per-flush latency each thread sees
//! (K threads each do `iters` flushes in the measured wall time). A summary
//! with the raw/coalesced ratios and calls per flush, from the same run, is
//! printed at the end.

use std::collections::BTreeMap;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use icache_coherence::__private::Coalescer;

/// How long the simulated kernel holds its lock per call.
const COST: Duration = Duration::from_micros(10);

/// What the simulated kernel does with the CPU while it holds its lock.
#[derive(Clone, Copy)]
enum Hold {
    /// Gives it to any runnable thread (`sched_yield`) until [`COST`] passed.
    Yield,
    /// Spins for [`COST`].
    Spin,
}

/// The simulated kernel: one global lock, held for [`COST`] per call.
struct MockKernel {
    lock: Mutex<()>,
    hold: Hold,
}

impl MockKernel {
    fn membarrier(&self) -> Result<(), ()> {
        let _held = self.lock.lock().unwrap();
        let t0 = Instant::now();
        while t0.elapsed() < COST {
            match self.hold {
                Hold::Yield => thread::yield_now(),
                Hold::Spin => spin_loop(),
            }
        }
        Ok(())
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
use icache_coherence::__private::membarrier;

/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED` and its registration (membarrier(2)).
#[cfg(any(target_os = "linux", target_os = "android"))]
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: i32 = 8;
#[cfg(any(target_os = "linux", target_os = "android"))]
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: i32 = 16;

/// Totals over every sample of one benchmark (warm-up included).
#[derive(Default)]
struct Totals {
    /// Wall time of all samples.
    time: Duration,
    /// Flushes per thread in those samples.
    per_thread: u64,
    /// Flushes in all threads.
    flushes: u64,
    /// Barrier calls made.
    calls: u64,
}

/// Totals by (group, K, mode).
type Key = (&'static str, usize, &'static str);

static TOTALS: Mutex<BTreeMap<Key, Totals>> = Mutex::new(BTreeMap::new());

/// Runs `iters` flushes on each of `k` threads at once and returns the wall
/// time; records it, with the calls `flush` reports, under `key`.
fn flush_on_k_threads(
    key: Key,
    k: usize,
    iters: u64,
    flush: impl Fn(&AtomicU64) + Sync,
) -> Duration {
    let calls = AtomicU64::new(0);
    let start = Barrier::new(k + 1);
    let took = thread::scope(|s| {
        let workers: Vec<_> = (0..k)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    for _ in 0..iters {
                        flush(&calls);
                    }
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        for w in workers {
            w.join().unwrap();
        }
        t0.elapsed()
    });
    let mut totals = TOTALS.lock().unwrap();
    let t = totals.entry(key).or_default();
    t.time += took;
    t.per_thread += iters;
    t.flushes += iters * k as u64;
    t.calls += calls.into_inner();
    took
}

fn bench_mock(c: &mut Criterion, group: &'static str, hold: Hold) {
    let kernel = MockKernel {
        lock: Mutex::new(()),
        hold,
    };
    let coalescer = Coalescer::new();
    let mut g = c.benchmark_group(group);
    for k in [1, 8, 16] {
        g.bench_with_input(BenchmarkId::new("raw", k), &k, |b, &k| {
            b.iter_custom(|iters| {
                flush_on_k_threads((group, k, "raw"), k, iters, |calls| {
                    calls.fetch_add(1, Relaxed);
                    kernel.membarrier().unwrap();
                })
            })
        });
        g.bench_with_input(BenchmarkId::new("coalesced", k), &k, |b, &k| {
            b.iter_custom(|iters| {
                flush_on_k_threads((group, k, "coalesced"), k, iters, |calls| {
                    coalescer
                        .run_adaptive(|| {
                            calls.fetch_add(1, Relaxed);
                            kernel.membarrier()
                        })
                        .unwrap();
                })
            })
        });
    }
    g.finish();
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn bench_membarrier(c: &mut Criterion) {
    if let Err(e) = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) {
        eprintln!("membarrier/: skipped, PRIVATE_EXPEDITED unavailable (errno {e})");
        return;
    }
    let coalescer = Coalescer::new();
    let mut g = c.benchmark_group("membarrier");
    for k in [1, 2, 4] {
        g.bench_with_input(BenchmarkId::new("raw", k), &k, |b, &k| {
            b.iter_custom(|iters| {
                flush_on_k_threads(("membarrier", k, "raw"), k, iters, |calls| {
                    calls.fetch_add(1, Relaxed);
                    membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED).unwrap();
                })
            })
        });
        g.bench_with_input(BenchmarkId::new("coalesced", k), &k, |b, &k| {
            b.iter_custom(|iters| {
                flush_on_k_threads(("membarrier", k, "coalesced"), k, iters, |calls| {
                    coalescer
                        .run_adaptive(|| {
                            calls.fetch_add(1, Relaxed);
                            membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
                        })
                        .unwrap();
                })
            })
        });
    }
    g.finish();
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn bench_membarrier(_: &mut Criterion) {}

/// The per-flush latencies of this run side by side, from every sample
/// (warm-up included, so they differ slightly from criterion's estimates).
fn summary() {
    let totals = TOTALS.lock().unwrap();
    println!();
    println!(
        "group       K  raw us/flush  coalesced us/flush  ratio  calls/flush (raw, coalesced)"
    );
    let mut keys: Vec<_> = totals.keys().map(|&(g, k, _)| (g, k)).collect();
    keys.dedup();
    for (g, k) in keys {
        let get = |mode| totals.get(&(g, k, mode));
        let (Some(raw), Some(co)) = (get("raw"), get("coalesced")) else {
            continue;
        };
        let us = |t: &Totals| t.time.as_secs_f64() * 1e6 / t.per_thread as f64;
        let per = |t: &Totals| t.calls as f64 / t.flushes as f64;
        println!(
            "{g:<11} {k:>2}  {:>12.2}  {:>18.2}  {:>5.2}  {:.2}, {:.3}",
            us(raw),
            us(co),
            us(co) / us(raw),
            per(raw),
            per(co)
        );
    }
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench_mock(&mut c, "mock-yield", Hold::Yield);
    bench_mock(&mut c, "mock-spin", Hold::Spin);
    bench_membarrier(&mut c);
    c.final_summary();
    summary();
}
