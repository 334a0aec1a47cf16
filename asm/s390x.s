// Reviewed listing of the hot paths on s390x, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    lcgr %r0, %r3
    cghi %r0, 0
    ipm %r1
    afi %r1, -268435456
    srl %r1, 31
    clgr %r0, %r2
    ipm %r0
    xilf %r0, 4294967295
    rosbg %r1, %r0, 63, 63, 36
    llgfr %r2, %r1
    br %r14

listing_pipeline_flush_mt:
    lghi %r2, 1
    br %r14
    nopr %r7
    nopr %r7
    nopr %r7
    nopr %r7
    nopr %r7
