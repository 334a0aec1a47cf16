#!/usr/bin/env python3
"""Check the compiled hot paths against the reviewed listings in asm/.

Builds examples/asm_listing.rs (release) for each architecture, disassembles
its `listing_*` symbols with that architecture's objdump, normalises what
depends on the binary's layout (addresses, page offsets, symbol hashes), and
compares the instructions with asm/<arch>.s, ignoring `//` annotations there.

Every instruction line in asm/<arch>.s must carry a note after `//` saying
why it is there; a function with an unannotated instruction fails too:

    FAIL aarch64 listing_x: 3 instructions without a note: +0x10 `mov x19, x0`, ...

(`+0xNN` is the instruction's byte offset where the architecture's
instructions are all 4 bytes long, else its index `#N` in the function.)

A difference fails: codegen changed (new compiler, new code) and the listing
must be reviewed again. After reviewing the diff:

    python3 .ci/asm-listings.py --bless     # rewrites asm/*.s
    python3 .ci/asm-listings.py --bless x86_64   # only asm/x86_64.s

Blessing keeps the annotation of every instruction that still matches (the
old and new listings aligned as sequences); what is new comes out without a
note, is listed by --bless, and fails the check until it is annotated. Last
line: "asm-listings: N passed, N failed".
"""
import difflib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHES = {
    # arch: (rust target, objdump, objdump's own comment marker)
    "aarch64": ("aarch64-unknown-linux-gnu", "aarch64-linux-gnu-objdump", "//"),
    "riscv64": ("riscv64gc-unknown-linux-gnu", "riscv64-linux-gnu-objdump", "#"),
    "s390x": ("s390x-unknown-linux-gnu", "s390x-linux-gnu-objdump", "#"),
    "x86_64": ("x86_64-unknown-linux-gnu", "objdump", "#"),
}
PADDING = {"int3", "nop", "udf #0x0", "unimp", "c.unimp", ".word 0x00000000", "nopr %r7"}


def disassemble(arch):
    target, objdump, comment = ARCHES[arch]
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "asm_listing",
                    "--target", target], check=True, cwd=ROOT)
    binary = os.path.join(ROOT, "target", target, "release", "examples", "asm_listing")
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", binary], check=True,
                          text=True, capture_output=True).stdout
    functions, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^[0-9a-f]+ <(listing_\w+)>:$", line)
        if m:
            name = m.group(1)
            functions[name] = []
            continue
        if not line.strip() or re.match(r"^[0-9a-f]+ <", line):
            name = None
            continue
        if name:
            insn = line.split(":", 1)[1]
            if comment in insn:
                insn = insn[: insn.index(comment)]
            functions[name].append(insn)
    return {f: normalise(lines) for f, lines in sorted(functions.items())}


def normalise(lines):
    out, page_regs = [], set()
    for insn in lines:
        insn = " ".join(insn.replace(",", ", ").split()).replace(" ,", ",")
        insn = re.sub(r"<listing_\w+\+(0x[0-9a-f]+)>", r"<+\1>", insn)  # local label
        insn = re.sub(r"<listing_\w+>", "<+0x0>", insn)
        insn = re.sub(r"\b[0-9a-f]+ (<)", r"\1", insn)  # drop absolute targets
        insn = re.sub(r"(17h[0-9a-f]{16}E|E\.llvm\.\d+|\.llvm\.\d+)", "", insn)  # symbol hashes
        op = insn.split(" ", 1)[0]
        if op in ("adrp", "auipc", "larl"):  # page-relative address: layout
            reg = insn.split(" ", 1)[1].split(",")[0]
            insn = f"{op} {reg}, PAGE"
            page_regs.add(reg)
            if op == "auipc" and reg == "ra":
                page_regs.discard(reg)
                insn = f"{op} {reg}, PAGE"
        elif used := [r for r in page_regs if f"[{r}, #" in insn or f"({r})" in insn
                      or re.match(rf"(add|addi) \w+, {re.escape(r)}, ", insn)]:
            # The page register's first use adds the low 12 bits (layout);
            # after it the register holds a full address, and offsets from
            # it are field offsets, which must stay visible.
            insn = re.sub(r"#\d+\]", "#LO12]", insn)
            insn = re.sub(r"-?\d+\((\w+)\)", r"LO12(\1)", insn)
            insn = re.sub(r"^(add|addi) (\w+), (\w+), #?-?(0x)?[0-9a-f]+$", r"\1 \2, \3, LO12", insn)
            page_regs.difference_update(used)
        insn = re.sub(r"-?0x[0-9a-f]+\(%rip\)", "REL(%rip)", insn)
        insn = re.sub(r"<_GLOBAL_OFFSET_TABLE_\+0x[0-9a-f]+>", "<GOT>", insn)  # s390x lgrl
        insn = re.sub(r"jalr -?\d+\(ra\)", "jalr LO12(ra)", insn)
        out.append(insn)
    while out and out[-1] in PADDING:
        out.pop()
    return out


