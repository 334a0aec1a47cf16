//! Child processes for the fault-injection, fork and race tests: forked
//! children that check without allocating and report by exit code, bounded
//! waits (a child that hangs is killed and reported, never waited for
//! forever), and the `membarrier` calls a process made, read from
//! `strace` (native) or QEMU's `-d strace` log (guest). Shared by
//! `tests/seccomp.rs`, `tests/fork.rs`, `tests/first_use_race_strict.rs`
//! and `examples/seccomp_qemu.rs`, each of which includes it with
//! `#[path]`. Linux only.

#![allow(dead_code)] // not every includer uses every helper

use core::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signaled(i32),
    /// Still running at the deadline: it was killed with `SIGKILL`.
    TimedOut,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Outcome::Exited(c) => write!(f, "exit {c}"),
            Outcome::Signaled(s) if s == libc::SIGSYS => f.write_str("killed by SIGSYS"),
            Outcome::Signaled(s) => write!(f, "killed by signal {s}"),
            Outcome::TimedOut => f.write_str("TIMED OUT (killed)"),
        }
    }
}

/// Exits the calling process at once: no destructors, no atexit handlers,
/// no flushing of Rust's buffers (what a forked child must do).
pub fn exit(code: i32) -> ! {
    // SAFETY: `_exit` is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

/// No core file for a child killed by `SIGSYS` (its default action dumps
/// core).
pub fn no_core_dumps() {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid rlimit; lowering a limit is always permitted.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
}

/// A `fmt::Write` into a fixed buffer, written to stderr with one
/// `write(2)`: formatting without allocation, for forked children.
/// Longer messages are truncated.
struct StackBuf {
    buf: [u8; 1024],
    len: usize,
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// `eprint!` without allocation or locks: safe in a forked child.
pub fn emit(args: fmt::Arguments<'_>) {
    let mut b = StackBuf {
        buf: [0; 1024],
        len: 0,
    };
    let _ = b.write_fmt(args);
    // SAFETY: writes `len` initialised bytes of `buf` to fd 2.
    unsafe { libc::write(2, b.buf.as_ptr().cast(), b.len) };
}

/// Numbered checks in a child: the n-th failing check prints what it got
/// and wanted to stderr (no allocation) and exits with code `10 + n`, so
/// the parent's assertion on the exit status names the check.
pub struct Checks {
    case: &'static str,
    n: i32,
}

impl Checks {
    pub fn new(case: &'static str) -> Checks {
        Checks { case, n: 0 }
    }

    pub fn eq<T: PartialEq + fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        self.n += 1;
        if got != want {
            self.fail(format_args!("{what}: got {got:?}, want {want:?}"));
        }
    }

    pub fn that(&mut self, what: &str, ok: bool, detail: &dyn fmt::Debug) {
        self.n += 1;
        if !ok {
            self.fail(format_args!("{what}: got {detail:?}"));
        }
    }

    fn fail(&self, msg: fmt::Arguments<'_>) -> ! {
        let code = 10 + self.n;
        emit(format_args!(
            "child [{}]: check {} failed (exit {code}): {msg}\n",
            self.case, self.n
        ));
        exit(code)
    }
}

fn status_outcome(status: i32) -> Outcome {
    if libc::WIFEXITED(status) {
        Outcome::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Outcome::Signaled(libc::WTERMSIG(status))
    } else {
        Outcome::Exited(-1)
    }
}

/// Waits for `pid` until `deadline`; a child still running then is killed
/// (`SIGKILL`), reaped and reported as [`Outcome::TimedOut`].
pub fn wait_pid(pid: libc::pid_t, deadline: Instant) -> Outcome {
    loop {
        let mut status = 0;
        // SAFETY: `pid` is our child; `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return status_outcome(status);
        }
        assert!(
            r == 0,
            "waitpid({pid}): {}",
            std::io::Error::last_os_error()
        );
        if Instant::now() >= deadline {
            // SAFETY: signalling and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Outcome::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Forks; the child runs `body` (which must not allocate, lock, or rely on
/// other threads: only the forking thread exists in the child) and exits
/// with its result, or 101 if it panicked. Returns the child's pid.
pub fn fork(body: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `body`, then `_exit`s; it never returns
    // into the caller's frames, the test harness or unwinds across `fork`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(101);
        exit(code);
    }
    pid
}

/// [`fork`], then a bounded wait.
pub fn fork_run(timeout: Duration, body: impl FnOnce() -> i32) -> Outcome {
    let deadline = Instant::now() + timeout;
    wait_pid(fork(body), deadline)
}

/// Waits for a spawned process until `timeout`, killing it then, and its
/// process group if it leads one (see [`own_group`]: a killed strace or
/// QEMU must not leave its tracee or threads running).
pub fn wait_child(child: &mut Child, timeout: Duration) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return match (status.code(), status.signal()) {
                (Some(c), _) => Outcome::Exited(c),
                (None, Some(s)) => Outcome::Signaled(s),
                (None, None) => Outcome::Exited(-1),
            };
        }
        if Instant::now() >= deadline {
            // SAFETY: signals our child's process group (ESRCH if it has
            // none of its own), then the child itself.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.kill();
            let _ = child.wait();
            return Outcome::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts the command in a process group of its own, so that a timeout
/// kills it with everything it started.
pub fn own_group(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0)
}

/// A fresh, unique temporary file name.
pub fn temp_path(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "icache-coherence-{tag}-{}-{}.log",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// strace, which the sequence checks need. Missing is a failure, not a
/// skip: CI installs it (`apt-get install strace`).
pub fn strace() -> &'static str {
    for p in ["/usr/bin/strace", "/bin/strace", "/usr/local/bin/strace"] {
        if Path::new(p).exists() {
            return p;
        }
    }
    eprintln!(
        "!!! strace is missing: the membarrier sequence checks need it (apt-get install strace)"
    );
    panic!("strace missing: apt-get install strace");
}

/// This test binary, re-executed for exactly one test with `--exact`, under
/// `strace -f -qq -X raw -e trace=membarrier`, with `env` added: its
/// outcome (strace exits as the traced process did: same code, same
/// signal) and every `membarrier` call the process and its descendants
/// made, and its stdout. The child's stderr is inherited (its failure
/// messages show).
pub fn strace_self(
    test: &str,
    env: &[(&str, &str)],
    timeout: Duration,
) -> (Outcome, Vec<Call>, String) {
    let log = temp_path("strace");
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(strace());
    cmd.args(["-f", "-qq", "-X", "raw", "-e", "trace=membarrier", "-o"])
        .arg(&log)
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1", "-q"])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    no_core_dumps_in(own_group(&mut cmd));
    let mut child = cmd.spawn().expect("spawn strace");
    let (outcome, out) = wait_child_output(&mut child, timeout);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (outcome, parse_strace(&text), out)
}

/// This test binary, re-executed for exactly one test, without strace.
pub fn run_self(test: &str, env: &[(&str, &str)], timeout: Duration) -> (Outcome, String) {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1", "-q"])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    no_core_dumps_in(own_group(&mut cmd));
    let mut child = cmd.spawn().expect("spawn the test binary");
    wait_child_output(&mut child, timeout)
}

/// [`wait_child`], collecting the child's piped stdout (read on a thread,
/// so a chatty child cannot fill the pipe and stall).
fn wait_child_output(child: &mut Child, timeout: Duration) -> (Outcome, String) {
    let reader = child.stdout.take().map(|mut o| {
        std::thread::spawn(move || {
            let mut out = String::new();
            let _ = std::io::Read::read_to_string(&mut o, &mut out);
            out
        })
    });
    let outcome = wait_child(child, timeout);
    // After exit (or the kill) the pipe's writer is closed: EOF.
    let out = reader
        .map(|r| r.join().unwrap_or_default())
        .unwrap_or_default();
    (outcome, out)
}

fn no_core_dumps_in(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between
    // fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            no_core_dumps();
            Ok(())
        })
    };
}

