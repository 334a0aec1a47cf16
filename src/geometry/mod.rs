//! Cache geometry: the line sizes maintenance steps by, and where they came
//! from. Every raw answer (AArch64's `CTR_EL0` and `DCZID_EL0`, x86 `CPUID`,
//! RISC-V's auxiliary vector and `riscv_hwprobe`, s390x `ECAG`) is decoded by
//! a pure function that runs, and is tested against published register
//! values, on every host.

use core::fmt;

#[cfg(any(
    test,
    all(
        any(target_arch = "x86", target_arch = "x86_64"),
        not(miri),
        not(target_vendor = "apple"),
        not(target_env = "sgx")
    )
))]
pub(crate) mod cpuid;
#[cfg(any(test, all(target_arch = "s390x", not(miri))))]
pub(crate) mod ecag;
#[cfg(any(
    test,
    all(
        target_arch = "riscv64",
        not(miri),
        any(target_os = "linux", target_os = "android")
    )
))]
pub(crate) mod riscv;

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

/// Where a [`CacheGeometry`] came from.
///
/// [`cache_geometry`](crate::cache_geometry) documents which source each
/// platform uses. New sources may be added, so match with a wildcard arm.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GeometrySource {
    /// AArch64's `CTR_EL0` register, read in user space (or at EL1 on bare
    /// metal), or a raw value passed to
    /// [`CacheGeometry::from_ctr_el0`]. The only source with meaningful
    /// [`idc`](CacheGeometry::idc), [`dic`](CacheGeometry::dic) and
    /// [`l1ip`](CacheGeometry::l1ip).
    CtrEl0,
    /// Built by [`CacheGeometry::new`] from sizes the caller gave.
    Given,
    /// The x86 `CPUID` instruction. `leaf` is the one the cache levels came
    /// from: 4 (Intel's deterministic cache parameters, also used by
    /// Zhaoxin and Centaur), `0x8000_001D` (AMD's and Hygon's cache
    /// properties, with TopologyExtensions) or `0x8000_0005` (AMD's L1
    /// cache leaf, with `0x8000_0006` for L2 and L3, on AMD CPUs without
    /// TopologyExtensions).
    Cpuid {
        /// The CPUID leaf (`EAX` input) the cache levels came from.
        leaf: u32,
    },
    /// Apple platforms: `sysctlbyname("hw.cachelinesize")`. On arm64 the
    /// line sizes are the 64-byte maintenance line of every Apple core
    /// (xnu's `MMU_CLINE`/`MMU_I_CLINE`) and the sysctl's answer (128 on
    /// Apple silicon) is the
    /// [`coherence_granule`](CacheGeometry::coherence_granule); on x86_64
    /// the sysctl's answer is both.
    Sysctl,
    /// Linux's `riscv_hwprobe` system call: the Zicbom block size, used
    /// when the kernel reports no L1 cache geometry in the auxiliary vector.
    RiscvHwprobe,
    /// The ELF auxiliary vector (`getauxval`): on RISC-V Linux,
    /// `AT_L1I_CACHEGEOMETRY`, `AT_L1D_CACHEGEOMETRY`,
    /// `AT_L2_CACHEGEOMETRY` and `AT_L3_CACHEGEOMETRY`, which the kernel
    /// fills from the device tree's cache nodes.
    Auxv,
    /// s390x's `ECAG` (extract CPU attribute) instruction: the cache
    /// topology and each cache's line size.
    Ecag,
}

impl fmt::Debug for GeometrySource {
    /// As derived, except that the CPUID leaf is in hexadecimal, as
    /// `Display` and the manuals write it: `Cpuid { leaf: 0x8000001d }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GeometrySource::CtrEl0 => f.write_str("CtrEl0"),
            GeometrySource::Given => f.write_str("Given"),
            GeometrySource::Cpuid { leaf } => write!(f, "Cpuid {{ leaf: {leaf:#x} }}"),
            GeometrySource::Sysctl => f.write_str("Sysctl"),
            GeometrySource::RiscvHwprobe => f.write_str("RiscvHwprobe"),
            GeometrySource::Auxv => f.write_str("Auxv"),
            GeometrySource::Ecag => f.write_str("Ecag"),
        }
    }
}

impl fmt::Display for GeometrySource {
    /// A short human-readable name: `CTR_EL0`, `given`, `CPUID leaf 4`,
    /// `CPUID leaf 0x8000001d`, `sysctl hw.cachelinesize`,
    /// `riscv_hwprobe`, `auxv`, `ECAG`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GeometrySource::CtrEl0 => f.write_str("CTR_EL0"),
            GeometrySource::Given => f.write_str("given"),
            GeometrySource::Cpuid { leaf } if leaf < 10 => write!(f, "CPUID leaf {leaf}"),
            GeometrySource::Cpuid { leaf } => write!(f, "CPUID leaf {leaf:#x}"),
            GeometrySource::Sysctl => f.write_str("sysctl hw.cachelinesize"),
            GeometrySource::RiscvHwprobe => f.write_str("riscv_hwprobe"),
            GeometrySource::Auxv => f.write_str("auxv"),
            GeometrySource::Ecag => f.write_str("ECAG"),
        }
    }
}

