//! s390x `ECAG` (EXTRACT CPU ATTRIBUTE, `ecag r1,r3,d2(b2)`), decoded from
//! raw answers.
//!
//! The second-operand address is not an address: its low bits select the
//! attribute. For cache attributes (attribute-identifier space 0, bits
//! 8 and up zero): bits 7:4 the attribute indication (0 topology, 1 line
//! size, 2 total size, 3 associativity), bits 3:1 the level (0 = L1) and
//! bit 0 the type indication (0 data or unified, 1 instruction)
//! (z/Architecture Principles of Operation, SA22-7832, "EXTRACT CPU
//! ATTRIBUTE"; Linux `arch/s390/kernel/cache.c`, `ecag()`).
//!
//! The topology is one byte per level, L1 in the most significant byte:
//! bits 3:2 the scope (0 no cache, 1 private, 2 shared, 3 reserved), bits
//! 1:0 the type (0 separate instruction and data caches, 1 data only, 2
//! instruction only, 3 unified). The levels end at the first byte whose
//! scope is neither private nor shared, as in Linux's `init_cache_level`.
//! An attribute the machine does not provide reads as all ones: QEMU's
//! TCG answers all ones to every `ECAG` (measured with qemu-s390x 7.2),
//! which decodes to no levels and so to no geometry.
//!
//! `ECAG` is part of the general-instructions-extension facility (facility
//! 34, z10), which Rust's s390x targets require (their baseline CPU is the
//! z10), so it is never tested for.

use super::{CacheGeometry, CacheKind, CacheLevel, GeometrySource};

/// The `ECAG` second-operand address for a cache attribute.
pub(crate) const fn address(attribute: u64, level: u64, instruction: bool) -> u64 {
    (attribute << 4) | (level << 1) | instruction as u64
}

/// Attribute indication: topology summary.
const TOPOLOGY: u64 = 0;
/// Attribute indication: line size in bytes.
const LINE_SIZE: u64 = 1;

