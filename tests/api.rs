//! The public API as users call it: drop-in compatibility with
//! `wasmtime-jit-icache-coherence`, bad input, and what each platform reports.

use core::ffi::c_void;
use icache_coherence::{
    cache_geometry, clear_cache, flush_mechanism, pipeline_flush_mt, CacheGeometry, CacheKind,
    Error, FlushMechanism, GeometrySource,
};

/// Code written against `wasmtime-jit-icache-coherence` compiles unchanged:
/// `?` into `std::io::Result`, `.expect`, `.unwrap`.
fn wasmtime_style(code: &[u8]) -> std::io::Result<()> {
    // SAFETY: `code` is a live, readable slice.
    unsafe { clear_cache(code.as_ptr() as *const c_void, code.len())? };
    pipeline_flush_mt()?;
    Ok(())
}

/// ... and into `Box<dyn Error + Send + Sync>` (anyhow-style callers).
fn boxed_style(code: &[u8]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // SAFETY: `code` is a live, readable slice.
    unsafe { clear_cache(code.as_ptr() as *const c_void, code.len())? };
    pipeline_flush_mt()?;
    Ok(())
}

#[test]
fn drop_in_compatible() {
    let code = [0u8; 256];
    wasmtime_style(&code).unwrap();
    boxed_style(&code).unwrap();
    // SAFETY: as above.
    unsafe { clear_cache(code.as_ptr().cast(), code.len()) }.expect("clear_cache");
    pipeline_flush_mt().expect("pipeline_flush_mt");
    pipeline_flush_mt().unwrap();
}

#[test]
fn zero_length_is_a_no_op_even_at_null_and_at_the_top() {
    for ptr in [0usize, 1, 4095, usize::MAX] {
        // SAFETY: len 0 touches nothing.
        assert_eq!(
            unsafe { clear_cache(core::ptr::without_provenance(ptr), 0) },
            Ok(())
        );
    }
}

#[test]
fn wrapping_ranges_are_rejected_before_any_access() {
    // None of these addresses is mapped: an access would fault, so getting the
    // error back proves the check ran first.
    for (ptr, len) in [
        (usize::MAX, 2),
        (usize::MAX - 4095, 8192),
        (2, usize::MAX),
        (usize::MAX, usize::MAX),
    ] {
        // SAFETY: the range is rejected before it is touched.
        let e = unsafe { clear_cache(core::ptr::without_provenance(ptr), len) }.unwrap_err();
        assert_eq!(e, Error::RangeWraps { ptr, len });
        assert_eq!(e.raw_os_error(), None);
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
        assert!(io.to_string().contains("wraps"), "{io}");
    }
}

#[test]
fn os_errors_keep_their_errno_through_io_error() {
    let e = Error::PermissionDenied {
        syscall: icache_coherence::Syscall::Membarrier,
        errno: 1, // EPERM on Linux, macOS and the BSDs; ERROR_INVALID_FUNCTION on Windows
    };
    let io: std::io::Error = e.into();
    // The typed error rides inside: errno, call and hint are all kept.
    assert_eq!(Error::from_io(&io), Some(e));
    assert_eq!(Error::from_io(&io).and_then(|e| e.raw_os_error()), Some(1));
    #[cfg(unix)]
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(
        io.to_string().starts_with("membarrier was denied"),
        "Display names the call: {io}"
    );
    // What `.expect("Failed pipeline flush")` prints: `{msg}: {err:?}`.
    let printed = format!("Failed pipeline flush: {io:?}");
    assert!(
        printed.contains("PermissionDenied { syscall: Membarrier, errno: 1 }"),
        "{printed}"
    );
    // Any other io::Error is not ours.
    assert_eq!(Error::from_io(&std::io::Error::from_raw_os_error(1)), None);
}

/// What each platform must report; a wrong backend selection fails here.
#[test]
fn each_platform_reports_its_mechanism() {
    let m = icache_coherence::init()
        .expect("this host supports a flush")
        .mechanism;
    let want = if cfg!(miri) {
        FlushMechanism::NotRequired
    } else if cfg!(all(windows, target_arch = "aarch64")) {
        FlushMechanism::FlushProcessWriteBuffers
    } else if cfg!(windows)
        || cfg!(any(
            target_arch = "x86",
            target_arch = "x86_64",
            target_arch = "s390x"
        ))
    {
        FlushMechanism::NotRequired
    } else if cfg!(target_vendor = "apple") {
        FlushMechanism::LocalSyncRequired
    } else if cfg!(target_arch = "riscv64") {
        FlushMechanism::ByClearCache
    } else {
        // Linux aarch64/arm: under qemu-user membarrier reaches the host
        // kernel (Linux 4.16+ here), which has SYNC_CORE.
        FlushMechanism::MembarrierSyncCore
    };
    assert_eq!(m, want);
    assert_eq!(
        m.serialises_all_threads(),
        matches!(
            m,
            FlushMechanism::MembarrierSyncCore | FlushMechanism::ByClearCache
        )
    );
    assert_eq!(flush_mechanism(), Ok(Some(m)), "probed once, stable");
}

