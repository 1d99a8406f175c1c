//! Run a wasm guest end to end: `cargo run --example hello`.
//!
//! The guest imports a host function `log(ptr, len)` and calls it with a string in its own
//! linear memory; the host reads the string through the `Caller` (the guest does not even
//! export its memory) and prints it.

use wasmguard::{Caller, Engine, Error, Linker, Module, Store};

const WAT: &str = r#"(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory 1)
  (data (i32.const 16) "Hello, wasmguard!")
  (func (export "run")
    (call $log (i32.const 16) (i32.const 17))))"#;

/// Host state: every line the guest logged.
type Logged = Vec<String>;

fn log(mut caller: Caller<'_, Logged>, ptr: u32, len: u32) -> wasmguard::Result<()> {
    let memory = caller.memory().ok_or_else(|| Error::msg("the guest has no memory"))?;
    if len as usize > memory.data_size(&caller) {
        return Err(Error::msg(format!("log: length {len} is larger than the guest memory")));
    }
    let mut bytes = vec![0; len as usize];
    memory.read(&caller, ptr as usize, &mut bytes)?;
    let text = String::from_utf8(bytes).map_err(Error::new)?;
    println!("{text}");
    caller.data_mut().push(text);
    Ok(())
}

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "log", log)?;
    let mut store = Store::new(&engine, Logged::new());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
    run.call(&mut store, ())?;
    assert_eq!(store.data(), &["Hello, wasmguard!"]);
    Ok(())
}