/// Decodes the geometry from `ecag(address) -> value`. `None` if the
/// topology reports no cache, or no usable line for data and for
/// instructions (QEMU).
pub(crate) fn decode(mut ecag: impl FnMut(u64) -> u64) -> Option<CacheGeometry> {
    let topology = ecag(address(TOPOLOGY, 0, false));
    let mut levels = [CacheLevel::new(0, CacheKind::Data, 0); 16];
    let mut n = 0;
    for li in 0..8u64 {
        let byte = (topology >> (56 - 8 * li)) & 0xff;
        let scope = (byte >> 2) & 0b11;
        if scope != 1 && scope != 2 {
            break;
        }
        let level = li as u8 + 1;
        let mut push = |kind, instruction| {
            let line = ecag(address(LINE_SIZE, li, instruction));
            // All ones (not provided) or absurd: not a line (dropped).
            let line = usize::try_from(line).unwrap_or(0);
            levels[n] = CacheLevel::new(level, kind, line);
            n += 1;
        };
        match byte & 0b11 {
            0 => {
                push(CacheKind::Data, false);
                push(CacheKind::Instruction, true);
            }
            1 => push(CacheKind::Data, false),
            2 => push(CacheKind::Instruction, true),
            _ => push(CacheKind::Unified, false),
        }
    }
    CacheGeometry::from_levels(GeometrySource::Ecag, levels[..n].iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use CacheKind::{Data, Instruction, Unified};

    /// A machine answering `topology` and `line` bytes for every cache the
    /// topology lists, all ones for anything else.
    fn machine(topology: u64, line: u64) -> impl FnMut(u64) -> u64 {
        move |addr| {
            if addr == address(TOPOLOGY, 0, false) {
                return topology;
            }
            let (attribute, li) = (addr >> 4, (addr >> 1) & 0b111);
            let byte = (topology >> (56 - 8 * li)) & 0xff;
            if attribute == LINE_SIZE && matches!((byte >> 2) & 0b11, 1 | 2) {
                line
            } else {
                u64::MAX
            }
        }
    }

    /// IBM z13 (machine type 2964), z14 (3906) and z15 (8561) as Linux
    /// prints them in `/proc/cpuinfo`, which it builds from `ECAG`
    /// (`show_cacheinfo` in `arch/s390/kernel/cache.c`): L1 and L2 as
    /// separate private data and instruction caches, L3 and L4 unified and
    /// shared, every line 256 bytes. Published z13 dumps:
    /// kata-containers/kata-containers,
    /// `src/runtime/cli/kata-check_data_s390x_test.go`, and
    /// canonical/landscape-client,
    /// `landscape/client/monitor/tests/test_processorinfo.py`; z14 and z15
    /// dumps with the same cache lines are in public Linux-on-Z guides.
    /// The topology word is the one the kernel's decoding maps to those
    /// lines: per level (scope << 2 | type), private separate = 0x04,
    /// shared unified = 0x0b, L1 first: 0x0404_0b0b_0000_0000.
    const Z13_TOPOLOGY: u64 = 0x0404_0b0b_0000_0000;

    #[test]
    fn z13_to_z15_report_256_byte_lines() {
        let g = decode(machine(Z13_TOPOLOGY, 256)).unwrap();
        assert_eq!(g.source(), GeometrySource::Ecag);
        let levels: Vec<_> = g.levels().map(|l| (l.level, l.kind, l.line)).collect();
        assert_eq!(
            levels,
            [
                (1, Data, 256),
                (1, Instruction, 256),
                (2, Data, 256),
                (2, Instruction, 256),
                (3, Unified, 256),
                (4, Unified, 256),
            ]
        );
        assert_eq!((g.d_line(), g.i_line()), (256, 256));
        assert!(!g.idc() && !g.dic());
    }

    /// QEMU answers all ones to everything (measured): no geometry, rather
    /// than a bogus size.
    #[test]
    fn qemu_all_ones_is_none() {
        assert_eq!(decode(|_| u64::MAX), None);
        // Even if the topology were valid, all-ones lines are not lines.
        assert_eq!(
            decode(|a| if a == 0 { Z13_TOPOLOGY } else { u64::MAX }),
            None
        );
    }

    #[test]
    fn no_cache_is_none() {
        assert_eq!(decode(|_| 0), None);
    }

    /// The levels end at the first one that does not exist, as in Linux.
    #[test]
    fn levels_stop_at_the_first_missing_one() {
        let g = decode(machine(0x0400_0b00_0000_0000, 256)).unwrap();
        assert_eq!(g.levels().len(), 2);
    }

    /// Each type asks for its type indication, and a reserved scope ends
    /// the levels.
    #[test]
    fn type_indications() {
        // L1 private separate, L2 private data only, L3 private instruction
        // only, L4 shared unified, L5 reserved scope (3).
        let topology = 0x0405_060b_0f00_0000;
        let mut asked = Vec::new();
        let g = decode(|a| {
            asked.push(a);
            machine(topology, 128)(a)
        })
        .unwrap();
        assert_eq!(asked, [0x00, 0x10, 0x11, 0x12, 0x15, 0x16]);
        let kinds: Vec<_> = g.levels().map(|l| (l.level, l.kind)).collect();
        assert_eq!(
            kinds,
            [
                (1, Data),
                (1, Instruction),
                (2, Data),
                (3, Instruction),
                (4, Unified)
            ]
        );
    }

    #[test]
    fn addresses_match_linux() {
        // Linux: ecag(ai, li, ti) = ai << 4 | li << 1 | ti.
        assert_eq!(address(LINE_SIZE, 0, false), 0x10);
        assert_eq!(address(LINE_SIZE, 0, true), 0x11);
        assert_eq!(address(LINE_SIZE, 3, false), 0x16);
        assert_eq!(address(TOPOLOGY, 0, false), 0);
    }
}
