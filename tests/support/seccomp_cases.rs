//! The seccomp fault-injection cases: a filter, a body that a child process
//! runs under it (checking the crate's answers, exiting `10 + n` on the n-th
//! failed check), and what must happen natively on x86_64 and under
//! `qemu-aarch64` (where the same filter, installed on the host before
//! QEMU starts, sees the guest's `membarrier`). Shared by `tests/seccomp.rs`
//! (native runs, and the guest side: its `child_entry` test runs a body) and
//! `examples/seccomp_qemu.rs` (the host side under QEMU), through `#[path]`;
//! both also include `seccomp.rs` and `child.rs` as `crate::seccomp` and
//! `crate::child`.
//!
//! The bodies differ natively and under QEMU only where the crate does:
//! on x86_64 `BestEffort` never calls `membarrier` (`NotRequired`), so the
//! BestEffort fallback chain is exercised under QEMU only (and with
//! scripted kernels in `src/os/membarrier/tests.rs`).

#![allow(dead_code)] // the guest side does not use the expectations

use crate::child::Checks;
use crate::seccomp::{self, Filter};
use icache_coherence::{
    cache_geometry, clear_cache, flush_mechanism, flush_policy, init, init_with, pipeline_flush_mt,
    Error, FlushMechanism, FlushPolicy, PolicyOrigin, Syscall,
};

/// The environment variable that makes `tests/seccomp.rs`'s `child_entry`
/// test run a case's body (and nothing else does anything with it).
pub const CASE_ENV: &str = "ICACHE_SECCOMP_CASE";
/// Set (to `1`) when the host already installed the case's filter (under
/// QEMU): the body then checks it runs filtered instead of filtering itself.
pub const HOST_FILTER_ENV: &str = "ICACHE_SECCOMP_HOST_FILTER";

/// How the child ends, and its `membarrier` calls (see `child::seq`: each
/// call `CMD=RESULT`, repeated runs as `*N`, `none` for no call).
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    pub outcome: crate::child::Outcome,
    pub seq: &'static str,
}

#[derive(Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    /// The filter the child starts under; `None`: the body installs its
    /// own (on one thread only).
    pub filter: Option<Filter>,
    pub body: fn(&mut Checks),
    /// Natively on x86_64 (`None`: not a native case).
    pub native: Option<Expect>,
    /// Under qemu-aarch64 with the filter on the host (`None`: not run
    /// there; why is in the case's comment).
    pub guest: Option<Expect>,
    /// Only in a fresh process (`execve`), never in a forked child: the
    /// body starts threads.
    pub fresh_process_only: bool,
}

use crate::child::Outcome::{Exited, Signaled};
const OK: crate::child::Outcome = Exited(0);
const SIGSYS: crate::child::Outcome = Signaled(libc::SIGSYS);

const fn ok(seq: &'static str) -> Option<Expect> {
    Some(Expect { outcome: OK, seq })
}
const fn killed(seq: &'static str) -> Option<Expect> {
    Some(Expect {
        outcome: SIGSYS,
        seq,
    })
}

