//! `--verify`: a stale-code detector.
//!
//! One thread (the writer) rewrites a tiny function again and again; version
//! `n` returns `n`. Other threads (the runners), each pinned to another CPU,
//! load the published version number (acquire), call the function and
//! compare: a result older than the number they loaded is a **stale
//! execution**, code the core should no longer have run.
//!
//! The function lives in one of two slots of an executable page, alternately:
//! before rewriting a slot, the writer waits until every runner has finished
//! a call of the other slot's (newer) version, so no runner ever executes a
//! slot while it is being written (concurrent modification and execution of
//! most instructions is unpredictable on Arm), while each runner has just
//! run the slot's previous contents, which its instruction cache and
//! pipeline may still hold.
//!
//! The writer runs the full protocol (`clear_cache`, `pipeline_flush_mt`,
//! and `pipeline_flush_local` in each runner when it sees a new version) or a
//! deliberately weakened copy of it. The AArch64 variants without `DC` or
//! without `IC` are **deliberately broken** copies of the crate's sequence,
//! written here with inline assembly (the crate has no switch to skip a
//! step): they exist to show what each step is worth.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use icache_coherence::{clear_cache, pipeline_flush_local, pipeline_flush_mt};
use serde::Serialize;

use crate::progress::Progress;
use crate::sys::{self, Region};

/// Distance between the two slots: at least one cache line on every known
/// core (A64FX: 256 B).
const SLOT_STRIDE: usize = 256;
const SLOTS: u64 = 2;

/// What the writer does after storing a new version.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Maintenance {
    /// `clear_cache` (the crate).
    Crate,
    /// AArch64: `DC CVAU`, `DSB ISH`, `ISB`: no `IC IVAU`.
    NoIc,
    /// AArch64: `DSB ISH`, `IC IVAU`, `DSB ISH`, `ISB`: no `DC CVAU`.
    NoDc,
    /// Nothing at all.
    Nothing,
}

/// One variant of the protocol.
#[derive(Clone, Copy, Debug)]
struct Variant {
    name: &'static str,
    maintenance: Maintenance,
    mt_flush: bool,
    local_sync: bool,
    /// Writes the code of version `n - lag` when publishing `n`: 0 in every
    /// real variant; 1 in the detector's self-test, where every execution
    /// must count as stale.
    lag: u64,
}

const VARIANTS: [Variant; 7] = [
    Variant {
        name: "full",
        maintenance: Maintenance::Crate,
        mt_flush: true,
        local_sync: true,
        lag: 0,
    },
    Variant {
        name: "no DC",
        maintenance: Maintenance::NoDc,
        mt_flush: true,
        local_sync: true,
        lag: 0,
    },
    Variant {
        name: "no IC",
        maintenance: Maintenance::NoIc,
        mt_flush: true,
        local_sync: true,
        lag: 0,
    },
    Variant {
        name: "no MT flush",
        maintenance: Maintenance::Crate,
        mt_flush: false,
        local_sync: true,
        lag: 0,
    },
    Variant {
        name: "no local sync",
        maintenance: Maintenance::Crate,
        mt_flush: true,
        local_sync: false,
        lag: 0,
    },
    Variant {
        name: "no MT flush, no local sync",
        maintenance: Maintenance::Crate,
        mt_flush: false,
        local_sync: false,
        lag: 0,
    },
    Variant {
        name: "nothing",
        maintenance: Maintenance::Nothing,
        mt_flush: false,
        local_sync: false,
        lag: 0,
    },
];

impl Variant {
    fn steps(&self) -> String {
        let m = match self.maintenance {
            Maintenance::Crate => "clear_cache",
            Maintenance::NoIc => "DC CVAU, DSB ISH, ISB (no IC IVAU)",
            Maintenance::NoDc => "DSB ISH, IC IVAU, DSB ISH, ISB (no DC CVAU)",
            Maintenance::Nothing => "no maintenance",
        };
        let mut s = format!("writer: store, {m}");
        if self.mt_flush {
            s.push_str(", pipeline_flush_mt");
        }
        s.push_str(", publish (release); runner: acquire");
        if self.local_sync {
            s.push_str(", pipeline_flush_local on a new version");
        }
        s.push_str(", call");
        s
    }

    fn applicable(&self) -> Result<(), &'static str> {
        match self.maintenance {
            Maintenance::NoDc | Maintenance::NoIc if !cfg!(target_arch = "aarch64") => {
                Err("n/a on this arch (no separate DC/IC steps)")
            }
            _ => Ok(()),
        }
    }
}