#[test]
fn unsupported_converts_to_the_unsupported_io_kind_keeping_the_errno() {
    for errno in [22 /* EINVAL */, 0] {
        let e = Error::Unsupported {
            syscall: Some(icache_coherence::Syscall::Membarrier),
            errno,
        };
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::Unsupported);
        let inner = io.get_ref().and_then(|i| i.downcast_ref::<Error>());
        assert_eq!(inner, Some(&e), "the typed error, errno included, is kept");
    }
    let io: std::io::Error = Error::Unsupported {
        syscall: None,
        errno: 0,
    }
    .into();
    assert_eq!(io.kind(), std::io::ErrorKind::Unsupported);
}

/// `pipeline_flush_local` executes its instruction (ISB, fence.i,
/// SERIALIZE/CPUID, BCR 15,0) and returns; its executed count per call is
/// checked under QEMU by `.ci/qemu-counts.py`.
#[test]
fn pipeline_flush_local_runs() {
    for _ in 0..1000 {
        icache_coherence::pipeline_flush_local();
    }
}

/// Where each platform's geometry comes from; a wrong backend or source
/// fails here. The values themselves are checked per architecture below.
#[test]
fn each_platform_reports_its_geometry_source() {
    let g = cache_geometry();
    assert_eq!(cache_geometry(), g, "probed once, stable");
    if cfg!(miri) {
        assert_eq!(g, None, "Miri executes no CPUID, MRS or ECAG");
        return;
    }
    if cfg!(target_vendor = "apple") {
        assert_eq!(g.map(|g| g.source()), Some(GeometrySource::Sysctl));
    } else if cfg!(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        not(target_env = "sgx")
    )) {
        // Linux natively, Windows under wine: CPUID on every OS.
        let g = g.expect("x86: CPUID reports caches");
        assert!(
            matches!(
                g.source(),
                GeometrySource::Cpuid {
                    leaf: 4 | 0x8000_001d | 0x8000_0005
                }
            ),
            "{g:?}"
        );
        assert!(g.levels().len() >= 2, "{g:?}");
        // Every x86_64 CPU (and SSE2, this crate's x86 baseline) has
        // CLFLUSH: CPUID leaf 1 reports its line.
        let clflush = g.clflush_line().expect("CLFSH");
        assert!(clflush.is_power_of_two() && clflush >= 32, "{g:?}");
        assert!(!g.idc() && !g.dic());
        let same = CacheGeometry::from_ctr_el0(g.raw());
        assert_eq!((same.d_line(), same.i_line()), (g.d_line(), g.i_line()));
        assert_eq!(
            (g.zva_block(), g.cbom_block(), g.midr()),
            (None, None, None)
        );
    } else if cfg!(all(target_arch = "aarch64", not(windows))) {
        assert_eq!(g.map(|g| g.source()), Some(GeometrySource::CtrEl0));
    } else if cfg!(any(target_arch = "arm", windows)) {
        assert_eq!(g, None);
    }
    // riscv64 and s390x: checked against what the OS and the machine say,
    // below (the answer depends on both).
}

/// On Linux x86 the kernel builds sysfs's cache directories from the same
/// CPUID leaves: every level, kind and line must agree. Fails (does not
/// skip) if sysfs has no cache directories.
#[test]
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86", target_arch = "x86_64"),
    not(miri)
))]
fn x86_geometry_matches_sysfs() {
    let g = cache_geometry().expect("CPUID reports caches");
    let sysfs = sysfs_caches();
    let mut ours: Vec<_> = g
        .levels()
        .map(|l| (l.level, kind_name(l.kind), l.line))
        .collect();
    ours.sort();
    assert_eq!(ours, sysfs, "CPUID {g:?} against sysfs");
    assert_eq!(Some(g.d_line()), smallest(&sysfs, &["Data", "Unified"]));
    assert_eq!(
        Some(g.i_line()),
        smallest(&sysfs, &["Instruction", "Unified"])
    );
    eprintln!("x86_geometry_matches_sysfs: {g:?}; sysfs cpu0 {sysfs:?}");
}

