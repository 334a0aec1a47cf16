//! The worst `pipeline_flush_mt` latency when another flushing thread is
//! starved by a real-time thread on its CPU, against the same threads
//! calling `membarrier` themselves (docs/COALESCER.md).
//!
//! Linux, root (SCHED_FIFO), at least 2 CPUs:
//!
//!     cargo run --release --example starved_issuer
//!
//! Two threads flush in a loop, pinned to CPU 0 and CPU 1; a SCHED_FIFO
//! thread on CPU 0 spins for 300 ms, ten times, 100 ms apart, so the CPU-0
//! flusher stops wherever it is (possibly as the issuer of a shared call).
//! Printed: the CPU-1 thread's worst and 99.99th-percentile flush, for the
//! crate (strict policy: membarrier SYNC_CORE) and for raw membarrier.

#[cfg(target_os = "linux")]
fn main() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    fn pin(cpu: usize) {
        // SAFETY: `set` is a valid, zeroed cpu_set_t; pid 0 is this thread.
        unsafe {
            let mut set: libc::cpu_set_t = core::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, core::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    fn membarrier(cmd: i32) {
        // SAFETY: membarrier(cmd, 0, 0) takes no pointers.
        let r = unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) };
        assert_eq!(r, 0, "membarrier({cmd})");
    }
    const SYNC_CORE: i32 = 32;
    const REGISTER_SYNC_CORE: i32 = 64;

    icache_coherence::init_with(icache_coherence::FlushPolicy::Strict)
        .expect("the strict policy (membarrier SYNC_CORE) on this kernel");
    membarrier(REGISTER_SYNC_CORE);
    for crate_ in [true, false, true, false] {
        let stop = AtomicBool::new(false);
        let flush = || {
            if crate_ {
                icache_coherence::pipeline_flush_mt().expect("pipeline_flush_mt");
            } else {
                membarrier(SYNC_CORE);
            }
        };
        let mut lat: Vec<u64> = std::thread::scope(|s| {
            s.spawn(|| {
                pin(0);
                while !stop.load(SeqCst) {
                    flush();
                }
            });
            let measured = s.spawn(|| {
                pin(1);
                let mut v = Vec::new();
                while !stop.load(SeqCst) {
                    let t0 = Instant::now();
                    flush();
                    v.push(t0.elapsed().as_nanos() as u64);
                }
                v
            });
            s.spawn(|| {
                pin(0);
                let p = libc::sched_param { sched_priority: 1 };
                // SAFETY: `p` is a valid sched_param; pid 0 is this thread.
                let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &p) };
                assert_eq!(r, 0, "SCHED_FIFO needs root (CAP_SYS_NICE)");
                for _ in 0..10 {
                    std::thread::sleep(Duration::from_millis(100));
                    let t0 = Instant::now();
                    while t0.elapsed() < Duration::from_millis(300) {
                        std::hint::spin_loop();
                    }
                }
                stop.store(true, SeqCst);
            });
            measured.join().unwrap()
        });
        lat.sort_unstable();
        let q = |f: f64| lat[((lat.len() - 1) as f64 * f) as usize] as f64 / 1e6;
        println!(
            "{:<32} flushes {:>9}  p50 {:>8.4} ms  p99.99 {:>8.3} ms  worst {:>8.3} ms",
            if crate_ {
                "pipeline_flush_mt (strict)"
            } else {
                "raw membarrier(SYNC_CORE)"
            },
            lat.len(),
            q(0.5),
            q(0.9999),
            q(1.0)
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("starved_issuer: Linux only");
}
