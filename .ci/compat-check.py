#!/usr/bin/env python3
"""Check that the stand-ins in compat/ match what cranelift-jit pins, and
that both ways of using them resolve.

cranelift-jit depends on its instruction-cache crate with an exact pin
(`=48.0.10`), and `[patch.crates-io]` only replaces a package whose version
satisfies it. There is one stand-in per Wasmtime line, compat/wasmtime-NN,
each recording the cranelift-jit release it follows in
[package.metadata.compat]. For each, this resolves that cranelift-jit with
the patch applied and fails unless:

1. the stand-in's version is exactly what that cranelift-jit pins;
2. the resolved graph has the stand-in, not the crates.io crate, under
   cranelift-jit, and icache-coherence under the stand-in;
3. where examples/cranelift-jit/0.MMM exists (the lines CI builds), it is
   on that cranelift-jit release and Rust version, with its committed
   lockfile (`--locked`); other lines resolve in a throwaway project.

With --git it also checks the git form, `{ git = URL, version = "=V" }`,
for every line, against a `file://` repository made from this working
tree (tracked and untracked, not ignored, files; one commit), exactly the
layout a user's clone has: a throwaway project per line must resolve to
the stand-in from that URL. It leaves the repository and the projects in
target/compat-git/ (CI builds and runs one; see .ci/run). It also checks
that without `version` cargo refuses (several candidates of one name),
which is why the documented line has it.

README.md's table of lines, between <!-- BEGIN compat-lines --> and
<!-- END compat-lines -->, is generated from the stand-ins: checked, or with
--write-readme rewritten.

Last line: "compat-check: ok" or the number of mismatches. Needs the
crates.io index (network or a warm cache).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples", "cranelift-jit")
GIT_DIR = os.path.join(ROOT, "target", "compat-git")
BEGIN, END = "<!-- BEGIN compat-lines -->", "<!-- END compat-lines -->"
# What CI does with each cranelift-jit line (.ci/run, "cranelift-jit on
# icache-coherence"); a line missing here is "resolved" (this script only).
CI = {"0.135": "runs: native, QEMU aarch64; git form too",
      "0.136": "builds",
      "0.137": "runs: native, QEMU aarch64"}


def cargo(args, cwd, check=True):
    out = subprocess.run(["cargo"] + args, cwd=cwd, capture_output=True, text=True)
    if check and out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        print(f"compat-check: `cargo {' '.join(args)}` failed in {cwd}")
        sys.exit(1)
    return out


def stand_ins():
    """Every compat/wasmtime-NN: name, version, rust-version, directory and
    its [package.metadata.compat]."""
    out = []
    for toml in sorted(glob.glob(os.path.join(ROOT, "compat", "wasmtime-*", "Cargo.toml"))):
        meta = json.loads(cargo(["metadata", "--format-version", "1", "--no-deps"],
                                os.path.dirname(toml)).stdout)
        (pkg,) = [p for p in meta["packages"] if p["manifest_path"] == toml]
        compat = (pkg.get("metadata") or {}).get("compat") or {}
        out.append({"name": pkg["name"], "version": pkg["version"], "rust": pkg["rust_version"],
                    "dir": os.path.relpath(os.path.dirname(toml), ROOT),
                    "cranelift": compat.get("cranelift-jit"), "cranelift_rust": compat.get("cranelift-rust")})
    return sorted(out, key=lambda s: [int(x) for x in s["version"].split(".")])


def check_graph(meta, stderr, line, where, want_source):
    """The pin of cranelift-jit in `meta` against the stand-in `line`;
    `want_source(pkg)` says whether the package came from where it should."""
    fail = []
    name = line["name"]
    if "was not used in the crate graph" in stderr:
        fail.append(f"{where}: cargo did not use the patch:\n{stderr}")
    pkgs = {p["id"]: p for p in meta["packages"]}
    (cl,) = [p for p in meta["packages"] if p["name"] == "cranelift-jit"]
    if cl["version"] != line["cranelift"]:
        fail.append(f"{where}: cranelift-jit {cl['version']}, {line['dir']} follows {line['cranelift']}")
    if cl.get("rust_version") and cl["rust_version"] != line["cranelift_rust"]:
        fail.append(f"{where}: cranelift-jit {cl['version']} needs Rust {cl['rust_version']},"
                    f" {line['dir']} says {line['cranelift_rust']} (compat/pin.sh)")
    pins = [d["req"] for d in cl["dependencies"] if d["name"] == name]
    if pins != [f"={line['version']}"]:
        fail.append(f"{where}: cranelift-jit {cl['version']} pins {name} {pins}, {line['dir']} is"
                    f" {line['version']} (compat/pin.sh {cl['version']})")
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    used = [pkgs[d] for d in nodes[cl["id"]]["dependencies"] if pkgs[d]["name"] == name]
    if len(used) != 1 or not want_source(used[0]):
        fail.append(f"{where}: cranelift-jit's {name} is not the stand-in:"
                    f" {[(p['version'], p['source'], p['manifest_path']) for p in used]}")
        return fail
    under = [pkgs[d]["name"] for d in nodes[used[0]["id"]]["dependencies"]]
    if "icache-coherence" not in under:
        fail.append(f"{where}: {name} does not depend on icache-coherence: {under}")
    if not fail:
        print(f"{where}: cranelift-jit {cl['version']} pins {name} {pins[0]}"
              f" -> {used[0]['source'] or os.path.relpath(used[0]['manifest_path'], ROOT)} -> icache-coherence")
    return fail


def project(tmp, line, patch):
    """A throwaway project on the cranelift-jit `line` follows, with `patch`."""
    os.makedirs(os.path.join(tmp, "src"), exist_ok=True)
    with open(os.path.join(tmp, "Cargo.toml"), "w") as f:
        f.write(f"""[package]