/// riscv64 Linux: the answer follows from what the kernel says, read here
/// independently (`getauxval`, the `riscv_hwprobe` system call). Under
/// this machine's QEMU (7.2) both are empty (`ENOSYS`), so the geometry is
/// `None`; on a real kernel with cache information in its device tree it is
/// the auxiliary vector's, and matches sysfs, which the kernel fills from
/// the same cacheinfo.
#[test]
#[cfg(all(target_arch = "riscv64", target_os = "linux", not(miri)))]
fn riscv64_geometry_follows_the_kernel() {
    let g = cache_geometry();
    // SAFETY: reads the auxiliary vector.
    let aux = |t: u64| unsafe { libc::getauxval(t) } as usize & 0xffff;
    let (l1d, l1i) = (aux(43), aux(41));
    // struct riscv_hwprobe { s64 key; u64 value; }: Zicbom block size (12).
    let mut pair: [i64; 2] = [12, 0];
    // SAFETY: one writable pair; all online harts; no flags.
    let ret = unsafe { libc::syscall(258, pair.as_mut_ptr(), 1usize, 0usize, 0usize, 0u32) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    let cbom = (ret == 0 && pair[0] == 12 && (pair[1] as u64).is_power_of_two())
        .then_some(pair[1] as usize);
    eprintln!(
        "riscv64: AT_L1D/L1I lines {l1d}/{l1i}, riscv_hwprobe ret {ret} (errno {errno:?}) \
         cbom {cbom:?}: {g:?}"
    );
    if l1d != 0 && l1i != 0 {
        let g = g.expect("the kernel reports L1 geometry");
        assert_eq!(g.source(), GeometrySource::Auxv);
        assert_eq!((g.d_line(), g.i_line()), (l1d, l1i));
        let mut ours: Vec<_> = g
            .levels()
            .map(|l| (l.level, kind_name(l.kind), l.line))
            .collect();
        ours.sort();
        assert_eq!(ours, sysfs_caches(), "auxv against sysfs");
        assert_eq!(g.cbom_block(), cbom);
    } else if let Some(block) = cbom {
        let g = g.expect("the kernel reports a Zicbom block");
        assert_eq!(g.source(), GeometrySource::RiscvHwprobe);
        assert_eq!(
            (g.d_line(), g.i_line(), g.cbom_block()),
            (block, block, Some(block))
        );
    } else {
        // QEMU 7.2 (measured): no auxv entries, no riscv_hwprobe.
        assert_eq!(g, None);
    }
}

/// s390x: on a real machine (Linux's `/proc/cpuinfo` says `IBM/S390`)
/// `ECAG` answers, and the kernel's sysfs cache directories come from the
/// same `ECAG` queries; under QEMU user mode, `/proc/cpuinfo` is the
/// host's and QEMU's `ECAG` answers all ones (measured), so the geometry
/// is `None` rather than a bogus size.
#[test]
#[cfg(all(target_arch = "s390x", target_os = "linux", not(miri)))]
fn s390x_geometry_follows_the_machine() {
    let g = cache_geometry();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").expect("/proc/cpuinfo");
    if cpuinfo.contains("IBM/S390") {
        let g = g.expect("ECAG reports caches on IBM Z");
        assert_eq!(g.source(), GeometrySource::Ecag);
        let mut ours: Vec<_> = g
            .levels()
            .map(|l| (l.level, kind_name(l.kind), l.line))
            .collect();
        ours.sort();
        assert_eq!(ours, sysfs_caches(), "ECAG against sysfs");
    } else {
        eprintln!("s390x under user-mode emulation (/proc/cpuinfo is the host's)");
        assert_eq!(g, None, "QEMU's ECAG answers all ones");
    }
}

#[allow(dead_code)] // used by the Linux tests of some architectures only
fn kind_name(k: CacheKind) -> &'static str {
    match k {
        CacheKind::Data => "Data",
        CacheKind::Instruction => "Instruction",
        CacheKind::Unified => "Unified",
        _ => "other",
    }
}

/// The smallest line among `caches` of the given types.
#[allow(dead_code)] // used by the Linux tests of some architectures only
fn smallest(caches: &[(u8, &str, usize)], types: &[&str]) -> Option<usize> {
    caches
        .iter()
        .filter(|(_, k, _)| types.contains(k))
        .map(|&(.., line)| line)
        .min()
}

