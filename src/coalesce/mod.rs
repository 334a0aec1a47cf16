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
//! waits for the next one (and may be the one who issues it), **sleeping at
//! most about [`WAIT_BOUND_NS`]** (plus the kernel's timer slack): past that it makes its own call, outside the
//! protocol (its own call starts after it entered, so it is covered).
//!
//! # The protocol
//!
//! One 32-bit word holds a sequence number `seq` in its high [`SEQ_BITS`]
//! bits, whose low bit means "a call is in flight", and in its low
//! [`SLEEPER_BITS`] bits the number of callers asleep (or about to sleep) on
//! the word.
//!
//! 1. Entry: the caller's first read-modify-write of the word. If it finds
//!    the word idle (`seq` even), that read-modify-write is the
//!    compare-and-swap that starts a call (`seq` odd): the caller is the
//!    issuer. Otherwise it takes a ticket from the `seq` it read:
//!    `(seq + 3) & !1`, the `seq` at which the first call that starts after
//!    this moment will have ended (the next even number if idle, the one
//!    after the current call's end if in flight).
//! 2. Exactly one caller issues each call: the one whose compare-and-swap
//!    turns an idle `seq` odd. It runs the closure and then ends the call
//!    with one read-modify-write: `seq + 1` on success, `seq - 1` on failure
//!    (the call never happened).
//! 3. A waiter returns `Ok` once `seq` reaches its ticket; if it finds the
//!    word idle before that, it tries to issue the next call itself;
//!    otherwise it spins ([`SPINS`] times), then counts itself as a sleeper
//!    (a compare-and-swap that adds one to the low bits), sleeps on the word
//!    (futex, under its ticket's wake bit, with a deadline), uncounts itself
//!    when it wakes, and looks again. Past its deadline it makes its own
//!    call instead.
//!
//! `seq` only ever goes up by a successful end or a start, and down by a
//! failed end right after its start, so reaching a ticket from the entry
//! value takes a successful end of a call whose start came after the entry.
//! An idle `seq` also gives a fresh ticket, `seq + 2`, valid for any waiter
//! that sees it: a waiter whose ticket is further ahead (the call it waited
//! behind failed) takes it, and needs one call, not two.
//!
//! # Waking
//!
//! A waiter sleeps only on a word in flight that does not cover it, so its
//! ticket is the end `E` of the call in flight or `E + 2`, that of the next
//! one (see [`covered`]). An end that finds sleepers counted wakes every
//! sleeper for `E` and *one* for `E + 2`, in case nobody else starts the
//! next call; the others sleep on through it (one wake per flush, not one
//! per call), still counted, so the next end wakes them. A failed end wakes
//! everyone. Where the kernel has no wake bits, every wake wakes everyone
//! (`wait.rs`).
//!
//! The count lives in the word, so "a sleeper is counted" and "the call
//! ended" are two read-modify-writes of one location: one of them comes
//! first in its modification order. Either the end reads the count and
//! wakes, or the sleeper's count was added to the ended word, so the word
//! it sleeps on is not in flight and the kernel's comparison (`futex`
//! compares and queues atomically with respect to wakes) sends it back to
//! look again. No bit is ever cleared by a separate step, so no stale
//! compare-and-swap (one delayed across a wrap of `seq`) can lose a wake.
//!
//! # Bounded waiting
//!
//! A waiter depends on the issuer of the call in flight, which may be a
//! low-priority thread, preempted, or stopped; the word names no owner, so
//! nothing can boost it. So every waiter carries a deadline,
//! [`WAIT_BOUND_NS`] after it first sleeps (the futex wait is given it; the
//! polling fallbacks check a clock), and past it makes its own call of the
//! barrier, without touching the word. It returns that call's result: its
//! own call started after it entered, so the rule holds. A waiter thus waits
//! at most the spins plus [`WAIT_BOUND_NS`] for others, then at most one
//! call of its own, which is what it would have cost without coalescing.
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
//!   covered from an Acquire load (or Acquire read-modify-write) of the
//!   word, which reads that end or a later read-modify-write in its release
//!   sequence.
//!
//! # Fork
//!
//! A child forked while another thread of the parent was inside a call
//! inherits "in flight" (and counted sleepers) with no thread to end it.
//! Each coalescer records the fork generation of the process its word
//! belongs to; the first caller in a child sees a different generation,
//! resets the word to idle, and only then lets callers use the protocol
//! (callers meanwhile make their own calls). See `fork.rs`.
//!
//! # Async-signal-safety
//!
//! [`Coalescer::run`] is **not** async-signal-safe. A signal handler that
//! calls it on a thread interrupted while issuing a protocol call would wait
//! for a call that only the interrupted code can end: it makes its own call
//! after [`WAIT_BOUND_NS`], so this costs a delay, not a deadlock, but only
//! in protocol mode (under load): a handler that works in a quiet test can
//! stall under load. The first use in a process calls `pthread_atfork`,
//! which allocates. A handler that forks and lets the child return into an
//! interrupted `run` leaves that thread inside a call or a wait of the
//! parent's: every caller records its process's fork generation at entry,
//! and one that finds it changed after its wait or call touches the word no
//! more (no uncount, no end, no wake) and returns its own call's result.
//! (The futex calls themselves are async-signal-safe.)

