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
    cgije %r4, 0, <+0x46>               // len == 0: nothing to do (Ok)
    aghi %r4, -1                        // len - 1
    lcgr %r0, %r2                       // -written ...
    aghi %r0, -1                        // ... - 1 = usize::MAX - written
    clgr %r4, %r0                       // len - 1 vs MAX - written (CC 2: wraps)
    ipm %r1                             // the CC into r1 bits 28-29
    afi %r1, -536870912                 // r1 - (2 << 28): negative iff CC < 2 ...
    srl %r1, 31                         // ... r1 = written range does not wrap
    lcgr %r0, %r3                       // -executed ...
    aghi %r0, -1                        // ... - 1 = usize::MAX - executed
    clgr %r4, %r0                       // len - 1 vs MAX - executed (CC 2: wraps)
    ipm %r0                             // the CC into r0 bits 28-29
    afi %r0, -536870912                 // r0 - (2 << 28): negative iff CC < 2 ...
    srl %r0, 31                         // ... r0 = executed range does not wrap
    nr %r0, %r1                         // both ranges valid
    llgfr %r2, %r0                      // return is_ok() (no maintenance: coherent)
    br %r14                             // return
    lhi %r0, 1                          // len == 0: true ...
    llgfr %r2, %r0                      // ... zero-extended into the return register
    br %r14                             // return

listing_clear_cache_ranges:
    stmg %r12, %r15, 96(%r15)           // save callee-saved r12-r15
    sllg %r1, %r3, 4                    // n * 16: the slice's size in bytes
    lgr %r4, %r2                        // end = ranges ...
    agr %r4, %r1                        // ... + n * 16
    lgr %r5, %r1                        // checked_ranges: bytes left to check
    lgr %r13, %r2                       // cursor = &ranges[0]
    lhi %r0, 0                          // result = false (if a range wraps)
    cgije %r5, 0, <+0xbc>               // loop head (4x unrolled): nothing left -> all ok
    lgr %r14, %r13                      // this pair (1 of 4)
    lghi %r13, 0                        // 0 ...
    slg %r13, 8(%r14)                   // ... - len: borrow (CC 1) iff len != 0
    jnle <+0x44>                        // len == 0: fine, next pair
    lg %r12, 0(%r14)                    // ptr
    clgrjl %r13, %r12, <+0x15c>         // 2^64 - len < ptr: wraps -> return false
    la %r13, 16(%r14)                   // cursor = pair 2 of 4
    cgrje %r13, %r4, <+0xbc>            // end of the slice -> all ok
    lghi %r13, 0                        // 0 ...
    slg %r13, 24(%r14)                  // ... - len (pair 2)
    jnle <+0x68>                        // len == 0: next pair
    lg %r12, 16(%r14)                   // ptr (pair 2)
    clgrjl %r13, %r12, <+0x15c>         // wraps -> return false
    la %r13, 32(%r14)                   // cursor = pair 3 of 4
    cgrje %r13, %r4, <+0xbc>            // end of the slice -> all ok
    lghi %r13, 0                        // 0 ...
    slg %r13, 40(%r14)                  // ... - len (pair 3)
    jnle <+0x8c>                        // len == 0: next pair
    lg %r12, 32(%r14)                   // ptr (pair 3)
    clgrjl %r13, %r12, <+0x15c>         // wraps -> return false
    la %r13, 48(%r14)                   // cursor = pair 4 of 4
    cgrje %r13, %r4, <+0xbc>            // end of the slice -> all ok
    aghi %r5, -64                       // bytes left -= 4 pairs
    lghi %r12, 0                        // 0 ...
    slg %r12, 56(%r14)                  // ... - len (pair 4)
    la %r13, 64(%r14)                   // cursor += 4 pairs
    jnle <+0x20>                        // len == 0: loop
    lg %r14, 48(%r14)                   // ptr (pair 4)
    clgrjnl %r12, %r14, <+0x20>         // no wrap: loop
    j <+0x15c>                          // wraps -> return false
    lhi %r0, 1                          // all checked: result = true
    cgije %r3, 0, <+0x15c>              // n == 0 -> return
    lay %r3, -64(%r1)                   // offsets of the last 4 pairs, for the exits ...
    lay %r4, -48(%r1)                   // ... of the unrolled loop below
    lay %r5, -32(%r1)                   // ...
    lay %r1, -16(%r1)                   // ... (r1 = the last pair's offset)
    lghi %r14, 0                        // dead pass (clear_cache is a no-op): offset 0
    ltg %r13, 8(%r14, %r2)              // len (pair 1 of 4)
    je <+0xf6>                          // empty: skip
    lcgr %r13, %r13                     // -len: CheckedRanges::next's wrap check ...
    clg %r13, 0(%r14, %r2)              // ... vs ptr; the CC is never used (dead)
    cgrje %r1, %r14, <+0x15c>           // last pair -> return
    ltg %r13, 24(%r14, %r2)             // len (pair 2)
    je <+0x110>                         // empty: skip
    lcgr %r13, %r13                     // -len (dead)
    clg %r13, 16(%r14, %r2)             // vs ptr (dead)
    cgrje %r5, %r14, <+0x15c>           // last pair -> return
    ltg %r13, 40(%r14, %r2)             // len (pair 3)
    je <+0x12a>                         // empty: skip
    lcgr %r13, %r13                     // -len (dead)
    clg %r13, 32(%r14, %r2)             // vs ptr (dead)
    cgrje %r4, %r14, <+0x15c>           // last pair -> return
    ltg %r13, 56(%r14, %r2)             // len (pair 4)
    je <+0x144>                         // empty: skip
    lcgr %r13, %r13                     // -len (dead)
    clg %r13, 48(%r14, %r2)             // vs ptr (dead)
    cgrje %r3, %r14, <+0x15c>           // last pair -> return
    la %r14, 64(%r14)                   // offset += 4 pairs
    ltg %r13, 8(%r14, %r2)              // len (next pair 1)
    jlh <+0xec>                         // non-empty: the (dead) wrap check
    j <+0xf6>                           // empty: the end check
    llgfr %r2, %r0                      // return result (true = Ok)
    lmg %r12, %r15, 96(%r15)            // restore r12-r15
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
