//! Properties of `CodeRange` and `Lines`, checked against `naive`.

use super::naive;
use super::Op;
use crate::range::CodeRange;
use crate::Error;
use proptest::prelude::*;

/// Line sizes AArch64 can report, 4 bytes to 128 KiB.
fn line() -> impl Strategy<Value = usize> {
    (2u32..=17).prop_map(|shift| 1usize << shift)
}

/// Start addresses: anywhere, near zero, near the top, and line-aligned.
fn start() -> impl Strategy<Value = usize> {
    prop_oneof![
        any::<usize>(),
        0usize..4096,
        (0usize..4096).prop_map(|d| usize::MAX - d),
        (any::<usize>(), 2u32..=12).prop_map(|(a, s)| a & !((1usize << s) - 1)),
    ]
}

/// Lengths small enough for the byte-by-byte model.
fn small_len() -> impl Strategy<Value = usize> {
    prop_oneof![Just(0usize), Just(1usize), 0usize..=64, 0usize..=2048]
}

/// The implementation's answer in the model's terms: `None` for an error.
fn lines_of(start: usize, len: usize, line: usize) -> Option<Vec<usize>> {
    match CodeRange::new(start, len) {
        Ok(None) => Some(Vec::new()),
        Ok(Some(r)) => Some(r.lines(line).collect()),
        Err(Error::RangeWraps { ptr, len: l }) => {
            assert_eq!((ptr, l), (start, len), "error reports its input");
            None
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

/// 10,000 cases per property; a few under Miri, which is ~10^4 times slower
/// and cannot read the regression file (no file system in isolation).
fn config() -> ProptestConfig {
    cases(40, 10_000)
}

/// `miri` cases under Miri (without the regression file, which it cannot
/// read in isolation), else `native`.
fn cases(miri: u32, native: u32) -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig {
            cases: miri,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    } else {
        ProptestConfig::with_cases(native)
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every touched line exactly once, in order, or a wrap error exactly
    /// when the model says the range does not fit.
    #[test]
    fn lines_match_model(start in start(), len in small_len(), line in line()) {
        let got = lines_of(start, len, line);
        if naive::fits(start, len) {
            prop_assert_eq!(got, Some(naive::lines(start, len, line)));
        } else {
            prop_assert_eq!(got, None);
        }
    }

    /// Ranges that end exactly at the top of the address space.
    #[test]
    fn ranges_ending_at_the_top(len in 1usize..=4096, line in line()) {
        let start = usize::MAX - (len - 1);
        let got = lines_of(start, len, line).expect("fits exactly");
        prop_assert_eq!(got.last().copied(), Some(usize::MAX & !(line - 1)));
        prop_assert_eq!(got, naive::lines(start, len, line));
        // One byte more wraps.
        prop_assert_eq!(lines_of(start, len + 1, line), None);
    }

    /// One-byte and two-byte ranges around a line boundary.
    #[test]
    fn straddling_a_boundary(boundary in any::<usize>(), line in line(), before in 0usize..2, len in 1usize..=2) {
        let b = boundary & !(line - 1);
        let start = b.wrapping_sub(before);
        if naive::fits(start, len) {
            prop_assert_eq!(lines_of(start, len, line), Some(naive::lines(start, len, line)));
        }
    }

    /// Huge ranges: the count, first and last line agree with 128-bit math,
    /// and the iterator's length is exact (without walking it).
    #[test]
    fn huge_ranges_count(start in start(), len in any::<usize>(), line in line()) {
        match CodeRange::new(start, len) {
            Ok(None) => prop_assert_eq!(len, 0),
            Ok(Some(r)) => {
                prop_assert!(naive::fits(start, len));
                let lines = r.lines(line);
                prop_assert_eq!(lines.len() as u128, naive::count(start, len, line));
                let mut lines = lines;
                prop_assert_eq!(lines.next(), Some(start & !(line - 1)));
                prop_assert_eq!(r.last(), start + (len - 1));
                prop_assert_eq!(r.start(), start);
            }
            Err(_) => prop_assert!(!naive::fits(start, len)),
        }
    }
}

/// The batch plan of `clear_cache_ranges` (every public range-taking
/// function goes through `CodeRange::new`, and the batch also through
/// `checked_ranges` and `each_line_once_in_a_row`): 100,000 cases natively,
/// 10,000 under QEMU, a few hundred under Miri.
fn batch_config() -> ProptestConfig {
    cases(200, native_batch_cases())
}

/// 100,000 natively; under QEMU (every other architecture here), ~30x
/// slower, 10,000: the logic is the same on every architecture.
fn native_batch_cases() -> u32 {
    if cfg!(target_arch = "x86_64") {
        100_000
    } else {
        10_000
    }
}

/// A batch's answer in the model's terms: `None` for an error.
fn batch_lines_of(ranges: &[(usize, usize)], line: usize) -> Option<Vec<usize>> {
    let raw: Vec<(*const core::ffi::c_void, usize)> = ranges
        .iter()
        .map(|&(s, l)| (core::ptr::without_provenance(s), l))
        .collect();
    match crate::range::checked_ranges(&raw) {
        Ok(checked) => {
            let mut got = Vec::new();
            crate::range::each_line_once_in_a_row(checked, line, |ls| got.extend(ls));
            Some(got)
        }
        Err(Error::RangeWraps { ptr, len }) => {
            // The error names the first range that wraps.
            let first = ranges.iter().find(|&&(s, l)| !naive::fits(s, l));
            assert_eq!(first, Some(&(ptr, len)));
            None
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

/// Ranges near each other (so that lines are shared), anywhere, at the top,
/// null and empty.
fn batch() -> impl Strategy<Value = Vec<(usize, usize)>> {
    let near = (0usize..1024, 0usize..=128).prop_map(|(o, l)| (0x1_0000 + o, l));
    let anywhere = (start(), 0usize..=128);
    let top = (0usize..256, 0usize..=300).prop_map(|(d, l)| (usize::MAX - d, l));
    // `usize::MAX` bytes from 2 or above never fit (the model would
    // otherwise walk them byte by byte).
    let max_len = (2usize..=usize::MAX).prop_map(|s| (s, usize::MAX));
    prop::collection::vec(
        prop_oneof![8 => near, 2 => anywhere, 2 => top, 1 => max_len, 1 => Just((0, 0))],
        0..6,
    )
}

/// A geometry AArch64 can report: both line sizes, IDC and DIC.
fn geometry() -> impl Strategy<Value = crate::CacheGeometry> {
    (line(), line(), any::<bool>(), any::<bool>()).prop_map(|(d, i, idc, dic)| {
        crate::CacheGeometry::new(d, i, idc, dic).expect("powers of two")
    })
}

/// A plan's operations, recorded: `None` for a wrap error.
fn recorded(plan: impl FnOnce(&mut dyn FnMut(Op)) -> Result<(), Error>) -> Option<Vec<Op>> {
    let mut ops = Vec::new();
    match plan(&mut |op| ops.push(op)) {
        Ok(()) => Some(ops),
        Err(Error::RangeWraps { .. }) => {
            assert!(ops.is_empty(), "nothing before the error");
            None
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

proptest! {
    #![proptest_config(batch_config())]

    /// Exactly the model's lines (consecutive repeats once), or the wrap
    /// error for the first range that does not fit, before anything.
    #[test]
    fn batch_lines_match_model(ranges in batch(), line in line()) {
        prop_assert_eq!(batch_lines_of(&ranges, line), naive::batch_lines(&ranges, line));
    }
}

/// The sequence properties: as [`batch_config`], but 40 cases under Miri
/// (the batch's lines are already checked there at 200).
fn sequence_config() -> ProptestConfig {
    cases(40, native_batch_cases())
}

proptest! {
    #![proptest_config(sequence_config())]

    /// The whole executed sequence of `clear_cache_ranges` on AArch64 (the
    /// plan the backend runs), operation by operation with its address,
    /// for any geometry: a reordering, a missing barrier or a repeated line
    /// fails.
    #[test]
    fn batch_sequence_matches_model(ranges in batch(), g in geometry()) {
        let raw: Vec<(*const core::ffi::c_void, usize)> = ranges
            .iter()
            .map(|&(s, l)| (core::ptr::without_provenance(s), l))
            .collect();
        let got = recorded(|f| crate::plan::plan_batch(&g, &raw, f));
        prop_assert_eq!(got, naive::batch_ops(&ranges, g.d_line(), g.i_line(), g.idc(), g.dic()));
    }

    /// The same for `clear_cache_dual` (and so `clear_cache`, which is the
    /// dual plan of one range with itself).
    #[test]
    fn dual_sequence_matches_model(w in start(), x in start(), len in small_len(), g in geometry()) {
        let got = recorded(|f| crate::plan::plan_dual(&g, w, x, len, f));
        prop_assert_eq!(got, naive::dual_ops(w, x, len, g.d_line(), g.i_line(), g.idc(), g.dic()));
        let single = recorded(|f| crate::plan::plan_dual(&g, w, w, len, f));
        prop_assert_eq!(single, naive::batch_ops(&[(w, len)], g.d_line(), g.i_line(), g.idc(), g.dic()));
    }
}

#[test]
fn batch_examples() {
    // [0,100) [64,200) [200,300) on 64-byte lines: 0 64 | (64) 128 192 | (192) 256.
    let r = [(0x1000, 100), (0x1040, 136), (0x10c8, 100)];
    assert_eq!(
        batch_lines_of(&r, 64),
        Some(vec![0x1000, 0x1040, 0x1080, 0x10c0, 0x1100])
    );
    // Not consecutive: maintained again.
    let r = [(0x1000, 1), (0x2000, 1), (0x1000, 1)];
    assert_eq!(batch_lines_of(&r, 64), Some(vec![0x1000, 0x2000, 0x1000]));
    assert_eq!(batch_lines_of(&[], 64), Some(vec![]));
    assert_eq!(batch_lines_of(&[(0x1000, 8), (usize::MAX, 2)], 64), None);
}

#[test]
fn zero_length_is_empty_even_at_null_and_top() {
    for start in [0, 1, 63, 64, usize::MAX] {
        assert_eq!(lines_of(start, 0, 64), Some(Vec::new()));
    }
}

#[test]
fn whole_address_space_wraps() {
    assert_eq!(lines_of(2, usize::MAX, 64), None);
    assert_eq!(lines_of(usize::MAX, 2, 64), None);
    assert_eq!(lines_of(usize::MAX, usize::MAX, 64), None);
    // From 1, `usize::MAX` bytes end exactly at the top: valid, and the
    // line count does not overflow.
    let r = CodeRange::new(1, usize::MAX).unwrap().unwrap();
    assert_eq!(r.last(), usize::MAX);
    assert_eq!(r.lines(1 << 17).len(), 1usize << (usize::BITS - 17));
    let r = CodeRange::new(0, usize::MAX).unwrap().unwrap();
    assert_eq!(r.lines(4).len(), 1usize << (usize::BITS - 2));
}

#[test]
fn aligned_4k_is_64_lines_of_64() {
    let r = CodeRange::new(0x10000, 4096).unwrap().unwrap();
    let lines: Vec<usize> = r.lines(64).collect();
    assert_eq!(lines.len(), 64);
    assert_eq!(lines[0], 0x10000);
    assert_eq!(lines[63], 0x10000 + 63 * 64);
}
