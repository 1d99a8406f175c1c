//! Lazy translation (the default) against eager translation (`Config::lazy_translation(false)`):
//! `Module::new` refuses the same modules with the same errors, and running a module gives
//! the same results, traps, backtraces and fuel either way. Also: functions translated on
//! their first call from a deep stack (their frame needs more room than the stub's), through
//! tables, references, imports and tail calls, and from several threads at once.

use std::sync::Arc;

use wasmguard::{Config, Engine, Instance, Linker, Module, Store, TrapCode, Val};

type Result<T = ()> = wasmguard::Result<T>;

fn engine(lazy: bool, fuel: bool) -> Engine {
    let mut config = Config::new();
    config.lazy_translation(lazy).consume_fuel(fuel);
    Engine::new(&config).unwrap()
}

/// Calls export `name` with `params` in a fresh instance of `wat`; returns the results or the
/// error's text with its backtrace.
fn run(lazy: bool, wat: &str, name: &str, params: &[Val]) -> std::result::Result<Vec<Val>, String> {
    let engine = engine(lazy, false);
    let module = Module::new(&engine, wat).map_err(|e| format!("compile: {e}"))?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).map_err(|e| format!("instantiate: {e}"))?;
    let f = instance.get_func(&mut store, name).expect("export");
    let mut results: Vec<Val> = f.ty(&store).results().map(Val::default_for).collect();
    match f.call(&mut store, params, &mut results) {
        Ok(()) => Ok(results),
        Err(e) => Err(format!("{e} / {:?} / {:?}", e.trap_code(), e.wasm_backtrace())),
    }
}

/// Runs `name` both ways and checks that the outcomes agree; returns the lazy one.
fn same_both_ways(wat: &str, name: &str, params: &[Val]) -> std::result::Result<Vec<Val>, String> {
    let lazy = run(true, wat, name, params);
    let eager = run(false, wat, name, params);
    assert_eq!(format!("{lazy:?}"), format!("{eager:?}"), "lazy and eager translation differ");
    lazy
}

#[test]
fn invalid_and_malformed_bodies_fail_in_module_new_with_the_same_error() {
    let bad = [
        // Type mismatch in a function no one calls.
        "(module (func (result i32) i64.const 1))",
        // Unknown local, in the second of two functions.
        "(module (func) (func local.get 3 drop))",
        // Branch depth out of range.
        "(module (func br 2))",
        // Unknown function called.
        "(module (func call 7))",
        // Stack left non-empty.
        "(module (func i32.const 1))",
    ];
    for wat in bad {
        let lazy = Module::new(&engine(true, false), wat).expect_err(wat);
        let eager = Module::new(&engine(false, false), wat).expect_err(wat);
        assert!(lazy.is_compile(), "{wat}: {lazy}");
        assert_eq!(lazy.to_string(), eager.to_string(), "{wat}");
    }
    // A body cut short (binary): the code section's only body claims more bytes than it has.
    let mut truncated = wat::parse_str("(module (func (result i32) i32.const 1 i32.const 2 i32.add))").unwrap();
    let len = truncated.len();
    truncated[len - 2] = 0x0b; // `end` early: the body's size no longer matches.
    let lazy = Module::new(&engine(true, false), &truncated).expect_err("truncated");
    let eager = Module::new(&engine(false, false), &truncated).expect_err("truncated");
    assert_eq!(lazy.to_string(), eager.to_string());
}

#[test]
fn gc_operators_run_the_same_lazily_and_eagerly() {
    let wat = r#"(module (type $s (struct (field i32)))
        (func (export "f") (result i32) (struct.get $s 0 (struct.new $s (i32.const 5))))
        (func (export "null") (result i32) (struct.get $s 0 (ref.null $s))))"#;
    assert_eq!(same_both_ways(wat, "f", &[]).map(|r| r[0].i32()), Ok(Some(5)));
    let trap = same_both_ways(wat, "null", &[]).expect_err("a null struct");
    assert!(trap.contains("NullStructReference"), "{trap}");
}

