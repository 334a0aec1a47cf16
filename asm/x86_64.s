// Reviewed listing of the hot paths on x86_64, compiled from
// examples/asm_listing.rs (release). Checked by .ci/asm-listings.py;
// text after `//` is annotation and not compared.

listing_clear_cache:
    test %rsi, %rsi
    sete %cl
    neg %rsi
    cmp %rdi, %rsi
    setae %al
    or %cl, %al
    ret

listing_clear_cache_dual:
    test %rdx, %rdx
    je <+0x1d>
    dec %rdx
    not %rdi
    cmp %rdi, %rdx
    setbe %cl
    not %rsi
    cmp %rsi, %rdx
    setbe %al
    and %cl, %al
    ret
    mov $0x1, %al
    ret

listing_clear_cache_ranges:
    mov %rsi, %rax
    shl $0x4, %rax
    mov %rax, %rdx
    mov %rdi, %r8
    nopl (%rax)
    mov %rdx, %rcx
    test %rdx, %rdx
    je <+0x33>
    mov %r8, %r9
    add $0x10, %r8
    lea -0x10(%rcx), %rdx
    xor %r10d, %r10d
    sub 0x8(%r9), %r10
    jae <+0x10>
    cmp (%r9), %r10
    jae <+0x10>
    jmp <+0x6c>
    test %rsi, %rsi
    je <+0x6c>
    add $0xfffffffffffffff0, %rax
    xor %edx, %edx
    mov 0x8(%rdi, %rdx, 1), %rsi
    test %rsi, %rsi
    je <+0x57>
    nopl 0x0(%rax, %rax, 1)
    neg %rsi
    cmp (%rdi, %rdx, 1), %rsi
    cmp %rdx, %rax
    je <+0x6c>
    add $0x10, %rdx
    mov 0x8(%rdi, %rdx, 1), %rsi
    test %rsi, %rsi
    jne <+0x50>
    jmp <+0x57>
    test %rcx, %rcx
    sete %al
    ret

listing_pipeline_flush_local:
    mov REL(%rip), %rsi
    movzbl (%rsi), %eax
    cmp $0x1, %al
    je <+0x50>
    movzbl %al, %eax
    test %eax, %eax
    jne <+0x40>
    xor %eax, %eax
    xor %ecx, %ecx
    mov %rbx, %rdi
    cpuid
    xchg %rdi, %rbx
    cmp $0x7, %eax
    jb <+0x3d>
    mov $0x7, %eax
    xor %ecx, %ecx
    mov %rbx, %rdi
    cpuid
    xchg %rdi, %rbx
    test $0x4000, %edx
    jne <+0x4d>
    movb $0x2, (%rsi)
    xor %eax, %eax
    xor %ecx, %ecx
    mov %rbx, %rsi
    cpuid
    xchg %rsi, %rbx
    ret
    movb $0x1, (%rsi)
    serialize
    ret

listing_pipeline_flush_mt:
    push %rbx
    sub $0x20, %rsp
    mov REL(%rip), %rax
    movzbl (%rax), %eax
    cmp $0x2, %al
    je <+0x2e>
    movzbl %al, %eax
    mov $0x1, %bl
    test %eax, %eax
    je <+0x24>
    mov %ebx, %eax
    add $0x20, %rsp
    pop %rbx
    ret
    call *REL(%rip)
    cmp $0x1, %al
    jne <+0x1c>
    lea 0x8(%rsp), %rdi
    call *REL(%rip)
    cmpb $0x5, 0x8(%rsp)
    sete %bl
    mov %ebx, %eax
    add $0x20, %rsp
    pop %rbx
    ret
    call *REL(%rip)
