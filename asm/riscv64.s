// Reviewed listing of the hot paths on riscv64, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    add sp, sp, -80                     // frame (the out-of-line calls below)
    sd ra, 72(sp)                       // save the return address
    sd s0, 64(sp)                       // callee-saved: s0 = ptr across calls
    sd s1, 56(sp)                       // callee-saved: s1 = last across calls
    beqz a1, <+0x3a>                    // len == 0: nothing to do (Ok)
    mv s0, a0                           // keep ptr (range start, the syscall's start)
    add a1, a1, -1                      // len - 1
    add s1, a1, a0                      // last = ptr + (len - 1)
    bltu s1, a1, <+0x46>                // last < len - 1: the range wraps -> Err(RangeWraps)
    auipc a0, PAGE                      // GOT entry of os::linux::riscv64::MODE ...
    ld a0, LO12(a0)                     // ... a0 = &MODE (AtomicU8: 0 undecided, 1, 2)
    lb a0, 0(a0)                        // mode(): load MODE (the GOT gave its address)
    li a1, 1                            // 1 = RiscvMode::Syscall
    fence r, rw                         // ... Acquire: the load-acquire's fence
    beq a0, a1, <+0x5e>                 // Syscall: riscv_flush_icache(start, end, 0)
    zext.b a0, a0                       // the byte, zero-extended (redundant after lb)
    li a1, 2                            // 2 = RiscvMode::FenceI
    bne a0, a1, <+0x52>                 // 0: not decided yet -> decide() out of line
    fence.i                             // FenceI mode (prctl on): sync this hart's fetch
    li a0, 1                            // return true (Ok)
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return
    li a0, 0                            // return false (Err(RangeWraps))
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return
    auipc ra, PAGE                      // cold: call decide() (policy, membarrier, prctl)
    jalr LO12(ra)                       // ... a0 = the mode (0 Syscall, 1 FenceI)
    and a0, a0, 1                       // FenceI?
    bnez a0, <+0x36>                    // yes: fence.i
    add s1, s1, 1                       // end = last + 1 ...
    snez a0, s1                         // ... did it not overflow?
    add a0, a0, -1                      // all-ones if it overflowed, else 0
    or a0, a0, s1                       // end = last.saturating_add(1)
    sd s0, 32(sp)                       // args.0 = start
    sd a0, 40(sp)                       // args.1 = end (exclusive)
    sd zero, 48(sp)                     // args.2 = flags 0: all threads of the process
    add a0, sp, 8                       // result slot
    add a1, sp, 32                      // &args (the tuple is passed by reference)
    auipc ra, PAGE                      // call flush_icache_syscall(args) ...
    jalr LO12(ra)                       // ... syscall 259 riscv_flush_icache, out of line
    lbu a0, 8(sp)                       // result tag
    add a0, a0, -5                      // 5 = Ok ...
    seqz a0, a0                         // ... return result.is_ok()
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return
    auipc ra, PAGE                      // landing pad of the extern "C" wrapper ...
    jalr LO12(ra)                       // ... panic_cannot_unwind (abort); never reached

listing_clear_cache_dual:
    add sp, sp, -80                     // frame (the out-of-line calls below)
    sd ra, 72(sp)                       // save the return address
    sd s0, 64(sp)                       // callee-saved: s0 = executed start across calls
    sd s1, 56(sp)                       // callee-saved: s1 = executed last across calls
    beqz a2, <+0x42>                    // len == 0: nothing to do (Ok)
    add a2, a2, -1                      // len - 1
    not a0, a0                          // usize::MAX - written
    bltu a0, a2, <+0x4e>                // written + (len - 1) wraps -> Err(RangeWraps)
    mv s0, a1                           // keep the executed alias's start
    add s1, a2, a1                      // executed last = executed + (len - 1)
    bltu s1, a2, <+0x4e>                // carry: the executed range wraps -> Err(RangeWraps)
    auipc a0, PAGE                      // GOT entry of os::linux::riscv64::MODE ...
    ld a0, LO12(a0)                     // ... a0 = &MODE (AtomicU8: 0 undecided, 1, 2)
    lb a0, 0(a0)                        // mode(): load MODE (the GOT gave its address)
    li a1, 1                            // 1 = RiscvMode::Syscall
    fence r, rw                         // ... Acquire: the load-acquire's fence
    beq a0, a1, <+0x66>                 // Syscall: riscv_flush_icache on the executed alias
    zext.b a0, a0                       // the byte, zero-extended (redundant after lb)
    li a1, 2                            // 2 = RiscvMode::FenceI
    bne a0, a1, <+0x5a>                 // 0: not decided yet -> decide() out of line
    fence.i                             // FenceI mode (prctl on): sync this hart's fetch
    li a0, 1                            // return true (Ok)
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return
    li a0, 0                            // return false (Err(RangeWraps))
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return
    auipc ra, PAGE                      // cold: call decide() (policy, membarrier, prctl)
    jalr LO12(ra)                       // ... a0 = the mode (0 Syscall, 1 FenceI)
    and a0, a0, 1                       // FenceI?
    bnez a0, <+0x3e>                    // yes: fence.i
    add s1, s1, 1                       // end = executed last + 1 ...
    snez a0, s1                         // ... did it not overflow?
    add a0, a0, -1                      // all-ones if it overflowed, else 0
    or a0, a0, s1                       // end = last.saturating_add(1)
    sd s0, 32(sp)                       // args.0 = executed start
    sd a0, 40(sp)                       // args.1 = end (exclusive)
    sd zero, 48(sp)                     // args.2 = flags 0: all threads of the process
    add a0, sp, 8                       // result slot
    add a1, sp, 32                      // &args (the tuple is passed by reference)
    auipc ra, PAGE                      // call flush_icache_syscall(args) ...
    jalr LO12(ra)                       // ... syscall 259 riscv_flush_icache, out of line
    lbu a0, 8(sp)                       // result tag
    add a0, a0, -5                      // 5 = Ok ...
    seqz a0, a0                         // ... return result.is_ok()
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return
    auipc ra, PAGE                      // landing pad of the extern "C" wrapper ...
    jalr LO12(ra)                       // ... panic_cannot_unwind (abort); never reached

