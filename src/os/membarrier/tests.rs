//! The membarrier state machine against scripted kernels, and against the
//! real one. These run natively on every Linux host.

use super::*;
use crate::coalesce::Coalescer;
use std::sync::{Arc, Barrier, Mutex};

const BE: FlushPolicy = FlushPolicy::BestEffort;

type Answer = dyn Fn(i32, &[i32]) -> Result<i32, i32> + Send + Sync;

/// A kernel that answers from a script and records every call.
struct Scripted {
    calls: Mutex<Vec<i32>>,
    answer: Box<Answer>,
}

impl Scripted {
    fn new(answer: impl Fn(i32, &[i32]) -> Result<i32, i32> + Send + Sync + 'static) -> Self {
        Scripted {
            calls: Mutex::new(Vec::new()),
            answer: Box::new(answer),
        }
    }

    /// A kernel that supports exactly `cmds` (a QUERY mask) and, like Linux,
    /// refuses an expedited command with EPERM until it is registered.
    fn supporting(cmds: i32) -> Self {
        Scripted::new(move |cmd, earlier| {
            if cmd == CMD_QUERY {
                return Ok(cmds);
            }
            if cmd & cmds == 0 {
                return Err(libc::EINVAL);
            }
            let needs = match cmd {
                CMD_PRIVATE_EXPEDITED_SYNC_CORE => CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
                CMD_PRIVATE_EXPEDITED => CMD_REGISTER_PRIVATE_EXPEDITED,
                _ => return Ok(0),
            };
            if earlier.contains(&needs) {
                Ok(0)
            } else {
                Err(libc::EPERM)
            }
        })
    }

    fn calls(&self) -> Vec<i32> {
        self.calls.lock().unwrap().clone()
    }
}

impl Kernel for Scripted {
    fn membarrier(&self, cmd: i32) -> Result<i32, i32> {
        let mut calls = self.calls.lock().unwrap();
        let r = (self.answer)(cmd, &calls);
        calls.push(cmd);
        r
    }
}

/// Everything Linux 4.16+ offers.
const MODERN: i32 = CMD_GLOBAL
    | CMD_PRIVATE_EXPEDITED
    | CMD_REGISTER_PRIVATE_EXPEDITED
    | CMD_PRIVATE_EXPEDITED_SYNC_CORE
    | CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;

const SC: i32 = CMD_PRIVATE_EXPEDITED_SYNC_CORE;
const REG_SC: i32 = CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
const PE: i32 = CMD_PRIVATE_EXPEDITED;
const REG_PE: i32 = CMD_REGISTER_PRIVATE_EXPEDITED;

#[test]
fn modern_kernel_registers_once_then_one_call_each() {
    let k = Scripted::supporting(MODERN);
    let cell = OnceNonZeroUsize::new();
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(k.calls(), [REG_SC, SC], "first call: register + barrier");
    for _ in 0..9 {
        flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    }
    assert_eq!(k.calls().len(), 11, "10 flushes, 11 syscalls");
    assert!(k.calls()[2..].iter().all(|&c| c == SC));
    assert_eq!(
        mechanism(&k, &cell, BE),
        Ok(FlushMechanism::MembarrierSyncCore)
    );
    assert_eq!(
        k.calls().len(),
        11,
        "the query makes no syscall once probed"
    );
}

#[test]
fn eager_query_registers_so_the_first_flush_is_one_call() {
    let k = Scripted::supporting(MODERN);
    let cell = OnceNonZeroUsize::new();
    assert_eq!(
        mechanism(&k, &cell, BE),
        Ok(FlushMechanism::MembarrierSyncCore)
    );
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(k.calls(), [REG_SC, SC]);
}

