//! `membarrier(2)`: the cross-thread half of instruction-cache coherence.
//!
//! The logic is independent of the architecture and of the kernel: it runs
//! against the [`Kernel`] trait, so the probing, fallbacks and retry are
//! tested natively on any Linux host with a scripted kernel, and against the
//! real one.
//!
//! Probe, once per process (first call at most two syscalls when SYNC_CORE
//! exists, which every arm64 kernel since 4.16 has):
//!
//! 1. `REGISTER_PRIVATE_EXPEDITED_SYNC_CORE` → [`FlushMechanism::MembarrierSyncCore`]
//! 2. on `EINVAL`/`ENOSYS`: `REGISTER_PRIVATE_EXPEDITED` → `MembarrierPrivateExpedited`
//! 3. on `EINVAL`/`ENOSYS`: `QUERY`, and `GLOBAL` if it is listed → `MembarrierGlobal`
//! 4. otherwise [`Error::Unsupported`]; `EPERM`/`EACCES` anywhere →
//!    [`Error::PermissionDenied`]. Both are permanent for the process (seccomp
//!    filters are never removed) and are cached; any other error is returned
//!    and the probe is repeated on the next call.
//!
//! Then each flush is exactly one `membarrier` call. If the kernel answers
//! `EPERM` to a command the process registered for (it should not), register
//! again once and retry once.
//!
//! FreeBSD 14.1+ implements the same call (syscall 584) with the same
//! commands and registration rules; the backend only calls this module there
//! once it has checked the kernel version. On Android below API level 29 this
//! module makes no call at all and reports
//! [`FlushMechanism::LocalSyncRequired`] (see [`crate::os::version`]).
//!
//! # References
//! - [membarrier(2)](https://man7.org/linux/man-pages/man2/membarrier.2.html)
//! - Linux `kernel/sched/membarrier.c`
//! - [FreeBSD membarrier(2)](https://man.freebsd.org/membarrier(2))

// On x86_64 and s390x `pipeline_flush_mt` needs no membarrier, but this logic
// is compiled and tested on every Linux host (see the module docs).
#![cfg_attr(
    not(any(target_arch = "aarch64", target_arch = "arm")),
    allow(dead_code)
)]

use core::num::NonZeroUsize;
use once_cell::race::OnceNonZeroUsize;

use crate::coalesce::Coalescer;
use crate::policy::{self, FlushPolicy};
use crate::{Error, FlushMechanism, Syscall};

pub(crate) const CMD_QUERY: i32 = 0;
pub(crate) const CMD_GLOBAL: i32 = 1;
pub(crate) const CMD_PRIVATE_EXPEDITED: i32 = 1 << 3;
pub(crate) const CMD_REGISTER_PRIVATE_EXPEDITED: i32 = 1 << 4;
pub(crate) const CMD_PRIVATE_EXPEDITED_SYNC_CORE: i32 = 1 << 5;
pub(crate) const CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: i32 = 1 << 6;

/// The one system call this module makes.
pub(crate) trait Kernel {
    /// `membarrier(cmd, 0, 0)`: the non-negative result, or the error number.
    fn membarrier(&self, cmd: i32) -> Result<i32, i32>;
}

/// `membarrier`'s system call number: Linux's from `libc`; FreeBSD's from
/// `sys/kern/syscalls.master`, which `libc` does not define.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SYS_MEMBARRIER: libc::c_long = libc::SYS_membarrier;
#[cfg(target_os = "freebsd")]
const SYS_MEMBARRIER: libc::c_int = 584;

/// The running kernel.
pub(crate) struct Os;

impl Kernel for Os {
    #[inline]
    fn membarrier(&self, cmd: i32) -> Result<i32, i32> {
        // SAFETY: membarrier takes no pointers; `flags` = 0 and `cpu_id` = 0.
        let ret = unsafe {
            libc::syscall(
                SYS_MEMBARRIER,
                cmd as libc::c_int,
                0 as libc::c_uint,
                0 as libc::c_int,
            )
        };
        if ret < 0 {
            Err(super::errno())
        } else {
            Ok(ret as i32)
        }
    }
}

/// The probed state of one process, as stored in its cache cell.
///
/// Encoding (never zero): mechanisms are 1..=3; a cached failure is
/// `errno << 8 | FAILED | kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ready(FlushMechanism),
    Failed(Error),
}

const FAILED: usize = 0x80;
const FAILED_UNSUPPORTED: usize = FAILED;
const FAILED_DENIED: usize = FAILED | 1;

