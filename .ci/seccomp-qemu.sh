#!/usr/bin/env bash
# Real seccomp faults on membarrier under qemu-aarch64 (x86_64 Linux host).
#
# QEMU user mode forwards the guest's membarrier to the host kernel, so a
# seccomp filter installed on the host before exec'ing qemu-aarch64 sees
# every guest command. Builds tests/seccomp.rs for aarch64 (the guest: its
# child_entry test runs one case's body) and examples/seccomp_qemu.rs for
# the host (installs each case's filter, execs QEMU with -d strace, checks
# the guest's exit or SIGSYS and its membarrier sequence), then runs every
# guest case: one line per case, then "N passed, M failed"; non-zero exit on
# any failure. Extra arguments select cases by name.
#
# Needs: qemu-user, gcc-aarch64-linux-gnu, the aarch64-unknown-linux-gnu
# Rust target, python3 (to read cargo's JSON). QEMU_CPU defaults to
# cortex-a53 (one model suffices: no case depends on the CPU model).
set -euo pipefail
cd "$(dirname "$0")/.."
export QEMU_CPU="${QEMU_CPU:-cortex-a53}"
export CARGO_TERM_COLOR=never

# The executable of the artifact named $1 in cargo's JSON messages on stdin.
executable() {
  python3 -c '
import json, sys
name = sys.argv[1]
exe = [m["executable"] for m in map(json.loads, sys.stdin)
       if m.get("reason") == "compiler-artifact" and m["target"]["name"] == name and m.get("executable")]
if len(exe) != 1:
    sys.exit(f"expected one executable for {name}, got {exe}")
print(exe[0])' "$1"
}

guest=$(cargo test --quiet --target aarch64-unknown-linux-gnu --test seccomp --no-run \
  --message-format=json | executable seccomp)
host=$(cargo build --quiet --example seccomp_qemu --message-format=json | executable seccomp_qemu)

# Bounded: each case has its own 300 s limit inside; this bounds the whole.
timeout 1800 "$host" --guest "$guest" --qemu qemu-aarch64 --sysroot /usr/aarch64-linux-gnu "$@"
