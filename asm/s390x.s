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

listing_clear_cache_dual:
    cgije %r4, 0, <+0x46>
    aghi %r4, -1
    lcgr %r0, %r2
    aghi %r0, -1
    clgr %r4, %r0
    ipm %r1
    afi %r1, -536870912
    srl %r1, 31
    lcgr %r0, %r3
    aghi %r0, -1
    clgr %r4, %r0
    ipm %r0
    afi %r0, -536870912
    srl %r0, 31
    nr %r0, %r1
    llgfr %r2, %r0
    br %r14
    lhi %r0, 1
    llgfr %r2, %r0
    br %r14

listing_clear_cache_ranges:
    stmg %r12, %r15, 96(%r15)
    sllg %r1, %r3, 4
    lgr %r4, %r2
    agr %r4, %r1
    lgr %r5, %r1
    lgr %r13, %r2
    lhi %r0, 0
    cgije %r5, 0, <+0xbc>
    lgr %r14, %r13
    lghi %r13, 0
    slg %r13, 8(%r14)
    jnle <+0x44>
    lg %r12, 0(%r14)
    clgrjl %r13, %r12, <+0x15c>
    la %r13, 16(%r14)
    cgrje %r13, %r4, <+0xbc>
    lghi %r13, 0
    slg %r13, 24(%r14)
    jnle <+0x68>
    lg %r12, 16(%r14)
    clgrjl %r13, %r12, <+0x15c>
    la %r13, 32(%r14)
    cgrje %r13, %r4, <+0xbc>
    lghi %r13, 0
    slg %r13, 40(%r14)
    jnle <+0x8c>
    lg %r12, 32(%r14)
    clgrjl %r13, %r12, <+0x15c>
    la %r13, 48(%r14)
    cgrje %r13, %r4, <+0xbc>
    aghi %r5, -64
    lghi %r12, 0
    slg %r12, 56(%r14)
    la %r13, 64(%r14)
    jnle <+0x20>
    lg %r14, 48(%r14)
    clgrjnl %r12, %r14, <+0x20>
    j <+0x15c>
    lhi %r0, 1
    cgije %r3, 0, <+0x15c>
    lay %r3, -64(%r1)
    lay %r4, -48(%r1)
    lay %r5, -32(%r1)
    lay %r1, -16(%r1)
    lghi %r14, 0
    ltg %r13, 8(%r14, %r2)
    je <+0xf6>
    lcgr %r13, %r13
    clg %r13, 0(%r14, %r2)
    cgrje %r1, %r14, <+0x15c>
    ltg %r13, 24(%r14, %r2)
    je <+0x110>
    lcgr %r13, %r13
    clg %r13, 16(%r14, %r2)
    cgrje %r5, %r14, <+0x15c>
    ltg %r13, 40(%r14, %r2)
    je <+0x12a>
    lcgr %r13, %r13
    clg %r13, 32(%r14, %r2)
    cgrje %r4, %r14, <+0x15c>
    ltg %r13, 56(%r14, %r2)
    je <+0x144>
    lcgr %r13, %r13
    clg %r13, 48(%r14, %r2)
    cgrje %r3, %r14, <+0x15c>
    la %r14, 64(%r14)
    ltg %r13, 8(%r14, %r2)
    jlh <+0xec>
    j <+0xf6>
    llgfr %r2, %r0
    lmg %r12, %r15, 96(%r15)
    br %r14
    nopr %r7
    nopr %r7
    nopr %r7
    nopr %r7

listing_pipeline_flush_local:
    br %r0
    br %r14
    nopr %r7
    nopr %r7
    nopr %r7
    nopr %r7
    nopr %r7
    nopr %r7

listing_pipeline_flush_mt:
    stmg %r6, %r15, 48(%r15)
    aghi %r15, -184
    lgrl %r1, <_GLOBAL_OFFSET_TABLE_+0x290>
    llc %r0, 0(%r1)
    cije %r0, 2, <+0x42>
    lhi %r13, 1
    cije %r0, 0, <+0x32>
    llgfr %r2, %r13
    lmg %r6, %r15, 232(%r15)
    br %r14
    brasl %r14, <_ZN16icache_coherence6policy9first_use>
    llcr %r0, %r2
    cijne %r0, 1, <+0x26>
    la %r2, 160(%r15)
    brasl %r14, <_ZN16icache_coherence2os5linux8coherent12strict_flush>
    cli 160(%r15), 5
    ipm %r13
    afi %r13, -268435456
    srl %r13, 31
    llgfr %r2, %r13
    lmg %r6, %r15, 232(%r15)
    br %r14
    brasl %r14, <_RNvNtCslg5ncV1NByl_4core9panicking19panic_cannot_unwind>
