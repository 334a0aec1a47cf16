#!/usr/bin/env python3
"""A test of the coalescer's tests: applies each known bug (a mutation of
src/coalesce/) to a copy of the crate, runs the loom models that should
catch it, and fails unless every mutation is caught.

    python3 .ci/loom-mutations.py            # every mutation
    python3 .ci/loom-mutations.py --fast     # the ones CI runs
    python3 .ci/loom-mutations.py --list

Each mutation names the model(s) that catch it; "caught" means the model
run fails (an assertion of the model or of the protocol, or loom's
deadlock report). The loom build uses the same flags as CI's loom step
(--cfg loom, debug assertions on, --release), in its own target dir.
Prints a table: mutation, catching model, outcome, seconds.
"""
import os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOD = "src/coalesce/mod.rs"

# (name, file, old, new, models that must catch it, in CI's fast set)
MUTATIONS = [
    ("entry fetch_add(0) Relaxed", MOD,
     "w = self.word.fetch_add(0, Ordering::Release);",
     "w = self.word.fetch_add(0, Ordering::Relaxed);",
     ["two_callers_twice_second_call_fails", "three_callers_first_call_fails"], False),
    ("start CAS Release only (no Acquire)", MOD,
     ".compare_exchange(w, w + ONE_SEQ, Ordering::AcqRel, Ordering::Relaxed)",
     ".compare_exchange(w, w + ONE_SEQ, Ordering::Release, Ordering::Relaxed)",
     ["two_callers_twice_share_and_wrap"], True),
    ("entry an Acquire load, not a read-modify-write", MOD,
     "w = self.word.fetch_add(0, Ordering::Release);",
     "w = self.word.load(Ordering::Acquire);",
     ["three_callers_first_call_fails"], False),
    ("successful end Relaxed", MOD,
     "let before = c.word.fetch_add(ONE_SEQ, Ordering::Release);",
     "let before = c.word.fetch_add(ONE_SEQ, Ordering::Relaxed);",
     ["three_callers"], True),
    ("a failed call counted as success", MOD,
     "flight.succeeded = result.is_ok();",
     "flight.succeeded = true;",
     ["two_callers_twice_second_call_fails", "three_callers_second_call_fails"], True),
    ("end wakes nobody when one sleeper is counted (lost wake)", MOD,
     "            if sleepers(before) != 0 {\n                // Wake those",
     "            if sleepers(before) > 1 {\n                // Wake those",
     ["three_callers"], True),
    ("no wake for the next call's sleepers", MOD,
     "wait::wake_ended(c, wait::bit(end), wait::bit((end + 2) & SEQ_MAX));",
     "wait::wake_ended(c, wait::bit(end), 0);",
     ["three_callers"], False),
    ("covered() ignores the wrap", MOD,
     "!(1..=4).contains(&ahead(seq, ticket))",
     "seq >= ticket",
     ["two_callers_twice_share_and_wrap"], True),
    ("ticket lowered when only one call is needed anyway", MOD,
     "if ahead(seq(w), ticket) == 4 {",
     "if ahead(seq(w), ticket) >= 2 {",
     ["two_callers_twice_second_call_fails"], False),
    ("fast path starts a call while one is in flight", MOD,
     "        let mut w = self.word.load(Ordering::Relaxed);\n        if w & IN_FLIGHT == 0 {",
     "        let mut w = self.word.load(Ordering::Relaxed);\n        if w & IN_FLIGHT == 0 || w & 1 == 0 {",
     ["two_callers"], False),
    ("a waiter past its deadline returns Ok without a call", MOD,
     "                        return (barrier(), Path::OwnCall);\n                    }\n                }\n                Err(now) => w = now,",
     "                        return (Ok(()), Path::Contended);\n                    }\n                }\n                Err(now) => w = now,",
     ["three_callers_deadline_passes"], True),
    ("a spurious wake taken as covered", MOD,
     "                    spins = 0;\n                    if !woke {",
     "                    spins = 0;\n                    if woke { return (Ok(()), Path::Contended); }\n                    if !woke {",
     ["three_callers_spurious_wakes"], False),
    ("adoption keeps the inherited word", MOD,
     "        self.word.store(0, Ordering::Relaxed);\n        self.generation.store(now, Ordering::Release);",
     "        self.generation.store(now, Ordering::Release);",
     ["two_callers_inherited_from_a_fork"], True),
    ("uncount after a wake Relaxed", MOD,
     "w = self.word.fetch_sub(1, Ordering::Acquire) - 1;",
     "w = self.word.fetch_sub(1, Ordering::Relaxed) - 1;",
     ["three_callers"], False),
]


def run(cmd, cwd, env, timeout):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr, time.time() - t0
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), time.time() - t0


def main():
    args = sys.argv[1:]
    fast = "--fast" in args
    chosen = [m for m in MUTATIONS if m[5] or not fast]
    if "--list" in args:
        for m in MUTATIONS:
            print(f"{'fast' if m[5] else 'full'}  {m[0]}  (caught by {', '.join(m[4])})")
        return 0
    env = dict(os.environ)
    env["RUSTFLAGS"] = "--cfg loom -C debug-assertions"
    env["CARGO_TARGET_DIR"] = os.path.join(ROOT, "target", "loom-mutants")
    env.setdefault("CARGO_TERM_COLOR", "never")
    work = tempfile.mkdtemp(prefix="loom-mutants-")
    copy = os.path.join(work, "crate")
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("target", ".git", "fuzz", "compat", "examples"))
    rows, missed = [], 0
    try:
        for name, path, old, new, models, _ in chosen:
            f = os.path.join(copy, path)
            original = open(f).read()
            if original.count(old) != 1:
                print(f"FAIL: mutation '{name}' no longer applies (its text is not in {path} exactly once)")
                missed += 1
                continue
            open(f, "w").write(original.replace(old, new))
            try:
                # Caught if any of its models catches it (tried in order).
                tried = []
                total = 0.0
                for model in models:
                    code, out, secs = run(
                        ["cargo", "test", "--release", "--lib", f"coalesce::loom_tests::{model}", "--", "--exact"],
                        copy, env, 900)
                    total += secs
                    if code is not None and code != 0 and ("panicked" in out or "deadlock" in out.lower()):
                        why = "deadlock" if "deadlock" in out.lower() else "assertion"
                        for line in out.splitlines():
                            if any(k in line for k in ("returned Ok", "returned before", "two barrier", "one issuer", "Err without", "assertion", "no execution")):
                                why = line.strip()[:60]
                                break
                        outcome = f"caught by {model}: {why}"
                        break
                    if code is None:
                        tried.append(f"{model}: passed the 900 s limit")
                    elif code != 0:
                        tried.append(f"{model}: build or run error: " + (out.strip().splitlines() or [""])[-1][:80])
                    else:
                        tried.append(f"{model}: passed")
                else:
                    outcome = "NOT CAUGHT (" + "; ".join(tried) + ")"
                    missed += 1
                rows.append((name, outcome))
                print(f"{name:<58} {outcome} ({total:.0f} s)", flush=True)
            finally:
                open(f, "w").write(original)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"({len(rows) - missed} of {len(rows)} mutations caught)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
