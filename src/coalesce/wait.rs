//! Sleeping until the state word changes, and waking sleepers.
//!
//! The protocol needs, on its 32-bit state word:
//!
//! - [`wait`]`(c, expected, bits, deadline)`: sleep while the word holds
//!   `expected`, under the wake bits `bits` (the [`bit`] of the ticket
//!   waited for), until the [`Deadline`] (started by the first wait, then
//!   [`WAIT_BOUND_NS`] away). It may return early (spuriously, on a signal,
//!   or because the value had already changed): `true`, and the caller
//!   reloads the word and decides again; `false` once the deadline passed.
//! - [`wake_ended`]`(c, covered, next)`: at the end of a successful call,
//!   wake every sleeper under `covered` (their tickets are now covered) and
//!   one sleeper under `next` (it may need to issue the next call).
//! - [`wake_all`]`(c)`: wake every sleeper (after a failed call).
//! - [`spin`]: one iteration of a bounded busy-wait.
//!
//! Where the kernel offers wake bits (Linux's `FUTEX_WAKE_BITSET`), the
//! callers arriving during a call, which that call does not cover, sleep on
//! through its end: each sleeper is woken once per flush, instead of once
//! per call. Elsewhere every wake wakes everyone, which is a superset, so
//! the protocol is the same.
//!
//! | platform | `wait` (deadline) | `wake_ended` / `wake_all` |
//! |---|---|---|
//! | Linux, Android | `futex(FUTEX_WAIT_BITSET_PRIVATE)`, absolute `CLOCK_MONOTONIC` timeout | `futex(FUTEX_WAKE_BITSET_PRIVATE)` |
//! | FreeBSD | `_umtx_op(UMTX_OP_WAIT_UINT_PRIVATE)`, absolute `CLOCK_MONOTONIC` timeout | `_umtx_op(UMTX_OP_WAKE_PRIVATE, INT_MAX)` |
//! | other Unix | `sched_yield()` (the caller polls; `CLOCK_MONOTONIC`) | nothing |
//! | anything else | one `spin_loop` hint (the caller polls; [`POLL_BOUND`] polls) | nothing |
//! | `cfg(loom)` | a model of the futex with bits (below); no clock | the same |
//!
//! The kernel primitives compare the word with `expected` and go to sleep
//! atomically with respect to wakes, so a wake cannot be lost between the
//! caller's last look at the word and its sleep. The polling fallbacks never
//! sleep, so they cannot miss a wake either.
//!
//! Under loom, waiting must really block: with threads that merely yield,
//! loom's scheduler can alternate between two waiters forever (loom issue
//! #53), and a lost wake would go unnoticed. The model is the kernel's: the
//! comparison and the queueing happen under one lock that wakers also take,
//! a waker removes the sleepers it wakes from the queue (by bits, up to a
//! count), and a sleeper returns only once removed; a lost wake shows as a
//! deadlock. A model's [`Model`] may also make each caller's first wait
//! return at once, as a spurious wake or as a passed deadline, so that
//! those branches are explored too.

use super::Coalescer;
#[allow(unused_imports)] // doc links
use super::WAIT_BOUND_NS;

/// The wake bit of a waiter for `ticket`. Tickets are even and consecutive
/// calls end two apart, so the tickets that can have sleepers at one time
/// (the call's end and the next one's) have different bits.
#[inline]
pub(super) fn bit(ticket: u32) -> u32 {
    1 << ((ticket >> 1) & 31)
}

