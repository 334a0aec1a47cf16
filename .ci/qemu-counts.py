#!/usr/bin/env python3
"""Count what clear_cache, clear_cache_ranges, clear_cache_dual,
pipeline_flush_local, init and pipeline_flush_mt execute, under QEMU.

QEMU keeps its own translated code coherent, so running JIT code under it
cannot show a missing DC or IC. This script counts instead:

1. Maintenance instructions, per window of examples/count_driver.rs, with the
   TCG plugin tests/qemu/insn_count.c (classified by encoding), and every
   instruction executed between a window's markers (`insns`).
2. The address every DC CVAU / IC IVAU received, and the order in which the
   DC, IC, DSB ISH and ISB ran, from QEMU's register log (-singlestep -d cpu
   -dfilter on exactly those instructions).
3. System calls, from QEMU's -strace log.

Every window is checked against an independent model (below, byte by byte,
from the crate's documented sequences), and the figures the issues fix are
checked as constants. The last line is "N passed, N failed"; the exit status
is non-zero on any failure.

AArch64 runs once per QEMU_CPU given; riscv64 (FENCE.I of
pipeline_flush_local, and its syscalls) runs once after them, with QEMU's
default riscv64 CPU, whatever the arguments.

4. The peers (wasmtime-internal-jit-icache-coherence 48.0.x and 50.0.x,
   clear-cache) on the same calls, counted the same way, and whether they
   maintain every line. 48.0.x and clear-cache are the crate's
   dev-dependencies (examples/count_driver.rs); 50.0.x needs Rust 1.97, so
   the same driver is built by peers/Cargo.toml with that toolchain
   (PEERS_TOOLCHAIN, default 1.97.0; for riscv64, which rustup has no 1.97
   standard library for here, nightly 1.97 with -Zbuild-std) into
   target/peers and runs only its wasmtime windows (`windows peers`).

It ends by printing a Markdown table of it all. With --write-docs the
table replaces the <!-- counts:begin --> ... <!-- counts:end --> block of
docs/PERFORMANCE.md; with --check-docs a table there that differs fails
(CI). --write-readme and --check-readme are the old names of the same
flags (the table lived in README.md before).

Usage: .ci/qemu-counts.py [--write-docs|--check-docs] [QEMU_CPU ...]
       (default models: cortex-a53 a64fx max)
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHES = {
    # arch: (rust target, qemu command)
    "aarch64": ("aarch64-unknown-linux-gnu", ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]),
    "riscv64": ("riscv64gc-unknown-linux-gnu", ["qemu-riscv64", "-L", "/usr/riscv64-linux-gnu"]),
    "x86_64": ("x86_64-unknown-linux-gnu", ["qemu-x86_64"]),
}
PLUGIN = os.path.join(ROOT, "target", "qemu-plugin", "libinsn_count.so")
KINDS = ("dc", "ic", "dsb", "isb", "fencei")


PEERS_TOOLCHAIN = os.environ.get("PEERS_TOOLCHAIN", "1.97.0")


def driver(arch, peers=False):
    if peers:
        return os.path.join(ROOT, "target", "peers", ARCHES[arch][0], "release", "count_driver")
    return os.path.join(ROOT, "target", ARCHES[arch][0], "release", "examples", "count_driver")


# Per QEMU model and window: (dc, ic, dsb, isb) as the issues state them.
FIXED = {
    "cortex-a53": {  # 64-byte lines
        "probed-4k-aligned": (64, 64, 2, 1),
        "ranges-16x256": (64, 64, 2, 1),
        "separate-16x256": (64, 64, 32, 16),
        "ranges-overlap": (5, 5, 2, 1),
        "ranges-unsorted": (3, 3, 2, 1),
        "dual-4k": (64, 64, 2, 1),
    },
    "a64fx": {  # 256-byte lines
        "probed-4k-aligned": (16, 16, 2, 1),
        "ranges-16x256": (16, 16, 2, 1),
        "separate-16x256": (16, 16, 32, 16),
        "ranges-overlap": (2, 2, 2, 1),
        "ranges-unsorted": (3, 3, 2, 1),
        "dual-4k": (16, 16, 2, 1),
    },
    "max": {  # 32-byte lines
        "probed-4k-aligned": (128, 128, 2, 1),
        "ranges-16x256": (128, 128, 2, 1),
        "separate-16x256": (128, 128, 32, 16),
        "ranges-overlap": (12, 12, 2, 1),
        "ranges-unsorted": (5, 5, 2, 1),
        "dual-4k": (128, 128, 2, 1),
    },
}
# Given geometries, or no maintenance at all, any model: window -> (dc, ic, dsb, isb).
FIXED_GIVEN = {
    "idc-dic-4k": (0, 0, 1, 1),
    "idc-4k": (0, 64, 2, 1),
    "ranges-idc-dic-16x256": (0, 0, 1, 1),
    "ranges-idc-16x256": (0, 64, 2, 1),
    "ranges-dic-16x256": (64, 0, 1, 1),
    "ranges-d64-i128-overlap": (5, 3, 2, 1),
    "ranges-none": (0, 0, 0, 0),
    "ranges-all-empty": (0, 0, 0, 0),
    "ranges-one-wraps": (0, 0, 0, 0),
    "dual-0-bytes": (0, 0, 0, 0),
    "empty": (0, 0, 0, 0),
    "local-sync": (0, 0, 0, 1),
    "local-sync-x3": (0, 0, 0, 3),
}
FIXED_RISCV = {"empty": 0, "local-sync": 1, "local-sync-x3": 3}  # window -> fence.i
# Windows that must execute exactly this many instructions between the
# markers (the plugin counts neither marker): nothing but the call itself.
FIXED_INSNS = {"empty": 0, "local-sync": 1, "local-sync-x3": 3}

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")


def run(cmd, env=None, **kw):
    return subprocess.run(cmd, check=True, env=env, text=True, capture_output=True, **kw)


# --- The model --------------------------------------------------------------
# A window's calls become the list of maintenance events they must execute,
# in order: ("dc", address), ("ic", address), ("dsb", None), ("isb", None),
# ("fencei", None).


def wraps(ptr, length):
    return length != 0 and ptr + length > 1 << 64


def lines(ptr, length, size):
    """Every size-byte line holding a byte of [ptr, ptr + length), ascending."""
    return sorted({(ptr + i) & ~(size - 1) for i in range(length)})


def maintenance(ctr, d_lines, i_lines):
    """The documented AArch64 sequence for these D and I lines."""
    idc, dic = bool(ctr >> 28 & 1), bool(ctr >> 29 & 1)
    events = [] if idc else [("dc", a) for a in d_lines]
    events.append(("dsb", None))
    if not dic:
        events += [("ic", a) for a in i_lines] + [("dsb", None)]
    return events + [("isb", None)]


def line_sizes(ctr):
    return 4 << ((ctr >> 16) & 0xF), 4 << (ctr & 0xF)


def model_op(op, ctr, arch):
    kind, _, args = op.partition(":")
    if kind == "l":  # pipeline_flush_local
        return [("isb" if arch == "aarch64" else "fencei", None)]
    if kind == "c" and arch == "riscv64":  # riscv_flush_icache: the kernel's
        return []
    d_line, i_line = line_sizes(ctr)
    if kind == "c":  # clear_cache: nothing for 0 bytes or a wrapping range
        ptr, length = (int(v, 0) for v in args.split(":"))
        if length == 0 or wraps(ptr, length):
            return []
        return maintenance(ctr, lines(ptr, length, d_line), lines(ptr, length, i_line))
    if kind == "b":  # clear_cache_ranges: one sequence; consecutive repeats once
        ranges = [tuple(int(v, 0) for v in r.split(":")) for r in args.split(",") if r]
        if any(wraps(p, n) for p, n in ranges):
            return []
        ranges = [(p, n) for p, n in ranges if n]
        if not ranges:
            return []

        def visits(size):
            out = []
            for p, n in ranges:
                for a in lines(p, n, size):
                    if not out or out[-1] != a:
                        out.append(a)
            return out

        return maintenance(ctr, visits(d_line), visits(i_line))
    if kind == "d":  # clear_cache_dual: D lines of written, I lines of executed
        w, x, length = (int(v, 0) for v in args.split(":"))
        if length == 0 or wraps(w, length) or wraps(x, length):
            return []
        return maintenance(ctr, lines(w, length, d_line), lines(x, length, i_line))
    raise ValueError(f"unknown call {op}")


def model(ops, ctr, arch):
    return [e for op in ops for e in model_op(op, ctr, arch)]


def counts_of(events):
    return tuple(sum(k == kind for k, _ in events) for kind in KINDS)


# --- Running the driver -----------------------------------------------------


def parse_windows(stdout):
    """The driver's window lines: (name, CTR_EL0 or None, [call, ...])."""
    out = []
    for line in stdout.splitlines():
        name, ctr, *ops = line.split()
        out.append((name, None if ctr == "-" else int(ctr, 16), ops))
    return out