name = "compat-check"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
cranelift-jit = "={line['cranelift']}"

[patch.crates-io]
{line['name']} = {patch}

[workspace]
""")
    with open(os.path.join(tmp, "src", "main.rs"), "w") as f:
        f.write("fn main() {}\n")


def metadata(cwd, locked):
    out = cargo(["metadata", "--format-version", "1"] + (["--locked"] if locked else []), cwd)
    return json.loads(out.stdout), out.stderr


def minor(version):
    return ".".join(version.split(".")[:2])


def check_path(lines):
    fail = []
    examples = {os.path.basename(d) for d in glob.glob(os.path.join(EXAMPLES, "0.*"))}
    for line in lines:
        ex = os.path.join(EXAMPLES, minor(line["cranelift"]))
        want = os.path.join(ROOT, line["dir"], "Cargo.toml")
        is_path = lambda p: p["source"] is None and p["manifest_path"] == want
        if os.path.isdir(ex):
            examples.discard(os.path.basename(ex))
            meta, err = metadata(ex, locked=True)
            fail += check_graph(meta, err, line, os.path.relpath(ex, ROOT), is_path)
            (pkg,) = [p for p in meta["packages"] if p["name"] == "cranelift-jit-example"]
            if pkg["rust_version"] != line["cranelift_rust"]:
                fail.append(f"{os.path.relpath(ex, ROOT)}: rust-version {pkg['rust_version']},"
                            f" cranelift-jit {line['cranelift']} needs {line['cranelift_rust']}")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                project(tmp, line, f'{{ path = "{os.path.join(ROOT, line["dir"])}" }}')
                cargo(["generate-lockfile", "--quiet"], tmp)
                meta, err = metadata(tmp, locked=False)
                fail += check_graph(meta, err, line, f"cranelift-jit {line['cranelift']} (path)", is_path)
    for ex in sorted(examples):
        fail.append(f"examples/cranelift-jit/{ex}: no stand-in in compat/ follows cranelift-jit {ex}")
    return fail


def git_repository():
    """A one-commit git repository of this working tree, as a user's clone
    would have it: tracked and untracked (not ignored) files."""
    repo = os.path.join(GIT_DIR, "repo")
    shutil.rmtree(GIT_DIR, ignore_errors=True)
    os.makedirs(repo)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for f in filter(None, files):
        src = os.path.join(ROOT, f.decode())
        if os.path.isfile(src):  # (deleted but still in the index: skipped)
            dst = os.path.join(repo, f.decode())
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
    env = dict(os.environ, GIT_AUTHOR_NAME="ci", GIT_AUTHOR_EMAIL="ci@localhost",
               GIT_COMMITTER_NAME="ci", GIT_COMMITTER_EMAIL="ci@localhost")
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "working tree"]):
        subprocess.run(["git"] + cmd, cwd=repo, check=True, env=env)
    return "file://" + repo


def git_example(ex, tmp, url, patch):
    """The example of a line, as a user would have it with the git form:
    its manifest with the patch line, the icache-coherence dependency and
    the program's path rewritten (nothing else)."""
    text = open(os.path.join(ex, "Cargo.toml")).read()
    edits = [
        (r'(?m)^(wasmtime-[a-z-]+-icache-coherence) = \{ path = "[^"]*" \}$', rf"\1 = {patch}"),
        (r'(?m)^icache-coherence = \{ path = "[^"]*" \}$', f'icache-coherence = {{ git = "{url}" }}'),
        (r'(?m)^path = "\.\./src/main\.rs"$', f'path = "{os.path.join(GIT_DIR, "repo", "examples", "cranelift-jit", "src", "main.rs")}"'),
    ]
    for pattern, repl in edits:
        text, n = re.subn(pattern, repl, text)
        if n != 1:
            print(f"compat-check: {ex}/Cargo.toml: {pattern} matched {n} lines, not 1")
            sys.exit(1)
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(tmp, "Cargo.toml"), "w") as f:
        f.write(text)


