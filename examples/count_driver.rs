//! The program `.ci/qemu-counts.py` runs under QEMU to count what each
//! operation executes. Not a user example: a measuring instrument.
//!
//! - `windows`: runs each maintenance scenario between two marker
//!   instructions (no-ops to the CPU: `hint #126`/`hint #127` on AArch64,
//!   `slti zero, zero, 126`/`127` on riscv64, both HINT encodings) and
//!   prints one line per window to stdout: `NAME CTR_EL0 OP...`, CTR_EL0 in
//!   hex (`-` on riscv64), each OP one call made in the window:
//!   - `c:PTR:LEN`: `clear_cache` (or `clear_cache_with` the given CTR_EL0);
//!   - `b:PTR:LEN,PTR:LEN,...`: one `clear_cache_ranges` (or `_with`) of
//!     those ranges (`b:` alone: an empty slice);
//!   - `d:WRITTEN:EXECUTED:LEN`: `clear_cache_dual`;
//!   - `l`: `pipeline_flush_local`;
//!   - `W:PTR:LEN`, `K:PTR:LEN` (AArch64): the peers' `clear_cache`
//!     (`wasmtime-internal-jit-icache-coherence`, `clear-cache`), for the
//!     side-by-side table.
//!
//!   `windows peers`: only the wasmtime windows. (This file is also the
//!   `count_driver` of `peers/Cargo.toml`, built with Rust 1.97 against
//!   Wasmtime 50.0.x; there the wasmtime peer is named `wasmtime-50`, here
//!   `wasmtime-48`: see [`WASMTIME`].)
//!
//!   The TCG plugin `tests/qemu/insn_count.c` prints, per window, how many
//!   `DC CVAU`, `IC IVAU`, `DSB ISH`, `ISB` and `FENCE.I` ran, and how many
//!   instructions of any kind.
//! - `ecall-sites` (riscv64): prints the address of every `ECALL` in
//!   every executable mapping (the C library's included), so QEMU can log
//!   the registers of each system call (`-singlestep -d cpu -dfilter`):
//!   QEMU handles `riscv_flush_icache` itself, without -strace or the
//!   plugin's system-call callback seeing it, and `.ci/qemu-counts.py`
//!   reads its flags (`a2`) from that log.
//!
//!   On x86_64 (markers `nop dword ptr [rax + 0x7e]`/`[rax + 0x7f]`) the
//!   windows are `local-sync`, `local-sync-x3`, `dual-same-4k` and
//!   `dual-aliases-4k`, and the plugin counts `IRETQ`, `SERIALIZE` and
//!   `CPUID`: the serialising instruction must run once per
//!   `pipeline_flush_local` and per `clear_cache_dual` through two
//!   aliases, never for equal ones.
//! - `sites` (AArch64): prints the address, kind and register of every
//!   `DC CVAU`, `IC IVAU`, `DSB ISH`, `ISB` and window marker in this
//!   program's code, so QEMU can log the register each one received
//!   (`-singlestep -d cpu -dfilter`) and the order they ran in.
//! - For `-strace` counts:
//!   - `baseline`: nothing;
//!   - `flush N`: `pipeline_flush_mt()` N times;
//!   - `init-flush N`: `init()`, then `pipeline_flush_mt()` N times;
//!   - `init-twice`: `init()` twice; prints each report's `syscalls`;
//!   - `clear N`: `clear_cache` of 4 KiB N times;
//!   - `local N`: `pipeline_flush_local()` N times;
//!   - `wasmtime-flush N`: the wasmtime crate's `pipeline_flush_mt()` N
//!     times; `peer-clear W|K N`: wasmtime's or clear-cache's
//!     `clear_cache` of 4 KiB N times (aarch64, riscv64).
//! - `race N` (for the plugin's per-thread `MRS CTR_EL0` count): N threads
//!   released at once by a barrier, each calling `cache_geometry()`,
//!   `clear_cache` of 4 KiB and `pipeline_flush_mt()` as its first use of
//!   the crate; prints `race threads=N`.

