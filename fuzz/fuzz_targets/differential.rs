//! A wasm-smith module run in wasmguard and in wasmi with the same arguments and dummy
//! imports: results, traps, exported globals, memories and tables must agree (see
//! `wasmguard_fuzz::differential` for what ends a comparison early).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wasmguard_fuzz::differential::check(&mut arbitrary::Unstructured::new(data));
});