def parse_counts(path):
    with open(path) as f:
        return [{k: int(v) for k, v in (kv.split("=") for kv in l.split()[2:])}
                for l in f.read().splitlines() if l.startswith("window ")]


def parse_cpu_log(path, sites):
    """The maintenance events of each window, in order, with the register
    each DC/IC received, split into windows by the markers."""
    windows, current = [], None
    pc_re = re.compile(r"PC=([0-9a-f]+)")
    reg_re = re.compile(r"X(\d\d)=([0-9a-f]+)")
    with open(path) as f:
        text = f.read()
    # Each register dump starts with " PC=".
    for block in text.split(" PC=")[1:]:
        pc = int(pc_re.match("PC=" + block).group(1), 16)
        kind, reg = sites.get(pc, (None, None))
        if kind == "start":
            current = []
        elif kind == "end":
            windows.append(current)
            current = None
        elif kind in ("dc", "ic") and current is not None:
            regs = {int(n): int(v, 16) for n, v in reg_re.findall(block)}
            current.append((kind, regs[reg]))
        elif kind in ("dsb", "isb") and current is not None:
            current.append((kind, None))
    return windows


def hexes(addrs):
    return [hex(a) for a in addrs[:4]] + (["..."] if len(addrs) > 4 else [])


def differ(got, want):
    """Where two address lists first differ, for a failure message."""
    i = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
    at = lambda l: hex(l[i]) if i < len(l) else "nothing"
    return f"{len(got)} logged, model {len(want)}; first difference at #{i}: {at(got)}, model {at(want)}"


def summary(ops):
    """A short description of a window's calls, for the table."""
    if not ops:
        return "-"
    kinds = {op[0] for op in ops}
    if len(ops) == 1 and ops[0][0] == "c":
        ptr, length = ops[0][2:].split(":")
        return f"clear {ptr}+{length}"
    if len(ops) == 1 and ops[0][0] == "b":
        n = len([r for r in ops[0][2:].split(",") if r])
        return f"ranges x{n}"
    if len(ops) == 1 and ops[0][0] == "d":
        w, x, length = ops[0][2:].split(":")
        return f"dual {w}/{x[-4:]}+{length}"
    name = {"c": "clear", "l": "local"}.get(ops[0][0], ops[0][0])
    return f"{name} x{len(ops)}" if len(kinds) == 1 else " ".join(ops)


