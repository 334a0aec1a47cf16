//! cranelift-jit, unmodified, running on icache-coherence through the
//! `[patch.crates-io]` entry in this workspace's Cargo.toml.
//!
//! JIT-compiles `answer() -> 42`, calls it here and on another thread, frees
//! the code, then redefines `answer` to return 43 in a new module (whose code
//! usually lands at the very address the old code had: exactly the case
//! where a stale instruction cache would run the old function) and calls it
//! again. Finally it shows that the patch was in effect.
//!
//! `cargo run -- --strict` first chooses the strict flush policy, the one
//! switch a cranelift-jit user has (cranelift-jit makes the calls, so none
//! can be added after them): every thread then serialises after each
//! `pipeline_flush_mt` (`membarrier` SYNC_CORE; on x86 the Intel SDM's
//! cross-modifying-code rule), or the program stops with the reason.

use cranelift_codegen::ir::{types, AbiParam, InstBuilder, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use icache_coherence::{FlushPolicy, PolicyOrigin};

/// A fresh module for the host, with `answer() -> value` defined and
/// finalized: cranelift-jit writes the code, makes it executable, calls
/// `clear_cache` on it and then `pipeline_flush_mt`, the patched package's
/// functions.
fn compile_answer(value: i64) -> (JITModule, *const u8) {
    let mut flags = settings::builder();
    flags.set("use_colocated_libcalls", "false").unwrap();
    flags.set("is_pic", "false").unwrap();
    let isa = cranelift_native::builder()
        .unwrap_or_else(|msg| panic!("host machine is not supported: {msg}"))
        .finish(settings::Flags::new(flags))
        .unwrap();
    let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));

    let mut sig = module.make_signature();
    sig.returns.push(AbiParam::new(types::I64));
    let id = module
        .declare_function("answer", Linkage::Export, &sig)
        .unwrap();

    let mut ctx = module.make_context();
    ctx.func.signature = sig;
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let block = b.create_block();
    b.switch_to_block(block);
    let v = b.ins().iconst(types::I64, value);
    b.ins().return_(&[v]);
    b.seal_all_blocks();
    b.finalize(module.target_config());

    module.define_function(id, &mut ctx).unwrap();
    module.clear_context(&mut ctx);
    module.finalize_definitions().unwrap();
    let code = module.get_finalized_function(id);
    (module, code)
}

/// Calls the JIT-compiled `answer` at `code`.
fn call(code: *const u8) -> i64 {
    // SAFETY: `code` is a finalized cranelift function with signature
    // `fn() -> i64` in the host's default calling convention, still mapped.
    let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn() -> i64>(code) };
    f()
}

fn main() {
    let strict = std::env::args().any(|a| a == "--strict");
    if strict {
        // The Cranelift switch: before the first JIT module exists.
        let report = icache_coherence::init_with(FlushPolicy::Strict)
            .expect("strict flush policy (no serialising mechanism here?)");
        println!("icache-coherence, chosen before cranelift-jit runs:\n{report}");
    }
    // Otherwise nothing in this program calls icache-coherence before
    // cranelift-jit.
    let (module, code) = compile_answer(42);
    assert_eq!(call(code), 42);
    // Another thread: finalize_definitions ended with pipeline_flush_mt.
    let addr = code as usize;
    let on_thread = std::thread::spawn(move || call(addr as *const u8))
        .join()
        .unwrap();
    assert_eq!(on_thread, 42);
    println!("answer() = 42 at {code:p}, here and on another thread");

    // Redefine: free the old code, compile the new definition.
    // SAFETY: no pointer into the old module's code is used after this.
    unsafe { module.free_memory() };
    let (module, new_code) = compile_answer(43);
    assert_eq!(call(new_code), 43);
    let addr = new_code as usize;
    let on_thread = std::thread::spawn(move || call(addr as *const u8))
        .join()
        .unwrap();
    assert_eq!(on_thread, 43);
    println!(
        "answer() redefined = 43 at {new_code:p} ({}), here and on another thread",
        if new_code == code {
            "the same address"
        } else {
            "a new address"
        }
    );
    // SAFETY: no pointer into the module's code is used after this.
    unsafe { module.free_memory() };

    // The proof that cranelift-jit called icache-coherence: without
    // --strict, its first flush fixed the process's flush policy (to the
    // default), which only a pipeline_flush_mt does; without the patch
    // nothing would have called icache-coherence and no policy would be in
    // force. With --strict the policy was chosen above, so the proof is the
    // default run's (CI runs both).
    match icache_coherence::flush_policy() {
        Some((FlushPolicy::BestEffort, PolicyOrigin::FirstFlush)) if !strict => {
            println!("patch in effect: cranelift-jit's flushes went through icache-coherence")
        }
        Some((FlushPolicy::Strict, PolicyOrigin::InitWith)) if strict => {
            println!("strict policy in force for cranelift-jit's flushes")
        }
        other => {
            eprintln!(
                "patch NOT in effect: icache-coherence was not called by cranelift-jit \
                 (flush policy: {other:?})"
            );
            std::process::exit(1);
        }
    }
    // A library calling init() keeps what is in force.
    let report = icache_coherence::init().expect("icache-coherence init");
    println!("icache-coherence: {report}");
}
