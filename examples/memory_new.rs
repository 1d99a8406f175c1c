//! `Memory::new`: a memory created by the host, without and with a maximum size.
//!
//! Documented as: "Creates a new host `Memory` from the provided `MemoryType`."

use wasmguard::{Engine, Memory, MemoryType, Store, WASM_PAGE_SIZE};

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());

    // One page (64 KiB), no maximum: it may grow up to 4 GiB.
    let m = Memory::new(&mut store, MemoryType::new(1, None))?;
    assert_eq!(m.size(&store), 1);
    assert_eq!(m.data_size(&store) as u64, WASM_PAGE_SIZE);
    assert!(m.data(&store).iter().all(|&b| b == 0), "a new memory is zeroed");
    println!("unbounded memory: {} page(s), {} bytes", m.size(&store), m.data_size(&store));

    // One page, growable to at most three.
    let bounded = Memory::new(&mut store, MemoryType::new(1, Some(3)))?;
    assert_eq!(bounded.ty(&store).maximum(), Some(3));
    println!("bounded memory: {} page(s), maximum {:?}", bounded.size(&store), bounded.ty(&store).maximum());

    // A minimum above the maximum is refused with an error, not a panic.
    let err = Memory::new(&mut store, MemoryType::new(4, Some(3))).unwrap_err();
    println!("refused: {err}");
    Ok(())
}