def dual_aliases(name, ops, ctr, d_addrs, i_addrs, cpu):
    """Every DC on a line of the written alias, every IC on one of the
    executed alias, and the two aliases' lines disjoint."""
    w, x, length = (int(v, 0) for v in ops[0][2:].split(":"))
    d_line, i_line = line_sizes(ctr)
    rw = (w & ~(d_line - 1), (w + length - 1) | (d_line - 1))
    rx = (x & ~(i_line - 1), (x + length - 1) | (i_line - 1))
    check(rw[1] < rx[0] or rx[1] < rw[0], f"{cpu} {name}: the aliases' lines overlap")
    check(all(rw[0] <= a <= rw[1] for a in d_addrs) and d_addrs,
          f"{cpu} {name}: DC outside the written alias {rw[0]:#x}..{rw[1]:#x}: {hexes(d_addrs)}")
    check(all(rx[0] <= a <= rx[1] for a in i_addrs) and i_addrs,
          f"{cpu} {name}: IC outside the executed alias {rx[0]:#x}..{rx[1]:#x}: {hexes(i_addrs)}")


def instruction_counts(cpu, peers=False):
    """Every window of the driver (with peers: the peers driver's wasmtime
    windows), counted, logged, and checked against the model."""
    env = dict(os.environ, QEMU_CPU=cpu)
    qemu, exe = ARCHES["aarch64"][1], driver("aarch64", peers)
    sites = {}
    for line in run(qemu + [exe, "sites"], env).stdout.splitlines():
        kind, addr, reg = line.split()
        sites[int(addr, 16)] = (kind, int(reg[1:]))
    for kind in ("dc", "ic", "dsb", "isb", "start", "end"):
        check(any(k == kind for k, _ in sites.values()), f"{cpu}: found {kind} sites")
    dfilter = ",".join(f"{a:#x}+4" for a in sites)
    with tempfile.TemporaryDirectory() as tmp:
        counts_file, log = os.path.join(tmp, "counts"), os.path.join(tmp, "cpu.log")
        out = run(qemu + ["-plugin", f"{PLUGIN},out={counts_file}", "-singlestep",
                          "-d", "cpu,nochain", "-dfilter", dfilter, "-D", log,
                          exe, "windows"] + (["peers"] if peers else []), env).stdout
        windows, counts = parse_windows(out), parse_counts(counts_file)
        logged = parse_cpu_log(log, sites)
    check(len(windows) == len(counts) == len(logged),
          f"{cpu}: {len(windows)} windows, {len(counts)} counted, {len(logged)} logged")
    names = {name for name, _, _ in windows}
    for name in [] if peers else list(FIXED.get(cpu, {})) + list(FIXED_GIVEN):
        check(name in names, f"{cpu}: window {name} ran")
    print(f"{cpu}:" + (" (peers driver, Wasmtime 50)" if peers else ""))
    print(f"  {'window':<24} {'calls':<30} {'CTR_EL0':>10}   dc   ic  dsb  isb insns  sequence")
    for (name, ctr, ops), c, events in zip(windows, counts, logged):
        if ops and ops[0][0] in PEER_OPS:
            peer_row(cpu, name, ctr, ops, c, events)
            continue
        check(not peers, f"{cpu} {name}: the peers driver ran a window of this crate")
        want_events = model(ops, ctr, "aarch64")
        want = counts_of(want_events)
        got = tuple(c[k] for k in KINDS)
        check(got == want, f"{cpu} {name}: counts {got}, model {want} (dc, ic, dsb, isb, fence.i)")
        d_addrs = [a for k, a in events if k == "dc"]
        i_addrs = [a for k, a in events if k == "ic"]
        want_d = [a for k, a in want_events if k == "dc"]
        want_i = [a for k, a in want_events if k == "ic"]
        check(d_addrs == want_d, f"{cpu} {name}: DC addresses: {differ(d_addrs, want_d)}")
        check(i_addrs == want_i, f"{cpu} {name}: IC addresses: {differ(i_addrs, want_i)}")
        order = compress([k for k, _ in events])
        want_order = compress([k for k, _ in want_events])
        check(events == want_events,
              f"{cpu} {name}: executed in the order {order[:80]}, model {want_order[:80]}"
              if order != want_order else f"{cpu} {name}: executed in the model's order, at other addresses")
        if name in FIXED.get(cpu, {}):
            check(got[:4] == FIXED[cpu][name], f"{cpu} {name}: {got[:4]}, the issue says {FIXED[cpu][name]}")
        if name in FIXED_GIVEN:
            check(got[:4] == FIXED_GIVEN[name], f"{cpu} {name}: {got[:4]}, the issue says {FIXED_GIVEN[name]}")
        if name in FIXED_INSNS:
            check(c["insns"] == FIXED_INSNS[name],
                  f"{cpu} {name}: {c['insns']} instructions in the window, want exactly {FIXED_INSNS[name]}")
        if ops and ops[0].startswith("d:") and model(ops, ctr, "aarch64"):
            dual_aliases(name, ops, ctr, d_addrs, i_addrs, cpu)
        ok = "ok" if events == want_events else "WRONG"
        print(f"  {name:<24} {summary(ops):<30} {ctr:>#10x} {got[0]:>4} {got[1]:>4} {got[2]:>4} "
              f"{got[3]:>4} {c['insns']:>5}  {ok}")
        ROWS[(cpu, name)] = (got[:4], c["insns"], "yes")
    for name in PEER_WINDOWS[peers]:
        check((cpu, name) in ROWS, f"{cpu}: peer window {name} ran")


