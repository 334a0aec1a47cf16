//! The one anonymous-mapping helper shared by the JIT tests and the count
//! driver (`examples/count_driver.rs`), each of which includes this file
//! with `#[path]`. (The probe, `icache-probe/`, has its own in `sys.rs`,
//! with the executable mapping `--verify` needs.)

/// A fresh, page-aligned, private anonymous mapping of `len` bytes, readable
/// and writable, with every page already faulted in, so that no page fault
/// lands inside a measurement or a counting window: `mmap` with
/// `MAP_POPULATE` on Linux, `VirtualAlloc(MEM_COMMIT | MEM_RESERVE)` then a
/// write per page elsewhere.
///
/// Panics if the OS refuses the mapping. The mapping is never released
/// unless the caller does it.
#[allow(dead_code)] // not every includer uses it on every target
pub fn map_anonymous(len: usize) -> *mut u8 {
    #[cfg(unix)]
    let p = {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let populate = libc::MAP_POPULATE;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let populate = 0;
        // SAFETY: a new anonymous private mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | populate,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED, "mmap of {len} bytes");
        p.cast::<u8>()
    };
    #[cfg(windows)]
    let p = {
        use windows_sys::Win32::System::Memory::{
            VirtualAlloc, MEM_COMMIT, MEM_RESERVE, PAGE_READWRITE,
        };
        // SAFETY: a new private allocation; no existing memory is affected.
        let p = unsafe {
            VirtualAlloc(
                core::ptr::null(),
                len,
                MEM_COMMIT | MEM_RESERVE,
                PAGE_READWRITE,
            )
        };
        assert!(!p.is_null(), "VirtualAlloc of {len} bytes");
        p.cast::<u8>()
    };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    for page in (0..len).step_by(4096) {
        // SAFETY: inside the fresh writable mapping.
        unsafe { p.add(page).write_volatile(0) };
    }
    p
}