/// `/sys/devices/system/cpu/cpu0/cache/index*`: (level, type, coherency
/// line size), sorted. Panics if there is none.
#[allow(dead_code)] // used by the Linux tests of some architectures only
fn sysfs_caches() -> Vec<(u8, &'static str, usize)> {
    let mut caches = Vec::new();
    for i in 0.. {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{i}");
        if !std::path::Path::new(&dir).exists() {
            break;
        }
        let read = |f: &str| {
            let path = format!("{dir}/{f}");
            std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{path}: {e}"))
                .trim()
                .to_string()
        };
        let kind = match read("type").as_str() {
            "Data" => "Data",
            "Instruction" => "Instruction",
            "Unified" => "Unified",
            other => panic!("{dir}/type: {other:?}"),
        };
        let level = read("level").parse().expect("level");
        let line = read("coherency_line_size").parse().expect("line");
        caches.push((level, kind, line));
    }
    assert!(
        !caches.is_empty(),
        "no /sys/devices/system/cpu/cpu0/cache/index* (sysfs not mounted?)"
    );
    caches.sort();
    caches
}

/// The CTR_EL0 value QEMU models for `QEMU_CPU` (`shared/arch-notes.md`,
/// measured with QEMU 7.2). CI runs this suite under each of these models.
#[cfg(all(target_arch = "aarch64", not(miri)))]
fn qemu_model_ctr(model: &str) -> Option<u64> {
    Some(match model {
        "max" => 0x8003_8003,
        "cortex-a53" | "cortex-a35" => 0x8444_8004,
        "cortex-a57" | "cortex-a72" | "cortex-a76" | "neoverse-n1" => 0x8444_c004,
        "a64fx" => 0x8666_8006,
        _ => return None,
    })
}

/// The `DC ZVA` block (from `DCZID_EL0`) and `MIDR_EL1` QEMU 7.2 models for
/// `QEMU_CPU`, measured with `mrs` under qemu-aarch64 (which advertises
/// `HWCAP_CPUID` for every model): `DCZID_EL0` 0x4 / 0x6 / 0x7 (64 / 256 /
/// 512 bytes), and the MIDR of the modelled core (Cortex-A53 r0p4, A64FX,
/// Cortex-A72 r0p3, Neoverse-N1 r4p1, and `max`: implementer 0, "software
/// use", part number 'Q').
#[cfg(all(target_arch = "aarch64", not(miri)))]
fn qemu_model_zva_midr(model: &str) -> Option<(usize, u64)> {
    Some(match model {
        "max" => (512, 0x000f_0510),
        "cortex-a53" => (64, 0x410f_d034),
        "cortex-a72" => (64, 0x410f_d083),
        "neoverse-n1" => (64, 0x414f_d0c1),
        "a64fx" => (256, 0x461f_0010),
        _ => return None,
    })
}

#[test]
#[cfg(all(target_arch = "aarch64", target_os = "linux", not(miri)))]
fn aarch64_extras_are_read() {
    let g = cache_geometry().expect("aarch64 Linux reads CTR_EL0");
    assert_eq!(
        g.levels().len(),
        0,
        "CTR_EL0 gives minimum lines, not levels"
    );
    assert_eq!(
        (g.clflush_line(), g.cbom_block(), g.cboz_block()),
        (None, None, None)
    );
    // SAFETY: reads the auxiliary vector.
    let hwcap = unsafe { libc::getauxval(libc::AT_HWCAP) };
    assert_eq!(
        g.midr().is_some(),
        hwcap & (1 << 11) != 0,
        "MIDR iff HWCAP_CPUID"
    );
    if let Some(zva) = g.zva_block() {
        assert!(zva.is_power_of_two() && zva >= 4);
    }
    let model = std::env::var("QEMU_CPU").ok();
    match model.as_deref().and_then(qemu_model_zva_midr) {
        Some((zva, midr)) => {
            assert_eq!(g.zva_block(), Some(zva), "QEMU_CPU={model:?}");
            assert_eq!(g.midr(), Some(midr), "QEMU_CPU={model:?}");
        }
        // Real hardware, or a model without recorded values: only the
        // invariants above. CI always sets a recorded model.
        None => eprintln!("aarch64_extras_are_read: no expected values here; read {g:?}"),
    }
}

#[test]
#[cfg(all(target_arch = "aarch64", not(miri)))]
fn geometry_is_read_and_decoded() {
    let g = cache_geometry().expect("aarch64 Linux reads CTR_EL0");
    assert_eq!(cache_geometry(), Some(g), "read once, stable");
    assert!(g.d_line().is_power_of_two() && g.d_line() >= 4);
    assert!(g.i_line().is_power_of_two() && g.i_line() >= 4);
    match std::env::var("QEMU_CPU")
        .ok()
        .as_deref()
        .and_then(qemu_model_ctr)
    {
        Some(ctr) => assert_eq!(g.raw(), ctr, "QEMU_CPU={:?}", std::env::var("QEMU_CPU")),
        // Real hardware, or a model without a recorded value: only the
        // invariants above are checked. CI always sets a recorded model.
        None => {
            eprintln!("geometry_is_read_and_decoded: no expected CTR_EL0 for this CPU; read {g:?}")
        }
    }
}