# --- The generated table (docs/PERFORMANCE.md) -------------------------------

PEER_OPS = ("W", "K")  # a window of a peer's calls: W (wasmtime), K (clear-cache)
# The peers, as the tables name them; the window names start with these.
# Wasmtime 48.0.x stands for 49.0.x too (the same source; cranelift-jit
# 0.135 and 0.136 pin them).
PEERS = ["wasmtime-48", "wasmtime-50", "clear-cache"]
PEER_WINDOWS = {  # the root driver's peer windows, the peers driver's
    peers: [f"{crate}-{case}" for crate in (["wasmtime-50"] if peers else ["wasmtime-48", "clear-cache"])
            for case in ("4k-aligned", "4k-plus-1", "separate-16x256")]
    for peers in (False, True)}
ROWS = {}      # (cpu, window) -> ((dc, ic, dsb, isb), insns, covers every line)
SYSCALLS = {}  # (what, crate) -> system calls per call, from -strace


def peer_row(cpu, name, ctr, ops, c, events):
    """A peer's window: counted, and compared with the lines that must be
    maintained (this crate's model of the same calls)."""
    got = tuple(c[k] for k in KINDS)[:4]
    need = model(["c" + op[1:] for op in ops], ctr, "aarch64")
    missing = []
    for kind in ("dc", "ic"):
        done = {a for k, a in events if k == kind}
        missing += [a for k, a in need if k == kind and a not in done]
    # Every IC must come after a DC of the line and a DSB (unless IDC), then a
    # DSB and an ISB last: checked as "the needed lines were all visited".
    cover = "yes" if not missing else f"no: {len(missing)} lines never maintained"
    ROWS[(cpu, name)] = (got, c["insns"], cover)
    print(f"  {name:<24} {summary(ops):<30} {ctr:>#10x} {got[0]:>4} {got[1]:>4} {got[2]:>4} "
          f"{got[3]:>4} {c['insns']:>5}  peer; covers every line: {cover}")


CASES = [  # (case, this crate's window, the peers' window suffix)
    ("clear_cache, 4 KiB aligned", "probed-4k-aligned", "4k-aligned"),
    ("clear_cache, 4 KiB at +1", "probed-4k-plus-1", "4k-plus-1"),
    ("16 x 256 B, one batch", "ranges-16x256", None),
    ("16 x 256 B, 16 calls", "separate-16x256", "separate-16x256"),
]
GIVEN_CASES = [  # this crate only: the peers take no geometry
    ("clear_cache_with, IDC+DIC, 4 KiB", "idc-dic-4k"),
    ("clear_cache_with, IDC, 4 KiB", "idc-4k"),
    ("clear_cache_with, DIC, 4 KiB", "dic-4k"),
    ("clear_cache_with, D 64 B / I 32 B, 4 KiB", "d64-i32-4k"),
]


def per_line(counts, insns):
    lines = counts[0] + counts[1]
    return f"{(insns - sum(counts)) / lines:.2f}" if lines else "–"


