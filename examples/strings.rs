//! Strings both ways between host and guest: `cargo run --example strings`.
//!
//! - guest → host: `(ptr, len)` strings read with `WasmPtr<u8>::read_utf8`, NUL-terminated
//!   ones with `WasmPtr<u8>::read_cstr`; both borrow the guest's bytes (no copy) and check
//!   they are UTF-8.
//! - host → guest: the guest passes a buffer as `(ptr, capacity)`, which the host function
//!   takes as one `WasmSlice<u8>` parameter; the host fills it with `WasmSlice::write_from`
//!   and returns the length written.
//! - invalid UTF-8, a missing terminator or a buffer outside the memory become an `Err` in
//!   the host function (`?`), which traps the guest: the embedder gets the error back.

use wasmguard::{AccessError, Caller, Engine, Error, Linker, Module, Store, WasmPtr, WasmSlice};

const WAT: &str = r#"(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "log_cstr" (func $log_cstr (param i32)))
  (import "env" "greeting" (func $greeting (param i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 16) "hello from the guest")
  (data (i32.const 64) "caf\c3\a9 au lait\00")
  (data (i32.const 96) "bad \ff\fe bytes")
  (data (i32.const 128) "no terminator in sight")
  (func (export "run") (result i32) (local $n i32)
    (call $log (i32.const 16) (i32.const 20))
    (call $log_cstr (i32.const 64))
    ;; Ask the host for a greeting in a 64-byte buffer, then echo it back.
    (local.set $n (call $greeting (i32.const 0x400) (i32.const 64)))
    (call $log (i32.const 0x400) (local.get $n))
    (local.get $n))
  ;; A 6-byte buffer: the host cuts the greeting at a character boundary.
  (func (export "small_buffer") (result i32) (local $n i32)
    (local.set $n (call $greeting (i32.const 0x500) (i32.const 6)))
    (call $log (i32.const 0x500) (local.get $n))
    (local.get $n))
  (func (export "bad_utf8") (call $log (i32.const 96) (i32.const 12)))
  (func (export "unterminated") (call $log_cstr (i32.const 128)))
  (func (export "hostile_buffer") (result i32)
    (call $greeting (i32.const 0xfffffff0) (i32.const 64))))"#;

/// Host state: every line the guest logged.
type Logged = Vec<String>;

/// The longest C string the host accepts.
const MAX_CSTR: u32 = 16;

const GREETING: &str = "👋 Hello, guest, from the host!";

/// `log(ptr, len)`: a UTF-8 string given by pointer and length.
fn log(mut caller: Caller<'_, Logged>, text: WasmPtr<u8>, len: u32) -> wasmguard::Result<()> {
    let memory = caller.memory().ok_or_else(|| Error::msg("the guest has no memory"))?;
    // The view and the host state at once: the string is borrowed from guest memory
    // while the log is borrowed mutably.
    let (mut view, logged) = memory.view_and_data_mut(&mut caller);
    let text: &str = text.read_utf8(&view.as_view(), len)?;
    logged.push(text.to_owned());
    Ok(())
}

/// `log_cstr(ptr)`: a NUL-terminated UTF-8 string of at most `MAX_CSTR` bytes.
fn log_cstr(mut caller: Caller<'_, Logged>, text: WasmPtr<u8>) -> wasmguard::Result<()> {
    let memory = caller.memory().ok_or_else(|| Error::msg("the guest has no memory"))?;
    let text = text.read_cstr(&memory.view(&caller), MAX_CSTR)?.to_owned();
    caller.data_mut().push(text);
    Ok(())
}

/// `greeting(buf, cap) -> len`: writes as much of the greeting as fits, cut at a character
/// boundary, and returns the number of bytes written.
fn greeting(mut caller: Caller<'_, Logged>, buf: WasmSlice<u8>) -> wasmguard::Result<u32> {
    let memory = caller.memory().ok_or_else(|| Error::msg("the guest has no memory"))?;
    let mut len = GREETING.len().min(buf.len() as usize);
    while !GREETING.is_char_boundary(len) {
        len -= 1;
    }
    let out = WasmSlice::new(buf.ptr(), len as u32);
    out.write_from(&mut memory.view_mut(&mut caller), &GREETING.as_bytes()[..len])?;
    Ok(len as u32)
}

/// The access error inside an error returned by a call, if there is one.
fn access_error(err: &Error) -> Option<&AccessError> {
    err.host_error()?.downcast_ref::<AccessError>()
}

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("env", "log", log)?
        .func_wrap("env", "log_cstr", log_cstr)?
        .func_wrap("env", "greeting", greeting)?;
    let mut store = Store::new(&engine, Logged::new());
    let instance = linker.instantiate(&mut store, &module)?;

    let run = instance.get_typed_func::<(), u32>(&mut store, "run")?;
    let written = run.call(&mut store, ())?;
    assert_eq!(written as usize, GREETING.len());
    assert_eq!(store.data(), &["hello from the guest", "café au lait", GREETING]);
    for line in store.data() {
        println!("guest said: {line}");
    }

    // Too small a buffer: "👋 H" is the longest prefix that fits in 6 bytes.
    let small = instance.get_typed_func::<(), u32>(&mut store, "small_buffer")?;
    assert_eq!(small.call(&mut store, ())?, 6);
    assert_eq!(store.data().last().map(String::as_str), Some("👋 H"));
    println!("in 6 bytes: {}", store.data()[3]);

    // Invalid UTF-8: the host function's `?` traps the guest with the access error.
    let bad = instance.get_typed_func::<(), ()>(&mut store, "bad_utf8")?;
    let err = bad.call(&mut store, ()).expect_err("invalid UTF-8");
    assert_eq!(access_error(&err), Some(&AccessError::InvalidUtf8 { address: 96, len: 12 }));
    println!("bad_utf8: {err}");

    // No NUL within `MAX_CSTR` bytes.
    let unterminated = instance.get_typed_func::<(), ()>(&mut store, "unterminated")?;
    let err = unterminated.call(&mut store, ()).expect_err("unterminated");
    assert_eq!(access_error(&err), Some(&AccessError::Unterminated { address: 128, max_len: u64::from(MAX_CSTR) }));
    println!("unterminated: {err}");

    // A buffer outside the memory: nothing is written.
    let hostile = instance.get_typed_func::<(), u32>(&mut store, "hostile_buffer")?;
    let err = hostile.call(&mut store, ()).expect_err("out of bounds");
    assert!(matches!(access_error(&err), Some(AccessError::OutOfBounds { address: 0xffff_fff0, .. })), "{err:?}");
    println!("hostile_buffer: {err}");

    // Nothing was logged by the failed calls.
    assert_eq!(store.data().len(), 4);
    Ok(())
}
