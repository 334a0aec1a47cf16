//! Coalescing concurrent barrier calls: one call that starts after several
//! callers arrived serves all of them.
//!
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE)` interrupts every
//! CPU running the process, and the kernel serialises expedited commands
//! under one mutex: K threads flushing at once each wait for about K calls.
//! But a flush only needs *some* call that started after it was requested,
//! so the calls can be shared, as RCU shares expedited grace periods (Linux
//! `rcu_exp_gp_seq_snap()`/`rcu_exp_gp_seq_done()`).
//!
//! # The rule
//!
//! [`Coalescer::run`] returns `Ok` only after a call of a barrier closure
//! that *started after the caller entered* `run` has *completed
//! successfully*. A caller arriving while a call is in flight therefore
//! waits for the next one (and may be the one who issues it).
//!
//! # The protocol
//!
//! One 32-bit word holds a sequence number `seq` whose low bit means "a call
//! is in flight", a WAITERS bit, and the fork generation of the call in
//! flight (see `fork.rs`).
//!
//! 1. Entry: the caller's first read-modify-write of the word. If it finds
//!    the word idle (`seq` even), that read-modify-write is the
//!    compare-and-swap that starts a call (`seq` odd): the caller is the
//!    issuer. Otherwise it takes a ticket from the `seq` it read:
//!    `(seq + 3) & !1`, the `seq` at which the first call that starts after
//!    this moment will have ended (the next even number if idle, the one
//!    after the current call's end if in flight).
//! 2. Exactly one caller issues each call: the one whose compare-and-swap
//!    turns an idle `seq` odd. It runs the closure and then ends the call:
//!    `seq + 1` on success, `seq - 1` on failure (the call never happened).
//! 3. A waiter returns `Ok` once `seq` reaches its ticket; if it finds the
//!    word idle before that, it tries to issue the next call itself;
//!    otherwise it spins ([`SPINS`] times), then sets WAITERS and sleeps on
//!    the word (futex) under its ticket's wake bit, and looks again when
//!    woken.
//!
//! `seq` only ever goes up by a successful end or a start, and down by a
//! failed end right after its start, so reaching a ticket from the entry
//! value takes a successful end of a call whose start came after the entry.
//!
//! # Waking
//!
//! A waiter sleeps only on a word in flight that does not cover it, so its
//! ticket is the end `E` of the call in flight or `E + 2`, that of the next
//! one (see [`covered`]). With WAITERS set, a successful end wakes every
//! sleeper for `E`, and *one* for `E + 2`, in case nobody else starts the
//! next call; the others sleep on through it (one wake per flush, not one
//! per call), so the end keeps WAITERS in the idle word, the next start
//! inherits it, and the next end wakes them. Only if no sleeper for `E + 2`
//! was found is WAITERS cleared afterwards (nobody sleeps on an idle word).
//! A failed end wakes everyone and clears WAITERS. Where the kernel has no
//! wake bits, every wake wakes everyone (`wait.rs`).
//!
//! # Errors
//!
//! If the issuer's closure fails, the issuer returns that error and `seq`
//! goes back to the value before the call: the waiters it would have served
//! are *not* covered, find the word idle, and one of them issues the next
//! call (with its own closure), so nobody hangs and nobody returns `Ok`
//! without a successful covering call. A permanent error thus costs every
//! caller a call of its own; callers should cache permanent errors before
//! coming here (`pipeline_flush_mt` does). A panicking closure is treated
//! as a failed call, then the panic continues.
//!
//! # Memory ordering
//!
//! Every modification of the word is a read-modify-write, so each one
//! continues the release sequence of every earlier release operation on it.
//!
//! - *Entries happen before the call that serves them.* A caller's entry is
//!   a Release read-modify-write (`AcqRel` compare-and-swap on the fast
//!   path, `fetch_add(0, Release)` otherwise: a plain load would publish
//!   nothing). The call that serves it starts with an Acquire
//!   compare-and-swap that comes later in the word's modification order, so
//!   it reads from the entry's release sequence and synchronizes with it:
//!   everything the caller wrote before `run` (the code, and on AArch64 its
//!   `DSB`-completed maintenance) happens before the barrier starts. The
//!   system call follows that Acquire in program order (and Linux's
//!   `membarrier` itself begins with a full barrier, `smp_mb()`).
//! - *The call happens before the return of those it serves.* The issuer
//!   ends a call with a Release read-modify-write; a waiter decides it is
//!   covered from an Acquire load (or failed Acquire compare-and-swap) of
//!   the word, which reads that end or a later read-modify-write in its
//!   release sequence.
//! - *No lost wake.* Setting WAITERS and the ending read-modify-write are
//!   both read-modify-writes of the same word, so one comes first in its
//!   modification order: either the end sees the bit and wakes, or the
//!   waiter's compare-and-swap fails (or the kernel's futex comparison
//!   does) and it looks again. One location: no `SeqCst` needed. A sleeper
//!   for `E + 2` left asleep is woken by the next end, which sees the
//!   WAITERS bit kept for it (see *Waking*).
//!
//! # Fork
//!
//! A child forked while another thread of the parent was inside a call
//! inherits "in flight" with no thread to end it. The issuer stamps its
//! process's fork generation into the word when it starts a call; a waiter
//! that finds a foreign stamp ends that call as a failed one. See `fork.rs`.
//!
//! # Async-signal-safety
//!
//! [`Coalescer::run`] is **not** async-signal-safe: a signal handler that
//! calls it on a thread interrupted while issuing a call would wait for a
//! call that only the interrupted code can end (a deadlock), and the first
//! use in a process calls `pthread_atfork`, which allocates. (The futex
//! calls themselves are async-signal-safe.)

mod atomic;
mod fork;
mod wait;

use self::atomic::{AtomicU32, Ordering};

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// The word's WAITERS bit: a thread is (or is about to be) asleep on it.
const WAITERS: u32 = 1;
/// Where `seq` starts in the word.
const SEQ_SHIFT: u32 = 1;
/// Width of `seq`. It wraps; see [`covered`] for why that is safe.
const SEQ_BITS: u32 = 16;
/// The bits of `seq`.
const SEQ_MASK: u32 = ((1 << SEQ_BITS) - 1) << SEQ_SHIFT;
/// The low bit of `seq`: a call is in flight.
const IN_FLIGHT: u32 = 1 << SEQ_SHIFT;
/// Where the fork-generation stamp of the call in flight starts.
const STAMP_SHIFT: u32 = SEQ_SHIFT + SEQ_BITS;

// The stamp takes the rest of the word.
const _: () = assert!(STAMP_SHIFT + fork::STAMP_BITS == 32);

/// How many times a waiter polls the word before sleeping on it (about a
/// microsecond of `spin_loop` hints): a barrier call takes microseconds, so
/// this only catches calls that are about to end. Under loom, none: a poll
/// is the same Acquire reload as the one after a wake, and skipping it
/// halves the model's run time.
const SPINS: u32 = if cfg!(loom) { 0 } else { 100 };

/// `seq` of a word.
#[inline]
fn seq(word: u32) -> u16 {
    ((word & SEQ_MASK) >> SEQ_SHIFT) as u16
}

/// A word with the given `seq`, no waiters and, if `seq` is odd, `stamp`.
#[inline]
fn word(seq: u16, stamp: u32) -> u32 {
    let w = (seq as u32) << SEQ_SHIFT;
    if w & IN_FLIGHT != 0 {
        w | stamp
    } else {
        w
    }
}

/// The stamp of `generation`, positioned in the word.
#[inline]
fn stamp(generation: u32) -> u32 {
    generation << STAMP_SHIFT
}

/// The ticket of a caller whose entry read `seq`: the value `seq` has when
/// the first call that starts after the entry has ended. From an idle (even)
/// `seq`, the next call ends at `seq + 2`; from an odd one, the call in
/// flight ends at `seq + 1` and the next one at `seq + 3`.
#[inline]
fn ticket(seq: u16) -> u16 {
    seq.wrapping_add(3) & !1
}

/// Whether `seq` has reached `ticket`.
///
/// `seq` wraps, so this looks at how far the ticket is ahead of `seq`,
/// modulo `2^16`. While a caller waits, the true `seq` is never below its
/// entry value minus one (a failed end follows its own start), and its
/// ticket is at most three above its entry value, so a ticket that has not
/// been reached is 1 to 4 ahead. Anything else means reached, however many
/// times `seq` wrapped meanwhile (a caller preempted for `2^15` calls): the
/// answer "covered" is always right. The converse can err only if `seq`
/// passed the ticket by a multiple of `2^16` minus 1 to 4; then the caller
/// waits for, or issues, at most two more calls, whose ends wake it: a
/// sleeper's ticket is always the end of the call in flight or of the next
/// one, which is what the targeted wakes of `wait.rs` rely on.
#[inline]
fn covered(seq: u16, ticket: u16) -> bool {
    !(1..=4).contains(&ticket.wrapping_sub(seq))
}

/// Coalesces concurrent calls of a barrier: the protocol is described in
/// `src/coalesce/mod.rs`.
///
/// Not part of the crate's API (reachable only through the hidden
/// `__private` module, for the benchmarks).
pub struct Coalescer {
    /// `stamp | seq | WAITERS`: see the module docs.
    word: AtomicU32,
    /// [`Coalescer::run_adaptive`]: nonzero while a caller is inside a call
    /// it made on its own (a hint: Relaxed, races only blur it).
    solo_busy: AtomicU32,
    /// [`Coalescer::run_adaptive`]: how many more calls go through the
    /// protocol; 0: each caller makes its own call (a hint).
    coalesce_for: AtomicU32,
}

/// How many flushes [`Coalescer::run_adaptive`] keeps coalescing after it
/// last saw calls overlap.
const COALESCE_RUNS: u32 = if cfg!(loom) { 1 } else { 4096 };

impl Coalescer {
    /// An idle coalescer: nothing in flight, nobody waiting.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Coalescer {
            word: AtomicU32::new(0),
            solo_busy: AtomicU32::new(0),
            coalesce_for: AtomicU32::new(0),
        }
    }

    /// An idle coalescer: nothing in flight, nobody waiting (loom's atomics
    /// cannot be built in a `const fn`).
    #[cfg(loom)]
    pub fn new() -> Self {
        Coalescer {
            word: AtomicU32::new(0),
            solo_busy: AtomicU32::new(0),
            coalesce_for: AtomicU32::new(0),
        }
    }

    /// Makes [`Coalescer::run_adaptive`] coalesce the next `n` calls.
    #[cfg(test)]
    pub(super) fn coalesce_next(&self, n: u32) {
        self.coalesce_for.store(n, Ordering::Relaxed);
    }

    /// Coalesces concurrent calls only while they overlap: [`Coalescer::run`]'s
    /// guarantee, without its two read-modify-writes when nobody else is
    /// flushing.
    ///
    /// The protocol costs two locked read-modify-writes per call (about
    /// 8 % of an uncontended `membarrier` on the machine it was measured
    /// on); they pay only when calls overlap. So by default each caller
    /// makes its own call (which covers it: it starts after the caller
    /// entered), marking a flag while inside it. A caller that finds the
    /// flag set has seen two calls overlap, and switches the next
    /// [`COALESCE_RUNS`] calls, of every thread, to the protocol; a
    /// protocol call that finds a call in flight re-arms that count, and
    /// each uncontended one spends one. Both paths keep the rule (a call
    /// that started after the caller entered has completed before it
    /// returns), so the hints need no ordering: Relaxed, and races on them
    /// only choose a path.
    ///
    /// # Errors
    /// As [`Coalescer::run`].
    pub fn run_adaptive<E>(&self, barrier: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        // On first use, as the protocol does: a fork handler registered
        // before any thread of this process might start a protocol call
        // (one Acquire load once registered).
        fork::ensure_registered();
        let left = self.coalesce_for.load(Ordering::Relaxed);
        if left == 0 {
            if self.solo_busy.load(Ordering::Relaxed) != 0 {
                // Another caller is inside its own call: calls overlap.
                self.coalesce_for.store(COALESCE_RUNS, Ordering::Relaxed);
            }
            return self.run_solo(barrier);
        }
        let (result, contended) = self.run_inner(barrier);
        if contended {
            self.coalesce_for.store(COALESCE_RUNS, Ordering::Relaxed);
        } else if self.coalesce_for.load(Ordering::Relaxed) == left {
            // Spend one, unless another caller re-armed the count
            // meanwhile. (Still a hint: a re-arm between this load and the
            // store is lost, and the next overlap seen arms it again.)
            self.coalesce_for.store(left - 1, Ordering::Relaxed);
        }
        result
    }

    /// This caller's own call, with `solo_busy` set around it (cleared
    /// even if `barrier` panics).
    fn run_solo<E>(&self, barrier: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        struct Busy<'a>(&'a AtomicU32);
        impl Drop for Busy<'_> {
            fn drop(&mut self) {
                self.0.store(0, Ordering::Relaxed);
            }
        }
        self.solo_busy.store(1, Ordering::Relaxed);
        let _busy = Busy(&self.solo_busy);
        barrier()
    }

    /// Returns once a call of a barrier that started after this call
    /// entered has completed successfully: either this caller's own call of
    /// `barrier`, or another caller's.
    ///
    /// `barrier` is called at most once, on the calling thread, and only if
    /// this caller issues the call; it must not call `run` on the same
    /// coalescer (that would wait for itself).
    ///
    /// Uncontended (nothing in flight), this is one load, one
    /// compare-and-swap, the call and one more compare-and-swap (and two
    /// loads of process-wide flags, see `fork.rs`); no system call besides
    /// the barrier's own unless a thread is asleep waiting.
    ///
    /// # Errors
    /// The error of `barrier` if this caller issued the call and it failed.
    /// A caller whose call was to be issued by another caller whose barrier
    /// fails is not covered by it: it retries, issuing a call itself if
    /// need be, so it returns `Ok` only after a successful covering call,
    /// or its own call's error.
    ///
    /// Not async-signal-safe: see the module docs.
    pub fn run<E>(&self, barrier: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        self.run_inner(barrier).0
    }

    /// [`Coalescer::run`], and whether this caller found a call in flight
    /// (took the slow path).
    fn run_inner<E>(&self, barrier: impl FnOnce() -> Result<(), E>) -> (Result<(), E>, bool) {
        // Before this thread can start a call: a child forked from here on
        // must be able to tell that call is not its own.
        fork::ensure_registered();
        let stamp = stamp(fork::generation());

        // Fast path: nothing in flight, so the entry can be the start.
        // Relaxed: only a guess for the compare-and-swap, which orders.
        let mut w = self.word.load(Ordering::Relaxed);
        if w & IN_FLIGHT == 0 {
            let started = word(seq(w).wrapping_add(1), stamp) | (w & WAITERS);
            // AcqRel on success: Release publishes this caller's writes,
            // Acquire receives those of everyone served (module docs).
            if self
                .word
                .compare_exchange(w, started, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                return (self.issue(started, barrier), false);
            }
        }

        // Entry: a read-modify-write that changes nothing, for its Release
        // (module docs). Its read need not acquire: a fresh ticket is never
        // covered by the value it was taken from.
        w = self.word.fetch_add(0, Ordering::Release);
        let ticket = ticket(seq(w));
        let mut spins = 0;
        loop {
            // Every `w` examined below was read with Acquire, except the
            // entry's, for which this is false.
            if covered(seq(w), ticket) {
                return (Ok(()), true);
            }
            if w & IN_FLIGHT == 0 {
                // Idle and not covered: issue the next call.
                let started = word(seq(w).wrapping_add(1), stamp) | (w & WAITERS);
                match self
                    .word
                    .compare_exchange(w, started, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => return (self.issue(started, barrier), true),
                    Err(now) => w = now,
                }
                continue;
            }
            if w & !(SEQ_MASK | WAITERS) != stamp {
                // In flight, started in an ancestor process: abandoned.
                // End it as a failed call (the exact word we read, so never
                // a call of this process: those carry this stamp).
                let idle = word(seq(w).wrapping_sub(1), 0);
                match self
                    .word
                    .compare_exchange(w, idle, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        if w & WAITERS != 0 {
                            wait::wake_all(&self.word);
                        }
                        w = idle;
                    }
                    Err(now) => w = now,
                }
                continue;
            }
            // (SPINS is 0 under loom.)
            #[cfg_attr(loom, allow(clippy::absurd_extreme_comparisons))]
            if spins < SPINS {
                spins += 1;
                wait::spin();
                w = self.word.load(Ordering::Acquire);
                continue;
            }
            if w & WAITERS == 0 {
                // Tell the issuer to wake us. Acquire: on failure the value
                // read is examined above (on success nothing needs ordering).
                match self.word.compare_exchange(
                    w,
                    w | WAITERS,
                    Ordering::Acquire,
                    Ordering::Acquire,
                ) {
                    Ok(_) => w |= WAITERS,
                    Err(now) => {
                        w = now;
                        continue;
                    }
                }
            }
            wait::wait(&self.word, w, wait::bit(ticket));
            spins = 0;
            w = self.word.load(Ordering::Acquire);
        }
    }

    /// Runs `barrier` as the issuer of the call that `started` (the word
    /// this thread's compare-and-swap installed) began, then ends it.
    #[inline]
    fn issue<E>(&self, started: u32, barrier: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        let mut flight = Flight {
            coalescer: self,
            started,
            succeeded: false,
        };
        let result = barrier();
        flight.succeeded = result.is_ok();
        drop(flight);
        result
    }
}

impl Default for Coalescer {
    fn default() -> Self {
        Coalescer::new()
    }
}

/// A call in flight, issued by this thread. Dropping it ends the call:
/// successfully if `succeeded`, else as a failed one (also when the
/// barrier panics, so the waiters are never left behind).
struct Flight<'a> {
    /// Whose call.
    coalescer: &'a Coalescer,
    /// The word that started it, without WAITERS.
    started: u32,
    /// Whether the barrier returned `Ok`.
    succeeded: bool,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let word_ = &self.coalescer.word;
        let s = seq(self.started);
        // While a call is in flight nobody else changes `seq` or the stamp
        // (starts need an idle word; abandonment needs a foreign stamp): the
        // word is `started`, possibly with WAITERS. Release: the call
        // happens before every waiter that sees its end.
        if self.succeeded {
            let end = s.wrapping_add(1);
            // Keep WAITERS: the callers that arrived during this call sleep
            // on until the next one ends (the next issuer inherits the bit).
            let idle = word(end, 0);
            let before = match word_.compare_exchange(
                self.started,
                idle | (self.started & WAITERS),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(before) => before,
                // A waiter set WAITERS, and nobody clears it in flight.
                Err(_) => word_.swap(idle | WAITERS, Ordering::Release),
            };
            debug_assert_eq!(before & !WAITERS, self.started & !WAITERS);
            if before & WAITERS != 0 {
                // Wake those this call covers, and one of those who need
                // the next call, in case nobody else starts it.
                let next_may_sleep =
                    wait::wake_ended(word_, wait::bit(end), wait::bit(end.wrapping_add(2)));
                if !next_may_sleep {
                    // Nobody sleeps now (nobody sleeps on an idle word): no
                    // wake needed after the next call. Relaxed: no data is
                    // published; if the word changed meanwhile, the next
                    // issuer clears it instead.
                    let _ = word_.compare_exchange(
                        idle | WAITERS,
                        idle,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
            }
        } else {
            // The call never happened: seq goes back, and every sleeper
            // looks again (those it would have covered now need another).
            let before = word_.swap(word(s.wrapping_sub(1), 0), Ordering::Release);
            debug_assert_eq!(before & !WAITERS, self.started & !WAITERS);
            if before & WAITERS != 0 {
                wait::wake_all(word_);
            }
        }
    }
}
