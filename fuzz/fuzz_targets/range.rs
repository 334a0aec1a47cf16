//! `clear_cache(ptr, len)`: the dual plan of one range with itself.
#![no_main]

use arbitrary::Arbitrary;
use icache_coherence::__private::{plan_dual, Op};
use libfuzzer_sys::fuzz_target;

#[path = "../../src/tests/lines/naive.rs"]
#[allow(dead_code)]
mod naive;
mod common;

#[derive(Debug, Arbitrary)]
struct Input {
    start: usize,
    len: u16,
    max_len: bool,
    g: common::Geometry,
}

fuzz_target!(|i: Input| {
    let len = common::len(i.len, i.max_len);
    if !common::walkable(i.start, len) {
        return;
    }
    let got = common::recorded(|f| plan_dual(&i.g.get(), i.start, i.start, len, f));
    let want = naive::batch_ops(&[(i.start, len)], i.g.d_line(), i.g.i_line(), i.g.idc, i.g.dic);
    assert_eq!(got, want);
});