pub const CASES: &[Case] = &[
    // The getters change no state: before any init, flush_policy,
    // flush_mechanism and cache_geometry (three times each) and a
    // clear_cache make no membarrier call and fix no policy, so
    // init_with(Strict) afterwards is the process's one registration and
    // a library's init() keeps Strict.
    Case {
        name: "getters_then_strict",
        filter: Some(seccomp::ALLOW),
        body: getters_then_strict,
        native: ok("64=ok 32=ok"),
        guest: ok("64=ok 32=ok"),
        fresh_process_only: false,
    },
    // The filter is installed and allows everything: the harness works, the
    // crate registers once and flushes once per call.
    Case {
        name: "allow_strict",
        filter: Some(seccomp::ALLOW),
        body: allow_strict,
        native: ok("64=ok 32=ok*3"),
        guest: ok("64=ok 32=ok*3"),
        fresh_process_only: false,
    },
    // EPERM is remembered: one registration attempt, then no call at all.
    Case {
        name: "eperm_strict",
        filter: Some(seccomp::EPERM),
        body: eperm_strict,
        native: ok("64=EPERM"),
        guest: ok("64=EPERM"),
        fresh_process_only: false,
    },
    // EPERM ends the probe at once under BestEffort too (no fallback).
    Case {
        name: "eperm_best_effort",
        filter: Some(seccomp::EPERM),
        body: eperm_best_effort,
        native: ok("none"),
        guest: ok("64=EPERM"),
        fresh_process_only: false,
    },
    Case {
        name: "eacces_strict",
        filter: Some(seccomp::EACCES),
        body: eacces_strict,
        native: ok("64=EACCES"),
        guest: ok("64=EACCES"),
        fresh_process_only: false,
    },
    Case {
        name: "enosys_strict",
        filter: Some(seccomp::ENOSYS),
        body: enosys_strict,
        native: ok("64=ENOSYS"),
        guest: ok("64=ENOSYS"),
        fresh_process_only: false,
    },
    // The whole BestEffort chain is refused: REGISTER_SYNC_CORE, then
    // REGISTER_PRIVATE_EXPEDITED, then QUERY; remembered.
    Case {
        name: "enosys_best_effort",
        filter: Some(seccomp::ENOSYS),
        body: enosys_best_effort,
        native: ok("none"),
        guest: ok("64=ENOSYS 16=ENOSYS 0=ENOSYS"),
        fresh_process_only: false,
    },
    // An errno the crate does not classify: Error::Os, and retried, so
    // every call probes again (init, flush_mechanism, 3 flushes).
    Case {
        name: "eio_strict",
        filter: Some(seccomp::EIO),
        body: eio_strict,
        native: ok("64=EIO*4"),
        guest: ok("64=EIO*4"),
        fresh_process_only: false,
    },
    Case {
        name: "sync_core_einval_strict",
        filter: Some(seccomp::SYNC_CORE_EINVAL),
        body: sync_core_einval_strict,
        native: ok("64=EINVAL"),
        guest: ok("64=EINVAL"),
        fresh_process_only: false,
    },
    // gVisor-like: BestEffort falls back to PRIVATE_EXPEDITED.
    Case {
        name: "sync_core_einval_best_effort",
        filter: Some(seccomp::SYNC_CORE_EINVAL),
        body: sync_core_einval_best_effort,
        native: ok("none"),
        guest: ok("64=EINVAL 16=ok 8=ok*3"),
        fresh_process_only: false,
    },
    Case {
        name: "expedited_einval_strict",
        filter: Some(seccomp::EXPEDITED_EINVAL),
        body: expedited_einval_strict,
        native: ok("64=EINVAL"),
        guest: ok("64=EINVAL"),
        fresh_process_only: false,
    },
    // nohz_full-like: QUERY (answered by the real host kernel, which lists
    // GLOBAL) leads BestEffort to GLOBAL.
    Case {
        name: "expedited_einval_best_effort",
        filter: Some(seccomp::EXPEDITED_EINVAL),
        body: expedited_einval_best_effort,
        native: ok("none"),
        guest: ok("64=EINVAL 16=EINVAL 0=ok 1=ok*3"),
        fresh_process_only: false,
    },
    // The barrier is refused, registration is not: each flush registers
    // again once and retries once, then fails (not remembered).
    Case {
        name: "sync_core_cmd_eperm_strict",
        filter: Some(seccomp::SYNC_CORE_CMD_EPERM),
        body: sync_core_cmd_eperm_strict,
        native: ok("64=ok 32=EPERM 64=ok 32=EPERM*2 64=ok 32=EPERM"),
        guest: ok("64=ok 32=EPERM 64=ok 32=EPERM*2 64=ok 32=EPERM"),
        fresh_process_only: false,
    },
    // A second filter (SYNC_CORE → EPERM) installed after a successful
    // registration: each flush tries the re-registration once, which is
    // refused too. Native only: a guest cannot install a host filter.
    Case {
        name: "eperm_after_registration",
        filter: Some(seccomp::ALLOW),
        body: eperm_after_registration,
        native: ok("64=ok 32=EPERM 64=EPERM 32=EPERM 64=EPERM"),
        guest: None,
        fresh_process_only: false,
    },
    // Only SYNC_CORE is denied (EPERM), PRIVATE_EXPEDITED would work:
    // BestEffort does not fall back on EPERM (only on EINVAL/ENOSYS), so
    // the process ends with PermissionDenied.
    Case {
        name: "sync_core_eperm_best_effort",
        filter: Some(seccomp::SYNC_CORE_EPERM),
        body: sync_core_eperm_best_effort,
        native: ok("none"),
        guest: ok("64=EPERM"),
        fresh_process_only: false,
    },
    // Seccomp KILL on membarrier: NoSyscalls never calls it.
    Case {
        name: "kill_no_syscalls",
        filter: Some(seccomp::KILL),
        body: kill_no_syscalls,
        native: ok("none"),
        guest: ok("none"),
        fresh_process_only: false,
    },
    // BestEffort: no call on x86_64 (survives); under QEMU it probes and
    // dies: a KILL policy cannot be detected, only avoided.
    Case {
        name: "kill_best_effort",
        filter: Some(seccomp::KILL),
        body: kill_best_effort,
        native: ok("none"),
        guest: killed("64=SIGSYS"),
        fresh_process_only: false,
    },
    // Strict probes and dies: proves the KILL filter is real.
    Case {
        name: "kill_strict",
        filter: Some(seccomp::KILL),
        body: kill_strict,
        native: killed("64=SIGSYS"),
        guest: killed("64=SIGSYS"),
        fresh_process_only: false,
    },
    // Seccomp filters are per thread: thread A filters itself only (no
    // TSYNC) and probes first; the denial is remembered for the process,
    // so unfiltered thread B gets it too, with no call, although the
    // kernel accepts B's own registration (the test's raw 64=ok). Native
    // only (the filter is installed by one thread of the process itself).
    Case {
        name: "per_thread_filter",
        filter: None,
        body: per_thread_filter,
        native: ok("64=EPERM 64=ok"),
        guest: None,
        fresh_process_only: true,
    },
    // The other order: unfiltered thread B registers first; then thread A
    // filters itself (EPERM) and flushes: refused each time after one
    // re-registration attempt (not remembered), while flush_mechanism()
    // still says SYNC_CORE and unfiltered thread C flushes fine.
    Case {
        name: "per_thread_filter_after_registration",
        filter: None,
        body: per_thread_filter_after_registration,
        native: ok("64=ok 32=EPERM 64=EPERM 32=EPERM 64=EPERM 32=ok"),
        guest: None,
        fresh_process_only: true,
    },
];

