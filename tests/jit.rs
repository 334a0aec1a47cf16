//! The JIT test: write machine code, make it coherent, run it. Natively on
//! x86_64; under QEMU on aarch64, arm, riscv64 and s390x (see `.cargo/config.toml`).
//!
//! QEMU keeps its translated code coherent by itself, so passing here proves
//! the code runs and the system calls succeed with these exact arguments,
//! not that the cache maintenance is sufficient; that is proved by the pure
//! line tests and by counting executed maintenance instructions (`.ci/`).

// Not under Miri, which cannot execute machine code (CI says so in its log).
#![cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]

use core::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use icache_coherence::{clear_cache, pipeline_flush_mt};

#[path = "support/jit.rs"]
mod jit;
#[path = "support/mmap.rs"]
mod support;
use jit::{return_const, DualMapping};

const PAGE: usize = 4096;

/// One anonymous page, toggled between writable and executable (W^X).
struct Page(*mut u8);

impl Page {
    fn new() -> Page {
        Page(support::map_anonymous(PAGE))
    }

    fn protect(&self, prot: i32) {
        // SAFETY: `self.0` is our own page-aligned mapping of PAGE bytes.
        assert_eq!(
            unsafe { libc::mprotect(self.0.cast(), PAGE, prot) },
            0,
            "mprotect"
        );
    }

    /// Writes `code` at `offset`, makes the page executable and coherent.
    fn install(&self, offset: usize, code: &[u8]) {
        self.protect(libc::PROT_READ | libc::PROT_WRITE);
        assert!(offset + code.len() <= PAGE);
        // SAFETY: in bounds of our writable page (checked above).
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), self.0.add(offset), code.len()) };
        self.protect(libc::PROT_READ | libc::PROT_EXEC);
        // SAFETY: the range is inside our mapped, readable page.
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
        // SAFETY: our own mapping, no longer used.
        unsafe { libc::munmap(self.0.cast(), PAGE) };
    }
}

#[test]
fn write_flush_call() {
    let page = Page::new();
    page.install(0, &return_const(42));
    assert_eq!(page.call(0), 42);
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

/// Code at an unaligned offset that straddles a 64-byte line boundary.
#[test]
fn code_straddling_a_line_boundary() {
    let page = Page::new();
    for offset in [56, 60, 124, 252] {
        page.install(offset, &return_const(offset as u32));
        assert_eq!(page.call(offset), offset as u32);
    }
}

/// How new code reaches the worker threads.
#[derive(Clone, Copy, PartialEq)]
enum Protocol {
    /// The writer calls `pipeline_flush_mt` before publishing.
    FlushAll,
    /// The writer only publishes (release); each worker calls
    /// `pipeline_flush_local` after its acquire load, before it jumps.
    LocalSync,
}

#[test]
fn threads_only_run_published_code() {
    threads_only_run_published_code_with(Protocol::FlushAll);
}

#[test]
fn threads_only_run_published_code_local_sync() {
    threads_only_run_published_code_with(Protocol::LocalSync);
}

/// Workers keep calling the current code while one thread writes each new
/// version (at a fresh address, as a JIT tiering up does), makes it coherent
/// with `clear_cache_dual` (written through the RW alias, run through the
/// RX alias), then either flushes every pipeline or leaves it to the
/// workers' `pipeline_flush_local`, and only then publishes it. Every result
/// a worker sees must be exactly the value of the version it called.
fn threads_only_run_published_code_with(protocol: Protocol) {
    const WORKERS: usize = 3;
    const SLOT: usize = 16;
    const VERSIONS: usize = 200;
    let map = Arc::new(DualMapping::new(PAGE * 2));
    assert!(VERSIONS * SLOT <= map.len);

    let write = |version: usize| -> *mut u8 {
        let code = return_const(version as u32 + 1);
        // SAFETY: slot `version` lies inside the mapping and no thread runs it yet.
        unsafe {
            core::ptr::copy_nonoverlapping(code.as_ptr(), map.rw.add(version * SLOT), code.len());
            let rw = map.rw.add(version * SLOT);
            let rx = map.rx.add(version * SLOT);
            // D lines cleaned through the alias written, I lines invalidated
            // through the alias run.
            icache_coherence::clear_cache_dual(
                rw as *const c_void,
                rx as *const c_void,
                code.len(),
            )
            .unwrap();
            rx
        }
    };

    let current = Arc::new(AtomicPtr::new(write(0)));
    pipeline_flush_mt().unwrap();
    let published = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU32::new(0));

    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (current, published, done, calls, map) = (
                current.clone(),
                published.clone(),
                done.clone(),
                calls.clone(),
                map.clone(),
            );
            std::thread::spawn(move || {
                let mut last_seen = 0;
                // At least one call each, including after the last version.
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let code = current.load(Ordering::Acquire);
                    if protocol == Protocol::LocalSync {
                        icache_coherence::pipeline_flush_local();
                    }
                    let version = (code as usize - map.rx as usize) / SLOT;
                    // SAFETY: `code` was published only after it was written,
                    // made coherent and every pipeline was flushed.
                    let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(code) };
                    let got = f();
                    assert_eq!(got, version as u32 + 1, "ran version {version}");
                    assert!(version <= published.load(Ordering::Acquire));
                    assert!(version >= last_seen, "versions never go back");
                    last_seen = version;
                    calls.fetch_add(1, Ordering::Relaxed);
                    if finished {
                        break;
                    }
                }
            })
        })
        .collect();

    for version in 1..VERSIONS {
        let code = write(version);
        if protocol == Protocol::FlushAll {
            pipeline_flush_mt().unwrap();
        }
        published.store(version, Ordering::Release);
        current.store(code, Ordering::Release);
        std::thread::yield_now();
    }
    done.store(true, Ordering::Release);
    for w in workers {
        w.join().expect("a worker saw unpublished or stale code");
    }
    assert!(
        calls.load(Ordering::Relaxed) >= WORKERS as u32,
        "every worker ran at least once"
    );
}

/// A real dual mapping rewritten 100 times: stored through the RW alias,
/// made coherent with `clear_cache_dual`, run through the RX alias.
///
/// Natively (x86_64) every version goes to the same address. Under QEMU user
/// mode (every other architecture in this project's CI) each version goes to
/// a fresh address: QEMU notices writes only through the page it translated
/// from, so code rewritten through the other alias keeps running QEMU's stale
/// translation whatever maintenance the guest does (measured with QEMU 7.2).
/// There the maintenance itself is checked by the addresses each `DC`/`IC`
/// received (`.ci/qemu-counts.py`).
#[test]
fn dual_mapping_rewrite_100_times() {
    const SLOT: usize = 16;
    let map = DualMapping::new(PAGE * 2);
    let same_address = cfg!(target_arch = "x86_64");
    for i in 0..100usize {
        let value = 500 + i as u32;
        let code = return_const(value);
        let offset = if same_address { 64 } else { i * SLOT };
        assert!(offset + code.len() <= map.len);
        // SAFETY: inside both aliases; no other thread runs this code.
        let got = unsafe {
            core::ptr::copy_nonoverlapping(code.as_ptr(), map.rw.add(offset), code.len());
            icache_coherence::clear_cache_dual(
                map.rw.add(offset) as *const c_void,
                map.rx.add(offset) as *const c_void,
                code.len(),
            )
            .unwrap();
            let f: extern "C" fn() -> u32 = core::mem::transmute(map.rx.add(offset));
            f()
        };
        assert_eq!(got, value, "version {i}");
    }
}
