//! Why `run_adaptive` marks a solo call with a flag, not a count: the cost
//! per solo call of two Relaxed stores against a locked fetch_add/fetch_sub
//! pair, on one thread (docs/COALESCER.md).
//!
//!     rustc -O docs/measure/solo_flag_vs_count.rs -o /tmp/solo && /tmp/solo
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::Instant;
static A: AtomicU32 = AtomicU32::new(0);
fn main() {
    const N: u32 = 20_000_000;
    for round in 0..3 {
        let t = Instant::now();
        for _ in 0..N { A.store(1, Relaxed); std::hint::black_box(&A); A.store(0, Relaxed); }
        let flag = t.elapsed().as_secs_f64() * 1e9 / N as f64;
        let t = Instant::now();
        for _ in 0..N { A.fetch_add(1, Relaxed); std::hint::black_box(&A); A.fetch_sub(1, Relaxed); }
        let count = t.elapsed().as_secs_f64() * 1e9 / N as f64;
        println!("round {round}: flag (2 stores) {flag:.2} ns, count (fetch_add + fetch_sub) {count:.2} ns per solo call");
    }
}
