//! Telling this process's in-flight calls from ones inherited across `fork`.
//!
//! `fork` copies the memory of the parent but only the calling thread. If
//! another thread of the parent was inside a barrier call, the child's copy
//! of the state word says "in flight" and nobody in the child will ever end
//! that call: without help, every caller in the child would wait forever.
//!
//! The mechanism: a process-wide *fork generation*, incremented exactly once
//! in every child by a `pthread_atfork` child handler. The issuer stamps the
//! generation into the state word in the same compare-and-swap that starts
//! its call, so a waiter sees, in one atomic read, both "in flight" and who
//! started it. A stamp that differs from this process's generation can only
//! come from an ancestor process (within a process the generation never
//! changes once it has more than one thread: the handler runs in the child
//! before `fork` returns there, while the child has one thread), so that
//! call is abandoned and the waiter ends it as a failed call, with a
//! compare-and-swap on the exact word it read.
//!
//! The handler is registered on the first use in a process, before that
//! thread can start a call, so no call can be in flight in a process whose
//! children would not run it. Threads racing on the first use may each
//! register it (nothing waits for another thread, so a `fork` during the
//! registration cannot leave a child waiting for it); the handler then runs
//! several times in a child, and counts the child once: it records the pid
//! it ran in, which is 0 or the parent's pid (alive, so different) the first
//! time and the child's own afterwards.
//!
//! Limits: a child created without running `pthread_atfork` handlers (the
//! raw `fork`/`clone` system call; `vfork` and `posix_spawn` children only
//! `exec` and are fine) is not protected. The stamp keeps the generation's
//! low [`STAMP_BITS`] bits: a call abandoned `2^15` nested generations up
//! with no caller in between would look current. If `pthread_atfork` fails
//! (out of memory), the next use tries again; calls started meanwhile are
//! not protected.

/// How many low bits of the generation the state word keeps.
pub(super) const STAMP_BITS: u32 = 15;

#[cfg(all(
    not(loom),
    not(miri),
    any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_vendor = "apple"
    )
))]
mod imp {
    use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    /// This process's fork generation: the parent's + 1 in a child forked
    /// after the handler was registered, else inherited (0 at first).
    static GENERATION: AtomicU32 = AtomicU32::new(0);

    /// The pid the child handler last ran in (0: never): deduplicates
    /// multiple registrations.
    static HANDLED_IN: AtomicU32 = AtomicU32::new(0);

    /// Whether this process (or an ancestor, before forking it) registered
    /// the handler. Inherited across `fork`, as are the registrations.
    static REGISTERED: AtomicBool = AtomicBool::new(false);

    /// The `pthread_atfork` child handler.
    extern "C" fn child() {
        // SAFETY: getpid has no preconditions and is async-signal-safe (this
        // runs in a just-forked child, where only such calls are allowed).
        let pid = unsafe { libc::getpid() } as u32;
        // Relaxed: the child has one thread now; threads it creates later
        // synchronize with this one at their creation.
        if HANDLED_IN.swap(pid, Ordering::Relaxed) != pid {
            GENERATION.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Registers the child handler once per process (see the module docs
    /// for why racing threads may each register it).
    #[inline]
    pub(in crate::coalesce) fn ensure_registered() {
        // Acquire pairs with the Release below: a thread that sees `true`
        // starts its calls after a completed registration.
        if REGISTERED.load(Ordering::Acquire) {
            return;
        }
        register();
    }

    /// One more registration, as racing threads may make.
    #[cfg(test)]
    pub(in crate::coalesce) fn register_for_test() {
        register();
    }

    #[cold]
    fn register() {
        // SAFETY: `child` is a valid `extern "C" fn()` for the life of the
        // process (a static function); null prepare/parent handlers are
        // allowed.
        if unsafe { libc::pthread_atfork(None, None, Some(child)) } == 0 {
            REGISTERED.store(true, Ordering::Release);
        }
    }

    /// This process's generation. Relaxed: it only changes in a child before
    /// that child has a second thread (see the module docs).
    #[inline]
    pub(in crate::coalesce) fn generation() -> u32 {
        GENERATION.load(Ordering::Relaxed)
    }
}

#[cfg(not(all(
    not(loom),
    not(miri),
    any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_vendor = "apple"
    )
)))]
mod imp {
    //! No fork detection: loom models and Miri cannot fork; the remaining
    //! targets either have no `fork` or (other Unix systems) are not
    //! supported by this crate's flush, which is the coalescer's one user.
    //! There, a child forked during a call would wait for it forever.

    /// Nothing to register.
    #[inline]
    pub(in crate::coalesce) fn ensure_registered() {}

    /// Nothing to register.
    #[cfg(all(test, not(loom)))]
    #[allow(dead_code)] // the fork tests are Unix-only
    pub(in crate::coalesce) fn register_for_test() {}

    /// Always the first generation.
    #[inline]
    pub(in crate::coalesce) fn generation() -> u32 {
        0
    }
}

pub(super) use imp::{ensure_registered, generation};

#[cfg(all(test, not(loom)))]
#[allow(unused_imports)] // the fork tests are Unix-only
pub(super) use imp::register_for_test;