def render(arch, functions, notes):
    """The listing file; `notes[name]` is the old listing's (insn, note)
    pairs: an instruction that still matches keeps its annotation."""
    lines = [f"// Reviewed listing of the hot paths on {arch}, compiled from",
             "// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;",
             "// text after `//` is annotation and not compared.", ""]
    for name, insns in functions.items():
        old = notes.get(name, [])
        kept = [""] * len(insns)
        # Aligned on the instructions with branch offsets blanked: a moved
        # target keeps the branch's note.
        key = lambda i: re.sub(r"<\+0x[0-9a-f]+>", "<+>", i)
        matcher = difflib.SequenceMatcher(None, [key(i) for i, _ in old],
                                          [key(i) for i in insns], autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                kept[block.b + k] = old[block.a + k][1]
        lines.append(f"{name}:")
        for insn, note in zip(insns, kept):
            pad = f"{insn:<35} " if len(insn) < 36 else f"{insn}  "
            lines.append(f"    {pad}// {note}" if note else f"    {insn}")
        lines.append("")
    return "\n".join(lines)


def parse(path, with_notes=False):
    """name -> instructions, or with_notes: name -> [(insn, note)]."""
    functions, name = {}, None
    with open(path) as f:
        for line in f:
            insn, _, note = line.partition("//")
            insn = insn.rstrip()
            if not insn.strip():
                continue
            if not insn.startswith(" "):
                name = insn.rstrip(":")
                functions[name] = []
            else:
                insn = " ".join(insn.split())
                functions[name].append((insn, note.strip()) if with_notes else insn)
    return functions


def unannotated(arch, pairs):
    """The (position, instruction) of every instruction without a note;
    the position is the byte offset where all instructions are 4 bytes
    (aarch64), else the index in the function."""
    return [(f"+{4 * i:#x}" if arch == "aarch64" else f"#{i}", insn)
            for i, (insn, note) in enumerate(pairs) if not note]


def describe(bare, what, shown=5):
    """'3 instructions <what>: +0x10 `mov x19, x0`, ...' (the first few)."""
    listed = ", ".join(f"{pos} `{insn}`" for pos, insn in bare[:shown])
    more = f", and {len(bare) - shown} more" if len(bare) > shown else ""
    noun = "instruction" if len(bare) == 1 else "instructions"
    return f"{len(bare)} {noun} {what}: {listed}{more}"


def main():
    bless = "--bless" in sys.argv
    only = [a for a in sys.argv[1:] if not a.startswith("--")]  # e.g. `--bless x86_64`
    passed = failed = 0
    for arch in only or ARCHES:
        got = disassemble(arch)
        path = os.path.join(ROOT, "asm", f"{arch}.s")
        if bless:
            notes = parse(path, with_notes=True) if os.path.exists(path) else {}
            with open(path, "w") as f:
                f.write(render(arch, got, notes))
            print(f"wrote {path}")
            for name, pairs in parse(path, with_notes=True).items():
                bare = unannotated(arch, pairs)
                if bare:
                    print(f"     {arch} {name}: {describe(bare, 'to annotate')}")
            continue
        annotated = parse(path, with_notes=True) if os.path.exists(path) else {}
        want = {name: [insn for insn, _ in pairs] for name, pairs in annotated.items()}
        for name in sorted(set(got) | set(want)):
            problems = []
            if got.get(name) != want.get(name):
                problems.append(f"compiled code differs from asm/{arch}.s")
            bare = unannotated(arch, annotated.get(name, []))
            if bare:
                problems.append(describe(bare, "without a note"))
            if not problems:
                passed += 1
                print(f"ok   {arch} {name}: {len(got[name])} instructions")
                continue
            failed += 1
            print(f"FAIL {arch} {name}: " + "; ".join(problems))
            if got.get(name) != want.get(name):
                sys.stdout.writelines(d + "\n" for d in difflib.unified_diff(
                    want.get(name, []), got.get(name, []), "reviewed", "compiled", lineterm=""))
    if not bless:
        print(f"asm-listings: {passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
