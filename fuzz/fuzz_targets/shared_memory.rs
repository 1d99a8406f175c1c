//! 2–3 threads run arbitrary scripts (grow, tagged atomic stores, loads, adds, wait/notify)
//! on one shared memory; afterwards no value is torn, counters add up, the size is
//! monotone and bounded, and the base never moved.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wasmguard_fuzz::shared_memory::check(&mut arbitrary::Unstructured::new(data));
});
