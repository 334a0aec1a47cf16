#!/usr/bin/env bash
# Proves which Windows call `clear_cache` makes, with which arguments: runs
# the `relay_probe` test of tests/jit_windows.rs under wine with relay
# logging and finds the exact `KERNEL32.FlushInstructionCache` call it
# announced. Needs `source .ci/wine-env.sh` first.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cargo test --target x86_64-pc-windows-gnu --test jit_windows --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("executable") and m["target"]["name"]=="jit_windows": print(m["executable"])')
out=$(mktemp -d)
wine cmd /c exit >/dev/null 2>&1 || true # start wine's services outside the log
WINEDEBUG=-all,+relay wine "$bin" --exact relay_probe --nocapture >"$out/stdout" 2>"$out/relay"
want=$(grep -o 'FlushInstructionCache(.*)' "$out/stdout" | head -1)
[ -n "$want" ] || { echo "relay check: the test printed no expectation" >&2; exit 1; }
if grep -q "Call KERNEL32.$want" "$out/relay"; then
  echo "relay check: found Call KERNEL32.$want"
else
  echo "relay check: Call KERNEL32.$want not in the relay log; FlushInstructionCache calls seen:" >&2
  grep 'FlushInstructionCache' "$out/relay" | head >&2 || true
  exit 1
fi
rm -rf "$out"
