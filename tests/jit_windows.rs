//! The Windows JIT test: code in memory from `VirtualAlloc`, switched
//! between writable and executable with `VirtualProtect`, made coherent with
//! `clear_cache` (`FlushInstructionCache`) and `pipeline_flush_mt`, and run.
//! CI runs it for `x86_64-pc-windows-gnu` under wine (`.ci/run`).

#![cfg(all(windows, target_arch = "x86_64", not(miri)))]

use core::ffi::c_void;
use icache_coherence::{clear_cache, flush_mechanism, pipeline_flush_mt, FlushMechanism};
use windows_sys::Win32::System::Memory::{
    VirtualAlloc, VirtualFree, VirtualProtect, MEM_COMMIT, MEM_RELEASE, MEM_RESERVE,
    PAGE_EXECUTE_READ, PAGE_PROTECTION_FLAGS, PAGE_READWRITE,
};

const PAGE: usize = 4096;

/// `mov eax, value; ret`.
fn return_const(value: u32) -> [u8; 6] {
    let v = value.to_le_bytes();
    [0xb8, v[0], v[1], v[2], v[3], 0xc3]
}

struct Page(*mut u8);

impl Page {
    fn new() -> Page {
        // SAFETY: a new private allocation; no existing memory is affected.
        let p = unsafe {
            VirtualAlloc(
                core::ptr::null(),
                PAGE,
                MEM_COMMIT | MEM_RESERVE,
                PAGE_READWRITE,
            )
        };
        assert!(!p.is_null(), "VirtualAlloc");
        Page(p.cast())
    }

    fn protect(&self, prot: PAGE_PROTECTION_FLAGS) {
        let mut old = 0;
        // SAFETY: our own committed page; `old` is valid for writes.
        let ok = unsafe { VirtualProtect(self.0.cast(), PAGE, prot, &mut old) };
        assert_ne!(ok, 0, "VirtualProtect");
    }

    fn install(&self, offset: usize, code: &[u8]) {
        self.protect(PAGE_READWRITE);
        assert!(offset + code.len() <= PAGE);
        // SAFETY: in bounds of our writable page (checked above).
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), self.0.add(offset), code.len()) };
        self.protect(PAGE_EXECUTE_READ);
        // SAFETY: the range is inside our committed, readable page.
        unsafe { clear_cache(self.0.add(offset) as *const c_void, code.len()) }
            .expect("clear_cache");
        pipeline_flush_mt().expect("pipeline_flush_mt");
    }

    fn call(&self, offset: usize) -> u32 {
        // SAFETY: `install` put a complete `fn() -> u32` at this offset and
        // made it executable and coherent.
        let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(self.0.add(offset)) };
        f()
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // SAFETY: our own allocation, no longer used.
        unsafe { VirtualFree(self.0.cast(), 0, MEM_RELEASE) };
    }
}

#[test]
fn rewrite_the_same_address_100_times() {
    let page = Page::new();
    for i in 0..100u32 {
        let value = 1000 + i;
        page.install(64, &return_const(value));
        assert_eq!(page.call(64), value, "generation {i}");
    }
}

#[test]
fn mechanism_on_windows_x86_64() {
    assert_eq!(
        icache_coherence::init().map(|r| r.mechanism),
        Ok(FlushMechanism::NotRequired)
    );
    assert_eq!(flush_mechanism(), Ok(Some(FlushMechanism::NotRequired)));
}

/// Prints the range it flushes, so that `.ci/wine-relay-check.sh` can find
/// the exact `FlushInstructionCache(GetCurrentProcess(), ptr, len)` call in
/// wine's relay log: proof of the call and its arguments.
#[test]
fn relay_probe() {
    let page = Page::new();
    let (ptr, len) = (page.0 as usize + 100, 200usize);
    // SAFETY: inside our committed, readable page.
    unsafe { clear_cache(ptr as *const c_void, len) }.expect("clear_cache");
    println!("icache-relay-expect FlushInstructionCache(ffffffffffffffff,{ptr:08x},{len:08x})");
}
