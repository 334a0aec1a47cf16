// Reviewed listing of the hot paths on aarch64, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    stp x29, x30, [sp, #-32]!           // frame: save fp/lr (the cold init call below)
    stp x20, x19, [sp, #16]             // callee-saved: ptr and last live across init
    mov x29, sp                         // frame pointer
    cbz x1, <+0x180>                    // len == 0: nothing to do (Ok)
    sub x8, x1, #0x1                    // len - 1
    mov x19, x0                         // keep ptr (range start) across init
    adds x20, x8, x0                    // last = ptr + (len - 1); carry: the range wraps
    b.cs <+0x190>                       // -> Err(RangeWraps), before any maintenance
    adrp x8, PAGE                       // GOT page of arch::aarch64::CTR_EL0
    ldr x8, [x8, #LO12]                 // &CTR_EL0: the geometry cache (an AtomicUsize)
    ldr x0, [x8]                        // relaxed load of the cached CTR_EL0 (0 = not read yet)
    cbz x0, <+0x1a0>                    // not read yet -> read it out of line
    ubfx x10, x0, #16, #4               // DminLine field (CTR_EL0[19:16])
    mov w8, #0x4                        // 4 ... (line bytes = 4 << field)
    lsl x8, x8, x10                     // ... << field: the line size, the loop's step
    add x10, x10, #0x2                  // log2(line) = field + 2
    neg x9, x8                          // mask = -line = !(line - 1)
    and x9, x9, x19                     // first = start & mask: the first line (loop address)
    sub x11, x20, x9                    // last byte - first line
    lsr x10, x11, x10                   // ... >> log2(line): whole lines after the first
    add x10, x10, #0x1                  // count = that + 1 (>= 1)
    tbnz w0, #28, <+0xa8>               // CTR_EL0.IDC: skip the DC loop
    mov x11, x9                         // DC loop address = first line (x9 kept for the IC loop)
    mov x12, x10                        // DC loop count (x10 kept for the IC loop)
    tst x12, #0x3                       // count % 4 == 0?
    b.eq <+0x80>                        // yes: straight to the 4x loop
    dc cvau, x11                        // peel count % 4 lines one at a time: clean to PoU
    add x11, x11, x8                    // next D line
    sub x12, x12, #0x1                  // count -= 1
    tst x12, #0x3                       // count % 4 == 0?
    b.ne <+0x68>                        // no: peel another line
    cbz x12, <+0xa8>                    // nothing left after peeling -> DSB
    dc cvau, x11                        // 4x unrolled DC CVAU loop: line 1 of 4
    add x11, x11, x8                    // next D line
    dc cvau, x11                        // line 2 of 4
    add x11, x11, x8                    // next D line
    dc cvau, x11                        // line 3 of 4
    add x11, x11, x8                    // next D line
    dc cvau, x11                        // line 4 of 4
    add x11, x11, x8                    // next D line
    subs x12, x12, #0x4                 // count -= 4
    b.ne <+0x80>                        // more lines: loop
    dsb ish                             // DSB ISH (always): code stores and DC cleans complete
    tbnz w0, #29, <+0x17c>              // CTR_EL0.DIC: skip the IC loop and its DSB
    lsr x11, x0, #16                    // CTR_EL0 >> 16 ...
    eor w11, w11, w0                    // ... ^ CTR_EL0: DminLine ^ IminLine in bits 3:0
    tst x11, #0xf                       // equal line sizes?
    b.eq <+0x130>                       // equal: the IC loop walks the D lines (first x9, count x10)
    and x8, x0, #0xf                    // IminLine field (CTR_EL0[3:0])
    mov w9, #0x4                        // 4 ... (line bytes = 4 << field)
    lsl x9, x9, x8                      // ... << field: the line size, the loop's step
    add x8, x8, #0x2                    // log2(line) = field + 2
    neg x10, x9                         // mask = -line = !(line - 1)
    and x10, x10, x19                   // first = start & mask: the first line (loop address)
    sub x11, x20, x10                   // last byte - first line
    lsr x8, x11, x8                     // ... >> log2(line): whole lines after the first
    add x8, x8, #0x1                    // count = that + 1 (>= 1)
    tst x8, #0x3                        // count % 4 == 0?
    b.eq <+0x104>                       // yes: straight to the 4x loop
    ic ivau, x10                        // peel count % 4 lines one at a time: invalidate to PoU
    add x10, x10, x9                    // next I line
    sub x8, x8, #0x1                    // count -= 1
    tst x8, #0x3                        // count % 4 == 0?
    b.ne <+0xec>                        // no: peel another line
    cbz x8, <+0x12c>                    // nothing left after peeling -> DSB
    ic ivau, x10                        // 4x unrolled IC IVAU loop: line 1 of 4
    add x10, x10, x9                    // next I line
    ic ivau, x10                        // line 2 of 4
    add x10, x10, x9                    // next I line
    ic ivau, x10                        // line 3 of 4
    add x10, x10, x9                    // next I line
    ic ivau, x10                        // line 4 of 4
    add x10, x10, x9                    // next I line
    subs x8, x8, #0x4                   // count -= 4
    b.ne <+0x104>                       // more lines: loop
    b <+0x178>                          // -> DSB ISH
    tst x10, #0x3                       // count % 4 == 0?
    b.eq <+0x150>                       // yes: straight to the 4x loop
    ic ivau, x9                         // peel count % 4 lines one at a time: invalidate to PoU
    add x9, x9, x8                      // next I line
    sub x10, x10, #0x1                  // count -= 1
    tst x10, #0x3                       // count % 4 == 0?
    b.ne <+0x138>                       // no: peel another line
    cbz x10, <+0x178>                   // nothing left after peeling -> DSB
    ic ivau, x9                         // 4x unrolled IC IVAU loop: line 1 of 4
    add x9, x9, x8                      // next I line
    ic ivau, x9                         // line 2 of 4
    add x9, x9, x8                      // next I line
    ic ivau, x9                         // line 3 of 4
    add x9, x9, x8                      // next I line
    ic ivau, x9                         // line 4 of 4
    add x9, x9, x8                      // next I line
    subs x10, x10, #0x4                 // count -= 4
    b.ne <+0x150>                       // more lines: loop
    dsb ish                             // DSB ISH: the IC invalidations complete
    isb                                 // discard this core's prefetched instructions
    mov w0, #0x1                        // return true (Ok)
    ldp x20, x19, [sp, #16]             // restore callee-saved registers
    ldp x29, x30, [sp], #32             // restore fp/lr, pop the frame
    ret                                 // return
    mov w0, wzr                         // return false (Err(RangeWraps))
    ldp x20, x19, [sp, #16]             // restore callee-saved registers
    ldp x29, x30, [sp], #32             // restore fp/lr, pop the frame
    ret                                 // return
    bl <_ZN16icache_coherence4arch7aarch6422read_and_cache_ctr_el0>  // cold first use: mrs CTR_EL0 (0 -> 0x80000000), cache it; x0 = value
    b <+0x30>                           // back to the IDC test with CTR_EL0 in x0
    bl <_RNvNtCs6Hz1PecaLG4_4core9panicking19panic_cannot_unwind>  // landing pad of the extern "C" wrapper; never reached

listing_clear_cache_dual:
    stp x29, x30, [sp, #-48]!           // frame: save fp/lr (the cold init call below)
    stp x22, x21, [sp, #16]             // callee-saved: both lasts live across init
    stp x20, x19, [sp, #32]             // callee-saved: both starts live across init
    mov x29, sp                         // frame pointer
    cbz x2, <+0x14c>                    // len == 0: nothing to do (Ok)
    sub x8, x2, #0x1                    // len - 1 (same for both aliases)
    mov x20, x0                         // keep the written alias's start
    adds x22, x8, x0                    // written last = written + (len - 1); carry: wraps
    b.cs <+0x1ac>                       // -> Err(RangeWraps), before any maintenance
    mov x19, x1                         // keep the executed alias's start
    adds x21, x8, x1                    // executed last = executed + (len - 1); carry: wraps
    b.cs <+0x1ac>                       // -> Err(RangeWraps), before any maintenance
    adrp x8, PAGE                       // GOT page of arch::aarch64::CTR_EL0
    ldr x8, [x8, #LO12]                 // &CTR_EL0: the geometry cache (an AtomicUsize)
    ldr x0, [x8]                        // relaxed load of the cached CTR_EL0 (0 = not read yet)
    cbz x0, <+0x1c0>                    // not read yet -> read it out of line
    ubfx x10, x0, #16, #4               // DminLine field (CTR_EL0[19:16])
    mov w8, #0x4                        // 4 ... (line bytes = 4 << field)
    lsl x8, x8, x10                     // ... << field: the line size, the loop's step
    add x10, x10, #0x2                  // log2(line) = field + 2
    neg x9, x8                          // mask = -line = !(line - 1)
    and x9, x9, x20                     // first = start & mask: the first line (loop address)
    sub x11, x22, x9                    // last byte - first line
    lsr x10, x11, x10                   // ... >> log2(line): whole lines after the first
    add x10, x10, #0x1                  // count = that + 1 (>= 1)
    tbnz w0, #28, <+0xb8>               // CTR_EL0.IDC: skip the DC loop
    mov x11, x9                         // DC loop address = first line (x9 kept for the IC loop)
    mov x12, x10                        // DC loop count (x10 kept for the IC loop)
    tst x12, #0x3                       // count % 4 == 0?
    b.eq <+0x90>                        // yes: straight to the 4x loop
    dc cvau, x11                        // peel count % 4 lines: clean the written alias
    add x11, x11, x8                    // next D line
    sub x12, x12, #0x1                  // count -= 1
    tst x12, #0x3                       // count % 4 == 0?
    b.ne <+0x78>                        // no: peel another line
    cbz x12, <+0xb8>                    // nothing left after peeling -> DSB
    dc cvau, x11                        // 4x unrolled DC CVAU loop (written alias): 1 of 4
    add x11, x11, x8                    // next D line
    dc cvau, x11                        // line 2 of 4
    add x11, x11, x8                    // next D line
    dc cvau, x11                        // line 3 of 4
    add x11, x11, x8                    // next D line
    dc cvau, x11                        // line 4 of 4
    add x11, x11, x8                    // next D line
    subs x12, x12, #0x4                 // count -= 4
    b.ne <+0x90>                        // more lines: loop
    dsb ish                             // DSB ISH (always): code stores and DC cleans complete
    tbnz w0, #29, <+0x148>              // CTR_EL0.DIC: skip the IC loop and its DSB
    cmp x20, x19                        // written == executed? (one range: the I lines may be the D lines)
    b.ne <+0xd8>                        // no: compute the executed alias's I lines
    lsr x11, x0, #16                    // CTR_EL0 >> 16 ...
    eor w11, w11, w0                    // ... ^ CTR_EL0: DminLine ^ IminLine in bits 3:0
    tst x11, #0xf                       // equal line sizes?
    b.eq <+0x160>                       // equal line sizes: the IC loop walks the D lines
    and x8, x0, #0xf                    // IminLine field (CTR_EL0[3:0])
    mov w9, #0x4                        // 4 ... (line bytes = 4 << field)
    lsl x9, x9, x8                      // ... << field: the line size, the loop's step
    add x8, x8, #0x2                    // log2(line) = field + 2
    neg x10, x9                         // mask = -line = !(line - 1)
    and x10, x10, x19                   // first = start & mask: the first line (loop address)
    sub x11, x21, x10                   // last byte - first line
    lsr x8, x11, x8                     // ... >> log2(line): whole lines after the first
    add x8, x8, #0x1                    // count = that + 1 (>= 1)
    tst x8, #0x3                        // count % 4 == 0?
    b.eq <+0x11c>                       // yes: straight to the 4x loop
    ic ivau, x10                        // peel count % 4 lines: invalidate the executed alias
    add x10, x10, x9                    // next I line
    sub x8, x8, #0x1                    // count -= 1
    tst x8, #0x3                        // count % 4 == 0?
    b.ne <+0x104>                       // no: peel another line
    cbz x8, <+0x144>                    // nothing left after peeling -> DSB
    ic ivau, x10                        // 4x unrolled IC IVAU loop (executed alias): 1 of 4
    add x10, x10, x9                    // next I line
    ic ivau, x10                        // line 2 of 4
    add x10, x10, x9                    // next I line
    ic ivau, x10                        // line 3 of 4
    add x10, x10, x9                    // next I line
    ic ivau, x10                        // line 4 of 4
    add x10, x10, x9                    // next I line
    subs x8, x8, #0x4                   // count -= 4
    b.ne <+0x11c>                       // more lines: loop
    dsb ish                             // DSB ISH: the IC invalidations complete
    isb                                 // discard this core's prefetched instructions
    mov w0, #0x1                        // return true (Ok)
    ldp x20, x19, [sp, #32]             // restore callee-saved registers
    ldp x22, x21, [sp, #16]             // restore callee-saved registers
    ldp x29, x30, [sp], #48             // restore fp/lr, pop the frame
    ret                                 // return
    tst x10, #0x3                       // count % 4 == 0?
    b.eq <+0x180>                       // yes: straight to the 4x loop
    ic ivau, x9                         // peel count % 4 lines one at a time: invalidate to PoU
    add x9, x9, x8                      // next I line
    sub x10, x10, #0x1                  // count -= 1
    tst x10, #0x3                       // count % 4 == 0?
    b.ne <+0x168>                       // no: peel another line
    cbz x10, <+0x1a8>                   // nothing left after peeling -> DSB
    ic ivau, x9                         // 4x unrolled IC IVAU loop: line 1 of 4
    add x9, x9, x8                      // next I line
    ic ivau, x9                         // line 2 of 4
    add x9, x9, x8                      // next I line
    ic ivau, x9                         // line 3 of 4
    add x9, x9, x8                      // next I line
    ic ivau, x9                         // line 4 of 4
    add x9, x9, x8                      // next I line
    subs x10, x10, #0x4                 // count -= 4
    b.ne <+0x180>                       // more lines: loop
    b <+0x144>                          // -> DSB ISH
    mov w0, wzr                         // return false (Err(RangeWraps))
    ldp x20, x19, [sp, #32]             // restore callee-saved registers
    ldp x22, x21, [sp, #16]             // restore callee-saved registers
    ldp x29, x30, [sp], #48             // restore fp/lr, pop the frame
    ret                                 // return
    bl <_ZN16icache_coherence4arch7aarch6422read_and_cache_ctr_el0>  // cold first use: mrs CTR_EL0 (0 -> 0x80000000), cache it; x0 = value
    b <+0x40>                           // back to the IDC test with CTR_EL0 in x0
    bl <_RNvNtCs6Hz1PecaLG4_4core9panicking19panic_cannot_unwind>  // landing pad of the extern "C" wrapper; never reached

listing_clear_cache_ranges:
    stp x29, x30, [sp, #-48]!           // frame: save fp/lr (the cold init call below)
    stp x22, x21, [sp, #16]             // callee-saved registers
    stp x20, x19, [sp, #32]             // callee-saved registers
    mov x29, sp                         // frame pointer
    lsl x22, x1, #4                     // n * 16: the slice's size in bytes
    mov x19, x0                         // keep the slice's address
    mov x8, x0                          // checked_ranges: cursor = &ranges[0]
    add x21, x0, x22                    // end of the slice (for the DC/IC passes)
    mov x9, x22                         // bytes left to check
    mov x20, x9                         // x20 = bytes left: nonzero on exit = a range wrapped
    cbz x9, <+0x54>                     // every range checked -> maintenance
    ldr x11, [x8, #8]                   // len of this range
    mov x10, x8                         // this pair's address
    add x8, x8, #0x10                   // cursor to the next pair
    sub x9, x20, #0x10                  // bytes left -= 16
    cbz x11, <+0x24>                    // len == 0: fine, next range
    ldr x10, [x10]                      // ptr of this range
    neg x11, x11                        // 2^64 - len
    cmp x11, x10                        // ptr + (len - 1) wraps iff ptr > 2^64 - len
    b.cs <+0x24>                        // no wrap: next range
    b <+0x1f0>                          // wraps: return false (Err(RangeWraps)), no maintenance
    adrp x8, PAGE                       // GOT page of arch::aarch64::CTR_EL0
    ldr x8, [x8, #LO12]                 // &CTR_EL0: the geometry cache (an AtomicUsize)
    ldr x0, [x8]                        // relaxed load of the cached CTR_EL0 (0 = not read yet)
    cbz x0, <+0x228>                    // not read yet -> read it out of line
    mov x8, x19                         // batch's is-empty scan: cursor = &ranges[0]
    cbz x22, <+0x1f0>                   // batch: no ranges -> Ok, no barrier
    ldr x9, [x8, #8]                    // len
    add x8, x8, #0x10                   // cursor to the next pair
    sub x22, x22, #0x10                 // bytes left -= 16
    cbz x9, <+0x68>                     // empty range: look at the next
    tbnz w0, #28, <+0x134>              // CTR_EL0.IDC: skip the DC pass
    ubfx x10, x0, #16, #4               // DminLine field (CTR_EL0[19:16])
    mov w8, #0x4                        // 4 ... (line bytes = 4 << field)
    mov x12, #0xffffffffffffffff        // previous_last = usize::MAX: no previous range yet
    mov x11, x19                        // DC pass cursor = &ranges[0]
    lsl x8, x8, x10                     // ... << field: the line size, the loop's step
    add x10, x10, #0x2                  // log2(line) = field + 2
    neg x9, x8                          // mask = -line = !(line - 1)
    mov x13, x11                        // cursor
    cmp x13, x21                        // end of the slice?
    b.eq <+0x134>                       // yes: DSB
    ldr x14, [x13, #8]                  // len
    add x11, x13, #0x10                 // cursor to the next pair
    mov x13, x11                        // cursor
    cbz x14, <+0xa0>                    // empty range: skip
    ldur x15, [x11, #-16]               // ptr
    add x13, x14, x15                   // ptr + len (checked not to wrap: no second check)
    and x14, x15, x9                    // first = ptr & mask: the first D line
    sub x13, x13, #0x1                  // len - 1
    cmp x12, x14                        // previous range's last line == this first line?
    sub x15, x13, x14                   // last byte - first line
    lsr x15, x15, x10                   // ... >> log2(line): whole lines after the first
    cinc x12, x15, ne                   // count: lines after the first, + 1 unless the first was the previous range's last
    cbz x12, <+0x12c>                   // no line left: next range
    csel x15, xzr, x8, ne               // 0 if kept, else one line (lines.next() skips it)
    add x14, x15, x14                   // loop address: first line, or the one after it
    tst x12, #0x3                       // count % 4 == 0?
    b.eq <+0x104>                       // yes: straight to the 4x loop
    dc cvau, x14                        // peel count % 4 lines one at a time: clean to PoU
    add x14, x14, x8                    // next D line
    sub x12, x12, #0x1                  // count -= 1
    tst x12, #0x3                       // count % 4 == 0?
    b.ne <+0xec>                        // no: peel another line
    cbz x12, <+0x12c>                   // no line left: next range
    dc cvau, x14                        // 4x unrolled DC CVAU loop: line 1 of 4
    add x14, x14, x8                    // next D line
    dc cvau, x14                        // line 2 of 4
    add x14, x14, x8                    // next D line
    dc cvau, x14                        // line 3 of 4
    add x14, x14, x8                    // next D line
    dc cvau, x14                        // line 4 of 4
    add x14, x14, x8                    // next D line
    subs x12, x12, #0x4                 // count -= 4
    b.ne <+0x104>                       // more lines: loop
    and x12, x13, x9                    // previous_last = last & mask
    b <+0x9c>                           // next range
    dsb ish                             // DSB ISH (always): code stores and DC cleans complete
    tbnz w0, #29, <+0x1ec>              // CTR_EL0.DIC: skip the IC pass and its DSB
    and x10, x0, #0xf                   // IminLine field (CTR_EL0[3:0])
    mov w8, #0x4                        // 4 ... (line bytes = 4 << field)
    mov x11, #0xffffffffffffffff        // previous_last = usize::MAX: no previous range yet
    lsl x8, x8, x10                     // ... << field: the line size, the loop's step
    add x10, x10, #0x2                  // log2(line) = field + 2
    neg x9, x8                          // mask = -line = !(line - 1)
    mov x12, x19                        // cursor
    cmp x12, x21                        // end of the slice?
    b.eq <+0x208>                       // yes: DSB, ISB
    ldr x13, [x12, #8]                  // len
    add x19, x12, #0x10                 // cursor to the next pair
    mov x12, x19                        // cursor
    cbz x13, <+0x158>                   // empty range: skip
    ldur x14, [x19, #-16]               // ptr
    add x12, x13, x14                   // ptr + len (checked not to wrap: no second check)
    and x13, x14, x9                    // first = ptr & mask: the first I line
    sub x12, x12, #0x1                  // len - 1
    cmp x11, x13                        // previous range's last line == this first line?
    sub x14, x12, x13                   // last byte - first line
    lsr x14, x14, x10                   // ... >> log2(line): whole lines after the first
    cinc x11, x14, ne                   // count: lines after the first, + 1 unless the first was the previous range's last
    cbz x11, <+0x1e4>                   // no line left: next range
    csel x14, xzr, x8, ne               // 0 if kept, else one line (lines.next() skips it)
    add x13, x14, x13                   // loop address: first line, or the one after it
    tst x11, #0x3                       // count % 4 == 0?
    b.eq <+0x1bc>                       // yes: straight to the 4x loop
    ic ivau, x13                        // peel count % 4 lines one at a time: invalidate to PoU
    add x13, x13, x8                    // next I line
    sub x11, x11, #0x1                  // count -= 1
    tst x11, #0x3                       // count % 4 == 0?
    b.ne <+0x1a4>                       // no: peel another line
    cbz x11, <+0x1e4>                   // no line left: next range
    ic ivau, x13                        // 4x unrolled IC IVAU loop: line 1 of 4
    add x13, x13, x8                    // next I line
    ic ivau, x13                        // line 2 of 4
    add x13, x13, x8                    // next I line
    ic ivau, x13                        // line 3 of 4
    add x13, x13, x8                    // next I line
    ic ivau, x13                        // line 4 of 4
    add x13, x13, x8                    // next I line
    subs x11, x11, #0x4                 // count -= 4
    b.ne <+0x1bc>                       // more lines: loop
    and x11, x12, x9                    // previous_last = last & mask
    b <+0x154>                          // next range
    isb                                 // the DIC path's ISB (no IC loop, one DSB before it)
    cmp x20, #0x0                       // x20 == 0: no range wrapped
    cset w0, eq                         // return true (Ok), or false (Err(RangeWraps))
    ldp x20, x19, [sp, #32]             // restore callee-saved registers
    ldp x22, x21, [sp, #16]             // restore callee-saved registers
    ldp x29, x30, [sp], #48             // restore fp/lr, pop the frame
    ret                                 // return
    dsb ish                             // DSB ISH: the IC invalidations complete
    isb                                 // discard this core's prefetched instructions
    cmp x20, #0x0                       // x20 == 0: no range wrapped
    cset w0, eq                         // return true (Ok), or false (Err(RangeWraps))
    ldp x20, x19, [sp, #32]             // restore callee-saved registers
    ldp x22, x21, [sp, #16]             // restore callee-saved registers
    ldp x29, x30, [sp], #48             // restore fp/lr, pop the frame
    ret                                 // return
    bl <_ZN16icache_coherence4arch7aarch6422read_and_cache_ctr_el0>  // cold first use: mrs CTR_EL0 (0 -> 0x80000000), cache it; x0 = value
    b <+0x64>                           // back to the batch with CTR_EL0 in x0
    bl <_RNvNtCs6Hz1PecaLG4_4core9panicking19panic_cannot_unwind>  // landing pad of the extern "C" wrapper; never reached

listing_clear_cache_with:
    cbz x2, <+0x98>                     // len == 0: nothing to do (Ok)
    sub x8, x2, #0x1                    // len - 1
    adds x8, x8, x1                     // last = ptr + (len - 1); carry: the range wraps
    b.cs <+0x18c>                       // -> Err(RangeWraps), before any maintenance
    ldr x10, [x0]                       // the given geometry's CTR_EL0 value (plain load)
    mov w9, #0x4                        // 4 ... (line bytes = 4 << field)
    ubfx x12, x10, #16, #4              // DminLine field (CTR_EL0[19:16])
    lsl x9, x9, x12                     // ... << field: the line size, the loop's step
    add x12, x12, #0x2                  // log2(line) = field + 2
    neg x11, x9                         // mask = -line = !(line - 1)
    and x11, x11, x1                    // first = start & mask: the first line (loop address)
    sub x13, x8, x11                    // last byte - first line
    lsr x12, x13, x12                   // ... >> log2(line): whole lines after the first
    add x12, x12, #0x1                  // count = that + 1 (>= 1)
    tbnz w10, #28, <+0xa0>              // given IDC: skip the DC loop
    mov x13, x11                        // DC loop address = first line (x11 kept for the IC loop)
    mov x14, x12                        // DC loop count (x12 kept for the IC loop)
    tst x14, #0x3                       // count % 4 == 0?
    b.eq <+0x64>                        // yes: straight to the 4x loop
    dc cvau, x13                        // peel count % 4 lines one at a time: clean to PoU
    add x13, x13, x9                    // next D line
    sub x14, x14, #0x1                  // count -= 1
    tst x14, #0x3                       // count % 4 == 0?
    b.ne <+0x4c>                        // no: peel another line
    cbz x14, <+0x8c>                    // nothing left after peeling -> DSB
    dc cvau, x13                        // 4x unrolled DC CVAU loop: line 1 of 4
    add x13, x13, x9                    // next D line
    dc cvau, x13                        // line 2 of 4
    add x13, x13, x9                    // next D line
    dc cvau, x13                        // line 3 of 4
    add x13, x13, x9                    // next D line
    dc cvau, x13                        // line 4 of 4
    add x13, x13, x9                    // next D line
    subs x14, x14, #0x4                 // count -= 4
    b.ne <+0x64>                        // more lines: loop
    dsb ish                             // DSB ISH
    tbz w10, #29, <+0xa8>               // DIC clear: to the IC loop
    isb                                 // discard this core's prefetched instructions
    mov w0, #0x1                        // return true (Ok)
    ret                                 // return
    dsb ish                             // DSB ISH
    tbnz w10, #29, <+0x94>              // CTR_EL0.DIC: skip the IC loop and its DSB
    lsr x13, x10, #16                   // CTR_EL0 >> 16 ...
    eor w13, w13, w10                   // ... ^ CTR_EL0: DminLine ^ IminLine in bits 3:0
    tst x13, #0xf                       // equal line sizes?
    b.eq <+0x134>                       // equal line sizes: the IC loop walks the D lines
    and x9, x10, #0xf                   // IminLine field (CTR_EL0[3:0])
    mov w10, #0x4                       // 4 ... (line bytes = 4 << field)
    lsl x10, x10, x9                    // ... << field: the line size, the loop's step
    add x9, x9, #0x2                    // log2(line) = field + 2
    neg x11, x10                        // mask = -line = !(line - 1)
    and x11, x11, x1                    // first = start & mask: the first line (loop address)
    sub x8, x8, x11                     // last byte - first line
    lsr x8, x8, x9                      // ... >> log2(line): whole lines after the first
    add x8, x8, #0x1                    // count = that + 1 (>= 1)
    tst x8, #0x3                        // count % 4 == 0?
    b.eq <+0xfc>                        // yes: straight to the 4x loop
    ic ivau, x11                        // peel count % 4 lines one at a time: invalidate to PoU
    add x11, x11, x10                   // next I line
    sub x8, x8, #0x1                    // count -= 1
    tst x8, #0x3                        // count % 4 == 0?
    b.ne <+0xe4>                        // no: peel another line
    cbz x8, <+0x124>                    // nothing left after peeling -> DSB
    ic ivau, x11                        // 4x unrolled IC IVAU loop: line 1 of 4
    add x11, x11, x10                   // next I line
    ic ivau, x11                        // line 2 of 4
    add x11, x11, x10                   // next I line
    ic ivau, x11                        // line 3 of 4
    add x11, x11, x10                   // next I line
    ic ivau, x11                        // line 4 of 4
    add x11, x11, x10                   // next I line
    subs x8, x8, #0x4                   // count -= 4
    b.ne <+0xfc>                        // more lines: loop
    dsb ish                             // DSB ISH
    isb                                 // discard this core's prefetched instructions
    mov w0, #0x1                        // return true (Ok)
    ret                                 // return
    tst x12, #0x3                       // count % 4 == 0?
    b.eq <+0x154>                       // yes: straight to the 4x loop
    ic ivau, x11                        // peel count % 4 lines one at a time: invalidate to PoU
    add x11, x11, x9                    // next I line
    sub x12, x12, #0x1                  // count -= 1
    tst x12, #0x3                       // count % 4 == 0?
    b.ne <+0x13c>                       // no: peel another line
    cbz x12, <+0x17c>                   // nothing left after peeling -> DSB
    ic ivau, x11                        // 4x unrolled IC IVAU loop: line 1 of 4
    add x11, x11, x9                    // next I line
    ic ivau, x11                        // line 2 of 4
    add x11, x11, x9                    // next I line
    ic ivau, x11                        // line 3 of 4
    add x11, x11, x9                    // next I line
    ic ivau, x11                        // line 4 of 4
    add x11, x11, x9                    // next I line
    subs x12, x12, #0x4                 // count -= 4
    b.ne <+0x154>                       // more lines: loop
    dsb ish                             // DSB ISH
    isb                                 // discard this core's prefetched instructions
    mov w0, #0x1                        // return true (Ok)
    ret                                 // return
    mov w0, wzr                         // return false (Err(RangeWraps))
    ret                                 // return

listing_pipeline_flush_local:
    isb                                 // ISB: discard this core's prefetched instructions
    ret                                 // return

listing_pipeline_flush_mt:
    sub sp, sp, #0x100                  // frame: 240 bytes (result slots, the Flight, the timespec)
    stp x29, x30, [sp, #160]            // save fp/lr (calls below)
    stp x28, x27, [sp, #176]            // callee-saved: deadline.at (x28), ticket (x27)
    stp x26, x25, [sp, #192]            // callee-saved: the 0xffffe constant (x26), spins (x25)
    stp x24, x23, [sp, #208]            // callee-saved: &COALESCER (x24), coalesce_for `left` / CAS new value (x23)
    stp x22, x21, [sp, #224]            // callee-saved: the word value w (x22), cmd (x21)
    stp x20, x19, [sp, #240]            // callee-saved: register tag (x20), &POLICY then register cmd (x19)
    add x29, sp, #0xa0                  // frame pointer
    adrp x19, PAGE                      // GOT page of policy::POLICY
    ldr x19, [x19, #LO12]               // GOT load: x19 = &policy::POLICY (AtomicU8; kept for the re-read)
    ldrb w8, [x19]                      // policy::current(): POLICY, one relaxed load
    cmp w8, #0x2                        // 2 = Strict?
    b.eq <+0x48>                        // yes: policy arg = Strict
    cmp w8, #0x3                        // 3 = NoSyscalls?
    b.eq <+0x444>                       // yes: may_call false -> policy::fixed(LocalSync..)
    cbz w8, <+0x434>                    // 0 = not chosen yet -> policy::first_use()
    mov w1, wzr                         // 1 = BestEffort: policy arg = BestEffort (0)
    b <+0x4c>                           // -> the mechanism
    mov w1, #0x1                        // policy arg = Strict (1), for the probe
    adrp x8, PAGE                       // GOT page of os::membarrier::STATE
    ldr x8, [x8, #LO12]                 // GOT load: &os::membarrier::STATE (OnceNonZeroUsize: the cached mechanism)
    ldar x8, [x8]                       // STATE.get(): load-acquire (0 = not probed yet)
    cbz x8, <+0x45c>                    // not probed yet -> probe out of line
    sub w8, w8, #0x1                    // State::decode: code - 1 (Ready: 0..=2)
    and w9, w8, #0xff                   // low byte of the code (high bits: errno)
    cmp w9, #0x2                        // 1 SyncCore, 2 PrivateExpedited, 3 Global?
    b.hi <+0x498>                       // no: State::Failed (cached error) -> false
    ubfiz x8, x8, #2, #8                // table index (code - 1) * 4 for commands()
    adrp x24, PAGE                      // GOT page of os::membarrier::COALESCER
    adrp x9, PAGE                       // commands(): table of flush commands
    add x9, x9, LO12                    // [32 SYNC_CORE, 8 PRIVATE_EXPEDITED, 1 GLOBAL]
    ldr x24, [x24, #LO12]               // GOT load: x24 = &COALESCER (word +8, generation +12, solo_busy +16, coalesce_for +20, wait_bound_ns +0)
    adrp x10, PAGE                      // commands(): table of Option tags
    add x10, x10, LO12                  // [1, 1, 0]: does the command have a REGISTER?
    ldr w21, [x9, x8]                   // w21 = cmd (the flush command)
    adrp x9, PAGE                       // commands(): table of register commands
    add x9, x9, LO12                    // [64, 16, 0]: REGISTER_..._SYNC_CORE, _EXPEDITED
    ldr w20, [x10, x8]                  // w20 = register's Option tag
    ldr w19, [x9, x8]                   // w19 = the register command (&POLICY no longer needed)
    ldr w26, [x24, #20]                 // run_adaptive: left = coalesce_for, relaxed load (plain LDR)
    cbz w26, <+0x3a8>                   // left == 0: not coalescing -> run_solo (own call)
    adrp x8, PAGE                       // GOT page of coalesce::fork::imp::STATE (the registration)
    ldr x8, [x8, #LO12]                 // GOT load: &fork STATE (AtomicU8)
    ldarb w8, [x8]                      // usable(): fork::registered(), STATE load-acquire
    cmp w8, #0x2                        // == REGISTERED (2)?
    b.ne <+0x4a0>                       // no -> register() out of line (cold)
    adrp x9, PAGE                       // GOT page of coalesce::fork::imp::GENERATION
    add x8, x24, #0xc                   // &COALESCER.generation
    ldr x9, [x9, #LO12]                 // GOT load: &GENERATION (AtomicU32)
    ldr w22, [x9]                       // now = fork::generation(): GENERATION, relaxed load
    ldar w1, [x8]                       // mine = generation, load-acquire (pairs with adopt's Release store)
    cmp w1, w22                         // mine == now?
    b.ne <+0x4ac>                       // no: forked child (or adopting) -> adopt(mine, now)
    ldr w23, [x24, #8]                  // fast path: w = word, relaxed load (only a guess for the CAS)
    tbnz w23, #12, <+0x164>             // IN_FLIGHT (bit 12: seq odd) -> the entry RMW
    orr w1, w23, #0x1000                // new = w + ONE_SEQ (the bit is clear: an OR): seq odd, a call starts
    add x2, x24, #0x8                   // &word
    mov w0, w23                         // expected = w
    orr w25, w23, #0x1000               // keep w + ONE_SEQ for seq()
    bl <__aarch64_cas4_acq_rel>         // fast-path start CAS, AcqRel (outlined atomic: LSE CASAL or LL/SC): claim the idle word
    cmp w0, w23                         // old == w: we started the call (issuer)?
    b.ne <+0x164>                       // no: entry RMW, take a ticket
    sub x0, x29, #0x48                  // issue(): result slot
    mov w1, w21                         // cmd
    mov w2, w20                         // register tag
    mov w3, w19                         // register cmd
    lsr w23, w25, #12                   // s = seq(w + ONE_SEQ), the odd seq of this call
    bl <_ZN16icache_coherence2os10membarrier5flush28_$u7b$$u7b$closure$u7d$$u7d$>// barrier() (outlined): membarrier(cmd) via libc syscall(), EPERM: register + retry
    ldurb w8, [x29, #-72]               // result tag
    stur x24, [x29, #-24]               // Flight.coalescer = &COALESCER
    stp w23, w22, [x29, #-16]           // Flight.seq = s, Flight.generation = this process's generation (from usable())
    cmp w8, #0x5                        // tag 5 = Ok(())?
    cset w8, eq                         // Flight.succeeded = result.is_ok()
    sturb w8, [x29, #-8]                // store it (Flight.succeeded)
    sub x0, x29, #0x18                  // &flight
    bl <_ZN76_$LT$icache_coherence..coalesce..Flight$u20$as$u20$core..ops..drop..Drop$GT$4drop>// Flight::drop (outlined): end fetch_add(ONE_SEQ) (ok) / fetch_sub (failed), Release; futex wake if sleepers
    ldur q0, [x29, #-72]                // move the Result (24 bytes) out of the slot ...
    ldur x8, [x29, #-56]                // ... its last 8 bytes
    str q0, [sp, #48]                   // ... into the temporary at sp+48
    str x8, [sp, #64]                   // ... last 8 bytes
    ldr q0, [sp, #48]                   // Path::Uncontended (also own call when unusable): copy the Result ...
    ldr x8, [sp, #64]                   // ... last 8 bytes
    str q0, [sp, #16]                   // ... to run_adaptive's result at sp+16
    str x8, [sp, #32]                   // ... last 8 bytes
    ldr w8, [x24, #20]                  // coalesce_for again, relaxed load
    cmp w8, w26                         // still == left?
    b.ne <+0x538>                       // re-armed meanwhile: leave it
    sub w8, w26, #0x1                   // spend one: left - 1
    b <+0x534>                          // -> store it to coalesce_for, return
    add x1, x24, #0x8                   // &word
    mov w0, wzr                         // operand 0
    bl <__aarch64_ldset4_rel>           // entry: fetch_add(0, Release), as an outlined LDSET (OR) of 0: w = old
    ldr x8, [x24]                       // coalescer.wait_bound_ns (field at +0), for the Deadline
    mov w27, #0xffffe                   // 0xffffe: the ticket mask (even, 20 bits); also -2 mod 2^20 for the lowering
    stp x8, xzr, [sp]                   // Deadline { bound_ns, at: 0 } on the stack (not started)
    lsr w8, w0, #12                     // seq(w)
    add w8, w8, #0x3                    // ticket(): seq + 3 ...
    and w28, w8, #0xffffe               // ... & !1, masked to 20 bits: this caller's ticket
    mov w25, wzr                        // spins = 0
    mov w23, w0                         // w = the entry's value
    sub w8, w28, w23, lsr #12           // loop: ahead = ticket - seq(w) ...
    and w8, w8, #0xfffff                // ... mod 2^20
    sub w9, w8, #0x1                    // covered(): ahead in 1..=4?
    cmp w9, #0x3                        // ahead - 1 > 3 (unsigned) = not in 1..=4
    b.hi <+0x518>                       // covered -> Ok, Path::Contended (not on the first pass: a fresh ticket is 2 or 3 ahead)
    tbnz w23, #12, <+0x1d8>             // in flight -> spin or sleep
    add w9, w28, w27                    // idle, not covered: ticket - 2 (masked where used)
    cmp w8, #0x4                        // ahead == 4 (the call waited behind failed)?
    orr w1, w23, #0x1000                // new = w + ONE_SEQ: start a call
    add x2, x24, #0x8                   // &word
    mov w0, w23                         // expected = w
    csel w28, w9, w28, eq               // yes: ticket -= 2 (one call is enough)
    orr w26, w23, #0x1000               // keep w + ONE_SEQ for seq()
    bl <__aarch64_cas4_acq_rel>         // start CAS AcqRel/Acquire (outlined atomic): issue the next call ourselves
    cmp w0, w23                         // succeeded?
    mov w23, w0                         // w = old (now, on failure)
    b.ne <+0x190>                       // no: w = now, look again
    b <+0x3e8>                          // yes: we are the issuer -> issue(), Path::Contended
    cmp w25, #0x64                      // spins == SPINS (100)?
    b.ne <+0x230>                       // no: spin once more
    ldr x25, [sp, #8]                   // deadline.at (0: not started)
    cbz x25, <+0x244>                   // deadline not started: passed() is false, no clock read
    sub x1, x29, #0x18                  // passed(): now_ns(), &ts
    mov w0, #0x1                        // CLOCK_MONOTONIC
    stp xzr, xzr, [x29, #-24]           // ts = {0, 0}
    bl <clock_gettime@plt>              // libc clock_gettime via the PLT (glibc's vDSO path; no svc here)
    mov w10, #0xca00                    // 1_000_000_000 ...
    movk w10, #0x3b9a, lsl #16          // ... (0x3b9aca00)
    cbnz w0, <+0x4ec>                   // clock_gettime failed: now = u64::MAX, passed -> own call, Path::OwnCall
    ldur x8, [x29, #-24]                // ts.tv_sec
    umulh x9, x8, x10                   // tv_sec * 1e9: high half (overflow check of saturating_mul)
    cmp xzr, x9                         // overflowed?
    b.ne <+0x28c>                       // yes: now = u64::MAX (saturated)
    mul x8, x8, x10                     // tv_sec * 1e9
    ldur x9, [x29, #-16]                // ts.tv_nsec
    adds x8, x8, x9                     // + tv_nsec ...
    csinv x8, x8, xzr, cc               // ... saturating: now_ns()
    cmp x8, x25                         // now >= deadline.at?
    cset w8, cs                         // passed = now >= at
    b <+0x248>                          // -> the own-call checks, passed in w8
    add w25, w25, #0x1                  // spins += 1
    isb                                 // spin_loop() hint (ISB on aarch64)
    add x8, x24, #0x8                   // &word
    ldar w0, [x8]                       // w = word, load-acquire
    b <+0x18c>                          // look again
    mov w8, wzr                         // deadline not started: passed = false
    mov w9, #0xfff                      // SLEEPERS
    bics wzr, w9, w23                   // sleepers(w) == SLEEPERS?
    b.eq <+0x4ec>                       // yes -> own call, Path::OwnCall
    tbnz w8, #0, <+0x4ec>               // passed -> own call, Path::OwnCall
    adrp x8, PAGE                       // GOT page of fork::imp::GENERATION
    ldr x8, [x8, #LO12]                 // GOT load: &GENERATION
    ldr w8, [x8]                        // same_process(): GENERATION, relaxed load
    cmp w8, w22                         // == the generation recorded at entry?
    b.ne <+0x4ec>                       // no (a child returned into this wait) -> own call, Path::OwnCall
    add w1, w23, #0x1                   // new = w + 1: one more sleeper
    add x2, x24, #0x8                   // &word
    mov w0, w23                         // expected = w
    bl <__aarch64_cas4_acq>             // sleeper-count CAS, Acquire/Acquire (outlined atomic)
    cmp w0, w23                         // sleeper counted (CAS succeeded)?
    mov w25, #0x64                      // spins stays SPINS
    b.ne <+0x18c>                       // no: w = now, look again
    b <+0x294>                          // yes -> the futex wait (deadline.start() first)
    mov x8, #0xffffffffffffffff         // now_ns() overflowed: u64::MAX
    b <+0x218>                          // -> compare with deadline.at
    mov w25, #0xca00                    // 1_000_000_000 (low half) ...
    ldr x26, [sp, #8]                   // deadline.at (0: not started)
    movk w25, #0x3b9a, lsl #16          // ... 0x3b9aca00 = 1e9
    cbnz x26, <+0x2e8>                  // started: -> the timeout computation
    sub x1, x29, #0x18                  // deadline.start(): now_ns(), &ts
    mov w0, #0x1                        // CLOCK_MONOTONIC
    stp xzr, xzr, [x29, #-24]           // ts = {0, 0}
    bl <clock_gettime@plt>              // libc clock_gettime via the PLT (glibc's vDSO path; no svc here)
    cbz w0, <+0x2c0>                    // clock read -> now_ns() from ts
    mov x26, #0xffffffffffffffff        // clock_gettime failed: now = at = u64::MAX (a passed deadline)
    b <+0x2e8>                          // -> the timeout computation
    ldur x8, [x29, #-24]                // ts.tv_sec
    umulh x9, x8, x25                   // tv_sec * 1e9: high half (overflow check)
    cbnz x9, <+0x3a0>                   // overflowed -> now = u64::MAX
    mul x8, x8, x25                     // tv_sec * 1e9
    ldur x9, [x29, #-16]                // ts.tv_nsec
    adds x8, x8, x9                     // + tv_nsec ...
    ldr x9, [sp]                        // deadline.bound_ns
    csinv x8, x8, xzr, cc               // ... saturating: now_ns()
    adds x8, x8, x9                     // now + bound_ns ...
    csinv x26, x8, xzr, cc              // ... saturating (carry: u64::MAX): deadline.at
    mov x9, #0x5a53                     // wait(): magic for at / 1e9 ...
    lsr x8, x26, #9                     // at >> 9
    lsr w10, w28, #1                    // bit(ticket): ticket >> 1 (shift count mod 32)
    movk x9, #0xa09b, lsl #16           // ... magic
    mov w11, #0x1                       // 1 << ...
    add x1, x24, #0x8                   // uaddr = &word
    movk x9, #0xb82f, lsl #32           // ... magic
    lsl w6, w11, w10                    // val3 = bit(ticket): this ticket's wake bit
    add w3, w23, #0x1                   // val = w + 1: the word this caller counted itself in
    movk x9, #0x44, lsl #48             // ... magic 0x0044b82fa09b5a53
    sub x4, x29, #0x18                  // timeout = &ts
    mov w0, #0x62                       // SYS_futex (98)
    umulh x8, x8, x9                    // (at >> 9) * magic >> 64 ...
    mov w2, #0x89                       // FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG (9 | 128): absolute CLOCK_MONOTONIC timeout
    mov x5, xzr                         // uaddr2 = null
    lsr x8, x8, #11                     // ... >> 11: tv_sec = at / 1e9
    msub x9, x8, x25, x26               // tv_nsec = at % 1e9
    stp x8, x9, [x29, #-24]             // ts = {tv_sec, tv_nsec}
    bl <syscall@plt>                    // futex wait (FUTEX_WAIT_BITSET), via libc syscall(): its svc is in libc
    cmn x0, #0x1                        // r == -1?
    str x26, [sp, #8]                   // deadline.at stored (started)
    b.eq <+0x368>                       // yes: read errno
    adrp x8, PAGE                       // GOT page of fork::imp::GENERATION
    ldr x8, [x8, #LO12]                 // GOT load: &GENERATION
    ldr w8, [x8]                        // same_process() after the wait: GENERATION, relaxed load
    cmp w8, w22                         // == the generation recorded at entry?
    b.ne <+0x4ec>                       // no: a forked child returned into this wait -> own call, no uncount
    add x1, x24, #0x8                   // woke (or EAGAIN/EINTR): &word
    mov w0, #0xffffffff                 // -1
    bl <__aarch64_ldadd4_acq>           // uncount: fetch_sub(1, Acquire) as an outlined LDADD of -1
    sub w0, w0, #0x1                    // w = old - 1
    b <+0x188>                          // look again
    bl <__errno_location@plt>           // errno()
    adrp x8, PAGE                       // GOT page of fork::imp::GENERATION
    ldr w23, [x0]                       // errno
    ldr x8, [x8, #LO12]                 // GOT load: &GENERATION
    ldr w8, [x8]                        // same_process() after the wait: GENERATION, relaxed load
    cmp w8, w22                         // == the generation recorded at entry?
    b.ne <+0x4ec>                       // no: a forked child returned into this wait -> own call, no uncount
    add x1, x24, #0x8                   // &word
    mov w0, #0xffffffff                 // -1
    bl <__aarch64_ldadd4_acq>           // uncount: fetch_sub(1, Acquire) as an outlined LDADD of -1
    cmp w23, #0x6e                      // errno == ETIMEDOUT (110)?
    sub w0, w0, #0x1                    // w = old - 1
    b.ne <+0x188>                       // no (EAGAIN, EINTR): woke, look again
    b <+0x4d8>                          // ETIMEDOUT: the deadline passed while asleep -> covered? else own call
    mov x8, #0xffffffffffffffff         // start()'s now_ns() overflowed: u64::MAX
    b <+0x2d0>                          // -> deadline.at = u64::MAX + bound, saturating
    ldr w8, [x24, #16]                  // run_adaptive, left == 0: solo_busy, relaxed load
    cbz w8, <+0x3b8>                    // nobody else inside a solo call
    mov w8, #0x1000                     // calls overlap: coalesce_for = 4096
    str w8, [x24, #20]                  // coalesce_for = COALESCE_RUNS, relaxed store
    mov w8, #0x1                        // run_solo: solo_busy = 1
    add x9, x24, #0x10                  // &solo_busy, for the Busy guard
    add x0, sp, #0x10                   // result slot (the returned one)
    mov w1, w21                         // cmd
    mov w2, w20                         // register tag
    mov w3, w19                         // register cmd
    str w8, [x24, #16]                  // solo_busy = 1, relaxed store
    str x9, [sp, #48]                   // Busy(&solo_busy)
    bl <_ZN16icache_coherence2os10membarrier5flush28_$u7b$$u7b$closure$u7d$$u7d$>// barrier() (outlined): this caller's own call, membarrier via libc syscall()
    add x0, sp, #0x30                   // &busy
    bl <_ZN95_$LT$icache_coherence..coalesce..Coalescer..run_solo..Busy$u20$as$u20$core..ops..drop..Drop$GT$4drop>// Busy::drop (outlined): solo_busy = 0, relaxed store
    b <+0x538>                          // -> return result.is_ok()
    sub x0, x29, #0x30                  // issue() from the loop, Path::Contended: result slot
    mov w1, w21                         // cmd
    mov w2, w20                         // register tag
    mov w3, w19                         // register cmd
    lsr w23, w26, #12                   // s = seq(w + ONE_SEQ)
    bl <_ZN16icache_coherence2os10membarrier5flush28_$u7b$$u7b$closure$u7d$$u7d$>// barrier() (outlined): membarrier(cmd) via libc syscall(), EPERM: register + retry
    ldurb w8, [x29, #-48]               // result tag
    stur x24, [x29, #-24]               // Flight.coalescer = &COALESCER
    stp w23, w22, [x29, #-16]           // Flight.seq = s, Flight.generation = this process's generation
    cmp w8, #0x5                        // tag 5 = Ok(())?
    cset w8, eq                         // Flight.succeeded = result.is_ok()
    sturb w8, [x29, #-8]                // store it (Flight.succeeded)
    sub x0, x29, #0x18                  // &flight
    bl <_ZN76_$LT$icache_coherence..coalesce..Flight$u20$as$u20$core..ops..drop..Drop$GT$4drop>// Flight::drop (outlined): end fetch_add(ONE_SEQ) (ok) / fetch_sub (failed), Release; futex wake if sleepers
    ldur q0, [x29, #-48]                // move the Result out of the slot ...
    ldur x8, [x29, #-32]                // ... last 8 bytes
    str q0, [sp, #48]                   // ... into the temporary at sp+48
    str x8, [sp, #64]                   // ... last 8 bytes
    b <+0x520>                          // -> epilogue
    bl <_ZN16icache_coherence6policy9first_use>// cold: CAS POLICY 0 -> BestEffort; returns the policy
    and w1, w0, #0xff                   // policy arg (0 BestEffort, 1 Strict, 2 NoSyscalls)
    cmp w1, #0x2                        // NoSyscalls?
    b.ne <+0x4c>                        // no: -> the mechanism
    ldrb w8, [x19]                      // policy::fixed(LocalSyncRequired): re-read POLICY
    cmp w8, #0x2                        // Strict?
    b.eq <+0x498>                       // yes: Err(no facility) -> false
    cbz w8, <+0x488>                    // 0: policy::first_use()
    mov w0, #0x1                        // return true (Ok: nothing to call)
    b <+0x544>                          // -> epilogue
    add x0, sp, #0x30                   // probe's Result<NonZeroUsize, Error> slot (w1 = policy)
    bl <_ZN9once_cell4race16OnceNonZeroUsize4init>// STATE.get_or_try_init(probe): REGISTER membarrier
    ldrb w8, [sp, #48]                  // result tag
    cmp w8, #0x5                        // 5 = Ok(state)?
    b.ne <+0x498>                       // probe error (not cached) -> false
    ldr x8, [sp, #56]                   // the state code (the NonZeroUsize)
    sub w8, w8, #0x1                    // State::decode: code - 1
    and w9, w8, #0xff                   // low byte
    cmp w9, #0x2                        // Ready (1..=3)?
    b.ls <+0x6c>                        // yes: back to commands()
    b <+0x498>                          // Failed -> false
    bl <_ZN16icache_coherence6policy9first_use>// cold: CAS POLICY 0 -> BestEffort; returns the policy
    and w8, w0, #0xff                   // policy
    cmp w8, #0x1                        // Strict?
    b.ne <+0x454>                       // no: Ok
    mov w0, wzr                         // return false (Err)
    b <+0x544>                          // -> epilogue (false)
    bl <_ZN16icache_coherence8coalesce4fork3imp8register>// register() (cold, outlined): CAS fork STATE 0 -> REGISTERING, pthread_atfork(child), Release store REGISTERED (UNREGISTERED on failure); returns ok
    cbnz w0, <+0xb8>                    // registered -> read GENERATION
    b <+0x4c0>                          // not usable -> own call (Path::Uncontended)
    adrp x0, PAGE                       // GOT page of COALESCER
    mov w2, w22                         // adopt(mine, now): now = this process's generation
    ldr x0, [x0, #LO12]                 // GOT load: &COALESCER (w1 = mine, w2 = now)
    bl <_ZN16icache_coherence8coalesce9Coalescer5adopt>// adopt() (cold, outlined): CAS generation -> now|ADOPTING, word = 0 (relaxed), Release store generation = now; false if another thread adopts
    cbnz w0, <+0xd4>                    // adopted (word reset): -> the fast path
    add x0, sp, #0x30                   // not usable (unregistered, or another thread adopting): own call, result slot
    mov w1, w21                         // cmd
    mov w2, w20                         // register tag
    mov w3, w19                         // register cmd
    bl <_ZN16icache_coherence2os10membarrier5flush28_$u7b$$u7b$closure$u7d$$u7d$>// barrier() (outlined): own call without the protocol
    b <+0x140>                          // -> copy the Result, Path::Uncontended (spend one of coalesce_for)
    sub w8, w28, w0, lsr #12            // timed out: ticket - seq(w) ...
    and w8, w8, #0xfffff                // ... mod 2^20
    sub w8, w8, #0x1                    // covered(): ahead - 1 ...
    cmp w8, #0x4                        // ... >= 4 (unsigned): not in 1..=4
    b.cs <+0x518>                       // covered after all -> Ok, Path::Contended
    add x0, sp, #0x30                   // own call outside the protocol (deadline passed, no room, or another process): result slot
    mov w1, w21                         // cmd
    mov w2, w20                         // register tag
    mov w3, w19                         // register cmd
    bl <_ZN16icache_coherence2os10membarrier5flush28_$u7b$$u7b$closure$u7d$$u7d$>// barrier() (outlined): this caller's own membarrier call
    ldr q0, [sp, #48]                   // copy the Result ...
    ldr x9, [sp, #64]                   // ... last 8 bytes
    mov w8, wzr                         // Path::OwnCall: coalesce_for = 0 (stop coalescing behind a stuck call)
    str q0, [sp, #16]                   // ... to run_adaptive's result at sp+16
    str x9, [sp, #32]                   // ... last 8 bytes
    b <+0x534>                          // -> store coalesce_for, return
    mov w8, #0x5                        // Ok(()) (tag 5): covered by another's call
    strb w8, [sp, #48]                  // into the result slot
    ldr q0, [sp, #48]                   // copy the Result ...
    ldr x8, [sp, #64]                   // ... last 8 bytes
    str q0, [sp, #16]                   // ... to run_adaptive's result at sp+16
    str x8, [sp, #32]                   // ... last 8 bytes
    mov w8, #0x1000                     // Path::Contended: coalesce_for = COALESCE_RUNS (4096)
    str w8, [x24, #20]                  // coalesce_for, relaxed store
    ldrb w8, [sp, #16]                  // result tag
    cmp w8, #0x5                        // 5 = Ok(())?
    cset w0, eq                         // return result.is_ok()
    ldp x20, x19, [sp, #240]            // restore callee-saved
    ldp x22, x21, [sp, #224]            // restore callee-saved
    ldp x24, x23, [sp, #208]            // restore callee-saved
    ldp x26, x25, [sp, #192]            // restore callee-saved
    ldp x28, x27, [sp, #176]            // restore callee-saved
    ldp x29, x30, [sp, #160]            // restore fp/lr
    add sp, sp, #0x100                  // pop the frame
    ret                                 // return
    bl <_RNvNtCs6Hz1PecaLG4_4core9panicking19panic_cannot_unwind>// landing pad: a panic unwinding out of the extern "C" fn aborts
