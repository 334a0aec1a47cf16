//! What the three targets share: the fuzzed geometry and the recorder.

use arbitrary::Arbitrary;
use icache_coherence::__private::Op;
use icache_coherence::{CacheGeometry, Error};

/// Any geometry AArch64 can report: lines of 4 B to 128 KiB, IDC, DIC.
#[derive(Debug, Arbitrary)]
pub struct Geometry {
    d_shift: u8,
    i_shift: u8,
    pub idc: bool,
    pub dic: bool,
}

impl Geometry {
    pub fn d_line(&self) -> usize {
        1 << (2 + self.d_shift % 16)
    }
    pub fn i_line(&self) -> usize {
        1 << (2 + self.i_shift % 16)
    }
    pub fn get(&self) -> CacheGeometry {
        CacheGeometry::new(self.d_line(), self.i_line(), self.idc, self.dic).unwrap()
    }
}

/// The ops a plan passed to its sink; `None` for the wrap error, which must
/// come before any op.
pub fn recorded(plan: impl FnOnce(&mut dyn FnMut(Op)) -> Result<(), Error>) -> Option<Vec<Op>> {
    let mut ops = Vec::new();
    match plan(&mut |op| ops.push(op)) {
        Ok(()) => Some(ops),
        Err(Error::RangeWraps { .. }) => {
            assert!(ops.is_empty(), "an op before the wrap error");
            None
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

/// Lengths the byte-by-byte model can walk: a fuzzed `u16`, or, to cover
/// the wrap checks, `usize::MAX` (which fits only from address 0 or 1:
/// those are left to the proptest's 128-bit counts).
pub fn len(small: u16, max: bool) -> usize {
    if max {
        usize::MAX
    } else {
        small as usize
    }
}

/// Whether the model can afford this range (the wrap error is cheap).
pub fn walkable(start: usize, len: usize) -> bool {
    len <= u16::MAX as usize || start as u128 + len as u128 > 1u128 << usize::BITS
}
