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
    println!("ok");
}