impl State {
    fn encode(self) -> NonZeroUsize {
        let v = match self {
            State::Ready(FlushMechanism::MembarrierSyncCore) => 1,
            State::Ready(FlushMechanism::MembarrierPrivateExpedited) => 2,
            State::Ready(_) => 3, // MembarrierGlobal: the only other state made here
            State::Failed(Error::PermissionDenied { errno, .. }) => {
                (errno as u32 as usize) << 8 | FAILED_DENIED
            }
            State::Failed(e) => {
                (e.raw_os_error().unwrap_or(0) as u32 as usize) << 8 | FAILED_UNSUPPORTED
            }
        };
        NonZeroUsize::new(v).expect("state encodings are non-zero")
    }

    fn decode(v: NonZeroUsize) -> State {
        let v = v.get();
        let errno = (v >> 8) as u32 as i32;
        match v & 0xff {
            1 => State::Ready(FlushMechanism::MembarrierSyncCore),
            2 => State::Ready(FlushMechanism::MembarrierPrivateExpedited),
            3 => State::Ready(FlushMechanism::MembarrierGlobal),
            FAILED_DENIED => State::Failed(Error::PermissionDenied {
                syscall: Syscall::Membarrier,
                errno,
            }),
            _ => State::Failed(Error::Unsupported {
                syscall: Some(Syscall::Membarrier),
                errno,
            }),
        }
    }
}

fn unsupported(errno: i32) -> bool {
    errno == libc::EINVAL || errno == libc::ENOSYS
}

/// A probe error: permanent ones become a cached [`State::Failed`], others
/// are returned uncached.
fn probe_error(errno: i32) -> Result<State, Error> {
    match Error::from_errno(Syscall::Membarrier, errno) {
        e @ (Error::PermissionDenied { .. } | Error::Unsupported { .. }) => Ok(State::Failed(e)),
        e => Err(e),
    }
}

/// Steps 1 to 4 of the module docs; under [`FlushPolicy::Strict`] step 1
/// only (a kernel without SYNC_CORE is then [`Error::Unsupported`]).
fn probe<K: Kernel>(k: &K, policy: FlushPolicy) -> Result<State, Error> {
    let chain = [
        (
            CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
            FlushMechanism::MembarrierSyncCore,
        ),
        (
            CMD_REGISTER_PRIVATE_EXPEDITED,
            FlushMechanism::MembarrierPrivateExpedited,
        ),
    ];
    let allowed = if policy == FlushPolicy::Strict { 1 } else { 2 };
    let mut last = 0;
    for (register, mechanism) in &chain[..allowed] {
        match k.membarrier(*register) {
            Ok(_) => return Ok(State::Ready(*mechanism)),
            Err(e) if unsupported(e) => last = e,
            Err(e) => return probe_error(e),
        }
    }
    if policy == FlushPolicy::Strict {
        return probe_error(last);
    }
    match k.membarrier(CMD_QUERY) {
        Ok(mask) if mask & CMD_GLOBAL != 0 => Ok(State::Ready(FlushMechanism::MembarrierGlobal)),
        // Every call succeeded, yet nothing usable is listed: no errno to
        // report, and none is invented.
        Ok(_) => Ok(State::Failed(Error::Unsupported {
            syscall: Some(Syscall::Membarrier),
            errno: 0,
        })),
        Err(e) => probe_error(e),
    }
}

/// The process's mechanism, probing (and registering) on first use.
pub(crate) fn mechanism<K: Kernel>(
    k: &K,
    cell: &OnceNonZeroUsize,
    policy: FlushPolicy,
) -> Result<FlushMechanism, Error> {
    let state = cell.get_or_try_init(|| probe(k, policy).map(State::encode))?;
    match State::decode(state) {
        State::Ready(m) => Ok(m),
        State::Failed(e) => Err(e),
    }
}

/// The (command, registration command) of a probed mechanism.
fn commands(m: FlushMechanism) -> (i32, Option<i32>) {
    match m {
        FlushMechanism::MembarrierSyncCore => (
            CMD_PRIVATE_EXPEDITED_SYNC_CORE,
            Some(CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE),
        ),
        FlushMechanism::MembarrierPrivateExpedited => {
            (CMD_PRIVATE_EXPEDITED, Some(CMD_REGISTER_PRIVATE_EXPEDITED))
        }
        _ => (CMD_GLOBAL, None),
    }
}

/// One cross-thread pipeline flush: exactly one syscall once probed.
///
/// Concurrent callers share calls through `coalescer`
/// ([`Coalescer::run_adaptive`]: while calls overlap; alone, a caller makes
/// its own call):
/// each returns only after a call that *started after it entered* has
/// completed, so K callers at once make about one call per arrival wave
/// instead of K (the kernel serialises expedited commands). If the call
/// that would have served a waiter fails, the waiter is not covered and
/// makes (or waits for) the next one; it never returns `Ok` uncovered.
pub(crate) fn flush<K: Kernel>(
    k: &K,
    cell: &OnceNonZeroUsize,
    policy: FlushPolicy,
    coalescer: &Coalescer,
) -> Result<(), Error> {
    let (cmd, register) = commands(mechanism(k, cell, policy)?);
    coalescer.run_adaptive(|| barrier(k, cmd, register))
}

