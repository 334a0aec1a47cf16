#!/usr/bin/env bash
# Build and test with exactly the `rust-version` of Cargo.toml (the MSRV).
#
# - The library: built natively (with and without `std`) and for aarch64;
#   checked for riscv64, s390x, armv7 and arm64ec, whose inline assembly
#   sets the floor (s390x and arm64ec asm are stable since 1.84). Where
#   rustup has no std for a target at this version, core is built from
#   rust-src (-Zbuild-std=core, RUSTC_BOOTSTRAP=1 for that flag only: the
#   crate enables no unstable feature, so an older compiler still fails).
# - The tests (unit, integration, doc), natively, in a copy of the package
#   whose lockfile is resolved for the MSRV (CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS
#   =fallback: proptest 1.10 instead of 1.12, ...). The benchmarks are
#   removed from that copy: criterion 0.8 needs Rust 1.86, and the
#   benchmarks' peers (wasmtime's crate, clear-cache) newer still; they are
#   not part of what the MSRV promises.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
echo "MSRV (Cargo.toml rust-version): $msrv"
rustup toolchain install "$msrv" --profile minimal -c rust-src >/dev/null 2>&1 || true
export CARGO_TARGET_DIR="$root/target/msrv"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tar --exclude=./target --exclude=./.git -cf - . | tar -xf - -C "$tmp"
python3 - "$tmp/Cargo.toml" <<'PY'
import re, sys
path = sys.argv[1]
out, skip, table = [], False, ""
for line in open(path):
    if line.startswith("["):
        table = line.strip()
        skip = table == "[[bench]]"
    if skip:
        continue
    # The benchmarks' dev-dependencies (any target-specific table too).
    if "dev-dependencies" in table and re.match(r"(criterion|wasmtime-internal-jit-icache-coherence|clear-cache)\s*=", line):
        continue
    out.append(line)
open(path, "w").writelines(out)
PY
rm -rf "$tmp/benches"
cd "$tmp"
CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update --quiet

echo "--- cargo +$msrv build --lib (native, std and no_std)"
cargo "+$msrv" build --lib
cargo "+$msrv" build --lib --no-default-features
for t in aarch64-unknown-linux-gnu riscv64gc-unknown-linux-gnu s390x-unknown-linux-gnu armv7-unknown-linux-gnueabihf arm64ec-pc-windows-msvc; do
  if rustup "+$msrv" target add "$t" >/dev/null 2>&1; then
    echo "--- cargo +$msrv check --lib --target $t"
    cargo "+$msrv" check --lib --target "$t"
  else
    echo "--- cargo +$msrv check -Zbuild-std=core --lib --no-default-features --target $t (no rust-std for $t at $msrv)"
    RUSTC_BOOTSTRAP=1 cargo "+$msrv" check -Zbuild-std=core --lib --no-default-features --target "$t"
  fi
done
echo "--- cargo +$msrv test -p icache-coherence (without the benchmarks)"
cargo "+$msrv" test -p icache-coherence
# The stand-ins whose rust-version is the crate's (34, 48, 49; 50 needs
# Rust 1.97 for wasmtime-internal-core and is tested with it in .ci/run).
n=0
for d in "$root"/compat/wasmtime-*/; do
  grep -q "^rust-version = \"$msrv\"" "$d/Cargo.toml" || continue
  echo "--- $(basename "$d") with $msrv"
  cargo "+$msrv" test --manifest-path "$d/Cargo.toml"
  n=$((n + 1))
done
[ "$n" -ge 3 ] || { echo "FAIL: $n stand-ins with rust-version $msrv (want 34, 48, 49)" >&2; exit 1; }
