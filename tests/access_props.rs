//! Property tests of the accessor framework against a plain `Vec<u8>` model.
//!
//! Random sequences of operations run on a real [`Memory`] and on a `Vec<u8>` side by side:
//! every read must return what the model holds (or the error the model predicts), every
//! write must change exactly the bytes the model says, and at the end of each sequence the
//! memory's contents must equal the model. Addresses are chosen relative to the memory's
//! size when the operation runs, so sequences keep hitting the interesting places: the
//! start, the last bytes, just past the end and the top of the 32-bit address space.
//!
//! The model decodes guest values with its own wasm32 C layout (`Model::decode`), so the
//! `GuestType` implementations under test are checked against an independent oracle.
//!
//! - `sequences`: random operation sequences (grow, `Memory::read`/`write`, both views,
//!   `WasmPtr` and `WasmSlice` of every guest type, strings) against the model.
//! - `guards`: guard acquisition and release sequences on one `MemoryViewMut`.
//! - `round_trip`: every guest type round-trips; derived padding reads back as zero.

#[path = "access_props/guards.rs"]
mod guards;
#[path = "access_props/model.rs"]
mod model;
#[path = "access_props/round_trip.rs"]
mod round_trip;
#[path = "access_props/sequences.rs"]
mod sequences;

use wasmguard::{AccessError, Engine, GuestType, Memory, MemoryType, Store, WASM_PAGE_SIZE, WasmPtr, WasmSlice};

/// Cases per property: a thousand natively, a handful under Miri (which also cannot read
/// the persisted-failures files while isolated).
fn proptest_config() -> proptest::test_runner::Config {
    let mut config = proptest::test_runner::Config::with_cases(if cfg!(miri) { 4 } else { 1000 });
    if cfg!(miri) {
        config.failure_persistence = None;
    }
    config
}

// ---------------------------------------------------------------------------------------------
// Edge cases outside the random sequences
// ---------------------------------------------------------------------------------------------

/// A memory of zero pages: every non-empty access is out of bounds, empty ones succeed.
#[test]
fn empty_memory() {
    let mut store = Store::new(&Engine::default(), ());
    let memory = Memory::new(&mut store, MemoryType::new(0, Some(1))).unwrap();
    let view = memory.view(&store);
    assert!(view.is_empty());
    assert_eq!(view.bytes(0, 0), Ok(&[][..]));
    assert_eq!(view.bytes(1, 0), Err(AccessError::OutOfBounds { address: 1, len: 0, memory_size: 0 }));
    assert_eq!(WasmPtr::<u8>::new(0).read(&view), Err(AccessError::OutOfBounds { address: 0, len: 1, memory_size: 0 }));
    assert_eq!(WasmPtr::<u8>::new(0).read_utf8(&view, 0), Ok(""));
    assert!(matches!(WasmPtr::<u8>::new(0).read_cstr(&view, 10), Err(AccessError::Unterminated { .. })));
    assert_eq!(WasmSlice::new(WasmPtr::<u64>::new(0), 0).read_to_vec(&view), Ok(Vec::new()));
    let view = memory.view_mut(&mut store);
    assert!(view.borrow_mut(WasmSlice::new(WasmPtr::<u32>::new(0), 0)).is_ok());
    assert!(matches!(view.borrow(WasmSlice::new(WasmPtr::<u8>::new(0), 1)), Err(AccessError::OutOfBounds { .. })));
    assert_eq!(memory.grow(&mut store, 1).ok(), Some(0));
    assert_eq!(memory.view(&store).len(), WASM_PAGE_SIZE as usize);
}

/// A zero-sized guest type (a derived unit struct).
#[derive(Debug, Clone, Copy, PartialEq, GuestType)]
#[repr(C)]
struct Unit;

/// `WasmSlice<T>::read_to_vec` returns `len` elements, also when `T` is zero-sized.
#[test]
fn slice_of_zero_sized_values_has_its_length() {
    let mut store = Store::new(&Engine::default(), ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let slice = WasmSlice::new(WasmPtr::<Unit>::new(8), 3);
    assert_eq!(slice.read_to_vec(&memory.view(&store)), Ok(vec![Unit; 3]));
}
