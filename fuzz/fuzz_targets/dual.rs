//! `clear_cache_dual(written, executed, len)`: DC on the written alias's
//! lines, IC on the executed alias's lines.
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
    written: usize,
    executed: usize,
    len: u16,
    max_len: bool,
    g: common::Geometry,
}

fuzz_target!(|i: Input| {
    let len = common::len(i.len, i.max_len);
    if !common::walkable(i.written, len) || !common::walkable(i.executed, len) {
        return;
    }
    let got = common::recorded(|f| plan_dual(&i.g.get(), i.written, i.executed, len, f));
    let (d, il) = (i.g.d_line(), i.g.i_line());
    let want = naive::dual_ops(i.written, i.executed, len, d, il, i.g.idc, i.g.dic);
    assert_eq!(got, want);
});
