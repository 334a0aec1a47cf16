//! The reference model: obviously right, one line per function, slow.

/// Whether `[start, start + len)` fits below `usize::MAX + 1`.
pub(crate) fn fits(start: usize, len: usize) -> bool {
    start as u128 + len as u128 <= 1u128 << usize::BITS
}

/// The start of every `line`-byte line touched, found by visiting every byte.
pub(crate) fn lines(start: usize, len: usize, line: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..len).map(|i| (start + i) & !(line - 1)).collect();
    all.dedup();
    all
}

/// How many lines `[start, start + len)` touches, in 128-bit arithmetic.
pub(crate) fn count(start: usize, len: usize, line: usize) -> u128 {
    let (s, l, n) = (start as u128, line as u128, len as u128);
    if n == 0 {
        0
    } else {
        (s + n - 1) / l - s / l + 1
    }
}

/// A batch's lines: every range's lines, in order, a line repeated
/// immediately only once; `None` if any range does not fit.
pub(crate) fn batch_lines(ranges: &[(usize, usize)], line: usize) -> Option<Vec<usize>> {
    let mut all: Vec<usize> = Vec::new();
    for &(s, l) in ranges {
        if !fits(s, l) {
            return None;
        }
        all.extend(lines(s, l, line));
    }
    all.dedup();
    Some(all)
}
