//! Cache geometry: what AArch64's `CTR_EL0` says, decoded by pure functions
//! that run (and are tested) on every architecture.

use core::fmt;

/// The L1 instruction-cache indexing policy, `CTR_EL0.L1Ip` (bits 15:14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum L1Ip {
    /// `0b00`: VMID-aware PIPT (Armv8.2 VPIPT; reserved in Armv8.0).
    Vpipt,
    /// `0b01`: ASID-tagged VIVT (AIVIVT; reserved from Armv8.0).
    Aivivt,
    /// `0b10`: virtually indexed, physically tagged.
    Vipt,
    /// `0b11`: physically indexed, physically tagged.
    Pipt,
}

/// The cache parameters that decide how much maintenance new code needs.
///
/// On AArch64 these come from the `CTR_EL0` register, read once per process
/// by [`cache_geometry`](crate::cache_geometry). Decoding is pure and works on
/// every architecture, so a geometry can also be built from a known register
/// value ([`CacheGeometry::from_ctr_el0`]) or from its parts
/// ([`CacheGeometry::new`]) and passed to
/// [`clear_cache_with`](crate::clear_cache_with), for users who know their
/// hardware and for tests of paths no emulator models.
///
/// Line sizes are the *minimum* line sizes in the system, which is what
/// maintenance by address must step by: stepping by a larger size would skip
/// lines on the cores with smaller ones.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheGeometry {
    ctr: u64,
}

/// `CTR_EL0.IDC`: data-cache clean to the point of unification not required.
const IDC_BIT: u64 = 1 << 28;
/// `CTR_EL0.DIC`: instruction-cache invalidation to the point of unification
/// not required.
const DIC_BIT: u64 = 1 << 29;
/// `CTR_EL0` bit 31 is RES1.
const RES1_BIT: u64 = 1 << 31;

/// Bytes in a line whose `CTR_EL0` size field (log2 of 4-byte words) is
/// `field`.
const fn line_bytes(field: u64) -> usize {
    4 << (field & 0xf)
}

impl CacheGeometry {
    /// Decodes a raw `CTR_EL0` value.
    ///
    /// Fields: `IminLine` bits 3:0 and `DminLine` bits 19:16 (log2 of the line
    /// size in 4-byte words), `L1Ip` bits 15:14, `IDC` bit 28, `DIC` bit 29.
    /// Every 64-bit value decodes to a usable geometry: line sizes are always
    /// powers of two between 4 bytes and 128 KiB.
    ///
    /// ```
    /// use icache_coherence::CacheGeometry;
    /// let a53 = CacheGeometry::from_ctr_el0(0x8444_8004);
    /// assert_eq!((a53.d_line(), a53.i_line(), a53.idc(), a53.dic()), (64, 64, false, false));
    /// ```
    ///
    /// # References
    /// - Arm Architecture Reference Manual for A-profile, `CTR_EL0`, D23.2.
    pub const fn from_ctr_el0(ctr: u64) -> CacheGeometry {
        CacheGeometry { ctr }
    }

    /// Builds a geometry from its parts: the minimum data and instruction
    /// line sizes in bytes, and whether `IDC` and `DIC` are set. Returns
    /// `None` unless both sizes are powers of two from 4 bytes to 128 KiB.
    ///
    /// [`raw`](CacheGeometry::raw) then reports the equivalent `CTR_EL0` value
    /// (with `L1Ip` = PIPT).
    pub const fn new(d_line: usize, i_line: usize, idc: bool, dic: bool) -> Option<CacheGeometry> {
        let (Some(d), Some(i)) = (size_field(d_line), size_field(i_line)) else {
            return None;
        };
        let mut ctr = RES1_BIT | (d << 16) | (0b11 << 14) | i;
        if idc {
            ctr |= IDC_BIT;
        }
        if dic {
            ctr |= DIC_BIT;
        }
        Some(CacheGeometry { ctr })
    }

    /// The raw `CTR_EL0` value this geometry was decoded from.
    pub const fn raw(&self) -> u64 {
        self.ctr
    }

    /// Minimum data-cache line size in bytes (`4 << DminLine`).
    pub const fn d_line(&self) -> usize {
        line_bytes(self.ctr >> 16)
    }

    /// Minimum instruction-cache line size in bytes (`4 << IminLine`).
    pub const fn i_line(&self) -> usize {
        line_bytes(self.ctr)
    }

    /// `IDC`: cleaning the data cache to the point of unification is not
    /// needed for instruction/data coherence, so `DC CVAU` is skipped.
    pub const fn idc(&self) -> bool {
        self.ctr & IDC_BIT != 0
    }

    /// `DIC`: invalidating the instruction cache to the point of unification
    /// is not needed, so `IC IVAU` and its `DSB ISH` are skipped.
    pub const fn dic(&self) -> bool {
        self.ctr & DIC_BIT != 0
    }