pub fn find(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name == name)
}

const fn denied(errno: i32) -> Error {
    Error::PermissionDenied {
        syscall: Syscall::Membarrier,
        errno,
    }
}

const fn unsupported(errno: i32) -> Error {
    Error::Unsupported {
        syscall: Some(Syscall::Membarrier),
        errno,
    }
}

const FLUSHES: usize = 3;

/// The mechanism and syscall count of an `init` result (a `Report` is
/// `non_exhaustive`: compared by fields).
fn summary(r: Result<icache_coherence::Report, Error>) -> Result<(FlushMechanism, u32), Error> {
    r.map(|r| (r.mechanism, r.syscalls))
}

/// Strict refused with `e`, remembered: the same error from every entry
/// point (the sequence proves no further call). Allocation-free, like
/// every body that may run in a forked child.
fn strict_refused(c: &mut Checks, e: Error) {
    c.eq(
        "init_with(Strict)",
        summary(init_with(FlushPolicy::Strict)),
        Err(e),
    );
    c.eq("flush_mechanism()", flush_mechanism(), Err(e));
    for _ in 0..FLUSHES {
        c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Err(e));
    }
    c.eq(
        "init_with(Strict) again",
        summary(init_with(FlushPolicy::Strict)),
        Err(e),
    );
}

