//! The crate's one macro: `cfg_table!`, which compiles the first branch
//! whose `cfg` holds and none of the others (the pattern of the `cfg-if`
//! crate, which this crate does not depend on). The backend table in
//! `os/mod.rs` and the per-architecture table in `arch/mod.rs` use it, so
//! that no list of `cfg`s is repeated to express "none of the above".

macro_rules! cfg_table {
    ($(if #[cfg($m:meta)] { $($i:item)* }) else+ else { $($e:item)* }) => {
        cfg_table! { @rows () ; $( ( ($m) ($($i)*) ), )+ ( () ($($e)*) ), }
    };
    (@rows ($($not:meta,)*) ; ) => {};
    (@rows ($($not:meta,)*) ; ( ($($m:meta),*) ($($i:item)*) ), $($rest:tt,)*) => {
        cfg_table! { @emit (all($($m,)* not(any($($not),*)))) $($i)* }
        cfg_table! { @rows ($($not,)* $($m,)*) ; $($rest,)* }
    };
    (@emit ($m:meta) $($i:item)*) => { $(#[cfg($m)] $i)* };
}

/// `clear_cache_ranges` for a backend with no batch facility of its own:
/// its `clear_cache` on each range, stopping at the first error.
#[allow(unused_macros)] // not every target has a backend without its own
macro_rules! default_clear_cache_ranges {
    () => {
        #[inline]
        pub(crate) unsafe fn clear_cache_ranges(
            ranges: impl Iterator<Item = crate::range::CodeRange> + Clone,
        ) -> Result<(), crate::Error> {
            for r in ranges {
                // SAFETY: the caller guarantees every range is mapped and readable.
                unsafe { clear_cache(r)? };
            }
            Ok(())
        }
    };
}

/// `clear_cache_ranges` for a backend whose `clear_cache` does nothing
/// (coherent instruction fetch): the ranges were checked by the caller
/// (`lib.rs`, `checked_ranges`), so there is nothing to walk.
#[allow(unused_macros)] // not every target has a coherent backend
macro_rules! coherent_clear_cache_ranges {
    () => {
        #[inline(always)]
        pub(crate) unsafe fn clear_cache_ranges(
            _ranges: impl Iterator<Item = crate::range::CodeRange> + Clone,
        ) -> Result<(), crate::Error> {
            Ok(())
        }
    };
}

/// `clear_cache_dual` for a backend whose maintenance is done by the OS by
/// virtual address (or is not needed): its `clear_cache` on the executed
/// alias. Data caches are physically tagged on every architecture this
/// serves, so cleaning through either alias cleans the same lines, and the
/// instruction cache is invalidated through the alias that runs.
#[allow(unused_macros)] // not every target has a backend without its own
macro_rules! default_clear_cache_dual {
    () => {
        #[inline]
        pub(crate) unsafe fn clear_cache_dual(
            _written: crate::range::CodeRange,
            executed: crate::range::CodeRange,
        ) -> Result<(), crate::Error> {
            // SAFETY: the caller guarantees both aliases are mapped and readable.
            unsafe { clear_cache(executed) }
        }
    };
}

/// `clear_cache_with` and `clear_cache_ranges_with` (AArch64) for a backend
/// that does not step by lines itself (the OS does, or nothing is done):
/// the given geometry is ignored and the call is exactly the probed one.
#[allow(unused_macros)] // used by the backends of some targets only
macro_rules! given_geometry_ignored {
    () => {
        #[cfg(target_arch = "aarch64")]
        #[inline]
        pub(crate) unsafe fn clear_cache_with(
            _g: &crate::CacheGeometry,
            range: crate::range::CodeRange,
        ) -> Result<(), crate::Error> {
            // SAFETY: the caller guarantees the range is mapped and readable.
            unsafe { clear_cache(range) }
        }

        #[cfg(target_arch = "aarch64")]
        #[inline]
        pub(crate) unsafe fn clear_cache_ranges_with(
            _g: &crate::CacheGeometry,
            ranges: impl Iterator<Item = crate::range::CodeRange> + Clone,
        ) -> Result<(), crate::Error> {
            // SAFETY: the caller guarantees every range is mapped and readable.
            unsafe { clear_cache_ranges(ranges) }
        }
    };
}

/// `flush_mechanism_peek` for a backend whose mechanism is never probed
/// (its `flush_mechanism_counted` makes no system call and changes no
/// state once the policy is in force, which `lib.rs` checks first): the
/// same answer.
#[allow(unused_macros)] // not every target has such a backend
macro_rules! mechanism_not_probed {
    () => {
        #[inline]
        pub(crate) fn flush_mechanism_peek() -> Option<Result<crate::FlushMechanism, crate::Error>>
        {
            Some(flush_mechanism_counted().0)
        }
    };
}
