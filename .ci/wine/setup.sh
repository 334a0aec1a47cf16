#!/usr/bin/env bash
# Idempotent setup behind .ci/wine-env.sh (source that one, not this).
# Usage: .ci/wine/setup.sh /abs/path/to/wineprefix
# A separate process, so that `set -e` holds whatever the caller's context
# (bash ignores -e inside a subshell or function tested with `||`/`if`).
set -euo pipefail
die() { echo "wine-env: error: $*" >&2; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prefix=${1:?usage: setup.sh /abs/wineprefix}
case "$prefix" in /*) ;; *) die "WINEPREFIX must be absolute: $prefix" ;; esac

# 1. Debian packages.
pkgs=(wine wine64 gcc-mingw-w64-x86-64)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "wine-env: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi
for c in wine wineboot wineserver x86_64-w64-mingw32-gcc rustup; do
  command -v "$c" >/dev/null || die "$c not found in PATH"
done

# 2. Rust target.
if ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  rustup target add x86_64-pc-windows-gnu >/dev/null 2>&1 \
    || die "rustup target add x86_64-pc-windows-gnu failed"
fi

# 3. The prefix. Same settings as the exports in wine-env.sh.
export WINEPREFIX="$prefix"
# -all also silences Debian's harmless "it looks like wine32 is missing" hint
# (/usr/bin/wine prints it unless WINEDEBUG contains -all).
export WINEDEBUG=-all
# No Mono/Gecko: otherwise wineboot offers to install them (a dialog, or a
# download). Console test programs need neither.
export WINEDLLOVERRIDES="mscoree,mshtml="
# Headless on purpose: console programs need no X server.
unset DISPLAY WAYLAND_DISPLAY

# One setup at a time per prefix (two shells sourcing wine-env.sh at once).
mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock 9
stamp="$prefix/.wine-env-ready"   # written only after a complete wineboot
if [ ! -f "$stamp" ]; then
  rm -rf "$prefix"   # absent, or half-made by an interrupted run
  log="$(dirname "$prefix")/wine-prefix-init.log"
  # 9>&-: the daemons wineboot leaves behind must not inherit (and hold) the lock.
  if ! timeout 300 wineboot -i >"$log" 2>&1 9>&-; then
    cat "$log" >&2
    die "wineboot -i failed or timed out (prefix $prefix)"
  fi
  timeout 120 wineserver -w 9>&- || die "wineserver -w failed or timed out"
  [ -f "$prefix/system.reg" ] || { cat "$log" >&2; die "wineboot made no prefix at $prefix"; }
  touch "$stamp"
fi
sys32="$prefix/drive_c/windows/system32"
[ -d "$sys32" ] || die "$sys32 missing: broken prefix, delete $prefix"

# 4. bcryptprimitives.dll stand-in (wine 8 has none; see processprng.c).
src="$root/.ci/wine/processprng.c"
def="$root/.ci/wine/processprng.def"
dll="$sys32/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ "$src" -nt "$dll" ] || [ "$def" -nt "$dll" ]; then
  tmp="$(dirname "$prefix")/bcryptprimitives.dll.tmp"
  x86_64-w64-mingw32-gcc -shared -O2 -s -Wall -Wextra -Werror \
    -o "$tmp" "$src" "$def" -ladvapi32 \
    || die "building the bcryptprimitives.dll stand-in failed"
  mv -f "$tmp" "$dll"
fi