/// The IDC/DIC paths, which no QEMU model reaches through the probed
/// geometry, run through `clear_cache_with` (their instruction counts are
/// checked by `.ci/qemu-counts`).
#[test]
#[cfg(target_arch = "aarch64")]
fn clear_cache_with_every_idc_dic_combination() {
    use icache_coherence::{clear_cache_with, CacheGeometry};
    // Page-aligned, so every line rounded out from it stays inside it.
    let layout = std::alloc::Layout::from_size_align(4096, 4096).unwrap();
    // SAFETY: a non-zero-sized layout.
    let code = unsafe { std::alloc::alloc_zeroed(layout) };
    assert!(!code.is_null());
    for (idc, dic) in [(false, false), (true, false), (false, true), (true, true)] {
        for (d, i) in [(64, 64), (32, 128), (256, 256), (4, 4)] {
            let g = CacheGeometry::new(d, i, idc, dic).unwrap();
            // SAFETY: 4096 readable bytes, page-aligned, lines at most 256 bytes.
            unsafe { clear_cache_with(&g, code as *const c_void, 4096) }.unwrap();
            // SAFETY: len 0 touches nothing.
            assert_eq!(
                unsafe { clear_cache_with(&g, core::ptr::null(), 0) },
                Ok(())
            );
            // SAFETY: rejected before any access.
            let e = unsafe { clear_cache_with(&g, core::ptr::without_provenance(usize::MAX), 2) };
            assert_eq!(
                e,
                Err(Error::RangeWraps {
                    ptr: usize::MAX,
                    len: 2
                })
            );
        }
    }
    // SAFETY: allocated above with this layout.
    unsafe { std::alloc::dealloc(code, layout) };
}

/// A batch with one wrapping range fails before any range is touched: the
/// other ranges here are unmapped, so touching them would fault (on every
/// architecture that maintains by address).
#[test]
fn batch_with_a_wrapping_range_fails_first() {
    let unmapped: *const c_void = core::ptr::without_provenance(0x10);
    let top: *const c_void = core::ptr::without_provenance(usize::MAX);
    let ranges = [(unmapped, 64), (top, 2), (unmapped, 4096)];
    // SAFETY: rejected before any access.
    let e = unsafe { icache_coherence::clear_cache_ranges(&ranges) }.unwrap_err();
    assert_eq!(
        e,
        Error::RangeWraps {
            ptr: usize::MAX,
            len: 2
        }
    );
    // Empty batch, and a batch of empty ranges (null included): no-ops.
    // SAFETY: nothing is touched.
    unsafe {
        assert_eq!(icache_coherence::clear_cache_ranges(&[]), Ok(()));
        assert_eq!(
            icache_coherence::clear_cache_ranges(&[(core::ptr::null(), 0), (top, 0)]),
            Ok(())
        );
    }
}

#[test]
fn batch_and_dual_on_real_memory() {
    let code = vec![0xc3u8; 8192];
    let p = code.as_ptr() as *const c_void;
    // SAFETY: every range below lies inside `code`.
    unsafe {
        let ranges: Vec<_> = (0..16).map(|i| (p.byte_add(i * 512), 256)).collect();
        icache_coherence::clear_cache_ranges(&ranges).unwrap();
        // Overlapping and adjacent.
        icache_coherence::clear_cache_ranges(&[
            (p, 100),
            (p.byte_add(64), 136),
            (p.byte_add(200), 100),
        ])
        .unwrap();
        // "Dual" with both aliases the same memory is valid too.
        icache_coherence::clear_cache_dual(p, p, code.len()).unwrap();
        icache_coherence::clear_cache_dual(p, p, 0).unwrap();
    }
}

#[test]
fn dual_with_a_wrapping_alias_fails_first() {
    let unmapped: *const c_void = core::ptr::without_provenance(0x10);
    let top: *const c_void = core::ptr::without_provenance(usize::MAX - 7);
    for (w, x) in [(unmapped, top), (top, unmapped)] {
        // SAFETY: rejected before any access.
        let e = unsafe { icache_coherence::clear_cache_dual(w, x, 16) }.unwrap_err();
        assert_eq!(
            e,
            Error::RangeWraps {
                ptr: usize::MAX - 7,
                len: 16
            }
        );
    }
}