/// What a cache holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheKind {
    /// Data only.
    Data,
    /// Instructions only.
    Instruction,
    /// Both data and instructions.
    Unified,
}

impl CacheKind {
    /// Whether this cache holds data (a data or unified cache).
    pub const fn holds_data(self) -> bool {
        matches!(self, CacheKind::Data | CacheKind::Unified)
    }

    /// Whether this cache holds instructions (an instruction or unified
    /// cache).
    pub const fn holds_instructions(self) -> bool {
        matches!(self, CacheKind::Instruction | CacheKind::Unified)
    }
}

/// One cache of the hierarchy as the platform reports it: its level (1 is
/// closest to the core), what it holds, and its line size in bytes.
///
/// Reported by [`CacheGeometry::levels`] for the sources that describe
/// levels (`CPUID`, `ECAG`, the RISC-V auxiliary vector). The line size is
/// the platform's answer as it is: `CPUID`'s field can in principle encode a
/// size that is not a power of two, so check before stepping by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CacheLevel {
    /// The cache level, from 1.
    pub level: u8,
    /// What the cache holds.
    pub kind: CacheKind,
    /// The line size in bytes.
    pub line: usize,
}

impl CacheLevel {
    /// A cache level, for comparisons with [`CacheGeometry::levels`].
    pub const fn new(level: u8, kind: CacheKind, line: usize) -> CacheLevel {
        CacheLevel { level, kind, line }
    }
}

/// The most cache levels a [`CacheGeometry`] keeps (in the order the
/// platform reports them; any further ones are dropped).
pub const MAX_CACHE_LEVELS: usize = 8;

/// A [`CacheLevel`] as stored: 4 bytes, so that [`CacheGeometry`] stays
/// small. Unused slots are all zero, so that derived equality and hashing
/// see only the reported levels.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct PackedLevel {
    level: u8,
    kind: u8,
    line: u16,
}

impl PackedLevel {
    const EMPTY: PackedLevel = PackedLevel {
        level: 0,
        kind: 0,
        line: 0,
    };

    const fn unpack(self) -> CacheLevel {
        let kind = match self.kind {
            0 => CacheKind::Data,
            1 => CacheKind::Instruction,
            _ => CacheKind::Unified,
        };
        CacheLevel {
            level: self.level,
            kind,
            line: self.line as usize,
        }
    }
}

/// The cache parameters that decide how much maintenance new code needs,
/// with where they came from ([`source`](CacheGeometry::source)) and, where
/// the platform reports them, the cache levels and architecture-specific
/// block sizes.
///
/// [`cache_geometry`](crate::cache_geometry) probes it once per process. On
/// AArch64 it comes from the `CTR_EL0` register; decoding is pure and works
/// on every architecture, so a geometry can also be built from a known
/// register value ([`CacheGeometry::from_ctr_el0`]) or from its parts
/// ([`CacheGeometry::new`]) and passed to
/// [`clear_cache_with`](crate::clear_cache_with), for users who know their
/// hardware and for tests of paths no emulator models.
///
/// [`d_line`](CacheGeometry::d_line) and [`i_line`](CacheGeometry::i_line)
/// are the *minimum* line sizes in the system, which is what maintenance by
/// address must step by: stepping by a larger size would skip lines on the
/// caches with smaller ones. For the sources that report cache levels they
/// are the smallest line of the caches that hold data (data and unified
/// caches), and of those that hold instructions (instruction and unified
/// caches): on every CPU whose values this crate tests, the L1 lines.
///
/// Equality and hashing compare everything, the source and the extras
/// included: to compare only what maintenance uses, compare
/// [`raw`](CacheGeometry::raw). The type is `Copy` and 80 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
// Declaration order, so that `ctr`, all that maintenance reads, is the word
// at offset 0 (`clear_cache_with` loads it from there: asm/aarch64.s).
#[repr(C)]
pub struct CacheGeometry {
    /// `CTR_EL0`, or its equivalent for the line sizes (see `raw`).
    ctr: u64,
    /// `MIDR_EL1`, meaningful when `has_midr`.
    midr: u64,
    source: GeometrySource,
    levels: [PackedLevel; MAX_CACHE_LEVELS],
    n_levels: u8,
    has_midr: bool,
    /// Bytes, or 0 for "not reported" (every extra below).
    clflush: u16,
    zva: u32,
    cbom: u32,
    cboz: u32,
    /// Apple's `hw.cachelinesize` (the coherence granule), 0 elsewhere.
    granule: u32,
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

/// The `CTR_EL0` equivalent of two line sizes (`L1Ip` = PIPT, neither IDC
/// nor DIC), if both are powers of two from 4 bytes to 128 KiB.
const fn ctr_for_lines(d_line: usize, i_line: usize) -> Option<u64> {
    let (Some(d), Some(i)) = (size_field(d_line), size_field(i_line)) else {
        return None;
    };
    Some(RES1_BIT | (d << 16) | (0b11 << 14) | i)
}

impl CacheGeometry {
    /// A geometry with `ctr` and `source` and nothing else reported.
    const fn bare(ctr: u64, source: GeometrySource) -> CacheGeometry {
        CacheGeometry {
            ctr,
            midr: 0,
            source,
            levels: [PackedLevel::EMPTY; MAX_CACHE_LEVELS],
            n_levels: 0,
            has_midr: false,
            clflush: 0,
            zva: 0,
            cbom: 0,
            cboz: 0,
            granule: 0,
        }
    }

