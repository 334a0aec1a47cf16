//! The maintenance plan: which operation, on which line, in which order.
//!
//! One generic description of the AArch64 sequence (`DC CVAU` per data
//! line, `DSB ISH`, `IC IVAU` per instruction line, `DSB ISH`, `ISB`, the
//! skips for `CTR_EL0.IDC`/`DIC` and for lines repeated across a batch's
//! ranges). The aarch64 backend executes it with a sink whose methods are
//! the instructions (`arch/aarch64`), so the order, the skips and the
//! ranges' lines that the tests and fuzz targets record (with [`Recorder`])
//! are decided by the code that runs. One part differs: the recorder walks
//! each range's lines with the default [`Sink::dc_lines`] (the `Lines`
//! iterator), while the aarch64 sink walks them in one unrolled `asm!` loop
//! from `Lines::parts`; that loop is checked address by address under QEMU
//! (`.ci/qemu-counts.py`).

use crate::geometry::CacheGeometry;
use crate::range::{CodeRange, Lines};

/// Where a plan's operations go: the instructions themselves, or a
/// recorder.
pub(crate) trait Sink {
    /// `DC CVAU` on the data-cache line starting at `line`.
    ///
    /// # Safety
    /// `line` shares a byte with a range the plan's caller guarantees is
    /// mapped and readable.
    unsafe fn dc(&mut self, line: usize);
    /// `IC IVAU` on the instruction-cache line starting at `line`.
    ///
    /// # Safety
    /// As [`Sink::dc`].
    unsafe fn ic(&mut self, line: usize);
    /// `DC CVAU` on each of `lines`, in order. The aarch64 sink runs it as
    /// one unrolled loop.
    ///
    /// # Safety
    /// As [`Sink::dc`], for every line.
    #[inline(always)]
    unsafe fn dc_lines(&mut self, lines: Lines) {
        for line in lines {
            // SAFETY: forwarded.
            unsafe { self.dc(line) }
        }
    }
    /// `IC IVAU` on each of `lines`, in order.
    ///
    /// # Safety
    /// As [`Sink::dc`], for every line.
    #[inline(always)]
    unsafe fn ic_lines(&mut self, lines: Lines) {
        for line in lines {
            // SAFETY: forwarded.
            unsafe { self.ic(line) }
        }
    }
    /// `DSB ISH`.
    fn dsb(&mut self);
    /// `ISB`.
    fn isb(&mut self);
}

/// The plan for a dual mapping: clean the data-cache lines of `written`
/// (the alias the code was stored through), invalidate the
/// instruction-cache lines of `executed` (the alias it will run from).
/// A single range is `dual(g, r, r)`.
///
/// # Safety
/// Every byte of both ranges is mapped and readable (only relevant to
/// sinks that execute).
#[inline(always)]
pub(crate) unsafe fn dual<S: Sink>(
    s: &mut S,
    g: &CacheGeometry,
    written: CodeRange,
    executed: CodeRange,
) {
    let d_lines = written.lines(g.d_line());
    if !g.idc() {
        // SAFETY: every line shares a byte with `written`, which the caller
        // guarantees is mapped and readable.
        unsafe { s.dc_lines(d_lines.clone()) };
    }
    s.dsb();
    if !g.dic() {
        // One range (`clear_cache`: the same value, so the test folds away)
        // with equal line sizes, as on most cores: the instruction lines are
        // the data lines, not computed again.
        // (Two calls, not a select of the lines: a select would compute
        // both.)
        if written == executed && g.same_line_sizes() {
            // SAFETY: as above, for `executed` (here `written`).
            unsafe { s.ic_lines(d_lines) };
        } else {
            // SAFETY: as above, for `executed`.
            unsafe { s.ic_lines(executed.lines(g.i_line())) };
        }
        s.dsb();
    }
    s.isb();
}

/// The plan for several ranges at once: the `DC` loops of every range, one
/// `DSB`, the `IC` loops of every range, one `DSB`, one `ISB`. A line shared
/// by consecutive ranges is not cleaned or invalidated twice in a row.
/// Nothing at all for no ranges.
///
/// # Safety
/// Every byte of every range is mapped and readable.
#[inline(always)]
pub(crate) unsafe fn batch<S: Sink>(
    s: &mut S,
    g: &CacheGeometry,
    ranges: impl Iterator<Item = CodeRange> + Clone,
) {
    if ranges.clone().next().is_none() {
        return;
    }
    if !g.idc() {
        crate::range::each_line_once_in_a_row(ranges.clone(), g.d_line(), |lines| {
            // SAFETY: lines of a range the caller guarantees readable.
            unsafe { s.dc_lines(lines) }
        });
    }
    s.dsb();
    if !g.dic() {
        crate::range::each_line_once_in_a_row(ranges, g.i_line(), |lines| {
            // SAFETY: as above.
            unsafe { s.ic_lines(lines) }
        });
        s.dsb();
    }
    s.isb();
}

/// One operation of a plan, as a recorder saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `DC CVAU` on the data-cache line at this address.
    Dc(usize),
    /// `IC IVAU` on the instruction-cache line at this address.
    Ic(usize),
    /// `DSB ISH`.
    Dsb,
    /// `ISB`.
    Isb,
}

/// A sink that executes nothing: it calls `f` with each operation, in
/// order. For tests, fuzzing and the probe's listings.
pub struct Recorder<F: FnMut(Op)>(pub F);

impl<F: FnMut(Op)> Sink for Recorder<F> {
    unsafe fn dc(&mut self, line: usize) {
        (self.0)(Op::Dc(line))
    }
    unsafe fn ic(&mut self, line: usize) {
        (self.0)(Op::Ic(line))
    }
    fn dsb(&mut self) {
        (self.0)(Op::Dsb)
    }
    fn isb(&mut self) {
        (self.0)(Op::Isb)
    }
}

/// The operations `clear_cache_dual(written, executed, len)` performs on an
/// AArch64 machine of geometry `g`, in order, each passed to `f`; nothing
/// is executed or touched. The same range checks as the public function:
/// [`crate::Error::RangeWraps`] for a range that wraps, nothing for
/// `len == 0`.
pub fn plan_dual(
    g: &CacheGeometry,
    written: usize,
    executed: usize,
    len: usize,
    f: impl FnMut(Op),
) -> Result<(), crate::Error> {
    let (w, x) = (
        CodeRange::new(written, len)?,
        CodeRange::new(executed, len)?,
    );
    if let (Some(w), Some(x)) = (w, x) {
        // SAFETY: a recorder dereferences nothing.
        unsafe { dual(&mut Recorder(f), g, w, x) };
    }
    Ok(())
}

/// The operations `clear_cache_ranges(ranges)` performs on an AArch64
/// machine of geometry `g`, in order, each passed to `f`; nothing is
/// executed or touched. The same checks as the public function: every
/// range is checked before any operation, the first that wraps is the
/// error.
pub fn plan_batch(
    g: &CacheGeometry,
    ranges: &[(*const core::ffi::c_void, usize)],
    f: impl FnMut(Op),
) -> Result<(), crate::Error> {
    let ranges = crate::range::checked_ranges(ranges)?;
    // SAFETY: a recorder dereferences nothing.
    unsafe { batch(&mut Recorder(f), g, ranges) };
    Ok(())
}
