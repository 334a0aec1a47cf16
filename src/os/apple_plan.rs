//! The libSystem calls the Apple backend makes, as data: a pure function of
//! the ranges, executed by `os/apple.rs` call by call and tested on every
//! host.

use crate::range::CodeRange;

/// One libSystem call (`<libkern/OSCacheControl.h>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// `sys_icache_invalidate(start, len)`.
    IcacheInvalidate { start: usize, len: usize },
}

/// The calls for a dual mapping: `sys_icache_invalidate(executed)` alone.
///
/// No `sys_dcache_flush(written)`: on arm64 libplatform's
/// `sys_dcache_flush` is one `dsb ish`, which `sys_icache_invalidate`
/// issues anyway before its `IC IVAU` loop (Apple's cores need no `DC CVAU`
/// for instruction fetch: the loop has none, by address of either alias);
/// on x86_64 it is `CLFLUSH` per line, which evicts
/// the fresh code from every cache level for nothing (instruction fetch is
/// coherent there and `sys_icache_invalidate` is a bare `ret`).
/// libplatform `src/cachecontrol/{arm64,x86_64}/cache.s`.
pub(crate) fn dual(_written: CodeRange, executed: CodeRange) -> [Call; 1] {
    [Call::IcacheInvalidate {
        start: executed.start(),
        len: executed.len(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Before this, the Apple backend also called `sys_dcache_flush` on the
    /// written alias (harmful on x86_64 Macs, redundant on arm64).
    #[test]
    fn dual_invalidates_the_executed_alias_only() {
        let w = CodeRange::new(0x1000, 300).unwrap().unwrap();
        let x = CodeRange::new(0x7f00_0000, 300).unwrap().unwrap();
        assert_eq!(
            dual(w, x),
            [Call::IcacheInvalidate {
                start: 0x7f00_0000,
                len: 300
            }]
        );
        // Equal aliases: the same single call.
        assert_eq!(dual(x, x), dual(w, x));
    }
}
