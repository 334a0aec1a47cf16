//! Decisions taken from the operating system's version, as pure functions
//! of the raw answer, so that every case (missing, unparsable, old, new) is
//! tested on every host.

// Android uses one half and FreeBSD the other; tests use both.
#![allow(dead_code)]

/// The first Android API level whose app seccomp policy allows `membarrier`
/// (Android 10). Below it the policy kills the calling process with
/// `SIGSYS` (Wasmtime issue 5331; ART and .NET skip the call there too).
pub(crate) const ANDROID_MEMBARRIER_API: u32 = 29;

/// Parses the system property `ro.build.version.sdk` (the API level, as the
/// NDK's inline `android_get_device_api_level` reads it): the decimal digits
/// the property holds, `None` if it is missing, empty, not a plain decimal
/// number, or out of range.
pub(crate) fn android_api_level(property: Option<&[u8]>) -> Option<u32> {
    let digits = property?;
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Whether this crate may call `membarrier` on Android at this API level.
/// An unknown level counts as too old: a missed call can be made up by the
/// executing thread ([`FlushMechanism::LocalSyncRequired`]), a killed
/// process cannot.
///
/// [`FlushMechanism::LocalSyncRequired`]: crate::FlushMechanism::LocalSyncRequired
pub(crate) fn android_allows_membarrier(property: Option<&[u8]>) -> bool {
    matches!(android_api_level(property), Some(l) if l >= ANDROID_MEMBARRIER_API)
}

/// The first stable/14 `__FreeBSD_version` with `membarrier(2)` (FreeBSD
/// 14.1, as its man page's HISTORY says). FreeBSD answers an unimplemented
/// system call with `SIGSYS`, fatal by default, so older kernels must not be
/// asked.
pub(crate) const FREEBSD_MEMBARRIER_OSRELDATE: i32 = 1_401_000;

/// The first `__FreeBSD_version` of main (15.0-CURRENT) that is sure to
/// have `membarrier` (syscall 584). The commit adding it landed in main
/// while main was 1500000 (15.0-CURRENT was branched at 1500000 on
/// August 24, 2023; Valgrind's FreeBSD port added the new FreeBSD 15
/// syscall 584 on September 13-17, 2023, paulfloyd/freebsd_valgrind issue
/// 203) and did not bump the version; the next bump, 1500001 (September 17,
/// 2023, "after implementing `fpu_kern_enter` for powerpc", porter's
/// handbook chapter 18), is the first value every kernel of which has it.
/// A 1500000 kernel may predate it.
pub(crate) const FREEBSD_MAIN_MEMBARRIER_OSRELDATE: i32 = 1_500_001;

/// Whether a FreeBSD kernel reporting this `kern.osreldate` has
/// `membarrier`: 14.1 and later on stable/14 (`1401000..1500000`), and
/// 1500001 and later on main and every release branched from it (15.0,
/// 16...); unknown counts as no, as on Android.
pub(crate) const fn freebsd_has_membarrier(osreldate: Option<i32>) -> bool {
    match osreldate {
        Some(v) => {
            (v >= FREEBSD_MEMBARRIER_OSRELDATE && v < 1_500_000)
                || v >= FREEBSD_MAIN_MEMBARRIER_OSRELDATE
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn android_levels() {
        for (prop, level, allowed) in [
            (Some(&b"29"[..]), Some(29), true),
            (Some(b"35"), Some(35), true),
            (Some(b"28"), Some(28), false),
            (Some(b"21"), Some(21), false),
            (Some(b"9"), Some(9), false),
            (Some(b"100"), Some(100), true),
            (None, None, false),
            (Some(b""), None, false),
            (Some(b" 29"), None, false),
            (Some(b"29 "), None, false),
            (Some(b"-29"), None, false),
            (Some(b"2a"), None, false),
            (Some(b"Q"), None, false),
            (Some(b"9999999999"), None, false),
            (Some(b"000000029"), Some(29), true),
        ] {
            assert_eq!(android_api_level(prop), level, "{prop:?}");
            assert_eq!(android_allows_membarrier(prop), allowed, "{prop:?}");
        }
    }

    /// 1500000 (15.0-CURRENT before the commit adding syscall 584) was
    /// accepted before this: `membarrier` there raises `SIGSYS`.
    #[test]
    fn freebsd_membarrier_from_14_1_and_1500001() {
        for (v, has) in [
            (None, false),
            (Some(-1), false),
            (Some(i32::MIN), false),
            (Some(1_302_001), false),
            (Some(1_400_000), false),
            (Some(1_400_509), false),
            (Some(1_400_999), false),
            (Some(1_401_000), true),
            (Some(1_402_000), true),
            (Some(1_499_999), true),
            (Some(1_500_000), false),
            (Some(1_500_001), true),
            (Some(1_500_068), true),
            (Some(1_600_000), true),
            (Some(i32::MAX), true),
        ] {
            assert_eq!(freebsd_has_membarrier(v), has, "{v:?}");
        }
    }
}
