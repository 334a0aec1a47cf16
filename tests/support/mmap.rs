//! The one anonymous-mapping helper shared by the JIT tests, the count
//! driver (`examples/count_driver.rs`) and the probe (`src/bin/icache-probe.rs`),
//! each of which includes this file with `#[path]`.

/// A fresh, page-aligned, private anonymous mapping of `len` bytes, readable
/// and writable, with every page already faulted in (`MAP_POPULATE`), so that
/// no page fault lands inside a measurement or a counting window.
///
/// Panics if the kernel refuses the mapping. The mapping is never unmapped
/// unless the caller does it (`munmap(ptr, len)`).
pub fn map_anonymous(len: usize) -> *mut u8 {
    // SAFETY: a new anonymous private mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap of {len} bytes");
    p.cast()
}
