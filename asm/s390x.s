// Reviewed listing of the hot paths on s390x, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    lcgr %r0, %r3                       // r0 = -len = 2^64 - len
    cghi %r0, 0                         // len == 0? (CC 0: empty range, Ok(None))
    ipm %r1                             // the CC into r1 bits 28-29
    afi %r1, -268435456                 // r1 - (1 << 28): negative iff CC == 0 ...
    srl %r1, 31                         // ... r1 = (len == 0)
    clgr %r0, %r2                       // 2^64 - len vs ptr: CC 1 (low) = the range wraps
    ipm %r0                             // the CC into r0
    xilf %r0, 4294967295                // invert: bit 28 = !(CC & 1) = no wrap
    rosbg %r1, %r0, 63, 63, 36          // r1 |= that bit: empty || no wrap
    llgfr %r2, %r1                      // return is_ok() (clear_cache is Ok(()) here)
    br %r14                             // return

listing_clear_cache_dual:
    cgije %r4, 0, <+0x36>               // len == 0: nothing to do (Ok)
    aghi %r4, -1                        // len - 1
    lgr %r0, %r3                        // executed ...
    algr %r0, %r4                       // ... + (len - 1): CC carry = the executed range wraps
    ipm %r1                             // the CC into r1 bits 28-29
    algr %r4, %r2                       // written + (len - 1): CC carry = the written range wraps
    lhi %r0, 0                          // result = false (Err(RangeWraps))
    jnle <+0x3a>                        // the written range wraps: return false
    risbgz %r1, %r1, 63, 63, 35         // r1 = the executed range's carry (from the saved CC)
    cijne %r1, 0, <+0x3a>               // it wraps: return false
    cgrje %r2, %r3, <+0x36>             // written == executed: no serialisation, return true
    br %r0                              // BCR 15,0 (objdump: br %r0, a branch to nowhere): serialise, aliases differ
    lhi %r0, 1                          // len == 0: true ...
    llgfr %r2, %r0                      // ... zero-extended into the return register
    br %r14                             // return

listing_clear_cache_ranges:
    sllg %r0, %r3, 4                    // n * 16: bytes left to check
    lgr %r1, %r2                        // end = ranges ...
    agr %r1, %r0                        // ... + n * 16
    lhi %r3, 1                          // loop head (+0xe, 4x unrolled): result = true
    cgije %r0, 0, <+0xb0>               // no bytes left: return true
    lgr %r4, %r2                        // r4 = this group of four pairs
    lghi %r2, 0                         // 0 ...
    slg %r2, 8(%r4)                     // ... - len: borrow (CC 1) iff len != 0
    jnle <+0x36>                        // len == 0: fine, next pair
    lg %r5, 0(%r4)                      // ptr
    clgrjl %r2, %r5, <+0xb6>            // 2^64 - len < ptr: wraps -> return false
    la %r2, 16(%r4)                     // pair 2 of 4
    cgrje %r2, %r1, <+0xb0>             // end of the slice -> return true
    lghi %r2, 0                         // 0 ...
    slg %r2, 24(%r4)                    // ... - len (pair 2)
    jnle <+0x5a>                        // len == 0: next pair
    lg %r5, 16(%r4)                     // ptr (pair 2)
    clgrjl %r2, %r5, <+0xb6>            // wraps -> return false
    la %r2, 32(%r4)                     // pair 3 of 4
    cgrje %r2, %r1, <+0xb0>             // end of the slice -> return true
    lghi %r2, 0                         // 0 ...
    slg %r2, 40(%r4)                    // ... - len (pair 3)
    jnle <+0x7e>                        // len == 0: next pair
    lg %r5, 32(%r4)                     // ptr (pair 3)
    clgrjl %r2, %r5, <+0xb6>            // wraps -> return false
    la %r2, 48(%r4)                     // pair 4 of 4
    cgrje %r2, %r1, <+0xb0>             // end of the slice -> return true
    aghi %r0, -64                       // bytes left -= 4 pairs
    lghi %r3, 0                         // 0 ... (r3 as scratch)
    slg %r3, 56(%r4)                    // ... - len (pair 4)
    la %r2, 64(%r4)                     // next group of four
    jnle <+0xe>                         // len == 0: loop (the head sets result = true)
    lg %r4, 48(%r4)                     // ptr (pair 4)
    clgr %r3, %r4                       // 2^64 - len vs ptr (pair 4)
    lhi %r3, 0                          // result = false, returned if the branch is not taken (wrap)
    jhe <+0xe>                          // no wrap: loop
    llgfr %r2, %r3                      // zero-extend the result
    br %r14                             // return (the coherent backend walks nothing more)
    lhi %r3, 0                          // wraps: result = false
    llgfr %r2, %r3                      // zero-extend the result
    br %r14                             // return

listing_pipeline_flush_local:
    br %r0                              // bcr 15,0: serialise (R2 = 0: no branch)
    br %r14                             // return

listing_pipeline_flush_mt:
    stmg %r6, %r15, 48(%r15)            // save r6-r15 (only r13-r15 are used)
    aghi %r15, -184                     // frame: 160-byte save area + result slot
    lgrl %r1, <GOT>                     // r1 = &policy::POLICY (from the GOT)
    llc %r0, 0(%r1)                     // policy::current(): POLICY, one relaxed load
    cije %r0, 2, <+0x42>                // 2 = Strict -> strict_flush (membarrier)
    lhi %r13, 1                         // result = true (coherent fetch: nothing to do)
    cije %r0, 0, <+0x32>                // 0 = not chosen yet -> policy::first_use()
    llgfr %r2, %r13                     // return value
    lmg %r6, %r15, 232(%r15)            // restore r6-r15, pop the frame
    br %r14                             // return
    brasl %r14, <_ZN16icache_coherence6policy9first_use>  // cold: CAS POLICY 0 -> BestEffort
    llcr %r0, %r2                       // the policy (0 BestEffort, 1 Strict, 2 NoSyscalls)
    cijne %r0, 1, <+0x26>               // not Strict: Ok
    la %r2, 160(%r15)                   // Strict: result slot
    brasl %r14, <_ZN16icache_coherence2os5linux8coherent12strict_flush>  // membarrier SYNC_CORE (inline(never))
    cli 160(%r15), 5                    // result tag 5 = Ok?
    ipm %r13                            // the CC into r13 bits 28-29
    afi %r13, -268435456                // r13 - (1 << 28): negative iff CC == 0 ...
    srl %r13, 31                        // ... r13 = result.is_ok()
    llgfr %r2, %r13                     // return value
    lmg %r6, %r15, 232(%r15)            // restore r6-r15, pop the frame
    br %r14                             // return
    brasl %r14, <_RNvNtCslg5ncV1NByl_4core9panicking19panic_cannot_unwind>  // landing pad of the extern "C" wrapper; never reached
