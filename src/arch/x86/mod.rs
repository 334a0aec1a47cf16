//! x86 and x86_64 instruction-stream serialisation, for cross-modifying
//! code (Intel SDM vol. 3A, 9.1.3 "Handling Self- and Cross-Modifying
//! Code": the executing processor runs a serialising instruction after it
//! has seen that the modification is complete and before it executes the
//! modified code).

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

/// Which serialising instruction this CPU uses: 0 = not yet asked, else one
/// of the values below. Any thread may store it; all store the same value.
static SERIALIZER: AtomicU8 = AtomicU8::new(0);
const USE_SERIALIZE: u8 = 1;
const USE_IRET: u8 = 2;

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

/// Serialises this core: `SERIALIZE` where CPUID reports it, else an `IRET`
/// to the next instruction. Both are architecturally serialising (Intel SDM
/// vol. 3A, 10.3 "Serializing Instructions": `IRET` is listed among them;
/// AMD APM vol. 2, 7.6.4 "Serializing Instructions"). The CPUID answer is
/// cached for the process.
///
/// Why not `CPUID`, the SDM's example: in a virtual machine `CPUID` always
/// exits to the hypervisor (thousands of cycles), while `IRET` never does;
/// Linux's `sync_core()` uses `IRET` to self for that reason
/// (`arch/x86/include/asm/sync_core.h`, `iret_to_self`). Measured side by
/// side by `icache-probe` (the README's figures).
#[inline]
pub(crate) fn serialize() {
    match SERIALIZER.load(Ordering::Relaxed) {
        // SAFETY: SERIALIZE (0F 01 E8) exists, as CPUID said; it changes no
        // register, flag or memory. Emitted as bytes: not every assembler
        // knows the mnemonic. No `nomem`: it orders memory accesses too.
        USE_SERIALIZE => unsafe { asm!(".byte 0x0f, 0x01, 0xe8", options(nostack, preserves_flags)) },
        USE_IRET => iret_to_self(),
        _ => serialize_first_use(),
    }
}

/// The first [`serialize`] in the process: asks CPUID, caches the answer,
/// serialises. Out of line, so that the hot path is a load and a branch.
#[cold]
#[inline(never)]
fn serialize_first_use() {
    let how = if has_serialize() {
        USE_SERIALIZE
    } else {
        USE_IRET
    };
    SERIALIZER.store(how, Ordering::Relaxed);
    serialize();
}

/// The instruction [`serialize`] executes on this CPU: `"SERIALIZE"` or
/// `"IRET"` (asking CPUID once if no call has yet).
pub(crate) fn serializing_instruction() -> &'static str {
    if SERIALIZER.load(Ordering::Relaxed) == 0 {
        serialize();
    }
    match SERIALIZER.load(Ordering::Relaxed) {
        USE_SERIALIZE => "SERIALIZE",
        _ => "IRET",
    }
}

/// `IRETQ` (x86_64) or `IRETD` (x86) to the next instruction, with the
/// frame an interrupt would have pushed: the current `SS`, `RSP`, `RFLAGS`,
/// `CS` and the address of the next instruction, as Linux's
/// `iret_to_self`. Returning to the same privilege level, the instruction
/// restores exactly the state it was given.
///
/// The red zone: the System V x86_64 ABI lets a leaf function keep data in
/// the 128 bytes below `RSP`, which the pushes would overwrite. The Rust
/// reference promises, for `asm!` *with* `nostack`, that the block writes
/// neither the stack nor the red zone, and for a block without it only that
/// the stack pointer is aligned for a call (reference, "Inline assembly",
/// `asm.options.supported-options.nostack`); it does not say in so many
/// words that the compiler keeps the red zone free. So the block moves
/// `RSP` down by 128 first and back after, as user-space code that pushes
/// must (the kernel, built with `-mno-red-zone`, need not). Windows x64 has
/// no red zone; the same 128 bytes cost nothing there. 32-bit x86 has none.
#[inline]
pub(crate) fn iret_to_self() {
    // SAFETY: the frame pushed is the current one (SS, RSP as it will be
    // after the frame is popped, RFLAGS, CS, the next instruction), so IRET
    // resumes right after itself with every register, the flags and the
    // stack pointer as they were; it returns to the same privilege level,
    // which user space may (no fault, no hypervisor exit). The 128 bytes
    // below the stack pointer (the SysV red zone) are skipped; the stack
    // pointer is restored before the block ends. No `nomem`: like every
    // serialising instruction it orders memory accesses, and the compiler
    // must not move memory accesses across it.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        asm!(
            "sub rsp, 128",
            "mov {tmp:e}, ss",
            "push {tmp}",
            "lea {tmp}, [rsp + 8]",
            "push {tmp}",
            "pushfq",
            "mov {tmp:e}, cs",
            "push {tmp}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "iretq",
            "2:",
            "add rsp, 128",
            tmp = out(reg) _,
        );
        #[cfg(target_arch = "x86")]
        asm!(
            "pushfd",
            "mov {tmp:e}, cs",
            "push {tmp:e}",
            // CALL pushes the address of the JMP below, which IRET returns
            // to: position-independent, unlike `push offset`.
            "call 2f",
            "jmp 3f",
            "2:",
            "iretd",
            "3:",
            tmp = out(reg) _,
        );
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
        assert!(how == super::USE_SERIALIZE || how == super::USE_IRET);
        assert_eq!(how == super::USE_SERIALIZE, super::has_serialize());
        super::serialize();
        let name = super::serializing_instruction();
        assert_eq!(name == "SERIALIZE", super::has_serialize(), "{name}");
    }

    /// The IRET path leaves every register, the flags, the stack and the
    /// red zone as they were (run whatever this CPU has).
    #[test]
    fn iret_to_self_preserves_state() {
        for i in 0..1000u64 {
            let mut red = [i; 16];
            core::hint::black_box(&mut red);
            let before = core::hint::black_box(i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            super::iret_to_self();
            assert_eq!(core::hint::black_box(before), i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            assert_eq!(red, [i; 16]);
        }
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
