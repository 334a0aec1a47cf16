//! `icache-probe`: print this machine's cache geometry and flush mechanism,
//! and measure what `clear_cache` and `pipeline_flush_mt` cost here.
//!
//! ```text
//! cargo run --release --bin icache-probe [-- --json] [-- --quick]
//! ```
//!
//! Costs are wall-clock nanoseconds per call: each sample times a batch of
//! calls (calibrated to take about a millisecond), and the table reports the
//! median and the 10th and 90th percentiles over the samples. On a shared or
//! emulated machine only ratios measured in one run mean much.

use std::ffi::c_void;
use std::fmt::Write as _;
use std::hint::black_box;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use icache_coherence::{
    cache_geometry, clear_cache, flush_mechanism, init_with, pipeline_flush_local,
    pipeline_flush_mt, CacheGeometry, CacheKind, CacheLevel, Error, FlushMechanism, FlushPolicy,
    GeometrySource,
};

const SIZES: [usize; 8] = [
    64,
    256,
    1 << 10,
    4 << 10,
    16 << 10,
    64 << 10,
    256 << 10,
    1 << 20,
];

struct Options {
    json: bool,
    concurrent: Vec<usize>,
    policy: FlushPolicy,
    samples: usize,
    batch_time: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        json: false,
        concurrent: Vec::new(),
        policy: FlushPolicy::BestEffort,
        samples: 21,
        batch_time: Duration::from_millis(1),
    };
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => o.json = true,
            "--strict" => o.policy = FlushPolicy::Strict,
            "--no-syscalls" => o.policy = FlushPolicy::NoSyscalls,
            a if a.starts_with("--concurrent=") => {
                o.concurrent = a["--concurrent=".len()..]
                    .split(',')
                    .map(|k| k.parse::<usize>().map_err(|e| format!("--concurrent: {e}")))
                    .collect::<Result<_, _>>()?;
                if o.concurrent.contains(&0) {
                    return Err("--concurrent: K must be at least 1".into());
                }
            }
            "--quick" => {
                o.samples = 5;
                o.batch_time = Duration::from_micros(200);
            }
            "-h" | "--help" => {
                return Err(
                    "usage: icache-probe [--json] [--quick] [--strict | --no-syscalls] [--concurrent=K,K..]\n\
                     Prints the cache geometry and flush mechanism, and the measured cost\n\
                     of clear_cache (64 B to 1 MiB), pipeline_flush_mt and\n\
                     pipeline_flush_local. --strict: the Strict flush policy (on x86_64\n\
                     Linux, membarrier SYNC_CORE: its real cost); --no-syscalls: no membarrier.\n\
                     --concurrent=1,2,4,8: K threads (pinned round-robin) flushing at once,\n\
                     through the crate (coalesced) and looping on the raw membarrier."
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(o)
}

/// Per-call nanoseconds: median, 10th and 90th percentile over the samples.
#[derive(Clone, Copy)]
struct Cost {
    median: f64,
    p10: f64,
    p90: f64,
    calls: u64,
}

/// Times `f`, called in batches sized to take about `o.batch_time` each.
fn measure(o: &Options, mut f: impl FnMut()) -> Cost {
    // Calibrate: double the batch until it takes long enough.
    let mut batch: u64 = 1;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        if t.elapsed() >= o.batch_time || batch >= 1 << 24 {
            break;
        }
        batch *= 2;
    }
    let mut per_call: Vec<f64> = (0..o.samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    let at = |q: f64| per_call[((per_call.len() - 1) as f64 * q).round() as usize];
    Cost {
        median: at(0.5),
        p10: at(0.1),
        p90: at(0.9),
        calls: batch * o.samples as u64,
    }
}

#[path = "../../tests/support/mmap.rs"]
mod mmap;

/// The number of D and I lines `clear_cache` touches for an aligned range,
/// where it steps by this geometry's lines: `CTR_EL0` (AArch64 but Apple
/// and Windows) and Apple's arm64 `sys_icache_invalidate`. Elsewhere the
/// lines are information only (x86 and s390x fetch coherently, RISC-V's
/// kernel call takes the range).
fn lines(g: Option<CacheGeometry>, len: usize) -> Option<(usize, usize)> {
    let by_line = |s| {
        s == GeometrySource::CtrEl0
            || (s == GeometrySource::Sysctl && cfg!(target_arch = "aarch64"))
    };
    let g = g.filter(|g| by_line(g.source()))?;
    let d = if g.idc() { 0 } else { len.div_ceil(g.d_line()) };
    let i = if g.dic() { 0 } else { len.div_ceil(g.i_line()) };
    Some((d, i))
}

/// `L1d`, `L1i`, `L2`: a level's short name.
fn level_name(l: &CacheLevel) -> String {
    let kind = match l.kind {
        CacheKind::Data => "d",
        CacheKind::Instruction => "i",
        _ => "",
    };
    format!("L{}{kind}", l.level)
}

/// Every size the geometry reports, as (what, bytes, where from).
fn geometry_items(g: &CacheGeometry) -> Vec<(String, usize, String)> {
    let source = g.source().to_string();
    let mut items = vec![
        ("D line".to_string(), g.d_line(), source.clone()),
        ("I line".to_string(), g.i_line(), source.clone()),
    ];
    for l in g.levels() {
        items.push((level_name(&l), l.line, source.clone()));
    }
    let extras = [
        ("DC ZVA block", g.zva_block(), "DCZID_EL0"),
        ("CLFLUSH line", g.clflush_line(), "CPUID leaf 1"),
        ("Zicbom block", g.cbom_block(), "riscv_hwprobe"),
        ("Zicboz block", g.cboz_block(), "riscv_hwprobe"),
    ];
    for (what, bytes, from) in extras {
        if let Some(bytes) = bytes {
            items.push((what.to_string(), bytes, from.to_string()));
        }
    }
    items
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let arch = std::env::consts::ARCH;
    let os = std::env::consts::OS;
    // Eager initialisation under the chosen policy, before any thread starts.
    let init = init_with(o.policy);
    if let Err(e) = init {
        eprintln!("init_with({:?}): {e}", o.policy);
    }
    let geometry = cache_geometry();
    let mechanism = flush_mechanism();

    let buf = mmap::map_anonymous(*SIZES.last().unwrap());
    let clear: Vec<(usize, Cost)> = SIZES
        .iter()
        .map(|&len| {
            let cost = measure(&o, || {
                // SAFETY: `buf` has at least `len` mapped, readable bytes.
                let r = unsafe { clear_cache(black_box(buf as *const c_void), black_box(len)) };
                r.expect("clear_cache");
            });
            (len, cost)
        })
        .collect();

    let mut flush = Vec::new();
    flush.push(("pipeline_flush_local", measure(&o, pipeline_flush_local)));
    if mechanism.is_ok() {
        flush.push((
            "pipeline_flush_mt, alone",
            measure(&o, || pipeline_flush_mt().expect("pipeline_flush_mt")),
        ));
        // With a thread running on another CPU, the kernel must interrupt it:
        // the inter-processor round trip a real JIT with worker threads pays.
        let stop = Arc::new(AtomicBool::new(false));
        let spinner = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        };
        flush.push((
            "pipeline_flush_mt, 1 busy thread",
            measure(&o, || pipeline_flush_mt().expect("pipeline_flush_mt")),
        ));
        stop.store(true, Ordering::Relaxed);
        spinner.join().expect("spinner");
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    if !o.concurrent.is_empty() {
        concurrent(&o, mechanism);
    }

    let report = Report {
        arch,
        os,
        geometry,
        mechanism,
        clear,
        flush,
        samples: o.samples,
    };
    print!(
        "{}",
        if o.json {
            json(&report)
        } else {
            table(&report)
        }
    );
    ExitCode::SUCCESS
}

/// Everything the probe found and measured.
struct Report {
    arch: &'static str,
    os: &'static str,
    geometry: Option<CacheGeometry>,
    mechanism: Result<FlushMechanism, Error>,
    clear: Vec<(usize, Cost)>,
    flush: Vec<(&'static str, Cost)>,
    samples: usize,
}

fn size_name(len: usize) -> String {
    match len {
        l if l >= 1 << 20 => format!("{} MiB", l >> 20),
        l if l >= 1 << 10 => format!("{} KiB", l >> 10),
        l => format!("{l} B"),
    }
}

/// The geometry as table lines: the sizes with their sources, e.g.
/// `L1d 64 B (CPUID leaf 4)`, then what only `CTR_EL0` and `MIDR_EL1` say.
fn geometry_lines(g: Option<CacheGeometry>, arch: &str) -> Vec<String> {
    let Some(g) = g else {
        return vec![format!("none: {arch} reports no cache geometry here")];
    };
    let mut out: Vec<String> = geometry_items(&g)
        .into_iter()
        .map(|(what, bytes, from)| format!("{what} {bytes} B ({from})"))
        .collect();
    if g.source() == GeometrySource::CtrEl0 {
        out.push(format!(
            "CTR_EL0 = {:#x}: IDC {}, DIC {}, L1Ip {:?}",
            g.raw(),
            g.idc() as u8,
            g.dic() as u8,
            g.l1ip()
        ));
    }
    if let Some(midr) = g.midr() {
        out.push(format!("MIDR_EL1 = {midr:#x} (emulated MRS, HWCAP_CPUID)"));
    }
    out
}

fn table(r: &Report) -> String {
    let (arch, os, g, m, samples) = (r.arch, r.os, r.geometry, &r.mechanism, r.samples);
    let (clear, flush) = (&r.clear, &r.flush);
    let mut s = String::new();
    let _ = writeln!(s, "icache-probe {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "target:          {arch}-{os}");
    for (n, line) in geometry_lines(g, arch).iter().enumerate() {
        let label = if n == 0 { "cache geometry:" } else { "" };
        let _ = writeln!(s, "{label:<16} {line}");
    }
    let _ = match m {
        Ok(m) => writeln!(
            s,
            "flush mechanism: {} (serialises all threads: {})",
            m.name(),
            if m.serialises_all_threads() {
                "yes"
            } else {
                "no"
            }
        ),
        Err(e) => writeln!(s, "flush mechanism: unavailable: {e}"),
    };
    let _ = writeln!(
        s,
        "\nclear_cache, ns per call (median, p10, p90 of {} samples; aligned ranges)",
        samples
    );
    let _ = writeln!(
        s,
        "  {:>8}  {:>13}  {:>10}  {:>10}  {:>10}  {:>9}",
        "size", "D/I lines", "median", "p10", "p90", "ns/line"
    );
    for &(len, c) in clear {
        let (l, per_line) = match lines(g, len) {
            Some((d, i)) => (
                format!("{d}/{i}"),
                format!("{:.2}", c.median / (d + i).max(1) as f64),
            ),
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            s,
            "  {:>8}  {:>13}  {:>10.1}  {:>10.1}  {:>10.1}  {:>9}",
            size_name(len),
            l,
            c.median,
            c.p10,
            c.p90,
            per_line
        );
    }
    if !flush.is_empty() {
        let _ = writeln!(s, "\ncross-thread sync, ns per call (median, p10, p90)");
        for (what, c) in flush {
            let _ = writeln!(
                s,
                "  {:<33}  {:>10.1}  {:>10.1}  {:>10.1}",
                what, c.median, c.p10, c.p90
            );
        }
    }
    s
}

/// The geometry as one JSON object: the line sizes and their source, the
/// `CTR_EL0` fields (for every source: `ctr_el0` is `raw()`), the levels,
/// and every size with where it came from (`sizes`).
fn geometry_json(g: &CacheGeometry) -> String {
    let opt = |v: Option<usize>| v.map_or("null".to_string(), |v| v.to_string());
    let levels: Vec<String> = g
        .levels()
        .map(|l| {
            let kind = match l.kind {
                CacheKind::Data => "data",
                CacheKind::Instruction => "instruction",
                _ => "unified",
            };
            format!(
                "{{\"level\": {}, \"kind\": \"{kind}\", \"line\": {}}}",
                l.level, l.line
            )
        })
        .collect();
    let sizes: Vec<String> = geometry_items(g)
        .into_iter()
        .map(|(what, bytes, from)| {
            format!("{{\"what\": \"{what}\", \"bytes\": {bytes}, \"source\": \"{from}\"}}")
        })
        .collect();
    format!(
        "{{\"source\": \"{}\", \"ctr_el0\": {}, \"d_line\": {}, \"i_line\": {}, \
         \"idc\": {}, \"dic\": {}, \"l1ip\": \"{:?}\", \"levels\": [{}], \
         \"zva_block\": {}, \"clflush_line\": {}, \"cbom_block\": {}, \"cboz_block\": {}, \
         \"midr\": {}, \"sizes\": [{}]}}",
        g.source(),
        g.raw(),
        g.d_line(),
        g.i_line(),
        g.idc(),
        g.dic(),
        g.l1ip(),
        levels.join(", "),
        opt(g.zva_block()),
        opt(g.clflush_line()),
        opt(g.cbom_block()),
        opt(g.cboz_block()),
        g.midr().map_or("null".to_string(), |m| m.to_string()),
        sizes.join(", ")
    )
}

fn json(r: &Report) -> String {
    let (arch, os, g, m, samples) = (r.arch, r.os, r.geometry, &r.mechanism, r.samples);
    let (clear, flush) = (&r.clear, &r.flush);
    let cost = |c: &Cost| {
        format!(
            "{{\"median_ns\": {:.3}, \"p10_ns\": {:.3}, \"p90_ns\": {:.3}, \"calls\": {}}}",
            c.median, c.p10, c.p90, c.calls
        )
    };
    let mut s = String::from("{\n");
    let _ = writeln!(s, "  \"version\": \"{}\",", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "  \"arch\": \"{arch}\",\n  \"os\": \"{os}\",");
    let _ = match g {
        Some(g) => writeln!(s, "  \"geometry\": {},", geometry_json(&g)),
        None => writeln!(s, "  \"geometry\": null,"),
    };
    let _ = match m {
        Ok(m) => writeln!(
            s,
            "  \"flush_mechanism\": \"{}\",\n  \"serialises_all_threads\": {},\n  \"flush_error\": null,",
            m.name(),
            m.serialises_all_threads()
        ),
        Err(e) => writeln!(
            s,
            "  \"flush_mechanism\": null,\n  \"serialises_all_threads\": false,\n  \"flush_error\": \"{}\",",
            e.to_string().replace('"', "'")
        ),
    };
    let _ = writeln!(s, "  \"samples\": {samples},");
    let _ = writeln!(s, "  \"clear_cache\": [");
    for (n, (len, c)) in clear.iter().enumerate() {
        let sep = if n + 1 < clear.len() { "," } else { "" };
        let _ = writeln!(s, "    {{\"bytes\": {len}, \"cost\": {}}}{sep}", cost(c));
    }
    let _ = writeln!(s, "  ],\n  \"pipeline_flush_mt\": [");
    for (n, (what, c)) in flush.iter().enumerate() {
        let sep = if n + 1 < flush.len() { "," } else { "" };
        let _ = writeln!(
            s,
            "    {{\"case\": \"{what}\", \"cost\": {}}}{sep}",
            cost(c)
        );
    }
    let _ = writeln!(s, "  ]\n}}");
    s
}

/// `--concurrent`: K threads flushing at once, pinned round-robin to the
/// CPUs, through `pipeline_flush_mt` (coalesced) and looping on the raw
/// `membarrier` command of the mechanism in force, interleaved in one run;
/// per-flush latency as each thread sees it. Printed to stderr.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn concurrent(o: &Options, mechanism: Result<FlushMechanism, Error>) {
    let cmd = match mechanism {
        Ok(FlushMechanism::MembarrierSyncCore) => 32,
        Ok(FlushMechanism::MembarrierPrivateExpedited) => 8,
        Ok(FlushMechanism::MembarrierGlobal) => 1,
        other => {
            eprintln!("--concurrent: the mechanism ({other:?}) makes no membarrier call; use --strict on x86");
            return;
        }
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let iters = if o.samples <= 5 { 2_000 } else { 20_000 };
    eprintln!("\nconcurrent flushes, us per flush as each thread sees it ({iters} per thread, {cpus} CPUs)");
    eprintln!(
        "  {:>3}  {:>12}  {:>12}  {:>7}",
        "K", "raw", "coalesced", "ratio"
    );
    for &k in &o.concurrent {
        let run = |raw: bool| -> f64 {
            let start = Arc::new(std::sync::Barrier::new(k));
            let threads: Vec<_> = (0..k)
                .map(|t| {
                    let start = start.clone();
                    std::thread::spawn(move || {
                        // SAFETY: a CPU set on the stack, for this thread only.
                        unsafe {
                            let mut set: libc::cpu_set_t = core::mem::zeroed();
                            libc::CPU_SET(t % cpus, &mut set);
                            libc::sched_setaffinity(0, core::mem::size_of_val(&set), &set);
                        }
                        start.wait();
                        let t0 = Instant::now();
                        for _ in 0..iters {
                            if raw {
                                icache_coherence::__private::membarrier(cmd)
                                    .unwrap_or_else(|e| panic!("membarrier({cmd}): errno {e}"));
                            } else {
                                pipeline_flush_mt().expect("pipeline_flush_mt");
                            }
                        }
                        t0.elapsed().as_secs_f64() * 1e6 / iters as f64
                    })
                })
                .collect();
            let per: Vec<f64> = threads
                .into_iter()
                .map(|t| t.join().expect("thread"))
                .collect();
            per.iter().sum::<f64>() / per.len() as f64
        };
        let (raw, coalesced) = (run(true), run(false));
        eprintln!(
            "  {k:>3}  {raw:>12.2}  {coalesced:>12.2}  {:>7.2}",
            coalesced / raw
        );
    }
}