    /// Decodes a raw `CTR_EL0` value. The [`source`](CacheGeometry::source)
    /// is [`GeometrySource::CtrEl0`]; no levels or extras are reported.
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
        CacheGeometry::bare(ctr, GeometrySource::CtrEl0)
    }

    /// Builds a geometry from its parts: the minimum data and instruction
    /// line sizes in bytes, and whether `IDC` and `DIC` are set.
    /// The [`source`](CacheGeometry::source) is [`GeometrySource::Given`].
    ///
    /// Returns `None` unless both sizes are powers of two from 4 bytes to
    /// 128 KiB: the only sizes `CTR_EL0` can express (each field is the
    /// log2 of the size in 4-byte words, 4 bits wide), and so the only ones
    /// the maintenance loops can step by. `None` is that one reason; there
    /// is no other.
    ///
    /// ```
    /// use icache_coherence::CacheGeometry;
    /// assert!(CacheGeometry::new(64, 64, false, false).is_some());
    /// assert!(CacheGeometry::new(48, 64, false, false).is_none()); // not a power of two
    /// assert!(CacheGeometry::new(2, 64, false, false).is_none()); // below 4 bytes
    /// assert!(CacheGeometry::new(64, 256 << 10, false, false).is_none()); // above 128 KiB
    /// ```
    ///
    /// [`raw`](CacheGeometry::raw) then reports the equivalent `CTR_EL0` value
    /// (with `L1Ip` = PIPT).
    pub const fn new(d_line: usize, i_line: usize, idc: bool, dic: bool) -> Option<CacheGeometry> {
        let Some(mut ctr) = ctr_for_lines(d_line, i_line) else {
            return None;
        };
        if idc {
            ctr |= IDC_BIT;
        }
        if dic {
            ctr |= DIC_BIT;
        }
        Some(CacheGeometry::bare(ctr, GeometrySource::Given))
    }

    /// Where this geometry came from.
    ///
    /// ```
    /// use icache_coherence::{CacheGeometry, GeometrySource};
    /// assert_eq!(CacheGeometry::from_ctr_el0(0x8444_8004).source(), GeometrySource::CtrEl0);
    /// assert_eq!(CacheGeometry::new(64, 64, false, false).unwrap().source(), GeometrySource::Given);
    /// ```
    pub const fn source(&self) -> GeometrySource {
        self.source
    }

    /// The `CTR_EL0` value this geometry was decoded from
    /// ([`GeometrySource::CtrEl0`]).
    ///
    /// For every other source, the `CTR_EL0` encoding of its line sizes:
    /// `DminLine` and `IminLine` from [`d_line`](CacheGeometry::d_line) and
    /// [`i_line`](CacheGeometry::i_line), bit 31 (RES1) and `L1Ip` = PIPT
    /// set, `IDC` and `DIC` as given to [`new`](CacheGeometry::new) and
    /// clear for probed sources. So `CacheGeometry::from_ctr_el0(g.raw())`
    /// maintains exactly as `g` does, whatever `g`'s source.
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
    /// Always `false` for probed sources other than
    /// [`GeometrySource::CtrEl0`].
    pub const fn idc(&self) -> bool {
        self.ctr & IDC_BIT != 0
    }

    /// `DIC`: invalidating the instruction cache to the point of unification
    /// is not needed, so `IC IVAU` and its `DSB ISH` are skipped. Always
    /// `false` for probed sources other than [`GeometrySource::CtrEl0`].
    pub const fn dic(&self) -> bool {
        self.ctr & DIC_BIT != 0
    }

    /// The L1 instruction-cache indexing policy. Meaningful for
    /// [`GeometrySource::CtrEl0`] only: every other source reports
    /// [`L1Ip::Pipt`], the value [`raw`](CacheGeometry::raw) encodes.
    pub const fn l1ip(&self) -> L1Ip {
        match (self.ctr >> 14) & 0b11 {
            0b00 => L1Ip::Vpipt,
            0b01 => L1Ip::Aivivt,
            0b10 => L1Ip::Vipt,
            _ => L1Ip::Pipt,
        }
    }

