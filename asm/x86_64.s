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

listing_pipeline_flush_mt:
    mov $0x1, %al
    ret