#[test]
fn forgotten_registration_is_renewed_once() {
    // Registered, then the kernel says EPERM once (as after a lost
    // registration): register again and retry, then carry on with one call.
    let forgot = std::sync::atomic::AtomicBool::new(true);
    let k = Scripted::new(move |cmd, earlier| {
        if cmd == SC
            && earlier.len() == 2
            && forgot.swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(libc::EPERM);
        }
        Ok(0)
    });
    let cell = OnceNonZeroUsize::new();
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(k.calls(), [REG_SC, SC, SC, REG_SC, SC]);
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(k.calls().len(), 6);
}

#[test]
fn persistent_eperm_after_registration_is_permission_denied() {
    let k = Scripted::new(|cmd, _| if cmd == SC { Err(libc::EPERM) } else { Ok(0) });
    let cell = OnceNonZeroUsize::new();
    assert_eq!(
        flush(&k, &cell, BE, &Coalescer::new()),
        Err(Error::PermissionDenied {
            syscall: Syscall::Membarrier,
            errno: libc::EPERM
        })
    );
    assert_eq!(
        k.calls(),
        [REG_SC, SC, REG_SC, SC],
        "one renewal, not a loop"
    );
}

#[test]
fn kernel_before_4_16_falls_back_to_private_expedited() {
    let k =
        Scripted::supporting(CMD_GLOBAL | CMD_PRIVATE_EXPEDITED | CMD_REGISTER_PRIVATE_EXPEDITED);
    let cell = OnceNonZeroUsize::new();
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(k.calls(), [REG_SC, REG_PE, PE]);
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(k.calls(), [REG_SC, REG_PE, PE, PE]);
    let m = mechanism(&k, &cell, BE).unwrap();
    assert_eq!(m, FlushMechanism::MembarrierPrivateExpedited);
    assert!(!m.serialises_all_threads());
}

#[test]
fn global_only_kernel_falls_back_to_global() {
    let k = Scripted::supporting(CMD_GLOBAL);
    let cell = OnceNonZeroUsize::new();
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(
        k.calls(),
        [REG_SC, REG_PE, CMD_QUERY, CMD_GLOBAL, CMD_GLOBAL]
    );
    assert_eq!(
        mechanism(&k, &cell, BE),
        Ok(FlushMechanism::MembarrierGlobal)
    );
}

#[test]
fn nohz_full_without_expedited_is_unsupported_and_cached() {
    // QUERY answers, but lists nothing usable (GLOBAL is masked under nohz_full).
    let k = Scripted::supporting(0);
    let cell = OnceNonZeroUsize::new();
    // No call failed, so no errno is reported (none is invented).
    let want = Err(Error::Unsupported {
        syscall: Some(Syscall::Membarrier),
        errno: 0,
    });
    assert_eq!(flush(&k, &cell, BE, &Coalescer::new()), want);
    assert_eq!(k.calls(), [REG_SC, REG_PE, CMD_QUERY]);
    assert_eq!(flush(&k, &cell, BE, &Coalescer::new()), want);
    assert_eq!(
        mechanism(&k, &cell, BE),
        want.map(|()| FlushMechanism::NotRequired)
    );
    assert_eq!(
        k.calls().len(),
        3,
        "a permanent failure is not probed again"
    );
}

#[test]
fn no_membarrier_at_all_is_unsupported_enosys() {
    let k = Scripted::new(|_, _| Err(libc::ENOSYS));
    let cell = OnceNonZeroUsize::new();
    let e = flush(&k, &cell, BE, &Coalescer::new()).unwrap_err();
    assert_eq!(
        e,
        Error::Unsupported {
            syscall: Some(Syscall::Membarrier),
            errno: libc::ENOSYS
        }
    );
    assert_eq!(e.raw_os_error(), Some(libc::ENOSYS));
    assert_eq!(k.calls(), [REG_SC, REG_PE, CMD_QUERY]);
}

