//! Sleeping until the state word changes, and waking sleepers.
//!
//! The protocol needs, on its 32-bit state word:
//!
//! - [`wait`]`(word, expected, bits)`: sleep while `word` holds `expected`,
//!   under the wake bits `bits` (the [`bit`] of the ticket waited for). It
//!   may return early (spuriously, on a signal, or because the value had
//!   already changed); the caller reloads the word and decides again.
//! - [`wake_ended`]`(word, covered, next)`: at the end of a successful call,
//!   wake every sleeper under `covered` (their tickets are now covered) and
//!   one sleeper under `next` (it may need to issue the next call); report
//!   whether sleepers under `next` may remain.
//! - [`wake_all`]`(word)`: wake every sleeper (after a failed call).
//! - [`spin`]: one iteration of a bounded busy-wait.
//!
//! Where the kernel offers wake bits (Linux's `FUTEX_WAKE_BITSET`), the
//! callers arriving during a call, which that call does not cover, sleep on
//! through its end: each sleeper is woken once per flush, instead of once
//! per call. Elsewhere every wake wakes everyone, which is a superset, so
//! the protocol is the same.
//!
//! | platform | `wait` | `wake_ended` / `wake_all` |
//! |---|---|---|
//! | Linux, Android | `futex(FUTEX_WAIT_BITSET_PRIVATE)` | `futex(FUTEX_WAKE_BITSET_PRIVATE)` |
//! | FreeBSD | `_umtx_op(UMTX_OP_WAIT_UINT_PRIVATE)` | `_umtx_op(UMTX_OP_WAKE_PRIVATE, INT_MAX)` |
//! | other Unix | `sched_yield()` (the caller polls) | nothing |
//! | anything else | one `spin_loop` hint (the caller polls) | nothing |
//! | `cfg(loom)` | a model of the futex with bits (below) | the same |
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
//! deadlock.

use super::atomic::AtomicU32;

/// The wake bit of a waiter for `ticket`. Tickets are even and consecutive
/// calls end two apart, so the tickets that can have sleepers at one time
/// (the call's end and the next one's) have different bits.
#[inline]
pub(super) fn bit(ticket: u16) -> u32 {
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

#[cfg(all(not(loom), any(target_os = "linux", target_os = "android")))]
mod imp {
    use super::AtomicU32;

    /// Sleeps while `word` holds `expected`, under `bits`; may return
    /// spuriously.
    #[inline]
    pub(in crate::coalesce) fn wait(word: &AtomicU32, expected: u32, bits: u32) {
        // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call
        // (the borrow outlives it), which is all FUTEX_WAIT_BITSET reads; a
        // null timeout means none; `uaddr2` is unused; `bits` is non-zero.
        // The result is deliberately ignored: EAGAIN (the value changed),
        // EINTR and a wake all mean "look again", which the caller does.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word as *const AtomicU32 as *const u32,
                libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG,
                expected,
                core::ptr::null::<libc::timespec>(),
                core::ptr::null::<u32>(),
                bits,
            );
        }
    }

    /// Wakes up to `count` sleepers on `word` under any of `bits`; returns
    /// how many it woke.
    #[inline]
    fn wake(word: &AtomicU32, bits: u32, count: i32) -> i32 {
        // SAFETY: FUTEX_WAKE_BITSET only uses the address as a key (it
        // reads nothing); `word` is live for the call anyway; `bits` is
        // non-zero.
        let woken = unsafe {
            libc::syscall(
                libc::SYS_futex,
                word as *const AtomicU32 as *const u32,
                libc::FUTEX_WAKE_BITSET | libc::FUTEX_PRIVATE_FLAG,
                count,
                core::ptr::null::<libc::timespec>(),
                core::ptr::null::<u32>(),
                bits,
            )
        };
        // An error (none is possible with these arguments) woke nobody.
        woken.max(0) as i32
    }

    /// Wakes every sleeper under `covered` and one under `next`; returns
    /// whether sleepers under `next` may remain.
    #[inline]
    pub(in crate::coalesce) fn wake_ended(word: &AtomicU32, covered: u32, next: u32) -> bool {
        wake(word, covered, i32::MAX);
        wake(word, next, 1) == 1
    }

    /// Wakes every sleeper on `word`.
    #[inline]
    pub(in crate::coalesce) fn wake_all(word: &AtomicU32) {
        wake(word, !0, i32::MAX);
    }
}

