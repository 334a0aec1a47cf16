//! Blocking until a word changes, and waking the threads blocked on it.
//!
//! The protocol needs exactly two operations on its 32-bit state word:
//!
//! - [`wait`]`(word, expected)`: block while `word` still holds `expected`.
//!   It may return early (spuriously, on a signal, or because the value had
//!   already changed); the caller reloads the word and decides again.
//! - [`wake_all`]`(word)`: wake every thread blocked in [`wait`] on `word`.
//!
//! and [`spin`], one iteration of a bounded busy-wait.
//!
//! | platform | `wait` | `wake_all` |
//! |---|---|---|
//! | Linux, Android | `futex(FUTEX_WAIT_PRIVATE)` | `futex(FUTEX_WAKE_PRIVATE, INT_MAX)` |
//! | FreeBSD | `_umtx_op(UMTX_OP_WAIT_UINT_PRIVATE)` | `_umtx_op(UMTX_OP_WAKE_PRIVATE, INT_MAX)` |
//! | other Unix | `sched_yield()` | nothing |
//! | anything else | one `spin_loop` hint | nothing |
//! | `cfg(loom)` | a futex model: loom `Condvar` | `notify_all` |
//!
//! The kernel primitives compare the word with `expected` and go to sleep
//! atomically with respect to `wake_all`, so a wake cannot be lost between
//! the caller's last look at the word and its sleep. The yielding fallbacks
//! never sleep, so they cannot miss a wake either: they are polling loops.
//!
//! Under loom, waiting must really block: with threads that merely yield,
//! loom's scheduler can alternate between two waiters forever (loom issue
//! #53) and could not find a lost wake either. The model is the kernel's:
//! the comparison and the sleep happen under one lock that the waker also
//! takes, so a wake after the word changed cannot be missed, and a missed
//! one shows as a deadlock.
//!
//! All of them are async-signal-safe system calls (or none); the protocol
//! around them is not (see the module docs of `coalesce`).

use super::atomic::AtomicU32;

/// One iteration of a busy-wait before blocking.
#[inline]
pub(super) fn spin() {
    #[cfg(loom)]
    loom::hint::spin_loop();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// Blocks while `word` holds `expected`; may return spuriously.
#[cfg(all(not(loom), any(target_os = "linux", target_os = "android")))]
#[inline]
pub(super) fn wait(word: &AtomicU32, expected: u32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call (the
    // borrow outlives it), which is all FUTEX_WAIT reads; a null timeout
    // means no timeout. The result is deliberately ignored: EAGAIN (the value
    // changed), EINTR and a wake all mean "look again", which the caller does.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word as *const AtomicU32 as *const u32,
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            core::ptr::null::<libc::timespec>(),
        );
    }
}

/// Wakes every thread blocked in [`wait`] on `word`.
#[cfg(all(not(loom), any(target_os = "linux", target_os = "android")))]
#[inline]
pub(super) fn wake_all(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key (it reads nothing);
    // `word` is live for the call anyway.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word as *const AtomicU32 as *const u32,
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            libc::c_int::MAX,
        );
    }
}

/// Blocks while `word` holds `expected`; may return spuriously.
#[cfg(all(not(loom), target_os = "freebsd"))]
#[inline]
pub(super) fn wait(word: &AtomicU32, expected: u32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call;
    // UMTX_OP_WAIT_UINT_PRIVATE compares it with `expected` (as an unsigned
    // int) and sleeps; null `uaddr`/`uaddr2` mean no timeout. Errors (EINTR)
    // mean "look again", which the caller does.
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

/// Wakes every thread blocked in [`wait`] on `word`.
#[cfg(all(not(loom), target_os = "freebsd"))]
#[inline]
pub(super) fn wake_all(word: &AtomicU32) {
    // SAFETY: UMTX_OP_WAKE_PRIVATE uses the address as a key only; `word` is
    // live for the call.
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

/// Gives the CPU away once (no kernel wait queue here): the caller polls.
#[cfg(all(
    not(loom),
    unix,
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd"))
))]
#[inline]
pub(super) fn wait(_word: &AtomicU32, _expected: u32) {
    // SAFETY: sched_yield has no preconditions; it cannot fail on any
    // supported system, and a failure would only mean one more poll.
    unsafe { libc::sched_yield() };
}

/// Busy-waits once: no operating-system primitive is available here.
#[cfg(all(not(loom), not(unix)))]
#[inline]
pub(super) fn wait(_word: &AtomicU32, _expected: u32) {
    core::hint::spin_loop();
}

/// Nothing to wake: waiters poll on this platform.
#[cfg(all(
    not(loom),
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd"))
))]
#[inline]
pub(super) fn wake_all(_word: &AtomicU32) {}

#[cfg(loom)]
loom::lazy_static! {
    /// The modelled kernel's futex queue: one lock and one queue for every
    /// word (as a hash bucket shared by all), reset for each execution.
    static ref FUTEX: (loom::sync::Mutex<()>, loom::sync::Condvar) =
        (loom::sync::Mutex::new(()), loom::sync::Condvar::new());
}

/// `FUTEX_WAIT`, modelled: compares and sleeps under the queue's lock.
#[cfg(loom)]
pub(super) fn wait(word: &AtomicU32, expected: u32) {
    let (lock, queue) = &*FUTEX;
    let guard = lock.lock().unwrap();
    // Relaxed, as the kernel's plain read: the waker changed the word
    // before taking the lock, so either that happened before this read, or
    // the waker's notify comes after this thread is queued.
    if word.load(super::atomic::Ordering::Relaxed) == expected {
        drop(queue.wait(guard).unwrap());
    }
}

/// `FUTEX_WAKE(INT_MAX)`, modelled.
#[cfg(loom)]
pub(super) fn wake_all(_word: &AtomicU32) {
    let (lock, queue) = &*FUTEX;
    let _guard = lock.lock().unwrap();
    queue.notify_all();
}
