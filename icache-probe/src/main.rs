//! `icache-probe`: what instruction-cache maintenance costs on this machine,
//! and whether it works.
//!
//! ```text
//! cargo run --release -p icache-probe [-- --json] [-- --strict] [-- --verify] [-- --svg plot.svg]
//! ```
//!
//! It prints the machine, the cache geometry the crate found (and where from),
//! the flush mechanism, then per-call latencies (p50, p90, p99) of
//! `clear_cache` on ranges that were just written (dirty lines, a fresh
//! offset each time), of `pipeline_flush_mt` with 0, 1, ... other threads
//! running (each pinned to a CPU and spinning), and of K threads flushing at
//! once (`--concurrent`). `--verify` runs a stale-code detector. The JSON
//! layout is described in `--help`.

#![warn(clippy::undocumented_unsafe_blocks)]

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use icache_coherence::{
    cache_geometry, init_with, pipeline_flush_local, CacheGeometry, CacheKind, CacheLevel,
    FlushMechanism, FlushPolicy, GeometrySource,
};
use serde::Serialize;
use serde_json::{json, Value};

mod machine;
mod measure;
mod progress;
mod stats;
mod svg;
mod sys;
mod verify;

use machine::Machine;
use measure::{ConcurrentResult, MtResult, SizeResult};
use progress::Progress;
use stats::{Latency, Timer};
use verify::VerifyResult;

const JSON_HELP: &str = "\
Table columns (the default output):
  clear_cache       size: the range; calls: clear_cache calls per timed sample
                    (each on its own just-written range); D/I lines: data and
                    instruction cache lines the range touches (AArch64);
                    p50/p90/p99: ns per call (lower is better; <: under two
                    clock steps, an upper bound); ns/line: p50 / lines
  pipeline_flush_mt threads: other running threads; pinned: yes (each on its
                    own CPU), no (this OS cannot pin), shared (more threads
                    than other CPUs: time-sliced, the figures include it)
  concurrent        K threads flushing at once; raw membarrier and
                    pipeline_flush_mt in us per flush (p50 p90 mean); mean
                    ratio = pipeline_flush_mt mean / raw mean (below 1: the
                    crate is cheaper); calls/flush: membarrier calls made per
                    flush (below 1: calls were shared)
  verify            rewrites: versions published; executions: calls of the
                    code; stale: calls that ran a version older than the one
                    loaded (must be 0); newer: calls that ran a newer one
                    (the writer overtook the runner: harmless)

