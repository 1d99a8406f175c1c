//! The crate's WASI host functions called as a hostile guest would (`wasmguard::fuzzing`):
//! no panic, no allocation over the budget, the store usable after every call.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: wasmguard::fuzzing::CountingAllocator = wasmguard::fuzzing::CountingAllocator;

fuzz_target!(|data: &[u8]| wasmguard_fuzz::wasi::run(data));