#[test]
fn seccomp_eperm_is_permission_denied_and_cached() {
    let k = Scripted::new(|_, _| Err(libc::EPERM));
    let cell = OnceNonZeroUsize::new();
    let want = Err(Error::PermissionDenied {
        syscall: Syscall::Membarrier,
        errno: libc::EPERM,
    });
    assert_eq!(flush(&k, &cell, BE, &Coalescer::new()), want);
    assert_eq!(flush(&k, &cell, BE, &Coalescer::new()), want);
    assert_eq!(k.calls(), [REG_SC], "denied once, never asked again");
}

#[test]
fn transient_errors_are_not_cached() {
    let k = Scripted::new(|cmd, earlier| {
        if cmd == REG_SC && earlier.is_empty() {
            Err(libc::ENOMEM)
        } else {
            Ok(0)
        }
    });
    let cell = OnceNonZeroUsize::new();
    assert_eq!(
        flush(&k, &cell, BE, &Coalescer::new()),
        Err(Error::Os {
            syscall: Syscall::Membarrier,
            errno: libc::ENOMEM
        })
    );
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(k.calls(), [REG_SC, REG_SC, SC]);
}

#[test]
fn racing_first_calls_all_succeed() {
    const THREADS: usize = 8;
    let k = Arc::new(Scripted::supporting(MODERN));
    let cell = Arc::new(OnceNonZeroUsize::new());
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (k, cell, start) = (k.clone(), cell.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                flush(&*k, &cell, BE, &Coalescer::new())
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Ok(()));
    }
    let calls = k.calls();
    let barriers = calls.iter().filter(|&&c| c == SC).count();
    let registrations = calls.iter().filter(|&&c| c == REG_SC).count();
    assert_eq!(barriers, THREADS, "one barrier per call");
    assert!((1..=THREADS).contains(&registrations), "{calls:?}");
}

#[test]
fn state_encoding_round_trips() {
    let states = [
        State::Ready(FlushMechanism::MembarrierSyncCore),
        State::Ready(FlushMechanism::MembarrierPrivateExpedited),
        State::Ready(FlushMechanism::MembarrierGlobal),
        State::Failed(Error::PermissionDenied {
            syscall: Syscall::Membarrier,
            errno: libc::EPERM,
        }),
        State::Failed(Error::PermissionDenied {
            syscall: Syscall::Membarrier,
            errno: libc::EACCES,
        }),
        State::Failed(Error::Unsupported {
            syscall: Some(Syscall::Membarrier),
            errno: libc::ENOSYS,
        }),
        State::Failed(Error::Unsupported {
            syscall: Some(Syscall::Membarrier),
            errno: libc::EINVAL,
        }),
        State::Failed(Error::Unsupported {
            syscall: Some(Syscall::Membarrier),
            errno: 0,
        }),
    ];
    for s in states {
        assert_eq!(State::decode(s.encode()), s);
    }
}