/// One iteration of a busy-wait before sleeping.
#[inline]
pub(super) fn spin() {
    #[cfg(loom)]
    loom::hint::spin_loop();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// Where there is no clock (neither Unix nor loom): how many polls stand
/// for [`WAIT_BOUND_NS`]. Each poll follows the caller's `SPINS` (100)
/// `spin_loop` hints and loads, about a microsecond, so 50 polls are about
/// 50 µs.
#[cfg_attr(any(unix, loom), allow(dead_code))]
pub(super) const POLL_BOUND: u32 = 50;

/// A waiter's deadline: none until its first wait, then (normally)
/// [`WAIT_BOUND_NS`] after it.
pub(super) struct Deadline {
    /// `CLOCK_MONOTONIC` nanoseconds (0: not started).
    #[cfg(all(unix, not(loom)))]
    at: u64,
    /// How far after the first wait it is.
    #[cfg_attr(any(not(unix), loom), allow(dead_code))]
    bound_ns: u64,
    /// Waits so far (where there is no clock, and under loom).
    #[cfg(any(not(unix), loom))]
    waits: u32,
}

impl Deadline {
    /// Not started; `bound_ns` after the first wait once started.
    #[inline]
    pub(super) fn new(bound_ns: u64) -> Self {
        Deadline {
            bound_ns,
            #[cfg(all(unix, not(loom)))]
            at: 0,
            #[cfg(any(not(unix), loom))]
            waits: 0,
        }
    }

    /// Whether it was started and has passed.
    #[inline]
    pub(super) fn passed(&self) -> bool {
        #[cfg(all(unix, not(loom)))]
        return self.at != 0 && now_ns() >= self.at;
        #[cfg(all(not(unix), not(loom)))]
        return self.waits >= POLL_BOUND;
        // Under loom only a model's timeout says so (in `wait`).
        #[cfg(loom)]
        return false;
    }

    /// Starts it if need be; returns the absolute deadline.
    #[cfg(all(unix, not(loom)))]
    #[inline]
    fn start(&mut self) -> u64 {
        if self.at == 0 {
            self.at = now_ns().saturating_add(self.bound_ns);
        }
        self.at
    }
}

/// `CLOCK_MONOTONIC`, in nanoseconds; `u64::MAX` if the clock cannot be
/// read (then every deadline has passed at once: the caller makes its own
/// call instead of waiting).
#[cfg(all(unix, not(loom)))]
#[inline]
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return u64::MAX;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

#[cfg(all(not(loom), any(target_os = "linux", target_os = "android")))]
mod imp {
    use super::{Coalescer, Deadline};

    /// Sleeps while the word holds `expected`, under `bits`, until the
    /// deadline; `false` if it passed, `true` on a wake or any early return.
    #[inline]
    pub(in crate::coalesce) fn wait(
        c: &Coalescer,
        expected: u32,
        bits: u32,
        deadline: &mut Deadline,
    ) -> bool {
        let at = deadline.start();
        let ts = libc::timespec {
            tv_sec: (at / 1_000_000_000) as libc::time_t,
            tv_nsec: (at % 1_000_000_000) as libc::c_long,
        };
        // SAFETY: the word is a live, aligned 32-bit atomic for the whole
        // call (the borrow outlives it), which is all FUTEX_WAIT_BITSET
        // reads; `ts` is a valid timespec, read as an absolute
        // CLOCK_MONOTONIC time (FUTEX_WAIT_BITSET without
        // FUTEX_CLOCK_REALTIME); `uaddr2` is unused; `bits` is non-zero.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                c.word.as_ptr(),
                libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG,
                expected,
                &ts as *const libc::timespec,
                core::ptr::null::<u32>(),
                bits,
            )
        };
        // EAGAIN (the value changed), EINTR and a wake all mean "look
        // again", which the caller does.
        !(r == -1 && errno() == libc::ETIMEDOUT)
    }

    /// The calling thread's `errno`.
    #[inline]
    fn errno() -> i32 {
        // SAFETY: `__errno_location` (Linux) / `__errno` (Android) return
        // the calling thread's errno slot, valid for the thread's life.
        unsafe {
            #[cfg(target_os = "linux")]
            return *libc::__errno_location();
            #[cfg(target_os = "android")]
            return *libc::__errno();
        }
    }

    /// Wakes up to `count` sleepers on the word under any of `bits`.
    #[inline]
    fn wake(c: &Coalescer, bits: u32, count: i32) {
        // SAFETY: FUTEX_WAKE_BITSET only uses the address as a key (it
        // reads nothing); the word is live for the call anyway; `bits` is
        // non-zero. An error (none is possible with these arguments) woke
        // nobody; the sleepers' deadlines bound that.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                c.word.as_ptr(),
                libc::FUTEX_WAKE_BITSET | libc::FUTEX_PRIVATE_FLAG,
                count,
                core::ptr::null::<libc::timespec>(),
                core::ptr::null::<u32>(),
                bits,
            );
        }
    }

    /// Wakes every sleeper under `covered` and one under `next`.
    #[inline]
    pub(in crate::coalesce) fn wake_ended(c: &Coalescer, covered: u32, next: u32) {
        wake(c, covered, i32::MAX);
        wake(c, next, 1);
    }

    /// Wakes every sleeper on the word.
    #[inline]
    pub(in crate::coalesce) fn wake_all(c: &Coalescer) {
        wake(c, !0, i32::MAX);
    }
}

