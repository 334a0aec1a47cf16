//! What [`pipeline_flush_mt`](crate::pipeline_flush_mt) does on this platform.

/// How [`pipeline_flush_mt`](crate::pipeline_flush_mt) makes other threads
/// stop executing stale instructions, as probed once per process and
/// reported by [`flush_mechanism`](crate::flush_mechanism).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlushMechanism {
    /// Nothing to do: instruction fetch is coherent with data stores
    /// (x86, x86_64, s390x) and [`pipeline_flush_mt`](crate::pipeline_flush_mt)
    /// is a no-op. Under Miri, which models no caches, too. (The Intel SDM's
    /// protocol for cross-modifying code also asks the *executing* thread to
    /// run a serialising instruction before it runs new code; like Wasmtime
    /// and V8, this crate leaves that out.)
    NotRequired,
    /// [`clear_cache`](crate::clear_cache) already synchronised every thread
    /// of the process: RISC-V Linux `riscv_flush_icache(start, end, 0)` makes
    /// every hart running this process execute `fence.i`.
    ByClearCache,
    /// Linux `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0)`:
    /// every running thread of the process takes an interrupt and executes a
    /// core-serialising instruction before the call returns; threads that are
    /// not running serialise when next scheduled. The full guarantee.
    MembarrierSyncCore,
    /// Linux `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)`, the fallback
    /// on kernels without SYNC_CORE (before 4.16, some sandboxes): a memory
    /// barrier on every running thread of the process, by interrupt. The
    /// interrupt return serialises the core on current arm64 and x86 kernels,
    /// but the kernel does not promise it.
    MembarrierPrivateExpedited,
    /// Linux `membarrier(MEMBARRIER_CMD_GLOBAL, 0, 0)`, the last fallback: a
    /// memory barrier on every thread in the system (by waiting for an RCU
    /// grace period, slow); no core-serialisation promise.
    MembarrierGlobal,
}

impl FlushMechanism {
    /// Whether every other thread is guaranteed to execute a
    /// core-serialising (context-synchronising) event, or to need none,
    /// before [`pipeline_flush_mt`](crate::pipeline_flush_mt) returns.
    pub const fn serialises_all_threads(self) -> bool {
        matches!(
            self,
            FlushMechanism::NotRequired
                | FlushMechanism::ByClearCache
                | FlushMechanism::MembarrierSyncCore
        )
    }

    /// A short stable name, e.g. `"membarrier-sync-core"`.
    pub const fn name(self) -> &'static str {
        match self {
            FlushMechanism::NotRequired => "not-required",
            FlushMechanism::ByClearCache => "by-clear-cache",
            FlushMechanism::MembarrierSyncCore => "membarrier-sync-core",
            FlushMechanism::MembarrierPrivateExpedited => "membarrier-private-expedited",
            FlushMechanism::MembarrierGlobal => "membarrier-global",
        }
    }
}
