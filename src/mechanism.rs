//! What [`pipeline_flush_mt`](crate::pipeline_flush_mt) does on this platform.

/// How [`pipeline_flush_mt`](crate::pipeline_flush_mt) makes other threads
/// stop executing stale instructions, as probed once per process and
/// reported by [`flush_mechanism`](crate::flush_mechanism).
///
/// Only [`serialises_all_threads`](FlushMechanism::serialises_all_threads)
/// mechanisms make *every* thread safe to jump to new code with no action of
/// its own. With any other, the thread that runs code written by another
/// thread must synchronise its own instruction stream after it learns that
/// the code is ready and before it jumps: see
/// [`FlushMechanism::LocalSyncRequired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlushMechanism {
    /// No system call: instruction fetch is coherent with data stores (x86,
    /// x86_64, s390x), and under Miri, which models no caches.
    /// [`pipeline_flush_mt`](crate::pipeline_flush_mt) does nothing for
    /// other threads.
    ///
    /// This is what every x86 JIT and Wasmtime do, and the default policy
    /// keeps it. The Intel SDM (vol. 3A, 9.1.3 "Handling Self- and
    /// Cross-Modifying Code") formally asks more for *cross*-modifying
    /// code: the executing processor runs a serialising instruction between
    /// seeing that the code is ready and running it. So
    /// [`serialises_all_threads`](FlushMechanism::serialises_all_threads) is
    /// `false`, and who wants the SDM's rule gets it with
    /// [`FlushPolicy::Strict`](crate::FlushPolicy::Strict) (every thread,
    /// by `membarrier` SYNC_CORE on Linux; no code change, so it suits
    /// cranelift-jit) or with [`pipeline_flush_local`](crate::pipeline_flush_local)
    /// on the executing thread.
    NotRequired,
    /// [`clear_cache`](crate::clear_cache) already synchronised every thread
    /// of the process: RISC-V Linux `riscv_flush_icache(start, end, 0)` makes
    /// every hart running this process execute `fence.i`, and the kernel
    /// does so again for any hart the process later migrates to.
    ByClearCache,
    /// Linux `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0)`
    /// (and FreeBSD 14.1+'s compatible call): every running thread of the
    /// process takes an interrupt and executes a core-serialising instruction
    /// before the call returns; threads that are not running serialise when
    /// next scheduled. The full guarantee.
    MembarrierSyncCore,
    /// Linux `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)`, the fallback
    /// on kernels without SYNC_CORE (before 4.16, and sandboxes that refuse
    /// it but allow this, such as gVisor): a memory barrier on every running
    /// thread of the process, by interrupt. The interrupt return serialises
    /// the core on current arm64 and x86 kernels, but the kernel does not
    /// promise it.
    MembarrierPrivateExpedited,
    /// Linux `membarrier(MEMBARRIER_CMD_GLOBAL, 0, 0)`, the last fallback: a
    /// memory barrier on every thread in the system (by waiting for an RCU
    /// grace period, slow); no core-serialisation promise.
    MembarrierGlobal,
    /// Windows on AArch64: `FlushProcessWriteBuffers()`. Microsoft documents
    /// it as an inter-processor interrupt to every processor running the
    /// process that makes earlier writes visible to them; it does not
    /// document the interrupt as core serialisation, so this crate does not
    /// claim it (the exception return serialises AArch64 cores in practice,
    /// which is what Wasmtime relies on).
    FlushProcessWriteBuffers,
    /// No process-wide facility exists, or it must not be used, so
    /// [`pipeline_flush_mt`](crate::pipeline_flush_mt) does nothing and
    /// returns `Ok`. Each thread that runs code written by another thread
    /// must synchronise itself: after it has seen (with an acquire load) that
    /// the code is ready, and before it jumps to it, it executes an `ISB` on
    /// AArch64 (`fence.i` on RISC-V, a serialising instruction on x86),
    /// which is what [`pipeline_flush_local`](crate::pipeline_flush_local)
    /// does.
    ///
    /// Reported on Apple platforms (no documented cross-thread
    /// instruction-sync facility), on NetBSD and OpenBSD (no process-wide
    /// barrier), on FreeBSD before 14.1 (no `membarrier`), and on Android
    /// below API level 29, whose app seccomp policy kills a process that
    /// calls `membarrier`.
    LocalSyncRequired,
}

impl FlushMechanism {
    /// Whether every other thread is guaranteed to execute a
    /// core-serialising (context-synchronising) event before
    /// [`pipeline_flush_mt`](crate::pipeline_flush_mt) returns (or on its
    /// next scheduling), so that it may jump to new code with no action of
    /// its own. `true` for [`MembarrierSyncCore`](FlushMechanism::MembarrierSyncCore)
    /// and [`ByClearCache`](FlushMechanism::ByClearCache) only.
    pub const fn serialises_all_threads(self) -> bool {
        matches!(
            self,
            FlushMechanism::ByClearCache | FlushMechanism::MembarrierSyncCore
        )
    }

    /// What it means for the threads that run new code, in a few words:
    /// the text `Display` prints after the name.
    pub const fn meaning(self) -> &'static str {
        match self {
            FlushMechanism::NotRequired => {
                "coherent fetch; nothing is done for other threads, as in every x86 JIT and \
                 Wasmtime; on Linux FlushPolicy::Strict serialises every thread, as the Intel \
                 SDM formally asks"
            }
            FlushMechanism::ByClearCache => "clear_cache already synchronised every thread",
            FlushMechanism::MembarrierSyncCore => "every thread serialises",
            FlushMechanism::MembarrierPrivateExpedited => {
                "a barrier on every running thread; the kernel does not promise serialisation"
            }
            FlushMechanism::MembarrierGlobal => {
                "a memory barrier on every thread; no serialisation promise"
            }
            FlushMechanism::FlushProcessWriteBuffers => {
                "an interrupt of every processor running the process; not documented as \
                 serialising"
            }
            FlushMechanism::LocalSyncRequired => {
                "no process-wide facility here, or FlushPolicy::NoSyscalls forbids it: each thread that runs code another thread \
                 wrote calls pipeline_flush_local first"
            }
        }
    }

    /// A short stable name, e.g. `"membarrier-sync-core"`.
    pub const fn name(self) -> &'static str {
        match self {
            FlushMechanism::NotRequired => "not-required",
            FlushMechanism::ByClearCache => "by-clear-cache",
            FlushMechanism::MembarrierSyncCore => "membarrier-sync-core",
            FlushMechanism::MembarrierPrivateExpedited => "membarrier-private-expedited",
            FlushMechanism::MembarrierGlobal => "membarrier-global",
            FlushMechanism::FlushProcessWriteBuffers => "flush-process-write-buffers",
            FlushMechanism::LocalSyncRequired => "local-sync-required",
        }
    }
}

impl core::fmt::Display for FlushMechanism {
    /// The [`name`](FlushMechanism::name), then its
    /// [`meaning`](FlushMechanism::meaning) in parentheses.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({})", self.name(), self.meaning())
    }
}
