//! RISC-V Linux: the cache geometry the kernel puts in the ELF auxiliary
//! vector, and the Zicbom/Zicboz block sizes `riscv_hwprobe` reports,
//! decoded from raw values.
//!
//! - Auxiliary vector (`arch/riscv/include/uapi/asm/auxvec.h`; filled by
//!   `ARCH_DLINFO` in `arch/riscv/include/asm/elf.h` from the kernel's
//!   cacheinfo, itself from the device tree): `AT_L1I_CACHEGEOMETRY` (41),
//!   `AT_L1D_CACHEGEOMETRY` (43), `AT_L2_CACHEGEOMETRY` (45, unified),
//!   `AT_L3_CACHEGEOMETRY` (47, unified). Each is `ways << 16 | line size`
//!   (`get_cache_geometry` in `arch/riscv/kernel/cacheinfo.c`); 0 means
//!   unknown (and `getauxval` returns 0 for an absent entry).
//! - `riscv_hwprobe` (system call 258, Linux 6.4+;
//!   `arch/riscv/include/uapi/asm/hwprobe.h`):
//!   `RISCV_HWPROBE_KEY_ZICBOZ_BLOCK_SIZE` (6, Linux 6.7+) and
//!   `RISCV_HWPROBE_KEY_ZICBOM_BLOCK_SIZE` (12, Linux 6.15+). The kernel
//!   answers 0 when a hart lacks the extension, and sets the key to -1
//!   when it does not know the key (`hwprobe_one_pair` in
//!   `arch/riscv/kernel/sys_hwprobe.c`).

use super::{CacheGeometry, CacheKind, CacheLevel, GeometrySource};

/// `AT_L1I_CACHEGEOMETRY`.
pub(crate) const AT_L1I_CACHEGEOMETRY: u64 = 41;
/// `AT_L1D_CACHEGEOMETRY`.
pub(crate) const AT_L1D_CACHEGEOMETRY: u64 = 43;
/// `AT_L2_CACHEGEOMETRY`.
pub(crate) const AT_L2_CACHEGEOMETRY: u64 = 45;
/// `AT_L3_CACHEGEOMETRY`.
pub(crate) const AT_L3_CACHEGEOMETRY: u64 = 47;

/// `__NR_riscv_hwprobe` (`include/uapi/asm-generic/unistd.h`).
pub(crate) const SYS_RISCV_HWPROBE: i64 = 258;
/// `RISCV_HWPROBE_KEY_ZICBOZ_BLOCK_SIZE`.
pub(crate) const KEY_ZICBOZ_BLOCK_SIZE: i64 = 6;
/// `RISCV_HWPROBE_KEY_ZICBOM_BLOCK_SIZE`.
pub(crate) const KEY_ZICBOM_BLOCK_SIZE: i64 = 12;

/// What the kernel said: the four auxiliary-vector geometry words, and the
/// `riscv_hwprobe` answers (`None` if the call failed, for example `ENOSYS`
/// before Linux 6.4 or under QEMU 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Raw {
    pub(crate) l1i: u64,
    pub(crate) l1d: u64,
    pub(crate) l2: u64,
    pub(crate) l3: u64,
    /// The `(key, value)` pairs as the kernel returned them, for
    /// [`KEY_ZICBOM_BLOCK_SIZE`] and [`KEY_ZICBOZ_BLOCK_SIZE`].
    pub(crate) hwprobe: Option<[(i64, u64); 2]>,
}

impl Raw {
    /// The `riscv_hwprobe` pairs to ask for, in the order [`Raw::hwprobe`]
    /// holds them.
    pub(crate) const QUERY: [(i64, u64); 2] =
        [(KEY_ZICBOM_BLOCK_SIZE, 0), (KEY_ZICBOZ_BLOCK_SIZE, 0)];
}

/// A block size from a `riscv_hwprobe` pair: the value if the kernel knew
/// `key` and the value is a power of two that fits in 32 bits (the RISC-V
/// CMO specification's blocks are naturally aligned powers of two), else 0.
fn block(pair: (i64, u64), key: i64) -> u32 {
    match pair {
        (k, v) if k == key && v.is_power_of_two() && v <= u32::MAX as u64 => v as u32,
        _ => 0,
    }
}

