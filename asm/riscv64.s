// Reviewed listing of the hot paths on riscv64, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    add sp, sp, -80
    sd ra, 72(sp)
    sd s0, 64(sp)
    sd s1, 56(sp)
    beqz a1, <+0x3a>
    mv s0, a0
    add a1, a1, -1
    add s1, a1, a0
    bltu s1, a1, <+0x46>
    auipc a0, PAGE
    ld a0, LO12(a0)
    lb a0, LO12(a0)
    li a1, 1
    fence r, rw
    beq a0, a1, <+0x5e>
    zext.b a0, a0
    li a1, 2
    bne a0, a1, <+0x52>
    fence.i
    li a0, 1
    ld ra, 72(sp)
    ld s0, 64(sp)
    ld s1, 56(sp)
    add sp, sp, 80
    ret
    li a0, 0
    ld ra, 72(sp)
    ld s0, 64(sp)
    ld s1, 56(sp)
    add sp, sp, 80
    ret
    auipc ra, PAGE
    jalr LO12(ra)
    and a0, a0, 1
    bnez a0, <+0x36>
    add s1, s1, 1
    snez a0, s1
    add a0, a0, -1
    or a0, a0, s1
    sd s0, 32(sp)
    sd a0, 40(sp)
    sd zero, 48(sp)
    add a0, sp, 8
    add a1, sp, 32
    auipc ra, PAGE
    jalr LO12(ra)
    lbu a0, 8(sp)
    add a0, a0, -5
    seqz a0, a0
    ld ra, 72(sp)
    ld s0, 64(sp)
    ld s1, 56(sp)
    add sp, sp, 80
    ret
    auipc ra, PAGE
    jalr LO12(ra)

listing_clear_cache_dual:
    add sp, sp, -80
    sd ra, 72(sp)
    sd s0, 64(sp)
    sd s1, 56(sp)
    beqz a2, <+0x42>
    add a2, a2, -1
    not a0, a0
    bltu a0, a2, <+0x4e>
    mv s0, a1
    add s1, a2, a1
    bltu s1, a2, <+0x4e>
    auipc a0, PAGE
    ld a0, LO12(a0)
    lb a0, LO12(a0)
    li a1, 1
    fence r, rw
    beq a0, a1, <+0x66>
    zext.b a0, a0
    li a1, 2
    bne a0, a1, <+0x5a>
    fence.i
    li a0, 1
    ld ra, 72(sp)
    ld s0, 64(sp)
    ld s1, 56(sp)
    add sp, sp, 80
    ret
    li a0, 0
    ld ra, 72(sp)
    ld s0, 64(sp)
    ld s1, 56(sp)
    add sp, sp, 80
    ret
    auipc ra, PAGE
    jalr LO12(ra)
    and a0, a0, 1
    bnez a0, <+0x3e>
    add s1, s1, 1
    snez a0, s1
    add a0, a0, -1
    or a0, a0, s1
    sd s0, 32(sp)
    sd a0, 40(sp)
    sd zero, 48(sp)
    add a0, sp, 8
    add a1, sp, 32
    auipc ra, PAGE
    jalr LO12(ra)
    lbu a0, 8(sp)
    add a0, a0, -5
    seqz a0, a0
    ld ra, 72(sp)
    ld s0, 64(sp)
    ld s1, 56(sp)
    add sp, sp, 80
    ret
    auipc ra, PAGE
    jalr LO12(ra)

listing_clear_cache_ranges:
    add sp, sp, -96
    sd ra, 88(sp)
    sd s0, 80(sp)
    sd s1, 72(sp)
    sd s2, 64(sp)
    sd s3, 56(sp)
    sd s4, 48(sp)
    mv s3, a1
    mv s1, a0
    sll s4, a1, 0x4
    add s0, a0, s4
    mv a0, s4
    mv a1, s1
    beqz a0, <+0x38>
    mv a2, a1
    ld a3, 8(a1)
    add a1, a1, 16
    add a0, a0, -16
    beqz a3, <+0x1e>
    ld a2, 0(a2)
    neg a3, a3
    bgeu a3, a2, <+0x1e>
    li s2, 0
    j <+0x10a>
    auipc a0, PAGE
    ld a0, LO12(a0)
    lb a0, LO12(a0)
    li s2, 1
    fence r, rw
    beq a0, s2, <+0x8c>
    zext.b a0, a0
    li a1, 2
    bne a0, a1, <+0x80>
    li s2, 1
    beqz s3, <+0x10a>
    add s1, s1, 8
    ld a0, 0(s1)
    beqz a0, <+0x70>
    ld a1, -8(s1)
    neg a0, a0
    bgeu a0, a1, <+0x7a>
    add s4, s4, -16
    add s1, s1, 16
    bnez s4, <+0x60>
    j <+0x10a>
    fence.i
    j <+0x10a>
    auipc ra, PAGE
    jalr LO12(ra)
    and a0, a0, 1
    bnez a0, <+0x58>
    beqz s3, <+0x10a>
    li a3, 0
    j <+0x9e>
    add s1, s1, 16
    li a3, 1
    mv a1, a2
    beq s1, s0, <+0xe4>
    ld a4, 8(s1)
    beqz a4, <+0xc8>
    ld a2, 0(s1)
    add a5, a4, -1
    add a4, a5, a2
    bltu a4, a5, <+0xc8>
    and a3, a3, 1
    neg a5, a3
    and a5, a5, a0
    mv a0, a4
    bgeu a5, a4, <+0xd0>
    add a3, a3, -1
    or a1, a1, a3
    bltu a2, a1, <+0x94>
    j <+0xda>
    add s1, s1, 16
    bne s1, s0, <+0x9e>
    j <+0xde>
    mv a0, a5
    add a3, a3, -1
    or a1, a1, a3
    bltu a2, a1, <+0x94>
    mv a2, a1
    j <+0x94>
    and a3, a3, 1
    mv a2, a1
    beqz a3, <+0x10a>
    add a0, a0, 1
    snez a1, a0
    add a1, a1, -1
    or a0, a0, a1
    sd a2, 24(sp)
    sd a0, 32(sp)
    sd zero, 40(sp)
    mv a0, sp
    add a1, sp, 24
    auipc ra, PAGE
    jalr LO12(ra)
    lbu a0, 0(sp)
    add a0, a0, -5
    seqz s2, a0
    mv a0, s2
    ld ra, 88(sp)
    ld s0, 80(sp)
    ld s1, 72(sp)
    ld s2, 64(sp)
    ld s3, 56(sp)
    ld s4, 48(sp)
    add sp, sp, 96
    ret
    auipc ra, PAGE
    jalr LO12(ra)

listing_pipeline_flush_local:
    fence.i
    ret

listing_pipeline_flush_mt:
    add sp, sp, -48
    sd ra, 40(sp)
    sd s0, 32(sp)
    auipc a0, PAGE
    ld a0, LO12(a0)
    lb a0, LO12(a0)
    li s0, 1
    fence r, rw
    beq a0, s0, <+0x3a>
    zext.b a0, a0
    li a1, 2
    bne a0, a1, <+0x44>
    add a0, sp, 8
    auipc ra, PAGE
    jalr LO12(ra)
    lbu a0, 8(sp)
    add a0, a0, -5
    seqz s0, a0
    mv a0, s0
    ld ra, 40(sp)
    ld s0, 32(sp)
    add sp, sp, 48
    ret
    auipc ra, PAGE
    jalr LO12(ra)
    and a0, a0, 1
    bnez a0, <+0x26>
    j <+0x3a>
    auipc ra, PAGE
    jalr LO12(ra)
