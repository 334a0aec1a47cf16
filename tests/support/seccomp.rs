//! Real seccomp faults on `membarrier`: hand-written classic-BPF filters for
//! the **x86_64 Linux host** kernel, shared by `tests/seccomp.rs` (native
//! fault injection) and `examples/seccomp_qemu.rs` (the host-side launcher
//! that installs a filter, then execs `qemu-aarch64`: the guest's
//! `membarrier` reaches the host kernel as x86_64 syscall 324, with the
//! guest's command as its first argument). Each includer uses `#[path]`.
//!
//! Building a filter is pure (any target); installing one is x86_64 Linux
//! only, and allocates nothing, so a child may do it right after `fork`.

#![allow(dead_code)] // not every includer uses every filter

/// `AUDIT_ARCH_X86_64` (`EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`).
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `membarrier`'s number in the x86_64 (64-bit ABI) system-call table.
pub const NR_MEMBARRIER_X86_64: u32 = 324;

pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_SET_MODE_FILTER: u32 = 1;
const PR_SET_NO_NEW_PRIVS: i32 = 38;

// Classic BPF opcodes (<linux/bpf_common.h>).
const BPF_LD: u16 = 0x00;
const BPF_W: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_JMP: u16 = 0x05;
const BPF_JEQ: u16 = 0x10;
const BPF_K: u16 = 0x00;
const BPF_RET: u16 = 0x06;

// Offsets into `struct seccomp_data { int nr; __u32 arch; __u64
// instruction_pointer; __u64 args[6]; }`; args[0]'s low 32 bits on a
// little-endian host (the command is an `int`).
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARG0_LO: u32 = 16;

/// `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

/// What the filter answers a matching `membarrier`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    /// `SECCOMP_RET_ERRNO | errno`: the call fails with `errno`, unexecuted.
    Errno(i32),
    /// `SECCOMP_RET_KILL_PROCESS`: the whole process dies by `SIGSYS`.
    Kill,
}

impl Action {
    const fn ret(self) -> u32 {
        match self {
            Action::Allow => SECCOMP_RET_ALLOW,
            Action::Errno(e) => SECCOMP_RET_ERRNO | (e as u32 & 0xffff),
            Action::Kill => SECCOMP_RET_KILL_PROCESS,
        }
    }
}

/// A filter on x86_64 `membarrier` only: `by_cmd` answers the listed
/// commands, `otherwise` every other command; every other system call (and
/// every call of another architecture's ABI) is allowed.
#[derive(Clone, Copy, Debug)]
pub struct Filter {
    pub name: &'static str,
    pub by_cmd: &'static [(u32, Action)],
    pub otherwise: Action,
}

const EXPEDITED: u32 = 8;
const REGISTER_EXPEDITED: u32 = 16;
const SYNC_CORE: u32 = 32;
const REGISTER_SYNC_CORE: u32 = 64;

/// Installed, but lets everything through: the control case.
pub const ALLOW: Filter = Filter {
    name: "allow",
    by_cmd: &[],
    otherwise: Action::Allow,
};
/// Every `membarrier` fails with `EPERM` (a sandbox).
pub const EPERM: Filter = Filter {
    name: "eperm",
    by_cmd: &[],
    otherwise: Action::Errno(libc::EPERM),
};
/// Every `membarrier` fails with `EACCES`.
pub const EACCES: Filter = Filter {
    name: "eacces",
    by_cmd: &[],
    otherwise: Action::Errno(libc::EACCES),
};
/// Every `membarrier` fails with `ENOSYS` (a kernel without it, or a
/// container profile that says so).
pub const ENOSYS: Filter = Filter {
    name: "enosys",
    by_cmd: &[],
    otherwise: Action::Errno(libc::ENOSYS),
};
/// Every `membarrier` fails with `EIO`: an error the crate does not
/// classify (`Error::Os`, retried).
pub const EIO: Filter = Filter {
    name: "eio",
    by_cmd: &[],
    otherwise: Action::Errno(libc::EIO),
};
/// Only the SYNC_CORE commands (32, 64) fail with `EINVAL`: a kernel before
/// 4.16, or gVisor.
pub const SYNC_CORE_EINVAL: Filter = Filter {
    name: "sync-core-einval",
    by_cmd: &[
        (SYNC_CORE, Action::Errno(libc::EINVAL)),
        (REGISTER_SYNC_CORE, Action::Errno(libc::EINVAL)),
    ],
    otherwise: Action::Allow,
};
/// Every expedited command (8, 16, 32, 64) fails with `EINVAL`
/// (`nohz_full`-like); `QUERY` and `GLOBAL` reach the kernel.
pub const EXPEDITED_EINVAL: Filter = Filter {
    name: "expedited-einval",
    by_cmd: &[
        (EXPEDITED, Action::Errno(libc::EINVAL)),
        (REGISTER_EXPEDITED, Action::Errno(libc::EINVAL)),
        (SYNC_CORE, Action::Errno(libc::EINVAL)),
        (REGISTER_SYNC_CORE, Action::Errno(libc::EINVAL)),
    ],
    otherwise: Action::Allow,
};
/// Only the barrier itself (32) fails with `EPERM`, registration (64)
/// succeeds: a kernel that "forgot" the registration on every call.
pub const SYNC_CORE_CMD_EPERM: Filter = Filter {
    name: "sync-core-cmd-eperm",
    by_cmd: &[(SYNC_CORE, Action::Errno(libc::EPERM))],
    otherwise: Action::Allow,
};
/// Both SYNC_CORE commands fail with `EPERM`: installed as a *second*
/// filter after a successful registration.
pub const SYNC_CORE_EPERM: Filter = Filter {
    name: "sync-core-eperm",
    by_cmd: &[
        (SYNC_CORE, Action::Errno(libc::EPERM)),
        (REGISTER_SYNC_CORE, Action::Errno(libc::EPERM)),
    ],
    otherwise: Action::Allow,
};
/// Any `membarrier` kills the process (`SIGSYS`): Android below API 29,
/// old Docker profiles.
pub const KILL: Filter = Filter {
    name: "kill",
    by_cmd: &[],
    otherwise: Action::Kill,
};

