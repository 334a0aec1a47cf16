//! Racing first use, against the real kernel: this file has one test, so it
//! runs in a fresh process where nothing has probed or registered yet.

use std::sync::{Arc, Barrier};

use icache_coherence::{flush_mechanism, pipeline_flush_mt};

#[test]
fn racing_first_calls_all_succeed() {
    const THREADS: usize = 8;
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                // Half initialise first, half flush first: both paths
                // probe and register.
                if i % 2 == 0 {
                    icache_coherence::init().map(drop)?;
                }
                (0..100).try_for_each(|_| pipeline_flush_mt())
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("no panic"), Ok(()));
    }
    let m = flush_mechanism()
        .unwrap()
        .expect("decided by the first calls");
    // Where membarrier is used (aarch64 and arm Linux, here under QEMU with
    // the host's kernel), the race must have ended on the full guarantee.
    if cfg!(all(
        target_os = "linux",
        any(target_arch = "aarch64", target_arch = "arm")
    )) {
        assert_eq!(m, icache_coherence::FlushMechanism::MembarrierSyncCore);
    }
}
