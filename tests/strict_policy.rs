//! `FlushPolicy::Strict`, in a fresh process (one test in this file): on
//! x86_64 and s390x Linux it runs the whole membarrier path natively, with
//! the real kernel; on aarch64 and arm Linux (under QEMU, with the host's
//! kernel) it accepts SYNC_CORE only.

use icache_coherence::{
    flush_mechanism, init, init_with, pipeline_flush_mt, Error, FlushMechanism, FlushPolicy,
};

#[test]
fn strict_policy_end_to_end() {
    let first = init_with(FlushPolicy::Strict);
    let on_linux_membarrier = cfg!(all(
        any(target_os = "linux", target_os = "android"),
        any(
            target_arch = "x86",
            target_arch = "x86_64",
            target_arch = "s390x",
            target_arch = "aarch64",
            target_arch = "arm"
        ),
        not(miri)
    ));
    if !on_linux_membarrier {
        // riscv64 Linux: ByClearCache is accepted; elsewhere (Miri, Windows
        // x86_64): refused, typed, and remembered.
        match first {
            Ok(r) => assert!(r.mechanism.serialises_all_threads(), "{r:?}"),
            Err(e) => {
                assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
                assert_eq!(pipeline_flush_mt(), Err(e));
            }
        }
        return;
    }
    // This machine's kernel (and QEMU's host kernel) has SYNC_CORE.
    let report = first.expect("Strict on a kernel with SYNC_CORE");
    assert_eq!(report.policy, FlushPolicy::Strict);
    assert_eq!(report.mechanism, FlushMechanism::MembarrierSyncCore);
    assert_eq!(report.syscalls, 1, "one registration, nothing else");
    let text = report.to_string();
    assert!(
        text.contains("strict") && text.contains("membarrier-sync-core"),
        "{text}"
    );

    let again = init_with(FlushPolicy::Strict).unwrap();
    assert_eq!(again.syscalls, 0, "idempotent: no system call");
    assert_eq!(again.mechanism, report.mechanism);

    // A library's init() keeps the application's Strict.
    let lib = init().expect("init() accepts the policy in force");
    assert_eq!((lib.policy, lib.syscalls), (FlushPolicy::Strict, 0));
    assert_eq!(
        init_with(FlushPolicy::BestEffort),
        Err(Error::PolicyConflict {
            in_force: FlushPolicy::Strict,
            requested: FlushPolicy::BestEffort,
            fixed_by: icache_coherence::PolicyOrigin::InitWith,
        }),
        "never changed silently"
    );
    let io: std::io::Error = init_with(FlushPolicy::NoSyscalls).unwrap_err().into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);

    for _ in 0..100 {
        pipeline_flush_mt().unwrap();
    }
    assert_eq!(
        flush_mechanism(),
        Ok(Some(FlushMechanism::MembarrierSyncCore))
    );
}
