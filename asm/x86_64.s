// Reviewed listing of the hot paths on x86_64, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    test %rsi, %rsi                     // len == 0?
    sete %cl                            // cl = empty range (Ok(None))
    neg %rsi                            // 2^64 - len
    cmp %rdi, %rsi                      // vs ptr: ptr + (len - 1) wraps iff ptr > 2^64 - len
    setae %al                           // al = no wrap
    or %cl, %al                         // return empty || no wrap (clear_cache is Ok(()))
    ret                                 // return

listing_clear_cache_dual:
    push %rax                           // frame: keeps rsp 16-byte aligned for the IRET block (asm! without nostack)
    test %rdx, %rdx                     // len == 0?
    je <+0x62>                          // yes: nothing to do (Ok)
    dec %rdx                            // len - 1
    mov %rsi, %rax                      // rax = executed ...
    add %rdx, %rax                      // ... + (len - 1)
    setb %cl                            // cl = the executed range wraps
    xor %eax, %eax                      // result = false (Err(RangeWraps)) unless cleared below
    add %rdi, %rdx                      // written + (len - 1)
    jb <+0x64>                          // the written range wraps: return false
    test %cl, %cl                       // the executed range wraps?
    jne <+0x64>                         // yes: return false
    cmp %rsi, %rdi                      // written == executed?
    je <+0x62>                          // yes: same alias, no serialisation (coherent fetch): return true
    mov REL(%rip), %rax                 // rax = &arch::x86::SERIALIZER (from the GOT)
    movzbl (%rax), %eax                 // relaxed load of the cached choice (0 = not probed)
    cmp $0x1, %al                       // 1 = USE_SERIALIZE?
    je <+0x5f>                          // yes: SERIALIZE
    movzbl %al, %eax                    // zero-extend again (redundant)
    cmp $0x2, %eax                      // 2 = USE_IRET?
    jne <+0x66>                         // no (0): cold first use, probe CPUID
    sub $0x80, %rsp                     // IRET to self: skip the 128-byte SysV red zone
    mov %ss, %eax                       // SS ...
    push %rax                           // ... pushed (frame: SS)
    lea 0x8(%rsp), %rax                 // RSP as it will be after IRET pops the frame ...
    push %rax                           // ... pushed (frame: RSP)
    pushf                               // RFLAGS pushed (frame: RFLAGS)
    mov %cs, %eax                       // CS ...
    push %rax                           // ... pushed (frame: CS)
    lea REL(%rip), %rax                 // address of the next instruction ...
    push %rax                           // ... pushed (frame: RIP)
    iretq                               // IRETQ: serialising; resumes right below with every register restored
    add $0x80, %rsp                     // give the red zone back
    jmp <+0x62>                         // -> return true
    serialize                           // SERIALIZE (0f 01 e8): serialise this core
    mov $0x1, %al                       // return true (Ok)
    pop %rcx                            // pop the frame
    ret                                 // return
    call *REL(%rip)                     // cold: serialize_first_use(): CPUID probe, cache, serialise
    mov $0x1, %al                       // return true
    jmp <+0x64>                         // -> return
    call *REL(%rip)                     // landing pad of the extern "C" wrapper: panic_cannot_unwind (abort); never reached

listing_clear_cache_ranges:
    shl $0x4, %rsi                      // n * 16: the slice's size in bytes
    data16 data16 cs nopw 0x0(%rax, %rax, 1)  // padding: aligns the loop head at +0x10
    mov %rsi, %rax                      // rax = bytes left: nonzero on exit = a range wrapped
    test %rsi, %rsi                     // nothing left?
    je <+0x30>                          // yes: every range checked
    mov %rdi, %rcx                      // this pair
    add $0x10, %rdi                     // cursor to the next pair
    lea -0x10(%rax), %rsi               // bytes left -= 16
    xor %edx, %edx                      // 0 ...
    sub 0x8(%rcx), %rdx                 // ... - len: borrow (CF) iff len != 0
    jae <+0x10>                         // len == 0: fine, next pair
    cmp (%rcx), %rdx                    // 2^64 - len vs ptr
    jae <+0x10>                         // no wrap: next pair (a wrap falls through, rax != 0)
    test %rax, %rax                     // rax == 0: no range wrapped
    sete %al                            // return true (Ok), or false (Err(RangeWraps)); nothing else to do
    ret                                 // return

