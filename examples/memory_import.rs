//! A memory created by the host and imported by a wasm module: the guest writes to it, the
//! host reads the result.

use wasmguard::{Engine, Instance, Memory, MemoryType, Module, Store};

const WAT: &str = r#"(module
  (import "env" "memory" (memory 1))
  ;; Writes the squares 0, 1, 4, ... of 0..n as bytes at `ptr`.
  (func (export "squares") (param $ptr i32) (param $n i32) (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $ptr) (local.get $i)) (i32.mul (local.get $i) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))"#;

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    let module = Module::new(&engine, WAT)?;
    let instance = Instance::new(&mut store, &module, &[memory.into()])?;

    let squares = instance.get_typed_func::<(u32, u32), ()>(&mut store, "squares")?;
    squares.call(&mut store, (0x100, 8))?;

    let mut result = [0_u8; 8];
    memory.read(&store, 0x100, &mut result)?;
    assert_eq!(result, [0, 1, 4, 9, 16, 25, 36, 49]);
    println!("the guest wrote {result:?}");
    Ok(())
}
