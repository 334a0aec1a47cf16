//! Real seccomp faults on `membarrier`, natively on x86_64 Linux (where
//! `FlushPolicy::Strict` runs the whole membarrier path).
//!
//! Each case (`tests/support/seccomp_cases.rs`) runs twice:
//! 1. in a forked child that installs the case's classic-BPF filter on
//!    itself and runs the case's body (allocation-free checks; the n-th
//!    failed check exits `10 + n`); the parent asserts the exit status
//!    (or death by `SIGSYS`) with a bounded wait;
//! 2. in this test binary re-executed under `strace -f -e trace=membarrier`
//!    (`child_entry` below runs the body), to assert the exact sequence of
//!    `membarrier` commands and results: e.g. EPERM under Strict is exactly
//!    one call however many flushes follow.
//!
//! The same bodies run under `qemu-aarch64` with the filter on the host:
//! `.ci/seccomp-qemu.sh` (`examples/seccomp_qemu.rs`) runs this file's
//! aarch64 build, whose `child_entry` test is then the guest side.
//!
//! strace is required (`apt-get install strace`): without it the sequence
//! checks fail, they are not skipped.

#![cfg(all(target_os = "linux", not(miri)))]

#[path = "support/child.rs"]
mod child;
#[path = "support/seccomp.rs"]
mod seccomp;
#[path = "support/seccomp_cases.rs"]
mod seccomp_cases;

use seccomp_cases::{CASE_ENV, HOST_FILTER_ENV};

/// The child side, for a re-executed test binary (natively under strace,
/// or as the aarch64 guest under QEMU): runs the case named by
/// `ICACHE_SECCOMP_CASE`, then exits. Without that variable (every normal
/// run) it does nothing.
#[test]
fn child_entry() {
    let Ok(name) = std::env::var(CASE_ENV) else {
        return;
    };
    let Some(case) = seccomp_cases::find(&name) else {
        child::emit(format_args!("child: no case {name:?}\n"));
        child::exit(2);
    };
    child::no_core_dumps();
    if std::env::var_os(HOST_FILTER_ENV).is_some() {
        // Under QEMU: the host installed the filter before exec'ing QEMU.
        // /proc/thread-self/status is the host's view of this QEMU thread.
        if child::seccomp_mode() != Some(2) {
            child::emit(format_args!(
                "child [{name}]: no seccomp filter on this thread (Seccomp: {:?})\n",
                child::seccomp_mode()
            ));
            child::exit(3);
        }
    } else {
        #[cfg(target_arch = "x86_64")]
        if let Err(e) = case.filter.map_or(Ok(()), |f| f.install(0)) {
            child::emit(format_args!("child [{name}]: seccomp install: errno {e}\n"));
            child::exit(4);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            child::emit(format_args!(
                "child [{name}]: the filters are for an x86_64 host; set {HOST_FILTER_ENV} when the host installed one\n"
            ));
            child::exit(4);
        }
    }
    (case.body)(&mut child::Checks::new(case.name));
    child::exit(0);
}

#[cfg(target_arch = "x86_64")]
mod native {
    use super::{child, seccomp, seccomp_cases};
    use std::time::{Duration, Instant};

    const TIMEOUT: Duration = Duration::from_secs(60);

