// Reviewed listing of the hot paths on riscv64, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    add sp, sp, -16
    sd ra, 8(sp)
    sd s0, 0(sp)
    li s0, 1
    beqz a1, <+0x34>
    mv a3, a0
    add a1, a1, -1
    add a0, a0, a1
    bltu a0, a1, <+0x46>
    add a0, a0, 1
    snez a1, a0
    add a1, a1, -1
    or a2, a1, a0
    li a0, 259
    mv a1, a3
    li a3, 0
    auipc ra, PAGE
    jalr LO12(ra)
    bltz a0, <+0x3e>
    mv a0, s0
    ld ra, 8(sp)
    ld s0, 0(sp)
    add sp, sp, 16
    ret
    auipc ra, PAGE
    jalr LO12(ra)
    li a0, 0
    ld ra, 8(sp)
    ld s0, 0(sp)
    add sp, sp, 16
    ret

listing_pipeline_flush_mt:
    li a0, 1
    ret
