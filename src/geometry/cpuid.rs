//! x86 `CPUID` cache parameters, decoded from raw register values.
//!
//! - Intel (and every vendor but AMD and Hygon: Zhaoxin and Centaur use it
//!   too): leaf 4, "deterministic cache parameters", one subleaf per cache
//!   until the cache type is 0. `EAX[4:0]` type (1 data, 2 instruction, 3
//!   unified), `EAX[7:5]` level, `EBX[11:0]` line size − 1 (Intel SDM vol.
//!   2A, CPUID, leaf 04H).
//! - AMD and Hygon with TopologyExtensions (`CPUID 0x8000_0001 ECX` bit
//!   22): leaf `0x8000_001D`, "cache topology information", the same layout
//!   (AMD64 APM vol. 3, appendix E.4.15).
//! - Older AMD: leaf `0x8000_0005` (`ECX[7:0]` L1 data line, `EDX[7:0]` L1
//!   instruction line) and `0x8000_0006` (`ECX[7:0]` L2 line, present when
//!   `ECX[15:12]`, its associativity, is not 0; `EDX[7:0]` L3 line, present
//!   when `EDX[15:12]` is not 0) (AMD64 APM vol. 3, E.4.4 and E.4.5).
//! - `CLFLUSH` line: leaf 1 `EBX[15:8]` × 8, valid when leaf 1 `EDX` bit 19
//!   (CLFSH) is set (Intel SDM vol. 2A, CPUID, leaf 01H).
//!
//! This is what Linux's `arch/x86/kernel/cpu/cacheinfo.c` reads for sysfs's
//! `cache/index*/coherency_line_size`, which a test compares it with.

use super::{CacheGeometry, CacheKind, CacheLevel, GeometrySource};

/// The vendors whose cache leaves are AMD's (leaf 0 `EBX`, `EDX`, `ECX`).
fn amd_like(ebx: u32, ecx: u32, edx: u32) -> bool {
    const AMD: [u32; 3] = vendor(b"AuthenticAMD");
    const HYGON: [u32; 3] = vendor(b"HygonGenuine");
    let v = [ebx, edx, ecx];
    v == AMD || v == HYGON
}

/// A vendor string as leaf 0 returns it in `EBX`, `EDX`, `ECX`.
const fn vendor(s: &[u8; 12]) -> [u32; 3] {
    const fn word(s: &[u8; 12], i: usize) -> u32 {
        u32::from_le_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]])
    }
    [word(s, 0), word(s, 4), word(s, 8)]
}

/// The most subleaves of leaf 4 or `0x8000_001D` read: real CPUs report
/// at most 5 caches; a broken hypervisor answering forever must not hang
/// the probe.
const MAX_SUBLEAVES: u32 = 32;

/// Decodes the cache geometry from `cpuid(leaf, subleaf) -> [eax, ebx, ecx,
/// edx]`, which is called only for leaves the CPU reports (leaf 0 and
/// `0x8000_0000` give the maximum leaves). `None` if the CPU reports no
/// usable cache leaf (Intel before leaf 4, such as the Pentium III, or a
/// hypervisor that hides it).
pub(crate) fn decode(mut cpuid: impl FnMut(u32, u32) -> [u32; 4]) -> Option<CacheGeometry> {
    let [max_leaf, ebx0, ecx0, edx0] = cpuid(0, 0);
    let clflush = if max_leaf >= 1 {
        let [_, ebx, _, edx] = cpuid(1, 0);
        if edx & (1 << 19) != 0 {
            ((ebx >> 8) & 0xff) as u16 * 8
        } else {
            0
        }
    } else {
        0
    };
    let g = if amd_like(ebx0, ecx0, edx0) {
        let max_ext = cpuid(0x8000_0000, 0)[0];
        let topoext = max_ext >= 0x8000_0001 && cpuid(0x8000_0001, 0)[2] & (1 << 22) != 0;
        let g = if topoext && max_ext >= 0x8000_001d {
            deterministic(&mut cpuid, 0x8000_001d)
        } else {
            None
        };
        g.or_else(|| {
            if max_ext >= 0x8000_0005 {
                amd_legacy(&mut cpuid, max_ext)
            } else {
                None
            }
        })
    } else if max_leaf >= 4 {
        deterministic(&mut cpuid, 4)
    } else {
        None
    };
    g.map(|g| g.with_clflush_line(clflush))
}