listing_clear_cache_ranges:
    add sp, sp, -80                     // frame (the out-of-line calls below)
    sd ra, 72(sp)                       // save the return address
    sd s0, 64(sp)                       // callee-saved registers
    sd s1, 56(sp)                       // callee-saved registers
    sd s2, 48(sp)                       // callee-saved registers
    mv s2, a1                           // keep n
    mv s0, a0                           // keep the slice's address
    sll a0, a1, 0x4                     // n * 16: the slice's size in bytes (checked_ranges: bytes left)
    add s1, s0, a0                      // end of the slice
    mv a1, s0                           // cursor = &ranges[0]
    beqz a0, <+0x3c>                    // every range checked -> MODE
    mv a2, a1                           // this pair's address
    ld a3, 8(a1)                        // len
    add a1, a1, 16                      // cursor to the next pair
    add a0, a0, -16                     // bytes left -= 16
    beqz a3, <+0x18>                    // len == 0: fine, next range
    ld a2, 0(a2)                        // ptr
    neg a3, a3                          // 2^64 - len
    bgeu a3, a2, <+0x18>                // ptr <= 2^64 - len: no wrap, next range
    li a0, 0                            // wraps: return false (Err(RangeWraps)), no flush
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    ld s2, 48(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return
    auipc a0, PAGE                      // GOT entry of os::linux::riscv64::MODE ...
    ld a0, LO12(a0)                     // ... a0 = &MODE (AtomicU8: 0 undecided, 1, 2)
    lb a0, 0(a0)                        // mode(): load MODE (the GOT gave its address)
    li a1, 1                            // 1 = RiscvMode::Syscall
    fence r, rw                         // ... Acquire: the load-acquire's fence
    beq a0, a1, <+0x88>                 // Syscall: one riscv_flush_icache over the hull
    zext.b a0, a0                       // the byte, zero-extended (redundant after lb)
    li a1, 2                            // 2 = RiscvMode::FenceI
    bne a0, a1, <+0x7c>                 // 0: not decided yet -> decide() out of line
    sll s2, s2, 0x4                     // FenceI mode: n * 16, bytes to scan
    li a0, 1                            // result true
    beqz s2, <+0x70>                    // n == 0: no range, no fence.i -> return true
    ld a1, 8(s0)                        // is-some scan: len
    add s0, s0, 16                      // next pair
    add s2, s2, -16                     // bytes left -= 16
    beqz a1, <+0x60>                    // empty: look at the next (a non-empty range -> fence.i)
    fence.i                             // one fence.i for the whole batch (this hart)
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    ld s2, 48(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return true
    auipc ra, PAGE                      // cold: call decide() (policy, membarrier, prctl)
    jalr LO12(ra)                       // ... a0 = the mode (0 Syscall, 1 FenceI)
    and a0, a0, 1                       // FenceI?
    bnez a0, <+0x5c>                    // yes: the fence.i path
    li a2, 0                            // hull acc = None
    mv a3, s0                           // cursor
    beq a3, s1, <+0xc6>                 // end of the slice -> the syscall
    ld a4, 8(a3)                        // len
    add s0, a3, 16                      // cursor to the next pair
    mv a3, s0                           // cursor
    beqz a4, <+0x8c>                    // empty: skip
    ld a3, -16(s0)                      // start (ptr)
    and a2, a2, 1                       // acc is Some?
    neg a5, a2                          // all-ones if Some
    add a4, a4, a3                      // ptr + len (checked not to wrap: no second check)
    add a0, a4, -1                      // last = ptr + len - 1
    and a4, a5, a6                      // old hi if Some, else 0
    mv a6, a0                           // hi = last ...
    bltu a4, a0, <+0xb6>                // ... unless old hi >= last: hi.max(last)
    mv a6, a4                           // hi = old hi
    add a2, a2, -1                      // 0 if Some, all-ones if None
    or a1, a1, a2                       // old lo, or usize::MAX if None
    bltu a3, a1, <+0xc0>                // start < lo: lo = start
    mv a3, a1                           // else lo = old lo
    li a2, 1                            // acc = Some
    mv a1, a3                           // lo
    j <+0x8a>                           // -> next pair
    and a2, a2, 1                       // end of the slice: acc is Some?
    beqz a2, <+0xfe>                    // None (all empty): Ok, no syscall
    add a6, a6, 1                       // end = hi + 1 ...
    snez a0, a6                         // ... did it not overflow?
    add a0, a0, -1                      // all-ones if it overflowed, else 0
    or a0, a0, a6                       // end = hi.saturating_add(1)
    sd a1, 24(sp)                       // args.0 = lo
    sd a0, 32(sp)                       // args.1 = end (exclusive)
    sd zero, 40(sp)                     // args.2 = flags 0: all threads of the process
    mv a0, sp                           // result slot
    add a1, sp, 24                      // &args (the tuple is passed by reference)
    auipc ra, PAGE                      // call flush_icache_syscall(args) ...
    jalr LO12(ra)                       // ... syscall 259 riscv_flush_icache, out of line
    lbu a0, 0(sp)                       // result tag
    add a0, a0, -5                      // 5 = Ok ...
    seqz a0, a0                         // ... result = result.is_ok()
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    ld s2, 48(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return
    li a0, 1                            // return true (Ok)
    ld ra, 72(sp)                       // restore the return address
    ld s0, 64(sp)                       // restore callee-saved registers
    ld s1, 56(sp)                       // restore callee-saved registers
    ld s2, 48(sp)                       // restore callee-saved registers
    add sp, sp, 80                      // pop the frame
    ret                                 // return
    auipc ra, PAGE                      // landing pad of the extern "C" wrapper ...
    jalr LO12(ra)                       // ... panic_cannot_unwind (abort); never reached

listing_pipeline_flush_local:
    fence.i                             // FENCE.I: this hart fetches the new code
    ret                                 // return

listing_pipeline_flush_mt:
    add sp, sp, -48                     // frame (the out-of-line calls below)
    sd ra, 40(sp)                       // save the return address
    sd s0, 32(sp)                       // callee-saved: s0 = the result
    auipc a0, PAGE                      // GOT entry of os::linux::riscv64::MODE ...
    ld a0, LO12(a0)                     // ... a0 = &MODE (AtomicU8: 0 undecided, 1, 2)
    lb a0, 0(a0)                        // mode(): load MODE (the GOT gave its address)
    li s0, 1                            // 1 = RiscvMode::Syscall (also: result true)
    fence r, rw                         // ... Acquire: the load-acquire's fence
    beq a0, s0, <+0x4e>                 // Syscall: clear_cache did it all -> the policy check, then Ok
    zext.b a0, a0                       // the byte, zero-extended (redundant after lb)
    li a1, 2                            // 2 = RiscvMode::FenceI
    bne a0, a1, <+0x42>                 // 0: not decided yet -> decide() out of line
    add a0, sp, 8                       // FenceI mode: result slot
    auipc ra, PAGE                      // call membarrier_flush() (inline(never)) ...
    jalr LO12(ra)                       // ... membarrier SYNC_CORE via STATE, coalesced
    lbu a0, 8(sp)                       // result tag
    add a0, a0, -5                      // 5 = Ok ...
    seqz a0, a0                         // ... return value = result.is_ok()
    ld ra, 40(sp)                       // restore the return address
    ld s0, 32(sp)                       // restore callee-saved registers
    add sp, sp, 48                      // pop the frame
    ret                                 // return
    auipc ra, PAGE                      // cold: call decide() (membarrier, prctl when eager)
    jalr LO12(ra)                       // ... a0 = the mode (0 Syscall, 1 FenceI)
    and a0, a0, 1                       // FenceI?
    bnez a0, <+0x26>                    // yes: membarrier
    auipc a0, PAGE                      // Syscall mode: GOT entry of policy::POLICY ...
    ld a0, LO12(a0)                     // ... a0 = &POLICY (the decided policy, 0 = none yet)
    lb a0, 0(a0)                        // policy::current(): the first flush fixes the policy
    beqz a0, <+0x66>                    // 0: no policy yet -> first_use() out of line
    mv a0, s0                           // return value: true (Ok)
    ld ra, 40(sp)                       // restore the return address
    ld s0, 32(sp)                       // restore callee-saved registers
    add sp, sp, 48                      // pop the frame
    ret                                 // return
    auipc ra, PAGE                      // cold: call policy::first_use() ...
    jalr LO12(ra)                       // ... fixes BestEffort (origin: the first flush)
    j <+0x5c>                           // then Ok
    auipc ra, PAGE                      // landing pad of the extern "C" wrapper ...
    jalr LO12(ra)                       // ... panic_cannot_unwind (abort); never reached
