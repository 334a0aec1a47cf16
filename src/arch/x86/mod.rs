//! x86 and x86_64 instruction-stream serialisation, for cross-modifying
//! code (Intel SDM vol. 3A, 9.1.3 "Handling Self- and Cross-Modifying
//! Code": the executing processor runs a serialising instruction after it
//! has seen that the modification is complete and before it executes the
//! modified code).

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

/// Which serialising instruction this CPU has: 0 = not yet asked, else one
/// of the values below. Any thread may store it; all store the same value.
static SERIALIZER: AtomicU8 = AtomicU8::new(0);
const USE_SERIALIZE: u8 = 1;
const USE_CPUID: u8 = 2;

/// `CPUID` with `eax = leaf`, `ecx = subleaf`: `(eax, ebx, ecx, edx)`.
#[inline]
fn cpuid(leaf: u32, subleaf: u32) -> (u32, u32, u32, u32) {
    let (eax, ebx, ecx, edx): (u32, u32, u32, u32);
    // SAFETY: CPUID exists on every x86_64 CPU and every x86 CPU Rust
    // targets (i586+); it reads no memory. `rbx`/`ebx` is reserved by LLVM,
    // so it is saved in another register around the instruction.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        asm!(
            "mov {tmp:r}, rbx",
            "cpuid",
            "xchg {tmp:r}, rbx",
            tmp = out(reg) ebx,
            inout("eax") leaf => eax,
            inout("ecx") subleaf => ecx,
            out("edx") edx,
            options(nostack, preserves_flags),
        );
        #[cfg(target_arch = "x86")]
        asm!(
            "mov {tmp:e}, ebx",
            "cpuid",
            "xchg {tmp:e}, ebx",
            tmp = out(reg) ebx,
            inout("eax") leaf => eax,
            inout("ecx") subleaf => ecx,
            out("edx") edx,
            options(nostack, preserves_flags),
        );
    }
    (eax, ebx, ecx, edx)
}

/// Whether CPUID reports `SERIALIZE`: leaf 7, subleaf 0, `EDX` bit 14.
fn has_serialize() -> bool {
    let (max_leaf, ..) = cpuid(0, 0);
    max_leaf >= 7 && cpuid(7, 0).3 & (1 << 14) != 0
}

/// Serialises this core: `SERIALIZE` where CPUID reports it, else `CPUID`
/// (both architecturally serialising; `SERIALIZE` does not clobber
/// registers and is faster). The CPUID answer is cached for the process.
#[inline]
pub(crate) fn serialize() {
    let mut how = SERIALIZER.load(Ordering::Relaxed);
    if how == 0 {
        how = if has_serialize() {
            USE_SERIALIZE
        } else {
            USE_CPUID
        };
        SERIALIZER.store(how, Ordering::Relaxed);
    }
    if how == USE_SERIALIZE {
        // SAFETY: SERIALIZE (0F 01 E8) exists, as CPUID said; it changes no
        // register, flag or memory. Emitted as bytes: not every assembler
        // knows the mnemonic. No `nomem`: it orders memory accesses too.
        unsafe { asm!(".byte 0x0f, 0x01, 0xe8", options(nostack, preserves_flags)) };
    } else {
        // CPUID is serialising (SDM vol. 3A, 9.3 "Serializing Instructions").
        let _ = cpuid(0, 0);
    }
}

/// This CPU's cache geometry from `CPUID`
/// ([`crate::geometry::cpuid::decode`]), read once per process.
///
/// Every core is asked the same way; on hybrid CPUs (Intel P- and E-cores)
/// the answer of whichever core the first call ran on is kept: the cores
/// differ in cache sizes, not in line sizes. `CPUID` is an unprivileged
/// instruction on every OS (a process that disabled it with
/// `arch_prctl(ARCH_SET_CPUID, 0)` would fault here, as in
/// [`serialize`]).
#[cfg(not(any(target_vendor = "apple", target_env = "sgx")))]
pub(crate) fn cache_geometry() -> Option<crate::CacheGeometry> {
    static GEOMETRY: crate::race_cell::RaceCell<Option<crate::CacheGeometry>> =
        crate::race_cell::RaceCell::new();
    GEOMETRY.get_or_init(|| {
        crate::geometry::cpuid::decode(|leaf, subleaf| {
            let (eax, ebx, ecx, edx) = cpuid(leaf, subleaf);
            [eax, ebx, ecx, edx]
        })
    })
}

/// Inside an SGX enclave `CPUID` raises #UD: no geometry.
#[cfg(target_env = "sgx")]
pub(crate) fn cache_geometry() -> Option<crate::CacheGeometry> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn serialize_runs_and_caches_the_answer() {
        super::serialize();
        let how = super::SERIALIZER.load(core::sync::atomic::Ordering::Relaxed);
        assert!(how == super::USE_SERIALIZE || how == super::USE_CPUID);
        assert_eq!(how == super::USE_SERIALIZE, super::has_serialize());
        super::serialize();
    }

    /// The probe answers on every x86 CPU this crate's CI runs on, from a
    /// CPUID leaf, and the same value every time.
    #[test]
    #[cfg(not(target_vendor = "apple"))]
    fn cache_geometry_is_probed_once() {
        let g = super::cache_geometry().expect("CPUID reports caches");
        assert!(matches!(
            g.source(),
            crate::GeometrySource::Cpuid { leaf: 4 | 0x8000_001d | 0x8000_0005 }
        ));
        assert_eq!(super::cache_geometry(), Some(g));
    }
}
