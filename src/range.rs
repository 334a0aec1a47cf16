//! Pure, overflow-safe range arithmetic: which cache lines a byte range
//! touches. No instruction is issued here; the backends feed these addresses
//! to their maintenance instructions one by one.

use crate::Error;

/// A non-empty byte range `[start, last]` that fits in the address space.
///
/// It is stored by its *last* byte, not its end, so a range that ends at the
/// very top of the address space (`start + len == usize::MAX + 1`) needs no
/// special case and nothing can wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodeRange {
    start: usize,
    last: usize,
}

// Which methods a target uses depends on its backend; all are tested on all.
#[allow(dead_code)]
impl CodeRange {
    /// Validates `[start, start + len)`.
    ///
    /// `Ok(None)` for `len == 0` (nothing to maintain, whatever `start` is),
    /// `Err(RangeWraps)` if the range does not fit below `usize::MAX + 1`.
    #[inline]
    pub(crate) const fn new(start: usize, len: usize) -> Result<Option<CodeRange>, Error> {
        if len == 0 {
            return Ok(None);
        }
        match start.checked_add(len - 1) {
            Some(last) => Ok(Some(CodeRange { start, last })),
            None => Err(Error::RangeWraps { ptr: start, len }),
        }
    }

    /// The first byte.
    #[inline]
    pub(crate) const fn start(&self) -> usize {
        self.start
    }

    /// The last byte (inclusive).
    #[inline]
    pub(crate) const fn last(&self) -> usize {
        self.last
    }

    /// The number of bytes: the `len` it was made from (so it never
    /// overflows).
    #[inline]
    pub(crate) const fn len(&self) -> usize {
        self.last - self.start + 1
    }

    /// The exclusive end, `start + len`, for system calls that take one; for
    /// a range ending at the top of the address space, where the end is not
    /// representable, `usize::MAX` (which still lies past every byte but the
    /// last, and in the same cache line as it).
    #[inline]
    pub(crate) const fn end_saturating(&self) -> usize {
        self.last.saturating_add(1)
    }

    /// The start address of every `line`-byte line the range touches, in
    /// ascending order, each exactly once. `line` must be a power of two.
    #[inline]
    pub(crate) const fn lines(&self, line: usize) -> Lines {
        debug_assert!(line.is_power_of_two());
        let first = self.start & !(line - 1);
        // `first` is aligned, so `(last - first) / line` is the number of
        // whole lines after the first: the same as `(last & mask) - first`
        // divided by `line`, one instruction less.
        let count = (self.last - first) / line + 1;
        Lines {
            next: first,
            remaining: count,
            line,
        }
    }
}

/// The line addresses of a [`CodeRange`]: see [`CodeRange::lines`].
///
/// The last address yielded is at most `usize::MAX - line + 1`; stepping past
/// it may wrap `next`, but `remaining` is zero by then, so it is never yielded.
#[derive(Debug, Clone)]
#[cfg_attr(not(all(target_arch = "aarch64", not(miri))), allow(dead_code))]
pub(crate) struct Lines {
    next: usize,
    remaining: usize,
    line: usize,
}

impl Lines {
    /// `(first line, how many lines, line size)`: the loop the aarch64
    /// backend runs in assembly. `count` is zero only once iterated out.
    #[inline(always)]
    #[cfg_attr(not(all(target_arch = "aarch64", not(miri))), allow(dead_code))]
    pub(crate) const fn parts(&self) -> (usize, usize, usize) {
        (self.next, self.remaining, self.line)
    }
}

impl Iterator for Lines {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        let addr = self.next;
        self.remaining -= 1;
        self.next = addr.wrapping_add(self.line);
        Some(addr)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Lines {}
impl core::iter::FusedIterator for Lines {}

/// The non-empty ranges of a slice every range of which was checked to fit
/// in the address space: see [`checked_ranges`].
#[derive(Debug, Clone)]
pub(crate) struct CheckedRanges<'a>(core::slice::Iter<'a, (*const core::ffi::c_void, usize)>);

/// Checks every `(ptr, len)` of `ranges` before anything is done with any
/// of them: the first that wraps is the error. Zero-length ranges are
/// skipped by the iterator.
pub(crate) fn checked_ranges(
    ranges: &[(*const core::ffi::c_void, usize)],
) -> Result<CheckedRanges<'_>, Error> {
    for &(ptr, len) in ranges {
        CodeRange::new(ptr as usize, len)?;
    }
    Ok(CheckedRanges(ranges.iter()))
}

impl Iterator for CheckedRanges<'_> {
    type Item = CodeRange;

    #[inline]
    fn next(&mut self) -> Option<CodeRange> {
        for &(ptr, len) in self.0.by_ref() {
            if len != 0 {
                // `checked_ranges` checked that no range wraps: the add
                // does not overflow (no second check on every pass).
                return Some(CodeRange {
                    start: ptr as usize,
                    last: (ptr as usize).wrapping_add(len - 1),
                });
            }
        }
        None
    }
}

/// Calls `f` with the `line`-byte lines of every range, in order, except a
/// range's first line when it is the previous range's last: within a range
/// lines strictly increase, so that boundary is the only place a line can
/// repeat immediately. (The batch's plan: `DC` or `IC` on each line of each
/// [`Lines`] `f` receives; a range whose only line was the previous one's
/// last gives an empty [`Lines`].)
#[inline(always)]
pub(crate) fn each_line_once_in_a_row(
    ranges: impl Iterator<Item = CodeRange>,
    line: usize,
    mut f: impl FnMut(Lines),
) {
    let mask = !(line - 1);
    // No line starts at `usize::MAX` (lines are at least 4 bytes, aligned):
    // "no previous range".
    let mut previous_last = usize::MAX;
    for r in ranges {
        let first = r.start() & mask;
        // Lines after the first (see `CodeRange::lines`).
        let rest = (r.last() - first) / line;
        let lines = if previous_last == first {
            // The first line was the previous range's last: start one line
            // later (possibly with none left; `next` is then never used).
            Lines {
                next: first.wrapping_add(line),
                remaining: rest,
                line,
            }
        } else {
            Lines {
                next: first,
                remaining: rest + 1,
                line,
            }
        };
        previous_last = r.last() & mask;
        f(lines);
    }
}
