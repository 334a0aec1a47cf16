//! The reference model: obviously right, a few lines per function, slow.
//! (Also compiled into the fuzz targets, `fuzz/`, which define `Op`.)

use super::Op;

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

/// The whole AArch64 sequence for a batch, in order: `DC` per data line
/// (none if IDC), `DSB`, `IC` per instruction line and `DSB` (none if DIC),
/// `ISB`; nothing for a batch without bytes; `None` if a range does not fit.
pub(crate) fn batch_ops(
    r: &[(usize, usize)],
    d: usize,
    i: usize,
    idc: bool,
    dic: bool,
) -> Option<Vec<Op>> {
    let (dc, ic) = (batch_lines(r, d)?, batch_lines(r, i)?);
    if r.iter().all(|&(_, len)| len == 0) {
        return Some(Vec::new());
    }
    let mut ops: Vec<Op> = if idc {
        Vec::new()
    } else {
        dc.into_iter().map(Op::Dc).collect()
    };
    ops.push(Op::Dsb);
    if !dic {
        ops.extend(ic.into_iter().map(Op::Ic));
        ops.push(Op::Dsb);
    }
    ops.push(Op::Isb);
    Some(ops)
}

/// A dual mapping's sequence: `DC` on the lines of `written`, `IC` on the
/// lines of `executed`, otherwise as [`batch_ops`] of one range.
pub(crate) fn dual_ops(
    w: usize,
    x: usize,
    len: usize,
    d: usize,
    i: usize,
    idc: bool,
    dic: bool,
) -> Option<Vec<Op>> {
    let on_w = batch_ops(&[(w, len)], d, i, idc, dic)?;
    let on_x = batch_ops(&[(x, len)], d, i, idc, dic)?;
    // DCs from the written alias, everything from the first DSB on from the
    // executed alias.
    let split = |ops: &Vec<Op>| ops.iter().position(|&o| o == Op::Dsb).unwrap_or(ops.len());
    Some(
        on_w[..split(&on_w)]
            .iter()
            .chain(&on_x[split(&on_x)..])
            .copied()
            .collect(),
    )
}