/// The geometry from what the kernel said, or `None`.
///
/// - With `AT_L1D_CACHEGEOMETRY` and `AT_L1I_CACHEGEOMETRY` both known:
///   [`GeometrySource::Auxv`], with every known level.
/// - Else with a Zicbom block size: [`GeometrySource::RiscvHwprobe`],
///   `d_line` = `i_line` = that block (RISC-V has no instruction-cache
///   maintenance by address, and the Zicbom block is the only line-sized
///   unit the harts report), no levels.
/// - Else `None`.
///
/// The Zicbom and Zicboz block sizes are attached in both cases.
pub(crate) fn decode(raw: &Raw) -> Option<CacheGeometry> {
    let (cbom, cboz) = match raw.hwprobe {
        Some([m, z]) => (
            block(m, KEY_ZICBOM_BLOCK_SIZE),
            block(z, KEY_ZICBOZ_BLOCK_SIZE),
        ),
        None => (0, 0),
    };
    let line = |word: u64| (word & 0xffff) as usize;
    let g = if line(raw.l1d) != 0 && line(raw.l1i) != 0 {
        CacheGeometry::from_levels(
            GeometrySource::Auxv,
            [
                CacheLevel::new(1, CacheKind::Data, line(raw.l1d)),
                CacheLevel::new(1, CacheKind::Instruction, line(raw.l1i)),
                CacheLevel::new(2, CacheKind::Unified, line(raw.l2)),
                CacheLevel::new(3, CacheKind::Unified, line(raw.l3)),
            ],
        )
    } else {
        None
    };
    let g = g.or_else(|| {
        CacheGeometry::from_lines(GeometrySource::RiscvHwprobe, cbom as usize, cbom as usize)
    });
    g.map(|g| g.with_cbo_blocks(cbom, cboz))
}

#[cfg(test)]
mod tests {
    use super::*;
    use CacheKind::{Data, Instruction, Unified};

    fn levels(g: &CacheGeometry) -> Vec<(u8, CacheKind, usize)> {
        g.levels().map(|l| (l.level, l.kind, l.line)).collect()
    }

    const KNOWN: Option<[(i64, u64); 2]> =
        Some([(KEY_ZICBOM_BLOCK_SIZE, 64), (KEY_ZICBOZ_BLOCK_SIZE, 64)]);

    /// SiFive FU740 (HiFive Unmatched), U74 cores: the kernel's device tree
    /// `arch/riscv/boot/dts/sifive/fu740-c000.dtsi` gives L1D 32 KiB, 64
    /// sets, 64-byte blocks; L1I 32 KiB, 128 sets, 64-byte blocks; L2
    /// (`ccache`) 2 MiB, 2048 sets, 64-byte blocks, unified. The kernel
    /// derives ways = size / sets / line (`cache_associativity` in
    /// `drivers/base/cacheinfo.c`): 8, 4 and 16, so the auxiliary vector
    /// holds 0x0008_0040, 0x0004_0040 and 0x0010_0040. No Zicbom or Zicboz
    /// (`rv64imafdc`): `riscv_hwprobe` answers 0 for both.
    const FU740: Raw = Raw {
        l1i: 0x0004_0040,
        l1d: 0x0008_0040,
        l2: 0x0010_0040,
        l3: 0,
        hwprobe: Some([(KEY_ZICBOM_BLOCK_SIZE, 0), (KEY_ZICBOZ_BLOCK_SIZE, 0)]),
    };

    /// SpacemiT K1 (Banana Pi BPI-F3), X60 cores: the kernel's
    /// `arch/riscv/boot/dts/spacemit/k1.dtsi` gives L1I and L1D 32 KiB, 128
    /// sets, 64-byte blocks (4 ways: 0x0004_0040); L2 512 KiB, 512 sets,
    /// 64-byte blocks (16 ways: 0x0010_0040); `riscv,cbom-block-size` and
    /// `riscv,cboz-block-size` 64, which `riscv_hwprobe` reports.
    const K1: Raw = Raw {
        l1i: 0x0004_0040,
        l1d: 0x0004_0040,
        l2: 0x0010_0040,
        l3: 0,
        hwprobe: KNOWN,
    };

    #[test]
    fn fu740_from_the_auxiliary_vector() {
        let g = decode(&FU740).unwrap();
        assert_eq!(g.source(), GeometrySource::Auxv);
        assert_eq!(
            levels(&g),
            [(1, Data, 64), (1, Instruction, 64), (2, Unified, 64)]
        );
        assert_eq!((g.d_line(), g.i_line()), (64, 64));
        assert_eq!((g.cbom_block(), g.cboz_block()), (None, None));
    }