#[cfg(all(not(loom), target_os = "freebsd"))]
mod imp {
    use super::AtomicU32;

    /// Sleeps while `word` holds `expected` (no wake bits here); may return
    /// spuriously.
    #[inline]
    pub(in crate::coalesce) fn wait(word: &AtomicU32, expected: u32, _bits: u32) {
        // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call;
        // UMTX_OP_WAIT_UINT_PRIVATE compares it with `expected` (as an
        // unsigned int) and sleeps; null `uaddr`/`uaddr2` mean no timeout.
        // Errors (EINTR) mean "look again", which the caller does.
        unsafe {
            libc::_umtx_op(
                word as *const AtomicU32 as *mut libc::c_void,
                libc::UMTX_OP_WAIT_UINT_PRIVATE,
                expected as libc::c_ulong,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            );
        }
    }

    /// Wakes everyone (a superset): nobody remains asleep.
    #[inline]
    pub(in crate::coalesce) fn wake_ended(word: &AtomicU32, _covered: u32, _next: u32) -> bool {
        wake_all(word);
        false
    }

    /// Wakes every sleeper on `word`.
    #[inline]
    pub(in crate::coalesce) fn wake_all(word: &AtomicU32) {
        // SAFETY: UMTX_OP_WAKE_PRIVATE uses the address as a key only; `word`
        // is live for the call.
        unsafe {
            libc::_umtx_op(
                word as *const AtomicU32 as *mut libc::c_void,
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
    use super::AtomicU32;

    /// Gives the CPU away once (no wait queue here): the caller polls.
    #[inline]
    pub(in crate::coalesce) fn wait(_word: &AtomicU32, _expected: u32, _bits: u32) {
        // SAFETY: sched_yield has no preconditions; a failure would only
        // mean one more poll.
        #[cfg(unix)]
        unsafe {
            libc::sched_yield()
        };
        #[cfg(not(unix))]
        core::hint::spin_loop();
    }

    /// Nothing sleeps here, so nothing to wake and nobody remains.
    #[inline]
    pub(in crate::coalesce) fn wake_ended(_word: &AtomicU32, _covered: u32, _next: u32) -> bool {
        false
    }

    /// Nothing sleeps here.
    #[inline]
    pub(in crate::coalesce) fn wake_all(_word: &AtomicU32) {}
}

#[cfg(loom)]
mod imp {
    use super::AtomicU32;
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
    /// returns once a wake removed it from the queue.
    pub(in crate::coalesce) fn wait(word: &AtomicU32, expected: u32, bits: u32) {
        let mut q = QUEUE.sleepers.lock().unwrap();
        // Relaxed, as the kernel's plain read: a waker changed the word
        // before taking the lock, so either that happened before this read,
        // or its wake comes after this thread is queued.
        if word.load(super::super::atomic::Ordering::Relaxed) != expected {
            return;
        }
        let id = q.0;
        q.0 += 1;
        q.1.push(Sleeper { id, bits });
        while q.1.iter().any(|s| s.id == id) {
            q = QUEUE.changed.wait(q).unwrap();
        }
    }

    /// `FUTEX_WAKE_BITSET`, modelled: returns how many it woke.
    fn wake(bits: u32, count: usize) -> usize {
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
        woken
    }

    /// As on Linux.
    pub(in crate::coalesce) fn wake_ended(_word: &AtomicU32, covered: u32, next: u32) -> bool {
        wake(covered, usize::MAX);
        wake(next, 1) == 1
    }

    /// As on Linux.
    pub(in crate::coalesce) fn wake_all(_word: &AtomicU32) {
        wake(!0, usize::MAX);
    }
}

pub(super) use imp::{wait, wake_all, wake_ended};