JSON (--json), one object; times in nanoseconds:
  schema            2
  version           the probe's version
  command           the arguments given
  machine           {arch, os, cpu, cpu_source, cpus, kernel, emulated, load}
  policy            \"best-effort\" | \"strict\" | \"no-syscalls\"
  init_error        why init_with(policy) failed, or null
  mechanism         init_with(policy)'s mechanism name, or null; serialises_all_threads
  flush_error       init_with(policy)'s error, or null
  geometry          null, or {source, d_line, i_line, levels[], sizes[{what,
                    bytes, source}]}, and only where the architecture has
                    them: aarch64 {idc, dic, ctr_el0, l1ip, zva_block, midr};
                    x86 {clflush_line}; riscv {cbom_block, cboz_block}
  line              {bytes, assumed}: the line ns_per_line divides by
  timer             {overhead_ns, resolution_ns}: subtracted / clock step
  method            {buffer_bytes, sample_bytes_max, calls_per_sample_max}
  sizes[]           {size, calls_per_sample, written_before, p50_ns, p90_ns,
                    p99_ns, mean_ns, samples, lines, ns_per_line,
                    below_resolution, d_lines, i_lines}
  local             pipeline_flush_local: {p50_ns, p90_ns, p99_ns, mean_ns, samples}
  local_instruction the instruction it executes here (SERIALIZE, IRET, ISB...)
  local_cpuid       x86: a raw CPUID (leaf 0) timed the same way in the same
                    run, for comparison: {p50_ns, ...}; null elsewhere
  local_iret        x86: the crate's IRET-to-self path timed the same way,
                    whatever the CPU has (the path taken without SERIALIZE)
  mt[]              pipeline_flush_mt: {threads, pinned, shared_cpus,
                    calls_per_sample, p50_ns, p90_ns, p99_ns, mean_ns,
                    samples}; shared_cpus: more threads than other CPUs
  concurrent[]      {k, coalesced{p50_ns,..}, raw{p50_ns,..}, calls_per_flush,
                    flushes_per_thread}; concurrent_skipped: reason or null
                    (the table's \"mean ratio\" is coalesced.mean_ns /
                    raw.mean_ns: below 1, the crate's flush is cheaper)
  verify[]          {variant, steps, ran, rewrites, executions, stale, newer,
                    note}; verify_setup: threads and CPUs. stale: calls that
                    returned a version older than the one the runner had
                    loaded (stale code: the failure looked for); newer:
                    calls that returned a newer one (the writer overtook
                    the runner: harmless)
  notes[]           what was done and what the figures mean";

/// Measure what instruction-cache maintenance costs on this machine, and
/// check that it works.
#[derive(Parser, Debug)]
#[command(version, about, after_long_help = JSON_HELP)]
struct Cli {
    /// Range sizes for clear_cache, comma-separated (suffixes K, M: 4K = 4096).
    #[arg(long, value_delimiter = ',', value_parser = parse_size,
          default_value = "64,256,1K,4K,16K,64K,256K,1M")]
    sizes: Vec<usize>,

    /// Other running threads for the pipeline_flush_mt measurement,
    /// comma-separated; each is pinned to a CPU and spins [default: 0,1,N-1
    /// for N CPUs].
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(0..=1024))]
    threads: Option<Vec<u64>>,

    /// K threads flushing at once, comma-separated (e.g. 1,2,4): through the
    /// crate (coalesced) against a raw membarrier loop, interleaved.
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=1024))]
    concurrent: Vec<u64>,

    /// Timed samples per measurement, flushes per thread for --concurrent,
    /// rewrites per --verify variant [default: 10000; --quick: 500].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    iterations: Option<u64>,

    /// Print one JSON object instead of the table (layout: --help).
    #[arg(long)]
    json: bool,

    /// Write a plot (SVG) of the measurements to FILE.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    /// Fewer samples (500): a quick look, or CI.
    #[arg(long)]
    quick: bool,

    /// Run the stale-code detector: full protocol and weakened variants.
    #[arg(long)]
    verify: bool,

    /// The Strict flush policy (on x86_64 Linux: membarrier SYNC_CORE, its
    /// real cost).
    #[arg(long, conflicts_with = "no_syscalls")]
    strict: bool,

    /// The NoSyscalls flush policy: membarrier is never called.
    #[arg(long)]
    no_syscalls: bool,
}

/// `4096`, `4K`, `4KiB`, `1M`.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t
        .trim_end_matches("iB")
        .trim_end_matches('B')
        .char_indices()
        .last()
    {
        Some((i, 'K' | 'k')) => (&t[..i], 1usize << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
        _ => (t.trim_end_matches('B'), 1),
    };
    let n: usize = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 64, 4K, 1M)"))?;
    match n.checked_mul(mult) {
        Some(v) if (1..=256 << 20).contains(&v) => Ok(v),
        _ => Err(format!("{s:?}: a size from 1 byte to 256 MiB")),
    }
}

fn policy_name(p: FlushPolicy) -> &'static str {
    match p {
        FlushPolicy::Strict => "strict",
        FlushPolicy::NoSyscalls => "no-syscalls",
        _ => "best-effort",
    }
}

