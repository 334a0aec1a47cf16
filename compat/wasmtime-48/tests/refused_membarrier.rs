//! What a cranelift-jit user sees when a sandbox refuses `membarrier`:
//! cranelift-jit calls `pipeline_flush_mt().expect("Failed pipeline flush")`
//! through this stand-in, so the panic message is `Failed pipeline flush:
//! {io::Error:?}`. It must name the call and the cause, and the errno must
//! stay reachable.
//!
//! A child process (this test binary, re-executed) installs a seccomp
//! filter that answers every x86_64 `membarrier` with `EPERM` (the root's
//! `tests/support/seccomp.rs`), chooses the strict policy (on x86_64 the
//! default policy makes no `membarrier` call at all), and panics through
//! the stand-in exactly as cranelift-jit would. The parent checks its
//! stderr.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

#[path = "../../../tests/support/seccomp.rs"]
mod seccomp;

use std::process::Command;

const CHILD_ENV: &str = "ICACHE_COMPAT_REFUSED_CHILD";
const EXPECT: &str = "Failed pipeline flush";

/// The child side: does nothing unless re-executed by the parent below.
#[test]
fn child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    seccomp::EPERM.install(0).expect("install the EPERM filter");
    let strict = icache_coherence::init_with(icache_coherence::FlushPolicy::Strict);
    eprintln!("init_with(Strict): {strict:?}");
    let e = wasmtime_internal_jit_icache_coherence::pipeline_flush_mt().unwrap_err();
    eprintln!("display: {e}");
    eprintln!("kind: {:?}", e.kind());
    let errno = icache_coherence::Error::from_io(&e).and_then(|e| e.raw_os_error());
    eprintln!("errno via Error::from_io: {errno:?}");
    // Exactly what cranelift-jit does.
    wasmtime_internal_jit_icache_coherence::pipeline_flush_mt().expect(EXPECT);
}

#[test]
fn expect_message_names_the_call_and_the_cause() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("re-execute the test binary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child must panic: {stderr}");
    for want in [
        // The panic message .expect prints: `{msg}: {err:?}`.
        "Failed pipeline flush: Custom { kind: PermissionDenied, error: PermissionDenied { syscall: Membarrier, errno: 1 } }",
        "display: membarrier was denied, likely by a seccomp sandbox (errno 1); FlushPolicy::NoSyscalls never calls it",
        "kind: PermissionDenied",
        "errno via Error::from_io: Some(1)",
        "init_with(Strict): Err(PermissionDenied { syscall: Membarrier, errno: 1 })",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in the child's stderr:\n{stderr}");
    }
}
