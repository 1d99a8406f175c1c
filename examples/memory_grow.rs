//! `Memory::grow`: grow by a number of pages and get the previous size back; growth past
//! the maximum fails and leaves the memory unchanged.
//!
//! Documented as: "Grow memory by the specified amount of WebAssembly pages and return
//! the previous memory size."

use wasmguard::{Engine, Instance, Memory, MemoryType, Module, Store};

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());

    let m = Memory::new(&mut store, MemoryType::new(1, Some(3)))?;
    m.write(&mut store, 0, b"kept")?;
    let previous = m.grow(&mut store, 2)?;
    assert_eq!(previous, 1);
    assert_eq!(m.size(&store), 3);
    assert_eq!(&m.data(&store)[..4], b"kept", "growth keeps the contents");
    println!("grew from {previous} to {} pages", m.size(&store));

    // Past the maximum: an error (the classic `MemoryError::CouldNotGrow`), size unchanged.
    let fixed = Memory::new(&mut store, MemoryType::new(1, Some(1)))?;
    let err = fixed.grow(&mut store, 1).unwrap_err();
    assert_eq!(fixed.size(&store), 1);
    println!("could not grow: {err}");

    // From wasm, `memory.grow` returns the old size, or -1 when it cannot grow.
    let module = Module::new(
        &engine,
        r#"(module (memory (export "mem") 1 2)
             (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 1)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1);
    let mem = instance.get_memory(&mut store, "mem").expect("exported memory");
    assert_eq!(mem.size(&store), 2);
    println!("wasm memory.grow: 1 -> 2 pages, then -1 at the maximum");
    Ok(())
}
