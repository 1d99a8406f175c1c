//! Shared pieces of the wasmguard fuzz targets: the wasm-smith configuration of what the
//! engine supports, the instantiate-and-call-everything driver, and the checks behind the
//! `differential`, `memory_ops`, `guest_types`, `shared_memory`, `wasi` and `gc` targets (in
//! their own modules, so that a crashing input can be replayed from a test or a debugger
//! without libFuzzer).

pub mod differential;
pub mod gc;
pub mod guest_types;
pub mod memory_ops;
pub mod shared_memory;
pub mod wasi;

use arbitrary::{Result, Unstructured};
use wasmguard::Tag;
use wasmguard::{
    Config, Engine, Extern, ExternType, Func, Global, Instance, Memory, Module, Store, StoreLimits, Table, Val,
};

/// Fuel for the start function and for each exported call.
pub const FUEL: u64 = 100_000;

/// A wasm-smith module within what both wasmguard and wasmi support: Wasm 2.0 (SIMD
/// included), plus multi-memory, memory64 (64-bit memories and tables), extended constant
/// expressions, tail calls, custom page sizes and wide arithmetic. Exception handling is off:
/// wasmi, the `differential` target's reference, does not implement it. (Typed function
/// references come with wasm-smith's GC switch, so they too are left to the targets that do
/// not compare with wasmi: [`smith_module_with_references`].)
pub fn smith_module(u: &mut Unstructured<'_>) -> Result<wasm_smith::Module> {
    smith_module_with(u, |_| {})
}

/// As [`smith_module`], with what only targets that do not compare with wasmi can use:
/// relaxed SIMD (whose results wasmi chooses differently), exception handling (tags,
/// `throw`, `throw_ref`, `try_table` and `exnref`, which wasmi lacks), and for half the inputs
/// wasm-smith's GC switch: typed function references, `call_ref`, `br_on_null` and the 3.0
/// type system. The GC types and instructions it also generates are refused as unsupported
/// (wasmguard does not implement the GC proposal yet), which the targets count as a clean
/// result.
pub fn smith_module_with_references(u: &mut Unstructured<'_>) -> Result<wasm_smith::Module> {
    let gc = u.arbitrary()?;
    smith_module_with(u, |c| {
        c.gc_enabled = gc;
        c.relaxed_simd_enabled = true;
        c.exceptions_enabled = true;
    })
}

/// As [`smith_module`], with `tweak` applied to the configuration last.
pub fn smith_module_with(
    u: &mut Unstructured<'_>,
    tweak: impl FnOnce(&mut wasm_smith::Config),
) -> Result<wasm_smith::Module> {
    let mut c = wasm_smith::Config::default();
    (c.simd_enabled, c.relaxed_simd_enabled, c.threads_enabled) = (true, false, false);
    // No exceptions here: wasmi, which the `differential` target compares with, lacks them.
    (c.memory64_enabled, c.tail_call_enabled, c.exceptions_enabled) = (u.arbitrary()?, true, false);
    (c.gc_enabled, c.extended_const_enabled, c.wide_arithmetic_enabled) = (false, true, u.arbitrary()?);
    (c.custom_page_sizes_enabled, c.compact_imports_enabled) = (u.arbitrary()?, false);
    (c.shared_everything_threads_enabled, c.custom_descriptors_enabled) = (false, false);
    (c.reference_types_enabled, c.bulk_memory_enabled, c.multi_value_enabled) = (true, true, true);
    (c.sign_extension_ops_enabled, c.saturating_float_to_int_enabled) = (true, true);
    c.max_memories = u.int_in_range(1..=3)?; // more than one enables multi-memory
    c.max_tables = u.int_in_range(1..=4)?; // with memory64 on, some are 64-bit tables
    c.max_memory32_bytes = 16 * 65_536;
    c.max_memory64_bytes = 16 * 65_536;
    c.max_table_elements = 1_000;
    c.min_uleb_size = u.int_in_range(1..=5)?;
    c.export_everything = u.arbitrary()?;
    c.canonicalize_nans = u.arbitrary()?;
    c.disallow_traps = u.arbitrary()?; // traps end calls early; without them code runs deeper
    tweak(&mut c);
    wasm_smith::Module::new(c, u)
}

/// An engine with fuel on, a call depth that recursion reaches before fuel runs out and
/// exception handling on (the default, stated here as the `execute` target relies on it),
/// and a store whose memories and tables stay small.
pub fn engine_and_store() -> (Engine, Store<()>) {
    engine_and_store_with(StoreLimits {
        memory_size_bytes: 16 * 65_536,
        table_elements: 10_000,
        ..StoreLimits::default()
    })
}

/// The engine of [`engine_and_store`], and a store with `limits`.
pub fn engine_and_store_with(limits: StoreLimits) -> (Engine, Store<()>) {
    let config = Config::new()
        .consume_fuel(true)
        .max_call_depth(1_000)
        .wasm_custom_page_sizes(true)
        .wasm_wide_arithmetic(true)
        .wasm_exceptions(true)
        .clone();
    let engine = Engine::new(&config).expect("engine");
    let mut store = Store::new(&engine, ());
    store.set_limits(limits);
    (engine, store)
}

/// A dummy for every import: host functions return zeros; globals, tables and memories
/// are fresh objects of the imported type.
pub fn dummy_imports(store: &mut Store<()>, module: &Module) -> wasmguard::Result<Vec<Extern>> {
    let mut imports = Vec::new();
    for (_, _, ty) in module.imports() {
        imports.push(match ty {
            ExternType::Func(ft) => {
                let results: Vec<_> = ft.results().collect();
                Func::new(&mut *store, ft, move |_, _, out| {
                    for (slot, &t) in out.iter_mut().zip(&results) {
                        *slot = Val::default_for(t);
                    }
                    Ok(())
                })
                .into()
            }
            ExternType::Global(gt) => Global::new(&mut *store, gt, Val::default_for(gt.content()))?.into(),
            ExternType::Table(tt) => Table::new(&mut *store, tt, Val::default_for(tt.element().into()))?.into(),
            ExternType::Memory(mt) => Memory::new(&mut *store, mt)?.into(),
            ExternType::Tag(tt) => Tag::new(&mut *store, &tt)?.into(),
        });
    }
    Ok(imports)
}

/// Compiles `wasm`, instantiates it with dummy imports and calls every exported function
/// with zero arguments, under fuel. Errors and traps are fine; a panic is a bug.
pub fn run(wasm: &[u8]) {
    let (engine, mut store) = engine_and_store();
    let Ok(module) = Module::new(&engine, wasm) else { return };
    let Ok(imports) = dummy_imports(&mut store, &module) else { return };
    store.set_fuel(FUEL).expect("fuel is on");
    let Ok(instance) = Instance::new(&mut store, &module, &imports) else { return };
    let funcs: Vec<Func> = instance.exports(&mut store).filter_map(|e| e.into_extern().into_func()).collect();
    for func in funcs {
        let ty = func.ty(&store);
        let params: Vec<Val> = ty.params().map(Val::default_for).collect();
        let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
        store.set_fuel(FUEL).expect("fuel is on");
        let _ = func.call(&mut store, &params, &mut results);
    }
}
