//! The `gc` target: wasm-smith modules with the GC proposal on (structs, arrays, `i31`,
//! casts, the `any` / `eq` hierarchy), run as [`crate::run`] runs modules, in a store with
//! small limits, with a check that a run cannot grow without bound: what the host allocates
//! during it (counted by [`CountingAllocator`], which the target installs as its global
//! allocator) must stay within what those limits allow. A module that allocates in a loop
//! must be stopped by fuel or by a limit ([`TrapCode::GcHeapExhausted`](wasmguard::TrapCode)
//! for the GC heap), not by the host running out of memory.
//!
//! Errors and traps are clean results; panics and unbounded growth are failures.

use arbitrary::{Result, Unstructured};
use wasmguard::fuzzing::CountingAllocator;
use wasmguard::{Engine, Extern, Func, Instance, Module, Store, StoreLimits, Val};

use crate::{FUEL, dummy_imports, smith_module_with};

/// The store's limits: small, so that a module allocating in a loop reaches them within
/// [`FUEL`].
pub fn limits() -> StoreLimits {
    #[allow(clippy::needless_update, reason = "every field is set today; new fields keep their defaults")]
    StoreLimits {
        memory_size_bytes: 16 * 65_536,
        table_elements: 1_000,
        instances: 4,
        memories: 8,
        tables: 8,
        host_copy_bytes: 64 << 10,
        exceptions: 1_000,
        gc_heap_bytes: 1 << 20,
        ..StoreLimits::default()
    }
}

/// Host bytes a run may allocate beyond what [`limits`] allow guest objects: compiled
/// code, value stacks, frames, import dummies and the bookkeeping of the store.
pub const OVERHEAD_BYTES: usize = 64 << 20;

/// Host bytes a run may allocate per byte of the module (its compiled form).
pub const BYTES_PER_MODULE_BYTE: usize = 256;

/// The most a run of `wasm` may raise the host's live allocations: the limits (the GC heap
/// counted four times over, for the heap's own vectors and mark bits growing by doubling),
/// the module's compiled code and [`OVERHEAD_BYTES`].
pub fn growth_bound_bytes(wasm: &[u8]) -> usize {
    let limits = limits();
    let memories = limits.memories * limits.memory_size_bytes as usize;
    let tables = limits.tables * limits.table_elements as usize * 32;
    let gc_heap = 4 * limits.gc_heap_bytes as usize;
    memories + tables + gc_heap + BYTES_PER_MODULE_BYTE * wasm.len() + OVERHEAD_BYTES
}

/// A wasm-smith module with the GC proposal on (which brings typed function references
/// and the 3.0 type system), plus, for some inputs, exception handling and relaxed SIMD;
/// otherwise as [`smith_module`](crate::smith_module).
pub fn smith_gc_module(u: &mut Unstructured<'_>) -> Result<wasm_smith::Module> {
    let (exceptions, relaxed_simd): (bool, bool) = (u.arbitrary()?, u.arbitrary()?);
    smith_module_with(u, |c| {
        (c.gc_enabled, c.reference_types_enabled) = (true, true);
        (c.exceptions_enabled, c.relaxed_simd_enabled) = (exceptions, relaxed_simd);
    })
}

/// An engine as [`engine_and_store`](crate::engine_and_store) makes, with a store limited
/// to [`limits`].
pub fn engine_and_store() -> (Engine, Store<()>) {
    crate::engine_and_store_with(limits())
}

/// What one run came to, for statistics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// `Module::new` accepted the module.
    pub compiled: bool,
    /// Instantiation succeeded.
    pub instantiated: bool,
    /// Exported functions called.
    pub calls: usize,
    /// Calls that ended in an error (a trap, an exception, fuel or a limit).
    pub errors: usize,
}

/// Compiles `wasm`, instantiates it with dummy imports and calls every exported function
/// with default arguments, each under [`FUEL`], in a store limited to [`limits`]. Errors
/// and traps are fine.
///
/// # Panics
///
/// On a bug in wasmguard, and when an exported memory or table is larger than [`limits`]
/// allow after a call.
pub fn run(wasm: &[u8]) -> Outcome {
    let mut outcome = Outcome::default();
    let (engine, mut store) = engine_and_store();
    let Ok(module) = Module::new(&engine, wasm) else { return outcome };
    outcome.compiled = true;
    let Ok(imports) = dummy_imports(&mut store, &module) else { return outcome };
    store.set_fuel(FUEL).expect("fuel is on");
    let Ok(instance) = Instance::new(&mut store, &module, &imports) else { return outcome };
    outcome.instantiated = true;
    let exports: Vec<Extern> = instance.exports(&mut store).map(|e| e.into_extern()).collect();
    let funcs: Vec<Func> = exports.iter().filter_map(|e| e.clone().into_func()).collect();
    for func in funcs {
        let ty = func.ty(&store);
        let params: Vec<Val> = ty.params().map(Val::default_for).collect();
        let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
        store.set_fuel(FUEL).expect("fuel is on");
        outcome.calls += 1;
        outcome.errors += usize::from(func.call(&mut store, &params, &mut results).is_err());
        assert!(store.get_fuel().expect("fuel is on") <= FUEL, "fuel grew during a call");
        check_sizes(&store, &exports);
    }
    outcome
}

/// Asserts that the exported memories and tables are within [`limits`].
fn check_sizes(store: &Store<()>, exports: &[Extern]) {
    let limits = limits();
    for export in exports {
        match export {
            Extern::Memory(m) => {
                let len_bytes = m.data_size(store) as u64;
                assert!(len_bytes <= limits.memory_size_bytes, "a memory of {len_bytes} bytes is over the limit");
            }
            Extern::Table(t) => {
                let size = t.size(store);
                assert!(size <= limits.table_elements, "a table of {size} elements is over the limit");
            }
            _ => {}
        }
    }
}

/// [`run`], asserting that the host's live allocations rose by at most
/// [`growth_bound_bytes`] at any point of it (when [`CountingAllocator`] is the global
/// allocator; otherwise nothing is counted and the check passes).
///
/// # Panics
///
/// As [`run`], and when the run allocated more than the bound.
pub fn run_bounded(wasm: &[u8]) -> Outcome {
    CountingAllocator::reset_peak();
    let base_bytes = CountingAllocator::current();
    let outcome = run(wasm);
    let growth_bytes = CountingAllocator::peak().saturating_sub(base_bytes);
    let bound_bytes = growth_bound_bytes(wasm);
    assert!(
        growth_bytes <= bound_bytes,
        "unbounded growth: the run allocated up to {growth_bytes} bytes more than it started with, \
         over the bound of {bound_bytes} bytes ({outcome:?})"
    );
    outcome
}