def markdown(cpus):
    out = ["<!-- Generated by `python3 .ci/qemu-counts.py --write-docs`: do not edit. -->",
           "",
           "Executed per call under QEMU 7.2 user mode (counted by the TCG plugin "
           "`tests/qemu/insn_count.c`; addresses and order checked separately). "
           "`other/line`: executed instructions that are not maintenance, per "
           "line maintained (loop, range checks, call). `complete`: every line "
           "the range touches was cleaned and invalidated.",
           "",
           "| QEMU_CPU | case | crate | dc | ic | dsb | isb | instructions | other/line | complete |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for cpu in cpus:
        for case, ours, peer in CASES:
            for crate, window in [("icache-coherence", ours)] + (
                    [(p, f"{p}-{peer}") for p in PEERS] if peer else []):
                if (cpu, window) not in ROWS:
                    continue
                (dc, ic, dsb, isb), insns, cover = ROWS[(cpu, window)]
                out.append(f"| {cpu} | {case} | {crate} | {dc} | {ic} | {dsb} | {isb} | {insns} | "
                           f"{per_line((dc, ic, dsb, isb), insns)} | {cover} |")
    for case, window in GIVEN_CASES:
        if (cpus[0], window) in ROWS:
            (dc, ic, dsb, isb), insns, cover = ROWS[(cpus[0], window)]
            out.append(f"| any | {case} | icache-coherence | {dc} | {ic} | {dsb} | {isb} | {insns} | "
                       f"{per_line((dc, ic, dsb, isb), insns)} | {cover} |")
    out += ["", "riscv64 (QEMU's default CPU): `fence.i` and instructions executed per call "
            "(a system call's own instructions run in the kernel and are not counted here):", "",
            "| case | crate | fence.i | instructions |", "|---|---|---:|---:|"]
    for case, crate, window in [
            ("clear_cache, 4 KiB", "icache-coherence", "riscv-clear-4k")] + [
            ("clear_cache, 4 KiB", p, f"{p}-riscv-clear-4k") for p in PEERS] + [
            ("pipeline_flush_local", "icache-coherence", "local-sync")]:
        if ("riscv64", window) in ROWS:
            counts, insns, _ = ROWS[("riscv64", window)]
            out.append(f"| {case} | {crate} | {counts[4]} | {insns} |")
    out += ["", "x86_64 (QEMU's default CPU, which has no `SERIALIZE`): the serialising instruction "
            "executed per call, and every instruction executed:", "",
            "| case | iretq | serialize | cpuid | instructions |", "|---|---:|---:|---:|---:|"]
    for case, window in [("pipeline_flush_local", "local-sync"),
                         ("clear_cache_dual, same address, 4 KiB", "dual-same-4k"),
                         ("clear_cache_dual, two aliases, 4 KiB", "dual-aliases-4k")]:
        if ("x86_64", window) in ROWS:
            (iret, ser, cpuid), insns, _ = ROWS[("x86_64", window)]
            out.append(f"| {case} | {iret} | {ser} | {cpuid} | {insns} |")
    out += ["", "System calls per call: `SVC #0`/`ECALL` instructions executed by N calls, less "
            "those of 0 calls, divided by N (the plugin; QEMU's `-strace` omits riscv_flush_icache). "
            "The membarrier commands themselves are checked from `-strace`; riscv_flush_icache's "
            "flags argument (`a2`) from QEMU's register log at each `ECALL` (QEMU answers that call "
            "itself, unseen by `-strace`): 0 makes every thread's instruction fetch coherent, 1 "
            "(`SYS_RISCV_FLUSH_ICACHE_LOCAL`) only the calling thread's.", "",
            "| call | " + " | ".join(["icache-coherence"] + PEERS) + " |",
            "|---|" + "---:|" * (1 + len(PEERS))]
    for what in ("aarch64 clear_cache (4 KiB) x1000", "aarch64 pipeline_flush_mt x100",
                 "riscv64 clear_cache (4 KiB) x1000", "riscv64 riscv_flush_icache flags"):
        cells = [SYSCALLS.get((what, c), "–") for c in ["icache-coherence"] + PEERS]
        out.append(f"| {what} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


README_BEGIN, README_END = "<!-- counts:begin -->", "<!-- counts:end -->"


# The file that holds the generated table.
DOC = os.path.join("docs", "PERFORMANCE.md")


def readme_block(text):
    path = os.path.join(ROOT, DOC)
    with open(path) as f:
        readme = f.read()
    a, b = readme.find(README_BEGIN), readme.find(README_END)
    if a < 0 or b < a:
        return path, readme, None
    return path, readme, (a + len(README_BEGIN), b)


def peer_syscalls(cpu):
    """System calls of each crate's calls, for the table: SVC/ECALL
    instructions executed (the plugin), N calls against none."""
    def extra(arch, args, base_args, peers=False):
        def total(a):
            plug = plugin_run(arch, a, cpu if arch == "aarch64" else None, peers)[1]
            return int(re.search(r"^syscalls total=(\d+)$", plug, re.M).group(1))
        return total(args) - total(base_args)
    # (op, crate, which driver)
    peers = [("W", "wasmtime-48", False), ("W", "wasmtime-50", True), ("K", "clear-cache", False)]

    def per(n, calls):
        return f"{max(0, calls) / n:.3g}"
    for arch in ("aarch64", "riscv64"):
        what = f"{arch} clear_cache (4 KiB) x1000"
        SYSCALLS[(what, "icache-coherence")] = per(1000, extra(arch, ["clear", "1000"], ["clear", "0"]))
        for c, crate, p in peers:
            SYSCALLS[(what, crate)] = per(1000, extra(arch, ["peer-clear", c, "1000"], ["peer-clear", c, "0"], p))
    ours = membarriers(strace("aarch64", ["flush", "100"], cpu)[1])
    SYSCALLS[("aarch64 pipeline_flush_mt x100", "icache-coherence")] = per(100, len(ours))
    print(f"{cpu}: membarrier for 100 flushes: icache-coherence {len(ours)} {compress([c for c, _, _ in ours])}")
    for crate, p in (("wasmtime-48", False), ("wasmtime-50", True)):
        theirs = membarriers(strace("aarch64", ["wasmtime-flush", "100"], cpu, p)[1])
        SYSCALLS[("aarch64 pipeline_flush_mt x100", crate)] = per(100, len(theirs))
        print(f"{cpu}: membarrier for 100 flushes: {crate} {len(theirs)} {compress([c for c, _, _ in theirs])}")


FLAG_NAMES = {0: "0 (every thread)", 1: "1 (LOCAL: calling thread)"}


def riscv_flush_flags():
    """The flags argument of each crate's riscv_flush_icache calls: 100
    `clear_cache` of 4 KiB, the registers of every ECALL logged by QEMU
    (-singlestep -d cpu -dfilter on the driver's `ecall-sites`), a7 = 259.
    QEMU answers riscv_flush_icache itself, before -strace and the plugins'
    system-call callback see it: the register log is the only witness."""
    env = {k: v for k, v in os.environ.items() if k != "QEMU_CPU"}
    qemu = ARCHES["riscv64"][1]
    runs = [("icache-coherence", ["clear", "100"], False), ("wasmtime-48", ["peer-clear", "W", "100"], False),
            ("wasmtime-50", ["peer-clear", "W", "100"], True), ("clear-cache", ["peer-clear", "K", "100"], False)]
    for crate, args, peers in runs:
        exe = driver("riscv64", peers)
        sites = [l.split()[1] for l in run(qemu + [exe, "ecall-sites"], env).stdout.splitlines()]
        check(len(sites) > 0, f"riscv64 {crate}: found ECALL sites")
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "cpu.log")
            run(qemu + ["-singlestep", "-d", "cpu,nochain", "-dfilter", ",".join(f"{a}+4" for a in sites),
                        "-D", log, exe] + args, env)
            text = open(log).read()
        flags = {}
        for block in text.split(" pc ")[1:]:
            a7 = int(re.search(r"x17/a7\s+([0-9a-f]+)", block).group(1), 16)
            if a7 == 259:
                a2 = int(re.search(r"x12/a2\s+([0-9a-f]+)", block).group(1), 16)
                flags[a2] = flags.get(a2, 0) + 1
        print(f"riscv64: {crate}: clear_cache x100: riscv_flush_icache flags {flags or 'none'}")
        check(sum(flags.values()) == 100, f"riscv64 {crate}: {sum(flags.values())} riscv_flush_icache calls for 100 clear_cache (want 100)")
        if crate == "icache-coherence":
            check(set(flags) == {0}, f"riscv64: icache-coherence passed flags {flags} (want 0: every thread)")
        SYSCALLS[("riscv64 riscv_flush_icache flags", crate)] = \
            ", ".join(FLAG_NAMES.get(f, str(f)) for f in sorted(flags)) or "–"


def compress(kinds):
    """["dc", "dc", "dsb"] -> "dc*2 dsb": a readable event order."""
    out = []
    for k in kinds:
        if out and out[-1][0] == k:
            out[-1][1] += 1
        else:
            out.append([k, 1])
    return " ".join(str(k) if n == 1 else f"{k}*{n}" for k, n in out) or "nothing"


def riscv_counts(peers=False):
    qemu, exe = ARCHES["riscv64"][1], driver("riscv64", peers)
    env = {k: v for k, v in os.environ.items() if k != "QEMU_CPU"}
    with tempfile.TemporaryDirectory() as tmp:
        counts_file = os.path.join(tmp, "counts")
        out = run(qemu + ["-plugin", f"{PLUGIN},out={counts_file}", exe, "windows"]
                  + (["peers"] if peers else []), env).stdout
        windows, counts = parse_windows(out), parse_counts(counts_file)
    check(len(windows) == len(counts), f"riscv64: {len(windows)} windows, {len(counts)} counted")
    names = {name for name, _, _ in windows}
    for name in [] if peers else FIXED_RISCV:
        check(name in names, f"riscv64: window {name} ran")
    print("riscv64:" + (" (peers driver, Wasmtime 50)" if peers else ""))
    print(f"  {'window':<24} {'calls':<30} fence.i insns")
    for (name, _, ops), c in zip(windows, counts):
        if ops and ops[0][0] in PEER_OPS:
            ROWS[("riscv64", name)] = (tuple(c[k] for k in KINDS), c["insns"], "-")
            print(f"  {name:<24} {summary(ops):<30} {c['fencei']:>7} {c['insns']:>5}  peer")
            continue
        want = counts_of(model(ops, None, "riscv64"))
        got = tuple(c[k] for k in KINDS)
        check(got == want, f"riscv64 {name}: counts {got}, model {want} (dc, ic, dsb, isb, fence.i)")
        if name in FIXED_RISCV:
            check(got[4] == FIXED_RISCV[name], f"riscv64 {name}: {got[4]} fence.i, want {FIXED_RISCV[name]}")
        if name in FIXED_INSNS:
            check(c["insns"] == FIXED_INSNS[name],
                  f"riscv64 {name}: {c['insns']} instructions in the window, want exactly {FIXED_INSNS[name]}")
        print(f"  {name:<24} {summary(ops):<30} {got[4]:>7} {c['insns']:>5}")
        ROWS[("riscv64", name)] = (got, c["insns"], "-")
    for name in (["wasmtime-50-riscv-clear-4k"] if peers else
                 ["riscv-clear-4k", "wasmtime-48-riscv-clear-4k", "clear-cache-riscv-clear-4k"]):
        check(("riscv64", name) in ROWS, f"riscv64: window {name} ran")


# --- x86_64: the serialising instruction ----------------------------------
# QEMU's default x86_64 CPU (qemu64) has no SERIALIZE, so the crate's choice
# is IRETQ; CPUID must not run in any window (its probe runs once, before).
# window -> (serialising instructions: IRETQ + SERIALIZE)
FIXED_X86 = {"local-sync": 1, "local-sync-x3": 3, "dual-same-4k": 0, "dual-aliases-4k": 1}


def x86_counts():
    qemu, exe = ARCHES["x86_64"][1], driver("x86_64")
    env = {k: v for k, v in os.environ.items() if k != "QEMU_CPU"}
    with tempfile.TemporaryDirectory() as tmp:
        counts_file = os.path.join(tmp, "counts")
        out = run(qemu + ["-plugin", f"{PLUGIN},out={counts_file}", exe, "windows"], env).stdout
        windows, counts = parse_windows(out), parse_counts(counts_file)
    check(len(windows) == len(counts), f"x86_64: {len(windows)} windows, {len(counts)} counted")
    check({name for name, _, _ in windows} == set(FIXED_X86), f"x86_64: windows {[w[0] for w in windows]}")
    print("x86_64 (qemu64):")
    print(f"  {'window':<24} {'calls':<30} iretq serialize cpuid insns")
    for (name, _, ops), c in zip(windows, counts):
        serialising = c["iret"] + c["serialize"]
        check(serialising == FIXED_X86.get(name),
              f"x86_64 {name}: {serialising} serialising instructions, want {FIXED_X86.get(name)}")
        check(c["cpuid"] == 0, f"x86_64 {name}: {c['cpuid']} CPUID in the window, want 0")
        print(f"  {name:<24} {summary(ops):<30} {c['iret']:>5} {c['serialize']:>9} {c['cpuid']:>5} {c['insns']:>5}")
        ROWS[("x86_64", name)] = ((c["iret"], c["serialize"], c["cpuid"]), c["insns"], "-")


# --- System calls -----------------------------------------------------------

STRACE_RE = re.compile(r"^\d+ (\w+)\(([^)]*)\)(?: = (\S+))?", re.M)


def strace(arch, args, cpu=None, peers=False):
    """The driver's stdout, and the (name, arguments, result) of every
    system call QEMU's -strace logged for it."""
    env = {k: v for k, v in os.environ.items() if k != "QEMU_CPU"}
    if cpu:
        env["QEMU_CPU"] = cpu
    r = run(ARCHES[arch][1] + ["-strace", driver(arch, peers)] + args, env)
    return r.stdout, [(n, a.split(","), ret) for n, a, ret in STRACE_RE.findall(r.stderr)]


def names(calls):
    return [n for n, _, _ in calls]


def membarriers(calls):
    """(cmd, flags, result) of each membarrier call."""
    return [(int(a[0]), int(a[1]), ret) for n, a, ret in calls if n == "membarrier"]


def reported(stdout):
    return [int(v) for v in re.findall(r"^init syscalls=(\d+)$", stdout, re.M)]


def syscall_counts(cpu):
    for n in (1, 10, 100):
        mb = names(strace("aarch64", ["flush", str(n)], cpu)[1]).count("membarrier")
        print(f"{cpu}: pipeline_flush_mt x{n}: {mb} membarrier calls")
        check(n <= mb <= n + 1, f"{cpu}: {n} flushes made {mb} membarrier calls (want {n}..={n + 1})")
    base, many = strace("aarch64", ["clear", "0"], cpu)[1], strace("aarch64", ["clear", "1000"], cpu)[1]
    print(f"{cpu}: clear_cache x1000: {len(many) - len(base)} extra syscalls")
    check(names(base) == names(many), f"{cpu}: clear_cache made syscalls: {len(many) - len(base)}")

    # init(), then 10 flushes: the registration once, first, then one
    # PRIVATE_EXPEDITED_SYNC_CORE per flush.
    out, calls = strace("aarch64", ["init-flush", "10"], cpu)
    mb = membarriers(calls)
    cmds = [cmd for cmd, _, _ in mb]
    print(f"{cpu}: init + pipeline_flush_mt x10: {len(mb)} membarrier calls, commands {compress(cmds)}")
    check(len(mb) == 11, f"{cpu}: init + 10 flushes made {len(mb)} membarrier calls (want 11)")
    check(cmds.count(64) == 1 and cmds[:1] == [64],
          f"{cpu}: init + 10 flushes: registrations (64) {cmds.count(64)}, first command {cmds[:1]} (want 1, first)")
    check(cmds[1:] == [32] * 10, f"{cpu}: init + 10 flushes: commands after the registration {cmds[1:]} (want 32 x10)")
    check(all(flags == 0 and ret == "0" for _, flags, ret in mb),
          f"{cpu}: init + 10 flushes: flags and results {[(f, r) for _, f, r in mb]} (want 0, 0)")
    check(reported(out) == [1], f"{cpu}: init's report says syscalls={reported(out)} (want [1])")

    # init() twice: the second makes no call, and its report says so.
    out, calls = strace("aarch64", ["init-twice"], cpu)
    mb = membarriers(calls)
    print(f"{cpu}: init x2: {len(mb)} membarrier calls, reports say syscalls={reported(out)}")
    check([cmd for cmd, _, _ in mb] == [64], f"{cpu}: init twice: membarrier commands {mb} (want one, 64)")
    check(reported(out) == [1, 0], f"{cpu}: init twice: reports say syscalls={reported(out)} (want [1, 0])")

    local_syscalls("aarch64", cpu)


def local_syscalls(arch, cpu=None):
    """pipeline_flush_local x1000: exactly the system calls of doing nothing."""
    label = cpu or arch
    base = strace(arch, ["baseline"], cpu)[1]
    many = strace(arch, ["local", "1000"], cpu)[1]
    print(f"{label}: pipeline_flush_local x1000: {len(many) - len(base)} extra syscalls")
    check(names(base) == names(many),
          f"{label}: pipeline_flush_local x1000 made syscalls: {len(base)} at baseline, {len(many)} with")


def plugin_run(arch, args, cpu, peers=False):
    """The driver's stdout and the plugin's output for a whole run."""
    env = {k: v for k, v in os.environ.items() if k != "QEMU_CPU"}
    if cpu:
        env["QEMU_CPU"] = cpu
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "plugin.txt")
        r = run(ARCHES[arch][1] + ["-plugin", f"{PLUGIN},arg=out={path}", driver(arch, peers)] + args, env)
        with open(path) as f:
            return r.stdout, f.read()