#[test]
fn the_memory_index_byte_is_checked_in_module_new() {
    // `memory.size` with a non-zero-byte memory index encoding (0x80 0x00), which is
    // malformed without multi-memory: offset of the index byte is the same either way.
    let mut bytes = wat::parse_str("(module (memory 1) (func (result i32) memory.size))").unwrap();
    let at = bytes.windows(2).rposition(|w| w == [0x3f, 0x00]).unwrap();
    bytes.splice(at + 1..at + 2, [0x80, 0x00]);
    // Fix the body size and the code section size (both one byte, each one more now).
    let body_size_at = at - 2; // The body: its size, the local count 0, then 0x3f.
    bytes[body_size_at] += 1;
    let code_section = bytes.iter().rposition(|&b| b == 0x0a).unwrap();
    bytes[code_section + 1] += 1;
    let mut config = Config::new();
    config.wasm_multi_memory(false);
    for lazy in [true, false] {
        config.lazy_translation(lazy);
        let err = Module::new(&Engine::new(&config).unwrap(), &bytes).expect_err("memory index");
        assert!(err.to_string().contains("zero byte expected"), "lazy={lazy}: {err}");
    }
}

#[test]
fn results_traps_and_backtraces_agree() {
    let wat = r#"(module
        (memory 1)
        (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
                (then (local.get 0))
                (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                               (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
        (func $inner (param i32) (result i32) (i32.load (local.get 0)))
        (func $middle (param i32) (result i32) (call $inner (local.get 0)))
        (func (export "oob") (param i32) (result i32) (call $middle (local.get 0)))
        (func $down (export "down") (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))
    )"#;
    assert_eq!(same_both_ways(wat, "fib", &[Val::I32(20)]).unwrap()[0].i32(), Some(6765));
    assert_eq!(same_both_ways(wat, "oob", &[Val::I32(16)]).unwrap()[0].i32(), Some(0));
    let trap = same_both_ways(wat, "oob", &[Val::I32(65535)]).unwrap_err();
    assert!(trap.contains("MemoryOutOfBounds"), "{trap}");
    let overflow = same_both_ways(wat, "down", &[Val::I32(0)]).unwrap_err();
    assert!(overflow.contains("StackOverflow"), "{overflow}");
}

#[test]
fn the_first_call_makes_room_for_a_big_frame() -> Result {
    // The stub's frame holds only the parameter; the translation's needs thousands of slots,
    // so its first call (here from a deep recursion, then from the host) grows the stack.
    let locals = "i64 ".repeat(5000);
    let wat = format!(
        r#"(module
            (func $big (export "big") (param i32) (result i64) (local {locals})
                (local.set 4999 (i64.extend_i32_u (local.get 0)))
                (i64.add (local.get 4999) (local.get 1)))
            (func $deep (export "deep") (param i32) (result i64)
                (if (result i64) (i32.eqz (local.get 0))
                    (then (call $big (i32.const 41)))
                    (else (call $deep (i32.sub (local.get 0) (i32.const 1))))))
        )"#
    );
    assert_eq!(same_both_ways(&wat, "deep", &[Val::I32(2000)]).unwrap()[0].i64(), Some(41));
    assert_eq!(same_both_ways(&wat, "big", &[Val::I32(7)]).unwrap()[0].i64(), Some(7));
    Ok(())
}

#[test]
fn first_calls_through_tables_references_imports_and_tail_calls() -> Result {
    let provider = r#"(module
        (func (export "triple") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
    )"#;
    let user = r#"(module
        (import "p" "triple" (func $triple (param i32) (result i32)))
        (type $t (func (param i32) (result i32)))
        (table 4 funcref)
        (elem (i32.const 0) func $double $triple $tail)
        (elem declare func $inc)
        (func $double (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
        (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
        (func $tail (param i32) (result i32) (return_call $inc (local.get 0)))
        (func (export "indirect") (param i32 i32) (result i32)
            (call_indirect (type $t) (local.get 0) (local.get 1)))
        (func (export "by_ref") (param i32) (result i32) (call_ref $t (local.get 0) (ref.func $inc)))
        (func (export "tail_indirect") (param i32) (result i32)
            (return_call_indirect (type $t) (local.get 0) (i32.const 2)))
    )"#;
    for lazy in [true, false] {
        let engine = engine(lazy, false);
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        let p = linker.instantiate(&mut store, &Module::new(&engine, provider)?)?;
        linker.instance(&mut store, "p", p)?;
        let u = linker.instantiate(&mut store, &Module::new(&engine, user)?)?;
        let indirect = u.get_typed_func::<(i32, i32), i32>(&mut store, "indirect")?;
        assert_eq!(indirect.call(&mut store, (5, 0))?, 10);
        assert_eq!(indirect.call(&mut store, (5, 1))?, 15);
        assert_eq!(indirect.call(&mut store, (5, 2))?, 6);
        let err = indirect.call(&mut store, (5, 3)).unwrap_err();
        assert_eq!(err.trap_code(), Some(TrapCode::IndirectCallToNull));
        assert_eq!(u.get_typed_func::<i32, i32>(&mut store, "by_ref")?.call(&mut store, 8)?, 9);
        assert_eq!(u.get_typed_func::<i32, i32>(&mut store, "tail_indirect")?.call(&mut store, 1)?, 2);
    }
    Ok(())
}

#[test]
fn fuel_is_the_same_either_way() -> Result {
    let wat = r#"(module
        (func $sum (export "sum") (param i32) (result i32) (local i32)
            (block (loop
                (br_if 1 (i32.eqz (local.get 0)))
                (local.set 1 (i32.add (local.get 1) (call $id (local.get 0))))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (br 0)))
            (local.get 1))
        (func $id (param i32) (result i32) (local.get 0))
    )"#;
    let mut used = Vec::new();
    for lazy in [true, false] {
        let engine = engine(lazy, true);
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        store.set_fuel(1_000_000)?;
        let instance = Instance::new(&mut store, &module, &[])?;
        let sum = instance.get_typed_func::<i32, i32>(&mut store, "sum")?;
        assert_eq!(sum.call(&mut store, 100)?, 5050);
        used.push(1_000_000 - store.get_fuel()?);
        // Out of fuel in the middle: the same trap.
        store.set_fuel(50)?;
        assert_eq!(sum.call(&mut store, 100).unwrap_err().trap_code(), Some(TrapCode::OutOfFuel));
    }
    assert_eq!(used[0], used[1]);
    Ok(())
}

#[test]
fn threads_translating_the_same_functions_at_once_agree() -> Result {
    // Every thread instantiates the shared module in its own store and calls every function
    // first thing, so they race to translate each one.
    let mut wat = String::from("(module\n");
    let funcs = if cfg!(miri) { 8 } else { 40 };
    for i in 0..funcs {
        wat.push_str(&format!(
            "(func (export \"f{i}\") (param i32) (result i32) (i32.add (i32.mul (local.get 0) (i32.const {i})) (i32.const 1)))\n"
        ));
    }
    wat.push(')');
    let engine = Engine::default();
    let module = Arc::new(Module::new(&engine, &wat)?);
    let threads = if cfg!(miri) { 3 } else { 8 };
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (engine, module) = (engine.clone(), module.clone());
            std::thread::spawn(move || -> Result<Vec<i32>> {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[])?;
                let mut out = Vec::new();
                // Different threads start at different functions.
                for k in 0..funcs {
                    let i = (k + t * 7) % funcs;
                    let f = instance.get_typed_func::<i32, i32>(&mut store, &format!("f{i}"))?;
                    out.push(f.call(&mut store, 3)? - 3 * i);
                }
                Ok(out)
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap()?.iter().all(|&r| r == 1));
    }
    Ok(())
}

#[test]
fn a_module_used_by_many_stores_translates_once_and_outlives_them() -> Result {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (func (export "f") (result i32) i32.const 9))"#)?;
    for _ in 0..3 {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "f")?.call(&mut store, ())?, 9);
    }
    // The instance (and its store) may also outlive the module handle.
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    drop(module);
    assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "f")?.call(&mut store, ())?, 9);
    Ok(())
}