/// The number of D and I lines `clear_cache` touches for an aligned range,
/// where it steps by this geometry's lines: `CTR_EL0` (AArch64 but Apple
/// and Windows) and Apple's arm64 `sys_icache_invalidate`.
fn di_lines(g: Option<CacheGeometry>, len: usize) -> Option<(usize, usize)> {
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

fn geometry_json(g: &CacheGeometry) -> Value {
    let levels: Vec<Value> = g
        .levels()
        .map(|l| {
            let kind = match l.kind {
                CacheKind::Data => "data",
                CacheKind::Instruction => "instruction",
                _ => "unified",
            };
            json!({"level": l.level, "kind": kind, "line": l.line})
        })
        .collect();
    let sizes: Vec<Value> = geometry_items(g)
        .into_iter()
        .map(|(what, bytes, from)| json!({"what": what, "bytes": bytes, "source": from}))
        .collect();
    let mut o = serde_json::Map::new();
    o.insert("source".into(), json!(g.source().to_string()));
    o.insert("d_line".into(), json!(g.d_line()));
    o.insert("i_line".into(), json!(g.i_line()));
    for (key, value) in arch_fields(g) {
        o.insert(key.into(), value);
    }
    o.insert("levels".into(), json!(levels));
    o.insert("sizes".into(), json!(sizes));
    Value::Object(o)
}

/// The geometry fields that exist on this architecture only, so that the
/// JSON holds nothing made up for one that lacks them: `CTR_EL0` and its
/// bits, `DCZID_EL0`'s block and `MIDR_EL1` on AArch64; the `CLFLUSH` line
/// on x86; the Zicbom/Zicboz blocks on RISC-V.
fn arch_fields(g: &CacheGeometry) -> Vec<(&'static str, Value)> {
    let mut v = Vec::new();
    if cfg!(target_arch = "aarch64") {
        v.push(("idc", json!(g.idc())));
        v.push(("dic", json!(g.dic())));
        v.push(("ctr_el0", json!(g.raw())));
        v.push(("l1ip", json!(format!("{:?}", g.l1ip()))));
        v.push(("zva_block", json!(g.zva_block())));
        v.push(("midr", json!(g.midr())));
    }
    if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
        v.push(("clflush_line", json!(g.clflush_line())));
    }
    if cfg!(any(target_arch = "riscv64", target_arch = "riscv32")) {
        v.push(("cbom_block", json!(g.cbom_block())));
        v.push(("cboz_block", json!(g.cboz_block())));
    }
    v
}

/// The geometry as table lines.
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