use core::ffi::c_void;
use std::process::ExitCode;

use icache_coherence::{clear_cache, init, pipeline_flush_local, pipeline_flush_mt};

#[path = "../tests/support/mmap.rs"]
mod mmap;
use mmap::map_anonymous as buffer;

/// The wasmtime peer's name in window names: `wasmtime-48` in this crate
/// (its dev-dependency, 48.0.x, what 49.0.x also is), `wasmtime-50` when
/// `peers/Cargo.toml` builds this file against 50.0.x.
#[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
const WASMTIME: &str = match env!("CARGO_PKG_NAME").as_bytes() {
    b"icache-coherence" => "wasmtime-48",
    _ => "wasmtime-50",
};

fn count_arg(args: &[String]) -> usize {
    args.get(2).and_then(|s| s.parse().ok()).expect("a count")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("baseline") => {}
        Some("flush") => {
            for _ in 0..count_arg(&args) {
                pipeline_flush_mt().expect("pipeline_flush_mt");
            }
        }
        Some("init-flush") => {
            let n = count_arg(&args);
            let report = init().expect("init");
            println!("init syscalls={}", report.syscalls);
            for _ in 0..n {
                pipeline_flush_mt().expect("pipeline_flush_mt");
            }
        }
        Some("init-twice") => {
            for _ in 0..2 {
                let report = init().expect("init");
                println!("init syscalls={}", report.syscalls);
            }
        }
        Some("clear") => {
            let buf = buffer(4096);
            for _ in 0..count_arg(&args) {
                // SAFETY: 4096 mapped, readable bytes.
                unsafe { clear_cache(buf as *const c_void, 4096) }.expect("clear_cache");
            }
        }
        Some("race") => {
            let n = count_arg(&args);
            let buf = buffer(4096) as usize;
            let start = std::sync::Arc::new(std::sync::Barrier::new(n));
            let threads: Vec<_> = (0..n)
                .map(|_| {
                    let start = start.clone();
                    std::thread::spawn(move || {
                        start.wait();
                        icache_coherence::cache_geometry().expect("cache_geometry");
                        // SAFETY: 4096 mapped, readable bytes.
                        unsafe { clear_cache(buf as *const c_void, 4096) }.expect("clear_cache");
                        pipeline_flush_mt().expect("pipeline_flush_mt");
                    })
                })
                .collect();
            for t in threads {
                t.join().expect("a racing thread failed");
            }
            println!("race threads={n}");
        }
        #[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
        Some("wasmtime-flush") => {
            for _ in 0..count_arg(&args) {
                wasmtime_internal_jit_icache_coherence::pipeline_flush_mt().expect("flush");
            }
        }
        #[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
        Some("peer-clear") => {
            // `peer-clear W|K N`: a peer's clear_cache of 4 KiB, N times.
            let buf = buffer(4096) as *const c_void;
            let n: usize = args.get(3).and_then(|s| s.parse().ok()).expect("a count");
            for _ in 0..n {
                // SAFETY: 4096 mapped, readable bytes.
                unsafe {
                    match args.get(2).map(String::as_str) {
                        Some("W") => wasmtime_internal_jit_icache_coherence::clear_cache(buf, 4096)
                            .expect("clear_cache"),
                        _ => assert!(::clear_cache::clear_cache(buf, buf.byte_add(4096))),
                    }
                }
            }
        }
        Some("local") => {
            for _ in 0..count_arg(&args) {
                pipeline_flush_local();
            }
        }
        #[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
        Some("windows") => windows::windows(args.get(2).map(String::as_str) == Some("peers")),
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        Some("windows") => x86_64::windows(),
        #[cfg(target_arch = "aarch64")]
        Some("sites") => windows::sites(),
        #[cfg(target_arch = "riscv64")]
        Some("ecall-sites") => windows::ecall_sites(),
        _ => {
            eprintln!(
                "usage: count_driver baseline | flush N | init-flush N | init-twice | clear N \
                 | local N | race N | windows (aarch64, riscv64, x86_64) | sites (aarch64)"
            );
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x86_64 {
    use super::*;
    use core::arch::asm;
    use icache_coherence::clear_cache_dual;

    /// The window's start marker: a multi-byte NOP (0F 1F 40 7E).
    #[inline(always)]
    fn start() {
        // SAFETY: a NOP: no register, flag or memory changes.
        unsafe {
            asm!(
                "nop dword ptr [rax + 0x7e]",
                options(nostack, preserves_flags)
            )
        };
    }

    /// The window's end marker (0F 1F 40 7F).
    #[inline(always)]
    fn end() {
        // SAFETY: as `start`.
        unsafe {
            asm!(
                "nop dword ptr [rax + 0x7f]",
                options(nostack, preserves_flags)
            )
        };
    }

    fn describe(name: &str, ops: &[String]) {
        println!("{name} - {}", ops.join(" "));
    }

    fn dual(name: &str, written: usize, executed: usize, len: usize) {
        describe(name, &[format!("d:{written:#x}:{executed:#x}:{len}")]);
        start();
        // SAFETY: both aliases are mapped, readable, for `len` bytes.
        let r =
            unsafe { clear_cache_dual(written as *const c_void, executed as *const c_void, len) };
        end();
        assert!(r.is_ok());
    }

    pub(super) fn windows() {
        // First use outside any window: the CPUID probe for SERIALIZE.
        pipeline_flush_local();
        describe("local-sync", &["l".to_string()]);
        start();
        pipeline_flush_local();
        end();
        describe(
            "local-sync-x3",
            &["l".to_string(), "l".to_string(), "l".to_string()],
        );
        start();
        pipeline_flush_local();
        pipeline_flush_local();
        pipeline_flush_local();
        end();
        let len = 4096;
        // SAFETY: a NUL-terminated name; a new file descriptor.
        let fd = unsafe { libc::memfd_create(c"count_driver".as_ptr(), 0) };
        assert!(fd >= 0, "memfd_create");
        // SAFETY: `fd` is the memfd just created.
        assert_eq!(unsafe { libc::ftruncate(fd, len as libc::off_t) }, 0);
        let map = |prot| {
            // SAFETY: a new shared mapping of the memfd; nothing else is affected.
            let p =
                unsafe { libc::mmap(core::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd, 0) };
            assert_ne!(p, libc::MAP_FAILED, "mmap of the memfd");
            p as usize
        };
        let rw = map(libc::PROT_READ | libc::PROT_WRITE);
        let rx = map(libc::PROT_READ | libc::PROT_EXEC);
        dual("dual-same-4k", rw, rw, len);
        dual("dual-aliases-4k", rw, rx, len);
    }
}

#[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
mod windows {
    use super::*;
    use core::arch::asm;

    /// The window's start marker.
    #[inline(always)]
    fn start() {
        // SAFETY: `hint #126` is an unallocated hint: a NOP.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            asm!("hint #126", options(nostack, preserves_flags))
        };
        // SAFETY: `slti zero, zero, 126` (0x07E02013) writes x0: a HINT, no effect.
        #[cfg(target_arch = "riscv64")]
        unsafe {
            asm!(".4byte 0x07E02013", options(nostack, preserves_flags))
        };
    }

    /// The window's end marker.
    #[inline(always)]
    fn end() {
        // SAFETY: `hint #127` is an unallocated hint: a NOP.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            asm!("hint #127", options(nostack, preserves_flags))
        };
        // SAFETY: `slti zero, zero, 127` (0x07F02013) writes x0: a HINT, no effect.
        #[cfg(target_arch = "riscv64")]
        unsafe {
            asm!(".4byte 0x07F02013", options(nostack, preserves_flags))
        };
    }

    /// The description line of a window: `NAME CTR_EL0 OP...`.
    pub(super) fn describe(name: &str, ctr: Option<u64>, ops: &[String]) {
        let ctr = ctr.map_or("-".to_string(), |c| format!("{c:#x}"));
        println!("{name} {ctr} {}", ops.join(" "));
    }

    /// A window with nothing in it: the two markers in one `asm!`, so that
    /// the compiler cannot schedule anything between them. The plugin's
    /// `insns` must be 0 (it counts neither marker).
    fn empty() {
        describe("empty", ctr(), &[]);
        // SAFETY: the two markers, both HINTs without effect (see `start`).
        #[cfg(target_arch = "aarch64")]
        unsafe {
            asm!("hint #126", "hint #127", options(nostack, preserves_flags))
        };
        // SAFETY: as above.
        #[cfg(target_arch = "riscv64")]
        unsafe {
            asm!(
                ".4byte 0x07E02013",
                ".4byte 0x07F02013",
                options(nostack, preserves_flags)
            )
        };
    }

    /// One `pipeline_flush_local()`, and nothing else, in the window.
    fn local_sync() {
        describe("local-sync", ctr(), &["l".to_string()]);
        start();
        pipeline_flush_local();
        end();
    }

    /// Three `pipeline_flush_local()` in a row.
    fn local_sync_x3() {
        describe(
            "local-sync-x3",
            ctr(),
            &["l".to_string(), "l".to_string(), "l".to_string()],
        );
        start();
        pipeline_flush_local();
        pipeline_flush_local();
        pipeline_flush_local();
        end();
    }

    #[cfg(target_arch = "aarch64")]
    fn ctr() -> Option<u64> {
        icache_coherence::cache_geometry().map(|g| g.raw())
    }

    #[cfg(target_arch = "riscv64")]
    fn ctr() -> Option<u64> {
        None
    }

    #[cfg(target_arch = "riscv64")]
    pub(super) fn windows(peers_only: bool) {
        if !peers_only {
            empty();
            local_sync();
            local_sync_x3();
        }
        // clear_cache of 4 KiB: this crate (`c:`), wasmtime (`W:`),
        // clear-cache (`K:`); each a system call, no FENCE.I in user space.
        let buf = buffer(4096) as usize;
        // First use outside any window (this crate decides its mode once).
        // SAFETY: 4096 mapped, readable bytes.
        unsafe { clear_cache(buf as *const c_void, 4096) }.expect("clear_cache");
        let ops: &[char] = if peers_only { &['W'] } else { &['c', 'W', 'K'] };
        for &op in ops {
            let name = match op {
                'c' => "riscv-clear-4k".to_string(),
                'W' => format!("{WASMTIME}-riscv-clear-4k"),
                _ => "clear-cache-riscv-clear-4k".to_string(),
            };
            describe(&name, None, &[format!("{op}:{buf:#x}:4096")]);
            let p = buf as *const c_void;
            start();
            // SAFETY: 4096 mapped, readable bytes.
            let ok = unsafe {
                match op {
                    'c' => clear_cache(p, 4096).is_ok(),
                    'W' => wasmtime_internal_jit_icache_coherence::clear_cache(p, 4096).is_ok(),
                    _ => ::clear_cache::clear_cache(p, p.byte_add(4096)),
                }
            };
            end();
            assert!(ok);
        }
    }

    #[cfg(target_arch = "aarch64")]
    pub(super) fn windows(peers_only: bool) {
        aarch64::windows(peers_only)
    }

    #[cfg(target_arch = "aarch64")]
    pub(super) use aarch64::sites;

    /// Every `ECALL` (0x00000073, at any 2-byte boundary: compressed code)
    /// in the process's executable mappings: `ecall ADDR`.
    #[cfg(target_arch = "riscv64")]
    pub(super) fn ecall_sites() {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        for line in maps.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 6 || !f[1].contains('x') || !f[1].contains('r') {
                continue;
            }
            let (lo, hi) = f[0].split_once('-').unwrap();
            let lo = usize::from_str_radix(lo, 16).unwrap();
            let hi = usize::from_str_radix(hi, 16).unwrap();
            for addr in (lo..hi - 2).step_by(2) {
                // SAFETY: inside a mapped, readable segment (4 bytes before its end).
                let w = unsafe { (addr as *const u32).read_unaligned() };
                if w == 0x0000_0073 {
                    println!("ecall {addr:#x}");
                }
            }
        }
    }

    #[cfg(target_arch = "aarch64")]
    mod aarch64 {
        use super::*;
        use icache_coherence::{
            cache_geometry, clear_cache_dual, clear_cache_ranges, clear_cache_ranges_with,
            clear_cache_with, CacheGeometry,
        };

        fn c(ptr: usize, len: usize) -> String {
            format!("c:{ptr:#x}:{len}")
        }

        fn b(ranges: &[(usize, usize)]) -> String {
            let r: Vec<String> = ranges.iter().map(|(p, l)| format!("{p:#x}:{l}")).collect();
            format!("b:{}", r.join(","))
        }

        fn wraps(ptr: usize, len: usize) -> bool {
            len != 0 && ptr.checked_add(len - 1).is_none()
        }

        fn raw(g: Option<CacheGeometry>) -> Option<u64> {
            g.or_else(cache_geometry).map(|g| g.raw())
        }

        /// One `clear_cache` (or `clear_cache_with`).
        fn window(name: &str, g: Option<CacheGeometry>, ptr: usize, len: usize) {
            describe(name, raw(g), &[c(ptr, len)]);
            start();
            // SAFETY: `ptr..ptr+len` lies in the mapped buffer (or is rejected).
            let r = unsafe {
                match g {
                    None => clear_cache(ptr as *const c_void, len),
                    Some(g) => clear_cache_with(&g, ptr as *const c_void, len),
                }
            };
            end();
            assert_eq!(r.is_err(), wraps(ptr, len));
        }

        /// One `clear_cache_ranges` (or `clear_cache_ranges_with`) of `ranges`.
        fn batch(name: &str, g: Option<CacheGeometry>, ranges: &[(usize, usize)]) {
            describe(name, raw(g), &[b(ranges)]);
            let slice: Vec<(*const c_void, usize)> = ranges
                .iter()
                .map(|&(p, l)| (p as *const c_void, l))
                .collect();
            start();
            // SAFETY: every range lies in the mapped buffer (or one is rejected).
            let r = unsafe {
                match g {
                    None => clear_cache_ranges(&slice),
                    Some(g) => clear_cache_ranges_with(&g, &slice),
                }
            };
            end();
            assert_eq!(r.is_err(), ranges.iter().any(|&(p, l)| wraps(p, l)));
        }

        /// A peer's `clear_cache` on each range, in one window, for the
        /// side-by-side table: `W:PTR:LEN` is
        /// `wasmtime_internal_jit_icache_coherence::clear_cache`, `K:PTR:LEN`
        /// `clear_cache::clear_cache(ptr, ptr + len)`. Counted, not checked
        /// against this crate's model (the script reports how they differ).
        fn peer(name: &str, crate_: char, ranges: &[(usize, usize)]) {
            let ops: Vec<String> = ranges
                .iter()
                .map(|&(p, l)| format!("{crate_}:{p:#x}:{l}"))
                .collect();
            describe(name, raw(None), &ops);
            start();
            for &(p, l) in ranges {
                let p = p as *const c_void;
                // SAFETY: every range lies in the mapped buffer.
                unsafe {
                    if crate_ == 'W' {
                        wasmtime_internal_jit_icache_coherence::clear_cache(p, l).unwrap();
                    } else {
                        assert!(::clear_cache::clear_cache(p, p.byte_add(l)));
                    }
                }
            }
            end();
        }

        /// One `clear_cache` per range, in one window.
        fn separate(name: &str, ranges: &[(usize, usize)]) {
            let ops: Vec<String> = ranges.iter().map(|&(p, l)| c(p, l)).collect();
            describe(name, raw(None), &ops);
            let slice: Vec<(*const c_void, usize)> = ranges
                .iter()
                .map(|&(p, l)| (p as *const c_void, l))
                .collect();
            let mut ok = true;
            start();
            for &(p, l) in &slice {
                // SAFETY: every range lies in the mapped buffer.
                ok &= unsafe { clear_cache(p, l) }.is_ok();
            }
            end();
            assert!(ok);
        }

        /// One `clear_cache_dual`.
        fn dual(name: &str, written: usize, executed: usize, len: usize) {
            describe(
                name,
                raw(None),
                &[format!("d:{written:#x}:{executed:#x}:{len}")],
            );
            start();
            // SAFETY: both aliases are mapped, readable, for `len` bytes.
            let r = unsafe {
                clear_cache_dual(written as *const c_void, executed as *const c_void, len)
            };
            end();
            assert!(r.is_ok());
        }

        /// A `memfd` of `len` bytes mapped twice: (read-write, read-execute).
        fn dual_mapping(len: usize) -> (usize, usize) {
            // SAFETY: a NUL-terminated name; a new file descriptor.
            let fd = unsafe { libc::memfd_create(c"count_driver".as_ptr(), 0) };
            assert!(fd >= 0, "memfd_create");
            // SAFETY: `fd` is the memfd just created.
            assert_eq!(unsafe { libc::ftruncate(fd, len as libc::off_t) }, 0);
            let map = |prot| {
                // SAFETY: a new shared mapping of the memfd; nothing else is affected.
                let p = unsafe {
                    libc::mmap(
                        core::ptr::null_mut(),
                        len,
                        prot,
                        libc::MAP_SHARED | libc::MAP_POPULATE,
                        fd,
                        0,
                    )
                };
                assert_ne!(p, libc::MAP_FAILED, "mmap of the memfd");
                p as usize
            };
            let rw = map(libc::PROT_READ | libc::PROT_WRITE);
            let rx = map(libc::PROT_READ | libc::PROT_EXEC);
            // Store through the writable alias, as a JIT would (`ret`).
            for off in (0..len).step_by(4) {
                // SAFETY: inside the writable alias.
                unsafe { ((rw + off) as *mut u32).write_volatile(0xd65f_03c0) };
            }
            (rw, rx)
        }

        pub(in super::super) fn windows(peers_only: bool) {
            // Warm the geometry cache outside any window.
            let _ = cache_geometry();
            let buf = buffer(4 * 4096) as usize + 4096;
            // Sixteen 256-byte ranges, 64-byte (and 256-byte) aligned, 512
            // bytes apart: no line shared.
            let sixteen: Vec<(usize, usize)> = (0..16).map(|k| (buf + 512 * k, 256)).collect();
            let peers: &[(char, &str)] = if peers_only {
                &[('W', WASMTIME)]
            } else {
                &[('W', WASMTIME), ('K', "clear-cache")]
            };
            if peers_only {
                return peer_windows(peers, buf, &sixteen);
            }
            let geometry = |ctr| Some(CacheGeometry::from_ctr_el0(ctr));
            empty();
            window("probed-4k-aligned", None, buf, 4096);
            window("probed-4k-plus-1", None, buf + 1, 4096);
            window("probed-1-byte", None, buf + 100, 1);
            window("probed-straddle-2-bytes", None, buf + 255, 2);
            window("probed-0-bytes", None, buf, 0);
            window("idc-dic-4k", geometry(0xb444_c004), buf, 4096);
            window("idc-4k", geometry(0x9444_c004), buf, 4096);
            window("dic-4k", geometry(0xa444_c004), buf, 4096);
            window("d64-i32-4k", geometry(0x8444_c003), buf, 4096);
            window(
                "d64-i128-4k-plus-100",
                geometry(0x8444_c005),
                buf + 100,
                4096,
            );
            window("wraps", None, usize::MAX - 10, 100);

            // Batches.
            batch("ranges-16x256", None, &sixteen);
            separate("separate-16x256", &sixteen);
            // [0,100), [64,200), [200,300): overlapping, then adjacent.
            let overlap = [(buf, 100), (buf + 64, 136), (buf + 200, 100)];
            batch("ranges-overlap", None, &overlap);
            // A line shared by ranges that are not consecutive is visited again.
            let unsorted = [(buf + 1024, 64), (buf, 64), (buf + 1024 + 10, 20)];
            batch("ranges-unsorted", None, &unsorted);
            batch(
                "ranges-with-empty",
                None,
                &[(buf, 64), (0, 0), (buf + 512, 0), (buf + 4000, 96)],
            );
            batch("ranges-none", None, &[]);
            batch("ranges-all-empty", None, &[(buf, 0), (0, 0)]);
            batch(
                "ranges-one-wraps",
                None,
                &[(buf, 256), (usize::MAX - 10, 100)],
            );
            batch("ranges-idc-dic-16x256", geometry(0xb444_c004), &sixteen);
            batch("ranges-idc-16x256", geometry(0x9444_c004), &sixteen);
            batch("ranges-dic-16x256", geometry(0xa444_c004), &sixteen);
            batch("ranges-d64-i128-overlap", geometry(0x8444_c005), &overlap);

            // A dual mapping: cleaned through RW, invalidated through RX.
            let (rw, rx) = dual_mapping(2 * 4096);
            dual("dual-4k", rw, rx, 4096);
            dual("dual-4k-plus-100", rw + 100, rx + 100, 4096);
            dual("dual-0-bytes", rw, rx, 0);

            local_sync();
            local_sync_x3();

            peer_windows(peers, buf, &sixteen);
        }

        /// The peers, on the same buffers as this crate's windows.
        fn peer_windows(peers: &[(char, &str)], buf: usize, sixteen: &[(usize, usize)]) {
            for &(c, crate_) in peers {
                peer(&format!("{crate_}-4k-aligned"), c, &[(buf, 4096)]);
                peer(&format!("{crate_}-4k-plus-1"), c, &[(buf + 1, 4096)]);
                peer(&format!("{crate_}-separate-16x256"), c, sixteen);
            }
        }

        /// Every `DC CVAU`, `IC IVAU`, `DSB ISH`, `ISB` and marker in this
        /// program's executable mappings.
        pub(in super::super) fn sites() {
            let exe = std::fs::read_link("/proc/self/exe").unwrap();
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
            for line in maps.lines() {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() < 6 || !f[1].contains('x') || std::path::Path::new(f[5]) != exe {
                    continue;
                }
                let (lo, hi) = f[0].split_once('-').unwrap();
                let lo = usize::from_str_radix(lo, 16).unwrap();
                let hi = usize::from_str_radix(hi, 16).unwrap();
                for addr in (lo..hi).step_by(4) {
                    // SAFETY: inside a mapped, executable (and readable) segment.
                    let w = unsafe { (addr as *const u32).read() };
                    let kind = match (w, w & 0xffff_ffe0) {
                        (_, 0xd50b_7b20) => "dc",
                        (_, 0xd50b_7520) => "ic",
                        (0xd503_3b9f, _) => "dsb",
                        (0xd503_3fdf, _) => "isb",
                        (0xd503_2fdf, _) => "start",
                        (0xd503_2fff, _) => "end",
                        _ => continue,
                    };
                    println!("{kind} {addr:#x} x{}", w & 0x1f);
                }
            }
        }
    }
}
