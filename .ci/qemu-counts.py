#!/usr/bin/env python3
"""Count what clear_cache and pipeline_flush_mt execute, under QEMU.

QEMU keeps its own translated code coherent, so running JIT code under it
cannot show a missing DC or IC. This script counts instead:

1. Maintenance instructions, per window of examples/count_driver.rs, with the
   TCG plugin tests/qemu/insn_count.c (classified by encoding).
2. The address every DC CVAU / IC IVAU received, from QEMU's register log
   (-singlestep -d cpu -dfilter on exactly those instructions).
3. System calls, from QEMU's -strace log.

Every window is checked against an independent model (below, byte by byte),
and the figures the issue fixes are checked as constants. The last line is
"N passed, N failed"; the exit status is non-zero on any failure.

Usage: .ci/qemu-counts.py [QEMU_CPU ...]   (default: cortex-a53 a64fx max)
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "aarch64-unknown-linux-gnu"
QEMU = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]
DRIVER = os.path.join(ROOT, "target", TARGET, "release", "examples", "count_driver")
PLUGIN = os.path.join(ROOT, "target", "qemu-plugin", "libinsn_count.so")

# Per QEMU model: (dc, ic, dsb, isb) for clear_cache of an aligned 4 KiB range.
FIXED = {
    "cortex-a53": (64, 64, 2, 1),
    "a64fx": (16, 16, 2, 1),
    "max": (128, 128, 2, 1),
}
# Given geometries, any model: window name -> (dc, ic, dsb, isb).
FIXED_GIVEN = {
    "idc-dic-4k": (0, 0, 1, 1),
    "idc-4k": (0, 64, 2, 1),
}

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


def model(ptr, length, ctr):
    """The reference: (D line addresses, I line addresses, dsb, isb)."""
    if length == 0 or ptr + length > 1 << 64:
        return [], [], 0, 0
    d_line, i_line = 4 << ((ctr >> 16) & 0xF), 4 << (ctr & 0xF)
    idc, dic = bool(ctr >> 28 & 1), bool(ctr >> 29 & 1)

    def lines(size):
        return sorted({(ptr + i) & ~(size - 1) for i in range(length)})

    d = [] if idc else lines(d_line)
    i = [] if dic else lines(i_line)
    return d, i, 1 if dic else 2, 1


def parse_cpu_log(path, sites):
    """The register each DC/IC received, split into windows by the markers."""
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
            current = ([], [])
        elif kind == "end":
            windows.append(current)
            current = None
        elif kind in ("dc", "ic") and current is not None:
            regs = {int(n): int(v, 16) for n, v in reg_re.findall(block)}
            current[0 if kind == "dc" else 1].append(regs[reg])
    return windows


def instruction_counts(cpu):
    env = dict(os.environ, QEMU_CPU=cpu)
    sites = {}
    for line in run(QEMU + [DRIVER, "sites"], env).stdout.splitlines():
        kind, addr, reg = line.split()
        sites[int(addr, 16)] = (kind, int(reg[1:]))
    check(sum(k == "dc" for k, _ in sites.values()) > 0, f"{cpu}: found DC CVAU sites")
    dfilter = ",".join(f"{a:#x}+4" for a in sites)
    with tempfile.TemporaryDirectory() as tmp:
        counts_file, log = os.path.join(tmp, "counts"), os.path.join(tmp, "cpu.log")
        plugin = PLUGIN
        out = run(QEMU + ["-plugin", f"{plugin},out={counts_file}", "-singlestep",
                          "-d", "cpu,nochain", "-dfilter", dfilter, "-D", log,
                          DRIVER, "windows"], env).stdout.splitlines()
        with open(counts_file) as f:
            counts = [dict(kv.split("=") for kv in l.split()[2:]) for l in f.read().splitlines()]
        addresses = parse_cpu_log(log, sites)
    check(len(out) == len(counts) == len(addresses),
          f"{cpu}: {len(out)} windows, {len(counts)} counted, {len(addresses)} logged")
    print(f"{cpu}:")
    print(f"  {'window':<24} {'start':>14} {'len':>5} {'CTR_EL0':>10}   dc   ic  dsb  isb  addresses")
    for desc, c, (d_addrs, i_addrs) in zip(out, counts, addresses):
        name, ptr, length, ctr = desc.split()
        ptr, length, ctr = int(ptr, 16), int(length), int(ctr, 16)
        d, i, dsb, isb = model(ptr, length, ctr)
        got = (int(c["dc"]), int(c["ic"]), int(c["dsb"]), int(c["isb"]))
        want = (len(d), len(i), dsb, isb)
        check(got == want, f"{cpu} {name}: counts {got}, model {want}")
        check(d_addrs == d, f"{cpu} {name}: DC addresses {[hex(a) for a in d_addrs[:4]]}..., model {[hex(a) for a in d[:4]]}...")
        check(i_addrs == i, f"{cpu} {name}: IC addresses {[hex(a) for a in i_addrs[:4]]}..., model {[hex(a) for a in i[:4]]}...")
        if name == "probed-4k-aligned" and cpu in FIXED:
            check(got == FIXED[cpu], f"{cpu} {name}: {got}, the issue says {FIXED[cpu]}")
        if name in FIXED_GIVEN:
            check(got == FIXED_GIVEN[name], f"{cpu} {name}: {got}, the issue says {FIXED_GIVEN[name]}")
        ok = "ok" if d_addrs == d and i_addrs == i else "WRONG"
        print(f"  {name:<24} {ptr:>#14x} {length:>5} {ctr:>#10x} {got[0]:>4} {got[1]:>4} {got[2]:>4} {got[3]:>4}  {ok}")


def syscalls(args, cpu):
    """The system-call names QEMU's -strace logged for the driver."""
    env = dict(os.environ, QEMU_CPU=cpu)
    err = run(QEMU + ["-strace", DRIVER] + args, env).stderr
    return re.findall(r"^\d+ (\w+)\(", err, re.M)


def syscall_counts(cpu):
    for n in (1, 10, 100):
        calls = syscalls(["flush", str(n)], cpu)
        mb = calls.count("membarrier")
        print(f"{cpu}: pipeline_flush_mt x{n}: {mb} membarrier calls")
        check(n <= mb <= n + 1, f"{cpu}: {n} flushes made {mb} membarrier calls (want {n}..={n + 1})")
    base, many = syscalls(["clear", "0"], cpu), syscalls(["clear", "1000"], cpu)
    print(f"{cpu}: clear_cache x1000: {len(many) - len(base)} extra syscalls")
    check(base == many, f"{cpu}: clear_cache made syscalls: {len(many) - len(base)}")


def build():
    os.makedirs(os.path.dirname(PLUGIN), exist_ok=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o", PLUGIN,
                    os.path.join(ROOT, "tests", "qemu", "insn_count.c")], check=True)
    subprocess.run(["cargo", "build", "--quiet", "--release", "--target", TARGET,
                    "--example", "count_driver"], check=True, cwd=ROOT)


def main():
    cpus = sys.argv[1:] or ["cortex-a53", "a64fx", "max"]
    build()
    for cpu in cpus:
        instruction_counts(cpu)
        syscall_counts(cpu)
    print(f"qemu-counts: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
