//! The first flush fixes the default policy: after it, `init()` accepts it
//! and asking for another one is an error that says what fixed the policy,
//! not a silent change (a fresh process: one test here).

use icache_coherence::{
    flush_policy, init, init_with, pipeline_flush_mt, Error, FlushPolicy, PolicyOrigin,
};

#[test]
fn first_flush_fixes_best_effort() {
    assert_eq!(flush_policy(), None);
    pipeline_flush_mt().unwrap();
    assert_eq!(
        flush_policy(),
        Some((FlushPolicy::BestEffort, PolicyOrigin::FirstFlush))
    );
    let conflict = |requested| Error::PolicyConflict {
        in_force: FlushPolicy::BestEffort,
        requested,
        fixed_by: PolicyOrigin::FirstFlush,
    };
    let e = init_with(FlushPolicy::Strict).unwrap_err();
    assert_eq!(e, conflict(FlushPolicy::Strict));
    assert!(
        e.to_string()
            .contains("fixed by the first pipeline_flush_mt, which took the default"),
        "{e}"
    );
    assert_eq!(
        init_with(FlushPolicy::NoSyscalls).unwrap_err(),
        conflict(FlushPolicy::NoSyscalls)
    );
    // The same policy is fine, and so is init(): they change nothing.
    let r = init().unwrap();
    assert_eq!(r.policy, FlushPolicy::BestEffort);
    assert_eq!(r.syscalls, 0);
    assert_eq!(init_with(FlushPolicy::BestEffort).unwrap().syscalls, 0);
    assert_eq!(
        flush_policy(),
        Some((FlushPolicy::BestEffort, PolicyOrigin::FirstFlush))
    );
}