    /// The L1 instruction-cache indexing policy.
    pub const fn l1ip(&self) -> L1Ip {
        match (self.ctr >> 14) & 0b11 {
            0b00 => L1Ip::Vpipt,
            0b01 => L1Ip::Aivivt,
            0b10 => L1Ip::Vipt,
            _ => L1Ip::Pipt,
        }
    }
}

/// The `CTR_EL0` size field for a line of `bytes` bytes, if it has one.
const fn size_field(bytes: usize) -> Option<u64> {
    if !bytes.is_power_of_two() || bytes < 4 || bytes > (4 << 15) {
        return None;
    }
    Some((bytes.trailing_zeros() - 2) as u64)
}

impl fmt::Debug for CacheGeometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheGeometry")
            .field("ctr_el0", &format_args!("{:#x}", self.ctr))
            .field("d_line", &self.d_line())
            .field("i_line", &self.i_line())
            .field("idc", &self.idc())
            .field("dic", &self.dic())
            .field("l1ip", &self.l1ip())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (CTR_EL0, D line, I line, IDC, DIC, L1Ip, where the value comes from)
    const TABLE: &[(u64, usize, usize, bool, bool, L1Ip, &str)] = &[
        (
            0x8444_8004,
            64,
            64,
            false,
            false,
            L1Ip::Vipt,
            "Cortex-A53/A35 (QEMU)",
        ),
        (
            0x8444_c004,
            64,
            64,
            false,
            false,
            L1Ip::Pipt,
            "Cortex-A57/A72/A76, Neoverse-N1 (QEMU)",
        ),
        (
            0x8666_8006,
            256,
            256,
            false,
            false,
            L1Ip::Vipt,
            "A64FX (QEMU)",
        ),
        (0x8003_8003, 32, 32, false, false, L1Ip::Vipt, "QEMU max"),
        (
            0xb444_c004,
            64,
            64,
            true,
            true,
            L1Ip::Pipt,
            "IDC+DIC (Neoverse-N1 class, Graviton2)",
        ),
        (0x9444_c004, 64, 64, true, false, L1Ip::Pipt, "IDC only"),
        (
            0x8444_c003,
            64,
            32,
            false,
            false,
            L1Ip::Pipt,
            "64-byte D, 32-byte I",
        ),
        (
            0x8444_c005,
            64,
            128,
            false,
            false,
            L1Ip::Pipt,
            "64-byte D, 128-byte I",
        ),
        (0x8444_0004, 64, 64, false, false, L1Ip::Vpipt, "VPIPT"),
        (0x8444_4004, 64, 64, false, false, L1Ip::Aivivt, "AIVIVT"),
        (
            0x800f_000f,
            1 << 17,
            1 << 17,
            false,
            false,
            L1Ip::Vpipt,
            "largest fields",
        ),
        (
            0x8000_0000,
            4,
            4,
            false,
            false,
            L1Ip::Vpipt,
            "smallest fields",
        ),
    ];

    #[test]
    fn decodes_real_values() {
        for &(ctr, d, i, idc, dic, l1ip, what) in TABLE {
            let g = CacheGeometry::from_ctr_el0(ctr);
            assert_eq!(g.raw(), ctr, "{what}");
            assert_eq!(g.d_line(), d, "{what}: D line");
            assert_eq!(g.i_line(), i, "{what}: I line");
            assert_eq!(g.idc(), idc, "{what}: IDC");
            assert_eq!(g.dic(), dic, "{what}: DIC");
            assert_eq!(g.l1ip(), l1ip, "{what}: L1Ip");
        }
    }

    #[test]
    fn new_round_trips_through_ctr() {
        for &(ctr, d, i, idc, dic, _, what) in TABLE {
            let built = CacheGeometry::new(d, i, idc, dic).expect(what);
            let decoded = CacheGeometry::from_ctr_el0(ctr);
            assert_eq!(
                (built.d_line(), built.i_line(), built.idc(), built.dic()),
                (
                    decoded.d_line(),
                    decoded.i_line(),
                    decoded.idc(),
                    decoded.dic()
                ),
                "{what}"
            );
            assert_eq!(CacheGeometry::from_ctr_el0(built.raw()), built, "{what}");
        }
    }

    #[test]
    fn new_rejects_impossible_sizes() {
        for bad in [0, 1, 2, 3, 5, 48, 96, 1 << 18, usize::MAX] {
            assert_eq!(CacheGeometry::new(bad, 64, false, false), None, "D {bad}");
            assert_eq!(CacheGeometry::new(64, bad, false, false), None, "I {bad}");
        }
    }

    #[test]
    fn every_value_decodes_to_power_of_two_lines() {
        // Walk each field through all of its values, with noise elsewhere.
        for field in 0..16u64 {
            let g = CacheGeometry::from_ctr_el0(0xffff_fff0_fff0_fff0 | field | field << 16);
            assert!(g.d_line().is_power_of_two() && g.d_line() >= 4);
            assert_eq!(g.d_line(), g.i_line());
        }
    }
}