/// Everything the probe found and measured: the JSON output.
#[derive(Serialize)]
struct Report {
    schema: u32,
    version: &'static str,
    command: Vec<String>,
    machine: Machine,
    policy: &'static str,
    init_error: Option<String>,
    mechanism: Option<&'static str>,
    serialises_all_threads: bool,
    flush_error: Option<String>,
    geometry: Value,
    line: Value,
    timer: Timer,
    method: Value,
    sizes: Vec<SizeResult>,
    local: Latency,
    local_instruction: &'static str,
    local_cpuid: Option<Latency>,
    local_iret: Option<Latency>,
    mt: Vec<MtResult>,
    concurrent: Vec<ConcurrentResult>,
    concurrent_skipped: Option<String>,
    verify: Vec<VerifyResult>,
    verify_setup: Option<String>,
    notes: Vec<String>,
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = Cli::parse_from(&args);
    let command: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let policy = if cli.strict {
        FlushPolicy::Strict
    } else if cli.no_syscalls {
        FlushPolicy::NoSyscalls
    } else {
        FlushPolicy::BestEffort
    };
    // The output file is opened before anything is measured: a bad path
    // fails now, not after the measurements.
    let mut svg_file = match &cli.svg {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("--svg {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let samples = cli
        .iterations
        .unwrap_or(if cli.quick { 500 } else { 10_000 }) as usize;
    let mut notes = Vec::new();

    // Eager initialisation under the chosen policy, before any thread starts.
    let init = init_with(policy);
    let init_error = init.as_ref().err().map(|e| {
        eprintln!("init_with({policy:?}): {e}");
        e.to_string()
    });
    let geometry = cache_geometry();
    let mechanism = init.map(|r| r.mechanism);
    let machine = Machine::detect(geometry.and_then(|g| g.midr()));
    let cpus = sys::allowed_cpus();
    let threads: Vec<usize> = match &cli.threads {
        Some(t) => t.iter().map(|&t| t as usize).collect(),
        None => {
            let mut t = vec![0, 1.min(cpus.len() - 1), cpus.len() - 1];
            t.dedup();
            t
        }
    };
    let others = cpus.len().saturating_sub(1).max(1);
    if let Some(&t) = threads.iter().max().filter(|&&t| t > others) {
        let w = format!(
            "more threads than CPUs: {t} other threads share {others} CPU(s) besides the \
             measuring thread's; they are time-sliced, and the pinned column says \"shared\""
        );
        eprintln!("warning: {w}");
        notes.push(w);
    }
    let ks: Vec<usize> = cli.concurrent.iter().map(|&k| k as usize).collect();
    let (line, line_assumed) = match geometry {
        Some(g) => (g.d_line(), false),
        None => (64, true),
    };

    let timer = Timer::measure();
    let buffer_bytes = buffer_size(&cli.sizes);
    let verify_total = if cli.verify { 7 * samples as u64 } else { 0 };
    let total = (cli.sizes.len() + 1 + threads.len()) as u64 * (samples as u64 + 2)
        + ks.len() as u64 * 12
        + verify_total;
    let mut progress = Progress::new(total, std::io::stderr().is_terminal());

    progress.phase("clear_cache");
    let Some(buf) = sys::Region::map(buffer_bytes, false) else {
        eprintln!("could not map {buffer_bytes} bytes for the measurements");
        return ExitCode::FAILURE;
    };
    let sizes = measure::clear_sizes(
        &cli.sizes,
        samples,
        &buf,
        &timer,
        |size| (size.div_ceil(line), di_lines(geometry, size)),
        &mut progress,
    );
    drop(buf);
    notes.push(format!(
        "clear_cache: each timed sample first writes calls_per_sample consecutive ranges \
         (every byte, a new value each sample: dirty lines), then times one clear_cache per \
         range (a SeqCst fence between the writes and the clock); the next sample starts after them, rotating over a {} MiB buffer \
         (page-aligned, pre-faulted); {} B written per sample at most, {} calls at most",
        buffer_bytes >> 20,
        measure::SAMPLE_BYTES,
        measure::MAX_BATCH
    ));
    notes.push(format!(
        "latency: per call, p50/p90/p99 over {samples} samples (2 warm-up samples dropped); \
         the clock's median overhead ({:.1} ns, step {:.1} ns) is subtracted from each sample",
        timer.overhead_ns, timer.resolution_ns
    ));
    if line_assumed {
        notes.push("ns_per_line: no geometry here, a 64-byte line is assumed".into());
    }

    progress.phase("pipeline_flush_local");
    let (local, _) = measure::time_calls(samples, &timer, &mut progress, pipeline_flush_local);
    let local_instruction = icache_coherence::__private::local_sync_instruction();
    // The instruction x86 used before (and the SDM's example), timed the
    // same way in the same run, so the two figures compare.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    let local_cpuid =
        Some(measure::time_calls(samples, &timer, &mut progress, measure::raw_cpuid).0);
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    let local_iret = Some(
        measure::time_calls(
            samples,
            &timer,
            &mut progress,
            icache_coherence::__private::x86_iret_to_self,
        )
        .0,
    );
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    let (local_cpuid, local_iret): (Option<Latency>, Option<Latency>) = (None, None);

    progress.phase("pipeline_flush_mt");
    let mt = if mechanism.is_ok() {
        measure::mt_flush(&threads, samples, &timer, &mut progress)
    } else {
        Vec::new()
    };
    match mechanism {
        Ok(m) if measure::membarrier_cmd(m).is_none() => notes.push(format!(
            "pipeline_flush_mt makes no system call here ({}): its figures are the cost of \
             the call itself{}",
            m.name(),
            if m == FlushMechanism::NotRequired
                && cfg!(any(target_os = "linux", target_os = "android"))
            {
                "; --strict measures membarrier SYNC_CORE"
            } else {
                ""
            }
        )),
        Ok(m) => notes.push(format!(
            "pipeline_flush_mt: {} with T other threads running, each pinned to a CPU other \
             than the measuring thread's (round-robin) and spinning",
            m.name()
        )),
        Err(_) => notes.push("pipeline_flush_mt: not measured (no mechanism)".into()),
    }
    if !sys::CAN_PIN {
        notes.push("threads are not pinned on this OS".into());
    }

    let (concurrent, concurrent_skipped) = if ks.is_empty() {
        (Vec::new(), None)
    } else {
        progress.phase("concurrent");
        run_concurrent(&ks, mechanism, samples, &mut progress)
    };

    let (verify, verify_setup) = if cli.verify {
        let limit = Duration::from_secs(if cli.quick { 5 } else { 30 });
        let ctr = geometry.filter(|g| g.source() == GeometrySource::CtrEl0);
        let (idc, dic) = ctr.map_or((false, false), |g| (g.idc(), g.dic()));
        let (v, setup) = verify::run(samples as u64, limit, idc, dic, &mut progress);
        notes.push(verify_note(&machine));
        (v, Some(setup))
    } else {
        (Vec::new(), None)
    };
    progress.finish();

    let report = Report {
        schema: 2,
        version: env!("CARGO_PKG_VERSION"),
        command,
        machine,
        policy: policy_name(policy),
        init_error,
        mechanism: mechanism.as_ref().ok().map(|m| m.name()),
        serialises_all_threads: mechanism.is_ok_and(|m| m.serialises_all_threads()),
        flush_error: mechanism.as_ref().err().map(|e| e.to_string()),
        geometry: geometry.as_ref().map_or(Value::Null, geometry_json),
        line: json!({"bytes": line, "assumed": line_assumed}),
        timer,
        method: json!({
            "buffer_bytes": buffer_bytes,
            "sample_bytes_max": measure::SAMPLE_BYTES,
            "calls_per_sample_max": measure::MAX_BATCH,
        }),
        sizes,
        local,
        local_instruction,
        local_cpuid,
        local_iret,
        mt,
        concurrent,
        concurrent_skipped,
        verify,
        verify_setup,
        notes,
    };

    if let (Some(f), Some(path)) = (svg_file.as_mut(), &cli.svg) {
        use std::io::Write as _;
        if let Err(e) = f.write_all(plot(&report).as_bytes()) {
            eprintln!("--svg {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if cli.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", table(&report, geometry));
    }
    ExitCode::SUCCESS
}

/// The buffer the `clear_cache` samples rotate over: 64 MiB (larger than
/// most last-level caches), or 4 samples of the largest size if more.
fn buffer_size(sizes: &[usize]) -> usize {
    let largest = sizes
        .iter()
        .map(|&s| s * measure::batch_for_size(s))
        .max()
        .unwrap_or(0);
    let page = sys::page_size();
    (64usize << 20)
        .max(largest.saturating_mul(4))
        .div_ceil(page)
        * page
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn run_concurrent(
    ks: &[usize],
    mechanism: Result<FlushMechanism, icache_coherence::Error>,
    iters: usize,
    progress: &mut Progress,
) -> (Vec<ConcurrentResult>, Option<String>) {
    match mechanism.ok().and_then(measure::membarrier_cmd) {
        Some(cmd) => (measure::concurrent(ks, cmd, iters, progress), None),
        None => (
            Vec::new(),
            Some(format!(
                "the mechanism ({}) makes no membarrier call{}",
                mechanism.map_or("none", |m| m.name()),
                if cfg!(any(
                    target_arch = "x86_64",
                    target_arch = "x86",
                    target_arch = "s390x"
                )) {
                    "; use --strict"
                } else {
                    ""
                }
            )),
        ),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn run_concurrent(
    _: &[usize],
    _: Result<FlushMechanism, icache_coherence::Error>,
    _: usize,
    _: &mut Progress,
) -> (Vec<ConcurrentResult>, Option<String>) {
    (
        Vec::new(),
        Some("--concurrent compares with the raw membarrier: Linux and Android only".into()),
    )
}

fn verify_note(m: &Machine) -> String {
    let coherent = matches!(m.arch, "x86_64" | "x86" | "s390x");
    let mut s = String::from(
        "verify: a stale execution is a call that returned an older version than the one \
         the runner had loaded (acquire) before calling",
    );
    if coherent {
        let _ = write!(
            s,
            "; {} keeps instruction fetch coherent in hardware, so 0 stale is expected for \
             every variant and proves nothing about the maintenance",
            m.arch
        );
    }
    if m.emulated.is_some() {
        s.push_str(
            "; under an emulator (QEMU keeps its translated code coherent by itself) 0 stale \
             is expected for every variant and proves nothing",
        );
    }
    if !coherent && m.emulated.is_none() {
        s.push_str(
            "; on real non-coherent hardware a weakened variant may show stale executions \
             (or none: a missing step is not always caught), the full protocol must show 0",
        );
    }
    s
}

fn size_name(len: usize) -> String {
    match len {
        l if l >= 1 << 20 && l % (1 << 20) == 0 => format!("{} MiB", l >> 20),
        l if l >= 1 << 10 && l % (1 << 10) == 0 => format!("{} KiB", l >> 10),
        l => format!("{l} B"),
    }
}

fn table(r: &Report, g: Option<CacheGeometry>) -> String {
    let m = &r.machine;
    let mut s = String::new();
    let _ = writeln!(s, "icache-probe {}", r.version);
    let _ = writeln!(
        s,
        "machine:         {} ({}), {} CPUs, {}, {}-{}",
        m.cpu, m.cpu_source, m.cpus, m.kernel, m.arch, m.os
    );
    if let Some(l) = &m.load {
        let _ = writeln!(
            s,
            "load average:    {l} (at start; other work disturbs the figures)"
        );
    }
    if let Some(e) = &m.emulated {
        let _ = writeln!(s, "emulated:        {e}");
    }
    for (n, line) in geometry_lines(g, m.arch).iter().enumerate() {
        let label = if n == 0 { "cache geometry:" } else { "" };
        let _ = writeln!(s, "{label:<16} {line}");
    }
    let _ = match (&r.mechanism, &r.flush_error) {
        (Some(name), _) => writeln!(
            s,
            "flush mechanism: {name} (policy {}; serialises all threads: {})",
            r.policy,
            if r.serialises_all_threads {
                "yes"
            } else {
                "no"
            }
        ),
        (None, e) => writeln!(
            s,
            "flush mechanism: unavailable: {} (policy {})",
            e.as_deref().unwrap_or("?"),
            r.policy
        ),
    };
    if let Some(e) = &r.init_error {
        let _ = writeln!(s, "init error:      {e}");
    }
    let line = &r.line;
    let _ = writeln!(
        s,
        "\nclear_cache, ns per call on just-written ranges (line = {} B{})",
        line["bytes"],
        if line["assumed"] == true {
            ", assumed"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "  {:>8}  {:>6}  {:>11}  {:>10}  {:>10}  {:>10}  {:>9}",
        "size", "calls", "D/I lines", "p50", "p90", "p99", "ns/line"
    );
    for z in &r.sizes {
        let di = match (z.d_lines, z.i_lines) {
            (Some(d), Some(i)) => format!("{d}/{i}"),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "  {:>8}  {:>6}  {:>11}  {:>10}  {:>10.1}  {:>10.1}  {:>9.3}",
            size_name(z.size),
            z.calls_per_sample,
            di,
            format!(
                "{}{:.1}",
                if z.below_resolution { "<" } else { "" },
                z.latency.p50_ns
            ),
            z.latency.p90_ns,
            z.latency.p99_ns,
            z.ns_per_line
        );
    }
    let _ = writeln!(
        s,
        "  (calls: clear_cache calls per timed sample, each on its own just-written range)"
    );
    if r.sizes.iter().any(|z| z.below_resolution) {
        let _ = writeln!(
            s,
            "  (<: a sample lasted under 2 clock steps of {:.0} ns: an upper bound)",
            r.timer.resolution_ns
        );
    }
    let _ = writeln!(
        s,
        "\npipeline_flush_local ({}), ns per call: p50 {:.1}, p90 {:.1}, p99 {:.1}",
        r.local_instruction, r.local.p50_ns, r.local.p90_ns, r.local.p99_ns
    );
    if let Some(c) = &r.local_cpuid {
        let _ = writeln!(
            s,
            "  raw CPUID in the same run, ns per call: p50 {:.1}, p90 {:.1}, p99 {:.1} \
             (pipeline_flush_local / CPUID at p50: {:.3})",
            c.p50_ns,
            c.p90_ns,
            c.p99_ns,
            r.local.p50_ns / c.p50_ns
        );
    }
    if let (Some(i), Some(c)) = (&r.local_iret, &r.local_cpuid) {
        let _ = writeln!(
            s,
            "  IRET to self (the path without SERIALIZE), ns per call: p50 {:.1}, p90 {:.1}, \
             p99 {:.1} (IRET / CPUID at p50: {:.3})",
            i.p50_ns,
            i.p90_ns,
            i.p99_ns,
            i.p50_ns / c.p50_ns
        );
    }
    if !r.mt.is_empty() {
        let _ = writeln!(
            s,
            "\npipeline_flush_mt, ns per call, against other running threads"
        );
        let _ = writeln!(
            s,
            "  {:>7}  {:>6}  {:>10}  {:>10}  {:>10}",
            "threads", "pinned", "p50", "p90", "p99"
        );
        for t in &r.mt {
            let _ = writeln!(
                s,
                "  {:>7}  {:>6}  {:>10.1}  {:>10.1}  {:>10.1}",
                t.threads,
                match (t.pinned, t.shared_cpus) {
                    (_, true) => "shared",
                    (true, false) => "yes",
                    (false, false) => "no",
                },
                t.latency.p50_ns,
                t.latency.p90_ns,
                t.latency.p99_ns
            );
        }
    }
    if !r.mt.is_empty() {
        let _ = writeln!(
            s,
            "  (threads: other threads spinning while pipeline_flush_mt is timed; pinned: \
             each on its own CPU; shared: more threads than CPUs, time-sliced)"
        );
    }
    if let Some(why) = &r.concurrent_skipped {
        let _ = writeln!(s, "\nconcurrent flushes: skipped: {why}");
    }
    if !r.concurrent.is_empty() {
        let _ = writeln!(
            s,
            "\nconcurrent flushes, µs per flush as each thread sees it (p50, p90, mean)"
        );
        let _ = writeln!(
            s,
            "  {:>3}  {:>26}  {:>26}  {:>10}  {:>11}",
            "K", "raw membarrier", "pipeline_flush_mt", "mean ratio", "calls/flush"
        );
        for c in &r.concurrent {
            let us = |l: &Latency| {
                format!(
                    "{:>8.2} {:>8.2} {:>8.2}",
                    l.p50_ns / 1e3,
                    l.p90_ns / 1e3,
                    l.mean_ns / 1e3
                )
            };
            let _ = writeln!(
                s,
                "  {:>3}  {}  {}  {:>10.2}  {:>11.3}",
                c.k,
                us(&c.raw),
                us(&c.coalesced),
                c.coalesced.mean_ns / c.raw.mean_ns.max(1e-9),
                c.calls_per_flush
            );
        }
        let _ = writeln!(
            s,
            "  (mean ratio: pipeline_flush_mt mean / raw mean, below 1: the crate is cheaper; \
             calls/flush: membarrier calls per flush, below 1: calls were shared)"
        );
    }
    if !r.verify.is_empty() {
        let _ = writeln!(
            s,
            "\nverify: stale-code detector ({})",
            r.verify_setup.as_deref().unwrap_or("")
        );
        let _ = writeln!(
            s,
            "  {:<28}  {:>9}  {:>12}  {:>7}  {:>7}",
            "variant", "rewrites", "executions", "stale", "newer"
        );
        for v in &r.verify {
            if v.ran {
                let _ = writeln!(
                    s,
                    "  {:<28}  {:>9}  {:>12}  {:>7}  {:>7}{}",
                    v.variant,
                    v.rewrites,
                    v.executions,
                    v.stale,
                    v.newer,
                    v.note
                        .as_ref()
                        .map_or(String::new(), |n| format!("  ({n})"))
                );
            } else {
                let _ = writeln!(
                    s,
                    "  {:<28}  {}",
                    v.variant,
                    v.note.as_deref().unwrap_or("not run")
                );
            }
        }
    }
    if !r.verify.is_empty() {
        let _ = writeln!(
            s,
            "  (stale: calls that ran a version older than the one loaded, must be 0; \
             newer: calls that ran a newer one, the writer overtook the runner: harmless)"
        );
    }
    let _ = writeln!(s, "\nnotes:");
    for n in &r.notes {
        let _ = writeln!(s, "- {n}");
    }
    s
}

/// The `--svg` plot.
fn plot(r: &Report) -> String {
    use svg::{Panel, Series};
    let m = &r.machine;
    let sizes = |f: fn(&Latency) -> f64| -> Vec<(f64, f64)> {
        r.sizes
            .iter()
            .map(|z| (z.size as f64, f(&z.latency)))
            .collect()
    };
    let a = Panel {
        title: "(a) clear_cache on just-written ranges".into(),
        x_label: "range size (log2)".into(),
        x_log2_bytes: true,
        series: vec![
            Series {
                name: "p50".into(),
                color: "#1f77b4",
                dashed: false,
                points: sizes(|l| l.p50_ns),
                hollow: r.sizes.iter().map(|z| z.below_resolution).collect(),
            },
            Series {
                name: "p99".into(),
                color: "#1f77b4",
                dashed: true,
                points: sizes(|l| l.p99_ns),
                hollow: Vec::new(),
            },
            // What the clock can resolve per call at each size: two clock
            // steps over the calls in one sample. A curve on or below it is
            // the clock, not the call.
            Series {
                name: "clock limit: 2 clock steps / calls per sample (below: not resolved)".into(),
                color: "#999999",
                dashed: true,
                points: r
                    .sizes
                    .iter()
                    .map(|z| {
                        let calls = z.calls_per_sample.max(1) as f64;
                        (z.size as f64, 2.0 * r.timer.resolution_ns / calls)
                    })
                    .collect(),
                hollow: Vec::new(),
            },
        ],
        empty_note: "no sizes measured".into(),
        footnote: if r.sizes.iter().any(|z| z.below_resolution) {
            format!(
                "hollow: below the clock's resolution (a sample under 2 steps of {:.0} ns): \
                 an upper bound, not a cost",
                r.timer.resolution_ns
            )
        } else {
            String::new()
        },
    };
    let mut b = Vec::new();
    if !r.mt.is_empty() {
        b.push(Series {
            name: "pipeline_flush_mt p50".into(),
            color: "#d62728",
            dashed: false,
            points: r
                .mt
                .iter()
                .map(|t| (t.threads as f64, t.latency.p50_ns))
                .collect(),
            hollow: Vec::new(),
        });
    }
    let b = Panel {
        title: "(b) pipeline_flush_mt with other threads running".into(),
        x_label: "other running threads (spinning; pinned where possible)".into(),
        x_log2_bytes: false,
        series: b,
        empty_note: "not measured (no flush mechanism)".into(),
        footnote: String::new(),
    };
    let mut panels = vec![a, b];
    if !r.concurrent.is_empty() {
        let mean = |f: fn(&ConcurrentResult) -> f64| -> Vec<(f64, f64)> {
            r.concurrent.iter().map(|c| (c.k as f64, f(c))).collect()
        };
        panels.push(Panel {
            title: "(c) K threads flushing at once".into(),
            x_label: "K concurrent callers".into(),
            x_log2_bytes: false,
            series: vec![
                Series {
                    name: "pipeline_flush_mt mean (coalesced)".into(),
                    color: "#2ca02c",
                    dashed: false,
                    points: mean(|c| c.coalesced.mean_ns),
                    hollow: Vec::new(),
                },
                Series {
                    name: "raw membarrier mean".into(),
                    color: "#7f7f7f",
                    dashed: true,
                    points: mean(|c| c.raw.mean_ns),
                    hollow: Vec::new(),
                },
            ],
            empty_note: String::new(),
            footnote: String::new(),
        });
    }
    let title = format!(
        "icache-probe {}: {}, {} CPUs, {}",
        r.version, m.cpu, m.cpus, m.kernel
    );
    let subtitle = format!(
        "{}-{}, policy {}, mechanism {}{}; icache-probe {}",
        m.arch,
        m.os,
        r.policy,
        r.mechanism.unwrap_or("none"),
        if m.emulated.is_some() {
            " (EMULATED: timings are not hardware timings)"
        } else {
            ""
        },
        r.command.join(" ")
    );
    svg::render(&title, &subtitle, &panels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("64"), Ok(64));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("100B"), Ok(100));
        assert!(parse_size("0").is_err());
        assert!(parse_size("x").is_err());
        assert!(parse_size("2G").is_err());
        assert!(parse_size("512M").is_err());
    }

    /// The JSON holds the fields of this architecture only.
    #[test]
    fn geometry_json_fields_per_arch() {
        let g = CacheGeometry::new(64, 64, false, false).unwrap();
        let v = geometry_json(&g);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let aarch64 = ["idc", "dic", "ctr_el0", "l1ip", "zva_block", "midr"];
        for k in aarch64 {
            assert_eq!(
                keys.contains(&k),
                cfg!(target_arch = "aarch64"),
                "{k}: {keys:?}"
            );
        }
        assert_eq!(
            keys.contains(&"clflush_line"),
            cfg!(any(target_arch = "x86", target_arch = "x86_64")),
            "{keys:?}"
        );
        for k in ["cbom_block", "cboz_block"] {
            assert_eq!(
                keys.contains(&k),
                cfg!(target_arch = "riscv64"),
                "{k}: {keys:?}"
            );
        }
        for k in ["source", "d_line", "i_line", "levels", "sizes"] {
            assert!(keys.contains(&k), "{k}: {keys:?}");
        }
    }

    #[test]
    fn cli_lists() {
        let c = Cli::try_parse_from(["p", "--sizes", "64,4K", "--threads", "0,1,3"]).unwrap();
        assert_eq!(c.sizes, [64, 4096]);
        assert_eq!(c.threads, Some(vec![0, 1, 3]));
        let c = Cli::try_parse_from(["p", "--concurrent=1,2,4"]).unwrap();
        assert_eq!(c.concurrent, [1, 2, 4]);
        assert!(Cli::try_parse_from(["p", "--concurrent=0"]).is_err());
        assert!(Cli::try_parse_from(["p", "--strict", "--no-syscalls"]).is_err());
        assert!(Cli::try_parse_from(["p", "--sizes", "abc"]).is_err());
    }
}