listing_pipeline_flush_local:
    push %rax                           // frame: keeps rsp 16-byte aligned for the IRET block (asm! without nostack)
    mov REL(%rip), %rax                 // rax = &arch::x86::SERIALIZER (from the GOT)
    movzbl (%rax), %eax                 // relaxed load of the cached choice (0 = not probed)
    cmp $0x1, %al                       // 1 = USE_SERIALIZE?
    je <+0x3e>                          // yes: SERIALIZE
    movzbl %al, %eax                    // zero-extend again (redundant)
    cmp $0x2, %eax                      // 2 = USE_IRET?
    jne <+0x43>                         // no (0): cold first use, probe CPUID
    sub $0x80, %rsp                     // IRET to self: skip the 128-byte SysV red zone
    mov %ss, %eax                       // SS ...
    push %rax                           // ... pushed (frame: SS)
    lea 0x8(%rsp), %rax                 // RSP as it will be after IRET pops the frame ...
    push %rax                           // ... pushed (frame: RSP)
    pushf                               // RFLAGS pushed (frame: RFLAGS)
    mov %cs, %eax                       // CS ...
    push %rax                           // ... pushed (frame: CS)
    lea REL(%rip), %rax                 // address of the next instruction ...
    push %rax                           // ... pushed (frame: RIP)
    iretq                               // IRETQ: serialising; resumes right below with every register restored
    add $0x80, %rsp                     // give the red zone back
    pop %rax                            // pop the frame
    ret                                 // return
    serialize                           // SERIALIZE (0f 01 e8): serialise this core
    pop %rax                            // pop the frame
    ret                                 // return
    call *REL(%rip)                     // cold: serialize_first_use(): CPUID probe, cache USE_SERIALIZE or USE_IRET, serialise
    jmp <+0x3c>                         // -> pop the frame, return
    call *REL(%rip)                     // landing pad of the extern "C" wrapper: panic_cannot_unwind (abort); never reached

listing_pipeline_flush_mt:
    push %rbx                           // callee-saved: bl = the result
    sub $0x20, %rsp                     // frame: result slot at 8(%rsp), alignment
    mov REL(%rip), %rax                 // rax = &policy::POLICY (from the GOT)
    movzbl (%rax), %eax                 // policy::current(): POLICY, one relaxed load
    cmp $0x2, %al                       // 2 = Strict?
    je <+0x2e>                          // yes: strict_flush (membarrier)
    movzbl %al, %eax                    // zero-extend again (redundant)
    mov $0x1, %bl                       // result = true (coherent fetch: nothing to do)
    test %eax, %eax                     // 0: not chosen yet?
    je <+0x24>                          // yes: policy::first_use()
    mov %ebx, %eax                      // return value
    add $0x20, %rsp                     // pop the frame
    pop %rbx                            // restore rbx
    ret                                 // return
    call *REL(%rip)                     // cold: policy::first_use(): CAS POLICY 0 -> BestEffort
    cmp $0x1, %al                       // FlushPolicy::Strict (1)?
    jne <+0x1c>                         // no: Ok
    lea 0x8(%rsp), %rdi                 // Strict: result slot
    call *REL(%rip)                     // coherent::strict_flush(): membarrier SYNC_CORE
    cmpb $0x5, 0x8(%rsp)                // result tag 5 = Ok?
    sete %bl                            // result = is_ok()
    mov %ebx, %eax                      // return value
    add $0x20, %rsp                     // pop the frame
    pop %rbx                            // restore rbx
    ret                                 // return
    call *REL(%rip)                     // landing pad: panic_cannot_unwind (abort); never reached