#[cfg(all(not(loom), target_os = "freebsd"))]
mod imp {
    use super::{Coalescer, Deadline};

    /// Sleeps while the word holds `expected` (no wake bits here), until
    /// the deadline; `false` if it passed.
    #[inline]
    pub(in crate::coalesce) fn wait(
        c: &Coalescer,
        expected: u32,
        _bits: u32,
        deadline: &mut Deadline,
    ) -> bool {
        let at = deadline.start();
        let mut t = libc::_umtx_time {
            _timeout: libc::timespec {
                tv_sec: (at / 1_000_000_000) as libc::time_t,
                tv_nsec: (at % 1_000_000_000) as libc::c_long,
            },
            _flags: libc::UMTX_ABSTIME,
            _clockid: libc::CLOCK_MONOTONIC as u32,
        };
        // SAFETY: the word is a live, aligned 32-bit atomic for the whole
        // call; UMTX_OP_WAIT_UINT_PRIVATE compares it with `expected` (as an
        // unsigned int) and sleeps; a non-null `uaddr2` is a timeout whose
        // size `uaddr` gives, here a `struct _umtx_time` with an absolute
        // CLOCK_MONOTONIC time (_umtx_op(2); kern_umtx.c
        // `copyin_umtx_time`), as Rust's std passes it.
        let r = unsafe {
            libc::_umtx_op(
                c.word.as_ptr() as *mut libc::c_void,
                libc::UMTX_OP_WAIT_UINT_PRIVATE,
                expected as libc::c_ulong,
                core::mem::size_of::<libc::_umtx_time>() as *mut libc::c_void,
                &mut t as *mut libc::_umtx_time as *mut libc::c_void,
            )
        };
        // EINTR, a wake and a changed value mean "look again"; ETIMEDOUT:
        // the deadline passed (the caller's `passed()` also sees it).
        !(r == -1 && deadline.passed())
    }

    /// Wakes everyone (a superset).
    #[inline]
    pub(in crate::coalesce) fn wake_ended(c: &Coalescer, _covered: u32, _next: u32) {
        wake_all(c);
    }

    /// Wakes every sleeper on the word.
    #[inline]
    pub(in crate::coalesce) fn wake_all(c: &Coalescer) {
        // SAFETY: UMTX_OP_WAKE_PRIVATE uses the address as a key only; the
        // word is live for the call.
        unsafe {
            libc::_umtx_op(
                c.word.as_ptr() as *mut libc::c_void,
                libc::UMTX_OP_WAKE_PRIVATE,
                libc::c_int::MAX as libc::c_ulong,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            );
        }
    }
}

#[cfg(all(
    not(loom),
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd"))
))]
mod imp {
    use super::{Coalescer, Deadline};