/// BestEffort on x86_64: `NotRequired`, no call whatever the filter.
fn best_effort_native(c: &mut Checks) {
    c.eq(
        "init() on x86_64",
        summary(init()),
        Ok((FlushMechanism::NotRequired, 0)),
    );
    for _ in 0..FLUSHES {
        c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Ok(()));
    }
}

/// BestEffort under QEMU refused with `e`, remembered.
fn best_effort_refused(c: &mut Checks, e: Error) {
    c.eq("init()", summary(init()), Err(e));
    c.eq("flush_mechanism()", flush_mechanism(), Err(e));
    for _ in 0..FLUSHES {
        c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Err(e));
    }
}

fn best_effort_on(c: &mut Checks, m: FlushMechanism, probe_calls: u32) {
    c.eq("init()", summary(init()), Ok((m, probe_calls)));
    c.eq("flush_mechanism()", flush_mechanism(), Ok(Some(m)));
    c.eq("init() again", summary(init()), Ok((m, 0)));
    for _ in 0..FLUSHES {
        c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Ok(()));
    }
}

const X86_64: bool = cfg!(target_arch = "x86_64");

fn allow_strict(c: &mut Checks) {
    c.eq(
        "init_with(Strict)",
        summary(init_with(FlushPolicy::Strict)),
        Ok((FlushMechanism::MembarrierSyncCore, 1)),
    );
    c.eq(
        "flush_mechanism()",
        flush_mechanism(),
        Ok(Some(FlushMechanism::MembarrierSyncCore)),
    );
    for _ in 0..FLUSHES {
        c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Ok(()));
    }
}

fn getters_then_strict(c: &mut Checks) {
    for _ in 0..3 {
        c.eq("flush_policy() before init", flush_policy(), None);
        c.eq("flush_mechanism() before init", flush_mechanism(), Ok(None));
        let _ = cache_geometry();
    }
    let code = [0u8; 64];
    // SAFETY: a live, readable buffer (never executed).
    let cleared = unsafe { clear_cache(code.as_ptr().cast(), code.len()) };
    c.eq("clear_cache", cleared, Ok(()));
    c.eq("flush_policy() after clear_cache", flush_policy(), None);
    c.eq(
        "init_with(Strict): the first registration",
        summary(init_with(FlushPolicy::Strict)),
        Ok((FlushMechanism::MembarrierSyncCore, 1)),
    );
    c.eq(
        "flush_policy()",
        flush_policy(),
        Some((FlushPolicy::Strict, PolicyOrigin::InitWith)),
    );
    c.eq(
        "init() keeps Strict",
        init().map(|r| (r.policy, r.syscalls)),
        Ok((FlushPolicy::Strict, 0)),
    );
    c.eq(
        "init_with(BestEffort)",
        summary(init_with(FlushPolicy::BestEffort)),
        Err(Error::PolicyConflict {
            in_force: FlushPolicy::Strict,
            requested: FlushPolicy::BestEffort,
            fixed_by: PolicyOrigin::InitWith,
        }),
    );
    c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Ok(()));
}

fn eperm_strict(c: &mut Checks) {
    strict_refused(c, denied(libc::EPERM));
}

fn eacces_strict(c: &mut Checks) {
    strict_refused(c, denied(libc::EACCES));
}

fn eperm_best_effort(c: &mut Checks) {
    if X86_64 {
        best_effort_native(c)
    } else {
        best_effort_refused(c, denied(libc::EPERM))
    }
}

