//! A valid wasm-smith module (Wasm 3.0, exception handling included; typed function
//! references in half the inputs), instantiated with dummy imports, every exported function
//! called with zeros under fuel: errors, traps and uncaught exceptions are fine, panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(module) = wasmguard_fuzz::smith_module_with_references(&mut u) {
        wasmguard_fuzz::run(&module.to_bytes());
    }
});