    /// The caches the platform reported, in its order (typically L1 data,
    /// L1 instruction, then the outer levels), at most [`MAX_CACHE_LEVELS`].
    ///
    /// Reported by the [`GeometrySource::Cpuid`], [`GeometrySource::Ecag`]
    /// and [`GeometrySource::Auxv`] sources; empty for `CTR_EL0` (which
    /// gives minimum line sizes, not levels), `Given`, `Sysctl` and
    /// `RiscvHwprobe`.
    ///
    /// ```
    /// # fn main() {
    /// use icache_coherence::{cache_geometry, CacheKind};
    /// if let Some(g) = cache_geometry() {
    ///     for l in g.levels() {
    ///         let kind = match l.kind {
    ///             CacheKind::Data => "d",
    ///             CacheKind::Instruction => "i",
    ///             _ => "",
    ///         };
    ///         println!("L{}{kind}: {} B lines ({})", l.level, l.line, g.source());
    ///     }
    /// }
    /// # }
    /// ```
    pub fn levels(&self) -> impl ExactSizeIterator<Item = CacheLevel> + Clone {
        let levels = self.levels;
        (0..self.n_levels as usize).map(move |i| levels[i].unpack())
    }

    /// The `DC ZVA` block size in bytes: `4 << DCZID_EL0.BS`. `None` where
    /// `DCZID_EL0.DZP` says `DC ZVA` is prohibited, and on every source but
    /// a probed [`GeometrySource::CtrEl0`] (AArch64 Linux, Android, the BSDs
    /// and bare metal; never Apple or Windows, which are not probed by
    /// `CTR_EL0`).
    pub const fn zva_block(&self) -> Option<usize> {
        nonzero(self.zva as usize)
    }

    /// The `CLFLUSH`/`CLFLUSHOPT` line size in bytes: `CPUID` leaf 1
    /// `EBX[15:8]` × 8, when leaf 1 `EDX` bit 19 (CLFSH) is set. `None`
    /// elsewhere ([`GeometrySource::Cpuid`] only).
    pub const fn clflush_line(&self) -> Option<usize> {
        nonzero(self.clflush as usize)
    }

    /// The Zicbom block size in bytes (the step of `cbo.clean`,
    /// `cbo.flush`, `cbo.inval`), from `riscv_hwprobe`
    /// (`RISCV_HWPROBE_KEY_ZICBOM_BLOCK_SIZE`, Linux 6.15+). `None` if the
    /// harts lack Zicbom, the kernel does not know the key, or elsewhere.
    pub const fn cbom_block(&self) -> Option<usize> {
        nonzero(self.cbom as usize)
    }

    /// The Zicboz block size in bytes (the step of `cbo.zero`), from
    /// `riscv_hwprobe` (`RISCV_HWPROBE_KEY_ZICBOZ_BLOCK_SIZE`, Linux 6.7+).
    /// `None` if the harts lack Zicboz, the kernel does not know the key, or
    /// elsewhere.
    pub const fn cboz_block(&self) -> Option<usize> {
        nonzero(self.cboz as usize)
    }

    /// The coherence granule in bytes as Apple's
    /// `sysctlbyname("hw.cachelinesize")` reports it (128 on Apple silicon,
    /// 64 on Intel Macs): the unit in which caches transfer and keep lines
    /// coherent, which on Apple silicon is *larger* than the line that
    /// maintenance by address must step by ([`d_line`](CacheGeometry::d_line),
    /// [`i_line`](CacheGeometry::i_line): 64 bytes, xnu's `MMU_CLINE`). Use
    /// it to pad data against false sharing, never as a maintenance step.
    /// `None` on every other platform, or if the sysctl fails.
    pub const fn coherence_granule(&self) -> Option<usize> {
        nonzero(self.granule as usize)
    }

    /// `MIDR_EL1` (implementer, variant, part number, revision), on AArch64
    /// Linux and Android when the kernel advertises `HWCAP_CPUID` (it then
    /// emulates the EL0 read; Linux 4.11+). `None` elsewhere.
    ///
    /// Read once, on whichever core the first [`cache_geometry`] call ran:
    /// on a heterogeneous (big.LITTLE) system other cores have other values
    /// (the kernel's `cpu-feature-registers.rst` makes the same caveat; the
    /// per-core values are in
    /// `/sys/devices/system/cpu/cpu*/regs/identification/midr_el1`).
    ///
    /// [`cache_geometry`]: crate::cache_geometry
    pub const fn midr(&self) -> Option<u64> {
        if self.has_midr {
            Some(self.midr)
        } else {
            None
        }
    }
}

/// What the probes build geometries with. Each platform's probe uses some
/// of these only.
#[allow(dead_code)]
impl CacheGeometry {
    /// A geometry from `source` with these line sizes, neither IDC nor DIC
    /// claimed; `None` unless both are powers of two from 4 bytes to
    /// 128 KiB.
    pub(crate) const fn from_lines(
        source: GeometrySource,
        d_line: usize,
        i_line: usize,
    ) -> Option<CacheGeometry> {
        match ctr_for_lines(d_line, i_line) {
            Some(ctr) => Some(CacheGeometry::bare(ctr, source)),
            None => None,
        }
    }

