//! A complete, minimal JIT for Linux on x86_64, aarch64, riscv64 and s390x,
//! using icache-coherence the recommended way. Copy it.
//!
//! ```text
//! cargo run --example jit                                        # this machine
//! cargo run --target aarch64-unknown-linux-gnu --example jit     # under QEMU
//! cargo run --target riscv64gc-unknown-linux-gnu --example jit
//! cargo run --target s390x-unknown-linux-gnu --example jit
//! ```
//!
//! It maps a page, writes `fn() -> u32 { 1 }` as machine code for the
//! architecture it runs on (the one part that differs: [`return_const`]),
//! makes it executable, makes it coherent
//! ([`clear_cache`](icache_coherence::clear_cache)) and runs it on another
//! thread, published with
//! [`pipeline_flush_mt`](icache_coherence::pipeline_flush_mt). Then it
//! rewrites the code at the same address to return 2 and runs it again,
//! published the other way: release/acquire and
//! [`pipeline_flush_local`](icache_coherence::pipeline_flush_local) on the
//! running thread, with no system call.
//!
//! What the two calls do on each:
//! - aarch64: `clear_cache` cleans the data cache and invalidates the
//!   instruction cache by line (`DC CVAU`, `IC IVAU`); `pipeline_flush_mt` is
//!   one `membarrier(PRIVATE_EXPEDITED_SYNC_CORE)`.
//! - riscv64: `clear_cache` is `riscv_flush_icache` for every thread of the
//!   process, so `pipeline_flush_mt` has nothing left to do.
//! - x86_64, s390x: fetch is coherent, so `clear_cache` only checks the
//!   range and `pipeline_flush_mt` does nothing under the default policy
//!   (as every x86 JIT does). The Intel SDM formally asks the executing
//!   processor to serialise: here the runner thread does it itself with
//!   `pipeline_flush_local` (`SERIALIZE` or `CPUID`; `BCR 15,0` on s390x);
//!   `init_with(FlushPolicy::Strict)` would do it for every thread.
//!
//! (The `--target` forms run under QEMU through `.cargo/config.toml`'s
//! runners.)

#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "s390x"
    )
))]
fn main() -> std::io::Result<()> {
    jit::main()
}

#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "s390x"
    )
)))]
fn main() {
    println!(
        "this example writes x86_64, aarch64, riscv64 or s390x machine code on Linux; \
         this is {} {}. Run it with one of the --target forms in its header.",
        std::env::consts::ARCH,
        std::env::consts::OS
    );
}

/// `extern "C" fn() -> u32 { value }` as this architecture's machine code.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn return_const(value: u32) -> Vec<u8> {
    // mov eax, imm32 (B8 + little-endian imm32); ret (C3)
    let mut code = vec![0xb8];
    code.extend_from_slice(&value.to_le_bytes());
    code.push(0xc3);
    code
}

/// Fixed-width little-endian instructions (aarch64, riscv64) as bytes.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "aarch64", target_arch = "riscv64")
))]
fn le_words(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// `extern "C" fn() -> u32 { value }` as this architecture's machine code.
#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
fn return_const(value: u32) -> Vec<u8> {
    assert!(value < 1 << 16, "fits the immediate");
    // movz w0, #value; ret
    le_words(&[0x5280_0000 | (value << 5), 0xd65f_03c0])
}

/// `extern "C" fn() -> u32 { value }` as this architecture's machine code.
#[cfg(all(target_os = "linux", target_arch = "riscv64"))]
fn return_const(value: u32) -> Vec<u8> {
    assert!(value < 2048, "fits the immediate");
    // addi a0, zero, value (li a0, value); jalr zero, 0(ra) (ret)
    le_words(&[0x0000_0513 | (value << 20), 0x0000_8067])
}

/// `extern "C" fn() -> u32 { value }` as this architecture's machine code.
#[cfg(all(target_os = "linux", target_arch = "s390x"))]
fn return_const(value: u32) -> Vec<u8> {
    assert!(value < 1 << 15, "fits the immediate");
    // lghi %r2, value (A7 29 imm16, big-endian); br %r14 (07 FE)
    let v = (value as u16).to_be_bytes();
    vec![0xa7, 0x29, v[0], v[1], 0x07, 0xfe]
}

#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "s390x"
    )
))]
mod jit {
    use std::io;
    use std::sync::mpsc;

    use super::return_const;
    use icache_coherence::{clear_cache, pipeline_flush_local, pipeline_flush_mt};

    /// One page of JIT code, never writable and executable at once (W^X).
    struct CodePage {
        ptr: *mut u8,
        len: usize,
    }

