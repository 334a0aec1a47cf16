//! Real seccomp faults under QEMU user mode: the host-side launcher.
//! Not a user example: a test instrument, run by `.ci/seccomp-qemu.sh`.
//!
//! `qemu-aarch64` forwards the guest's `membarrier(cmd, flags)` to the host
//! kernel as x86_64 syscall 324 (and makes none of its own), so a classic-BPF
//! filter installed on the host before exec'ing QEMU sees every guest
//! command. For each guest case of `tests/support/seccomp_cases.rs`, this
//! program forks; the child installs the case's filter
//! (`PR_SET_NO_NEW_PRIVS`, `seccomp(SECCOMP_SET_MODE_FILTER)`) and execs
//!
//! ```text
//! qemu-aarch64 -L SYSROOT -d strace -D LOG GUEST --exact child_entry ...
//! ```
//!
//! with `ICACHE_SECCOMP_CASE=<case>` and `ICACHE_SECCOMP_HOST_FILTER=1`,
//! where GUEST is `tests/seccomp.rs` built for `aarch64-unknown-linux-gnu`
//! (its `child_entry` test runs the case's body). The parent checks how
//! the guest ended (exit 0, or killed by `SIGSYS`) and the guest's
//! `membarrier` commands and results, read from QEMU's strace log. One line
//! per case, then `N passed, M failed`; exit status 1 on any failure.
//! `QEMU_CPU` is passed through.
//!
//! ```text
//! seccomp_qemu --guest PATH [--qemu qemu-aarch64] [--sysroot /usr/aarch64-linux-gnu] [CASE...]
//! seccomp_qemu --exec FILTER -- PROGRAM [ARGS...]    (install FILTER, exec PROGRAM)
//! ```
//!
//! x86_64 Linux hosts only (the filters match the x86_64 system-call ABI).

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[path = "../tests/support/child.rs"]
mod child;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[path = "../tests/support/seccomp.rs"]
mod seccomp;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[path = "../tests/support/seccomp_cases.rs"]
mod seccomp_cases;

fn main() {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    std::process::exit(host::main());
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    {
        eprintln!("seccomp_qemu: the host-side launcher runs on x86_64 Linux only");
        std::process::exit(2);
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod host {
    use super::{child, seccomp, seccomp_cases};
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// GLOBAL waits for RCU grace periods and everything is emulated: be
    /// generous, but bounded.
    const TIMEOUT: Duration = Duration::from_secs(300);

    fn usage() -> i32 {
        eprintln!(
            "usage: seccomp_qemu --guest PATH [--qemu QEMU] [--sysroot DIR] [CASE...]\n       \
             seccomp_qemu --exec FILTER -- PROGRAM [ARGS...]\n\
             filters: {}",
            seccomp::ALL
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(" ")
        );
        2
    }

    /// Installs `filter` in the child between fork and exec.
    fn with_filter(cmd: &mut Command, filter: seccomp::Filter) {
        // SAFETY: between fork and exec only setrlimit, prctl and seccomp
        // run, none of which allocates or takes a lock.
        unsafe {
            cmd.pre_exec(move || {
                child::no_core_dumps();
                filter.install(0).map_err(std::io::Error::from_raw_os_error)
            })
        };
    }

    pub fn main() -> i32 {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.first().map(String::as_str) == Some("--exec") {
            return exec(&args[1..]);
        }
        let (mut guest, mut qemu, mut sysroot) = (
            None,
            "qemu-aarch64".to_string(),
            "/usr/aarch64-linux-gnu".to_string(),
        );
        let mut only = Vec::new();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--guest" => guest = it.next(),
                "--qemu" => qemu = it.next().unwrap_or(qemu),
                "--sysroot" => sysroot = it.next().unwrap_or(sysroot),
                "-h" | "--help" => return usage(),
                _ => only.push(a),
            }
        }
        let Some(guest) = guest else {
            return usage();
        };
        for name in &only {
            if seccomp_cases::find(name).and_then(|c| c.guest).is_none() {
                eprintln!("seccomp_qemu: no guest case {name:?}");
                return 2;
            }
        }
        let cpu = std::env::var("QEMU_CPU").unwrap_or_else(|_| "(default)".into());
        println!("seccomp faults under {qemu}, QEMU_CPU={cpu}, guest {guest}");
        let (mut passed, mut failed) = (0, 0);
        for case in seccomp_cases::CASES {
            let Some(want) = case.guest else {
                continue;
            };
            if !only.is_empty() && !only.iter().any(|n| n == case.name) {
                continue;
            }
            if run_case(case, want, &qemu, &sysroot, &guest) {
                passed += 1;
            } else {
                failed += 1;
            }
        }
        let skipped: Vec<_> = seccomp_cases::CASES
            .iter()
            .filter(|c| c.guest.is_none())
            .map(|c| c.name)
            .collect();
        println!(
            "not run under QEMU (native only, see tests/support/seccomp_cases.rs): {skipped:?}"
        );
        println!("{passed} passed, {failed} failed");
        i32::from(failed > 0 || passed == 0)
    }

    fn run_case(
        case: &seccomp_cases::Case,
        want: seccomp_cases::Expect,
        qemu: &str,
        sysroot: &str,
        guest: &str,
    ) -> bool {
        let filter = case.filter.expect("guest cases start under a host filter");
        let log = child::temp_path(&format!("qemu-{}", case.name));
        let mut cmd = Command::new(qemu);
        cmd.args(["-L", sysroot, "-d", "strace", "-D"])
            .arg(&log)
            .arg(guest)
            .args([
                "--exact",
                "child_entry",
                "--nocapture",
                "--test-threads=1",
                "-q",
            ])
            .env(seccomp_cases::CASE_ENV, case.name)
            .env(seccomp_cases::HOST_FILTER_ENV, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        with_filter(child::own_group(&mut cmd), filter);
        let t = Instant::now();
        let outcome = match cmd.spawn() {
            Ok(mut c) => child::wait_child(&mut c, TIMEOUT),
            Err(e) => {
                println!("FAIL {:<30} cannot start {qemu}: {e}", case.name);
                return false;
            }
        };
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        let calls = child::parse_qemu_strace(&text, matches!(outcome, child::Outcome::Signaled(_)));
        let seq = child::seq(&calls);
        let query: Vec<_> = calls
            .iter()
            .filter(|c| c.cmd == 0)
            .map(|c| format!("{:?}", c.result))
            .collect();
        let ok = outcome == want.outcome && seq == want.seq;
        println!(
            "{} {:<30} filter {:<20} {:<17} membarrier: {seq}{}  ({:.2?})",
            if ok { "PASS" } else { "FAIL" },
            case.name,
            filter.name,
            outcome.to_string(),
            if query.is_empty() {
                String::new()
            } else {
                format!(" (QUERY answered {})", query.join(", "))
            },
            t.elapsed()
        );
        if !ok {
            println!("     want {} with membarrier: {}", want.outcome, want.seq);
        }
        ok
    }

    /// `--exec FILTER -- PROGRAM ARGS...`: install FILTER, then exec.
    fn exec(args: &[String]) -> i32 {
        let (Some(name), Some("--"), Some(program)) =
            (args.first(), args.get(1).map(String::as_str), args.get(2))
        else {
            return usage();
        };
        let Some(filter) = seccomp::by_name(name) else {
            return usage();
        };
        child::no_core_dumps();
        if let Err(e) = filter.install(0) {
            eprintln!("seccomp_qemu: installing {name}: errno {e}");
            return 1;
        }
        let e = Command::new(program).args(&args[3..]).exec();
        eprintln!("seccomp_qemu: exec {program}: {e}");
        127
    }
}