def check_git(lines):
    fail = []
    url = git_repository()
    print(f"git form: {url} ({len(lines)} stand-ins in one commit)")
    for line in lines:
        tmp = os.path.join(GIT_DIR, minor(line["cranelift"]))
        patch = f'{{ git = "{url}", version = "={line["version"]}" }}'
        ex = os.path.join(EXAMPLES, minor(line["cranelift"]))
        if os.path.isdir(ex):
            git_example(ex, tmp, url, patch)
        else:
            project(tmp, line, patch)
        cargo(["generate-lockfile", "--quiet"], tmp)
        meta, err = metadata(tmp, locked=True)
        is_git = lambda p: (p["source"] or "").startswith(f"git+{url}") \
            and p["manifest_path"].endswith(os.path.join(line["dir"], "Cargo.toml"))
        fail += check_graph(meta, err, line, f"cranelift-jit {line['cranelift']} (git)", is_git)
    # Without `version`: every line of a name that has several is a candidate.
    names = [l["name"] for l in lines]
    for line in lines:
        if names.count(line["name"]) > 1:
            with tempfile.TemporaryDirectory() as tmp:
                project(tmp, line, f'{{ git = "{url}" }}')
                out = cargo(["generate-lockfile"], tmp, check=False)
                ok = out.returncode != 0 and "resolved to more than one candidate" in out.stderr
                print(f"git form without version = \"=...\" (cranelift-jit {line['cranelift']}): "
                      + ("refused, several candidates (as documented)" if ok else "NOT refused"))
                if not ok:
                    fail.append(f"git form without version: expected cargo to refuse several "
                                f"candidates, got exit {out.returncode}:\n{out.stderr}")
            break
    return fail


def table(lines):
    rows = ["<!-- Generated by `python3 .ci/compat-check.py --write-readme` from compat/*/Cargo.toml: do not edit. -->",
            "",
            "| cranelift-jit | pins (exactly) | stand-in | the `[patch.crates-io]` line | Rust | CI |",
            "|---|---|---|---|---|---|"]
    for line in reversed(lines):
        line_rust = max(line["cranelift_rust"], line["rust"], key=lambda v: [int(x) for x in v.split(".")])
        rows.append(
            f"| {minor(line['cranelift'])}.x (newest: {line['cranelift']}) "
            f"| `{line['name']} = \"={line['version']}\"` | `{line['dir']}` "
            f"| `{line['name']} = {{ git = \"REPO_URL\", version = \"={line['version']}\" }}` "
            f"| {'.'.join(line_rust.split('.')[:2])} | {CI.get(minor(line['cranelift']), 'resolved')} |")
    return "\n".join(rows) + "\n"


def check_readme(lines, write):
    path = os.path.join(ROOT, "README.md")
    text = open(path).read()
    a, b = text.find(BEGIN), text.find(END)
    if a < 0 or b < a:
        return [f"README.md has no {BEGIN} ... {END} block"]
    want = table(lines)
    current = text[a + len(BEGIN):b].strip("\n") + "\n"
    if current == want:
        print("README.md: the table of lines is current")
        return []
    if write:
        with open(path, "w") as f:
            f.write(text[:a + len(BEGIN)] + "\n" + want + text[b:])
        print("README.md: wrote the table of lines")
        return []
    return ["README.md's table of lines differs from compat/: run python3 .ci/compat-check.py --write-readme"]


def main():
    args = set(sys.argv[1:])
    lines = stand_ins()
    fail = []
    for line in lines:
        if not line["cranelift"] or not line["cranelift_rust"]:
            fail.append(f"{line['dir']}: no [package.metadata.compat] cranelift-jit / cranelift-rust")
    if not fail:
        fail += check_path(lines)
        if "--git" in args:
            fail += check_git(lines)
        fail += check_readme(lines, "--write-readme" in args)
    for f in fail:
        print(f"MISMATCH: {f}", file=sys.stderr)
    print("compat-check: " + ("ok" if not fail else f"{len(fail)} mismatch(es)"))
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