    impl CodePage {
        fn new() -> io::Result<CodePage> {
            // SAFETY: sysconf has no preconditions.
            let len = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
            // SAFETY: a new private anonymous mapping; no existing memory is affected.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if ptr == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            Ok(CodePage {
                ptr: ptr.cast(),
                len,
            })
        }

        fn protect(&self, prot: libc::c_int) -> io::Result<()> {
            // SAFETY: our own page-aligned mapping of `len` bytes.
            match unsafe { libc::mprotect(self.ptr.cast(), self.len, prot) } {
                0 => Ok(()),
                _ => Err(io::Error::last_os_error()),
            }
        }

        /// Writes `code` at the start of the page, makes it executable, and
        /// makes it coherent for this thread and for instruction fetch on
        /// every core. No thread may be running the page's old code.
        fn install(&self, code: &[u8]) -> io::Result<()> {
            assert!(code.len() <= self.len);
            self.protect(libc::PROT_READ | libc::PROT_WRITE)?;
            // SAFETY: in bounds (checked above) of our now writable page.
            unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), self.ptr, code.len()) };
            // Keep PROT_READ: clear_cache reads the range (DC CVAU on AArch64).
            self.protect(libc::PROT_READ | libc::PROT_EXEC)?;
            // SAFETY: the range is inside our mapped, readable page.
            unsafe { clear_cache(self.ptr.cast(), code.len())? };
            Ok(())
        }

        fn entry(&self) -> extern "C" fn() -> u32 {
            // SAFETY: `install` put a complete `extern "C" fn() -> u32` at the
            // start of the page; callers call it only after it is coherent.
            unsafe { std::mem::transmute::<*mut u8, extern "C" fn() -> u32>(self.ptr) }
        }
    }

    impl Drop for CodePage {
        fn drop(&mut self) {
            // SAFETY: our own mapping; no thread runs its code any more.
            unsafe { libc::munmap(self.ptr.cast(), self.len) };
        }
    }

    /// What the writer sends the runner thread. A channel's send and receive
    /// are a release store and an acquire load: everything the writer did
    /// before `send` (the code, `clear_cache`) is visible after `recv`.
    enum Job {
        /// Run the code; the writer already called `pipeline_flush_mt`.
        AfterFlushMt(extern "C" fn() -> u32),
        /// Run the code after `pipeline_flush_local` on this thread.
        AfterLocalSync(extern "C" fn() -> u32),
    }

    pub fn main() -> io::Result<()> {
        // Eager initialisation before any thread exists: registers the
        // process-wide flush (membarrier on Linux) while it is cheapest.
        let report = icache_coherence::init()?;
        let mechanism = report.mechanism;
        println!("icache-coherence: {mechanism}");

        // A thread that runs whatever code it is sent, and was running
        // before the code was written: its pipeline may hold stale
        // instructions.
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (result_tx, results) = mpsc::channel::<u32>();
        let runner = std::thread::spawn(move || {
            for job in job_rx {
                let f = match job {
                    // With a mechanism that serialises every thread
                    // (membarrier SYNC_CORE; RISC-V's clear_cache) the
                    // writer's pipeline_flush_mt was enough. Otherwise
                    // the runner serialises itself: required where the
                    // mechanism is local-sync-required (Apple, NetBSD,
                    // OpenBSD); on x86 and s390x what the Intel SDM
                    // formally asks, and what FlushPolicy::Strict would do
                    // for every thread instead (the default, like every
                    // x86 JIT, does nothing).
                    Job::AfterFlushMt(f) => {
                        if !mechanism.serialises_all_threads() {
                            pipeline_flush_local();
                        }
                        f
                    }
                    Job::AfterLocalSync(f) => {
                        pipeline_flush_local();
                        f
                    }
                };
                result_tx.send(f()).unwrap();
            }
        });

        let page = CodePage::new()?;

        // 1. Write, make coherent, publish with pipeline_flush_mt.
        page.install(&return_const(1))?;
        pipeline_flush_mt()?;
        jobs.send(Job::AfterFlushMt(page.entry())).unwrap();
        assert_eq!(results.recv().unwrap(), 1);
        // The writing thread: clear_cache already synchronised it.
        assert_eq!(page.entry()(), 1);
        println!(
            "{:p}: returns 1 (published with pipeline_flush_mt)",
            page.ptr
        );

        // 2. Rewrite at the same address (nothing runs it meanwhile: the
        // runner is waiting for its next job), publish with release/acquire
        // and pipeline_flush_local: no system call.
        page.install(&return_const(2))?;
        jobs.send(Job::AfterLocalSync(page.entry())).unwrap();
        assert_eq!(results.recv().unwrap(), 2);
        assert_eq!(page.entry()(), 2);
        println!(
            "{:p}: rewritten, returns 2 (published with release/acquire + pipeline_flush_local)",
            page.ptr
        );

        drop(jobs);
        runner.join().unwrap();
        Ok(())
    }
}