mod atomic;
mod fork;
mod wait;

use self::atomic::{AtomicU32, Ordering};

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// Test-only hook points, to force interleavings on real threads
/// (`tests.rs`): 1, after a waiter's entry; 2, after a successful end's
/// read-modify-write, before its wakes; 3, after its wakes. Compiled out
/// of everything but this crate's unit tests.
#[cfg(all(test, not(loom)))]
mod hooks {
    std::thread_local! {
        pub(super) static HOOK: core::cell::Cell<Option<fn(u8)>> = const { core::cell::Cell::new(None) };
    }
}

/// Calls this thread's test hook, if any, at `point`.
#[inline(always)]
fn hook(_point: u8) {
    #[cfg(all(test, not(loom)))]
    if let Some(f) = hooks::HOOK.with(|h| h.get()) {
        f(_point)
    }
}

/// Width of `seq`. It wraps; see [`covered`] for why that is safe. Under
/// loom, 3 bits (the fewest `covered` allows), so that the models wrap it
/// within a few calls.
const SEQ_BITS: u32 = if cfg!(loom) { 3 } else { 20 };
/// Where `seq` starts in the word: at the top, so that adding to it wraps
/// it without touching the sleeper count.
const SEQ_SHIFT: u32 = 32 - SEQ_BITS;
/// The largest `seq`; arithmetic on `seq` is modulo `SEQ_MAX + 1`.
const SEQ_MAX: u32 = (1 << SEQ_BITS) - 1;
/// One step of `seq`, in the word.
const ONE_SEQ: u32 = 1 << SEQ_SHIFT;
/// The low bit of `seq`, in the word: a call is in flight.
const IN_FLIGHT: u32 = ONE_SEQ;
/// Width of the sleeper count.
const SLEEPER_BITS: u32 = 12;
/// The sleeper count's bits; also the most sleepers counted at once (a
/// caller that would be one more makes its own call instead).
const SLEEPERS: u32 = (1 << SLEEPER_BITS) - 1;

// seq and the count do not overlap.
const _: () = assert!(SEQ_SHIFT >= SLEEPER_BITS);

/// How many times a waiter polls the word before sleeping on it (about a
/// microsecond of `spin_loop` hints): a barrier call takes microseconds, so
/// this only catches calls that are about to end. Under loom, one (the
/// path is explored; more polls only multiply the interleavings).
const SPINS: u32 = if cfg!(loom) { 1 } else { 100 };

/// The longest a waiter sleeps waiting for other threads' calls before it
/// makes its own: 50 µs. An uncontended `membarrier` SYNC_CORE takes about
/// 0.25 µs on the machine measured in docs/COALESCER.md, and a futex
/// wake-up a few µs, so a waiter that is served normally wakes well within
/// it; a preempted issuer is off its CPU for a scheduler slice
/// (milliseconds), so a waiter behind a descheduled, starved or stopped
/// issuer pays at most this, then its own call (and `run_adaptive` then
/// stops coalescing until calls overlap again). The cost of the choice: on
/// a machine where one call takes longer than this (many CPUs to
/// interrupt), waiters make their own calls and sharing disengages; the
/// flush then costs what an uncoalesced one does. Measured on this 2-vCPU
/// machine against 1 ms and 200 µs: the same or better throughput at K = 2
/// and 4 (docs/COALESCER.md).
pub(crate) const WAIT_BOUND_NS: u64 = 50_000;

/// `seq` of a word.
#[inline]
fn seq(word: u32) -> u32 {
    word >> SEQ_SHIFT
}

/// The sleepers counted in a word.
#[inline]
fn sleepers(word: u32) -> u32 {
    word & SLEEPERS
}

/// The ticket of a caller whose entry read `seq`: the value `seq` has when
/// the first call that starts after the entry has ended. From an idle (even)
/// `seq`, the next call ends at `seq + 2`; from an odd one, the call in
/// flight ends at `seq + 1` and the next one at `seq + 3`.
#[inline]
fn ticket(seq: u32) -> u32 {
    (seq.wrapping_add(3) & !1) & SEQ_MAX
}

