//! 32-bit Arm instruction-stream synchronisation.

use core::arch::asm;

/// Discards this core's already-fetched instructions.
///
/// - Armv7-A and later: `ISB SY` (Armv7-A ARM, A8.8.54).
/// - Armv6: the CP15 equivalent, `MCR p15, 0, <Rt>, c7, c5, 4` ("flush
///   prefetch buffer", ARM1136/ARM1176 TRM), which Armv7 renamed `CP15ISB`.
///
/// Rust's Armv5/v6 targets also run on Armv7 cores and its Armv7 targets
/// expose no `target_feature` to tell them apart, so on Linux and Android
/// the architecture is read once from `AT_PLATFORM` (`"v6l"`, `"v7l"`,
/// ...); elsewhere `ISB` is used. Cache maintenance itself is privileged on
/// 32-bit Arm, so `clear_cache` asks the kernel (`cacheflush`).
#[inline]
pub(crate) fn isb() {
    if has_isb() {
        // SAFETY: a context synchronisation event; no register or memory
        // changes. `.arch armv7-a` lets targets built for older cores
        // assemble it; it runs only where the core has it.
        unsafe {
            asm!(".arch armv7-a", "isb sy", options(nostack, preserves_flags))
        };
    } else {
        // `MCR p15, 0, r0, c7, c5, 4` as its encoding (the same 32 bits in
        // A32 and T32), so that Armv7 assemblers do not warn about the
        // deprecated mnemonic.
        // SAFETY: CP15 c7,c5,4 flushes the prefetch buffer on Armv6; r0
        // should be zero; no memory changes.
        unsafe {
            asm!(".inst 0xee070f95", in("r0") 0u32, options(nostack, preserves_flags))
        };
    }
}

/// Whether this core has `ISB` (Armv7 or later).
/// The instruction [`isb`] executes here, for the probe.
pub(crate) fn isb_name() -> &'static str {
    if has_isb() {
        "ISB"
    } else {
        "CP15 ISB (MCR p15, 0, Rt, c7, c5, 4)"
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn has_isb() -> bool {
    use core::sync::atomic::{AtomicU8, Ordering};
    // 0 = not read yet, 1 = ISB, 2 = CP15.
    static KIND: AtomicU8 = AtomicU8::new(0);
    match KIND.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            // SAFETY: getauxval has no preconditions; AT_PLATFORM, when
            // present, points to a NUL-terminated string the kernel placed
            // on the initial stack for the life of the process.
            let v7 = unsafe {
                let p = libc::getauxval(libc::AT_PLATFORM) as *const u8;
                // "v7l", "v8l", ...: the digit after 'v'.
                !p.is_null() && *p == b'v' && matches!(*p.add(1), b'7'..=b'9')
            };
            KIND.store(if v7 { 1 } else { 2 }, Ordering::Relaxed);
            v7
        }
    }
}

/// Elsewhere (no `AT_PLATFORM`): Armv7 or later is assumed.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn has_isb() -> bool {
    true
}
