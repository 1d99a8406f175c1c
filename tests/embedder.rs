//! Habits embedders bring from other runtimes: the names they import from the crate root,
//! host closures returning their own error types, slices of 64-bit memories as host
//! parameters, borrowed strings from an exclusive view, and wasmtime's
//! `Memory::data_and_store_mut`.

use wasmguard::{
    Caller, Engine, Error, Guard, GuardMut, Instance, Linker, Memory32, Memory64, MemoryIndex, Module, Store, TrapCode,
    WasmPtr, WasmSlice, ZeroCopy,
};

/// An embedder's own error type, converted into the runtime's.
#[derive(Debug)]
struct Refused(&'static str);

impl From<Refused> for Error {
    fn from(e: Refused) -> Error {
        Error::msg(format!("refused: {}", e.0))
    }
}

#[test]
fn root_names_are_the_accessor_names() {
    fn index_is_64<M: MemoryIndex>() -> bool {
        M::IS_64
    }
    assert!(!index_is_64::<Memory32>());
    assert!(index_is_64::<Memory64>());
    fn zero_copy<T: ZeroCopy>() {}
    zero_copy::<u32>();
    let _: Option<Guard<'_, u8>> = None;
    let _: Option<GuardMut<'_, u8>> = None;
}

#[test]
fn host_closures_return_any_error_that_converts() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "check" (func $check (param i32) (result i32)))
             (func (export "run") (param i32) (result i32) (call $check (local.get 0))))"#,
    )
    .expect("module");
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "check", |x: u32| -> Result<u32, Refused> {
            if x > 10 { Err(Refused("too big")) } else { Ok(x * 2) }
        })
        .expect("define");
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).expect("instance");
    let run = instance.get_typed_func::<u32, u32>(&mut store, "run").expect("run");
    assert_eq!(run.call(&mut store, 4).expect("ok"), 8);
    let err = run.call(&mut store, 11).unwrap_err();
    assert!(err.to_string().contains("refused: too big"), "{err}");
    assert_eq!(err.trap_code(), None, "a host error is not a wasm trap: {err}");
}

#[test]
fn slices_of_64_bit_memories_are_host_parameters() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "sum" (func $sum (param i64 i32) (result i32)))
             (memory (export "mem") i64 1)
             (data (i64.const 40) "\01\02\03\04\05")
             (func (export "run") (param i64 i32) (result i32) (call $sum (local.get 0) (local.get 1))))"#,
    )
    .expect("module");
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "sum", |caller: Caller<'_, ()>, bytes: WasmSlice<u8, Memory64>| -> wasmguard::Result<u32> {
            let memory = caller.memory().expect("memory");
            let values = bytes.read_to_vec(&memory.view(&caller))?;
            Ok(values.iter().map(|&b| u32::from(b)).sum())
        })
        .expect("define");
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).expect("instance");
    let run = instance.get_typed_func::<(u64, u32), u32>(&mut store, "run").expect("run");
    assert_eq!(run.call(&mut store, (40, 5)).expect("sum"), 15);
    // Hostile addresses and lengths are clean errors, not panics or traps that lie.
    for (addr, len) in [(u64::MAX - 2, 5), (65_530, 7), (0, u32::MAX)] {
        let err = run.call(&mut store, (addr, len)).unwrap_err();
        assert!(err.to_string().contains("out of bounds") || err.to_string().contains("overflow"), "{err}");
        assert_ne!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds), "{err}");
    }
}

#[test]
fn exclusive_views_lend_strings_and_data_and_store_mut_splits_the_borrow() {
    let engine = Engine::default();
    let module =
        Module::new(&engine, r#"(module (memory (export "mem") 1) (data (i32.const 8) "hello\00"))"#).expect("module");
    let mut store = Store::new(&engine, 0u32);
    let instance = Instance::new(&mut store, &module, &[]).expect("instance");
    let memory = instance.get_memory(&mut store, "mem").expect("mem");
    {
        let mut view = memory.view_mut(&mut store);
        let text = WasmPtr::<u8>::new(8).read_cstr(&mut view, 16).expect("cstr");
        assert_eq!(text, "hello");
    }
    let (bytes, count) = memory.data_and_store_mut(&mut store);
    bytes[8] = b'j';
    *count += 1;
    assert_eq!(&memory.data(&store)[8..13], b"jello");
    assert_eq!(*store.data(), 1);
}

/// Host code ported from wasmtime returns `anyhow::Result` (feature `anyhow`, default).
#[cfg(feature = "anyhow")]
#[test]
fn host_closures_return_anyhow_results() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "f" (func $f (param i32) (result i32)))
             (func (export "run") (param i32) (result i32) (call $f (local.get 0))))"#,
    )
    .expect("module");
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "f", |x: u32| -> anyhow::Result<u32> {
            anyhow::ensure!(x != 0, "zero is not allowed");
            Ok(100 / x)
        })
        .expect("define");
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).expect("instance");
    let run = instance.get_typed_func::<u32, u32>(&mut store, "run").expect("run");
    assert_eq!(run.call(&mut store, 4).expect("ok"), 25);
    let err = run.call(&mut store, 0).unwrap_err();
    assert!(err.host_error().is_some_and(|e| e.to_string().contains("zero is not allowed")), "{err}");
}