fn enosys_strict(c: &mut Checks) {
    strict_refused(c, unsupported(libc::ENOSYS));
}

fn enosys_best_effort(c: &mut Checks) {
    if X86_64 {
        best_effort_native(c)
    } else {
        best_effort_refused(c, unsupported(libc::ENOSYS))
    }
}

fn eio_strict(c: &mut Checks) {
    let e = Error::Os {
        syscall: Syscall::Membarrier,
        errno: libc::EIO,
    };
    c.eq(
        "init_with(Strict)",
        summary(init_with(FlushPolicy::Strict)),
        Err(e),
    );
    // A read: no call, and an unclassified error is not remembered.
    c.eq("flush_mechanism()", flush_mechanism(), Ok(None));
    for _ in 0..FLUSHES {
        c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Err(e));
    }
}

fn sync_core_einval_strict(c: &mut Checks) {
    strict_refused(c, unsupported(libc::EINVAL));
}

fn sync_core_einval_best_effort(c: &mut Checks) {
    if X86_64 {
        best_effort_native(c)
    } else {
        best_effort_on(c, FlushMechanism::MembarrierPrivateExpedited, 2)
    }
}

fn expedited_einval_strict(c: &mut Checks) {
    strict_refused(c, unsupported(libc::EINVAL));
}

fn expedited_einval_best_effort(c: &mut Checks) {
    if X86_64 {
        best_effort_native(c)
    } else {
        best_effort_on(c, FlushMechanism::MembarrierGlobal, 3)
    }
}

fn sync_core_cmd_eperm_strict(c: &mut Checks) {
    c.eq(
        "init_with(Strict)",
        summary(init_with(FlushPolicy::Strict)),
        Ok((FlushMechanism::MembarrierSyncCore, 1)),
    );
    for _ in 0..2 {
        c.eq(
            "pipeline_flush_mt() (re-registered, retried once)",
            pipeline_flush_mt(),
            Err(denied(libc::EPERM)),
        );
    }
    c.eq(
        "flush_mechanism() still",
        flush_mechanism(),
        Ok(Some(FlushMechanism::MembarrierSyncCore)),
    );
}

fn eperm_after_registration(c: &mut Checks) {
    c.eq(
        "init_with(Strict)",
        summary(init_with(FlushPolicy::Strict)),
        Ok((FlushMechanism::MembarrierSyncCore, 1)),
    );
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    c.eq(
        "second filter installed",
        seccomp::SYNC_CORE_EPERM.install(0),
        Ok(()),
    );
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    c.that("a second filter needs the x86_64 host", false, &());
    for _ in 0..2 {
        c.eq(
            "pipeline_flush_mt() after the second filter",
            pipeline_flush_mt(),
            Err(denied(libc::EPERM)),
        );
    }
    c.eq(
        "flush_mechanism() (probed state kept)",
        flush_mechanism(),
        Ok(Some(FlushMechanism::MembarrierSyncCore)),
    );
}

fn sync_core_eperm_best_effort(c: &mut Checks) {
    if X86_64 {
        best_effort_native(c)
    } else {
        best_effort_refused(c, denied(libc::EPERM))
    }
}

fn kill_no_syscalls(c: &mut Checks) {
    let m = if X86_64 {
        FlushMechanism::NotRequired
    } else {
        FlushMechanism::LocalSyncRequired
    };
    c.eq(
        "init_with(NoSyscalls)",
        summary(init_with(FlushPolicy::NoSyscalls)),
        Ok((m, 0)),
    );
    for _ in 0..100 {
        c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Ok(()));
    }
    c.eq("flush_mechanism()", flush_mechanism(), Ok(Some(m)));
}

fn kill_best_effort(c: &mut Checks) {
    // Natively this survives; under QEMU the first line dies by SIGSYS.
    c.eq(
        "init() (x86_64: no call)",
        summary(init()),
        Ok((FlushMechanism::NotRequired, 0)),
    );
    for _ in 0..100 {
        c.eq("pipeline_flush_mt()", pipeline_flush_mt(), Ok(()));
    }
}

