//! The timed parts: `clear_cache` on just-written ranges,
//! `pipeline_flush_local`, `pipeline_flush_mt` against the number of other
//! running threads, and K concurrent callers.

use std::ffi::c_void;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use icache_coherence::{clear_cache, pipeline_flush_mt, FlushMechanism};
use serde::Serialize;

use crate::progress::Progress;
use crate::stats::{Latency, Timer};
use crate::sys::{self, Region};

/// Bytes written (then cleaned) per sample at most, for the small sizes.
pub const SAMPLE_BYTES: usize = 1 << 20;
/// Calls per sample at most.
pub const MAX_BATCH: usize = 256;

/// `clear_cache` on one range size.
#[derive(Clone, Debug, Serialize)]
pub struct SizeResult {
    /// Bytes per call.
    pub size: usize,
    /// Calls per timed sample, each on its own just-written range.
    pub calls_per_sample: usize,
    /// Bytes written into each range just before the sample (= `size`).
    pub written_before: usize,
    /// Per-call latency.
    #[serde(flatten)]
    pub latency: Latency,
    /// Cache lines in the range (`size / line`).
    pub lines: usize,
    /// `p50_ns / lines`.
    pub ns_per_line: f64,
    /// A sample (all its calls) took less than twice the clock's step: the
    /// figure is mostly clock quantisation, an upper bound at best.
    pub below_resolution: bool,
    /// D and I lines `clear_cache` maintains (AArch64 with `CTR_EL0` only).
    pub d_lines: Option<usize>,
    /// See `d_lines`.
    pub i_lines: Option<usize>,
}

/// How many calls one sample of `size`-byte ranges makes.
pub fn batch_for_size(size: usize) -> usize {
    (SAMPLE_BYTES / size.max(1)).clamp(1, MAX_BATCH)
}

/// Times `clear_cache` for each size: each sample first writes
/// `calls_per_sample` consecutive ranges of the buffer (a changing byte
/// value, so every line is dirty), then times `clear_cache` on each of them;
/// the next sample starts after them, wrapping around `buf`.
pub fn clear_sizes(
    sizes: &[usize],
    samples: usize,
    buf: &Region,
    timer: &Timer,
    line_counts: impl Fn(usize) -> (usize, Option<(usize, usize)>),
    progress: &mut Progress,
) -> Vec<SizeResult> {
    let mut cursor = 0usize;
    let mut value = 1u8;
    let mut out = Vec::new();
    for &size in sizes {
        let b = batch_for_size(size);
        let span = b * size;
        let mut per_call = Vec::with_capacity(samples);
        // Two warm-up samples, not recorded.
        for n in 0..samples + 2 {
            if cursor + span > buf.len() {
                cursor = 0;
            }
            // SAFETY: cursor + span <= buf.len(): inside the mapping.
            let base = unsafe { buf.ptr().add(cursor) };
            value = value.wrapping_add(1).max(1);
            // SAFETY: inside the writable mapping (see above).
            unsafe { core::ptr::write_bytes(base, value, span) };
            black_box(base);
            // The stores issued (and, on x86, drained from the store
            // buffer) before the clock starts: the sample times the
            // maintenance, not the tail of the memset.
            std::sync::atomic::fence(Ordering::SeqCst);
            let t0 = Instant::now();
            for i in 0..b {
                // SAFETY: each range is inside the mapping, readable.
                let r = unsafe { clear_cache(base.add(i * size) as *const c_void, size) };
                black_box(r).expect("clear_cache on a mapped range");
            }
            let ns = timer.per_call(t0, b);
            if n >= 2 {
                per_call.push(ns);
            }
            cursor += span;
            progress.tick(1);
        }
        let latency = Latency::of(per_call);
        let (lines, di) = line_counts(size);
        out.push(SizeResult {
            size,
            calls_per_sample: b,
            written_before: size,
            latency,
            lines,
            ns_per_line: latency.p50_ns / lines.max(1) as f64,
            below_resolution: latency.p50_ns * (b as f64) < 2.0 * timer.resolution_ns,
            d_lines: di.map(|d| d.0),
            i_lines: di.map(|d| d.1),
        });
    }
    out
}

/// Times `f`, `samples` samples of a calibrated batch (one call when a call
/// is slow enough to time alone).
pub fn time_calls(
    samples: usize,
    timer: &Timer,
    progress: &mut Progress,
    mut f: impl FnMut(),
) -> (Latency, usize) {
    let b = timer.batch_for(1024, &mut f);
    let mut v = Vec::with_capacity(samples);
    for n in 0..samples + 2 {
        let t0 = Instant::now();
        for _ in 0..b {
            f();
        }
        let ns = timer.per_call(t0, b);
        if n >= 2 {
            v.push(ns);
        }
        progress.tick(1);
    }
    (Latency::of(v), b)
}

