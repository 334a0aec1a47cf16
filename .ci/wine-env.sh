# shellcheck shell=bash
# Source me from the repository (any cwd):
#   source .ci/wine-env.sh && cargo test --target x86_64-pc-windows-gnu
#
# Makes x86_64-pc-windows-gnu test binaries build with mingw and run under
# wine, headless and offline. Idempotent; the work is in .ci/wine/setup.sh:
#   - installs the Debian packages wine, wine64, gcc-mingw-w64-x86-64 if missing;
#   - adds the rustup target x86_64-pc-windows-gnu;
#   - creates a per-checkout WINEPREFIX in target/wine-prefix (wineboot once,
#     ~10 s; Mono/Gecko installers disabled: no dialogs, no downloads);
#   - installs the bcryptprimitives.dll stand-in (.ci/wine/processprng.c):
#     wine 8 lacks ProcessPrng, which every Rust >= 1.78 program imports.
# Then exports WINEPREFIX (absolute), WINEDEBUG=-all, WINEDLLOVERRIDES and
# cargo's runner and linker for the target. Prints one line on success; on
# failure says why and returns non-zero. Leaves the caller's shell options
# alone. WINE_ENV_PREFIX=/some/dir overrides the prefix location.

_wine_env_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_wine_env_prefix=${WINE_ENV_PREFIX:-$_wine_env_root/target/wine-prefix}
case "$_wine_env_prefix" in /*) ;; *) _wine_env_prefix="$PWD/$_wine_env_prefix" ;; esac

if bash "$_wine_env_root/.ci/wine/setup.sh" "$_wine_env_prefix"; then
  export WINEPREFIX="$_wine_env_prefix"
  export WINEDEBUG=-all
  export WINEDLLOVERRIDES="mscoree,mshtml="
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
  echo "wine-env: prefix ready: $WINEPREFIX"
  unset _wine_env_root _wine_env_prefix
else
  echo "wine-env: setup FAILED (prefix $_wine_env_prefix)" >&2
  unset _wine_env_root _wine_env_prefix
  # `return` when sourced; `exit` if run directly.
  # shellcheck disable=SC2317
  return 1 2>/dev/null || exit 1
fi
