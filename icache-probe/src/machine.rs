//! What machine this is: CPU model, CPU count, kernel, and whether the
//! probe seems to run under an emulator.

use serde::Serialize;

/// The machine the probe ran on.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// `std::env::consts::ARCH` of the probe binary.
    pub arch: &'static str,
    /// `std::env::consts::OS`.
    pub os: &'static str,
    /// The CPU model, as well as the OS tells it ("unknown" otherwise).
    pub cpu: String,
    /// Where `cpu` came from (`/proc/cpuinfo`, `MIDR_EL1`, ...).
    pub cpu_source: String,
    /// CPUs this process may run on (`std::thread::available_parallelism`).
    pub cpus: usize,
    /// The kernel release (`uname -r`), or "unknown".
    pub kernel: String,
    /// Why the probe believes it runs under an emulator, if it does.
    pub emulated: Option<String>,
    /// The load averages (1, 5, 15 min) when the probe started (Linux):
    /// other running work disturbs every figure, the MT flush most.
    pub load: Option<String>,
}

impl Machine {
    /// Looks at this machine. `midr` is `MIDR_EL1` where the crate read it.
    pub fn detect(midr: Option<u64>) -> Machine {
        let arch = std::env::consts::ARCH;
        let cpuinfo = read_cpuinfo();
        let (mut cpu, mut cpu_source) = match midr {
            Some(m) => (midr_name(m), "MIDR_EL1".to_string()),
            None => cpu_model(arch, cpuinfo.as_deref()),
        };
        if cpu.is_empty() {
            cpu = "unknown".into();
            cpu_source = "none".into();
        }
        let emulated = emulation_hint(arch, cpuinfo.as_deref());
        if emulated.is_some() && cpu_source == "/proc/cpuinfo" {
            cpu = format!("unknown, emulated (host: {cpu})");
        }
        Machine {
            arch,
            os: std::env::consts::OS,
            cpu,
            cpu_source,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            kernel: kernel_release(),
            emulated,
            load: load_average(),
        }
    }
}

fn read_cpuinfo() -> Option<String> {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        std::fs::read_to_string("/proc/cpuinfo").ok()
    } else {
        None
    }
}

/// The first value of `key` in `/proc/cpuinfo`'s `key : value` lines.
fn field<'a>(cpuinfo: &'a str, key: &str) -> Option<&'a str> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// The CPU model from `/proc/cpuinfo` (Linux), `machdep.cpu.brand_string`
/// (Apple) or `PROCESSOR_IDENTIFIER` (Windows), with its source.
fn cpu_model(arch: &str, cpuinfo: Option<&str>) -> (String, String) {
    if let Some(info) = cpuinfo {
        let src = "/proc/cpuinfo".to_string();
        match arch {
            "aarch64" | "arm" => {
                let imp = field(info, "CPU implementer").and_then(parse_hex);
                let part = field(info, "CPU part").and_then(parse_hex);
                if let (Some(imp), Some(part)) = (imp, part) {
                    let midr = (imp << 24) | (part << 4);
                    return (midr_name(midr), src);
                }
            }
            "riscv64" | "riscv32" => {
                let uarch = field(info, "uarch").or_else(|| field(info, "model name"));
                let isa = field(info, "isa");
                let s = match (uarch, isa) {
                    (Some(u), Some(i)) => format!("{u} ({i})"),
                    (Some(u), None) => u.to_string(),
                    (None, Some(i)) => i.to_string(),
                    (None, None) => String::new(),
                };
                return (s, src);
            }
            "s390x" => {
                let s = info
                    .lines()
                    .find_map(|l| l.split("machine = ").nth(1))
                    .map(|m| format!("IBM Z machine type {}", m.trim()))
                    .unwrap_or_default();
                return (s, src);
            }
            _ => {}
        }
        if let Some(m) = field(info, "model name") {
            return (m.to_string(), src);
        }
        return (String::new(), src);
    }
    #[cfg(target_vendor = "apple")]
    {
        if let Some(s) = sysctl_string(c"machdep.cpu.brand_string") {
            return (s, "sysctl machdep.cpu.brand_string".into());
        }
    }
    if let Ok(s) = std::env::var("PROCESSOR_IDENTIFIER") {
        return (s, "PROCESSOR_IDENTIFIER".into());
    }
    (String::new(), String::new())
}

fn parse_hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