def ctr_el0_reads(cpu, threads=16):
    """Racing first use: N threads call cache_geometry, clear_cache and
    pipeline_flush_mt at the same instant as their first use. MRS CTR_EL0
    runs at most once per racing thread, and at least once in all."""
    _, base = plugin_run("aarch64", ["baseline"], cpu)
    out, plug = plugin_run("aarch64", ["race", str(threads)], cpu)
    reads = {int(v): int(n) for v, n in re.findall(r"^ctr_el0 vcpu=(\d+) reads=(\d+)$", plug, re.M)}
    base_reads = re.findall(r"^ctr_el0 ", base, re.M)
    total = sum(reads.values())
    print(f"{cpu}: racing first use, {threads} threads: MRS CTR_EL0 {total} times, on {len(reads)} "
          f"threads, at most {max(reads.values(), default=0)} per thread (baseline process: "
          f"{len(base_reads)} reads)")
    check(out.strip() == f"race threads={threads}", f"{cpu}: race driver said {out.strip()!r}")
    check(not base_reads, f"{cpu}: a process that never calls the crate read CTR_EL0: {base}")
    check(1 <= total <= threads, f"{cpu}: {total} CTR_EL0 reads by {threads} racing threads (want 1..={threads})")
    check(all(n == 1 for n in reads.values()), f"{cpu}: CTR_EL0 reads per thread {reads} (want at most 1 each)")


