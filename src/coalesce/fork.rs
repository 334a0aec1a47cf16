//! Telling this process's coalescer state from state inherited across
//! `fork`.
//!
//! `fork` copies the memory of the parent but only the calling thread. If
//! another thread of the parent was inside a barrier call, or asleep waiting
//! for one, the child's copy of the state word says "in flight" or counts
//! sleepers, and nobody in the child will ever end that call or wake them.
//!
//! The mechanism: a process-wide *fork generation*, incremented exactly once
//! in every child by a `pthread_atfork` child handler, registered exactly
//! once per process (a compare-and-swap decides which thread registers; the
//! others, and every caller until the registration has completed, make
//! their own calls instead of using the protocol, so no protocol call can be
//! in flight in a process whose children would not run the handler). Each
//! [`Coalescer`](super::Coalescer) records the generation its word belongs
//! to; the first protocol use in a child sees another generation, resets the
//! word to idle and records the child's generation (`Coalescer::adopt`).
//! Within a process the generation never changes once it has more than one
//! thread: the handler runs in the child before `fork` returns there, while
//! the child has one thread.
//!
//! The handler needs no de-duplication (it is registered once, and
//! registrations are inherited, never repeated, by children), and the
//! generation never wraps in practice (it counts nested forks, one per
//! level). No process id is involved, so PID namespaces (a parent and a
//! child that are both pid 1 of their namespaces) change nothing.
//!
//! Limits: a child created without running `pthread_atfork` handlers (the
//! raw `fork`/`clone` system call; `vfork` and `posix_spawn` children only
//! `exec` and are fine) inherits the parent's word as it is: a waiter there
//! then makes its own call after the deadline of `mod.rs`. If
//! `pthread_atfork` fails (out of memory), the next protocol use tries
//! again, and every caller makes its own call meanwhile. A fork during
//! another thread's registration leaves the child unregistered for good
//! (the state says "registering" and that thread is not in the child): that
//! child's callers always make their own calls.
//! Likewise a fork while another thread is between `Coalescer::adopt`'s
//! compare-and-swap and its store leaves that coalescer marked "adopting"
//! in the child for good: there, every caller makes its own call.

/// The generation of the first process, and of a new coalescer.
pub(super) const FIRST_GENERATION: u32 = 0;

/// In a coalescer's generation: a caller is resetting its word.
pub(super) const ADOPTING: u32 = 1 << 31;

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
    use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

    /// This process's fork generation: the parent's + 1 in a child forked
    /// after the handler was registered, else inherited (0 at first).
    /// Kept below [`super::ADOPTING`].
    static GENERATION: AtomicU32 = AtomicU32::new(super::FIRST_GENERATION);

    /// The registration: [`UNREGISTERED`], [`REGISTERING`] or
    /// [`REGISTERED`]. Inherited across `fork`, as are the registrations.
    static STATE: AtomicU8 = AtomicU8::new(UNREGISTERED);
    const UNREGISTERED: u8 = 0;
    const REGISTERING: u8 = 1;
    const REGISTERED: u8 = 2;

    /// The `pthread_atfork` child handler.
    extern "C" fn child() {
        // Relaxed: the child has one thread now; threads it creates later
        // synchronize with this one at their creation. Masked below
        // ADOPTING (2^31 nested forks do not happen; this only keeps the
        // flag's bit out of the value).
        let g = GENERATION.load(Ordering::Relaxed);
        GENERATION.store((g + 1) & !super::ADOPTING, Ordering::Relaxed);
        // The handler ran, so it is registered here (even if the parent's
        // registering thread had not yet recorded it when it forked).
        STATE.store(REGISTERED, Ordering::Relaxed);
    }

    /// Whether the child handler is registered in this process, registering
    /// it if nobody has (or is doing so): `false` means "use no protocol
    /// now".
    #[inline]
    pub(in crate::coalesce) fn registered() -> bool {
        // Acquire pairs with the Release below: a thread that sees
        // REGISTERED starts its protocol calls after a completed
        // registration.
        STATE.load(Ordering::Acquire) == REGISTERED || register()
    }

    #[cold]
    fn register() -> bool {
        if STATE
            .compare_exchange(
                UNREGISTERED,
                REGISTERING,
                Ordering::Acquire,
                Ordering::Acquire,
            )
            .is_err()
        {
            // Registered meanwhile, or another thread is registering (it
            // runs: nothing here waits for it).
            return STATE.load(Ordering::Acquire) == REGISTERED;
        }
        // SAFETY: `child` is a valid `extern "C" fn()` for the life of the
        // process (a static function); null prepare/parent handlers are
        // allowed.
        let ok = unsafe { libc::pthread_atfork(None, None, Some(child)) } == 0;
        STATE.store(
            if ok { REGISTERED } else { UNREGISTERED },
            Ordering::Release,
        );
        ok
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
    //! No fork detection: loom models and Miri cannot fork (the loom models
    //! test adoption with a coalescer made to look inherited); the
    //! remaining targets either have no `fork` or (other Unix systems) are
    //! not supported by this crate's flush, which is the coalescer's one
    //! user. There, a child forked during a call has waiters that make
    //! their own calls after the deadline of `mod.rs`.

    /// Nothing to register.
    #[inline]
    pub(in crate::coalesce) fn registered() -> bool {
        true
    }

    /// Always the first generation.
    #[inline]
    pub(in crate::coalesce) fn generation() -> u32 {
        super::FIRST_GENERATION
    }
}

pub(super) use imp::{generation, registered};
