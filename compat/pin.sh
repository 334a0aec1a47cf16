#!/usr/bin/env bash
# Make the compat package match a cranelift-jit release:
#
#   compat/pin.sh 0.136.5
#
# Looks up (on crates.io, through `cargo info`) which instruction-cache
# crate and exact version that cranelift-jit pins, and rewrites the
# `version` line of the matching compat package. For the current name
# (wasmtime-internal-jit-icache-coherence, cranelift-jit 0.122+) it also
# moves examples/cranelift-jit to that cranelift release, so that
# .ci/compat-check.py stays green (and updates its Cargo.lock). Then:
# `cargo update` in your project.
set -euo pipefail
cd "$(dirname "$0")/.."
cl="${1:?usage: compat/pin.sh <cranelift-jit version, e.g. 0.135.8>}"
info="$(cargo info -v "cranelift-jit@$cl" 2>/dev/null)" || {
  echo "cranelift-jit $cl: not found on crates.io" >&2; exit 1; }
line="$(grep -Eo '(wasmtime-internal-jit-icache-coherence|wasmtime-jit-icache-coherence)@=[0-9.]+' <<<"$info" | head -1)"
[ -n "$line" ] || { echo "cranelift-jit $cl pins no wasmtime icache crate" >&2; exit 1; }
name="${line%@=*}"; version="${line#*@=}"
sed -i -E "0,/^version = \"[^\"]*\"/s//version = \"$version\"/" "compat/$name/Cargo.toml"
echo "compat/$name: version = \"$version\" (pinned by cranelift-jit $cl)"
if [ "$name" = wasmtime-internal-jit-icache-coherence ]; then
  msrv="$(sed -n 's/^rust-version: //p' <<<"$info")"
  sed -i -E "s/^(cranelift-[a-z]+ = \"=)[0-9.]+\"/\1$cl\"/" examples/cranelift-jit/Cargo.toml
  [ -z "$msrv" ] || sed -i -E "s/^rust-version = \"[^\"]*\"/rust-version = \"$msrv\"/" examples/cranelift-jit/Cargo.toml
  # Re-resolve only what the new pins require.
  (cd examples/cranelift-jit && cargo update --quiet --workspace)
  echo "examples/cranelift-jit: cranelift $cl (rust-version ${msrv:-?}), Cargo.lock updated"
fi
