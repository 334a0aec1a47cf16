//! The hot paths as standalone, never-inlined symbols, so that
//! `.ci/asm-listings.py` can disassemble them and compare them with the
//! reviewed listings in `asm/`. Not a user example.
//!
//! Each wrapper is what a JIT's call site compiles to: the public function,
//! inlined into a caller that passes its arguments through.

use core::ffi::c_void;

/// `clear_cache` with the geometry probed once per process.
///
/// # Safety
/// As `icache_coherence::clear_cache`.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn listing_clear_cache(ptr: *const c_void, len: usize) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { icache_coherence::clear_cache(ptr, len) }.is_ok()
}

/// `clear_cache_with` a given geometry (AArch64 only).
///
/// # Safety
/// As `icache_coherence::clear_cache_with`.
#[cfg(target_arch = "aarch64")]
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn listing_clear_cache_with(
    g: &icache_coherence::CacheGeometry,
    ptr: *const c_void,
    len: usize,
) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { icache_coherence::clear_cache_with(g, ptr, len) }.is_ok()
}

/// `pipeline_flush_mt`.
#[no_mangle]
#[inline(never)]
pub extern "C" fn listing_pipeline_flush_mt() -> bool {
    icache_coherence::pipeline_flush_mt().is_ok()
}

/// `clear_cache_dual`: D lines through one alias, I lines through the other.
///
/// # Safety
/// As `icache_coherence::clear_cache_dual`.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn listing_clear_cache_dual(
    written: *const c_void,
    executed: *const c_void,
    len: usize,
) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { icache_coherence::clear_cache_dual(written, executed, len) }.is_ok()
}

/// `clear_cache_ranges` over a slice.
///
/// # Safety
/// As `icache_coherence::clear_cache_ranges`.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn listing_clear_cache_ranges(
    ranges: *const (*const c_void, usize),
    n: usize,
) -> bool {
    // SAFETY: forwarded from the caller (a valid slice of `n` ranges).
    unsafe { icache_coherence::clear_cache_ranges(core::slice::from_raw_parts(ranges, n)) }.is_ok()
}

/// `pipeline_flush_local`: one instruction on aarch64 (`ISB`), riscv64
/// (`FENCE.I`) and s390x (`BCR 15,0`); on x86_64 a load of the cached
/// CPUID answer, a compare, then `SERIALIZE` (or `CPUID`).
#[no_mangle]
#[inline(never)]
pub extern "C" fn listing_pipeline_flush_local() {
    icache_coherence::pipeline_flush_local()
}

fn main() {
    // Called through opaque pointers, so the linker keeps each symbol and the
    // optimiser cannot fold it into `main`; run, so each is known to work.
    use std::hint::black_box;
    let code = [0u8; 64];
    let clear = black_box(listing_clear_cache as unsafe extern "C" fn(_, _) -> _);
    // SAFETY: `code` is readable.
    assert!(unsafe { clear(code.as_ptr().cast(), code.len()) });
    #[cfg(target_arch = "aarch64")]
    {
        let g = icache_coherence::CacheGeometry::new(64, 64, false, false).unwrap();
        let with = black_box(listing_clear_cache_with as unsafe extern "C" fn(_, _, _) -> _);
        // SAFETY: `code` is readable; 64-byte lines stay inside its pages.
        assert!(unsafe { with(&g, code.as_ptr().cast(), code.len()) });
    }
    let flush = black_box(listing_pipeline_flush_mt as extern "C" fn() -> bool);
    assert!(flush());
    let dual = black_box(listing_clear_cache_dual as unsafe extern "C" fn(_, _, _) -> _);
    // SAFETY: `code` is readable (both "aliases" are the same memory).
    assert!(unsafe { dual(code.as_ptr().cast(), code.as_ptr().cast(), code.len()) });
    let ranges = [
        (code.as_ptr().cast::<c_void>(), 16),
        (code[32..].as_ptr().cast(), 16),
    ];
    type Batch = unsafe extern "C" fn(*const (*const c_void, usize), usize) -> bool;
    let batch = black_box(listing_clear_cache_ranges as Batch);
    // SAFETY: both ranges lie in `code`.
    assert!(unsafe { batch(ranges.as_ptr(), ranges.len()) });
    black_box(listing_pipeline_flush_local as extern "C" fn())();
    println!("ok");
}
