//! Runs a small WASI command with its arguments and environment given by the host and its
//! standard output captured in memory, then reads the exit status.

use wasmguard::wasi::{self, OutputBuffer, WasiCtx, WasiCtxBuilder};
use wasmguard::{Engine, Linker, Module, Store};

/// The host state: the WASI context, and anything else the embedder needs.
struct Host {
    wasi: WasiCtx,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::default();
    // Prints its argument count ("argc=N") and exits with status 7.
    let module = Module::new(
        &engine,
        r#"(module
            (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (data (i32.const 32) "argc=?\n")
            (func (export "_start")
                (drop (call $sizes (i32.const 0) (i32.const 4)))
                ;; "?" becomes the digit of argc.
                (i32.store8 (i32.const 37) (i32.add (i32.const 48) (i32.load (i32.const 0))))
                (i32.store (i32.const 8) (i32.const 32))
                (i32.store (i32.const 12) (i32.const 7))
                (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))
                (call $exit (i32.const 7))))"#,
    )?;

    let stdout = OutputBuffer::new();
    let wasi = WasiCtxBuilder::new().args(["prog", "one", "two"]).env("MODE", "demo").stdout(stdout.clone()).build();
    let mut linker = Linker::new(&engine);
    wasi::add_to_linker(&mut linker, |host: &mut Host| &mut host.wasi)?;
    wasi::add_stubs_for_unknown_imports(&mut linker, &module)?;
    let mut store = Store::new(&engine, Host { wasi });
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    let status = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(error) => wasi::exit_code(&error).ok_or(error)?,
    };
    print!("captured stdout: {}", stdout.contents_string());
    println!("exit status: {status}");
    Ok(())
}
