#!/usr/bin/env bash
# CI step: Arm's instruction-fetch model on this crate's AArch64 sequences.
#
#   bash .ci/herd.sh            # check
#   bash .ci/herd.sh --bless    # also rewrite the table in docs/CORRECTNESS.md
#
# 1. Builds herdtools7 7.58 (herd7 and litmus7) once per machine into
#    ${ICACHE_TOOLS_DIR:-$HOME/.cache/icache-coherence}/herdtools7-7.58-KEY,
#    KEY = hash of the source tarball, the patch and the build recipe below;
#    a later run (any clone, any folder) reuses it. The source comes from
#    $HERDTOOLS7_SRC, else ../shared/tools/herdtools7 beside the repository,
#    else /work/shared/tools/herdtools7 (herdtools7-7.58.tar.gz and
#    zarith-1.12.patch; why 7.58 and the patch: that folder's README.md).
# 2. Runs herd7 -variant ifetch on every test in litmus/aarch64/ and compares
#    each verdict with the test's `expect:` (.ci/litmus-check.py), and checks
#    that docs/CORRECTNESS.md's table is current.
# 3. Ties the tests to asm/aarch64.s (.ci/litmus-tie.py), then its self-test:
#    mutated copies of the listing (ISB removed, DCs removed, a DSB moved...)
#    must fail the tie.
# 4. The litmus7 kit for real boards (litmus/kit.sh): generated, compiled
#    with aarch64-linux-gnu-gcc, each program run briefly under qemu-aarch64.
#    A smoke test only: QEMU keeps its translated code coherent with memory,
#    so it cannot show stale code that needs a missing DC or IC.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
bless=""; [ "${1:-}" = "--bless" ] && bless="--bless"
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start ))s"; }

src="${HERDTOOLS7_SRC:-}"
if [ -z "$src" ]; then
  for d in "$root/../shared/tools/herdtools7" /work/shared/tools/herdtools7; do
    if [ -f "$d/herdtools7-7.58.tar.gz" ]; then src="$(cd "$d" && pwd)"; break; fi
  done
fi
if [ -z "$src" ] || [ ! -f "$src/herdtools7-7.58.tar.gz" ] || [ ! -f "$src/zarith-1.12.patch" ]; then
  echo "FAIL: herdtools7 7.58 source not found: set HERDTOOLS7_SRC to a folder holding" \
       "herdtools7-7.58.tar.gz and zarith-1.12.patch" >&2
  exit 1
fi

build() { # $1 = final destination; installs into a temporary sibling, then renames
  local dest="$1" work tmp
  work="$(mktemp -d)"
  tar -xzf "$src/herdtools7-7.58.tar.gz" -C "$work"
  (
    cd "$work/herdtools7-7.58"
    patch -s -p1 < "$src/zarith-1.12.patch"
    sh ./version-gen.sh "$dest" >/dev/null   # default libdir; HERDLIB/LITMUSLIB are set anyway
    dune build --profile release herd/herd.exe litmus/litmus.exe 2>&1 | grep -v '^\s*$' | tail -5 || true
    [ -x _build/default/herd/herd.exe ] && [ -x _build/default/litmus/litmus.exe ] \
      || { echo "FAIL: the herdtools7 build failed" >&2; exit 1; }
    tmp="$dest.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp/bin" "$tmp/share/herdtools7/litmus"
    install -m 755 _build/default/herd/herd.exe "$tmp/bin/herd7"
    install -m 755 _build/default/litmus/litmus.exe "$tmp/bin/litmus7"
    cp -r herd/libdir/. "$tmp/share/herdtools7/"
    cp -r litmus/libdir/. "$tmp/share/herdtools7/litmus/"
    touch "$tmp/.complete"
    rm -rf "$dest"
    mv "$tmp" "$dest"
  )
  rm -rf "$work"
}

# Debian packages: OCaml for the build (only if it is needed), the cross
# compiler and QEMU for the kit. One `apt-get update`, only if some are missing.
ensure_packages() {
  local missing=() sudo=""
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

echo "--- herdtools7 7.58 (herd7, litmus7)"
key="$( { cat "$src/herdtools7-7.58.tar.gz" "$src/zarith-1.12.patch"; declare -f build; } | sha256sum | cut -c1-12)"
cache="${ICACHE_TOOLS_DIR:-$HOME/.cache/icache-coherence}"
dest="$cache/herdtools7-7.58-$key"
mkdir -p "$cache"
exec 9>"$cache/herdtools7-7.58.lock"
flock 9   # another run building the same tools: wait for it
kit_pkgs=(make qemu-user gcc-aarch64-linux-gnu)
if [ -f "$dest/.complete" ]; then
  ensure_packages "${kit_pkgs[@]}"
  echo "reusing $dest"
else
  ensure_packages "${kit_pkgs[@]}" ocaml-nox ocaml-dune menhir libmenhir-ocaml-dev \
    libzarith-ocaml-dev ocaml-findlib
  echo "building into $dest (4 to 10 minutes on 2 cores, depending on the load)"
  build "$dest"
  echo "built in $(elapsed)"
fi
flock -u 9
export HERDLIB="$dest/share/herdtools7" LITMUSLIB="$dest/share/herdtools7/litmus"
"$dest/bin/herd7" -version

echo "--- herd7 -variant ifetch on litmus/aarch64/ ($(elapsed))"
python3 .ci/litmus-check.py --herd "$dest/bin/herd7" --herdlib "$HERDLIB" $bless

echo "--- the tests tied to asm/aarch64.s ($(elapsed))"
python3 .ci/litmus-tie.py asm/aarch64.s
python3 .ci/litmus-tie.py --self-test asm/aarch64.s | grep -v '^ok   [a-z_]* IDC=' | grep -v '^litmus-tie: '

echo "--- the litmus7 kit for real boards: compiled for aarch64, run under QEMU (smoke test only) ($(elapsed))"
kit="$(mktemp -d)"
trap 'rm -rf "$kit"' EXIT
LITMUS7="$dest/bin/litmus7" sh litmus/kit.sh "$kit" >/dev/null
make -C "$kit" -s -j2 GCC=aarch64-linux-gnu-gcc >/dev/null
# The kit's own run.sh, each ./T.exe run through qemu-aarch64; -s 100 -r 1:
# a few hundred runs per test, enough to show that each program works.
sed 's|^\./\(.*\.exe\)|qemu-aarch64 -L /usr/aarch64-linux-gnu ./\1|' "$kit/run.sh" > "$kit/run-qemu.sh"
grep -q '^qemu-aarch64 ' "$kit/run-qemu.sh" || { echo "FAIL: run.sh has no ./T.exe lines to rewrite" >&2; exit 1; }
( cd "$kit" && timeout 600 sh run-qemu.sh -s 100 -r 1 > qemu-results.txt 2>&1 )
# Every program ran; the CacheType tests stop at once on QEMU's cores (no
# IDC/DIC). Expected-Never tests must show no stale code (QEMU is coherent:
# stale code there would mean a broken kit); the negative controls' counts
# are printed, not asserted.
python3 .ci/litmus-check.py --hardware "$kit/qemu-results.txt" --require-all
echo "herd step done in $(elapsed)"
