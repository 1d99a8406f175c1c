//! Wasm exceptions between a guest and its host: a guest parser throws `$parse_error` with
//! the offset of the first bad byte, and the host reads the tag and payload of the exception
//! that escapes; a host function throws an exception that the guest catches.
//!
//! `cargo run --example exceptions`

use wasmguard::{Caller, Engine, ExnRef, Linker, Module, Store, Tag, TagType, Val, ValType};

const GUEST: &str = r#"
(module
  ;; Thrown by the host's `lookup` for an unknown key; the payload is the key.
  (import "env" "not_found" (tag $not_found (param i32)))
  (import "env" "lookup" (func $lookup (param i32) (result i32)))
  (memory (export "memory") 1)
  ;; The parser's error: the offset of the first byte that is not a decimal digit.
  (tag $parse_error (export "parse_error") (param i32))

  ;; Parses the decimal number in memory[ptr..ptr + len], or throws $parse_error.
  (func (export "parse") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $digit i32) (local $value i32)
    (if (i32.eqz (local.get $len)) (then (throw $parse_error (i32.const 0))))
    (loop $next
      (local.set $digit
        (i32.sub (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 48)))
      ;; Unsigned: a byte below '0' wraps to a large number.
      (if (i32.gt_u (local.get $digit) (i32.const 9))
        (then (throw $parse_error (local.get $i))))
      (local.set $value
        (i32.add (i32.mul (local.get $value) (i32.const 10)) (local.get $digit)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $len))))
    (local.get $value))

  ;; The host's value for `key`, or `default` when the host throws $not_found.
  (func (export "lookup_or") (param $key i32) (param $default i32) (result i32)
    (block $missing (result i32)
      (try_table (catch $not_found $missing)
        (return (call $lookup (local.get $key))))
      (unreachable))
    ;; The payload (the key) is on the stack: drop it and use the default.
    (drop)
    (local.get $default)))
"#;

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());

    // A tag made by the host, imported by the guest: the host throws it, the guest catches it.
    let not_found = Tag::new(&mut store, &TagType::new([ValType::I32]))?;
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "env", "not_found", not_found)?;
    linker.func_wrap("env", "lookup", move |mut caller: Caller<'_, ()>, key: i32| -> wasmguard::Result<i32> {
        match key {
            1 => Ok(100),
            2 => Ok(200),
            // Throwing: the error is the exception, which the calling wasm code may catch.
            _ => Err(ExnRef::new(&mut caller, not_found, &[Val::I32(key)])?.into()),
        }
    })?;

    let instance = linker.instantiate(&mut store, &Module::new(&engine, GUEST)?)?;
    let memory = instance.get_memory(&mut store, "memory").expect("exported memory");
    let parse = instance.get_typed_func::<(u32, u32), i32>(&mut store, "parse")?;
    let parse_error = instance.get_tag(&mut store, "parse_error").expect("exported tag");

    for input in ["12345", "12x45", ""] {
        memory.write(&mut store, 0, input.as_bytes())?;
        match parse.call(&mut store, (0, input.len() as u32)) {
            Ok(value) => println!("parse({input:?}) = {value}"),
            // An exception no `try_table` caught ends the call: the error carries it.
            Err(err) => match err.exception() {
                Some(exn) if exn.tag(&store) == parse_error => {
                    let offset = exn.values(&store)[0].i32().expect("an i32 payload");
                    println!("parse({input:?}) failed: parse_error at offset {offset}");
                }
                _ => return Err(err),
            },
        }
    }

    // The guest catches what the host throws, and carries on with its default.
    let lookup_or = instance.get_typed_func::<(i32, i32), i32>(&mut store, "lookup_or")?;
    for key in [1, 2, 3] {
        println!("lookup_or({key}, -1) = {}", lookup_or.call(&mut store, (key, -1))?);
    }
    Ok(())
}