/// How far `ticket` is ahead of `seq`, modulo `2^SEQ_BITS`.
#[inline]
fn ahead(seq: u32, ticket: u32) -> u32 {
    ticket.wrapping_sub(seq) & SEQ_MAX
}

/// Whether `seq` has reached `ticket`.
///
/// `seq` wraps, so this looks at how far the ticket is ahead of `seq`,
/// modulo `2^SEQ_BITS`. While a caller waits, the true `seq` is never below
/// its entry value minus one (a failed end follows its own start), and its
/// ticket is at most three above its entry value, so a ticket that has not
/// been reached is 1 to 4 ahead. Anything else means reached, however many
/// times `seq` wrapped meanwhile (a caller preempted for `2^(SEQ_BITS-1)`
/// calls): the answer "covered" is always right. The converse can err only
/// if `seq` passed the ticket by a multiple of `2^SEQ_BITS` minus 1 to 4;
/// then the caller waits for, or issues, at most two more calls, whose ends
/// wake it (a sleeper's ticket is always the end of the call in flight or of
/// the next one, which is what the targeted wakes of `wait.rs` rely on),
/// and never longer than its deadline.
#[inline]
fn covered(seq: u32, ticket: u32) -> bool {
    !(1..=4).contains(&ahead(seq, ticket))
}

