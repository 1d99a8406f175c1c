//! A valid wasm-smith module (Wasm 2.0), instantiated with dummy imports, every
//! exported function called with zeros under fuel: errors and traps are fine, panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(module) = wasmguard_fuzz::smith_module(&mut u) {
        wasmguard_fuzz::run(&module.to_bytes());
    }
});