/// Leaf 4 or `0x8000_001D`: one subleaf per cache until type 0.
fn deterministic(cpuid: &mut impl FnMut(u32, u32) -> [u32; 4], leaf: u32) -> Option<CacheGeometry> {
    let levels = (0..MAX_SUBLEAVES)
        .map(|sub| cpuid(leaf, sub))
        .take_while(|&[eax, ..]| eax & 0x1f != 0)
        .filter_map(|[eax, ebx, ..]| {
            let kind = match eax & 0x1f {
                1 => CacheKind::Data,
                2 => CacheKind::Instruction,
                3 => CacheKind::Unified,
                _ => return None, // reserved types
            };
            let level = ((eax >> 5) & 0x7) as u8;
            Some(CacheLevel::new(level, kind, (ebx & 0xfff) as usize + 1))
        });
    CacheGeometry::from_levels(GeometrySource::Cpuid { leaf }, levels)
}

/// AMD's `0x8000_0005` (L1) and `0x8000_0006` (L2, L3) leaves.
fn amd_legacy(cpuid: &mut impl FnMut(u32, u32) -> [u32; 4], max_ext: u32) -> Option<CacheGeometry> {
    let [_, _, l1d, l1i] = cpuid(0x8000_0005, 0);
    let mut levels = [
        CacheLevel::new(1, CacheKind::Data, (l1d & 0xff) as usize),
        CacheLevel::new(1, CacheKind::Instruction, (l1i & 0xff) as usize),
        CacheLevel::new(2, CacheKind::Unified, 0),
        CacheLevel::new(3, CacheKind::Unified, 0),
    ];
    if max_ext >= 0x8000_0006 {
        let [_, _, l2, l3] = cpuid(0x8000_0006, 0);
        // An associativity field of 0 means "disabled" or "not present".
        if (l2 >> 12) & 0xf != 0 {
            levels[2].line = (l2 & 0xff) as usize;
        }
        if (l3 >> 12) & 0xf != 0 {
            levels[3].line = (l3 & 0xff) as usize;
        }
    }
    // Lines of 0 (absent caches) are dropped by `from_levels`.
    CacheGeometry::from_levels(GeometrySource::Cpuid { leaf: 0x8000_0005 }, levels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CacheKind::{Data, Instruction, Unified};

    /// A CPU as a table of `(leaf, subleaf, [eax, ebx, ecx, edx])`; any
    /// other leaf reads as zeros, as an absent subleaf does on real CPUs.
    fn cpu(table: &'static [(u32, u32, [u32; 4])]) -> impl FnMut(u32, u32) -> [u32; 4] {
        move |leaf, sub| {
            table
                .iter()
                .find(|&&(l, s, _)| l == leaf && s == sub)
                .map_or([0; 4], |&(.., regs)| regs)
        }
    }

    fn levels(g: &CacheGeometry) -> Vec<(u8, CacheKind, usize)> {
        g.levels().map(|l| (l.level, l.kind, l.line)).collect()
    }

    /// Intel Core i7-12700K (Alder Lake, P-core answer): gz/rust-cpuid,
    /// `src/tests/i7_12700k.rs` (a raw `cpuid` dump of the real CPU).
    const I7_12700K: &[(u32, u32, [u32; 4])] = &[
        (0, 0, [0x0000_0020, 0x756e_6547, 0x6c65_746e, 0x4965_6e69]),
        (1, 0, [0x0009_0672, 0x0080_0800, 0x7ffa_fbff, 0xbfeb_fbff]),
        (4, 0, [0xfc00_4121, 0x02c0_003f, 0x0000_003f, 0x0000_0000]),
        (4, 1, [0xfc00_4122, 0x01c0_003f, 0x0000_003f, 0x0000_0000]),
        (4, 2, [0xfc01_c143, 0x0240_003f, 0x0000_07ff, 0x0000_0000]),
        (4, 3, [0xfc1f_c163, 0x0240_003f, 0x0000_9fff, 0x0000_0004]),
        (0x8000_0000, 0, [0x8000_0008, 0, 0, 0]),
        (0x8000_0001, 0, [0, 0, 0x0000_0121, 0x2c10_0800]),
        (0x8000_0006, 0, [0, 0, 0x0500_7040, 0]),
    ];

    /// Intel Xeon Gold 6252 (Cascade Lake): gz/rust-cpuid,
    /// `src/tests/xeon_gold_6252.rs`.
    const XEON_GOLD_6252: &[(u32, u32, [u32; 4])] = &[
        (0, 0, [0x0000_0016, 0x756e_6547, 0x6c65_746e, 0x4965_6e69]),
        (1, 0, [0x0005_0657, 0xc740_0800, 0x7ffe_fbff, 0xbfeb_fbff]),
        (4, 0, [0x7c00_4121, 0x01c0_003f, 0x0000_003f, 0x0000_0000]),
        (4, 1, [0x7c00_4122, 0x01c0_003f, 0x0000_003f, 0x0000_0000]),
        (4, 2, [0x7c00_4143, 0x03c0_003f, 0x0000_03ff, 0x0000_0000]),
        (4, 3, [0x7c0f_c163, 0x0280_003f, 0x0000_cfff, 0x0000_0005]),
        (0x8000_0000, 0, [0x8000_0008, 0, 0, 0]),
        (0x8000_0001, 0, [0, 0, 0x0000_0121, 0x2c10_0800]),
        (0x8000_0006, 0, [0, 0, 0x0100_6040, 0]),
    ];

    /// AMD Ryzen 5 3600X (Zen 2, Matisse; TopologyExtensions set:
    /// `0x8000_0001 ECX` = 0x75c237ff has bit 22): gz/rust-cpuid,
    /// `src/tests/ryzen_matisse.rs`.
    const RYZEN_3600X: &[(u32, u32, [u32; 4])] = &[
        (0, 0, [0x0000_0010, 0x6874_7541, 0x444d_4163, 0x6974_6e65]),
        (1, 0, [0x0087_0f10, 0x000c_0800, 0x7ed8_320b, 0x178b_fbff]),
        (
            0x8000_0000,
            0,
            [0x8000_0020, 0x6874_7541, 0x444d_4163, 0x6974_6e65],
        ),
        (
            0x8000_0001,
            0,
            [0x0087_0f10, 0x2000_0000, 0x75c2_37ff, 0x2fd3_fbff],
        ),
        (
            0x8000_0005,
            0,
            [0xff40_ff40, 0xff40_ff40, 0x2008_0140, 0x2008_0140],
        ),
        (
            0x8000_0006,
            0,
            [0x4800_6400, 0x6800_6400, 0x0200_6140, 0x0100_9140],
        ),
        (
            0x8000_001d,
            0,
            [0x0000_4121, 0x01c0_003f, 0x0000_003f, 0x0000_0000],
        ),
        (
            0x8000_001d,
            1,
            [0x0000_4122, 0x01c0_003f, 0x0000_003f, 0x0000_0000],
        ),
        (
            0x8000_001d,
            2,
            [0x0000_4143, 0x01c0_003f, 0x0000_03ff, 0x0000_0002],
        ),
        (
            0x8000_001d,
            3,
            [0x0001_4163, 0x03c0_003f, 0x0000_3fff, 0x0000_0001],
        ),
    ];

    /// AMD Phenom II X4 940 (K10 Deneb; no TopologyExtensions:
    /// `0x8000_0001 ECX` = 0x37ff): InstLatx64/InstLatx64,
    /// `AuthenticAMD/AuthenticAMD0100F42_K10_Deneb_CPUID.txt`.
    const PHENOM_II_X4_940: &[(u32, u32, [u32; 4])] = &[
        (0, 0, [0x0000_0005, 0x6874_7541, 0x444d_4163, 0x6974_6e65]),
        (1, 0, [0x0010_0f42, 0x0004_0800, 0x0080_2009, 0x178b_fbff]),
        (
            0x8000_0000,
            0,
            [0x8000_001b, 0x6874_7541, 0x444d_4163, 0x6974_6e65],
        ),
        (
            0x8000_0001,
            0,
            [0x0010_0f42, 0x1000_1a86, 0x0000_37ff, 0xefd3_fbff],
        ),
        (
            0x8000_0005,
            0,
            [0xff30_ff10, 0xff30_ff20, 0x4002_0140, 0x4002_0140],
        ),
        (
            0x8000_0006,
            0,
            [0x2080_0000, 0x4200_4200, 0x0200_8140, 0x0030_b140],
        ),
    ];

    /// Intel Celeron D 326 (Pentium 4 Prescott-256): leaf 4 reports an L1
    /// data cache and a unified L2 but no L1 instruction cache (the trace
    /// cache is not a leaf-4 cache). InstLatx64/InstLatx64,
    /// `GenuineIntel/GenuineIntel0000F41_P4_Prescott_CPUID.txt`.
    const CELERON_D_326: &[(u32, u32, [u32; 4])] = &[
        (0, 0, [0x0000_0005, 0x756e_6547, 0x6c65_746e, 0x4965_6e69]),
        (1, 0, [0x0000_0f41, 0x0001_0800, 0x0000_651d, 0xbfeb_fbff]),
        (2, 0, [0x605b_5101, 0, 0, 0x003c_7040]),
        (4, 0, [0x0000_0121, 0x01c0_003f, 0x0000_001f, 0]),
        (4, 1, [0x0000_0143, 0x00c0_103f, 0x0000_01ff, 0]),
        (0x8000_0000, 0, [0x8000_0008, 0, 0, 0]),
        (0x8000_0006, 0, [0, 0, 0x0100_4040, 0]),
    ];

    /// Intel Pentium III (Coppermine): maximum leaf 3, so no leaf 4, and no
    /// CLFLUSH (leaf 1 `EDX` = 0x0387fbff lacks bit 19). InstLatx64/InstLatx64,
    /// `GenuineIntel/GenuineIntel0000683_P3_Coppermine_CPUID.txt`.
    const PENTIUM_III: &[(u32, u32, [u32; 4])] = &[
        (0, 0, [0x0000_0003, 0x756e_6547, 0x6c65_746e, 0x4965_6e69]),
        (1, 0, [0x0000_0683, 0x0000_0002, 0, 0x0387_fbff]),
        (2, 0, [0x0302_0101, 0, 0, 0x0c04_0882]),
    ];

    /// Every published CPU: (name, dump, source, levels, clflush line).
    #[allow(clippy::type_complexity)]
    const CPUS: &[(
        &str,
        &[(u32, u32, [u32; 4])],
        GeometrySource,
        &[(u8, CacheKind, usize)],
        Option<usize>,
    )] = &[
        (
            "i7-12700K",
            I7_12700K,
            GeometrySource::Cpuid { leaf: 4 },
            &[
                (1, Data, 64),
                (1, Instruction, 64),
                (2, Unified, 64),
                (3, Unified, 64),
            ],
            Some(64),
        ),
        (
            "Xeon Gold 6252",
            XEON_GOLD_6252,
            GeometrySource::Cpuid { leaf: 4 },
            &[
                (1, Data, 64),
                (1, Instruction, 64),
                (2, Unified, 64),
                (3, Unified, 64),
            ],
            Some(64),
        ),
        (
            "Ryzen 5 3600X",
            RYZEN_3600X,
            GeometrySource::Cpuid { leaf: 0x8000_001d },
            &[
                (1, Data, 64),
                (1, Instruction, 64),
                (2, Unified, 64),
                (3, Unified, 64),
            ],
            Some(64),
        ),
        (
            "Phenom II X4 940",
            PHENOM_II_X4_940,
            GeometrySource::Cpuid { leaf: 0x8000_0005 },
            &[
                (1, Data, 64),
                (1, Instruction, 64),
                (2, Unified, 64),
                (3, Unified, 64),
            ],
            Some(64),
        ),
        (
            "Celeron D 326",
            CELERON_D_326,
            GeometrySource::Cpuid { leaf: 4 },
            &[(1, Data, 64), (2, Unified, 64)],
            Some(64),
        ),
    ];

    #[test]
    fn decodes_published_dumps() {
        for &(name, dump, source, want, clflush) in CPUS {
            let g = decode(cpu(dump)).unwrap_or_else(|| panic!("{name}: no geometry"));
            assert_eq!(g.source(), source, "{name}");
            assert_eq!(levels(&g), want, "{name}");
            assert_eq!((g.d_line(), g.i_line()), (64, 64), "{name}");
            assert_eq!(g.clflush_line(), clflush, "{name}");
            assert!(!g.idc() && !g.dic(), "{name}");
            assert_eq!(
                g.raw(),
                0x8004_c004,
                "{name}: the CTR_EL0 equivalent of 64/64"
            );
            assert_eq!(
                (g.zva_block(), g.cbom_block(), g.midr()),
                (None, None, None)
            );
        }
    }

    #[test]
    fn no_leaf_4_means_no_geometry() {
        assert_eq!(decode(cpu(PENTIUM_III)), None);
    }

    /// The Ryzen without TopologyExtensions falls back to the legacy AMD
    /// leaves, which the same CPU also answers: same lines, other source.
    #[test]
    fn amd_without_topology_extensions_uses_the_l1_leaf() {
        let mut c = cpu(RYZEN_3600X);
        let g = decode(move |leaf, sub| {
            let mut r = c(leaf, sub);
            if leaf == 0x8000_0001 {
                r[2] &= !(1 << 22);
            }
            r
        })
        .unwrap();
        assert_eq!(g.source(), GeometrySource::Cpuid { leaf: 0x8000_0005 });
        assert_eq!(levels(&g).len(), 4);
        assert_eq!((g.d_line(), g.i_line()), (64, 64));
    }

    /// AMD's leaf 4 is reserved: an AMD CPU is never asked for it, even if
    /// it answers something, and an Intel CPU is never asked for AMD's.
    #[test]
    fn each_vendor_is_asked_its_own_leaves() {
        let mut asked = Vec::new();
        decode(|leaf, sub| {
            asked.push(leaf);
            cpu(RYZEN_3600X)(leaf, sub)
        });
        assert!(!asked.contains(&4), "{asked:x?}");
        asked.clear();
        decode(|leaf, sub| {
            asked.push(leaf);
            cpu(I7_12700K)(leaf, sub)
        });
        assert!(asked.iter().all(|&l| l < 0x8000_0000), "{asked:x?}");
    }

    /// Hygon (Dhyana, Zen-based) is decoded as AMD.
    #[test]
    fn hygon_is_amd_like() {
        let [ebx, edx, ecx] = vendor(b"HygonGenuine");
        let mut c = cpu(RYZEN_3600X);
        let g = decode(move |leaf, sub| match (leaf, sub) {
            (0, 0) => [0x0000_000d, ebx, ecx, edx],
            _ => c(leaf, sub),
        })
        .unwrap();
        assert_eq!(g.source(), GeometrySource::Cpuid { leaf: 0x8000_001d });
    }

    /// A hypervisor whose leaf 4 never reports type 0 is read for at most
    /// `MAX_SUBLEAVES` subleaves, and only the first `MAX_CACHE_LEVELS`
    /// are kept.
    #[test]
    fn endless_leaf_4_is_bounded() {
        let mut calls = 0;
        let g = decode(|leaf, _| {
            calls += 1;
            match leaf {
                0 => [4, 0x756e_6547, 0x6c65_746e, 0x4965_6e69],
                4 => [0x0000_0123, 0x0000_003f, 0, 0], // L1 unified, 64 B
                _ => [0; 4],
            }
        })
        .unwrap();
        assert!(calls <= 2 + MAX_SUBLEAVES as usize, "{calls}");
        assert_eq!(g.levels().len(), super::super::MAX_CACHE_LEVELS);
    }

    /// Line sizes are `EBX[11:0] + 1`: the largest field gives 4096, and an
    /// L1 line that is not a power of two leaves no usable geometry.
    #[test]
    fn line_field_edges() {
        let with_l1d_ebx = |ebx: u32| {
            decode(move |leaf, sub| match (leaf, sub) {
                (0, 0) => [4, 0x756e_6547, 0x6c65_746e, 0x4965_6e69],
                (4, 0) => [0x0000_0121, ebx, 0, 0],
                (4, 1) => [0x0000_0122, 0x0000_003f, 0, 0],
                _ => [0; 4],
            })
        };
        assert_eq!(with_l1d_ebx(0x0000_0fff).map(|g| g.d_line()), Some(4096));
        assert_eq!(with_l1d_ebx(0xffff_f03f).map(|g| g.d_line()), Some(64));
        assert_eq!(with_l1d_ebx(0x0000_002f), None); // 48 bytes
    }

    #[test]
    fn vendor_words() {
        assert_eq!(
            vendor(b"GenuineIntel"),
            [0x756e_6547, 0x4965_6e69, 0x6c65_746e]
        );
        assert_eq!(
            vendor(b"AuthenticAMD"),
            [0x6874_7541, 0x6974_6e65, 0x444d_4163]
        );
    }
}
