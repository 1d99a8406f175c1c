//! Arbitrary bytes read as derived guest types: every read is a valid value or the error a
//! hand-written decoder predicts; write-then-read is the identity.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wasmguard_fuzz::guest_types::check(&mut arbitrary::Unstructured::new(data));
});
