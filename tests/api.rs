//! The public API as users call it: drop-in compatibility with
//! `wasmtime-jit-icache-coherence`, bad input, and what each platform reports.

use core::ffi::c_void;
use icache_coherence::{
    cache_geometry, clear_cache, flush_mechanism, pipeline_flush_mt, Error, FlushMechanism,
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
    assert_eq!(io.raw_os_error(), Some(1));
    #[cfg(unix)]
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
}

/// What each platform must report; a wrong backend selection fails here.
#[test]
fn each_platform_reports_its_mechanism() {
    let m = flush_mechanism().expect("this host supports a flush");
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
    assert_eq!(flush_mechanism(), Ok(m), "probed once, stable");
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

#[test]
#[cfg(any(miri, not(target_arch = "aarch64")))]
fn no_geometry_where_maintenance_is_not_by_line() {
    assert_eq!(cache_geometry(), None);
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
