// Reviewed listing of the hot paths on aarch64, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    stp x29, x30, [sp, #-32]!
    stp x20, x19, [sp, #16]
    mov x29, sp
    cbz x1, <+0x124>
    sub x8, x1, #0x1
    mov x19, x0
    adds x20, x8, x0                    // last = ptr + (len - 1); carry: the range wraps
    b.cs <+0x134>                       // -> Err(RangeWraps), before any maintenance
    adrp x8, PAGE
    ldr x8, [x8, #LO12]
    ldar x0, [x8]                       // cached state (CTR_EL0 or the membarrier mechanism), load-acquire
    cbz x0, <+0x144>
    tbnz w0, #28, <+0xa4>               // CTR_EL0.IDC: skip the DC loop
    ubfx x8, x0, #16, #4
    mov w9, #0x4
    lsl x9, x9, x8
    add x8, x8, #0x2
    neg x10, x9
    and x11, x20, x10
    and x10, x10, x19
    sub x11, x11, x10
    lsr x8, x11, x8
    add x8, x8, #0x1
    tst x8, #0x3
    b.eq <+0x7c>
    dc cvau, x10
    add x10, x10, x9
    sub x8, x8, #0x1
    tst x8, #0x3
    b.ne <+0x64>
    cbz x8, <+0xa4>
    dc cvau, x10
    add x10, x10, x9
    dc cvau, x10
    add x10, x10, x9
    dc cvau, x10
    add x10, x10, x9
    dc cvau, x10
    add x10, x10, x9
    subs x8, x8, #0x4
    b.ne <+0x7c>
    dsb ish                             // wait: cleans/invalidations (and the code stores) complete
    tbnz w0, #29, <+0x120>              // CTR_EL0.DIC: skip the IC loop and its DSB
    and x8, x0, #0xf
    mov w9, #0x4
    lsl x9, x9, x8
    add x8, x8, #0x2
    neg x10, x9
    and x11, x20, x10
    and x10, x10, x19
    sub x11, x11, x10
    lsr x8, x11, x8
    add x8, x8, #0x1
    tst x8, #0x3
    b.eq <+0xf4>
    ic ivau, x10
    add x10, x10, x9
    sub x8, x8, #0x1
    tst x8, #0x3
    b.ne <+0xdc>
    cbz x8, <+0x11c>
    ic ivau, x10
    add x10, x10, x9
    ic ivau, x10
    add x10, x10, x9
    ic ivau, x10
    add x10, x10, x9
    ic ivau, x10
    add x10, x10, x9
    subs x8, x8, #0x4
    b.ne <+0xf4>
    dsb ish                             // wait: cleans/invalidations (and the code stores) complete
    isb                                 // discard this core's prefetched instructions
    mov w0, #0x1
    ldp x20, x19, [sp, #16]
    ldp x29, x30, [sp], #32
    ret
    mov w0, wzr
    ldp x20, x19, [sp, #16]
    ldp x29, x30, [sp], #32
    ret
    adrp x0, PAGE
    ldr x0, [x0, #LO12]
    bl <_ZN9once_cell4race16OnceNonZeroUsize4init>  // first use, out of line: read CTR_EL0 (or probe the mechanism)
    b <+0x30>
    bl <_RNvNtCs6Hz1PecaLG4_4core9panicking19panic_cannot_unwind>  // landing pad of the extern "C" wrapper; never reached

listing_clear_cache_dual:
    stp x29, x30, [sp, #-48]!
    stp x22, x21, [sp, #16]
    stp x20, x19, [sp, #32]
    mov x29, sp
    cbz x2, <+0x134>
    sub x8, x2, #0x1
    mov x20, x0
    adds x22, x8, x0                    // last = ptr + (len - 1); carry: the range wraps
    b.cs <+0x148>                       // -> Err(RangeWraps), before any maintenance
    mov x19, x1
    adds x21, x8, x1                    // last = ptr + (len - 1); carry: the range wraps
    b.cs <+0x148>                       // -> Err(RangeWraps), before any maintenance
    adrp x8, PAGE
    ldr x8, [x8, #LO12]
    ldar x0, [x8]                       // cached state (CTR_EL0 or the membarrier mechanism), load-acquire
    cbz x0, <+0x15c>
    tbnz w0, #28, <+0xb4>               // CTR_EL0.IDC: skip the DC loop
    ubfx x8, x0, #16, #4
    mov w9, #0x4
    lsl x9, x9, x8
    add x8, x8, #0x2
    neg x10, x9
    and x11, x22, x10
    and x10, x10, x20
    sub x11, x11, x10
    lsr x8, x11, x8
    add x8, x8, #0x1
    tst x8, #0x3
    b.eq <+0x8c>
    dc cvau, x10
    add x10, x10, x9
    sub x8, x8, #0x1
    tst x8, #0x3
    b.ne <+0x74>
    cbz x8, <+0xb4>
    dc cvau, x10
    add x10, x10, x9
    dc cvau, x10
    add x10, x10, x9
    dc cvau, x10
    add x10, x10, x9
    dc cvau, x10
    add x10, x10, x9
    subs x8, x8, #0x4
    b.ne <+0x8c>
    dsb ish                             // wait: cleans/invalidations (and the code stores) complete
    tbnz w0, #29, <+0x130>              // CTR_EL0.DIC: skip the IC loop and its DSB
    and x8, x0, #0xf
    mov w9, #0x4
    lsl x9, x9, x8
    add x8, x8, #0x2
    neg x10, x9
    and x11, x21, x10
    and x10, x10, x19
    sub x11, x11, x10
    lsr x8, x11, x8
    add x8, x8, #0x1
    tst x8, #0x3
    b.eq <+0x104>
    ic ivau, x10
    add x10, x10, x9
    sub x8, x8, #0x1
    tst x8, #0x3
    b.ne <+0xec>
    cbz x8, <+0x12c>
    ic ivau, x10
    add x10, x10, x9
    ic ivau, x10
    add x10, x10, x9
    ic ivau, x10
    add x10, x10, x9
    ic ivau, x10
    add x10, x10, x9
    subs x8, x8, #0x4
    b.ne <+0x104>
    dsb ish                             // wait: cleans/invalidations (and the code stores) complete
    isb                                 // discard this core's prefetched instructions
    mov w0, #0x1
    ldp x20, x19, [sp, #32]
    ldp x22, x21, [sp, #16]
    ldp x29, x30, [sp], #48
    ret
    mov w0, wzr
    ldp x20, x19, [sp, #32]
    ldp x22, x21, [sp, #16]
    ldp x29, x30, [sp], #48
    ret
    adrp x0, PAGE
    ldr x0, [x0, #LO12]
    bl <_ZN9once_cell4race16OnceNonZeroUsize4init>  // first use, out of line: read CTR_EL0 (or probe the mechanism)
    b <+0x40>
    bl <_RNvNtCs6Hz1PecaLG4_4core9panicking19panic_cannot_unwind>  // landing pad of the extern "C" wrapper; never reached

listing_clear_cache_ranges:
    stp x29, x30, [sp, #-64]!
    str x23, [sp, #16]
    stp x22, x21, [sp, #32]
    stp x20, x19, [sp, #48]
    mov x29, sp
    lsl x23, x1, #4
    mov x20, x1
    mov x19, x0
    mov x8, x0
    add x22, x0, x23
    mov x9, x23
    mov x21, x9
    cbz x9, <+0x5c>
    ldr x11, [x8, #8]
    mov x10, x8
    add x8, x8, #0x10
    sub x9, x21, #0x10
    cbz x11, <+0x2c>
    ldr x10, [x10]
    neg x11, x11
    cmp x11, x10
    b.cs <+0x2c>                        // -> Err(RangeWraps), before any maintenance
    b <+0x25c>
    adrp x8, PAGE
    ldr x8, [x8, #LO12]
    ldar x0, [x8]                       // cached state (CTR_EL0 or the membarrier mechanism), load-acquire
    cbz x0, <+0x278>
    cbz x20, <+0x25c>
    add x8, x19, #0x8
    ldr x9, [x8]
    cbz x9, <+0x8c>
    ldur x10, [x8, #-8]
    neg x9, x9
    cmp x9, x10
    b.cs <+0x9c>                        // -> Err(RangeWraps), before any maintenance
    subs x23, x23, #0x10
    add x8, x8, #0x10
    b.ne <+0x74>
    b <+0x25c>
    tbnz w0, #28, <+0x174>              // CTR_EL0.IDC: skip the DC loop
    ubfx x10, x0, #16, #4               // DminLine: D line = 4 << field
    mov w8, #0x4
    mov w12, #0x1
    mov x11, x19
    lsl x8, x8, x10
    add x10, x10, #0x2
    neg x9, x8
    b <+0xcc>
    add x11, x11, #0x10
    cmp x11, x22
    b.eq <+0x174>
    ldr x15, [x11, #8]
    cbz x15, <+0xc0>
    ldr x14, [x11]
    sub x15, x15, #0x1
    adds x16, x15, x14
    b.cs <+0xc0>                        // -> Err(RangeWraps), before any maintenance
    and x15, x14, x9
    and x14, x16, x9
    cmp x13, x15
    sub x13, x14, x15
    cset w16, ne
    lsr x17, x13, x10
    orr w13, w12, w16
    and x12, x13, #0x1
    adds x12, x17, x12
    b.eq <+0x160>
    tst w13, #0x1
    csel x13, xzr, x8, ne
    add x13, x13, x15
    tst x12, #0x3
    b.eq <+0x138>
    dc cvau, x13
    add x13, x13, x8
    sub x12, x12, #0x1
    tst x12, #0x3
    b.ne <+0x120>
    cbz x12, <+0x160>
    dc cvau, x13
    add x13, x13, x8
    dc cvau, x13
    add x13, x13, x8
    dc cvau, x13
    add x13, x13, x8
    dc cvau, x13
    add x13, x13, x8
    subs x12, x12, #0x4
    b.ne <+0x138>
    add x11, x11, #0x10
    mov w12, wzr
    mov x13, x14
    cmp x11, x22
    b.ne <+0xcc>
    dsb ish                             // wait: cleans/invalidations (and the code stores) complete
    tbnz w0, #29, <+0x258>              // CTR_EL0.DIC: skip the IC loop and its DSB
    and x10, x0, #0xf                   // IminLine: I line = 4 << field
    mov w8, #0x4
    mov w11, #0x1
    lsl x8, x8, x10
    add x10, x10, #0x2
    neg x9, x8
    b <+0x1a4>
    add x19, x19, #0x10
    cmp x19, x22
    b.eq <+0x24c>
    ldr x14, [x19, #8]
    cbz x14, <+0x198>
    ldr x13, [x19]
    sub x14, x14, #0x1
    adds x15, x14, x13
    b.cs <+0x198>                       // -> Err(RangeWraps), before any maintenance
    and x14, x13, x9
    and x13, x15, x9
    cmp x12, x14
    sub x12, x13, x14
    cset w15, ne
    lsr x16, x12, x10
    orr w12, w11, w15
    and x11, x12, #0x1
    adds x11, x16, x11
    b.eq <+0x238>
    tst w12, #0x1
    csel x12, xzr, x8, ne
    add x12, x12, x14
    tst x11, #0x3
    b.eq <+0x210>
    ic ivau, x12
    add x12, x12, x8
    sub x11, x11, #0x1
    tst x11, #0x3
    b.ne <+0x1f8>
    cbz x11, <+0x238>
    ic ivau, x12
    add x12, x12, x8
    ic ivau, x12
    add x12, x12, x8
    ic ivau, x12
    add x12, x12, x8
    ic ivau, x12
    add x12, x12, x8
    subs x11, x11, #0x4
    b.ne <+0x210>
    add x19, x19, #0x10
    mov w11, wzr
    mov x12, x13
    cmp x19, x22
    b.ne <+0x1a4>
    dsb ish                             // wait: cleans/invalidations (and the code stores) complete
    isb                                 // discard this core's prefetched instructions
    b <+0x25c>                          // to the common return
    isb                                 // the DIC path's ISB (no IC loop, one DSB before it)
    cmp x21, #0x0
    cset w0, eq
    ldp x20, x19, [sp, #48]
    ldr x23, [sp, #16]
    ldp x22, x21, [sp, #32]
    ldp x29, x30, [sp], #64
    ret
    adrp x0, PAGE
    ldr x0, [x0, #LO12]
    bl <_ZN9once_cell4race16OnceNonZeroUsize4init>  // first use, out of line: read CTR_EL0 (or probe the mechanism)
    b <+0x6c>
    bl <_RNvNtCs6Hz1PecaLG4_4core9panicking19panic_cannot_unwind>  // landing pad of the extern "C" wrapper; never reached

listing_clear_cache_with:
    cbz x2, <+0x94>
    sub x8, x2, #0x1
    adds x8, x8, x1                     // last = ptr + (len - 1); carry: the range wraps
    b.cs <+0x124>                       // -> Err(RangeWraps), before any maintenance
    ldr x9, [x0]
    tbnz w9, #28, <+0x9c>               // CTR_EL0.IDC: skip the DC loop
    ubfx x10, x9, #16, #4
    mov w11, #0x4
    lsl x11, x11, x10
    add x10, x10, #0x2
    neg x12, x11
    and x13, x8, x12
    and x12, x12, x1
    sub x13, x13, x12
    lsr x10, x13, x10
    add x10, x10, #0x1
    tst x10, #0x3
    b.eq <+0x60>
    dc cvau, x12
    add x12, x12, x11
    sub x10, x10, #0x1
    tst x10, #0x3
    b.ne <+0x48>
    cbz x10, <+0x88>
    dc cvau, x12
    add x12, x12, x11
    dc cvau, x12
    add x12, x12, x11
    dc cvau, x12
    add x12, x12, x11
    dc cvau, x12
    add x12, x12, x11
    subs x10, x10, #0x4
    b.ne <+0x60>
    dsb ish                             // wait: cleans/invalidations (and the code stores) complete
    tbz w9, #29, <+0xa4>
    isb
    mov w0, #0x1
    ret
    dsb ish
    tbnz w9, #29, <+0x90>               // CTR_EL0.DIC: skip the IC loop and its DSB
    and x9, x9, #0xf
    mov w10, #0x4
    lsl x10, x10, x9
    add x9, x9, #0x2
    neg x11, x10
    and x8, x8, x11
    and x11, x11, x1
    sub x8, x8, x11
    lsr x8, x8, x9
    add x8, x8, #0x1
    tst x8, #0x3
    b.eq <+0xec>
    ic ivau, x11
    add x11, x11, x10
    sub x8, x8, #0x1
    tst x8, #0x3
    b.ne <+0xd4>
    cbz x8, <+0x114>
    ic ivau, x11
    add x11, x11, x10
    ic ivau, x11
    add x11, x11, x10
    ic ivau, x11
    add x11, x11, x10
    ic ivau, x11
    add x11, x11, x10
    subs x8, x8, #0x4
    b.ne <+0xec>
    dsb ish                             // wait: cleans/invalidations (and the code stores) complete
    isb                                 // discard this core's prefetched instructions
    mov w0, #0x1
    ret
    mov w0, wzr
    ret

listing_pipeline_flush_local:
    isb                                 // discard this core's prefetched instructions
    ret

listing_pipeline_flush_mt:
    sub sp, sp, #0x90
    stp x29, x30, [sp, #48]
    stp x28, x27, [sp, #64]
    stp x26, x25, [sp, #80]
    stp x24, x23, [sp, #96]
    stp x22, x21, [sp, #112]
    stp x20, x19, [sp, #128]
    add x29, sp, #0x30
    adrp x19, PAGE
    ldr x19, [x19, #LO12]
    ldrb w8, [x19]                      // the flush policy (one relaxed load)
    cmp w8, #0x2
    b.eq <+0x48>
    cmp w8, #0x3
    b.eq <+0xb4>
    cbz w8, <+0xa4>
    mov w1, wzr
    b <+0x4c>
    mov w1, #0x1
    adrp x8, PAGE
    ldr x8, [x8, #LO12]
    ldar x8, [x8]                       // cached state (CTR_EL0 or the membarrier mechanism), load-acquire
    cbz x8, <+0xcc>
    and w8, w8, #0xff
    mov w0, wzr
    cmp w8, #0x3
    b.eq <+0xf4>
    cmp w8, #0x2
    b.eq <+0x90>
    cmp w8, #0x1
    b.ne <+0x41c>
    mov w8, #0x40
    mov w20, #0x1
    mov w25, #0x20
    str w8, [sp, #16]
    b <+0xfc>
    mov w8, #0x10
    mov w20, #0x1
    mov w25, #0x8
    str w8, [sp, #16]
    b <+0xfc>
    bl <_ZN16icache_coherence6policy9first_use>
    and w1, w0, #0xff
    cmp w1, #0x2
    b.ne <+0x4c>
    ldrb w8, [x19]                      // the flush policy (one relaxed load)
    cmp w8, #0x2
    b.eq <+0x418>
    cbz w8, <+0x408>
    mov w0, #0x1
    b <+0x41c>
    add x0, sp, #0x18
    bl <_ZN9once_cell4race16OnceNonZeroUsize4init>  // first use, out of line: read CTR_EL0 (or probe the mechanism)
    ldrb w8, [sp, #24]
    cmp w8, #0x5
    b.ne <+0x418>
    ldr x8, [sp, #32]
    and w8, w8, #0xff
    mov w0, wzr
    cmp w8, #0x3
    b.ne <+0x6c>
    mov w25, #0x1
    mov w20, w0
    adrp x8, PAGE
    ldr x8, [x8, #LO12]
    ldarb w8, [x8]
    cbz w8, <+0x400>
    adrp x8, PAGE
    adrp x19, PAGE
    ldr x8, [x8, #LO12]
    ldr x19, [x19, #LO12]
    ldr w8, [x8]
    ldr w21, [x19]
    lsl w28, w8, #17
    tbnz w21, #1, <+0x154>
    and w8, w21, #0x1ffff
    adrp x2, PAGE
    mov w0, w21
    orr w8, w28, w8
    ldr x2, [x2, #LO12]
    orr w24, w8, #0x2
    mov w1, w24
    bl <__aarch64_cas4_acq_rel>
    cmp w0, w21
    b.eq <+0x370>
    str w20, [sp, #20]
    adrp x21, PAGE
    mov w0, wzr
    ldr x21, [x21, #LO12]
    mov x1, x21
    bl <__aarch64_ldset4_rel>
    lsr w10, w0, #1
    mov w9, #0xfffc
    mov w23, w0
    mov w0, #0x1
    add w8, w10, #0x3
    and w22, w8, #0xfffffffe
    sub w10, w10, w22
    cmp w9, w10, uxth
    b.hi <+0x41c>
    lsr w8, w8, #1
    mov w20, #0xfffd
    mov w19, wzr
    movk w20, #0x1, lsl #16
    orr w26, w28, #0x2
    mov w27, #0xfffb
    lsl w8, w0, w8
    str w8, [sp, #12]
    cmp w19, #0x64
    b.cs <+0x1f4>                       // -> Err(RangeWraps), before any maintenance
    str w25, [sp, #8]
    b <+0x2b0>
    and w8, w23, w20
    mov w0, w23
    mov x2, x21
    orr w24, w8, w26
    mov w1, w24
    bl <__aarch64_cas4_acq_rel>
    cmp w0, w23
    b.eq <+0x364>
    lsr w8, w0, #1
    mov w23, w0
    sub w8, w8, w22
    cmp w27, w8, uxth
    b.cs <+0xc4>                        // -> Err(RangeWraps), before any maintenance
    tbz w23, #1, <+0x1c0>
    and w8, w23, #0xfffe0000
    cmp w8, w28
    b.ne <+0x228>
    tbnz w23, #0, <+0x320>
    orr w1, w23, #0x1
    mov w0, w23
    mov x2, x21
    orr w19, w23, #0x1
    bl <__aarch64_cas4_acq>
    cmp w0, w23
    b.ne <+0x1e0>
    b <+0x31c>
    mov w8, #0x1fffe
    mov w0, w23
    mov x2, x21
    add w8, w23, w8
    and w1, w8, #0x1fffc
    mov w19, w1
    bl <__aarch64_cas4_acq_rel>
    cmp w0, w23
    b.ne <+0x1e0>
    tbz w23, #0, <+0x270>
    mov w0, #0x62
    mov x1, x21
    mov w2, #0x8a
    mov w3, #0x7fffffff
    mov x4, xzr
    mov x5, xzr
    mov w6, #0xffffffff
    bl <syscall@plt>                    // the membarrier (or futex) system call
    mov w0, w19
    b <+0x1e0>
    and w8, w23, w20
    mov w0, w23
    mov x2, x21
    orr w24, w8, w26
    mov w1, w24
    bl <__aarch64_cas4_acq_rel>
    cmp w0, w23
    b.eq <+0x360>
    mov w25, w0
    lsr w8, w25, #1
    mov w23, w25
    sub w8, w8, w22
    cmp w27, w8, uxth
    b.cs <+0xc4>                        // -> Err(RangeWraps), before any maintenance
    tbz w23, #1, <+0x278>
    and w8, w23, #0xfffe0000
    cmp w8, w28
    b.eq <+0x30c>
    mov w8, #0x1fffe
    mov w0, w23
    mov x2, x21
    add w8, w23, w8
    and w25, w8, #0x1fffc
    mov w1, w25
    bl <__aarch64_cas4_acq_rel>
    cmp w0, w23
    b.ne <+0x298>
    tbz w23, #0, <+0x29c>
    mov w0, #0x62
    mov x1, x21
    mov w2, #0x8a
    mov w3, #0x7fffffff
    mov x4, xzr
    mov x5, xzr
    mov w6, #0xffffffff
    bl <syscall@plt>                    // the membarrier (or futex) system call
    b <+0x29c>
    add w19, w19, #0x1
    isb                                 // discard this core's prefetched instructions
    ldr w25, [sp, #8]
    b <+0x344>
    mov w23, w19
    ldr w6, [sp, #12]
    mov w0, #0x62
    mov x1, x21
    mov w2, #0x89
    mov w3, w23
    mov x4, xzr
    mov x5, xzr
    bl <syscall@plt>                    // the membarrier (or futex) system call
    mov w19, wzr
    ldar w23, [x21]
    mov w0, #0x1
    lsr w8, w23, #1
    sub w8, w8, w22
    cmp w27, w8, uxth
    b.cc <+0x1b0>
    b <+0x41c>
    ldr w25, [sp, #8]
    adrp x19, PAGE
    ldr x19, [x19, #LO12]
    ldr w20, [sp, #20]
    mov w0, #0x11b
    mov w1, w25
    mov w2, wzr
    mov w3, wzr
    bl <syscall@plt>                    // the membarrier (or futex) system call
    tbnz x0, #63, <+0x390>
    mov w8, #0x1
    b <+0x3e0>
    bl <__errno_location@plt>
    ldr w9, [x0]
    eor w8, w20, #0x1
    cmp w9, #0x1
    csinc w8, w8, wzr, eq
    tbnz w8, #0, <+0x3dc>
    ldr w1, [sp, #16]
    mov w0, #0x11b
    mov w2, wzr
    mov w3, wzr
    bl <syscall@plt>                    // the membarrier (or futex) system call
    tbnz x0, #63, <+0x3d8>
    mov w0, #0x11b
    mov w1, w25
    mov w2, wzr
    mov w3, wzr
    bl <syscall@plt>                    // the membarrier (or futex) system call
    tbz x0, #63, <+0x388>
    bl <__errno_location@plt>
    mov w8, wzr
    str x19, [sp, #24]
    mov w19, w8
    str w24, [sp, #32]
    strb w8, [sp, #36]
    add x0, sp, #0x18
    bl <_ZN76_$LT$icache_coherence..coalesce..Flight$u20$as$u20$core..ops..drop..Drop$GT$4drop>
    mov w0, w19
    b <+0x41c>
    bl <_ZN16icache_coherence8coalesce4fork3imp8register>
    b <+0x10c>
    bl <_ZN16icache_coherence6policy9first_use>
    and w8, w0, #0xff
    cmp w8, #0x1
    b.ne <+0xc4>
    mov w0, wzr
    ldp x20, x19, [sp, #128]
    ldp x22, x21, [sp, #112]
    ldp x24, x23, [sp, #96]
    ldp x26, x25, [sp, #80]
    ldp x28, x27, [sp, #64]
    ldp x29, x30, [sp, #48]
    add sp, sp, #0x90
    ret
    bl <_RNvNtCs6Hz1PecaLG4_4core9panicking19panic_cannot_unwind>  // landing pad of the extern "C" wrapper; never reached