/// Coalesces concurrent calls of a barrier: the protocol is described in
/// `src/coalesce/mod.rs`.
///
/// Not part of the crate's API (reachable only through the hidden
/// `__private` module, for the benchmarks).
pub struct Coalescer {
    /// `seq << SEQ_SHIFT | sleepers`: see the module docs.
    word: AtomicU32,
    /// The fork generation of the process `word` belongs to; with
    /// [`fork::ADOPTING`] while a caller resets it in a child (`fork.rs`).
    generation: AtomicU32,
    /// [`Coalescer::run_adaptive`]: nonzero while a caller is inside a call
    /// it made on its own (a hint: Relaxed, races only blur it).
    solo_busy: AtomicU32,
    /// [`Coalescer::run_adaptive`]: how many more calls go through the
    /// protocol; 0: each caller makes its own call (a hint).
    coalesce_for: AtomicU32,
    /// How long a waiter sleeps before its own call: [`WAIT_BOUND_NS`]
    /// (tests that hold a call on purpose make it longer).
    wait_bound_ns: u64,
    /// The model's futex behaviour (loom only: see `wait.rs`).
    #[cfg(loom)]
    model: wait::Model,
    /// Protocol calls in progress (loom only): the model asserts it never
    /// exceeds one.
    #[cfg(loom)]
    issuing: AtomicU32,
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
            generation: AtomicU32::new(fork::FIRST_GENERATION),
            solo_busy: AtomicU32::new(0),
            coalesce_for: AtomicU32::new(0),
            wait_bound_ns: WAIT_BOUND_NS,
        }
    }

    /// An idle coalescer whose waiters sleep up to `ns` before their own
    /// call (tests that hold a call in flight on purpose).
    #[cfg(all(test, not(loom)))]
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Linux-only tests
    pub(super) const fn with_wait_bound(ns: u64) -> Self {
        let mut c = Coalescer::new();
        c.wait_bound_ns = ns;
        c
    }

    /// An idle coalescer: nothing in flight, nobody waiting (loom's atomics
    /// cannot be built in a `const fn`).
    #[cfg(loom)]
    pub fn new() -> Self {
        Coalescer {
            word: AtomicU32::new(0),
            generation: AtomicU32::new(fork::FIRST_GENERATION),
            solo_busy: AtomicU32::new(0),
            coalesce_for: AtomicU32::new(0),
            wait_bound_ns: WAIT_BOUND_NS,
            model: wait::Model::default(),
            issuing: AtomicU32::new(0),
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
        let left = self.coalesce_for.load(Ordering::Relaxed);
        if left == 0 {
            if self.solo_busy.load(Ordering::Relaxed) != 0 {
                // Another caller is inside its own call: calls overlap.
                self.coalesce_for.store(COALESCE_RUNS, Ordering::Relaxed);
            }
            return self.run_solo(barrier);
        }
        let (result, path) = self.run_inner(barrier);
        if path == Path::OwnCall {
            // The call in flight outlived a waiter's deadline: its issuer
            // is descheduled, starved or stopped. Until calls are seen to
            // overlap again, every caller makes its own call, rather than
            // each waiting out a deadline behind the same stuck call.
            self.coalesce_for.store(0, Ordering::Relaxed);
        } else if path == Path::Contended {
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
    /// `barrier` is called at most once, on the calling thread: if this
    /// caller issues a protocol call, or makes its own call because it
    /// waited [`WAIT_BOUND_NS`] (or could not use the protocol: a child
    /// process being set up, the fork handler not registered, too many
    /// sleepers). It must not call `run` on the same coalescer.
    ///
    /// Uncontended (nothing in flight), this is one load, one
    /// compare-and-swap, the call and one more read-modify-write (and an
    /// Acquire load of the fork registration state, a load of the process's
    /// fork generation and an Acquire load of the coalescer's, see
    /// `fork.rs`); no system call besides
    /// the barrier's own unless a thread is asleep waiting.
    ///
    /// # Errors
    /// The error of `barrier` if this caller called it and it failed. A
    /// caller whose call was to be issued by another caller whose barrier
    /// fails is not covered by it: it retries, issuing a call itself if
    /// need be, so it returns `Ok` only after a successful covering call,
    /// or its own call's error.
    ///
    /// Not async-signal-safe: see the module docs.
    pub fn run<E>(&self, barrier: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        self.run_inner(barrier).0
    }

    /// This process's fork generation if it may use the protocol on this
    /// coalescer: the fork handler is registered and the word belongs to
    /// this process (adopting it if this is the first use in a forked
    /// child).
    #[inline]
    fn usable(&self) -> Option<u32> {
        if !fork::registered() {
            return None;
        }
        let now = fork::generation();
        // Acquire: pairs with the Release that ends an adoption, so the
        // reset word is what this thread's first access reads.
        let mine = self.generation.load(Ordering::Acquire);
        (mine == now || self.adopt(mine, now)).then_some(now)
    }

    /// Whether this thread's process is still the one whose generation
    /// `generation` was: not so in a child forked from a signal handler
    /// that then returned into this thread's `run` (see the module docs),
    /// where the word has been (or will be) reset and must not be touched.
    #[inline]
    fn same_process(generation: u32) -> bool {
        fork::generation() == generation
    }

    /// The first use of this coalescer in a forked child (generation `now`;
    /// the word belongs to generation `mine`): reset the word, which may say
    /// "in flight" or count sleepers of the parent that no thread here will
    /// end or wake. Returns whether the protocol may be used now (`false`
    /// while another thread is resetting it: no waiting for it).
    #[cold]
    fn adopt(&self, mine: u32, now: u32) -> bool {
        if mine == now | fork::ADOPTING {
            // Another thread of this process is resetting it.
            return false;
        }
        // (An ADOPTING mark of another generation was inherited from a
        // parent forked mid-adoption: nobody here will finish that one, so
        // it is adopted like any other generation's word.)
        if self
            .generation
            .compare_exchange(
                mine,
                now | fork::ADOPTING,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return false;
        }
        // Nobody in this process uses the word before the store below
        // publishes it (they all check the generation first), so a plain
        // store suffices; the Release store below publishes it.
        self.word.store(0, Ordering::Relaxed);
        self.generation.store(now, Ordering::Release);
        true
    }

    /// [`Coalescer::run`], and the path this caller took.
    fn run_inner<E>(&self, barrier: impl FnOnce() -> Result<(), E>) -> (Result<(), E>, Path) {
        let Some(generation) = self.usable() else {
            return (barrier(), Path::Uncontended);
        };

        // Fast path: nothing in flight, so the entry can be the start.
        // Relaxed: only a guess for the compare-and-swap, which orders.
        let mut w = self.word.load(Ordering::Relaxed);
        if w & IN_FLIGHT == 0 {
            // AcqRel on success: Release publishes this caller's writes,
            // Acquire receives those of everyone served (module docs).
            if self
                .word
                .compare_exchange(w, w + ONE_SEQ, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                return (
                    self.issue(seq(w + ONE_SEQ), generation, barrier),
                    Path::Uncontended,
                );
            }
        }

        // Entry: a read-modify-write that changes nothing, for its Release
        // (module docs). Its read need not acquire: a fresh ticket is never
        // covered by the value it was taken from.
        w = self.word.fetch_add(0, Ordering::Release);
        hook(1);
        let mut ticket = ticket(seq(w));
        let mut spins = 0;
        let mut deadline = wait::Deadline::new(self.wait_bound_ns);
        loop {
            // Every `w` examined below was read with Acquire, except the
            // entry's, for which this is false.
            if covered(seq(w), ticket) {
                return (Ok(()), Path::Contended);
            }
            if w & IN_FLIGHT == 0 {
                // Idle and not covered. The next call is as good as any
                // (it starts after now): two ahead means the call this
                // caller waited behind failed, and one call is enough.
                if ahead(seq(w), ticket) == 4 {
                    ticket = (ticket.wrapping_sub(2)) & SEQ_MAX;
                }
                // Issue the next call.
                match self.word.compare_exchange(
                    w,
                    w + ONE_SEQ,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        return (
                            self.issue(seq(w + ONE_SEQ), generation, barrier),
                            Path::Contended,
                        )
                    }
                    Err(now) => w = now,
                }
                continue;
            }
            // (SPINS is 1 under loom.)
            if spins < SPINS {
                spins += 1;
                wait::spin();
                w = self.word.load(Ordering::Acquire);
                continue;
            }
            if deadline.passed() || sleepers(w) == SLEEPERS {
                // Waited long enough for others (or no room to count this
                // caller): its own call, outside the protocol, covers it.
                return (barrier(), Path::OwnCall);
            }
            if !Self::same_process(generation) {
                // A forked child returned into this wait: count nothing
                // in the child's word.
                return (barrier(), Path::OwnCall);
            }
            // Count this caller as a sleeper, then sleep on the word it
            // counted itself in. Acquire: on failure the value read is
            // examined above.
            match self
                .word
                .compare_exchange(w, w + 1, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => {
                    let woke = wait::wait(self, w + 1, wait::bit(ticket), &mut deadline);
                    if !Self::same_process(generation) {
                        // A forked child returned into this wait: this
                        // thread's count belongs to the parent's word.
                        return (barrier(), Path::OwnCall);
                    }
                    // Uncount; Acquire: the value read is examined above.
                    w = self.word.fetch_sub(1, Ordering::Acquire) - 1;
                    spins = 0;
                    if !woke {
                        // The deadline passed while asleep.
                        if covered(seq(w), ticket) {
                            return (Ok(()), Path::Contended);
                        }
                        return (barrier(), Path::OwnCall);
                    }
                }
                Err(now) => w = now,
            }
        }
    }

    /// Runs `barrier` as the issuer of the call that made `seq` odd `s`
    /// (this thread's compare-and-swap), then ends it.
    #[inline]
    fn issue<E>(
        &self,
        s: u32,
        generation: u32,
        barrier: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        #[cfg(loom)]
        assert_eq!(
            self.issuing.fetch_add(1, Ordering::Relaxed),
            0,
            "two protocol calls in progress at once"
        );
        let mut flight = Flight {
            coalescer: self,
            seq: s,
            generation,
            succeeded: false,
        };
        let result = barrier();
        flight.succeeded = result.is_ok();
        drop(flight);
        result
    }
}

/// How a caller of [`Coalescer::run_inner`] was served.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    /// It found nothing in flight (or could not use the protocol) and made
    /// its call.
    Uncontended,
    /// It found a call in flight, and was served by a later call (its own
    /// or another's).
    Contended,
    /// Its deadline passed (or there was no room to count it) and it made
    /// its own call outside the protocol.
    OwnCall,
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
    /// The (odd) `seq` that started it.
    seq: u32,
    /// The fork generation of the process that started it.
    generation: u32,
    /// Whether the barrier returned `Ok`.
    succeeded: bool,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let c = self.coalescer;
        #[cfg(loom)]
        c.issuing.fetch_sub(1, Ordering::Relaxed);
        if !Coalescer::same_process(self.generation) {
            // A forked child returned into this call (module docs): its
            // word is the parent's copy, reset by (or for) the child.
            return;
        }
        // While a call is in flight nobody else changes `seq` (starts need
        // an idle word), only the sleeper count. Release: the call happens
        // before every waiter that sees its end. (`seq` is at the top of the
        // word: adding or subtracting wraps it and leaves the count.)
        if self.succeeded {
            let before = c.word.fetch_add(ONE_SEQ, Ordering::Release);
            debug_assert_eq!(seq(before), self.seq, "one issuer at a time");
            hook(2);
            if sleepers(before) != 0 {
                // Wake those this call covers, and one of those who need
                // the next call, in case nobody else starts it.
                let end = (self.seq + 1) & SEQ_MAX;
                wait::wake_ended(c, wait::bit(end), wait::bit((end + 2) & SEQ_MAX));
            }
            hook(3);
        } else {
            // The call never happened: seq goes back, and every sleeper
            // looks again (those it would have covered now need another).
            let before = c.word.fetch_sub(ONE_SEQ, Ordering::Release);
            debug_assert_eq!(seq(before), self.seq, "one issuer at a time");
            if sleepers(before) != 0 {
                wait::wake_all(c);
            }
        }
    }
}