    /// A geometry from the cache levels a platform reported (in its order):
    /// `d_line` is the smallest line of the caches that hold data, `i_line`
    /// the smallest of those that hold instructions. `None` if either kind
    /// is missing or its smallest line is not a power of two from 4 bytes
    /// to 128 KiB. Levels with a zero line, a line above 65535 bytes, or
    /// beyond [`MAX_CACHE_LEVELS`] are not kept (nor counted).
    pub(crate) fn from_levels(
        source: GeometrySource,
        levels: impl IntoIterator<Item = CacheLevel>,
    ) -> Option<CacheGeometry> {
        let mut packed = [PackedLevel::EMPTY; MAX_CACHE_LEVELS];
        let mut n = 0;
        let (mut d, mut i) = (usize::MAX, usize::MAX);
        for l in levels {
            if n == MAX_CACHE_LEVELS || l.line == 0 || l.line > u16::MAX as usize {
                continue;
            }
            if l.kind.holds_data() {
                d = d.min(l.line);
            }
            if l.kind.holds_instructions() {
                i = i.min(l.line);
            }
            packed[n] = PackedLevel {
                level: l.level,
                kind: match l.kind {
                    CacheKind::Data => 0,
                    CacheKind::Instruction => 1,
                    CacheKind::Unified => 2,
                },
                line: l.line as u16,
            };
            n += 1;
        }
        let mut g = CacheGeometry::from_lines(source, d, i)?;
        g.levels = packed;
        g.n_levels = n as u8;
        Some(g)
    }

    /// Whether [`d_line`](CacheGeometry::d_line) equals
    /// [`i_line`](CacheGeometry::i_line): the two `CTR_EL0` size fields
    /// compared in one test.
    #[inline(always)]
    pub(crate) const fn same_line_sizes(&self) -> bool {
        (self.ctr ^ (self.ctr >> 16)) & 0xf == 0
    }

    /// Records the CLFLUSH line size in bytes (0: not reported).
    pub(crate) const fn with_clflush_line(mut self, bytes: u16) -> CacheGeometry {
        self.clflush = bytes;
        self
    }

    /// Records the `DC ZVA` block size in bytes (0: prohibited or unknown).
    pub(crate) const fn with_zva_block(mut self, bytes: u32) -> CacheGeometry {
        self.zva = bytes;
        self
    }

    /// Records the Zicbom and Zicboz block sizes in bytes (0: not reported).
    pub(crate) const fn with_cbo_blocks(mut self, cbom: u32, cboz: u32) -> CacheGeometry {
        self.cbom = cbom;
        self.cboz = cboz;
        self
    }

    /// Records Apple's coherence granule in bytes (0: not reported).
    pub(crate) const fn with_coherence_granule(mut self, bytes: u32) -> CacheGeometry {
        self.granule = bytes;
        self
    }

    /// Records `MIDR_EL1`.
    pub(crate) const fn with_midr(mut self, midr: u64) -> CacheGeometry {
        self.midr = midr;
        self.has_midr = true;
        self
    }
}

/// The maintenance line of every Apple arm64 core, in bytes: xnu's
/// `osfmk/arm64/proc_reg.h` defines `MMU_CLINE` and `MMU_I_CLINE` as 6
/// (`1 << 6` = 64 bytes) for each core family it supports (Typhoon through
/// the M-series' Firestorm/Icestorm, Avalanche/Blizzard, Everest/Sawtooth,
/// and VMAPPLE), and libplatform's `sys_icache_invalidate` steps its
/// `IC IVAU` loop by `1 << MMU_I_CLINE`.
pub(crate) const APPLE_ARM64_MAINTENANCE_LINE: usize = 64;

/// Apple's geometry from `hw.cachelinesize` (`cachelinesize`, `None` if
/// the sysctl failed), on arm64 (`aarch64`) or x86_64.
///
/// - arm64: 64-byte data and instruction lines whatever the sysctl says
///   ([`APPLE_ARM64_MAINTENANCE_LINE`]); the sysctl's answer, 128 on Apple
///   silicon, is the coherence granule, reported under that name. Stepping
///   maintenance by 128 would skip every other 64-byte line.
/// - x86_64: the sysctl's answer for both lines (64 on every Intel Mac), and
///   the coherence granule; `None` if the sysctl failed.
///
/// A sysctl answer that is not a power of two from 4 bytes to 128 KiB is
/// treated as a failure.
#[allow(dead_code)] // Apple targets and tests only
pub(crate) fn apple_geometry(aarch64: bool, cachelinesize: Option<usize>) -> Option<CacheGeometry> {
    let granule = cachelinesize.filter(|&n| size_field(n).is_some());
    let line = if aarch64 {
        APPLE_ARM64_MAINTENANCE_LINE
    } else {
        granule?
    };
    let g = CacheGeometry::from_lines(GeometrySource::Sysctl, line, line)?;
    Some(g.with_coherence_granule(granule.unwrap_or(0) as u32))
}

/// `Some(n)` unless `n` is 0.
const fn nonzero(n: usize) -> Option<usize> {
    if n == 0 {
        None
    } else {
        Some(n)
    }
}

/// The `CTR_EL0` size field for a line of `bytes` bytes, if it has one.
const fn size_field(bytes: usize) -> Option<u64> {
    if !bytes.is_power_of_two() || bytes < 4 || bytes > (4 << 15) {
        return None;
    }
    Some((bytes.trailing_zeros() - 2) as u64)
}

