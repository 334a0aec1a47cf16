#!/usr/bin/env python3
"""Check that the compat packages match what cranelift-jit pins.

cranelift-jit depends on its instruction-cache crate with an exact pin
(`=48.0.8`), and `[patch.crates-io]` only replaces a package whose version
satisfies it. For each compat package this resolves a cranelift-jit that
uses that name, with the patch applied, and fails unless:

1. the compat package's version is exactly what that cranelift-jit pins;
2. the resolved graph has the compat (path) package, not the crates.io one,
   under cranelift-jit, and icache-coherence under it.

- wasmtime-internal-jit-icache-coherence: examples/cranelift-jit, as
  committed (the cranelift-jit version CI builds and runs);
- wasmtime-jit-icache-coherence (the name up to cranelift-jit 0.121): a
  throwaway workspace depending on cranelift-jit LEGACY_CRANELIFT, resolved
  only (`cargo metadata`: the crates.io index, no build).

Last line: "compat-check: ok" or the first mismatch. Needs the crates.io
index (network or a warm cache).
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "cranelift-jit")
COMPAT = os.path.join(ROOT, "compat")
NEW_NAME = "wasmtime-internal-jit-icache-coherence"
OLD_NAME = "wasmtime-jit-icache-coherence"
# The last cranelift-jit release that depends on the old name.
LEGACY_CRANELIFT = "0.121.2"


def metadata(manifest_dir, no_deps=False):
    cmd = ["cargo", "metadata", "--format-version", "1", "--locked"]
    if no_deps:
        cmd = ["cargo", "metadata", "--format-version", "1", "--no-deps"]
    out = subprocess.run(cmd, cwd=manifest_dir, capture_output=True, text=True)
    if out.returncode != 0:
        # With --locked: the patch no longer matches the committed lockfile
        # (a changed compat version, for one).
        print(out.stderr, file=sys.stderr)
        print(f"compat-check: `{' '.join(cmd)}` failed in {manifest_dir}: the compat version"
              " must equal cranelift-jit's pin (compat/pin.sh <cranelift-jit version>)")
        sys.exit(1)
    return json.loads(out.stdout), out.stderr


def compat_version(name):
    meta, _ = metadata(COMPAT, no_deps=True)
    (pkg,) = [p for p in meta["packages"] if p["name"] == name]
    return pkg["version"]


def check(meta, stderr, name, where):
    """The pin of cranelift-jit in `meta` against the compat package `name`."""
    fail = []
    if "was not used in the crate graph" in stderr:
        fail.append(f"cargo did not use the patch:\n{stderr}")
    pkgs = {p["id"]: p for p in meta["packages"]}
    (cl,) = [p for p in meta["packages"] if p["name"] == "cranelift-jit"]
    pins = [d["req"] for d in cl["dependencies"] if d["name"] == name]
    version = compat_version(name)
    if pins != [f"={version}"]:
        fail.append(
            f"cranelift-jit {cl['version']} pins {name} {pins}, the compat package is {version}:"
            f" set version = \"{pins[0].lstrip('=') if pins else '?'}\" in"
            f" compat/{name}/Cargo.toml (or run compat/pin.sh {cl['version']})"
        )
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    deps_of_cl = [pkgs[d] for d in nodes[cl["id"]]["dependencies"]]
    used = [p for p in deps_of_cl if p["name"] == name]
    if len(used) != 1 or used[0]["source"] is not None:
        fail.append(f"cranelift-jit's {name} is not the path package: {[(p['version'], p['source']) for p in used]}")
    else:
        under = [pkgs[d]["name"] for d in nodes[used[0]["id"]]["dependencies"]]
        if "icache-coherence" not in under:
            fail.append(f"{name} (path) does not depend on icache-coherence: {under}")
        print(f"{where}: cranelift-jit {cl['version']} pins {name} {pins[0]}"
              f" -> {used[0]['manifest_path']} -> icache-coherence")
    return fail


def legacy_workspace(tmp):
    with open(os.path.join(tmp, "Cargo.toml"), "w") as f:
        f.write(f"""[package]
name = "legacy-check"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
cranelift-jit = "={LEGACY_CRANELIFT}"

[patch.crates-io]
{OLD_NAME} = {{ path = "{os.path.join(COMPAT, OLD_NAME)}" }}

[workspace]
""")
    os.makedirs(os.path.join(tmp, "src"))
    with open(os.path.join(tmp, "src", "main.rs"), "w") as f:
        f.write("fn main() {}\n")
    subprocess.run(["cargo", "generate-lockfile", "--quiet"], cwd=tmp, check=True)


def main():
    fail = []
    meta, err = metadata(EXAMPLE)
    fail += check(meta, err, NEW_NAME, "examples/cranelift-jit")
    with tempfile.TemporaryDirectory() as tmp:
        legacy_workspace(tmp)
        meta, err = metadata(tmp)
        fail += check(meta, err, OLD_NAME, f"cranelift-jit {LEGACY_CRANELIFT}")
    for f in fail:
        print(f"MISMATCH: {f}", file=sys.stderr)
    print("compat-check: " + ("ok" if not fail else f"{len(fail)} mismatch(es)"))
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