/// A name for an Arm `MIDR_EL1`: implementer and part, for the common cores;
/// else the raw fields.
pub fn midr_name(midr: u64) -> String {
    let imp = (midr >> 24) & 0xff;
    let part = (midr >> 4) & 0xfff;
    let name = match (imp, part) {
        (0x41, 0xd03) => "Arm Cortex-A53",
        (0x41, 0xd04) => "Arm Cortex-A35",
        (0x41, 0xd05) => "Arm Cortex-A55",
        (0x41, 0xd07) => "Arm Cortex-A57",
        (0x41, 0xd08) => "Arm Cortex-A72",
        (0x41, 0xd09) => "Arm Cortex-A73",
        (0x41, 0xd0a) => "Arm Cortex-A75",
        (0x41, 0xd0b) => "Arm Cortex-A76",
        (0x41, 0xd0c) => "Arm Neoverse-N1 (e.g. Graviton2, Ampere Altra)",
        (0x41, 0xd0d) => "Arm Cortex-A77",
        (0x41, 0xd40) => "Arm Neoverse-V1 (e.g. Graviton3)",
        (0x41, 0xd41) => "Arm Cortex-A78",
        (0x41, 0xd44) => "Arm Cortex-X1",
        (0x41, 0xd46) => "Arm Cortex-A510",
        (0x41, 0xd47) => "Arm Cortex-A710",
        (0x41, 0xd48) => "Arm Cortex-X2",
        (0x41, 0xd49) => "Arm Neoverse-N2",
        (0x41, 0xd4d) => "Arm Cortex-A715",
        (0x41, 0xd4e) => "Arm Cortex-X3",
        (0x41, 0xd4f) => "Arm Neoverse-V2 (e.g. Graviton4, Grace)",
        (0x41, 0xd80) => "Arm Cortex-A520",
        (0x41, 0xd81) => "Arm Cortex-A720",
        (0x41, 0xd82) => "Arm Cortex-X4",
        (0x41, 0xd84) => "Arm Neoverse-V3",
        (0x41, 0xd8e) => "Arm Neoverse-N3",
        (0x46, 0x001) => "Fujitsu A64FX",
        (0x48, 0xd01) => "HiSilicon TaiShan v110 (Kunpeng 920)",
        (0xc0, 0xac3) => "AmpereOne",
        (0x61, _) => "Apple",
        (0x51, _) => "Qualcomm",
        (0x4e, _) => "NVIDIA",
        _ => "",
    };
    let raw = format!("implementer {imp:#04x}, part {part:#05x}");
    if name.is_empty() {
        format!("Arm-architecture CPU ({raw})")
    } else {
        format!("{name} ({raw})")
    }
}

/// `/proc/loadavg`'s first three fields.
fn load_average() -> Option<String> {
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return None;
    }
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    let v: Vec<&str> = s.split_whitespace().take(3).collect();
    (v.len() == 3).then(|| v.join(" "))
}

/// `uname -r`.
fn kernel_release() -> String {
    #[cfg(unix)]
    {
        // SAFETY: `utsname` is plain data; uname fills it with NUL-terminated
        // strings on success.
        let mut u: libc::utsname = unsafe { core::mem::zeroed() };
        // SAFETY: `u` is a valid, writable utsname.
        if unsafe { libc::uname(&mut u) } == 0 {
            // c_char is i8 or u8 depending on the target.
            let text = |a: &[libc::c_char]| -> String {
                let b: Vec<u8> = a
                    .iter()
                    .map(|c| c.to_ne_bytes()[0])
                    .take_while(|&c| c != 0)
                    .collect();
                String::from_utf8_lossy(&b).into_owned()
            };
            return format!("{} {}", text(&u.sysname), text(&u.release));
        }
    }
    #[cfg(windows)]
    {
        if let Ok(v) = std::env::var("OS") {
            return format!("{v} (version not read)");
        }
    }
    "unknown".into()
}

/// Linux under QEMU user mode: `/proc/cpuinfo` is the host's, whose fields
/// do not belong to this architecture.
fn emulation_hint(arch: &str, cpuinfo: Option<&str>) -> Option<String> {
    let info = cpuinfo?;
    let host_x86 = field(info, "vendor_id").is_some() && field(info, "flags").is_some();
    let host_arm = field(info, "CPU implementer").is_some();
    let mismatch = match arch {
        "x86_64" | "x86" => host_arm,
        _ => host_x86,
    };
    mismatch.then(|| {
        format!(
            "probably (QEMU user mode?): /proc/cpuinfo describes another architecture than {arch}"
        )
    })
}

#[cfg(target_vendor = "apple")]
fn sysctl_string(name: &core::ffi::CStr) -> Option<String> {
    let mut buf = [0u8; 256];
    let mut len = buf.len();
    // SAFETY: `name` is NUL-terminated; `buf` is writable for `len` bytes.
    let r = unsafe {
        libc::sysctlbyname(
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            &mut len,
            core::ptr::null_mut(),
            0,
        )
    };
    if r != 0 {
        return None;
    }
    let s = &buf[..len.min(buf.len())];
    let s = s.split(|&c| c == 0).next().unwrap_or(s);
    Some(String::from_utf8_lossy(s).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midr_names() {
        assert!(midr_name(0x410f_d034).starts_with("Arm Cortex-A53"));
        assert!(midr_name(0x413f_d0c1).starts_with("Arm Neoverse-N1"));
        assert!(midr_name(0x1234_5678).contains("implementer 0x12"));
    }

    #[test]
    fn cpuinfo_fields() {
        let arm = "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n";
        assert!(cpu_model("aarch64", Some(arm))
            .0
            .starts_with("Arm Neoverse-V1"));
        let x86 = "vendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\nflags\t: fpu\n";
        assert_eq!(cpu_model("x86_64", Some(x86)).0, "Intel(R) Xeon(R)");
        assert!(emulation_hint("aarch64", Some(x86)).is_some());
        assert!(emulation_hint("x86_64", Some(x86)).is_none());
        let rv = "isa\t\t: rv64imafdc\nuarch\t\t: sifive,u74-mc\n";
        assert_eq!(
            cpu_model("riscv64", Some(rv)).0,
            "sifive,u74-mc (rv64imafdc)"
        );
    }
}
