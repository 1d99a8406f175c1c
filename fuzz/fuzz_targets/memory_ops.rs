//! An arbitrary sequence of grow / read / write / view / guard / typed pointer / slice /
//! string operations through the accessor API, checked against a `Vec<u8>` model.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wasmguard_fuzz::memory_ops::check(&mut arbitrary::Unstructured::new(data));
});