/// The `DC ZVA` block size in bytes that a `DCZID_EL0` value reports:
/// `4 << BS` (bits 3:0), or `None` if `DZP` (bit 4) prohibits `DC ZVA`.
///
/// # References
/// - Arm Architecture Reference Manual for A-profile, `DCZID_EL0`.
#[allow(dead_code)] // AArch64 probes and tests only
pub(crate) const fn zva_block_from_dczid(dczid: u64) -> Option<u32> {
    if dczid & (1 << 4) != 0 {
        None
    } else {
        Some(4 << (dczid & 0xf))
    }
}

/// `HWCAP_CPUID` (`arch/arm64/include/uapi/asm/hwcap.h`, bit 11): the
/// kernel emulates EL0 reads of the ID registers, `MIDR_EL1` included.
#[allow(dead_code)] // AArch64 Linux and Android probes only
pub(crate) const HWCAP_CPUID: u64 = 1 << 11;

impl fmt::Debug for CacheGeometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("CacheGeometry");
        s.field("source", &self.source);
        let from_ctr = matches!(self.source, GeometrySource::CtrEl0 | GeometrySource::Given);
        if from_ctr {
            s.field("ctr_el0", &format_args!("{:#x}", self.ctr));
        }
        s.field("d_line", &self.d_line());
        s.field("i_line", &self.i_line());
        if from_ctr {
            s.field("idc", &self.idc())
                .field("dic", &self.dic())
                .field("l1ip", &self.l1ip());
        }
        if self.n_levels > 0 {
            s.field("levels", &Levels(self));
        }
        if let Some(b) = self.zva_block() {
            s.field("zva_block", &b);
        }
        if let Some(b) = self.clflush_line() {
            s.field("clflush_line", &b);
        }
        if let Some(b) = self.cbom_block() {
            s.field("cbom_block", &b);
        }
        if let Some(b) = self.cboz_block() {
            s.field("cboz_block", &b);
        }
        if let Some(b) = self.coherence_granule() {
            s.field("coherence_granule", &b);
        }
        if let Some(m) = self.midr() {
            s.field("midr", &format_args!("{m:#x}"));
        }
        s.finish()
    }
}

/// The levels as a compact list: `[L1d 64, L1i 64, L2 64]`.
struct Levels<'a>(&'a CacheGeometry);

