#!/usr/bin/env bash
# Build the documentation the way docs.rs does: nightly rustdoc with
# `--cfg docsrs` (the `doc(cfg)` badges), for every target listed in
# Cargo.toml's [package.metadata.docs.rs], failing on any warning.
# Where rustup has no nightly std for a target here, std is built from
# rust-src (-Zbuild-std).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup +nightly component add rust-src >/dev/null 2>&1 || true
targets=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
(p,) = [p for p in json.load(sys.stdin)["packages"] if p["name"] == "icache-coherence"]
print(" ".join(p["metadata"]["docs"]["rs"]["targets"]))')
export CARGO_TARGET_DIR=target/docsrs
export RUSTDOCFLAGS="--cfg docsrs -D warnings"
for t in $targets; do
  if rustup +nightly target add "$t" >/dev/null 2>&1; then
    echo "--- cargo +nightly doc --no-deps --lib --target $t"
    cargo +nightly doc --quiet --no-deps --lib --target "$t"
  else
    echo "--- cargo +nightly doc -Zbuild-std --no-deps --lib --target $t (no nightly std for $t here)"
    cargo +nightly doc --quiet -Zbuild-std --no-deps --lib --target "$t"
  fi
  grep -q 'stab portability' "$CARGO_TARGET_DIR/$t/doc/icache_coherence/fn.clear_cache_with.html" \
    || { echo "no doc(cfg) badge in the $t docs" >&2; exit 1; }
done
echo "docs.rs builds: ok ($targets)"