    #[test]
    fn k1_from_the_auxiliary_vector_with_cbo_blocks() {
        let g = decode(&K1).unwrap();
        assert_eq!(g.source(), GeometrySource::Auxv);
        assert_eq!(levels(&g).len(), 3);
        assert_eq!((g.cbom_block(), g.cboz_block()), (Some(64), Some(64)));
    }

    /// A kernel without cache information in the device tree (auxiliary
    /// vector all 0) but with Zicbom: the hwprobe block size.
    #[test]
    fn hwprobe_only() {
        let raw = Raw {
            hwprobe: KNOWN,
            ..Raw::default()
        };
        let g = decode(&raw).unwrap();
        assert_eq!(g.source(), GeometrySource::RiscvHwprobe);
        assert_eq!((g.d_line(), g.i_line()), (64, 64));
        assert_eq!(g.levels().len(), 0);
        assert_eq!((g.cbom_block(), g.cboz_block()), (Some(64), Some(64)));
    }

    /// What this machine's QEMU (7.2) gives: no auxiliary-vector entries
    /// and `riscv_hwprobe` missing (`ENOSYS`), measured.
    #[test]
    fn nothing_known_is_none() {
        assert_eq!(decode(&Raw::default()), None);
    }

    /// A kernel older than 6.15 knows key 6 but not key 12 (it sets the key
    /// to -1): Zicboz is reported, Zicbom is not, and with no auxiliary
    /// vector there is no geometry.
    #[test]
    fn unknown_key_is_ignored() {
        let raw = Raw {
            hwprobe: Some([(-1, 0), (KEY_ZICBOZ_BLOCK_SIZE, 64)]),
            ..Raw::default()
        };
        assert_eq!(decode(&raw), None);
        let raw = Raw {
            hwprobe: raw.hwprobe,
            ..FU740
        };
        let g = decode(&raw).unwrap();
        assert_eq!((g.cbom_block(), g.cboz_block()), (None, Some(64)));
    }

    /// Only one L1 known: the auxiliary vector alone gives no geometry.
    #[test]
    fn half_an_l1_is_not_enough() {
        for raw in [
            Raw { l1i: 0, ..FU740 },
            Raw {
                l1d: 0x0008_0000,
                ..FU740
            }, // ways known, line not
        ] {
            assert_eq!(
                decode(&Raw {
                    hwprobe: None,
                    ..raw
                }),
                None
            );
            // ... but the hwprobe block still is.
            let g = decode(&Raw {
                hwprobe: KNOWN,
                ..raw
            })
            .unwrap();
            assert_eq!(g.source(), GeometrySource::RiscvHwprobe);
        }
    }

    #[test]
    fn block_sizes_must_be_powers_of_two_in_32_bits() {
        for (v, want) in [(64, 64), (0, 0), (48, 0), (1 << 32, 0), (1 << 31, 1 << 31)] {
            assert_eq!(
                block((KEY_ZICBOM_BLOCK_SIZE, v), KEY_ZICBOM_BLOCK_SIZE),
                want,
                "{v}"
            );
        }
        assert_eq!(block((KEY_ZICBOZ_BLOCK_SIZE, 64), KEY_ZICBOM_BLOCK_SIZE), 0);
    }

    /// The kernel's numbers (`arch/riscv/include/uapi/asm/auxvec.h`,
    /// `arch/riscv/include/uapi/asm/hwprobe.h`,
    /// `include/uapi/asm-generic/unistd.h`), and the query's order, which
    /// `decode` relies on.
    #[test]
    fn uapi_numbers() {
        assert_eq!(
            [
                AT_L1I_CACHEGEOMETRY,
                AT_L1D_CACHEGEOMETRY,
                AT_L2_CACHEGEOMETRY,
                AT_L3_CACHEGEOMETRY
            ],
            [41, 43, 45, 47]
        );
        assert_eq!(SYS_RISCV_HWPROBE, 258);
        assert_eq!((KEY_ZICBOZ_BLOCK_SIZE, KEY_ZICBOM_BLOCK_SIZE), (6, 12));
        assert_eq!(Raw::QUERY, [(12, 0), (6, 0)]);
    }

    /// Only the low 16 bits are the line; the ways above them never leak in.
    #[test]
    fn ways_are_not_lines() {
        let raw = Raw {
            l1i: 0xffff_0020,
            l1d: 0x0001_0080,
            hwprobe: None,
            ..Raw::default()
        };
        let g = decode(&raw).unwrap();
        assert_eq!((g.d_line(), g.i_line()), (128, 32));
    }
}
