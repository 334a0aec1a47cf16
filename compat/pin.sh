#!/usr/bin/env bash
# Keep the stand-ins (compat/wasmtime-NN) on the versions cranelift-jit pins.
#
#   compat/pin.sh            every line: each compat/wasmtime-NN follows the
#                            newest cranelift-jit release of its line
#                            ([package.metadata.compat] cranelift-jit, e.g.
#                            0.135.x), and so does examples/cranelift-jit/0.MMM
#   compat/pin.sh 0.135.8    one line, to that cranelift-jit release (for a
#                            project locked to an older patch release)
#   compat/pin.sh --newer    maintainers: cranelift-jit releases newer than
#                            the newest stand-in's line (a new line needs a
#                            new compat/wasmtime-NN directory; see
#                            compat/README.md, "A new line")
#
# Asks crates.io through `cargo info` (network, not in CI). Rewrites each
# stand-in's `version`, its [package.metadata.compat] (the cranelift-jit
# release and the Rust it needs) and, for 50.0.x and later, the
# wasmtime-internal-core pin; then the example's cranelift pins and
# rust-version, and both lockfiles. `.ci/compat-check.py --write-readme`
# then regenerates the README table; without it CI fails on the stale table.
set -euo pipefail
cd "$(dirname "$0")/.."

# `cargo info` outside any workspace: inside one it prefers releases that
# build with that workspace's rust-version.
info() { (cd "${TMPDIR:-/tmp}" && cargo info "$@" 2>/dev/null); }

meta() { # meta FILE KEY: a value of [package.metadata.compat]
  sed -n "/^\[package.metadata.compat\]/,/^\[/s/^$2 = \"\(.*\)\"/\1/p" "$1"
}

# pin CRANELIFT_VERSION: rewrite the stand-in and example of its line.
pin() {
  local cl="$1" info line name version dir msrv minor ex
  info="$(info -v "cranelift-jit@$cl")" || {
    echo "cranelift-jit $cl: not found on crates.io" >&2; return 1; }
  cl="$(sed -n 's/^version: \([0-9.]*\).*/\1/p' <<<"$info")"
  line="$(grep -Eo '(wasmtime-internal-jit-icache-coherence|wasmtime-jit-icache-coherence)@=[0-9.]+' <<<"$info" | head -1)"
  [ -n "$line" ] || { echo "cranelift-jit $cl pins no wasmtime icache crate" >&2; return 1; }
  name="${line%@=*}"; version="${line#*@=}"
  msrv="$(sed -n 's/^rust-version: //p' <<<"$info")"
  dir="compat/wasmtime-${version%%.*}"
  if [ ! -f "$dir/Cargo.toml" ] || ! grep -q "^name = \"$name\"" "$dir/Cargo.toml"; then
    echo "cranelift-jit $cl pins $name =$version: no stand-in $dir for it (compat/README.md, \"A new line\")" >&2
    return 1
  fi
  sed -i -E "0,/^version = \"[^\"]*\"/s//version = \"$version\"/" "$dir/Cargo.toml"
  sed -i -E "/^\[package.metadata.compat\]/,/^\[/{s/^cranelift-jit = \"[^\"]*\"/cranelift-jit = \"$cl\"/;s/^cranelift-rust = \"[^\"]*\"/cranelift-rust = \"$msrv\"/}" "$dir/Cargo.toml"
  # 50.0.x and later: the real crate pins wasmtime-internal-core at its own version.
  sed -i -E "s/^(wasmtime-core = \{ package = \"wasmtime-internal-core\", version = \"=)[0-9.]+\"/\1$version\"/" "$dir/Cargo.toml"
  (cd "$dir" && cargo update --quiet --workspace)
  echo "$dir: $name $version (pinned by cranelift-jit $cl, Rust $msrv)"
  minor="${cl%.*}"; ex="examples/cranelift-jit/$minor"
  if [ -f "$ex/Cargo.toml" ]; then
    sed -i -E "s/^(cranelift-[a-z]+ = \"=)[0-9.]+\"/\1$cl\"/" "$ex/Cargo.toml"
    sed -i -E "s/^rust-version = \"[^\"]*\"/rust-version = \"$msrv\"/" "$ex/Cargo.toml"
    sed -i -E "s/(version = \"=)[0-9.]+(\" \})$/\1$version\2/" "$ex/Cargo.toml"
    (cd "$ex" && cargo update --quiet --workspace)
    echo "$ex: cranelift $cl (Rust $msrv), Cargo.lock updated"
  fi
}

case "${1:-}" in
  "")
    for toml in compat/wasmtime-*/Cargo.toml; do
      cl="$(meta "$toml" cranelift-jit)"
      pin "${cl%.*}"   # the newest release of that line
    done ;;
  --newer)
    newest="$(for toml in compat/wasmtime-*/Cargo.toml; do meta "$toml" cranelift-jit; done | sort -V | tail -1)"
    latest="$(info cranelift-jit | sed -n 's/^version: \([0-9.]*\)\( (latest \([0-9.]*\))\)\{0,1\}.*/\1 \3/p' | awk '{print ($2 != "" ? $2 : $1)}')"
    [ -n "$latest" ] || { echo "cargo info cranelift-jit failed" >&2; exit 1; }
    echo "newest stand-in line: cranelift-jit $newest; newest on crates.io: $latest"
    nmin="$(cut -d. -f2 <<<"$newest")"; lmin="$(cut -d. -f2 <<<"$latest")"
    found=0
    for ((m = nmin; m <= lmin; m++)); do
      info="$(info -v "cranelift-jit@0.$m")" || continue
      v="$(sed -n 's/^version: \([0-9.]*\).*/\1/p' <<<"$info")"
      [ "$(printf '%s\n%s\n' "$v" "$newest" | sort -V | tail -1)" = "$newest" ] && continue
      pinned="$(grep -Eo 'wasmtime[a-z-]*-jit-icache-coherence@=[0-9.]+' <<<"$info" | head -1)"
      echo "  cranelift-jit $v: pins $pinned, Rust $(sed -n 's/^rust-version: //p' <<<"$info")"
      found=1
    done
    [ "$found" = 1 ] || echo "  none: every cranelift-jit release has a stand-in line" ;;
  -*) echo "usage: compat/pin.sh [<cranelift-jit version> | --newer]" >&2; exit 2 ;;
  *) pin "$1" ;;
esac