pub const ALL: &[Filter] = &[
    ALLOW,
    EPERM,
    EACCES,
    ENOSYS,
    EIO,
    SYNC_CORE_EINVAL,
    EXPEDITED_EINVAL,
    SYNC_CORE_CMD_EPERM,
    SYNC_CORE_EPERM,
    KILL,
];

pub fn by_name(name: &str) -> Option<Filter> {
    ALL.iter().copied().find(|f| f.name == name)
}

/// Room for the largest filter: 4 + 1 + 2 * commands + 2 instructions.
pub const MAX_INSNS: usize = 32;

/// A filter's program, in a fixed array (no allocation).
pub struct Program {
    pub insns: [SockFilter; MAX_INSNS],
    pub len: usize,
}

const fn stmt(code: u16, k: u32) -> SockFilter {
    SockFilter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

const fn jeq(k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter {
        code: BPF_JMP | BPF_JEQ | BPF_K,
        jt,
        jf,
        k,
    }
}

impl Filter {
    /// The classic-BPF program:
    ///
    /// ```text
    ///      ld  [arch]
    ///      jeq #AUDIT_ARCH_X86_64, 0, allow
    ///      ld  [nr]
    ///      jeq #324, 0, allow
    ///      ld  [args[0] low]            (only with by_cmd)
    ///      jeq #cmd_i, 0, 1  ; ret action_i    (per by_cmd entry)
    ///      ret otherwise
    /// allow: ret ALLOW
    /// ```
    pub fn program(&self) -> Program {
        assert!(4 + 1 + 2 * self.by_cmd.len() + 2 <= MAX_INSNS);
        let mut p = Program {
            insns: [stmt(0, 0); MAX_INSNS],
            len: 0,
        };
        let n = 4 + usize::from(!self.by_cmd.is_empty()) + 2 * self.by_cmd.len() + 2;
        let allow = n - 1;
        // Distance from the instruction after `at` to `allow`.
        let to_allow = |at: usize| (allow - (at + 1)) as u8;
        let push = |p: &mut Program, insn: SockFilter| {
            p.insns[p.len] = insn;
            p.len += 1;
        };
        push(&mut p, stmt(BPF_LD | BPF_W | BPF_ABS, OFF_ARCH));
        push(&mut p, jeq(AUDIT_ARCH_X86_64, 0, to_allow(1)));
        push(&mut p, stmt(BPF_LD | BPF_W | BPF_ABS, OFF_NR));
        push(&mut p, jeq(NR_MEMBARRIER_X86_64, 0, to_allow(3)));
        if !self.by_cmd.is_empty() {
            push(&mut p, stmt(BPF_LD | BPF_W | BPF_ABS, OFF_ARG0_LO));
            for &(cmd, action) in self.by_cmd {
                push(&mut p, jeq(cmd, 0, 1));
                push(&mut p, stmt(BPF_RET | BPF_K, action.ret()));
            }
        }
        push(&mut p, stmt(BPF_RET | BPF_K, self.otherwise.ret()));
        push(&mut p, stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
        assert_eq!(p.len, n);
        p
    }

    /// `prctl(PR_SET_NO_NEW_PRIVS)`, then `seccomp(SECCOMP_SET_MODE_FILTER,
    /// flags, &prog)` for the calling thread (and, with
    /// `SECCOMP_FILTER_FLAG_TSYNC` in `flags`, every thread). No allocation:
    /// safe right after `fork` in a multi-threaded process. The filter is
    /// inherited by threads created afterwards and kept across `execve`.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    pub fn install(&self, flags: u32) -> Result<(), i32> {
        let p = self.program();
        let prog = SockFprog {
            len: p.len as u16,
            filter: p.insns.as_ptr(),
        };
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) } != 0 {
            return Err(errno());
        }
        // SAFETY: `prog` points at `p.len` valid instructions, alive for the
        // duration of the call (the kernel copies the program).
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                SECCOMP_SET_MODE_FILTER as libc::c_uint,
                flags as libc::c_uint,
                &prog as *const SockFprog,
            )
        };
        if r != 0 {
            return Err(errno());
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn errno() -> i32 {
    // SAFETY: glibc/musl return the calling thread's errno location.
    unsafe { *libc::__errno_location() }
}
