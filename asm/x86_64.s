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
    test %rdx, %rdx                     // len == 0?
    je <+0x1d>                          // yes: nothing to do (Ok)
    dec %rdx                            // len - 1
    not %rdi                            // usize::MAX - written
    cmp %rdi, %rdx                      // len - 1 vs MAX - written
    setbe %cl                           // cl = the written range does not wrap
    not %rsi                            // usize::MAX - executed
    cmp %rsi, %rdx                      // len - 1 vs MAX - executed
    setbe %al                           // al = the executed range does not wrap
    and %cl, %al                        // return both valid (no maintenance: coherent)
    ret                                 // return
    mov $0x1, %al                       // len == 0: return true
    ret                                 // return

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
    mov REL(%rip), %rsi                 // rsi = &arch::x86::SERIALIZER (from the GOT)
    movzbl (%rsi), %eax                 // relaxed load of the cached choice (0 = not probed)
    cmp $0x1, %al                       // 1 = USE_SERIALIZE?
    je <+0x50>                          // yes: SERIALIZE
    movzbl %al, %eax                    // zero-extend again (redundant)
    test %eax, %eax                     // 0: not probed yet?
    jne <+0x40>                         // no, 2 = USE_CPUID: serialise with CPUID
    xor %eax, %eax                      // has_serialize(): CPUID leaf 0 ...
    xor %ecx, %ecx                      // ... subleaf 0
    mov %rbx, %rdi                      // save rbx (reserved by LLVM; CPUID writes ebx)
    cpuid                               // eax = the highest basic leaf
    xchg %rdi, %rbx                     // restore rbx
    cmp $0x7, %eax                      // leaf 7 exists?
    jb <+0x3d>                          // no: no SERIALIZE, use CPUID
    mov $0x7, %eax                      // CPUID leaf 7 ...
    xor %ecx, %ecx                      // ... subleaf 0
    mov %rbx, %rdi                      // save rbx
    cpuid                               // structured extended feature flags
    xchg %rdi, %rbx                     // restore rbx
    test $0x4000, %edx                  // EDX bit 14: SERIALIZE supported?
    jne <+0x4d>                         // yes: cache USE_SERIALIZE
    movb $0x2, (%rsi)                   // cache USE_CPUID (relaxed store)
    xor %eax, %eax                      // CPUID leaf 0 ...
    xor %ecx, %ecx                      // ... subleaf 0
    mov %rbx, %rsi                      // save rbx
    cpuid                               // CPUID: serialising (the fallback)
    xchg %rsi, %rbx                     // restore rbx
    ret                                 // return
    movb $0x1, (%rsi)                   // cache USE_SERIALIZE (relaxed store)
    serialize                           // SERIALIZE (0f 01 e8): serialise this core
    ret                                 // return

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