def load_syscalls(cpu):
    """tests/load.rs under QEMU's -strace: 8 runners, 2 patchers; the
    membarrier commands per pipeline_flush_mt call the test reports."""
    env = {k: v for k, v in os.environ.items() if k != "QEMU_CPU"}
    env["QEMU_CPU"] = cpu
    r = run(ARCHES["aarch64"][1] + ["-strace", LOAD_TEST["aarch64"], "--nocapture", "--test-threads=1"], env)
    flushes = re.findall(r"load: [^\n]*? (\d+) pipeline_flush_mt calls", r.stderr)
    # Not anchored: with 10 threads, QEMU's log lines interleave.
    cmds = [int(c) for c in re.findall(r"membarrier\((\d+),", r.stderr)]
    flush_cmds = sum(1 for c in cmds if c in (32, 8))  # SYNC_CORE or PRIVATE_EXPEDITED
    check(len(flushes) == 1, f"{cpu}: load test did not report its flush count (exit {r.returncode})")
    if flushes:
        n = int(flushes[0])
        print(f"{cpu}: load test (8 runners, 2 patchers): {n} pipeline_flush_mt calls, "
              f"{flush_cmds} flushing membarrier calls ({flush_cmds / n:.3f} per flush), "
              f"{len(cmds) - flush_cmds} others {compress([c for c in cmds if c not in (32, 8)])}")
        # Each call serves at most one flush per patcher (2) in progress: a
        # count below n/2 would mean lost log lines, not coalescing.
        check((n + 1) // 2 <= flush_cmds <= n,
              f"{cpu}: load test: {flush_cmds} flushing membarrier calls for {n} flushes (want n/2..=n)")
        check(len(cmds) - flush_cmds <= 4, f"{cpu}: load test: {len(cmds) - flush_cmds} non-flush membarrier calls (want query + registration, <= 4)")