fn kill_strict(c: &mut Checks) {
    let r = init_with(FlushPolicy::Strict);
    c.that("unreachable: the process is killed in init_with", false, &r);
}

fn per_thread_filter(c: &mut Checks) {
    use std::sync::mpsc;
    // Thread A: a filter on itself only (flags 0: no TSYNC), then the
    // process's first probe.
    let a = std::thread::spawn(|| {
        let installed = filter_this_thread();
        (
            installed,
            crate::child::seccomp_mode(),
            summary(init_with(FlushPolicy::Strict)),
        )
    });
    let (installed, mode_a, first) = a.join().expect("thread A");
    c.eq("thread A installed its filter", installed, Ok(()));
    c.eq("thread A is filtered", mode_a, Some(2));
    c.eq(
        "thread A: init_with(Strict)",
        first,
        Err(denied(libc::EPERM)),
    );
    // Thread B, created by the unfiltered test thread: no filter.
    let (tx, rx) = mpsc::channel();
    let b = std::thread::spawn(move || {
        let mode = crate::child::seccomp_mode();
        let init_b = summary(init_with(FlushPolicy::Strict));
        let flush_b = pipeline_flush_mt();
        // The kernel would serve B: its own registration succeeds.
        let raw = crate::child::raw_membarrier(64);
        let flush_after = pipeline_flush_mt();
        tx.send((mode, init_b, flush_b, raw, flush_after)).unwrap();
    });
    b.join().expect("thread B");
    let (mode_b, init_b, flush_b, raw, flush_after) = rx.recv().unwrap();
    c.eq("thread B is not filtered", mode_b, Some(0));
    c.eq(
        "thread B: init_with(Strict) remembered",
        init_b,
        Err(denied(libc::EPERM)),
    );
    c.eq(
        "thread B: pipeline_flush_mt remembered",
        flush_b,
        Err(denied(libc::EPERM)),
    );
    c.eq("thread B: raw REGISTER_SYNC_CORE", raw, Ok(0));
    c.eq(
        "thread B: pipeline_flush_mt still remembered after a registration",
        flush_after,
        Err(denied(libc::EPERM)),
    );
}

/// Installs the EPERM filter on the calling thread only (no TSYNC).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn filter_this_thread() -> Result<(), i32> {
    seccomp::EPERM.install(0)
}

/// Only an x86_64 host can filter itself (the programs match its ABI).
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn filter_this_thread() -> Result<(), i32> {
    Err(0)
}

fn per_thread_filter_after_registration(c: &mut Checks) {
    // Threads are created by the unfiltered test thread, one at a time.
    let b = std::thread::spawn(|| summary(init_with(FlushPolicy::Strict)));
    c.eq(
        "thread B: init_with(Strict)",
        b.join().expect("thread B"),
        Ok((FlushMechanism::MembarrierSyncCore, 1)),
    );
    let a = std::thread::spawn(|| {
        let installed = filter_this_thread();
        let flushes = [pipeline_flush_mt(), pipeline_flush_mt()];
        (installed, flushes, flush_mechanism())
    });
    let (installed, flushes, mechanism) = a.join().expect("thread A");
    c.eq("thread A installed its filter", installed, Ok(()));
    c.eq(
        "thread A: pipeline_flush_mt twice",
        flushes,
        [Err(denied(libc::EPERM)); 2],
    );
    c.eq(
        "thread A: flush_mechanism()",
        mechanism,
        Ok(Some(FlushMechanism::MembarrierSyncCore)),
    );
    let t = std::thread::spawn(pipeline_flush_mt);
    c.eq(
        "thread C: pipeline_flush_mt",
        t.join().expect("thread C"),
        Ok(()),
    );
}
