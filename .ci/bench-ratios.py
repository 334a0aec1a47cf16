#!/usr/bin/env python3
"""Ratios of the peers to this crate, from one `cargo bench --bench
clear_cache` run (criterion's estimates in target/criterion).

Each row is one case; this crate's median time is the reference (for
`ranges_16x256`, its batched call), and each peer's column is
peer median / reference median: above 1, the peer is slower. Measured side
by side in one run, so machine noise affects all columns alike.

Wasmtime 50 is measured by the same benchmark file built in peers/
(Rust 1.97; results in target/peers/criterion), in its own run, with this
crate again as its reference: where that run has results under the same
baseline, its `wasmtime-50` column is its median over that run's own
icache-coherence median (never over the other run's).

Usage: .ci/bench-ratios.py [BASELINE]   (default: new, criterion's latest)
Prints a Markdown table; exit status 1 if no results were found.
"""
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUPS = ("clear_cache", "ranges_16x256", "pipeline_flush_mt")


def load(baseline, target_dir=("target",)):
    cases = {}  # (group, value) -> {function: median ns}
    for path in glob.glob(os.path.join(ROOT, *target_dir, "criterion", "**", baseline, "benchmark.json"),
                          recursive=True):
        with open(path) as f:
            b = json.load(f)
        if b["group_id"] not in GROUPS:
            continue
        with open(os.path.join(os.path.dirname(path), "estimates.json")) as f:
            median = json.load(f)["median"]["point_estimate"]
        cases.setdefault((b["group_id"], b.get("value_str") or ""), {})[b["function_id"]] = median
    return cases


def key(case):
    group, value = case
    num = "".join(ch for ch in value if ch.isdigit())
    return (GROUPS.index(group), value.split("=")[0] if "=" in value else "", int(num) if num else 0)


def crate(function):
    """`wasmtime-48 separate` -> `wasmtime-48`."""
    return function.removesuffix(" separate").removesuffix(" batch")


def reference(fs):
    """This crate's function in a case: its batched call where it has one."""
    if "icache-coherence batch" in fs:
        return "icache-coherence batch"
    ours = [f for f in fs if f.startswith("icache-coherence")]
    return ours[0] if ours else None


def main():
    baseline = sys.argv[1] if len(sys.argv) > 1 else "new"
    cases, peers_run = load(baseline), load(baseline, ("target", "peers"))
    if not cases and not peers_run:
        print(f"no criterion results for baseline {baseline!r} in target/criterion"
              " or target/peers/criterion", file=sys.stderr)
        sys.exit(1)
    if not cases:  # only the peers run: it is the table (its own reference)
        cases, peers_run = peers_run, {}
        print(f"(only target/peers/criterion has baseline {baseline!r})")
    # The peers run (Wasmtime 50): its peers' ratios to its own reference.
    other = {}  # case -> {crate: ratio}
    for case, fs in peers_run.items():
        ref = reference(fs)
        if ref is not None:
            other[case] = {crate(f): t / fs[ref] for f, t in fs.items() if not f.startswith("icache-coherence")}
    peers = sorted({crate(f) for fs in cases.values() for f in fs} - {"icache-coherence"})
    peers += sorted({c for r in other.values() for c in r} - set(peers))
    print("| case | icache-coherence | " + " | ".join(f"{p} / icache-coherence" for p in peers) + " |")
    print("|---|---:|" + "---:|" * len(peers))
    for case in sorted(cases, key=key):
        fs = cases[case]
        ref_name = reference(fs)
        if ref_name is None:
            continue
        ref = fs[ref_name]
        cols = []
        by_crate = {crate(f): t for f, t in fs.items()}
        for p in peers:
            if p in by_crate:
                cols.append(f"{by_crate[p] / ref:.2f}")
            else:
                r = other.get(case, {}).get(p)
                cols.append(f"{r:.2f}" if r is not None else "–")
        label = f"{case[0]} {case[1]}".strip()
        extra = ""
        if ref_name.endswith("batch") and "icache-coherence separate" in fs:
            extra = f" (separate calls: {fs['icache-coherence separate'] / ref:.2f})"
        print(f"| {label} | {ref:.1f} ns{extra} | " + " | ".join(cols) + " |")


if __name__ == "__main__":
    main()
