#!/usr/bin/env python3
"""Tie the herd7 litmus tests in litmus/aarch64/ to the shipped code.

Reads the reviewed listings (asm/aarch64.s, the compiled hot paths that
.ci/asm-listings.py keeps equal to the compiler's output) and checks that
each public function's order of cache maintenance and barrier instructions,
on each CTR_EL0.IDC/DIC branch, is the sequence its litmus test(s) model.

    python3 .ci/litmus-tie.py [LISTING]     # default asm/aarch64.s
    python3 .ci/litmus-tie.py --self-test   # mutated copies must fail

Tokens (everything else is ignored): `DC CVAU`, `IC IVAU`, `DSB <option>`,
`DMB <option>`, `ISB`, and in the listings a call to the membarrier
barrier (`bl <...membarrier5flush...>`, token `MEMBARRIER`), which the
litmus test models as the system call `SVC #0`. A run of `DC CVAU` (or of
`IC IVAU`) counts as one token: the loops over lines and ranges.

For the listing, every path from the function's entry to a `ret` is
followed through the control-flow graph (each `tbz`/`tbnz` on bit 28, IDC,
or bit 29, DIC, of the CTR_EL0 value decided by the branch being checked,
every other conditional branch both ways, loops until nothing new comes
out). For each (function, IDC, DIC) in TIES below:

  1. some path's token sequence equals the litmus test's (the writer thread,
     or the part of it named in TIES), and
  2. every path's sequence is either empty (early returns: len == 0, a range
     that wraps, an empty batch) or that same sequence. For
     clear_cache_ranges a path may also leave out a whole DC or IC pass (the
     control-flow graph cannot see that a pass over only empty ranges is
     never reached, because the batch returned early before it).

pipeline_flush_mt's listing is the coalescing protocol around one call to
the membarrier barrier (the system call itself is in libc's `syscall`, not
in the listing): checked here is that it calls that barrier and issues no
`DC`/`IC`/`DSB`/`DMB` (its `ISB`s are spin-loop hints on the waiting path,
which only add synchronisation). Which call is made (SYNC_CORE first) and
when a concurrent call covers the caller are checked by the unit tests and
the loom model (README, "Correctness"), not here.

Every listing_* function must have a row in TIES, and one with IDC/DIC
branches a row for each of the four combinations, so a new public function
fails here until a test models it.

Last line: "litmus-tie: N passed, N failed"; exit status 1 on any failure.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "litmus", "aarch64")

# (listing function, IDC, DIC, litmus test, thread, part of the thread)
# part: "all", or "before:SVC" / "from:SVC" (the membarrier test's writer
# runs clear_cache, then the system call).
_CC = [
    (0, 0, "MP+dc-dsb-ic-dsb-isb+acq-isb", "P0", "all"),
    (0, 0, "SM+dc-dsb-ic-dsb-isb", "P0", "all"),
    (0, 0, "MP+dc-dsb-ic-dsb-isb-membarrier+acq", "P0", "before:SVC"),
    (1, 0, "IDC1.MP+dsb-ic-dsb-isb+acq-isb", "P0", "all"),
    (1, 0, "IDC1.SM+dsb-ic-dsb-isb", "P0", "all"),
    # herd7 treats CacheType=DIC as IDC=1 too; the DIC=1, IDC=0 branch's
    # instructions are checked against the DIC1 tests that keep the DC.
    (0, 1, "DIC1.MP+dc-dsb-isb+acq-isb", "P0", "all"),
    (0, 1, "DIC1.SM+dc-dsb-isb", "P0", "all"),
    (1, 1, "DIC1.MP+dsb-isb+acq-isb", "P0", "all"),
    (1, 1, "DIC1.SM+dsb-isb", "P0", "all"),
]
TIES = (
    [("clear_cache",) + t for t in _CC]
    + [("clear_cache_with",) + t for t in _CC]
    # One alias only: herd7 7.58 cannot combine -variant vmsa with ifetch
    # (litmus/README.md); the order of the sequence is what is tied.
    + [("clear_cache_dual",) + t for t in _CC]
    + [
        ("clear_cache_ranges", 0, 0, "MP2+dc-dc-dsb-ic-ic-dsb-isb+acq-isb", "P0", "all"),
        ("clear_cache_ranges", 1, 0, "IDC1.MP2+dsb-ic-ic-dsb-isb+acq-isb", "P0", "all"),
        ("clear_cache_ranges", 0, 1, "DIC1.MP2+dc-dc-dsb-isb+acq-isb", "P0", "all"),
        ("clear_cache_ranges", 1, 1, "DIC1.MP+dsb-isb+acq-isb", "P0", "all"),
        ("pipeline_flush_local", 0, 0, "MP+dc-dsb-ic-dsb-isb+acq-isb", "P1", "all"),
        ("pipeline_flush_mt", 0, 0, "MP+dc-dsb-ic-dsb-isb-membarrier+acq", "P0", "from:SVC"),
    ]
)
PASSES_MAY_BE_EMPTY = {"clear_cache_ranges"}
MAX_TOKENS = 16  # a longer sequence is reported as a failure (a barrier in a loop)


def collapse(tokens):
    out = []
    for t in tokens:
        if out and t == out[-1] and t in ("DC CVAU", "IC IVAU"):
            continue
        out.append(t)
    return tuple(out)


# ---- litmus side ----

def litmus_threads(path):
    """{thread name: [instruction, ...]} of a litmus test, in program order."""
    text = open(path).read()
    text = re.sub(r"\(\*.*?\*\)", "", text, flags=re.S)
    code = text[text.index("}") + 1:]
    lines = [l for l in code.split("\n") if l.strip()]
    head = [c.strip() for c in lines[0].rstrip().rstrip(";").split("|")]
    threads = {h: [] for h in head}
    for line in lines[1:]:
        if re.match(r"\s*(exists|forall|~exists|locations)\b", line):
            break
        cells = line.rstrip().rstrip(";").split("|")
        for h, cell in zip(head, cells):
            insn = re.sub(r"^\s*\w+:\s*", "", cell).strip()
            if insn:
                threads[h].append(insn)
    return threads


def litmus_token(insn):
    u = " ".join(insn.upper().replace(",", " ").split())
    for t in ("DC CVAU", "IC IVAU"):
        if u.startswith(t):
            return t
    if u == "ISB":
        return "ISB"
    m = re.match(r"(DSB|DMB) (\w+)$", u)
    if m:
        return f"{m.group(1)} {m.group(2)}"
    if u.startswith("SVC"):
        return "SVC"
    return None


def litmus_sequence(test, thread, part):
    insns = litmus_threads(os.path.join(TESTS, test + ".litmus"))[thread]
    toks = [t for t in map(litmus_token, insns) if t]
    if part != "all":
        how, marker = part.split(":")
        i = toks.index(marker)
        toks = toks[:i] if how == "before" else toks[i:]
    return collapse(toks)


# ---- listing side ----

def parse_listing(path):
    funcs, name = {}, None
    for line in open(path):
        m = re.match(r"^listing_(\w+):\s*$", line)
        if m:
            name = m.group(1)
            funcs[name] = []
            continue
        if name and line.startswith("    ") and line.strip():
            insn = line.split("//", 1)[0].strip()
            if insn:
                funcs[name].append(insn)
    return funcs


def listing_token(insn):
    op, _, rest = insn.partition(" ")
    rest = rest.strip()
    if op == "dc" and rest.startswith("cvau"):
        return "DC CVAU"
    if op == "ic" and rest.startswith("ivau"):
        return "IC IVAU"
    if op in ("dsb", "dmb"):
        return f"{op.upper()} {rest.upper()}"
    if op == "isb":
        return "ISB"
    if op == "svc":
        return "SVC"
    if op == "bl" and "membarrier" in rest and "flush" in rest:
        return "MEMBARRIER"
    if op in ("dc", "ic"):
        return f"{op.upper()} {rest.split(',')[0].upper()}"
    return None


def successors(insns, pc, idc, dic):
    """Next pcs after the instruction at index pc; [] at ret. Raises on
    control flow this check cannot follow."""
    insn = insns[pc]
    op, _, rest = insn.partition(" ")
    target = re.search(r"<\+0x([0-9a-f]+)>", rest)
    tgt = int(target.group(1), 16) // 4 if target else None
    nxt = pc + 1
    if op == "ret":
        return []
    if op in ("br", "blr", "eret") or (op == "b" and tgt is None):
        raise ValueError(f"cannot follow `{insn}`")
    if op == "b":
        return [tgt]
    if op in ("tbz", "tbnz"):
        bit = int(re.search(r"#(\d+)", rest).group(1))
        if bit in (28, 29):
            set_ = idc if bit == 28 else dic
            taken = set_ if op == "tbnz" else not set_
            return [tgt] if taken else [nxt]
        return [tgt, nxt]
    if op.startswith("b.") or op in ("cbz", "cbnz"):
        return [tgt, nxt]
    return [nxt]  # includes bl: the call returns


def path_sequences(insns, idc, dic):
    """Every token sequence of an entry-to-ret path (collapsed)."""
    seen, out, work = set(), set(), [(0, ())]
    while work:
        pc, seq = work.pop()
        if (pc, seq) in seen:
            continue
        seen.add((pc, seq))
        if pc >= len(insns):
            raise ValueError(f"falls off the end at #{pc}")
        tok = listing_token(insns[pc])
        if tok:
            seq = collapse(seq + (tok,))
            if len(seq) > MAX_TOKENS:
                raise ValueError(f"a path has more than {MAX_TOKENS} tokens: {' ; '.join(seq)}")
        nexts = successors(insns, pc, idc, dic)
        if not nexts:
            out.add(seq)
        for n in nexts:
            work.append((n, seq))
    return out


def drops_passes(seq, model):
    """seq is model with some whole DC/IC passes left out."""
    i = 0
    for t in model:
        if i < len(seq) and seq[i] == t:
            i += 1
        elif t not in ("DC CVAU", "IC IVAU"):
            return False
    return i == len(seq)


def fmt(seq):
    return " ; ".join(seq) if seq else "(nothing)"


def check(listing):
    funcs = parse_listing(listing)
    passed = failed = 0
    for func, idc, dic, test, thread, part in TIES:
        label = f"{func} IDC={idc} DIC={dic} ~ {test} {thread}" + ("" if part == "all" else f" ({part})")
        try:
            model = litmus_sequence(test, thread, part)
            insns = funcs.get(func)
            if insns is None:
                raise ValueError(f"listing_{func} is not in {listing}")
            if func == "pipeline_flush_mt":
                toks = [t for t in map(listing_token, insns) if t]
                bad = [t for t in toks if t not in ("MEMBARRIER", "ISB")]
                if model != ("SVC",):
                    raise ValueError(f"the test models {fmt(model)}, expected one SVC")
                if "MEMBARRIER" not in toks:
                    raise ValueError("the listing never calls the membarrier barrier")
                if bad:
                    raise ValueError(f"the listing issues {', '.join(sorted(set(bad)))}")
            else:
                seqs = path_sequences(insns, idc, dic)
                if model not in seqs:
                    raise ValueError(f"no path runs the modelled {fmt(model)}; paths: "
                                     + " | ".join(sorted(fmt(s) for s in seqs)))
                for s in seqs:
                    ok = (not s or s == model
                          or (func in PASSES_MAY_BE_EMPTY and drops_passes(s, model)))
                    if not ok:
                        raise ValueError(f"a path runs {fmt(s)}; the test models {fmt(model)}")
            print(f"ok   {label}: {fmt(model)}")
            passed += 1
        except (ValueError, KeyError) as e:
            print(f"FAIL {label}: {e}")
            failed += 1
    # Coverage: every function in the listing has a tie, and each one with
    # IDC/DIC branches has one for each of the four combinations.
    for func, insns in sorted(funcs.items()):
        configs = {(i, d) for f, i, d, *_ in TIES if f == func}
        branches = any(re.match(r"tbn?z \w+, #(28|29),", i) for i in insns)
        need = {(0, 0), (0, 1), (1, 0), (1, 1)} if branches else {(0, 0)}
        if not configs:
            print(f"FAIL listing_{func}: no litmus test is tied to it (add it to TIES)")
            failed += 1
        elif not need <= configs:
            print(f"FAIL listing_{func}: no tie for IDC/DIC = {sorted(need - configs)}")
            failed += 1
    print(f"litmus-tie: {passed} passed, {failed} failed")
    return failed == 0


# ---- self-test: mutated copies of the listing must fail ----

def mutate(lines, func, pattern, how, nth=0):
    """Return a copy of the listing lines with one change inside listing_func.
    how: 'nop' replaces the nth matching instruction (offsets unchanged),
    'nop-all' every matching one, 'swap-next' swaps it with the next line."""
    out = list(lines)
    start = out.index(f"listing_{func}:\n")
    hits = []
    for i in range(start + 1, len(out)):
        if re.match(r"^listing_\w+:", out[i]):
            break
        insn = out[i].split("//", 1)[0].strip()
        if re.fullmatch(pattern, insn):
            hits.append(i)
    if not hits:
        raise SystemExit(f"self-test: no `{pattern}` in listing_{func}")
    if how == "nop-all":
        for i in hits:
            out[i] = "    nop  // mutated\n"
    elif how == "nop":
        out[hits[nth]] = "    nop  // mutated\n"
    elif how == "swap-next":
        i = hits[nth]
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


MUTATIONS = [
    ("clear_cache: the ISB removed", "clear_cache", r"isb", "nop", 0),
    ("clear_cache: every DC CVAU removed", "clear_cache", r"dc cvau, x\d+", "nop-all", 0),
    ("clear_cache: the first DSB moved below the DIC test", "clear_cache", r"dsb ish", "swap-next", 0),
    ("clear_cache_ranges: the last DSB moved after the ISB", "clear_cache_ranges", r"dsb ish", "swap-next", 1),
    ("clear_cache_with: the DIC path's ISB removed", "clear_cache_with", r"isb", "nop", 0),
    ("clear_cache_dual: every IC IVAU removed", "clear_cache_dual", r"ic ivau, x\d+", "nop-all", 0),
    ("pipeline_flush_local: the ISB removed", "pipeline_flush_local", r"isb", "nop", 0),
    ("pipeline_flush_mt: the barrier call removed", "pipeline_flush_mt", r"bl <.*membarrier.*flush.*>", "nop-all", 0),
]


def self_test(listing):
    lines = open(listing).readlines()
    ok = True
    with tempfile.TemporaryDirectory() as d:
        for what, func, pattern, how, nth in MUTATIONS:
            path = os.path.join(d, "aarch64.s")
            open(path, "w").writelines(mutate(lines, func, pattern, how, nth))
            r = subprocess.run([sys.executable, os.path.abspath(__file__), path],
                               capture_output=True, text=True)
            fails = [l for l in r.stdout.splitlines() if l.startswith("FAIL")]
            if r.returncode != 0 and fails:
                print(f"ok   mutation fails the tie check: {what}\n       it says: {fails[0][5:]}")
            else:
                print(f"FAIL mutation passed the tie check: {what}")
                ok = False
    print("litmus-tie self-test:", "every mutation failed the check" if ok else "FAILED")
    return ok


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    listing = args[0] if args else os.path.join(ROOT, "asm", "aarch64.s")
    if "--self-test" in argv:
        if not check(listing):
            print("litmus-tie self-test: the unmutated listing fails; fix that first")
            return 1
        return 0 if self_test(listing) else 1
    return 0 if check(listing) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