/// `CPUID` leaf 0, the serialising instruction `pipeline_flush_local` used
/// on x86 before `IRET`: timed beside it for comparison. In a virtual
/// machine it exits to the hypervisor.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[inline(never)]
pub fn raw_cpuid() {
    #[cfg(target_arch = "x86")]
    use core::arch::x86::__cpuid;
    #[cfg(target_arch = "x86_64")]
    use core::arch::x86_64::__cpuid;
    // SAFETY: CPUID exists on every x86_64 CPU and every x86 CPU Rust's
    // std targets; it reads no memory. (`__cpuid` is safe from Rust 1.87,
    // unsafe before.)
    #[allow(unused_unsafe)]
    core::hint::black_box(unsafe { __cpuid(0) });
}

/// `pipeline_flush_mt` with some other threads running.
#[derive(Clone, Debug, Serialize)]
pub struct MtResult {
    /// Other threads running (each pinned to a CPU, spinning).
    pub threads: usize,
    /// Whether the threads and the measuring thread were pinned.
    pub pinned: bool,
    /// More threads than other CPUs: some share a CPU (time-sliced).
    pub shared_cpus: bool,
    /// Calls per timed sample.
    pub calls_per_sample: usize,
    /// Per-call latency.
    #[serde(flatten)]
    pub latency: Latency,
}

/// What the spinners and their owner share.
#[derive(Default)]
struct SpinState {
    stop: AtomicBool,
    started: AtomicUsize,
    unpinned: AtomicBool,
}

/// Other threads, each pinned to a CPU and spinning on an atomic until
/// dropped.
pub struct Spinners {
    state: Arc<SpinState>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// Whether every spinner was pinned.
    pub pinned: bool,
}

