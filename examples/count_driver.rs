//! The program `.ci/qemu-counts` runs under QEMU to count what each
//! operation executes. Not a user example: a measuring instrument.
//!
//! - `windows`: runs each maintenance scenario between two marker
//!   instructions (`hint #126`/`hint #127` on AArch64, no-ops to the CPU) and
//!   prints one line per window to stdout: its name, start, length and the
//!   geometry used. The TCG plugin `tests/qemu/insn_count.c` prints, per
//!   window, how many `DC CVAU`, `IC IVAU`, `DSB ISH` and `ISB` ran.
//! - `sites`: prints the address, kind and register of every `DC CVAU` and
//!   `IC IVAU` (and window marker) in this program's code, so QEMU can log
//!   the register each one received (`-singlestep -d cpu -dfilter`).
//! - `flush N`: `pipeline_flush_mt()` N times (for `-strace` counts).
//! - `clear N`: `clear_cache` of 4 KiB N times (for `-strace` counts).

use core::ffi::c_void;
use std::process::ExitCode;

use icache_coherence::{clear_cache, pipeline_flush_mt};

#[path = "../tests/support/mmap.rs"]
mod mmap;
use mmap::map_anonymous as buffer;

fn count_arg(args: &[String]) -> usize {
    args.get(2).and_then(|s| s.parse().ok()).expect("a count")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("flush") => {
            for _ in 0..count_arg(&args) {
                pipeline_flush_mt().expect("pipeline_flush_mt");
            }
        }
        Some("clear") => {
            let buf = buffer(4096);
            for _ in 0..count_arg(&args) {
                // SAFETY: 4096 mapped, readable bytes.
                unsafe { clear_cache(buf as *const c_void, 4096) }.expect("clear_cache");
            }
        }
        #[cfg(target_arch = "aarch64")]
        Some("windows") => aarch64::windows(),
        #[cfg(target_arch = "aarch64")]
        Some("sites") => aarch64::sites(),
        _ => {
            eprintln!(
                "usage: count_driver flush N | clear N | windows | sites (the last two on aarch64)"
            );
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

#[cfg(target_arch = "aarch64")]
mod aarch64 {
    use super::*;
    use core::arch::asm;
    use icache_coherence::{cache_geometry, clear_cache_with, CacheGeometry};

    fn start() {
        // SAFETY: `hint #126` is an unallocated hint: a NOP.
        unsafe { asm!("hint #126", options(nostack, preserves_flags)) };
    }

    fn end() {
        // SAFETY: `hint #127` is an unallocated hint: a NOP.
        unsafe { asm!("hint #127", options(nostack, preserves_flags)) };
    }

    /// One window: `name start len ctr_el0` on stdout, the counts from the plugin.
    fn window(name: &str, g: Option<CacheGeometry>, ptr: usize, len: usize) {
        let ctr = g.or_else(cache_geometry).unwrap().raw();
        println!("{name} {ptr:#x} {len} {ctr:#x}");
        start();
        // SAFETY: `ptr..ptr+len` lies in the mapped buffer (or is rejected).
        let r = unsafe {
            match g {
                None => clear_cache(ptr as *const c_void, len),
                Some(g) => clear_cache_with(&g, ptr as *const c_void, len),
            }
        };
        end();
        assert_eq!(r.is_err(), len != 0 && ptr.checked_add(len - 1).is_none());
    }

    pub(super) fn windows() {
        // Warm the geometry cache outside any window.
        let _ = cache_geometry();
        let buf = buffer(4 * 4096) as usize + 4096;
        let geometry = |ctr| Some(CacheGeometry::from_ctr_el0(ctr));
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
    }

    /// Every `DC CVAU`/`IC IVAU` in this program's executable mappings.
    pub(super) fn sites() {
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
                    (0xd503_2fdf, _) => "start",
                    (0xd503_2fff, _) => "end",
                    _ => continue,
                };
                println!("{kind} {addr:#x} x{}", w & 0x1f);
            }
        }
    }
}
