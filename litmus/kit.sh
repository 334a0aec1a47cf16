#!/bin/sh
# Generates the litmus7 kit for AArch64 Linux: C programs that run each test
# of litmus/aarch64/ millions of times on real cores and count the outcomes.
#
#   litmus/kit.sh OUTDIR [litmus7 options]
#   cd OUTDIR && make -j"$(nproc)" && sh run.sh -a "$(nproc)" > results.txt 2>&1
#
# Needs litmus7 (herdtools7: `opam install herdtools7`, or the one
# `.ci/herd.sh` builds; set LITMUS7 to its path and, for that build,
# LITMUSLIB to its share/herdtools7/litmus). The tests modify code, so they
# are generated with `-variant self` (catalogue/aarch64-ifetch/README.md).
# The membarrier tests are left out: they model the kernel with exception
# handlers (MSR ELR_EL1, ERET), which a user-space program cannot run.
set -eu
out="${1:?usage: litmus/kit.sh OUTDIR [litmus7 options]}"
shift
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$(dirname "$0")/aarch64"
# shellcheck disable=SC2046 # one argument per test file (names have no spaces)
"${LITMUS7:-litmus7}" -variant self -a 2 -o "$out" "$@" $(ls ./*.litmus | grep -v -- '-membarrier' | sed 's|^\./||')
echo "kit written to $out: cd $out && make -j\"\$(nproc)\" && sh run.sh -a \"\$(nproc)\" > results.txt 2>&1"