/// One `membarrier` call: by which thread, which command, what it returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub tid: u32,
    pub cmd: i64,
    pub result: Ret,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ret {
    /// A non-negative result (QUERY's is the command mask).
    Ok(i64),
    /// `-1` with this errno name (`EPERM`, `EINVAL`, ...).
    Err(String),
    /// The process was killed (seccomp `SIGSYS`) during this call.
    Killed,
    /// No result was logged.
    Unknown,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ret::Ok(_) => write!(f, "{}=ok", self.cmd),
            Ret::Err(e) => write!(f, "{}={e}", self.cmd),
            Ret::Killed => write!(f, "{}=SIGSYS", self.cmd),
            Ret::Unknown => write!(f, "{}=?", self.cmd),
        }
    }
}

/// The calls as a compact sequence: `64=ok 32=ok*1000`, `64=EPERM`, or
/// `none`.
pub fn seq(calls: &[Call]) -> String {
    let mut out: Vec<(String, usize)> = Vec::new();
    for c in calls {
        let s = c.to_string();
        match out.last_mut() {
            Some((last, n)) if *last == s => *n += 1,
            _ => out.push((s, 1)),
        }
    }
    if out.is_empty() {
        return "none".into();
    }
    out.iter()
        .map(|(s, n)| {
            if *n == 1 {
                s.clone()
            } else {
                format!("{s}*{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => i64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn errno_name(e: i64) -> String {
    match e as i32 {
        libc::EPERM => "EPERM".into(),
        libc::EACCES => "EACCES".into(),
        libc::EINVAL => "EINVAL".into(),
        libc::ENOSYS => "ENOSYS".into(),
        libc::EIO => "EIO".into(),
        other => format!("E{other}"),
    }
}

/// strace's `-f -X raw` log: `TID membarrier(0x40, 0) = -1 EPERM (...)`,
/// split by concurrency into `TID membarrier(0x20, 0 <unfinished ...>` and
/// `TID <... membarrier resumed>) = 0`; `TID +++ killed by SIGSYS +++`.
/// (The TID prefix is absent when only one process was traced.)
pub fn parse_strace(text: &str) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    // tid -> index of its unfinished call
    let mut pending: std::collections::HashMap<u32, usize> = Default::default();
    for line in text.lines() {
        let (tid, rest) = match line.split_once(' ') {
            Some((t, r)) if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() => {
                (t.parse().unwrap_or(0), r.trim_start())
            }
            _ => (0, line),
        };
        let result = |tail: &str| -> Ret {
            match tail.split_once('=') {
                None => Ret::Unknown,
                Some((_, r)) => {
                    let mut words = r.split_whitespace();
                    match words.next() {
                        Some("-1") => Ret::Err(words.next().unwrap_or("?").to_string()),
                        Some("?") | None => Ret::Unknown,
                        Some(v) => parse_int(v).map_or(Ret::Unknown, Ret::Ok),
                    }
                }
            }
        };
        if let Some(args) = rest.strip_prefix("membarrier(") {
            let cmd = parse_int(args.split([',', ')', ' ']).next().unwrap_or("")).unwrap_or(-1);
            if args.contains("<unfinished ...>") {
                pending.insert(tid, calls.len());
                calls.push(Call {
                    tid,
                    cmd,
                    result: Ret::Unknown,
                });
            } else {
                let tail = args.split_once(')').map_or("", |(_, t)| t);
                calls.push(Call {
                    tid,
                    cmd,
                    result: result(tail),
                });
            }
        } else if let Some(tail) = rest.strip_prefix("<... membarrier resumed>") {
            if let Some(i) = pending.remove(&tid) {
                let tail = tail.split_once(')').map_or("", |(_, t)| t);
                calls[i].result = result(tail);
            }
        } else if rest.starts_with("+++ killed by SIGSYS") {
            // The process died in its last membarrier (seccomp KILL_PROCESS;
            // strace may log a meaningless return value for it).
            if let Some(c) = calls.iter_mut().rev().find(|c| c.tid == tid || tid == 0) {
                c.result = Ret::Killed;
            } else if let Some(c) = calls.last_mut() {
                c.result = Ret::Killed;
            }
        }
    }
    calls
}

/// QEMU user mode's `-d strace` log: `PID membarrier(64,0,...) = 0`,
/// `... = -1 errno=1 (Operation not permitted)`; a call the process died
/// in has no ` = ` part (`killed` says whether it died by a signal).
pub fn parse_qemu_strace(text: &str, killed: bool) -> Vec<Call> {
    let mut calls = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find("membarrier(") else {
            continue;
        };
        let tid = line[..at].trim().parse().unwrap_or(0);
        let args = &line[at + "membarrier(".len()..];
        let cmd = parse_int(args.split([',', ')']).next().unwrap_or("")).unwrap_or(-1);
        let result = match args.split_once(") = ") {
            None => Ret::Unknown,
            Some((_, r)) => {
                if let Some(e) = r.strip_prefix("-1 errno=") {
                    let n: i64 = e
                        .split(|c: char| !c.is_ascii_digit())
                        .next()
                        .and_then(|d| d.parse().ok())
                        .unwrap_or(-1);
                    Ret::Err(errno_name(n))
                } else {
                    parse_int(r.split_whitespace().next().unwrap_or(""))
                        .map_or(Ret::Unknown, Ret::Ok)
                }
            }
        };
        calls.push(Call { tid, cmd, result });
    }
    if killed {
        if let Some(c) = calls.last_mut() {
            if c.result == Ret::Unknown {
                c.result = Ret::Killed;
            }
        }
    }
    calls
}

/// `membarrier(cmd, 0, 0)` made directly, bypassing the crate: 0 or the
/// errno. Allocation-free.
pub fn raw_membarrier(cmd: i32) -> Result<libc::c_long, i32> {
    // SAFETY: membarrier takes no pointers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            cmd,
            0 as libc::c_uint,
            0 as libc::c_int,
        )
    };
    if r < 0 {
        // SAFETY: the calling thread's errno location.
        Err(unsafe { *libc::__errno_location() })
    } else {
        Ok(r)
    }
}

/// The `Seccomp:` mode of the calling thread (0 none, 2 filter), from
/// `/proc/thread-self/status`; under QEMU user mode the host's view of the
/// QEMU thread.
pub fn seccomp_mode() -> Option<u32> {
    let s = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .and_then(|v| v.trim().parse().ok())
}
