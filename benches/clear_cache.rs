//! `cargo bench`: clear_cache by size, and pipeline_flush_mt.
//!
//! Under QEMU: `cargo bench --target aarch64-unknown-linux-gnu --bench
//! clear_cache -- --noplot --save-baseline aarch64` (times are emulated;
//! compare ratios only). Criterion keeps every target's results in the same
//! `target/criterion`, so name a baseline per target, or it will report the
//! difference between x86_64 and aarch64 as a regression.

use std::ffi::c_void;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use icache_coherence::{clear_cache, pipeline_flush_mt};

const SIZES: [usize; 5] = [64, 1 << 10, 4 << 10, 64 << 10, 1 << 20];

fn bench_clear_cache(c: &mut Criterion) {
    let buf = vec![0u8; *SIZES.last().unwrap()];
    let mut g = c.benchmark_group("clear_cache");
    for len in SIZES {
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::from_parameter(len), &len, |b, &len| {
            b.iter(|| {
                // SAFETY: `buf` holds at least `len` readable bytes.
                unsafe { clear_cache(black_box(buf.as_ptr() as *const c_void), black_box(len)) }
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn bench_pipeline_flush_mt(c: &mut Criterion) {
    pipeline_flush_mt().unwrap(); // register outside the measurement
    c.bench_function("pipeline_flush_mt", |b| {
        b.iter(|| pipeline_flush_mt().unwrap())
    });
}

criterion_group!(benches, bench_clear_cache, bench_pipeline_flush_mt);
criterion_main!(benches);
