//! `cargo bench --bench clear_cache`: this crate side by side with the
//! crates it replaces, in one run. `.ci/bench-ratios.py` turns the results
//! into ratios to this crate (peer time / this crate's time); absolute
//! times depend on the machine and, under QEMU, mean nothing.
//!
//! Peers (dev-dependencies, on x86_64, aarch64 and riscv64, where both
//! build): `wasmtime-internal-jit-icache-coherence` 48.0.10 (what
//! cranelift-jit 0.135 pins; 49.0.x is the same source), named
//! `wasmtime-48`, and `clear-cache` 0.1. `peers/Cargo.toml` builds this
//! same file with Rust 1.97 against 50.0.x, named `wasmtime-50` (its
//! results go to `target/peers/criterion`):
//!
//! ```text
//! CARGO_TARGET_DIR="$PWD/target/peers" cargo +1.97.0 bench --manifest-path peers/Cargo.toml \
//!     --bench clear_cache -- 'wasmtime-50|icache-coherence' --save-baseline native
//! ```
//!
//! - `clear_cache/<bytes>`: every call cleans a range that was written just
//!   before (dirty lines), at a fresh offset in a 16 MiB mapping; only the
//!   calls are timed (a batch of writes, then the batch of calls).
//! - `ranges_16x256`: 16 ranges of 256 bytes (4 KiB apart): this crate's
//!   one `clear_cache_ranges` against 16 `clear_cache` calls (each crate).
//! - `pipeline_flush_mt/threads=<T>`: with T other threads running, each
//!   pinned to a CPU (Linux) and spinning.
//! - `pipeline_flush_mt/concurrent=<K>`: K threads flushing at once; the
//!   time is the per-flush latency the measuring thread sees.
//! - `cache_geometry`: this crate only (the peers have no such query).
//!
//! On x86_64 every crate's `clear_cache` and `pipeline_flush_mt` is a
//! no-op (fetch is coherent; this crate's default policy): ratios near 1
//! say only that. The maintenance runs under QEMU aarch64:
//!
//! ```text
//! cargo bench --target aarch64-unknown-linux-gnu --bench clear_cache -- \
//!     --noplot --warm-up-time 0.2 --measurement-time 0.5 --save-baseline aarch64
//! ```
//!
//! Criterion keeps every target's results in the same `target/criterion`:
//! name a baseline per target.

use std::ffi::c_void;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "../tests/support/mmap.rs"]
mod mmap;

const SIZES: [usize; 6] = [64, 256, 4 << 10, 16 << 10, 64 << 10, 1 << 20];
/// The dirty-buffer mapping: larger than the last-level caches of the
/// machines this runs on, so offsets are fresh.
const BUF: usize = 16 << 20;

/// A `clear_cache(ptr, len)` of one crate.
type Clean = unsafe fn(*const c_void, usize);

/// This crate.
unsafe fn ours(p: *const c_void, len: usize) {
    // SAFETY: forwarded: the caller passes a mapped, readable range.
    unsafe { icache_coherence::clear_cache(p, len) }.unwrap()
}

/// The peers, where they build.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
mod peers {
    use std::ffi::c_void;

    /// The wasmtime peer's name: `wasmtime-48` (this crate's dev-dependency,
    /// 48.0.x), or `wasmtime-50` when `peers/Cargo.toml` builds this file.
    pub const WASMTIME: &str = match env!("CARGO_PKG_NAME").as_bytes() {
        b"icache-coherence" => "wasmtime-48",
        _ => "wasmtime-50",
    };

    /// `wasmtime-internal-jit-icache-coherence`.
    pub unsafe fn wasmtime(p: *const c_void, len: usize) {
        // SAFETY: forwarded.
        unsafe { wasmtime_internal_jit_icache_coherence::clear_cache(p, len) }.unwrap()
    }

    /// `clear-cache`: `(start, end)`.
    pub unsafe fn clear_cache(p: *const c_void, len: usize) {
        // SAFETY: forwarded; `p + len` is the end of the same mapping.
        assert!(unsafe { ::clear_cache::clear_cache(p, p.byte_add(len)) })
    }

    pub fn wasmtime_flush() {
        wasmtime_internal_jit_icache_coherence::pipeline_flush_mt().unwrap()
    }
}

/// Every crate's `clear_cache` that builds here, by name.
fn cleaners() -> Vec<(&'static str, Clean)> {
    #[allow(unused_mut)] // only this crate on targets without peers
    let mut v: Vec<(&'static str, Clean)> = vec![("icache-coherence", ours)];
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    ))]
    v.extend([
        (peers::WASMTIME, peers::wasmtime as Clean),
        ("clear-cache", peers::clear_cache as Clean),
    ]);
    v
}

/// Every crate's `pipeline_flush_mt`, by name.
fn flushers() -> Vec<(&'static str, fn())> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, fn())> = vec![("icache-coherence", || {
        icache_coherence::pipeline_flush_mt().unwrap()
    })];
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    ))]
    v.push((peers::WASMTIME, peers::wasmtime_flush));
    v
}

