//! Arbitrary bytes (binary or text) through the decoder and validator: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wasmguard::Module::new(&wasmguard::Engine::default(), data);
});