impl Spinners {
    /// Starts `n` spinners on `cpus` round-robin and waits (at most 5 s)
    /// until each has started.
    pub fn start(n: usize, cpus: &[usize]) -> Spinners {
        let state = Arc::new(SpinState::default());
        let threads = (0..n)
            .map(|j| {
                let cpu = cpus[j % cpus.len()];
                let state = state.clone();
                std::thread::spawn(move || {
                    if !sys::pin_to(cpu) {
                        state.unpinned.store(true, Ordering::Relaxed);
                    }
                    state.started.fetch_add(1, Ordering::Release);
                    let mut x = 0u64;
                    while !state.stop.load(Ordering::Relaxed) {
                        x = black_box(x.wrapping_add(1));
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        let t0 = Instant::now();
        while state.started.load(Ordering::Acquire) < n && t0.elapsed() < Duration::from_secs(5) {
            std::thread::yield_now();
        }
        let pinned = !state.unpinned.load(Ordering::Relaxed);
        Spinners {
            state,
            threads,
            pinned,
        }
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The CPUs for other threads: every allowed CPU but `own`, or `own` alone
/// on a one-CPU machine.
pub fn other_cpus(cpus: &[usize], own: usize) -> Vec<usize> {
    let v: Vec<usize> = cpus.iter().copied().filter(|&c| c != own).collect();
    if v.is_empty() {
        vec![own]
    } else {
        v
    }
}

/// Whether `t` spinners on `others` (round-robin) share a CPU with another
/// spinner or with the measuring thread on `own`: then they are
/// time-sliced, not each on its own CPU.
pub fn shares_cpus(t: usize, others: &[usize], own: usize) -> bool {
    t > 0 && (t > others.len() || others.contains(&own))
}

/// `pipeline_flush_mt` with 0, 1, ... other threads running: the measuring
/// thread pinned to the first allowed CPU, the others round-robin on the rest.
pub fn mt_flush(
    threads: &[usize],
    samples: usize,
    timer: &Timer,
    progress: &mut Progress,
) -> Vec<MtResult> {
    let cpus = sys::allowed_cpus();
    let saved = sys::Affinity::save();
    let own = cpus[0];
    let me_pinned = sys::pin_to(own);
    let others = other_cpus(&cpus, own);
    let mut out = Vec::new();
    for &t in threads {
        let spin = Spinners::start(t, &others);
        let (latency, b) = time_calls(samples, timer, progress, || {
            pipeline_flush_mt().expect("pipeline_flush_mt")
        });
        out.push(MtResult {
            threads: t,
            pinned: me_pinned && spin.pinned,
            shared_cpus: shares_cpus(t, &others, own),
            calls_per_sample: b,
            latency,
        });
        drop(spin);
    }
    saved.restore();
    out
}

/// The raw `membarrier` command of a mechanism, for the comparison.
pub fn membarrier_cmd(m: FlushMechanism) -> Option<i32> {
    match m {
        FlushMechanism::MembarrierSyncCore => Some(32),
        FlushMechanism::MembarrierPrivateExpedited => Some(8),
        FlushMechanism::MembarrierGlobal => Some(1),
        _ => None,
    }
}

/// K threads flushing at once.
#[derive(Clone, Debug, Serialize)]
pub struct ConcurrentResult {
    /// Threads flushing at once.
    pub k: usize,
    /// Per flush as each thread sees it, through `pipeline_flush_mt`.
    pub coalesced: Latency,
    /// Per call, each thread looping on the raw `membarrier` command.
    pub raw: Latency,
    /// `membarrier` calls per flush through the crate's coalescer (counted
    /// with `__private::Coalescer` over the same raw call).
    pub calls_per_flush: f64,
    /// Flushes per thread per mode.
    pub flushes_per_thread: usize,
}

/// `--concurrent`: for each K, K threads pinned round-robin flush at once,
/// in interleaved rounds of three modes: the raw `membarrier` command, the
/// crate's `pipeline_flush_mt` (coalesced), and the crate's `Coalescer`
/// over the raw call, counting the calls it makes.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn concurrent(
    ks: &[usize],
    cmd: i32,
    iters: usize,
    progress: &mut Progress,
) -> Vec<ConcurrentResult> {
    use icache_coherence::__private::{membarrier, Coalescer};
    use std::sync::atomic::AtomicU64;
    use std::sync::Barrier;

    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Raw,
        Crate,
        Counted,
    }

    const ROUNDS: usize = 4;
    let cpus = sys::allowed_cpus();
    let per_round = iters.div_ceil(ROUNDS).max(1);
    let coalescer = Coalescer::new();
    let mut out = Vec::new();
    for &k in ks {
        let mut lat = [Vec::new(), Vec::new()];
        let calls = AtomicU64::new(0);
        for _ in 0..ROUNDS {
            for mode in [Mode::Raw, Mode::Crate, Mode::Counted] {
                let start = Barrier::new(k);
                let (coalescer, calls, start, cpus) = (&coalescer, &calls, &start, &cpus);
                let v: Vec<Vec<f64>> = std::thread::scope(|s| {
                    let hs: Vec<_> = (0..k)
                        .map(|t| {
                            s.spawn(move || {
                                sys::pin_to(cpus[t % cpus.len()]);
                                let mut v = Vec::with_capacity(per_round);
                                start.wait();
                                for _ in 0..per_round {
                                    let t0 = Instant::now();
                                    match mode {
                                        Mode::Raw => membarrier(cmd).unwrap_or_else(|e| {
                                            panic!("membarrier({cmd}): errno {e}")
                                        }),
                                        Mode::Crate => {
                                            pipeline_flush_mt().expect("pipeline_flush_mt")
                                        }
                                        Mode::Counted => coalescer
                                            .run_adaptive(|| {
                                                calls.fetch_add(1, Ordering::Relaxed);
                                                membarrier(cmd)
                                            })
                                            .unwrap_or_else(|e| {
                                                panic!("membarrier({cmd}): errno {e}")
                                            }),
                                    }
                                    v.push(t0.elapsed().as_nanos() as f64);
                                }
                                v
                            })
                        })
                        .collect();
                    hs.into_iter()
                        .map(|h| h.join().expect("flushing thread"))
                        .collect()
                });
                match mode {
                    Mode::Raw => lat[0].extend(v.into_iter().flatten()),
                    Mode::Crate => lat[1].extend(v.into_iter().flatten()),
                    Mode::Counted => {}
                }
                progress.tick(1);
            }
        }
        let [raw, crate_] = lat;
        out.push(ConcurrentResult {
            k,
            coalesced: Latency::of(crate_),
            raw: Latency::of(raw),
            calls_per_flush: calls.into_inner() as f64 / (per_round * ROUNDS * k) as f64,
            flushes_per_thread: per_round * ROUNDS,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_threads_than_cpus_share() {
        // 4 CPUs, measuring on 0: 3 others.
        assert!(!shares_cpus(0, &[1, 2, 3], 0));
        assert!(!shares_cpus(3, &[1, 2, 3], 0));
        assert!(shares_cpus(4, &[1, 2, 3], 0));
        // One CPU: any spinner shares it with the measuring thread.
        assert_eq!(other_cpus(&[0], 0), [0]);
        assert!(shares_cpus(1, &other_cpus(&[0], 0), 0));
        assert!(!shares_cpus(0, &[0], 0));
    }
}