/// The outcome of one variant.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyResult {
    /// The variant's name (`full`, `no DC`, ...).
    pub variant: &'static str,
    /// What the writer and the runners do.
    pub steps: String,
    /// Whether the variant ran (`false`: see `note`).
    pub ran: bool,
    /// Versions the writer published.
    pub rewrites: u64,
    /// Calls the runners made.
    pub executions: u64,
    /// Calls that returned a version older than the one the runner had
    /// loaded: stale code executed.
    pub stale: u64,
    /// Calls that returned a newer version (the writer overtook the runner;
    /// not an error).
    pub newer: u64,
    /// Why it did not run, or was cut short.
    pub note: Option<String>,
}

impl VerifyResult {
    /// A variant that did not run, and why.
    fn not_run(v: &Variant, note: String) -> VerifyResult {
        VerifyResult {
            variant: v.name,
            steps: v.steps(),
            ran: false,
            rewrites: 0,
            executions: 0,
            stale: 0,
            newer: 0,
            note: Some(note),
        }
    }
}

/// Machine code for `extern "C" fn() -> u32 { v }`, for this architecture.
fn return_const(v: u32) -> Option<Vec<u8>> {
    let words =
        |w: &[u32]| -> Option<Vec<u8>> { Some(w.iter().flat_map(|w| w.to_le_bytes()).collect()) };
    let (lo, hi) = (v & 0xffff, v >> 16);
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        let _ = (lo, hi, words);
        // mov eax, imm32; ret
        let mut c = vec![0xb8];
        c.extend_from_slice(&v.to_le_bytes());
        c.push(0xc3);
        return Some(c);
    }
    #[cfg(target_arch = "aarch64")]
    {
        // movz w0, #lo; movk w0, #hi, lsl 16; ret
        return words(&[
            0x5280_0000 | (lo << 5),
            0x72a0_0000 | (hi << 5),
            0xd65f_03c0,
        ]);
    }
    #[cfg(target_arch = "arm")]
    {
        // movw r0, #lo; movt r0, #hi; bx lr (A32)
        let imm = |x: u32| ((x >> 12) << 16) | (x & 0xfff);
        return words(&[0xe300_0000 | imm(lo), 0xe340_0000 | imm(hi), 0xe12f_ff1e]);
    }
    #[cfg(target_arch = "riscv64")]
    {
        let _ = (lo, hi);
        // lui a0, hi20; addiw a0, a0, lo12; ret
        let lo12 = ((v << 20) as i32 >> 20) as u32; // sign-extended low 12 bits
        let hi20 = (v.wrapping_sub(lo12) >> 12) & 0xf_ffff;
        return words(&[
            (hi20 << 12) | (10 << 7) | 0x37,
            ((lo12 & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x1b,
            0x0000_8067,
        ]);
    }
    #[cfg(target_arch = "s390x")]
    {
        let _ = (lo, hi, words);
        // llilf %r2, imm32; br %r14
        let mut c = vec![0xc0, 0x2f];
        c.extend_from_slice(&v.to_be_bytes());
        c.extend_from_slice(&[0x07, 0xfe]);
        return Some(c);
    }
    #[allow(unreachable_code)]
    {
        let _ = (lo, hi, words);
        None
    }
}

/// The deliberately broken maintenance of the `no DC` / `no IC` variants.
///
/// # Safety
/// `p` must be mapped and readable.
#[cfg(target_arch = "aarch64")]
unsafe fn weakened(m: Maintenance, p: *const u8) {
    // The code (12 bytes) lies in one line: one DC or IC at `p` covers it.
    match m {
        // SAFETY: `p` is mapped and readable (the caller); DC CVAU, DSB and
        // ISB have no other effect on memory or registers.
        Maintenance::NoIc => unsafe {
            core::arch::asm!("dc cvau, {p}", "dsb ish", "isb", p = in(reg) p, options(nostack, preserves_flags));
        },
        // SAFETY: as above, for IC IVAU.
        Maintenance::NoDc => unsafe {
            core::arch::asm!("dsb ish", "ic ivau, {p}", "dsb ish", "isb", p = in(reg) p, options(nostack, preserves_flags));
        },
        _ => {}
    }
}

struct Runner {
    seen: AtomicU64,
    executions: AtomicU64,
    stale: AtomicU64,
    newer: AtomicU64,
}

/// Runs every variant: `rewrites` versions each (or until `limit` passes).
///
/// `idc`, `dic`: the geometry's `CTR_EL0.IDC`/`DIC` bits (AArch64), which
/// make the `no DC` / `no IC` variants correct on this core.
pub fn run(
    rewrites: u64,
    limit: Duration,
    idc: bool,
    dic: bool,
    progress: &mut Progress,
) -> (Vec<VerifyResult>, String) {
    let not_run = |note: String| -> Vec<VerifyResult> {
        VARIANTS
            .iter()
            .map(|v| VerifyResult::not_run(v, note.clone()))
            .collect()
    };
    if cfg!(target_vendor = "apple") {
        return (
            not_run("not implemented on Apple platforms (needs MAP_JIT)".into()),
            String::new(),
        );
    }
    if return_const(1).is_none() {
        return (
            not_run(format!(
                "no code encoding for {} in the probe",
                std::env::consts::ARCH
            )),
            String::new(),
        );
    }
    let Some(page) = Region::map(sys::page_size(), true) else {
        return (
            not_run("the OS refused a writable and executable mapping".into()),
            String::new(),
        );
    };
    let cpus = sys::allowed_cpus();
    let saved = sys::Affinity::save();
    let own = cpus[0];
    let writer_pinned = sys::pin_to(own);
    let others = crate::measure::other_cpus(&cpus, own);
    let n_runners = others.len().clamp(1, 3);
    let setup = if writer_pinned {
        format!(
            "{n_runners} runner thread(s) on CPU(s) {:?}, writer on CPU {own}, all pinned",
            &others[..n_runners.min(others.len())]
        )
    } else {
        format!("{n_runners} runner thread(s) and the writer, not pinned on this OS")
    };
    let results = VARIANTS
        .iter()
        .map(|v| match v.applicable() {
            Err(why) => {
                progress.tick(rewrites);
                VerifyResult::not_run(v, why.into())
            }
            Ok(()) => {
                progress.phase("verify");
                let mut r =
                    run_variant(v, &page, &others[..], n_runners, rewrites, limit, progress);
                let not_needed = match v.maintenance {
                    Maintenance::NoDc if idc => {
                        Some("CTR_EL0.IDC = 1: DC CVAU is not needed on this core")
                    }
                    Maintenance::NoIc if dic => {
                        Some("CTR_EL0.DIC = 1: IC IVAU is not needed on this core")
                    }
                    _ => None,
                };
                if let Some(n) = not_needed {
                    r.note = Some(r.note.map_or(n.to_string(), |m| format!("{m}; {n}")));
                }
                r
            }
        })
        .collect();
    saved.restore();
    (results, setup)
}

fn run_variant(
    v: &Variant,
    page: &Region,
    cpus: &[usize],
    n_runners: usize,
    rewrites: u64,
    limit: Duration,
    progress: &mut Progress,
) -> VerifyResult {
    // Addresses as integers, so that the runner closures are `Send`.
    let base = page.ptr() as usize;
    let slot = move |n: u64| base + (n % SLOTS) as usize * SLOT_STRIDE;
    let published = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let runners: Vec<Runner> = (0..n_runners)
        .map(|_| Runner {
            seen: AtomicU64::new(0),
            executions: AtomicU64::new(0),
            stale: AtomicU64::new(0),
            newer: AtomicU64::new(0),
        })
        .collect();
    let mut note = None;
    let mut done = 0u64;
    let publish = |n: u64| {
        let code = return_const((n - v.lag) as u32).expect("an encoding exists (checked)");
        let p = slot(n) as *mut u8;
        // SAFETY: the slot is inside the RWX page, and no runner executes
        // it now (the writer waited for every runner to move past it).
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), p, code.len()) };
        match v.maintenance {
            Maintenance::Crate => {
                // SAFETY: the slot is mapped and readable.
                unsafe { clear_cache(p.cast(), code.len()) }.expect("clear_cache");
            }
            #[cfg(target_arch = "aarch64")]
            // SAFETY: the slot is mapped and readable.
            m @ (Maintenance::NoIc | Maintenance::NoDc) => unsafe { weakened(m, p) },
            _ => {}
        }
        if v.mt_flush {
            // An error (Strict without SYNC_CORE) was reported by init.
            let _ = pipeline_flush_mt();
        }
        published.store(n, Ordering::Release);
    };
    // Both slots start as version 0 (returns 0), made coherent with the full
    // protocol: whatever a runner's core fetches from them is valid code,
    // even in the variants that skip every step.
    for n in 0..SLOTS {
        let code = return_const(0).expect("an encoding exists (checked)");
        let p = (base + n as usize * SLOT_STRIDE) as *mut u8;
        // SAFETY: inside the RWX page; no runner is started yet.
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), p, code.len()) };
        // SAFETY: the slot is mapped and readable.
        unsafe { clear_cache(p.cast(), code.len()) }.expect("clear_cache");
    }
    let _ = pipeline_flush_mt();
    std::thread::scope(|s| {
        let (published, stop) = (&published, &stop);
        for (i, r) in runners.iter().enumerate() {
            let cpu = cpus[i % cpus.len()];
            let local_sync = v.local_sync;
            s.spawn(move || {
                sys::pin_to(cpu);
                let (mut last, mut execs, mut stale, mut newer) = (0u64, 0u64, 0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let n = published.load(Ordering::Acquire);
                    if n == 0 {
                        std::hint::spin_loop();
                        continue;
                    }
                    if n != last {
                        if local_sync {
                            pipeline_flush_local();
                        }
                        last = n;
                    }
                    // SAFETY: the slot holds a complete function returning
                    // a u32 (written before `n` was published, and not
                    // rewritten until this runner reports it moved on).
                    let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(slot(n)) };
                    let got = u64::from(f());
                    execs += 1;
                    if got < n {
                        stale += 1;
                    } else if got > n {
                        newer += 1;
                    }
                    r.seen.store(n, Ordering::Release);
                }
                r.executions.store(execs, Ordering::Relaxed);
                r.stale.store(stale, Ordering::Relaxed);
                r.newer.store(newer, Ordering::Relaxed);
            });
        }
        // The writer: version 1 into slot 1, then 2 into slot 0, ...
        let t0 = Instant::now();
        'versions: for n in 1..=rewrites {
            // Before rewriting slot n % 2 (which holds n - 2), wait until
            // every runner has finished a call of n - 1 or later.
            let mut spins = 0u32;
            while runners
                .iter()
                .any(|r| r.seen.load(Ordering::Acquire) + SLOTS <= n)
            {
                if t0.elapsed() > limit {
                    note = Some(format!(
                        "stopped at the time limit ({} s) after {done} rewrites",
                        limit.as_secs()
                    ));
                    break 'versions;
                }
                spins += 1;
                if spins % 64 == 0 {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
            publish(n);
            done = n;
            if n % 256 == 0 {
                progress.tick(256);
            }
        }
        // Let every runner run the last version once, then stop them.
        let t1 = Instant::now();
        while runners
            .iter()
            .any(|r| r.seen.load(Ordering::Acquire) < done)
            && t1.elapsed() < Duration::from_secs(1)
        {
            std::thread::yield_now();
        }
        stop.store(true, Ordering::Relaxed);
    });
    let sum = |f: fn(&Runner) -> &AtomicU64| {
        runners
            .iter()
            .map(|r| f(r).load(Ordering::Relaxed))
            .sum::<u64>()
    };
    progress.tick(rewrites - (done / 256) * 256);
    VerifyResult {
        variant: v.name,
        steps: v.steps(),
        ran: true,
        rewrites: done,
        executions: sum(|r| &r.executions),
        stale: sum(|r| &r.stale),
        newer: sum(|r| &r.newer),
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let c = return_const(0x1234_5678);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(c.unwrap(), [0xb8, 0x78, 0x56, 0x34, 0x12, 0xc3]);
        #[cfg(not(target_arch = "x86_64"))]
        let _ = c;
    }

    /// The detector detects: a writer that publishes version n with the code
    /// of n - 1 makes every execution stale.
    #[test]
    fn self_test_counts_every_execution_stale() {
        let Some(page) = Region::map(sys::page_size(), true) else {
            return; // no RWX mapping here: nothing to test
        };
        let lying = Variant {
            name: "self-test",
            maintenance: Maintenance::Crate,
            mt_flush: false,
            local_sync: true,
            lag: 1,
        };
        let cpus = sys::allowed_cpus();
        let mut progress = Progress::new(0, false);
        let r = run_variant(
            &lying,
            &page,
            &cpus,
            1,
            200,
            Duration::from_secs(20),
            &mut progress,
        );
        assert_eq!(r.rewrites, 200, "{r:?}");
        assert!(r.executions > 0 && r.stale == r.executions, "{r:?}");
        let honest = Variant { lag: 0, ..lying };
        let r = run_variant(
            &honest,
            &page,
            &cpus,
            1,
            200,
            Duration::from_secs(20),
            &mut progress,
        );
        assert!(r.executions > 0 && r.stale == 0, "{r:?}");
    }

    #[test]
    fn variants_have_unique_names() {
        let mut names: Vec<_> = VARIANTS.iter().map(|v| v.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), VARIANTS.len());
    }
}
