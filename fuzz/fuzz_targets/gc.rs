//! A valid wasm-smith module with the GC proposal on, run with dummy imports, every export
//! called under fuel, in a store with small limits: errors and traps are fine; panics, and a
//! run whose host allocations grow past what the limits allow, are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmguard::fuzzing::CountingAllocator;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(module) = wasmguard_fuzz::gc::smith_gc_module(&mut u) {
        wasmguard_fuzz::gc::run_bounded(&module.to_bytes());
    }
});
