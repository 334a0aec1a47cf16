//! The probe's command line, run as a user runs it: the probe binary as a
//! child process. Native targets only: under qemu-user (`cargo test
//! --target aarch64-unknown-linux-gnu`) the test process cannot exec a guest
//! binary (QEMU 7.2 does not intercept `execve`, and this machine has no
//! binfmt_misc entry), so these run where the binary is the host's (CI:
//! x86_64 Linux; `cargo test -p icache-probe`). The per-architecture JSON
//! fields are unit tests in `src/main.rs`, which do run under QEMU.

#![cfg(target_arch = "x86_64")]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A bad `--svg` path fails before anything is measured: with 100 million
/// iterations the measurements would take hours, so an answer within the
/// deadline proves the path was checked first.
#[test]
fn bad_svg_path_fails_before_measuring() {
    let path = std::env::temp_dir()
        .join("icache-probe-no-such-dir")
        .join("plot.svg");
    let mut child = Command::new(env!("CARGO_BIN_EXE_icache-probe"))
        .args(["--iterations", "100000000", "--svg"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run icache-probe");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("icache-probe measured instead of refusing the --svg path");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!status.success(), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing measured, nothing printed");
    assert!(
        stderr.contains(&format!("--svg {}", path.display())),
        "the error names the flag and the path: {stderr}"
    );
}

/// `--help` explains every column and the direction of every ratio.
#[test]
fn help_explains_columns_and_ratios() {
    let out = Command::new(env!("CARGO_BIN_EXE_icache-probe"))
        .arg("--help")
        .output()
        .expect("run icache-probe --help");
    let help = String::from_utf8_lossy(&out.stdout);
    for want in [
        "ns/line",
        "D/I lines",
        "shared (more threads",
        "mean\n                    ratio = pipeline_flush_mt mean / raw mean (below 1: the\n                    crate is cheaper)",
        "calls/flush",
        "stale: calls that ran a version older",
        "newer: calls that ran a newer one",
    ] {
        assert!(help.contains(want), "--help lacks {want:?}:\n{help}");
    }
}
