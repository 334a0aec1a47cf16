#!/usr/bin/env python3
"""Run herd7 on every litmus test in litmus/aarch64/ and compare verdicts.

Each test states its expected verdict in its comment (`expect: Never` or
`expect: Sometimes`). herd7 runs with `-variant ifetch` (Arm's
instruction-fetch model); a test whose verdict differs, whose output has a
warning, or that states no expectation fails.

    python3 .ci/litmus-check.py --herd BIN/herd7 --herdlib SHARE/herdtools7
        [--bless]     # rewrite the table in docs/CORRECTNESS.md
    python3 .ci/litmus-check.py --hardware RESULTS.txt
        # summarise the output of the litmus7 kit's run.sh from a real machine

Without --bless the table in docs/CORRECTNESS.md (between the
`litmus-table` markers) must equal the one generated from this run, so the
document cannot drift from the tests. Last line: "litmus-check: N passed,
N failed" (or the hardware summary's totals); exit status 1 on any failure.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "litmus", "aarch64")
DOC = os.path.join(ROOT, "docs", "CORRECTNESS.md")
BEGIN = "<!-- litmus-table:begin (written by .ci/litmus-check.py --bless; checked in CI) -->"
END = "<!-- litmus-table:end -->"


def read_test(path):
    text = open(path).read()
    name = text.split("\n", 1)[0].split(None, 1)[1].strip()
    comments = re.findall(r"\(\*(.*?)\*\)", text, flags=re.S)
    comment = comments[0] if comments else ""
    expects = re.findall(r"expect:\s*(\w+)", comment)
    cache = re.search(r"^CacheType=(.*)$", text, flags=re.M)
    # What it models: the comment's first paragraph, on one line.
    first = comment.strip().split("\n\n")[0]
    models = " ".join(first.split())
    return {
        "file": os.path.basename(path),
        "name": name,
        "expect": expects,
        "cache": cache.group(1).strip() if cache else "",
        "models": models,
    }


def ctr(cache):
    # herd7 7.58: CacheType=DIC means DIC=1 and IDC=1 (lib/cacheType.mll).
    keys = set(cache.upper().split())
    idc = 1 if keys & {"IDC", "DIC"} else 0
    dic = 1 if "DIC" in keys else 0
    return f"IDC={idc} DIC={dic}"


def run_herd(herd, herdlib, tests):
    env = dict(os.environ, HERDLIB=herdlib)
    rows, failed = [], 0
    for t in tests:
        start = time.monotonic()
        r = subprocess.run([herd, "-variant", "ifetch", os.path.join(TESTS, t["file"])],
                           capture_output=True, text=True, env=env, cwd=TESTS)
        secs = time.monotonic() - start
        out = r.stdout + r.stderr
        m = re.search(r"^Observation (\S+) (Never|Sometimes|Always) (\d+) (\d+)", out, flags=re.M)
        verdict = m.group(2) if m else None
        problems = []
        if len(t["expect"]) != 1 or t["expect"][0] not in ("Never", "Sometimes", "Always"):
            problems.append(f"states no single `expect:` verdict ({t['expect']})")
        if t["name"] + ".litmus" != t["file"]:
            problems.append(f"its name {t['name']} differs from its file name")
        if r.returncode != 0 or not m:
            problems.append(f"herd7 gave no verdict (exit {r.returncode}): {out.strip()[-300:]}")
        elif m.group(1) != t["name"]:
            problems.append(f"herd7 ran test {m.group(1)}")
        if re.search(r"^Warning", out, flags=re.M):
            problems.append("herd7 warned: " + re.search(r"^Warning.*$", out, flags=re.M).group(0))
        if verdict and t["expect"] and verdict != t["expect"][0]:
            problems.append(f"expected {t['expect'][0]}, herd7 says {verdict}")
        status = "FAIL" if problems else "ok  "
        wit = f"{m.group(3)}/{int(m.group(3)) + int(m.group(4))}" if m else "-"
        print(f"{status} {t['name']:<48} {verdict or '-':<9} (expected {t['expect'][0] if t['expect'] else '?'};"
              f" stale outcomes {wit}; {secs:.1f} s)")
        for p in problems:
            print(f"       {p}")
        failed += bool(problems)
        rows.append((t, verdict))
    return rows, failed


def table(rows):
    lines = ["| test | what it models | CTR_EL0 | herd7 verdict |", "|---|---|---|---|"]
    for t, verdict in rows:
        lines.append(f"| `{t['name']}` | {t['models']} | {ctr(t['cache'])} | {verdict} |")
    return "\n".join(lines)


def docs(rows, bless):
    text = open(DOC).read()
    if BEGIN not in text or END not in text:
        print(f"FAIL {DOC} lacks the litmus-table markers")
        return False
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + BEGIN + "\n" + table(rows) + "\n" + END + tail
    if new == text:
        print("ok   docs/CORRECTNESS.md: the table is current")
        return True
    if bless:
        open(DOC, "w").write(new)
        print("wrote the table in docs/CORRECTNESS.md")
        return True
    print("FAIL docs/CORRECTNESS.md: the table differs from this run; "
          "run `bash .ci/herd.sh --bless` and review the diff")
    return False


def hardware(path, require_all):
    """Summarise a run.sh output from a real machine."""
    text = open(path, errors="replace").read()
    tests = {read_test(p)["name"]: read_test(p) for p in glob.glob(os.path.join(TESTS, "*.litmus"))}
    seen, bad = set(), 0
    for block in re.split(r"^% Results for ", text, flags=re.M)[1:]:
        name = os.path.basename(block.split()[0]).removesuffix(".litmus")
        t = tests.get(name)
        m = re.search(r"^Observation (\S+) (\w+) (\d+) (\d+)", block, flags=re.M)
        seen.add(name)
        if "does not support the CacheType" in block:
            print(f"n/a  {name:<48} this machine lacks the {t['cache'] if t else '?'} feature")
            continue
        if not m or not t:
            print(f"FAIL {name:<48} no Observation line (or not a test of this repository)")
            bad += 1
            continue
        pos, total = int(m.group(3)), int(m.group(3)) + int(m.group(4))
        exp = t["expect"][0]
        if exp == "Never" and pos > 0:
            print(f"FAIL {name:<48} STALE CODE in {pos} of {total} runs; the model says Never")
            bad += 1
        elif exp == "Sometimes":
            print(f"ok   {name:<48} negative control: stale in {pos} of {total}"
                  + ("" if pos else " (not shown on this machine: proves nothing either way)"))
        else:
            print(f"ok   {name:<48} never stale in {total} runs (model: Never)")
    missing = 0
    for name in sorted(set(tests) - seen):
        if "-membarrier" in name:
            print(f"--   {name:<48} not in the kit (models the kernel with EL1 exception handlers)")
        else:
            print(f"{'FAIL' if require_all else '--  '} {name:<48} not in this output")
            missing += 1
    print(f"litmus-check --hardware: {bad} test(s) contradict the model or gave no result, {missing} missing")
    return bad == 0 and not (require_all and missing)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--herd")
    ap.add_argument("--herdlib")
    ap.add_argument("--bless", action="store_true")
    ap.add_argument("--hardware")
    ap.add_argument("--require-all", action="store_true",
                    help="with --hardware: every test of the kit must be in the output")
    a = ap.parse_args()
    if a.hardware:
        return 0 if hardware(a.hardware, a.require_all) else 1
    if not (a.herd and a.herdlib):
        ap.error("--herd and --herdlib are required")
    tests = sorted((read_test(p) for p in glob.glob(os.path.join(TESTS, "*.litmus"))),
                   key=lambda t: (t["expect"][:1] != ["Never"], t["name"]))
    if not tests:
        print(f"FAIL no tests in {TESTS}")
        return 1
    start = time.monotonic()
    rows, failed = run_herd(a.herd, a.herdlib, tests)
    doc_ok = docs(rows, a.bless)
    print(f"litmus-check: {len(rows) - failed} passed, {failed} failed "
          f"({time.monotonic() - start:.0f} s)")
    return 0 if failed == 0 and doc_ok else 1


if __name__ == "__main__":
    sys.exit(main())