    /// Runs case `name` natively: forked (unless it needs a fresh process),
    /// then re-executed under strace; asserts both outcomes and the exact
    /// `membarrier` sequence.
    fn native(name: &str) {
        let case = seccomp_cases::find(name).expect("case");
        let want = case.native.expect("a native case");
        let started = Instant::now();

        if case.fresh_process_only {
            let (got, _) =
                child::run_self("child_entry", &[(seccomp_cases::CASE_ENV, name)], TIMEOUT);
            assert_eq!(got, want.outcome, "{name}: re-executed child: {got}");
        } else {
            // This process never calls the crate itself, so the forked
            // child starts with the crate's state untouched.
            let got = child::fork_run(TIMEOUT, || {
                child::no_core_dumps();
                if let Err(e) = case.filter.map_or(Ok(()), |f| f.install(0)) {
                    child::emit(format_args!("child [{name}]: seccomp install: errno {e}\n"));
                    return 4;
                }
                (case.body)(&mut child::Checks::new(case.name));
                0
            });
            assert_eq!(got, want.outcome, "{name}: forked child: {got}");
        }

        let (got, calls, _) =
            child::strace_self("child_entry", &[(seccomp_cases::CASE_ENV, name)], TIMEOUT);
        assert_eq!(got, want.outcome, "{name}: under strace: {got}");
        let seq = child::seq(&calls);
        assert_eq!(
            seq, want.seq,
            "{name}: membarrier sequence under strace (calls: {calls:?})"
        );
        if name.starts_with("per_thread_filter") {
            // Thread A's refused probe and thread B's accepted registration
            // came from different threads.
            assert_ne!(calls[0].tid, calls[1].tid, "{calls:?}");
        }
        println!(
            "{name}: filter {}, {got}, membarrier: {seq} ({:.2?})",
            case.filter.map_or("(per thread)", |f| f.name),
            started.elapsed()
        );
    }

    macro_rules! cases {
        ($($name:ident)*) => {$(
            #[test]
            fn $name() {
                native(stringify!($name));
            }
        )*};
    }

    cases! {
        getters_then_strict
        allow_strict
        eperm_strict
        eperm_best_effort
        eacces_strict
        enosys_strict
        enosys_best_effort
        eio_strict
        sync_core_einval_strict
        sync_core_einval_best_effort
        expedited_einval_strict
        expedited_einval_best_effort
        sync_core_cmd_eperm_strict
        eperm_after_registration
        sync_core_eperm_best_effort
        kill_no_syscalls
        kill_best_effort
        kill_strict
        per_thread_filter
        per_thread_filter_after_registration
    }

    /// Every native case has a test above (and only those).
    #[test]
    fn every_native_case_is_run() {
        let src = include_str!("seccomp.rs");
        for c in seccomp_cases::CASES {
            assert_eq!(
                c.native.is_some(),
                src.contains(&format!("\n        {}\n", c.name)),
                "case {} and the cases! list disagree",
                c.name
            );
        }
    }

    /// The generated programs, checked instruction by instruction for one
    /// filter of each shape.
    #[test]
    fn bpf_programs() {
        let p = seccomp::EPERM.program();
        let ops: Vec<(u16, u8, u8, u32)> = p.insns[..p.len]
            .iter()
            .map(|i| (i.code, i.jt, i.jf, i.k))
            .collect();
        assert_eq!(
            ops,
            [
                (0x20, 0, 0, 4),
                (0x15, 0, 3, seccomp::AUDIT_ARCH_X86_64),
                (0x20, 0, 0, 0),
                (0x15, 0, 1, 324),
                (0x06, 0, 0, seccomp::SECCOMP_RET_ERRNO | 1),
                (0x06, 0, 0, seccomp::SECCOMP_RET_ALLOW),
            ]
        );
        let p = seccomp::SYNC_CORE_EINVAL.program();
        let ops: Vec<(u16, u8, u8, u32)> = p.insns[..p.len]
            .iter()
            .map(|i| (i.code, i.jt, i.jf, i.k))
            .collect();
        assert_eq!(
            ops,
            [
                (0x20, 0, 0, 4),
                (0x15, 0, 8, seccomp::AUDIT_ARCH_X86_64),
                (0x20, 0, 0, 0),
                (0x15, 0, 6, 324),
                (0x20, 0, 0, 16),
                (0x15, 0, 1, 32),
                (0x06, 0, 0, seccomp::SECCOMP_RET_ERRNO | 22),
                (0x15, 0, 1, 64),
                (0x06, 0, 0, seccomp::SECCOMP_RET_ERRNO | 22),
                (0x06, 0, 0, seccomp::SECCOMP_RET_ALLOW),
                (0x06, 0, 0, seccomp::SECCOMP_RET_ALLOW),
            ]
        );
    }
}
