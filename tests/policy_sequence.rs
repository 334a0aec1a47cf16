//! The same calls behave the same on every platform (a fresh process: one
//! test here). Getters and `clear_cache` fix no policy, so an application's
//! `init_with(Strict)` after them succeeds wherever Strict is available at
//! all (on riscv64 Linux too, where the first `clear_cache` decides the
//! kernel mode); a library's `init()` afterwards keeps Strict; only an
//! explicit different `init_with` conflicts, and says what fixed the policy.
//! Run natively and under QEMU (`cargo test --target
//! riscv64gc-unknown-linux-gnu`, aarch64, s390x, arm).

use icache_coherence::{
    cache_geometry, clear_cache, flush_mechanism, flush_policy, init, init_with, pipeline_flush_mt,
    Error, FlushMechanism, FlushPolicy, PolicyOrigin,
};

/// Where Strict is available in this test's environments: Linux with
/// `membarrier` SYNC_CORE (the host's kernel under QEMU user mode), and
/// riscv64 Linux (`ByClearCache`).
const STRICT_AVAILABLE: bool = cfg!(all(
    any(target_os = "linux", target_os = "android"),
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "s390x",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    ),
    not(miri)
));

#[test]
fn getters_and_clear_cache_fix_nothing_then_strict_then_init() {
    // Reading, any number of times, decides nothing.
    for _ in 0..3 {
        assert_eq!(flush_policy(), None);
        assert_eq!(flush_mechanism(), Ok(None));
        let _ = cache_geometry();
    }
    let code = [0xc3u8; 256];
    // SAFETY: a live, readable buffer (never executed).
    unsafe { clear_cache(code.as_ptr().cast(), code.len()) }.unwrap();
    assert_eq!(flush_policy(), None, "clear_cache fixes no policy");

    let strict = init_with(FlushPolicy::Strict);
    if !STRICT_AVAILABLE {
        let e = strict.unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
        return;
    }
    let report = strict.expect("Strict where it is available");
    assert_eq!(report.policy, FlushPolicy::Strict);
    let want = if cfg!(target_arch = "riscv64") {
        // The lazy first clear_cache chose the kernel call, which reaches
        // every thread: Strict accepts it, with no further system call.
        FlushMechanism::ByClearCache
    } else {
        FlushMechanism::MembarrierSyncCore
    };
    assert_eq!(report.mechanism, want);
    // The getters registered nothing before: this is the first
    // registration (one membarrier call), or none at all on riscv64.
    let want_calls = if cfg!(target_arch = "riscv64") { 0 } else { 1 };
    assert_eq!(report.syscalls, want_calls, "{report}");
    assert_eq!(
        flush_policy(),
        Some((FlushPolicy::Strict, PolicyOrigin::InitWith))
    );
    assert_eq!(flush_mechanism(), Ok(Some(want)));

    // A library's init() keeps the application's choice.
    let again = init().expect("init() never conflicts");
    assert_eq!(
        (again.policy, again.mechanism, again.syscalls),
        (FlushPolicy::Strict, want, 0)
    );

    // Only an explicit, different init_with conflicts, and says why.
    let e = init_with(FlushPolicy::BestEffort).unwrap_err();
    assert_eq!(
        e,
        Error::PolicyConflict {
            in_force: FlushPolicy::Strict,
            requested: FlushPolicy::BestEffort,
            fixed_by: PolicyOrigin::InitWith,
        }
    );
    let text = e.to_string();
    assert!(
        text.contains("init_with(best-effort)")
            && text.contains("already strict")
            && text.contains("an earlier init_with")
            && text.contains("before any init() or pipeline_flush_mt"),
        "{text}"
    );
    pipeline_flush_mt().unwrap();
}