LOAD_TEST = {}


def build():
    os.makedirs(os.path.dirname(PLUGIN), exist_ok=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o", PLUGIN,
                    os.path.join(ROOT, "tests", "qemu", "insn_count.c")], check=True)
    for target, _ in ARCHES.values():
        subprocess.run(["cargo", "build", "--quiet", "--release", "--target", target,
                        "--example", "count_driver"], check=True, cwd=ROOT)
        # The same driver against Wasmtime 50 (Rust 1.97; peers/Cargo.toml).
        # Rustup has no 1.97 (nor nightly) standard library for riscv64 here:
        # there, nightly (1.97) builds it from rust-src.
        toolchain, std = ((PEERS_TOOLCHAIN, []) if target.startswith("aarch64")
                          else ("nightly", ["-Zbuild-std=std,panic_abort"]))
        subprocess.run(["cargo", f"+{toolchain}", "build", "--quiet", "--release", "--locked"] + std +
                       ["--manifest-path", os.path.join(ROOT, "peers", "Cargo.toml"),
                        "--target", target, "--bin", "count_driver"], check=True, cwd=ROOT,
                       env=dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "target", "peers")))
    # The load test's binary (debug, as `cargo test` builds it: reused).
    out = subprocess.run(["cargo", "test", "--quiet", "--no-run", "--target", ARCHES["aarch64"][0],
                          "--test", "load", "--message-format=json"], check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.search(r'"executable":"([^"]+)"', line)
        if m and '"name":"load"' in line:
            LOAD_TEST["aarch64"] = m.group(1)


def main():
    aliases = {"--write-readme": "--write-docs", "--check-readme": "--check-docs"}
    flags = {aliases.get(a, a) for a in sys.argv[1:] if a.startswith("--")}
    unknown = flags - {"--write-docs", "--check-docs"}
    if unknown:
        sys.exit(f"qemu-counts: unknown flag(s) {sorted(unknown)}; see the docstring")
    cpus = [a for a in sys.argv[1:] if not a.startswith("--")] or ["cortex-a53", "a64fx", "max"]
    build()
    for cpu in cpus:
        instruction_counts(cpu)
        instruction_counts(cpu, peers=True)
        syscall_counts(cpu)
        ctr_el0_reads(cpu)
    load_syscalls(cpus[0])
    riscv_counts()
    riscv_counts(peers=True)
    x86_counts()
    local_syscalls("riscv64")
    peer_syscalls(cpus[0])
    riscv_flush_flags()
    table = markdown(cpus)
    print(table)
    if flags & {"--write-docs", "--check-docs"}:
        path, readme, span = readme_block(table)
        check(span is not None, f"{DOC} has no {README_BEGIN} ... {README_END} block")
        if span:
            current = readme[span[0]:span[1]].strip("\n") + "\n"
            if "--write-docs" in flags:
                with open(path, "w") as f:
                    f.write(readme[:span[0]] + "\n" + table + readme[span[1]:])
                print(f"wrote the table into {path}")
            else:
                check(current == table, f"{DOC}'s generated table differs from this run's: "
                      "run python3 .ci/qemu-counts.py --write-docs and review the diff")
    print(f"qemu-counts: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
