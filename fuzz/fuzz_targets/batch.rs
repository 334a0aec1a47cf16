//! `clear_cache_ranges(ranges)`: every range checked first, one DC pass,
//! one DSB, one IC pass, one DSB, one ISB; a line repeated at a boundary
//! between consecutive ranges maintained once.
#![no_main]

use arbitrary::Arbitrary;
use icache_coherence::__private::{plan_batch, Op};
use libfuzzer_sys::fuzz_target;

#[path = "../../src/tests/lines/naive.rs"]
#[allow(dead_code)]
mod naive;
mod common;

#[derive(Debug, Arbitrary)]
struct Range {
    start: usize,
    len: u16,
    max_len: bool,
    /// Start right after the previous range's end (minus `near` bytes), so
    /// that consecutive ranges share lines.
    near: Option<u8>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    ranges: Vec<Range>,
    g: common::Geometry,
}

fuzz_target!(|i: Input| {
    let mut ranges = Vec::new();
    let mut end = 0usize;
    for r in i.ranges.iter().take(16) {
        let len = common::len(r.len, r.max_len);
        let start = match r.near {
            Some(back) => end.wrapping_sub(back as usize),
            None => r.start,
        };
        if !common::walkable(start, len) {
            return;
        }
        end = start.wrapping_add(len);
        ranges.push((start, len));
    }
    let raw: Vec<(*const core::ffi::c_void, usize)> = ranges
        .iter()
        .map(|&(s, l)| (core::ptr::without_provenance(s), l))
        .collect();
    let got = common::recorded(|f| plan_batch(&i.g.get(), &raw, f));
    let want = naive::batch_ops(&ranges, i.g.d_line(), i.g.i_line(), i.g.idc, i.g.dic);
    assert_eq!(got, want);
});
