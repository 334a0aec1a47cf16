//! The policy is fixed by the first use: after a flush, asking for another
//! one is an error, not a silent change (a fresh process: one test here).

use icache_coherence::{init, init_with, pipeline_flush_mt, Error, FlushPolicy};

#[test]
fn first_flush_fixes_best_effort() {
    pipeline_flush_mt().unwrap();
    assert_eq!(
        init_with(FlushPolicy::Strict),
        Err(Error::PolicyConflict {
            in_force: FlushPolicy::BestEffort,
            requested: FlushPolicy::Strict
        })
    );
    assert_eq!(
        init_with(FlushPolicy::NoSyscalls).unwrap_err(),
        Error::PolicyConflict {
            in_force: FlushPolicy::BestEffort,
            requested: FlushPolicy::NoSyscalls
        }
    );
    // The same policy is fine, and changes nothing.
    let r = init().unwrap();
    assert_eq!(r.policy, FlushPolicy::BestEffort);
    assert_eq!(r.syscalls, 0);
}