/// One barrier: `cmd`; if the kernel forgot our registration (`EPERM`),
/// register once and retry once.
fn barrier<K: Kernel>(k: &K, cmd: i32, register: Option<i32>) -> Result<(), Error> {
    let err = |e| Error::from_errno(Syscall::Membarrier, e);
    match k.membarrier(cmd) {
        Ok(_) => Ok(()),
        Err(e) => match register {
            Some(register) if e == libc::EPERM => {
                // The kernel forgot our registration: register once, retry once.
                k.membarrier(register).map_err(err)?;
                k.membarrier(cmd).map(drop).map_err(err)
            }
            _ => Err(err(e)),
        },
    }
}

/// The process-wide state for the running kernel.
static STATE: OnceNonZeroUsize = OnceNonZeroUsize::new();

/// The process-wide coalescer of concurrent flushes. (Under the `loom`
/// model checker, whose atomics cannot be built in a `static`, this path is
/// never run, only compiled: each call gets its own.)
#[cfg(not(loom))]
static COALESCER: Coalescer = Coalescer::new();

/// [`flush`] for this process and kernel, under the policy in force.
#[inline]
pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    let policy = policy::current();
    if !may_call(policy) {
        // Nothing to call: fine unless Strict, which refuses the downgrade.
        return policy::fixed(FlushMechanism::LocalSyncRequired).map(drop);
    }
    #[cfg(not(loom))]
    let coalescer = &COALESCER;
    #[cfg(loom)]
    let coalescer = &Coalescer::new();
    flush(&Os, &STATE, policy, coalescer)
}

/// [`flush_mechanism`], and how many system calls this call made (the
/// probe and registration on first use, else 0): for [`crate::init`]'s
/// report.
pub(crate) fn flush_mechanism_counted() -> (Result<FlushMechanism, Error>, u32) {
    let policy = policy::current();
    if !may_call(policy) {
        // Strict refuses what cannot serialise every thread.
        return (policy::fixed(FlushMechanism::LocalSyncRequired), 0);
    }
    let k = Counting {
        k: &Os,
        calls: core::cell::Cell::new(0),
    };
    let m = mechanism(&k, &STATE, policy);
    (m, k.calls.get())
}

/// The mechanism if the probe has run (and its remembered error), with no
/// system call; `lib.rs` calls it only once a policy is in force.
pub(crate) fn flush_mechanism_peek() -> Option<Result<FlushMechanism, Error>> {
    let policy = policy::current();
    if !may_call(policy) {
        return Some(policy::fixed(FlushMechanism::LocalSyncRequired));
    }
    STATE.get().map(|s| match State::decode(s) {
        State::Ready(m) => Ok(m),
        State::Failed(e) => Err(e),
    })
}

/// Whether `membarrier` may be called at all: not under
/// [`FlushPolicy::NoSyscalls`], and on Android not below API level 29.
#[inline]
fn may_call(policy: FlushPolicy) -> bool {
    if policy == FlushPolicy::NoSyscalls {
        return false;
    }
    #[cfg(target_os = "android")]
    if !android_allows_membarrier() {
        return false;
    }
    true
}

/// A kernel that counts the calls made through it.
struct Counting<'a, K> {
    k: &'a K,
    calls: core::cell::Cell<u32>,
}

impl<K: Kernel> Kernel for Counting<'_, K> {
    fn membarrier(&self, cmd: i32) -> Result<i32, i32> {
        self.calls.set(self.calls.get() + 1);
        self.k.membarrier(cmd)
    }
}

/// Whether this Android device's API level allows `membarrier`, read once
/// per process from the system property `ro.build.version.sdk` (the
/// `android_get_device_api_level` function exists only from API 29, and
/// Rust's Android targets build for older levels).
#[cfg(target_os = "android")]
fn android_allows_membarrier() -> bool {
    static ALLOWED: once_cell::race::OnceBool = once_cell::race::OnceBool::new();
    ALLOWED.get_or_init(|| {
        // PROP_VALUE_MAX (92) bytes, as <sys/system_properties.h> requires.
        let mut buf = [0u8; 92];
        // SAFETY: the name is NUL-terminated and `buf` has the PROP_VALUE_MAX
        // bytes the function may write (it NUL-terminates within them).
        let n = unsafe {
            libc::__system_property_get(c"ro.build.version.sdk".as_ptr(), buf.as_mut_ptr().cast())
        };
        let value = usize::try_from(n).ok().filter(|&n| n > 0 && n < buf.len());
        crate::os::version::android_allows_membarrier(value.map(|n| &buf[..n]))
    })
}

#[cfg(test)]
mod tests;
