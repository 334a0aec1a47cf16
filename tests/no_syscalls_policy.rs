//! `FlushPolicy::NoSyscalls` in a fresh process (one test here): no
//! `membarrier`, `Ok`, and the mechanism says what the executing threads
//! must do. (That no `membarrier` is made is proved under QEMU's strace by
//! `.ci/qemu-counts.py`, and with a seccomp filter that kills on it.)

use icache_coherence::{
    flush_mechanism, init_with, pipeline_flush_mt, FlushMechanism, FlushPolicy,
};

#[test]
fn no_syscalls_policy() {
    let r = init_with(FlushPolicy::NoSyscalls).unwrap();
    assert_eq!(r.syscalls, 0);
    assert_eq!(r.policy, FlushPolicy::NoSyscalls);
    let want = if cfg!(all(
        any(target_os = "linux", target_os = "android"),
        any(target_arch = "aarch64", target_arch = "arm"),
        not(miri)
    )) {
        FlushMechanism::LocalSyncRequired
    } else if cfg!(all(target_os = "linux", target_arch = "riscv64", not(miri))) {
        // riscv_flush_icache still reaches every thread.
        FlushMechanism::ByClearCache
    } else {
        FlushMechanism::NotRequired
    };
    assert_eq!(r.mechanism, want);
    assert!(!matches!(
        r.mechanism,
        FlushMechanism::MembarrierSyncCore
            | FlushMechanism::MembarrierPrivateExpedited
            | FlushMechanism::MembarrierGlobal
    ));
    for _ in 0..10 {
        pipeline_flush_mt().unwrap();
    }
    assert_eq!(flush_mechanism(), Ok(Some(want)));
}