    /// Gives the CPU away once (no wait queue here): the caller polls.
    /// `false` once the deadline passed.
    #[inline]
    pub(in crate::coalesce) fn wait(
        _c: &Coalescer,
        _expected: u32,
        _bits: u32,
        deadline: &mut Deadline,
    ) -> bool {
        #[cfg(unix)]
        {
            deadline.start();
            // SAFETY: sched_yield has no preconditions; a failure would
            // only mean one more poll.
            unsafe { libc::sched_yield() };
        }
        #[cfg(not(unix))]
        {
            deadline.waits += 1;
            core::hint::spin_loop();
        }
        !deadline.passed()
    }

    /// Nothing sleeps here, so nothing to wake.
    #[inline]
    pub(in crate::coalesce) fn wake_ended(_c: &Coalescer, _covered: u32, _next: u32) {}

    /// Nothing sleeps here.
    #[inline]
    pub(in crate::coalesce) fn wake_all(_c: &Coalescer) {}
}

#[cfg(loom)]
mod imp {
    use super::{Coalescer, Deadline};
    use loom::sync::{Condvar, Mutex};

    /// A sleeper in the modelled futex queue.
    struct Sleeper {
        id: usize,
        bits: u32,
    }

    /// The modelled kernel's futex queue (one for every word, as a hash
    /// bucket shared by all), reset for each execution.
    struct Queue {
        sleepers: Mutex<(usize, std::vec::Vec<Sleeper>)>,
        changed: Condvar,
    }

    loom::lazy_static! {
        static ref QUEUE: Queue = Queue {
            sleepers: Mutex::new((0, std::vec::Vec::new())),
            changed: Condvar::new(),
        };
    }

    /// `FUTEX_WAIT_BITSET`, modelled: compares and queues under the lock,
    /// returns once a wake removed it from the queue. With the coalescer's
    /// [`Model`](super::Model) set, each caller's first wait returns at
    /// once instead: as a spurious wake, or as a passed deadline.
    pub(in crate::coalesce) fn wait(
        c: &Coalescer,
        expected: u32,
        bits: u32,
        deadline: &mut Deadline,
    ) -> bool {
        deadline.waits += 1;
        if deadline.waits == 1 {
            if c.model.spurious {
                return true;
            }
            if c.model.timeout {
                return false;
            }
        }
        let mut q = QUEUE.sleepers.lock().unwrap();
        // Relaxed, as the kernel's plain read: a waker changed the word
        // before taking the lock, so either that happened before this read,
        // or its wake comes after this thread is queued.
        if c.word.load(super::super::atomic::Ordering::Relaxed) != expected {
            return true;
        }
        let id = q.0;
        q.0 += 1;
        q.1.push(Sleeper { id, bits });
        while q.1.iter().any(|s| s.id == id) {
            q = QUEUE.changed.wait(q).unwrap();
        }
        true
    }

    /// `FUTEX_WAKE_BITSET`, modelled.
    fn wake(bits: u32, count: usize) {
        let mut q = QUEUE.sleepers.lock().unwrap();
        let mut woken = 0;
        q.1.retain(|s| {
            let wake = woken < count && s.bits & bits != 0;
            woken += usize::from(wake);
            !wake
        });
        if woken > 0 {
            QUEUE.changed.notify_all();
        }
    }

    /// As on Linux.
    pub(in crate::coalesce) fn wake_ended(_c: &Coalescer, covered: u32, next: u32) {
        wake(covered, usize::MAX);
        wake(next, 1);
    }

    /// As on Linux.
    pub(in crate::coalesce) fn wake_all(_c: &Coalescer) {
        wake(!0, usize::MAX);
    }
}

/// How a loom model's futex behaves (see the module docs).
#[cfg(loom)]
#[derive(Default, Clone, Copy, Debug)]
pub(super) struct Model {
    /// Each caller's first wait returns at once, as a spurious wake.
    pub(super) spurious: bool,
    /// Each caller's first wait returns at once with its deadline passed.
    pub(super) timeout: bool,
}

pub(super) use imp::{wait, wake_all, wake_ended};