/// Writes `len` bytes at each of `k` consecutive fresh offsets, then times
/// `f` on each: `iters` calls in batches, only the calls timed.
fn dirty_calls(buf: *mut u8, len: usize, iters: u64, mut f: impl FnMut(*const c_void)) -> Duration {
    let stride = len.next_multiple_of(64);
    let per_batch = (BUF / stride) as u64;
    let (mut total, mut done, mut byte) = (Duration::ZERO, 0u64, 0u8);
    while done < iters {
        let k = per_batch.min(iters - done) as usize;
        byte = byte.wrapping_add(1);
        for j in 0..k {
            // SAFETY: `j * stride + len <= BUF`, inside the mapping.
            unsafe { buf.add(j * stride).write_bytes(byte, len) };
        }
        let t = Instant::now();
        for j in 0..k {
            f(black_box(buf.wrapping_add(j * stride).cast::<c_void>()));
        }
        total += t.elapsed();
        done += k as u64;
    }
    total
}

fn bench_clear_cache(c: &mut Criterion) {
    let buf = mmap::map_anonymous(BUF);
    let mut g = c.benchmark_group("clear_cache");
    for len in SIZES {
        g.throughput(Throughput::Bytes(len as u64));
        for (name, clean) in cleaners() {
            g.bench_with_input(BenchmarkId::new(name, len), &len, |b, &len| {
                // SAFETY: every pointer passed starts `len` mapped bytes.
                b.iter_custom(|iters| dirty_calls(buf, len, iters, |p| unsafe { clean(p, len) }))
            });
        }
    }
    g.finish();
}

fn bench_ranges(c: &mut Criterion) {
    const N: usize = 16;
    const LEN: usize = 256;
    const APART: usize = 4096;
    let buf = mmap::map_anonymous(BUF);
    let mut g = c.benchmark_group("ranges_16x256");
    let batch_len = N * APART;
    g.bench_function("icache-coherence batch", |b| {
        b.iter_custom(|iters| {
            dirty_calls(buf, batch_len, iters, |p| {
                let ranges: [(*const c_void, usize); N] =
                    core::array::from_fn(|i| (p.wrapping_byte_add(i * APART), LEN));
                // SAFETY: each range lies in the `batch_len` bytes at `p`.
                unsafe { icache_coherence::clear_cache_ranges(&ranges) }.unwrap()
            })
        })
    });
    for (name, clean) in cleaners() {
        g.bench_function(format!("{name} separate"), |b| {
            b.iter_custom(|iters| {
                dirty_calls(buf, batch_len, iters, |p| {
                    for i in 0..N {
                        // SAFETY: as above.
                        unsafe { clean(p.wrapping_byte_add(i * APART), LEN) }
                    }
                })
            })
        });
    }
    g.finish();
}

/// Pins the calling thread to `cpu` (Linux); elsewhere does nothing.
fn pin(cpu: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes inside it;
    // sched_setaffinity reads it.
    unsafe {
        let mut set: libc::cpu_set_t = core::mem::zeroed();
        libc::CPU_SET(cpu % libc::CPU_SETSIZE as usize, &mut set);
        libc::sched_setaffinity(0, core::mem::size_of_val(&set), &set);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

/// `n` threads pinned round-robin from CPU 1 (the measuring thread is
/// pinned to 0), each running `work` until the returned guard drops.
struct Running {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Running {
    fn start(n: usize, cpus: usize, work: fn()) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|i| {
                let stop = stop.clone();
                thread::spawn(move || {
                    pin(1 + i % cpus.saturating_sub(1).max(1));
                    while !stop.load(Ordering::Relaxed) {
                        work();
                    }
                })
            })
            .collect();
        Running { stop, threads }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
    }
}

fn bench_pipeline_flush_mt(c: &mut Criterion) {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    pin(0);
    for (_, flush) in flushers() {
        flush(); // register outside the measurement
    }
    let mut g = c.benchmark_group("pipeline_flush_mt");
    let mut others = vec![0, 1, cpus.saturating_sub(1)];
    others.dedup();
    for t in others {
        let _spinning = Running::start(t, cpus, std::hint::spin_loop);
        for (name, flush) in flushers() {
            g.bench_function(BenchmarkId::new(name, format!("threads={t}")), |b| {
                b.iter(flush)
            });
        }
    }
    for k in [2usize, 4] {
        for (name, flush) in flushers() {
            let _flushing = Running::start(k - 1, cpus, flush);
            g.bench_function(BenchmarkId::new(name, format!("concurrent={k}")), |b| {
                b.iter(flush)
            });
        }
    }
    g.finish();
}

fn bench_geometry(c: &mut Criterion) {
    c.bench_function("cache_geometry/icache-coherence", |b| {
        b.iter(|| black_box(icache_coherence::cache_geometry()))
    });
}

criterion_group!(
    benches,
    bench_clear_cache,
    bench_ranges,
    bench_pipeline_flush_mt,
    bench_geometry
);
criterion_main!(benches);