/// The running kernel, through the same state machine (a fresh cell, so the
/// probe runs here even if another test already used the process's state).
#[test]
fn real_kernel_flushes() {
    let cell = OnceNonZeroUsize::new();
    match mechanism(&Os, &cell, BE) {
        Ok(m) => {
            std::eprintln!("this kernel: {}", m.name());
            for _ in 0..3 {
                flush(&Os, &cell, BE, &Coalescer::new()).unwrap();
            }
        }
        // A sandbox without membarrier must give a typed error, not a crash.
        Err(e @ (Error::Unsupported { .. } | Error::PermissionDenied { .. })) => {
            std::eprintln!("this kernel offers no membarrier: {e}");
            assert_eq!(flush(&Os, &cell, BE, &Coalescer::new()), Err(e));
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
}

const STRICT: FlushPolicy = FlushPolicy::Strict;

#[test]
fn strict_takes_sync_core_only() {
    let k = Scripted::supporting(MODERN);
    let cell = OnceNonZeroUsize::new();
    flush(&k, &cell, STRICT, &Coalescer::new()).unwrap();
    flush(&k, &cell, STRICT, &Coalescer::new()).unwrap();
    assert_eq!(k.calls(), [REG_SC, SC, SC]);
    assert_eq!(
        mechanism(&k, &cell, STRICT),
        Ok(FlushMechanism::MembarrierSyncCore)
    );
}

#[test]
fn strict_refuses_the_fallbacks_and_remembers() {
    // Before 4.16 (and gVisor, which refuses SYNC_CORE but allows
    // PRIVATE_EXPEDITED): BestEffort would fall back; Strict must not.
    for cmds in [
        CMD_GLOBAL | CMD_PRIVATE_EXPEDITED | CMD_REGISTER_PRIVATE_EXPEDITED,
        CMD_GLOBAL,
    ] {
        let k = Scripted::supporting(cmds);
        let cell = OnceNonZeroUsize::new();
        let want = Err(Error::Unsupported {
            syscall: Some(Syscall::Membarrier),
            errno: libc::EINVAL,
        });
        assert_eq!(flush(&k, &cell, STRICT, &Coalescer::new()), want);
        assert_eq!(flush(&k, &cell, STRICT, &Coalescer::new()), want);
        assert_eq!(
            k.calls(),
            [REG_SC],
            "one registration attempt, never a weaker command, then remembered"
        );
    }
}

#[test]
fn gvisor_best_effort_falls_back_visibly() {
    // gVisor: SYNC_CORE registration refused with EINVAL, PRIVATE_EXPEDITED
    // accepted. BestEffort takes it, and says so.
    let k = Scripted::new(|cmd, earlier| match cmd {
        REG_SC | SC => Err(libc::EINVAL),
        REG_PE => Ok(0),
        PE if earlier.contains(&REG_PE) => Ok(0),
        _ => Err(libc::EINVAL),
    });
    let cell = OnceNonZeroUsize::new();
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(k.calls(), [REG_SC, REG_PE, PE]);
    let m = mechanism(&k, &cell, BE).unwrap();
    assert_eq!(m, FlushMechanism::MembarrierPrivateExpedited);
    assert!(!m.serialises_all_threads());
}

#[test]
fn remembered_and_retried_errors() {
    // Remembered for the life of the process: EPERM/EACCES and
    // EINVAL/ENOSYS from the probe (no further call). Retried on the next
    // call: any other errno from the probe, and any error of the flush
    // itself once probed (after the one re-registration for EPERM).
    let k = Scripted::new(|cmd, earlier| match cmd {
        REG_SC => Ok(0),
        SC if earlier.iter().filter(|&&c| c == SC).count() == 0 => Err(libc::EINTR),
        SC => Ok(0),
        _ => Err(libc::EINVAL),
    });
    let cell = OnceNonZeroUsize::new();
    assert_eq!(
        flush(&k, &cell, BE, &Coalescer::new()),
        Err(Error::Os {
            syscall: Syscall::Membarrier,
            errno: libc::EINTR
        })
    );
    flush(&k, &cell, BE, &Coalescer::new()).unwrap();
    assert_eq!(
        k.calls(),
        [REG_SC, SC, SC],
        "probed once; the flush retried"
    );
}

#[test]
fn racing_flushes_share_a_coalescer() {
    const THREADS: usize = 8;
    let k = Arc::new(Scripted::supporting(MODERN));
    let cell = Arc::new(OnceNonZeroUsize::new());
    let coalescer = Arc::new(Coalescer::new());
    flush(&*k, &cell, BE, &coalescer).unwrap();
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (k, cell, start, c) = (k.clone(), cell.clone(), start.clone(), coalescer.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..100).try_for_each(|_| flush(&*k, &cell, BE, &c))
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Ok(()));
    }
    let barriers = k.calls().iter().filter(|&&c| c == SC).count();
    // At most one call per flush; how many fewer depends on the interleaving.
    assert!((1..=1 + THREADS * 100).contains(&barriers), "{barriers}");
}
