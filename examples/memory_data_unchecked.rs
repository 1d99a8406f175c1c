//! The `unsafe` escape hatch: `Memory::data_unchecked` / `data_unchecked_mut`, used soundly.
//!
//! Prefer the safe API, whose borrows the compiler checks: `Memory::data(&store)` and
//! `Memory::data_mut(&mut store)` for slices, `Memory::read` / `Memory::write` to copy. The
//! unchecked slices are not tied to a borrow of the store, so nothing stops a `grow` or a
//! wasm call from moving or changing the bytes under them: the caller must rule that out.

use wasmguard::{Engine, Instance, Module, Store};

const WAT: &str = r#"(module
  (memory (export "mem") 1)
  (func (export "sum") (param $ptr i32) (param $len i32) (result i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $acc (i32.add (local.get $acc) (i32.load8_u (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $next)))
    (local.get $acc)))"#;

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory = instance.get_memory(&mut store, "mem").expect("exported memory");
    let sum = instance.get_typed_func::<(u32, u32), u32>(&mut store, "sum")?;

    {
        // SAFETY: while `bytes` is used (to the end of this block) the memory is not grown,
        // no wasm code runs, no other slice or view of this memory exists, nothing else
        // writes it, and the store outlives the block.
        let bytes = unsafe { memory.data_unchecked_mut(&store) };
        for (i, b) in bytes[..100].iter_mut().enumerate() {
            *b = i as u8;
        }
    } // The mutable slice is dead here, before any other access.

    {
        // SAFETY: as above: within this block there is no grow, no wasm call and no write,
        // and the store outlives the slice; shared slices may coexist with each other.
        let bytes = unsafe { memory.data_unchecked(&store) };
        let host_sum: u32 = bytes[..100].iter().map(|&b| u32::from(b)).sum();
        assert_eq!(host_sum, 4950);
        println!("host sum of bytes 0..100: {host_sum}");
    } // No unchecked slice may be alive across the wasm call below.

    let guest_sum = sum.call(&mut store, (0, 100))?;
    assert_eq!(guest_sum, 4950);
    println!("guest sum of bytes 0..100: {guest_sum}");

    // The same work with the safe API: the borrow checker ends each borrow for you.
    memory.data_mut(&mut store)[..4].copy_from_slice(&[1, 2, 3, 4]);
    let mut first = [0; 4];
    memory.read(&store, 0, &mut first)?;
    assert_eq!(first, [1, 2, 3, 4]);
    assert_eq!(sum.call(&mut store, (0, 4))?, 10);
    println!("safe API: {first:?}");
    Ok(())
}