impl fmt::Debug for Levels<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for l in self.0.levels() {
            let kind = match l.kind {
                CacheKind::Data => "d",
                CacheKind::Instruction => "i",
                CacheKind::Unified => "",
            };
            list.entry(&format_args!("L{}{} {}", l.level, kind, l.line));
        }
        list.finish()
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
            // Same maintenance, different source: equality sees the source.
            let again = CacheGeometry::from_ctr_el0(built.raw());
            assert_eq!(again.raw(), built.raw(), "{what}");
            assert_eq!(built.source(), GeometrySource::Given, "{what}");
            assert_eq!(again.source(), GeometrySource::CtrEl0, "{what}");
            assert_ne!(again, built, "{what}");
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

    #[test]
    fn ctr_and_given_report_no_levels_or_extras() {
        for g in [
            CacheGeometry::from_ctr_el0(0x8444_8004),
            CacheGeometry::new(64, 64, true, true).unwrap(),
        ] {
            assert_eq!(g.levels().len(), 0);
            assert_eq!(g.zva_block(), None);
            assert_eq!(g.clflush_line(), None);
            assert_eq!(g.cbom_block(), None);
            assert_eq!(g.cboz_block(), None);
            assert_eq!(g.midr(), None);
        }
    }

    #[test]
    fn from_lines_encodes_an_equivalent_ctr() {
        let g = CacheGeometry::from_lines(GeometrySource::Sysctl, 128, 128).unwrap();
        assert_eq!(g.raw(), 0x8005_c005);
        assert_eq!(
            (g.d_line(), g.i_line(), g.idc(), g.dic()),
            (128, 128, false, false)
        );
        assert_eq!(g.l1ip(), L1Ip::Pipt);
        assert_eq!(g.source(), GeometrySource::Sysctl);
        assert_eq!(
            g.raw(),
            CacheGeometry::new(128, 128, false, false).unwrap().raw()
        );
        for bad in [0, 3, 48, 1 << 18] {
            assert_eq!(
                CacheGeometry::from_lines(GeometrySource::Sysctl, bad, 64),
                None
            );
            assert_eq!(
                CacheGeometry::from_lines(GeometrySource::Sysctl, 64, bad),
                None
            );
        }
    }

    fn lvl(level: u8, kind: CacheKind, line: usize) -> CacheLevel {
        CacheLevel::new(level, kind, line)
    }

    #[test]
    fn from_levels_takes_the_smallest_line_of_each_kind() {
        use CacheKind::*;
        let src = GeometrySource::Ecag;
        // Data 64, instruction 32, unified 128: d = 64, i = 32.
        let g = CacheGeometry::from_levels(
            src,
            [
                lvl(1, Data, 64),
                lvl(1, Instruction, 32),
                lvl(2, Unified, 128),
            ],
        )
        .unwrap();
        assert_eq!((g.d_line(), g.i_line()), (64, 32));
        assert_eq!(g.levels().count(), 3);
        // No instruction cache at L1 (Pentium 4): the unified L2 holds them.
        let g = CacheGeometry::from_levels(src, [lvl(1, Data, 64), lvl(2, Unified, 64)]).unwrap();
        assert_eq!((g.d_line(), g.i_line()), (64, 64));
        // A unified L1 serves both.
        let g = CacheGeometry::from_levels(src, [lvl(1, Unified, 32)]).unwrap();
        assert_eq!((g.d_line(), g.i_line()), (32, 32));
        // Nothing that holds instructions, or nothing at all: no geometry.
        assert_eq!(CacheGeometry::from_levels(src, [lvl(1, Data, 64)]), None);
        assert_eq!(CacheGeometry::from_levels(src, []), None);
        // A smallest line that is not a power of two: no geometry (the
        // levels alone could not be stepped by either).
        assert_eq!(
            CacheGeometry::from_levels(src, [lvl(1, Data, 48), lvl(1, Instruction, 64)]),
            None
        );
        // Zero-sized and oversized lines are dropped, not counted.
        let g = CacheGeometry::from_levels(
            src,
            [
                lvl(1, Unified, 64),
                lvl(2, Unified, 0),
                lvl(3, Unified, 1 << 16),
            ],
        )
        .unwrap();
        assert_eq!(g.levels().collect::<Vec<_>>(), [lvl(1, Unified, 64)]);
    }

    #[test]
    fn from_levels_keeps_at_most_max_cache_levels_in_order() {
        let many = (1..=10).map(|n| lvl(n, CacheKind::Unified, 64 << (n % 3)));
        let g = CacheGeometry::from_levels(GeometrySource::Auxv, many.clone()).unwrap();
        let kept: Vec<_> = g.levels().collect();
        assert_eq!(kept, many.take(MAX_CACHE_LEVELS).collect::<Vec<_>>());
        assert_eq!(g.levels().len(), MAX_CACHE_LEVELS);
    }

    #[test]
    fn equal_reports_are_equal_and_hash_alike() {
        use std::collections::hash_map::DefaultHasher;
        use std::hash::{Hash, Hasher};
        let make = || {
            CacheGeometry::from_levels(
                GeometrySource::Cpuid { leaf: 4 },
                [
                    lvl(1, CacheKind::Data, 64),
                    lvl(1, CacheKind::Instruction, 64),
                ],
            )
            .unwrap()
            .with_clflush_line(64)
        };
        let hash = |g: &CacheGeometry| {
            let mut h = DefaultHasher::new();
            g.hash(&mut h);
            h.finish()
        };
        assert_eq!(make(), make());
        assert_eq!(hash(&make()), hash(&make()));
        assert_ne!(make(), make().with_clflush_line(128));
        assert_ne!(
            make(),
            CacheGeometry::from_levels(
                GeometrySource::Cpuid { leaf: 0x8000_001d },
                [
                    lvl(1, CacheKind::Data, 64),
                    lvl(1, CacheKind::Instruction, 64)
                ],
            )
            .unwrap()
            .with_clflush_line(64)
        );
    }

    #[test]
    fn extras_are_reported_as_recorded() {
        let g = CacheGeometry::from_ctr_el0(0x8444_8004)
            .with_zva_block(64)
            .with_midr(0x410f_d034);
        assert_eq!(g.zva_block(), Some(64));
        assert_eq!(g.midr(), Some(0x410f_d034));
        // A MIDR of 0 is still a reported MIDR.
        assert_eq!(CacheGeometry::from_ctr_el0(0).with_midr(0).midr(), Some(0));
        let g = CacheGeometry::from_lines(GeometrySource::RiscvHwprobe, 64, 64)
            .unwrap()
            .with_cbo_blocks(64, 0);
        assert_eq!((g.cbom_block(), g.cboz_block()), (Some(64), None));
    }

    /// `DCZID_EL0` values: Cortex-A53 and Cortex-A72 report `BS = 4`
    /// (64-byte blocks, Arm Cortex-A53 TRM DDI 0500, "DCZID_EL0"; QEMU's
    /// `cortex-a53`/`cortex-a72` models: `dcz_blocksize = 4`, measured here
    /// as 0x4), A64FX `BS = 6` (256 bytes, Fujitsu A64FX Microarchitecture
    /// Manual; QEMU's `a64fx`: measured 0x6), QEMU's `max` `BS = 7` (512
    /// bytes, measured 0x7). `DZP` (bit 4) set means `DC ZVA` is prohibited
    /// (Arm ARM, `DCZID_EL0`), whatever `BS` says.
    #[test]
    fn dczid_decodes_block_size_and_dzp() {
        for (dczid, want) in [
            (0x4, Some(64)),
            (0x6, Some(256)),
            (0x7, Some(512)),
            (0x0, Some(4)),
            (0xf, Some(4 << 15)),
            (0x10, None),
            (0x14, None),
            // Bits above 4 are RES0; noise there changes nothing.
            (0xffff_ffff_ffff_fff4, None),
            (0xffff_ffff_ffff_ffe4, Some(64)),
        ] {
            assert_eq!(zva_block_from_dczid(dczid), want, "{dczid:#x}");
        }
    }

    #[test]
    fn source_names() {
        let names = [
            (GeometrySource::CtrEl0, "CTR_EL0"),
            (GeometrySource::Given, "given"),
            (GeometrySource::Cpuid { leaf: 4 }, "CPUID leaf 4"),
            (
                GeometrySource::Cpuid { leaf: 0x8000_001d },
                "CPUID leaf 0x8000001d",
            ),
            (
                GeometrySource::Cpuid { leaf: 0x8000_0005 },
                "CPUID leaf 0x80000005",
            ),
            (GeometrySource::Sysctl, "sysctl hw.cachelinesize"),
            (GeometrySource::RiscvHwprobe, "riscv_hwprobe"),
            (GeometrySource::Auxv, "auxv"),
            (GeometrySource::Ecag, "ECAG"),
        ];
        for (s, name) in names {
            assert_eq!(s.to_string(), name);
        }
    }

    #[test]
    fn debug_shows_what_each_source_reports() {
        let ctr = format!(
            "{:?}",
            CacheGeometry::from_ctr_el0(0x8444_8004).with_zva_block(64)
        );
        assert_eq!(
            ctr,
            "CacheGeometry { source: CtrEl0, ctr_el0: 0x84448004, d_line: 64, i_line: 64, \
             idc: false, dic: false, l1ip: Vipt, zva_block: 64 }"
        );
        let cpuid = CacheGeometry::from_levels(
            GeometrySource::Cpuid { leaf: 4 },
            [
                lvl(1, CacheKind::Data, 64),
                lvl(1, CacheKind::Instruction, 64),
                lvl(2, CacheKind::Unified, 64),
            ],
        )
        .unwrap()
        .with_clflush_line(64);
        assert_eq!(
            format!("{cpuid:?}"),
            "CacheGeometry { source: Cpuid { leaf: 0x4 }, d_line: 64, i_line: 64, \
             levels: [L1d 64, L1i 64, L2 64], clflush_line: 64 }"
        );
        assert_eq!(
            format!("{:?}", GeometrySource::Cpuid { leaf: 0x8000_001d }),
            "Cpuid { leaf: 0x8000001d }"
        );
        assert_eq!(format!("{:?}", GeometrySource::CtrEl0), "CtrEl0");
    }

    /// Apple silicon reports `hw.cachelinesize` = 128; maintenance must
    /// still step by 64 (xnu `MMU_CLINE`), and the 128 is reported as the
    /// coherence granule only. (Before this, `d_line`/`i_line` were 128.)
    #[test]
    fn apple_lines_are_the_maintenance_line() {
        let g = apple_geometry(true, Some(128)).unwrap();
        assert_eq!((g.d_line(), g.i_line()), (64, 64));
        assert_eq!(g.coherence_granule(), Some(128));
        assert_eq!(g.source(), GeometrySource::Sysctl);
        assert!(!g.idc() && !g.dic());
        // Whatever the sysctl answers (or if it fails), arm64 steps by 64.
        for answer in [None, Some(0), Some(48), Some(64), Some(256), Some(1 << 20)] {
            let g = apple_geometry(true, answer).unwrap();
            assert_eq!((g.d_line(), g.i_line()), (64, 64), "{answer:?}");
            let valid = answer.filter(|n| n.is_power_of_two() && (4..=1 << 17).contains(n));
            assert_eq!(g.coherence_granule(), valid, "{answer:?}");
        }
        // Intel Macs: the sysctl for both, or nothing if it fails.
        let g = apple_geometry(false, Some(64)).unwrap();
        assert_eq!(
            (g.d_line(), g.i_line(), g.coherence_granule()),
            (64, 64, Some(64))
        );
        assert_eq!(apple_geometry(false, None), None);
        assert_eq!(apple_geometry(false, Some(48)), None);
        assert_eq!(
            format!("{:?}", apple_geometry(true, Some(128)).unwrap()),
            "CacheGeometry { source: Sysctl, d_line: 64, i_line: 64, coherence_granule: 128 }"
        );
        // Only Apple reports one.
        assert_eq!(
            CacheGeometry::from_ctr_el0(0x8444_8004).coherence_granule(),
            None
        );
    }

    #[test]
    fn stays_small() {
        assert_eq!(core::mem::size_of::<CacheGeometry>(), 80);
        // The word maintenance reads comes first (see the `repr(C)`).
        let g = CacheGeometry::from_ctr_el0(0x8444_8004);
        // SAFETY: `CacheGeometry` is `repr(C)` with a `u64` first field.
        let first = unsafe { (&g as *const CacheGeometry).cast::<u64>().read() };
        assert_eq!(first, 0x8444_8004);
    }
}
