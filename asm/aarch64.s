// Reviewed listing of the hot paths on aarch64, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    cbz x1, <+0xc0>                         // len == 0: Ok, no instruction issued
    stp x29, x30, [sp, #-32]!
    stp x20, x19, [sp, #16]
    mov x29, sp
    sub x8, x1, #0x1
    adds x19, x8, x0                        // last = ptr + (len - 1); carry set: the range wraps
    b.cs <+0xc8>                            // -> Err(RangeWraps), before any maintenance
    adrp x8, PAGE
    ldr x8, [x8, #LO12]
    ldar x8, [x8]                           // CTR_EL0 cached once per process (load-acquire)
    cbz x8, <+0xd8>                         // not read yet: the out-of-line once_cell init reads CTR_EL0
    tbnz w8, #28, <+0x68>                   // IDC: skip the DC loop
    ubfx x11, x8, #16, #4                   // DminLine: D line = 4 << field
    mov w9, #0x4
    lsl x9, x9, x11
    add x11, x11, #0x2
    neg x10, x9
    and x12, x19, x10
    and x10, x10, x0
    sub x12, x12, x10
    lsr x11, x12, x11
    add x11, x11, #0x1
    dc cvau, x10                            // clean one D line to PoU; 4 instructions per line
    subs x11, x11, #0x1
    add x10, x10, x9
    b.ne <+0x58>
    dsb ish                                 // cleans (and the code stores) complete
    tbnz w8, #29, <+0xac>                   // DIC: skip the IC loop and its DSB
    and x10, x8, #0xf                       // IminLine: I line = 4 << field
    mov w8, #0x4
    lsl x8, x8, x10
    add x10, x10, #0x2
    neg x9, x8
    and x11, x19, x9
    and x9, x9, x0
    sub x11, x11, x9
    lsr x10, x11, x10
    add x10, x10, #0x1
    ic ivau, x9                             // invalidate one I line to PoU, broadcast to every core
    subs x10, x10, #0x1
    add x9, x9, x8
    b.ne <+0x98>
    dsb ish                                 // invalidations complete before the ISB
    isb                                     // discard this core's prefetched instructions
    mov w0, #0x1
    ldp x20, x19, [sp, #16]
    ldp x29, x30, [sp], #32
    ret
    mov w0, #0x1
    ret
    mov w0, wzr
    ldp x20, x19, [sp, #16]
    ldp x29, x30, [sp], #32
    ret
    mov x20, x0
    bl <_ZN9once_cell4race16OnceNonZeroUsize4init>  // first use: probe, out of line
    mov x8, x0
    mov x0, x20
    tbz w8, #28, <+0x30>
    b <+0x68>

listing_clear_cache_with:
    cbz x2, <+0x98>                         // len == 0: Ok, no instruction issued
    sub x8, x2, #0x1
    adds x8, x8, x1                         // last = ptr + (len - 1); carry set: the range wraps
    b.cs <+0xa0>                            // -> Err(RangeWraps), before any maintenance
    ldr x9, [x0]                            // the given geometry's CTR_EL0 value
    tbnz w9, #28, <+0x50>                   // IDC: skip the DC loop
    ubfx x12, x9, #16, #4                   // DminLine: D line = 4 << field
    mov w10, #0x4
    lsl x10, x10, x12
    add x12, x12, #0x2
    neg x11, x10
    and x13, x8, x11
    and x11, x11, x1
    sub x13, x13, x11
    lsr x12, x13, x12
    add x12, x12, #0x1
    dc cvau, x11                            // clean one D line to PoU; 4 instructions per line
    subs x12, x12, #0x1
    add x11, x11, x10
    b.ne <+0x40>
    dsb ish                                 // cleans (and the code stores) complete
    tbnz w9, #29, <+0x94>                   // DIC: skip the IC loop and its DSB
    and x10, x9, #0xf                       // IminLine: I line = 4 << field
    mov w9, #0x4
    lsl x9, x9, x10
    add x10, x10, #0x2
    neg x11, x9
    and x12, x8, x11
    and x8, x11, x1
    sub x11, x12, x8
    lsr x10, x11, x10
    add x10, x10, #0x1
    ic ivau, x8                             // invalidate one I line to PoU, broadcast to every core
    subs x10, x10, #0x1
    add x8, x8, x9
    b.ne <+0x80>
    dsb ish                                 // invalidations complete before the ISB
    isb                                     // discard this core's prefetched instructions
    mov w0, #0x1
    ret
    mov w0, wzr
    ret

listing_pipeline_flush_mt:
    sub sp, sp, #0x40
    stp x29, x30, [sp, #32]
    stp x20, x19, [sp, #48]
    add x29, sp, #0x20
    adrp x8, PAGE
    ldr x8, [x8, #LO12]
    ldar x8, [x8]                           // CTR_EL0 cached once per process (load-acquire)
    cbz x8, <+0xa0>                         // not read yet: the out-of-line once_cell init reads CTR_EL0
    and w8, w8, #0xff
    cmp w8, #0x1
    b.eq <+0xd0>
    cmp w8, #0x2
    b.eq <+0x6c>
    cmp w8, #0x3
    b.ne <+0x148>
    mov w0, #0x11b                          // syscall 283 = membarrier
    mov w1, #0x1
    mov w2, wzr
    mov w3, wzr
    bl <syscall@plt>
    mov x8, x0
    mov w0, #0x1
    tbnz x8, #63, <+0x144>
    ldp x20, x19, [sp, #48]
    ldp x29, x30, [sp, #32]
    add sp, sp, #0x40
    ret
    mov w20, #0x10
    mov w19, #0x8
    mov w0, #0x11b
    mov w1, w19
    mov w2, wzr
    mov w3, wzr
    bl <syscall@plt>
    tbnz x0, #63, <+0xf0>
    mov w0, #0x1
    ldp x20, x19, [sp, #48]
    ldp x29, x30, [sp, #32]
    add sp, sp, #0x40
    ret
    adrp x0, PAGE
    add x8, sp, #0x8
    mov w1, #0x1
    ldr x0, [x0, #LO12]
    bl <_ZN9once_cell4race16OnceNonZeroUsize4init>  // first use: probe, out of line
    ldrb w8, [sp, #8]
    cmp w8, #0x4
    b.ne <+0x148>
    ldr x8, [sp, #16]
    and w8, w8, #0xff
    cmp w8, #0x1
    b.ne <+0x2c>
    mov w20, #0x40                          // MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    mov w19, #0x20                          // MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
    mov w0, #0x11b
    mov w1, w19
    mov w2, wzr
    mov w3, wzr
    bl <syscall@plt>
    tbz x0, #63, <+0x8c>
    bl <__errno_location@plt>
    ldr w8, [x0]
    cmp w8, #0x1
    b.ne <+0x148>
    mov w0, #0x11b
    mov w1, w20
    mov w2, wzr
    mov w3, wzr
    bl <syscall@plt>
    tbnz x0, #63, <+0x144>
    mov w0, #0x11b
    mov w1, w19
    mov w2, wzr
    mov w3, wzr
    bl <syscall@plt>
    tbnz x0, #63, <+0x144>
    mov w0, #0x1
    ldp x20, x19, [sp, #48]
    ldp x29, x30, [sp, #32]
    add sp, sp, #0x40
    ret
    bl <__errno_location@plt>
    mov w0, wzr
    ldp x20, x19, [sp, #48]
    ldp x29, x30, [sp, #32]
    add sp, sp, #0x40
    ret
    bl <_RNvNtCs6Hz1PecaLG4_4core9panicking19panic_cannot_unwind>
