//! Integration tests of the public embedding API: every item of the contract table in DESIGN.md that exists today.

use wasmguard::{
    AsContextMut, Caller, Config, Engine, Error, ExternRef, Func, FuncType, Global, GlobalType, Instance, Linker,
    Memory, MemoryType, Module, Mutability, RefType, Store, StoreLimits, Table, TableType, TrapCode, V128, Val,
    ValType,
};

type Result<T = ()> = wasmguard::Result<T>;

/// Compiles `wat` and instantiates it without imports in a fresh store.
fn instantiate(wat: &str) -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("module instantiates");
    (store, instance)
}

/// An engine with fuel metering on.
fn fuel_engine() -> Engine {
    Engine::new(Config::new().consume_fuel(true)).expect("engine")
}

/// A module importing one of each kind: `env.f`, `env.mem`, `env.g`, `env.t`.
const ALL_KINDS: &str = r#"(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "mem" (memory 1))
  (import "env" "g" (global $g (mut i32)))
  (import "env" "t" (table 2 funcref))
  (elem (i32.const 1) $f)
  (func (export "run") (param i32) (result i32)
    (i32.store (i32.const 8) (local.get 0))
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (call_indirect (param i32) (result i32) (i32.load (i32.const 8)) (i32.const 1))))"#;

#[path = "api/host.rs"]
mod host;

// ---------------------------------------------------------------------------------------------
// Engine, Config, Store
// ---------------------------------------------------------------------------------------------

#[test]
fn engine_default_and_new() -> Result {
    let wat = r#"(module (func (export "f") (result i32) i32.const 7))"#;
    for engine in [Engine::default(), Engine::new(&Config::new())?, Engine::new(&Config::default())?] {
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "f")?.call(&mut store, ())?, 7);
    }
    Ok(())
}

#[test]
fn config_max_call_depth_bounds_recursion() -> Result {
    let engine = Engine::new(Config::new().max_call_depth(100))?;
    let module = Module::new(
        &engine,
        r#"(module (func $f (export "f") (param i32) (result i32)
             (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
               (else (i32.add (i32.const 1) (call $f (i32.sub (local.get 0) (i32.const 1))))))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let f = instance.get_typed_func::<i32, i32>(&mut store, "f")?;
    assert_eq!(f.call(&mut store, 50)?, 50);
    let err = f.call(&mut store, 500).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err}");
    // The store stays usable after the trap.
    assert_eq!(f.call(&mut store, 10)?, 10);
    Ok(())
}

#[test]
fn store_data_and_data_mut() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, vec![1_u8, 2]);
    assert_eq!(store.data(), &[1, 2]);
    store.data_mut().push(3);
    assert_eq!(store.data(), &[1, 2, 3]);
}

#[test]
fn fuel_is_an_error_when_not_enabled() {
    let mut store = Store::new(&Engine::default(), ());
    assert!(store.set_fuel(10).is_err());
    assert!(store.get_fuel().is_err());
}

#[test]
fn set_fuel_sets_and_does_not_add() -> Result {
    let mut store = Store::new(&fuel_engine(), ());
    assert_eq!(store.get_fuel()?, 0);
    store.set_fuel(100)?;
    assert_eq!(store.get_fuel()?, 100);
    store.set_fuel(50)?;
    assert_eq!(store.get_fuel()?, 50);
    store.set_fuel(u64::MAX)?;
    assert_eq!(store.get_fuel()?, u64::MAX);
    Ok(())
}

const START_LOOP: &str = r#"(module
  (global $g (export "g") (mut i32) (i32.const 0))
  (func $start
    (loop $l
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (br_if $l (i32.lt_u (global.get $g) (i32.const 100)))))
  (start $start))"#;

#[test]
fn start_function_consumes_fuel() -> Result {
    let engine = fuel_engine();
    let module = Module::new(&engine, START_LOOP)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000_000)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let used = 1_000_000 - store.get_fuel()?;
    assert!(used >= 100, "a 100-iteration start function used only {used} fuel");
    let g = instance.get_global(&mut store, "g").expect("global g");
    assert_eq!(g.get(&store).i32(), Some(100));

    // Too little fuel: the start function traps, so instantiation fails.
    let mut store = Store::new(&engine, ());
    store.set_fuel(10)?;
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err}");
    Ok(())
}

#[test]
fn running_out_of_fuel_traps_and_refuelling_works() -> Result {
    let engine = fuel_engine();
    let module = Module::new(
        &engine,
        r#"(module
             (func (export "spin") (loop $l (br $l)))
             (func (export "count") (param i32) (result i32) (local i32)
               (loop $l
                 (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
               (local.get 1)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(10_000)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    // An infinite loop always ends under fuel.
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err}");
    assert!(store.get_fuel()? < 10_000);
    // Refuel: the store is usable again, and fuel is consumed by ordinary calls.
    store.set_fuel(1_000_000)?;
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    assert_eq!(count.call(&mut store, 1000)?, 1000);
    let left = store.get_fuel()?;
    assert!(left < 1_000_000 - 1000, "1000 iterations used only {} fuel", 1_000_000 - left);
    store.set_fuel(100)?;
    assert_eq!(count.call(&mut store, 1_000_000).unwrap_err().trap_code(), Some(TrapCode::OutOfFuel));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Module
// ---------------------------------------------------------------------------------------------

#[test]
fn module_from_text_and_binary() -> Result {
    let engine = Engine::default();
    let wat = r#"(module (func (export "f") (result i32) i32.const 42))"#;
    let binary = wat::parse_str(wat).expect("valid wat");
    assert_eq!(&binary[..4], b"\0asm");
    for module in [Module::new(&engine, wat)?, Module::new(&engine, &binary)?, Module::new(&engine, wat.as_bytes())?] {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "f")?.call(&mut store, ())?, 42);
    }
    Ok(())
}

#[test]
fn malformed_and_invalid_modules_carry_the_decoder_message() {
    let engine = Engine::default();
    let cases: &[(&[u8], &str)] = &[
        (b"\0asm\x02\0\0\0", "unknown binary version"),
        (b"\0bad\x01\0\0\0", "unexpected character"), // not `\0asm`: parsed as text
        (b"\0asm\x01\0\0\0\x0e\x01\0", "section"),
        (b"\0asm\x01\0\0\0\x01\x05\x01\x60", "unexpected end"),
        (b"(module (func (result i32)))", "type mismatch"),
        (b"(module (func i32.const 1 i64.const 2 i32.add drop))", "type mismatch"),
        (b"(module (func (call 7)))", "unknown function"),
        (b"(module (func", "expected"),
        (b"(module (memory 70000))", "memory size must be at most"),
    ];
    for (input, needle) in cases {
        let err = Module::new(&engine, input).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(needle), "{:?}: `{msg}` does not contain `{needle}`", String::from_utf8_lossy(input));
        assert!(err.trap_code().is_none());
    }
}

#[test]
fn v128_crosses_every_boundary() -> Result {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let wat = r#"(module
        (import "host" "twice" (func $twice (param v128 i32) (result i32 v128)))
        (import "host" "g" (global $g (mut v128)))
        (global (export "h") (mut v128) (v128.const i64x2 7 8))
        (func (export "lanes") (result i32)
            (i32x4.extract_lane 2 (v128.const i32x4 1 2 3 4)))
        (func (export "mix") (param i32 v128 i64 v128) (result v128 i64)
            (i32x4.add (local.get 1) (local.get 3))
            (i64.add (local.get 2) (i64.extend_i32_u (local.get 0))))
        (func (export "call_host") (param v128) (result v128)
            (local $n i32)
            (call $twice (local.get 0) (i32.const 5))
            (local.set 0)
            (local.set $n)
            (i32x4.add (local.get 0) (i32x4.splat (local.get $n))))
        (func (export "globals") (param v128)
            (global.set $g (i32x4.add (global.get $g) (local.get 0)))
            (global.set 1 (global.get $g))))"#;
    let module = Module::new(&engine, wat)?;
    let twice = Func::wrap(&mut store, |v: V128, n: i32| (n + 1, V128::from_i32x4(v.to_i32x4().map(|x| x * 2))));
    let g = Global::new(&mut store, GlobalType::new(ValType::V128, Mutability::Var), Val::V128(1))?;
    let instance = Instance::new(&mut store, &module, &[twice.into(), g.into()])?;

    let lanes = instance.get_typed_func::<(), i32>(&mut store, "lanes")?;
    assert_eq!(lanes.call(&mut store, ())?, 3);

    let mix = instance.get_typed_func::<(i32, V128, i64, V128), (V128, i64)>(&mut store, "mix")?;
    let (v, n) = mix.call(&mut store, (2, V128::from_i32x4([1, 2, 3, 4]), 40, V128::from_i32x4([10, 20, 30, -4])))?;
    assert_eq!((v.to_i32x4(), n), ([11, 22, 33, 0], 42));

    let call_host = instance.get_typed_func::<V128, V128>(&mut store, "call_host")?;
    assert_eq!(call_host.call(&mut store, V128::from_i32x4([1, 2, 3, 4]))?.to_i32x4(), [8, 10, 12, 14]);

    // Untyped calls and dynamically typed host functions.
    let func = instance.get_func(&mut store, "mix").expect("exported");
    let mut results = [Val::I32(0), Val::I32(0)];
    let args = [Val::I32(1), Val::V128(5), Val::I64(1), Val::V128(1 << 64)];
    func.call(&mut store, &args, &mut results)?;
    assert_eq!(results[0].v128(), Some(5 | (1 << 64)));
    assert_eq!(results[1].i64(), Some(2));
    let ty = FuncType::new([ValType::V128], [ValType::V128]);
    let swap = Func::new(&mut store, ty, |_, args, results| {
        let v = args[0].v128().unwrap_or_default();
        results[0] = Val::V128(v.rotate_left(64));
        Ok(())
    });
    let mut out = [Val::V128(0)];
    swap.call(&mut store, &[Val::V128(1)], &mut out)?;
    assert_eq!(out[0].v128(), Some(1 << 64));

    // Globals: imported and exported, read and written from both sides.
    let globals = instance.get_typed_func::<V128, ()>(&mut store, "globals")?;
    globals.call(&mut store, V128::from_u64x2([2, 3]))?;
    assert_eq!(g.get(&store).v128(), Some(3 | (3 << 64)));
    let h = instance.get_global(&mut store, "h").expect("exported");
    assert_eq!(h.get(&store).v128(), Some(3 | (3 << 64)));
    h.set(&mut store, Val::V128(u128::MAX))?;
    assert_eq!(h.get(&store).v128(), Some(u128::MAX));
    assert!(h.set(&mut store, Val::I64(1)).is_err());
    Ok(())
}

#[test]
fn v128_lanes() {
    let v = V128::from_f32x4([1.0, -0.0, f32::INFINITY, 2.5]);
    assert_eq!(v.to_f32x4()[3], 2.5);
    assert_eq!(V128::from_u8x16([0xff; 16]).to_i64x2(), [-1, -1]);
    assert_eq!(V128::from_i16x8([1, 0, 0, 0, 0, 0, 0, -1]).to_bits(), 1 | (0xffff << 112));
    assert_eq!(V128::from_f64x2([1.0, 2.0]).to_u64x2(), [1.0f64.to_bits(), 2.0f64.to_bits()]);
}

// ---------------------------------------------------------------------------------------------
// Errors and traps
// ---------------------------------------------------------------------------------------------

const TRAPS: &str = r#"(module
  (type $v (func))
  (type $i (func (result i32)))
  (memory 1)
  (table 2 funcref)
  (func $nothing)
  (elem (i32.const 0) $nothing)
  (func (export "unreachable") unreachable)
  (func (export "memory_oob") (drop (i32.load (i32.const 65534))))
  (func (export "store_oob") (i64.store (i32.const -1) (i64.const 0)))
  (func (export "table_oob") (call_indirect (type $v) (i32.const 2)))
  (func (export "table_get_oob") (drop (table.get 0 (i32.const 99))))
  (func (export "null") (call_indirect (type $v) (i32.const 1)))
  (func (export "signature") (drop (call_indirect (type $i) (i32.const 0))))
  (func (export "div_overflow") (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))))
  (func (export "trunc_overflow") (drop (i32.trunc_f32_s (f32.const 3e9))))
  (func (export "div_zero") (drop (i64.div_u (i64.const 1) (i64.const 0))))
  (func (export "rem_zero") (drop (i32.rem_s (i32.const 1) (i32.const 0))))
  (func (export "nan") (drop (i64.trunc_f64_u (f64.const nan))))
  (func $rec (export "recursion") (call $rec))
  (func (export "ok") (result i32) i32.const 1))"#;

#[test]
fn trap_codes_reachable_from_wasm() -> Result {
    let (mut store, instance) = instantiate(TRAPS);
    let cases = [
        ("unreachable", TrapCode::UnreachableCodeReached),
        ("memory_oob", TrapCode::MemoryOutOfBounds),
        ("store_oob", TrapCode::MemoryOutOfBounds),
        ("table_oob", TrapCode::TableOutOfBounds),
        ("table_get_oob", TrapCode::TableOutOfBounds),
        ("null", TrapCode::IndirectCallToNull),
        ("signature", TrapCode::BadSignature),
        ("div_overflow", TrapCode::IntegerOverflow),
        ("trunc_overflow", TrapCode::IntegerOverflow),
        ("div_zero", TrapCode::IntegerDivisionByZero),
        ("rem_zero", TrapCode::IntegerDivisionByZero),
        ("nan", TrapCode::BadConversionToInteger),
        ("recursion", TrapCode::StackOverflow),
    ];
    for (name, code) in cases {
        if cfg!(miri) && name == "recursion" {
            continue; // a quarter of a million frames: hours under Miri, and no unsafe code
        }
        let f = instance.get_typed_func::<(), ()>(&mut store, name)?;
        let err = f.call(&mut store, ()).unwrap_err();
        assert_eq!(err.trap_code(), Some(code), "{name}: {err}");
        assert!(err.to_string().contains(code.message()), "{name}: `{err}` lacks `{}`", code.message());
        // Every trap leaves the store usable.
        assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "ok")?.call(&mut store, ())?, 1);
    }
    Ok(())
}

#[test]
fn error_is_send_sync_and_std_error() {
    fn assert_traits<E: Send + Sync + std::error::Error + 'static>() {}
    assert_traits::<Error>();
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::msg("x"));
    assert_eq!(boxed.to_string(), "x");
    let trap = Error::from(TrapCode::IntegerDivisionByZero);
    assert_eq!(trap.trap_code(), Some(TrapCode::IntegerDivisionByZero));
    assert!(Error::msg("plain").trap_code().is_none());
}

// ---------------------------------------------------------------------------------------------
// StoreLimits
// ---------------------------------------------------------------------------------------------

#[test]
fn store_limits_bound_memory_growth_and_instantiation() -> Result {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (memory (export "mem") 1)
             (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimits { memory_size_bytes: 4 * 65_536, ..StoreLimits::default() });
    assert_eq!(store.limits().memory_size_bytes, 4 * 65_536);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 3)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1, "memory.grow past the store limit returns -1");
    assert_eq!(grow.call(&mut store, 0)?, 4);
    let mem = instance.get_memory(&mut store, "mem").expect("mem");
    assert!(mem.grow(&mut store, 1).is_err(), "host growth is limited too");
    assert_eq!(mem.size(&store), 4);

    // A module whose memory minimum exceeds the limit fails to instantiate, cleanly.
    let big = Module::new(&engine, "(module (memory 5))")?;
    let err = Instance::new(&mut store, &big, &[]).unwrap_err();
    assert!(err.trap_code().is_none(), "{err}");
    assert!(Memory::new(&mut store, MemoryType::new(5, None)).is_err());
    // The store is still usable.
    assert_eq!(grow.call(&mut store, 0)?, 4);
    let small = Module::new(&engine, "(module (memory 4))")?;
    Instance::new(&mut store, &small, &[])?;
    Ok(())
}

#[test]
fn store_limits_bound_tables_and_instances() -> Result {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimits { table_elements: 10, instances: 2, ..StoreLimits::default() });
    let module = Module::new(
        &engine,
        r#"(module (table 5 funcref)
             (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 5)?, 5);
    assert_eq!(grow.call(&mut store, 1)?, -1);
    assert!(Instance::new(&mut store, &Module::new(&engine, "(module (table 11 funcref))")?, &[]).is_err());
    Instance::new(&mut store, &module, &[])?;
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.trap_code().is_none(), "{err}");

    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimits { memories: 1, tables: 1, ..StoreLimits::default() });
    Memory::new(&mut store, MemoryType::new(0, None))?;
    assert!(Memory::new(&mut store, MemoryType::new(0, None)).is_err(), "memory count limit");
    Table::new(&mut store, TableType::new(RefType::FuncRef, 0, None), Val::FuncRef(None))?;
    assert!(Table::new(&mut store, TableType::new(RefType::FuncRef, 0, None), Val::FuncRef(None)).is_err());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Instance: imports, exports
// ---------------------------------------------------------------------------------------------

#[test]
fn instance_new_with_imports_of_all_four_kinds() -> Result {
    let engine = Engine::default();
    let module = Module::new(&engine, ALL_KINDS)?;
    let mut store = Store::new(&engine, ());
    let f = Func::wrap(&mut store, |x: i32| x * 3);
    let mem = Memory::new(&mut store, MemoryType::new(1, None))?;
    let g = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(10))?;
    let t = Table::new(&mut store, TableType::new(RefType::FuncRef, 2, None), Val::FuncRef(None))?;
    let instance = Instance::new(&mut store, &module, &[f.into(), mem.into(), g.into(), t.into()])?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 7)?, 21);
    assert_eq!(&mem.data(&store)[8..12], &7_i32.to_le_bytes());
    assert_eq!(g.get(&store).i32(), Some(11));
    assert!(matches!(t.get(&mut store, 1), Some(Val::FuncRef(Some(h))) if h == f));

    // Wrong count, wrong kind and wrong type are link errors, not panics.
    let err = Instance::new(&mut store, &module, &[f.into()]).unwrap_err();
    assert!(err.is_link(), "{err}");
    let err = Instance::new(&mut store, &module, &[mem.into(), f.into(), g.into(), t.into()]).unwrap_err();
    assert!(err.is_link(), "{err}");
    let wrong = Func::wrap(&mut store, |x: i64| x);
    let err = Instance::new(&mut store, &module, &[wrong.into(), mem.into(), g.into(), t.into()]).unwrap_err();
    assert!(err.is_link() && err.to_string().contains("env"), "{err}");
    Ok(())
}

const EXPORTS: &str = r#"(module
  (func $a (export "zeta") (result i32) i32.const 1)
  (memory (export "mem") 1 2)
  (global (export "glob") (mut i64) (i64.const 5))
  (table (export "tab") 3 funcref)
  (func (export "alpha"))
  (global (export "const") i32 (i32.const 9))
  (elem (i32.const 0) $a))"#;

#[test]
fn exports_in_module_order_with_all_kinds() {
    let (mut store, instance) = instantiate(EXPORTS);
    let exports: Vec<_> = instance.exports(&mut store).collect();
    let names: Vec<&str> = exports.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["zeta", "mem", "glob", "tab", "alpha", "const"]);
    let externs: Vec<_> = exports.into_iter().map(|e| e.into_extern()).collect();
    assert!(externs[0].clone().into_func().is_some() && externs[0].clone().into_memory().is_none());
    assert!(externs[1].clone().into_memory().is_some() && externs[1].clone().into_table().is_none());
    assert!(externs[2].clone().into_global().is_some() && externs[2].clone().into_func().is_none());
    assert!(externs[3].clone().into_table().is_some() && externs[3].clone().into_global().is_none());
    assert!(externs[4].clone().into_func().is_some());
    assert!(externs[5].clone().into_global().is_some());
}

#[test]
fn get_export_by_kind() -> Result {
    let (mut store, instance) = instantiate(EXPORTS);
    let mem = instance.get_memory(&mut store, "mem").expect("memory");
    assert_eq!(mem.size(&store), 1);
    let glob = instance.get_global(&mut store, "glob").expect("global");
    assert_eq!(glob.get(&store).i64(), Some(5));
    let tab = instance.get_table(&mut store, "tab").expect("table");
    assert_eq!(tab.size(&store), 3);
    let zeta = instance.get_func(&mut store, "zeta").expect("func");
    assert_eq!(zeta.typed::<(), i32>(&store)?.call(&mut store, ())?, 1);
    assert!(instance.get_func(&mut store, "mem").is_none(), "a memory is not a function");
    assert!(instance.get_memory(&mut store, "zeta").is_none());
    assert!(instance.get_global(&mut store, "nope").is_none());
    assert!(instance.get_table(&mut store, "glob").is_none());
    assert!(instance.get_typed_func::<(), i32>(&mut store, "nope").is_err());
    assert!(instance.get_typed_func::<(), i64>(&mut store, "zeta").is_err());
    assert_eq!(instance.get_typed_func::<(), ()>(&mut store, "alpha")?.call(&mut store, ())?, ());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Func, FuncType, Val
// ---------------------------------------------------------------------------------------------

#[test]
fn func_ty_params_and_results() {
    let (mut store, instance) = instantiate(
        r#"(module (func (export "f") (param i32 i64 f32 f64 funcref externref) (result f64 i32)
             f64.const 0 i32.const 0))"#,
    );
    let f = instance.get_func(&mut store, "f").expect("f");
    let ty = f.ty(&store);
    let params: Vec<ValType> = ty.params().collect();
    let results: Vec<ValType> = ty.results().collect();
    use ValType::*;
    assert_eq!(params, [I32, I64, F32, F64, FuncRef, ExternRef]);
    assert_eq!(results, [F64, I32]);
    assert_eq!(ty, FuncType::new(params, results));

    let host = Func::wrap(&mut store, |_: u32, _: u64, _: f32| -> (f64, i64) { (0.0, 0) });
    let ty = host.ty(&store);
    assert_eq!(ty.params().collect::<Vec<_>>(), [I32, I64, F32]);
    assert_eq!(ty.results().collect::<Vec<_>>(), [F64, I64]);
}

#[test]
fn func_call_with_vals_and_type_mismatches() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module (func (export "sub") (param i64 i32) (result i64)
             (i64.sub (local.get 0) (i64.extend_i32_s (local.get 1)))))"#,
    );
    let sub = instance.get_func(&mut store, "sub").expect("sub");
    let mut out = [Val::I64(0)];
    sub.call(&mut store, &[Val::I64(10), Val::I32(3)], &mut out)?;
    assert_eq!(out[0].i64(), Some(7));
    // Wrong count of arguments or results, wrong argument types: errors, not traps.
    for (params, nres) in [
        (vec![Val::I64(1)], 1),
        (vec![Val::I64(1), Val::I32(1), Val::I32(1)], 1),
        (vec![Val::I32(1), Val::I32(1)], 1),
        (vec![Val::I64(1), Val::F32(0)], 1),
        (vec![Val::I64(1), Val::I32(1)], 0),
        (vec![Val::I64(1), Val::I32(1)], 2),
    ] {
        let mut results = vec![Val::I64(0); nres];
        let err = sub.call(&mut store, &params, &mut results).unwrap_err();
        assert!(err.trap_code().is_none(), "{err}");
    }
    // typed::<P, R> must match exactly.
    assert!(sub.typed::<(i64, i32), i64>(&store).is_ok());
    assert!(sub.typed::<(i32, i64), i64>(&store).is_err());
    assert!(sub.typed::<(i64, i32), i32>(&store).is_err());
    assert!(sub.typed::<(i64, i32), ()>(&store).is_err());
    assert!(sub.typed::<i64, i64>(&store).is_err());
    assert!(sub.typed::<(u64, u32), u64>(&store).is_ok(), "unsigned types map to i32/i64");
    Ok(())
}

#[test]
fn func_wrap_called_from_host() -> Result {
    let mut store = Store::new(&Engine::default(), ());
    let add = Func::wrap(&mut store, |a: i32, b: i32| a.wrapping_add(b));
    assert_eq!(add.typed::<(i32, i32), i32>(&store)?.call(&mut store, (i32::MAX, 1))?, i32::MIN);
    let mut out = [Val::I32(0)];
    add.call(&mut store, &[Val::I32(2), Val::I32(3)], &mut out)?;
    assert_eq!(out[0].i32(), Some(5));
    Ok(())
}

#[test]
fn val_f32_f64_raw_bits_keep_nan_payloads() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module
             (func (export "id32") (param f32) (result f32) local.get 0)
             (func (export "id64") (param f64) (result f64) local.get 0)
             (func (export "neg32") (param f32) (result f32) (f32.neg (local.get 0)))
             (func (export "bits32") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0))))"#,
    );
    let snan32: u32 = 0x7FA0_0001; // a signalling NaN with a payload
    let snan64: u64 = 0xFFF4_0000_DEAD_BEEF;
    let mut out = [Val::F32(0)];
    instance.get_func(&mut store, "id32").expect("id32").call(&mut store, &[Val::F32(snan32)], &mut out)?;
    assert!(matches!(out[0], Val::F32(b) if b == snan32), "{:?}", out[0]);
    let mut out = [Val::F64(0)];
    instance.get_func(&mut store, "id64").expect("id64").call(&mut store, &[Val::F64(snan64)], &mut out)?;
    assert!(matches!(out[0], Val::F64(b) if b == snan64), "{:?}", out[0]);
    let mut out = [Val::F32(0)];
    instance.get_func(&mut store, "neg32").expect("neg32").call(&mut store, &[Val::F32(snan32)], &mut out)?;
    assert!(matches!(out[0], Val::F32(b) if b == snan32 | 0x8000_0000), "{:?}", out[0]);
    // Through typed calls too.
    let bits = instance.get_typed_func::<f32, i32>(&mut store, "bits32")?;
    assert_eq!(bits.call(&mut store, f32::from_bits(snan32))? as u32, snan32);
    let id64 = instance.get_typed_func::<f64, f64>(&mut store, "id64")?;
    assert_eq!(id64.call(&mut store, f64::from_bits(snan64))?.to_bits(), snan64);
    // Accessors and conversions.
    assert_eq!(Val::from(1.5_f32).f32(), Some(1.5));
    assert_eq!(Val::from(2.5_f64).f64(), Some(2.5));
    assert_eq!(Val::from(-3_i32).i32(), Some(-3));
    assert_eq!(Val::from(-4_i64).i64(), Some(-4));
    assert_eq!(Val::I32(1).i64(), None);
    assert_eq!(Val::V128(1).ty(), ValType::V128);
    Ok(())
}

#[test]
fn funcref_and_externref_through_wasm() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module
             (func (export "idf") (param funcref) (result funcref) local.get 0)
             (func (export "ide") (param externref) (result externref) local.get 0)
             (func (export "is_null") (param externref) (result i32) (ref.is_null (local.get 0))))"#,
    );
    let idf = instance.get_func(&mut store, "idf").expect("idf");
    let ide = instance.get_func(&mut store, "ide").expect("ide");
    let host = Func::wrap(&mut store, || 99_i32);
    let mut out = [Val::FuncRef(None)];
    idf.call(&mut store, &[Val::FuncRef(Some(host))], &mut out)?;
    let Val::FuncRef(Some(back)) = out[0].clone() else { panic!("expected a function, got {:?}", out[0]) };
    assert_eq!(back, host);
    assert_eq!(back.typed::<(), i32>(&store)?.call(&mut store, ())?, 99);
    idf.call(&mut store, &[Val::FuncRef(None)], &mut out)?;
    assert!(matches!(out[0], Val::FuncRef(None)));

    let r = ExternRef::new(String::from("host value"));
    let mut out = [Val::ExternRef(None)];
    ide.call(&mut store, &[Val::ExternRef(Some(r.clone()))], &mut out)?;
    let Val::ExternRef(Some(back)) = out[0].clone() else { panic!("expected an externref, got {:?}", out[0]) };
    assert!(ExternRef::ptr_eq(&back, &r));
    assert_eq!(back.data().downcast_ref::<String>().map(String::as_str), Some("host value"));
    ide.call(&mut store, &[Val::ExternRef(None)], &mut out)?;
    assert!(matches!(out[0], Val::ExternRef(None)));
    let is_null = instance.get_func(&mut store, "is_null").expect("is_null");
    let mut out = [Val::I32(7)];
    is_null.call(&mut store, &[Val::ExternRef(Some(r))], &mut out)?;
    assert_eq!(out[0].i32(), Some(0));
    is_null.call(&mut store, &[Val::ExternRef(None)], &mut out)?;
    assert_eq!(out[0].i32(), Some(1));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Global, Table
// ---------------------------------------------------------------------------------------------

#[test]
fn global_get_and_set() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module
             (global $m (export "m") (mut i32) (i32.const 1))
             (global (export "c") f64 (f64.const 2.5))
             (func (export "read") (result i32) global.get $m))"#,
    );
    let m = instance.get_global(&mut store, "m").expect("m");
    let c = instance.get_global(&mut store, "c").expect("c");
    assert_eq!(m.get(&store).i32(), Some(1));
    m.set(&mut store, Val::I32(-8))?;
    assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "read")?.call(&mut store, ())?, -8);
    assert!(m.set(&mut store, Val::I64(1)).is_err(), "wrong type");
    assert_eq!(m.get(&store).i32(), Some(-8));
    assert_eq!(c.get(&store).f64(), Some(2.5));
    assert!(c.set(&mut store, Val::F64(0)).is_err(), "immutable global");
    assert_eq!(c.get(&store).f64(), Some(2.5));
    assert_eq!(c.ty(&store).mutability(), Mutability::Const);
    assert_eq!(m.ty(&store).content(), ValType::I32);
    Ok(())
}

#[test]
fn table_size_get_grow() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module
             (table (export "t") 2 4 funcref)
             (func $f (export "f") (result i32) i32.const 5)
             (elem (i32.const 1) $f)
             (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))"#,
    );
    let t = instance.get_table(&mut store, "t").expect("t");
    let f = instance.get_func(&mut store, "f").expect("f");
    assert_eq!(t.size(&store), 2);
    assert!(matches!(t.get(&mut store, 0), Some(Val::FuncRef(None))));
    assert!(matches!(t.get(&mut store, 1), Some(Val::FuncRef(Some(g))) if g == f));
    assert!(t.get(&mut store, 2).is_none());
    assert!(t.get(&mut store, u32::MAX).is_none());
    assert_eq!(t.grow(&mut store, 1, Val::FuncRef(Some(f)))?, 2);
    assert_eq!(t.size(&store), 3);
    let call = instance.get_typed_func::<i32, i32>(&mut store, "call")?;
    assert_eq!(call.call(&mut store, 2)?, 5);
    assert!(t.grow(&mut store, 2, Val::FuncRef(None)).is_err(), "past the maximum of 4");
    assert!(t.grow(&mut store, 1, Val::I32(0)).is_err(), "wrong element type");
    assert_eq!(t.size(&store), 3);
    assert_eq!(t.grow(&mut store, 0, Val::FuncRef(None))?, 3);
    Ok(())
}

#[test]
fn host_created_types_are_validated() {
    let mut store = Store::new(&Engine::default(), ());
    let table = Table::new(&mut store, TableType::new(RefType::FuncRef, 5, Some(2)), Val::FuncRef(None));
    assert!(table.is_err(), "a table type with minimum 5 > maximum 2 is invalid");
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(65_537)));
    assert!(memory.is_err(), "a 32-bit memory maximum above 65,536 pages is invalid");
}

// ---------------------------------------------------------------------------------------------
// TypedFunc
// ---------------------------------------------------------------------------------------------

#[test]
fn typed_func_tuples_and_single_values() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module
             (func (export "i32") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
             (func (export "i64") (param i64) (result i64) (i64.add (local.get 0) (i64.const 1)))
             (func (export "f32") (param f32) (result f32) (f32.mul (local.get 0) (f32.const 2)))
             (func (export "f64") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 2)))
             (func (export "swap") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
               local.get 3 local.get 2 local.get 1 local.get 0)
             (func (export "unit")))"#,
    );
    assert_eq!(instance.get_typed_func::<i32, i32>(&mut store, "i32")?.call(&mut store, 41)?, 42);
    assert_eq!(instance.get_typed_func::<i64, i64>(&mut store, "i64")?.call(&mut store, 1 << 40)?, (1 << 40) + 1);
    assert_eq!(instance.get_typed_func::<f32, f32>(&mut store, "f32")?.call(&mut store, 1.25)?, 2.5);
    assert_eq!(instance.get_typed_func::<f64, f64>(&mut store, "f64")?.call(&mut store, -0.75)?, -1.5);
    // u32 / u64 are the same wasm types, reinterpreted.
    assert_eq!(instance.get_typed_func::<u32, u32>(&mut store, "i32")?.call(&mut store, u32::MAX)?, 0);
    assert_eq!(instance.get_typed_func::<u32, i32>(&mut store, "i32")?.call(&mut store, u32::MAX - 1)?, -1);
    assert_eq!(instance.get_typed_func::<u64, u64>(&mut store, "i64")?.call(&mut store, u64::MAX)?, 0);
    assert_eq!(instance.get_typed_func::<(i32,), (i32,)>(&mut store, "i32")?.call(&mut store, (1,))?, (2,));
    let swap = instance.get_typed_func::<(i32, i64, f32, f64), (f64, f32, i64, i32)>(&mut store, "swap")?;
    assert_eq!(swap.call(&mut store, (1, -2, 3.5, -4.5))?, (-4.5, 3.5, -2, 1));
    let swap_u = instance.get_typed_func::<(u32, u64, f32, f64), (f64, f32, u64, u32)>(&mut store, "swap")?;
    assert_eq!(swap_u.call(&mut store, (u32::MAX, u64::MAX, 0.0, 1.0))?, (1.0, 0.0, u64::MAX, u32::MAX));
    instance.get_typed_func::<(), ()>(&mut store, "unit")?.call(&mut store, ())?;
    let f = instance.get_typed_func::<i32, i32>(&mut store, "i32")?;
    assert_eq!(f.func().ty(&store).params().len(), 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

#[test]
fn memory_new_ty_size_grow() -> Result {
    let mut store = Store::new(&Engine::default(), ());
    let m = Memory::new(&mut store, MemoryType::new(1, Some(3)))?;
    let ty = m.ty(&store);
    assert_eq!((ty.minimum(), ty.maximum()), (1, Some(3)));
    assert_eq!(m.size(&store), 1);
    assert_eq!(m.data_size(&store), 65_536);
    assert_eq!(m.grow(&mut store, 2)?, 1);
    assert_eq!((m.size(&store), m.data_size(&store)), (3, 3 * 65_536));
    assert!(m.grow(&mut store, 1).is_err(), "past the maximum");
    assert!(m.grow(&mut store, u64::MAX).is_err(), "overflowing delta");
    assert_eq!(m.size(&store), 3, "a failed grow leaves the size unchanged");
    assert_eq!(m.grow(&mut store, 0)?, 3);

    let unbounded = Memory::new(&mut store, MemoryType::new(0, None))?;
    assert_eq!((unbounded.size(&store), unbounded.data_size(&store)), (0, 0));
    assert_eq!(unbounded.ty(&store).maximum(), None);
    assert_eq!(unbounded.grow(&mut store, 1)?, 0);
    assert!(unbounded.grow(&mut store, 65_536).is_err(), "past 4 GiB");
    assert_eq!(unbounded.size(&store), 1);
    assert!(Memory::new(&mut store, MemoryType::new(2, Some(1))).is_err(), "minimum above maximum");
    Ok(())
}

#[test]
fn memory_data_ptr_data_data_mut_read_write() -> Result {
    let mut store = Store::new(&Engine::default(), ());
    let m = Memory::new(&mut store, MemoryType::new(1, None))?;
    assert!(m.data(&store).iter().all(|&b| b == 0), "new memory is zeroed");
    m.data_mut(&mut store)[10..13].copy_from_slice(b"abc");
    assert_eq!(m.data_ptr(&store), m.data(&store).as_ptr().cast_mut());
    m.write(&mut store, 65_533, b"xyz")?;
    let mut buf = [0_u8; 6];
    m.read(&store, 10, &mut buf)?;
    assert_eq!(&buf, b"abc\0\0\0");
    m.read(&store, 65_533, &mut buf[..3])?;
    assert_eq!(&buf[..3], b"xyz");
    // Out of bounds, including overflowing offsets: Err, never a panic, nothing written.
    let before = m.data(&store).to_vec();
    assert!(m.read(&store, 65_534, &mut buf[..3]).is_err());
    assert!(m.read(&store, 65_537, &mut []).is_err());
    assert!(m.read(&store, usize::MAX, &mut buf).is_err());
    assert!(m.write(&mut store, 65_534, b"123").is_err());
    assert!(m.write(&mut store, usize::MAX, b"1").is_err());
    assert!(m.write(&mut store, usize::MAX - 1, b"12").is_err());
    assert_eq!(m.data(&store), &before[..]);
    m.read(&store, 65_536, &mut [])?; // empty access at the end is in bounds
    m.write(&mut store, 65_536, &[])?;
    // Growth keeps the contents.
    m.grow(&mut store, 1)?;
    assert_eq!(&m.data(&store)[10..13], b"abc");
    m.write(&mut store, 65_534, b"123")?;
    Ok(())
}

#[test]
fn memory_shared_between_host_and_wasm() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module (memory (export "mem") 1)
             (func (export "sum") (param i32 i32) (result i32) (local i32)
               (block $done (loop $l
                 (br_if $done (i32.eqz (local.get 1)))
                 (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 0))))
                 (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                 (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
                 (br $l)))
               (local.get 2))
             (data (i32.const 100) "\01\02\03"))"#,
    );
    let mem = instance.get_memory(&mut store, "mem").expect("mem");
    assert_eq!(&mem.data(&store)[100..103], &[1, 2, 3]);
    mem.write(&mut store, 103, &[4, 5])?;
    let sum = instance.get_typed_func::<(i32, i32), i32>(&mut store, "sum")?;
    assert_eq!(sum.call(&mut store, (100, 5))?, 15);
    Ok(())
}

/// With `Config::reserve_memories`, a memory is allocated up to its maximum once: wasm
/// growth keeps the base address and the contents, and the new pages are zero.
#[test]
fn reserved_memories_never_move() -> wasmguard::Result<()> {
    let mut config = wasmguard::Config::new();
    config.reserve_memories(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(
        &engine,
        r#"(module (memory (export "m") 1 4)
             (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory = instance.get_memory(&mut store, "m").expect("exported");
    memory.write(&mut store, 10, b"kept")?;
    let base = memory.data_ptr(&store);
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 3)?, 1);
    assert_eq!(memory.data_ptr(&store), base, "growth within the reservation does not move the memory");
    assert_eq!(&memory.data(&store)[10..14], b"kept");
    assert!(memory.data(&store)[65536..].iter().step_by(4093).all(|&b| b == 0));
    assert_eq!(grow.call(&mut store, 1)?, -1, "past the maximum");
    Ok(())
}

/// Host functions called from wasm run in the middle of the guest's code: they may grow the
/// caller's memory, call back into the instance (which grows it again and writes to it),
/// and fail; the guest sees every change as soon as the call returns.
#[test]
fn host_calls_from_wasm_reenter_grow_memory_and_fail() -> Result {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "env" "step" (func $step (param i32) (result i32)))
             (memory (export "memory") 1)
             (func (export "mark") (param $i i32) (result i32)
               (drop (memory.grow (i32.const 1)))
               (i32.store (i32.mul (memory.size) (i32.const 0x8000)) (local.get $i))
               (memory.size))
             (func $inner (param $i i32) (result i32)
               (i32.add (call $step (local.get $i)) (i32.const 1)))
             (func (export "run") (param $n i32) (result i32) (local $i i32) (local $sum i32)
               (loop $l
                 ;; read what the host and `mark` wrote above the old end of memory
                 (local.set $sum (i32.add (local.get $sum)
                   (i32.load (i32.mul (call $inner (local.get $i)) (i32.const 0x8000)))))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
               (i32.add (local.get $sum) (memory.size))))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "step", |mut caller: Caller<'_, ()>, i: i32| -> Result<i32> {
        if i == 100 {
            return Err(Error::msg("step 100 refused"));
        }
        let memory = caller.memory().ok_or_else(|| Error::msg("no memory"))?;
        memory.grow(&mut caller, 1)?;
        let mark = caller.get_export("mark").and_then(|e| e.into_func()).ok_or_else(|| Error::msg("no mark"))?;
        let size = mark.typed::<i32, i32>(&caller)?.call(&mut caller, i * 10)?;
        assert_eq!(u64::from(size as u32), memory.size(&caller));
        // `mark` stored `i * 10` at `size * 0x8000`; the guest reads it at `(size - 1 + 1) * 0x8000`.
        Ok(size - 1)
    })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    // Two pages a step on top of the first: 1 + 2 * 3 = 7 pages; marks 0 + 10 + 20.
    assert_eq!(run.call(&mut store, 3)?, 30 + 7);
    let err = run.call(&mut store, 1000).expect_err("the host function fails at step 100");
    assert!(err.to_string().contains("step 100 refused"), "{err}");
    // The store is usable afterwards.
    assert_eq!(instance.get_memory(&mut store, "memory").expect("memory").size(&store), 7 + 200);
    Ok(())
}

/// `memory.copy` and `memory.fill` on memory 0: overlapping copies both ways, zero lengths
/// at the end of memory, and out-of-bounds ranges that trap before writing anything.
#[test]
fn bulk_memory_copy_and_fill() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module
             (memory (export "memory") 1)
             (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
             (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2))))"#,
    );
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let copy = instance.get_typed_func::<(u32, u32, u32), ()>(&mut store, "copy")?;
    let fill = instance.get_typed_func::<(u32, u32, u32), ()>(&mut store, "fill")?;
    let mut model = vec![0u8; 65536];
    for (i, b) in model.iter_mut().enumerate().take(64) {
        *b = i as u8 + 1;
    }
    memory.write(&mut store, 0, &model[..64])?;
    let check = |store: &Store<()>, model: &[u8]| {
        let mut now = vec![0u8; 65536];
        memory.read(store, 0, &mut now).expect("read");
        assert!(now == model, "memory differs from the model");
    };
    // Overlapping, forwards and backwards.
    copy.call(&mut store, (8, 0, 32))?;
    model.copy_within(0..32, 8);
    copy.call(&mut store, (1, 9, 40))?;
    model.copy_within(9..49, 1);
    fill.call(&mut store, (100, 0x1ab, 7))?;
    model[100..107].fill(0xab);
    // Up to the last byte, and zero lengths at the end.
    fill.call(&mut store, (65530, 7, 6))?;
    model[65530..].fill(7);
    copy.call(&mut store, (65536, 0, 0))?;
    copy.call(&mut store, (0, 65536, 0))?;
    fill.call(&mut store, (65536, 1, 0))?;
    check(&store, &model);
    // Out of bounds: a trap, and nothing written.
    for (d, s, n) in [(65530, 0, 7), (0, 65530, 7), (65537, 0, 0), (0, 65537, 0), (1, 0, u32::MAX)] {
        let err = copy.call(&mut store, (d, s, n)).expect_err("out of bounds copy");
        assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds), "copy({d}, {s}, {n}): {err}");
    }
    for (d, n) in [(65530, 7), (65537, 0), (0, u32::MAX)] {
        let err = fill.call(&mut store, (d, 9, n)).expect_err("out of bounds fill");
        assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds), "fill({d}, {n}): {err}");
    }
    check(&store, &model);
    Ok(())
}

/// The fused handlers that touch memory or globals, at the last bytes of memory and one
/// past them (also run under Miri: each reads or writes memory through raw pointers).
#[test]
fn fused_accesses_at_the_end_of_memory() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module
             (memory (export "memory") 1)
             (global $sp (export "sp") (mut i32) (i32.const 64))
             (func (export "update") (param $p i32) (param $x i64)
               (i64.store (local.get $p) (i64.add (i64.load (local.get $p)) (local.get $x))))
             (func (export "copy_store") (param $p i32) (param $v i32) (result i32) (local $c i32)
               (i32.store16 (local.get $p) (local.tee $c (local.get $v))) (local.get $c))
             (func (export "pair") (param $p i32) (result i32)
               (i32.add (i32.load offset=4 (local.get $p)) (i32.load (local.get $p))))
             (func (export "frame") (result i32) (local $fp i32)
               (global.set $sp (local.tee $fp (i32.sub (global.get $sp) (i32.const 16))))
               (i32.store (local.get $fp) (i32.const 5))
               (global.set $sp (i32.add (local.get $fp) (i32.const 16)))
               (i32.load (local.get $fp)))
             (func (export "count") (param $n i32) (result i32) (local $i i32)
               (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 3))) (local.get $n))))
               (local.get $i)))"#,
    );
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let update = instance.get_typed_func::<(u32, u64), ()>(&mut store, "update")?;
    let copy_store = instance.get_typed_func::<(u32, u32), u32>(&mut store, "copy_store")?;
    let pair = instance.get_typed_func::<u32, u32>(&mut store, "pair")?;
    let frame = instance.get_typed_func::<(), u32>(&mut store, "frame")?;
    let count = instance.get_typed_func::<u32, u32>(&mut store, "count")?;
    memory.write(&mut store, 65528, &40u64.to_le_bytes())?;
    update.call(&mut store, (65528, 2))?;
    assert_eq!(copy_store.call(&mut store, (65534, 0x1_0203))?, 0x1_0203);
    let mut tail = [0u8; 8];
    memory.read(&store, 65528, &mut tail)?;
    assert_eq!(tail, [42, 0, 0, 0, 0, 0, 3, 2]);
    assert_eq!(pair.call(&mut store, 65528)?, 42 + 0x0203_0000);
    for err in [
        update.call(&mut store, (65529, 1)).expect_err("update past the end"),
        copy_store.call(&mut store, (65535, 1)).map(drop).expect_err("store past the end"),
        pair.call(&mut store, 65529).map(drop).expect_err("second load past the end"),
    ] {
        assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds), "{err}");
    }
    memory.read(&store, 65528, &mut tail)?;
    assert_eq!(tail, [42, 0, 0, 0, 0, 0, 3, 2], "a trapping access wrote");
    assert_eq!(frame.call(&mut store, ())?, 5);
    assert_eq!(instance.get_global(&mut store, "sp").expect("sp").get(&store).i32(), Some(64));
    assert_eq!(count.call(&mut store, 10)?, 12);
    Ok(())
}

/// Extended constant expressions: arithmetic in initialisers and offsets; switched off, such
/// a module is invalid (as in 2.0).
#[test]
fn extended_constant_expressions_follow_the_config() {
    let wat = r#"(module
        (global (export "g") i64 (i64.mul (i64.const 6) (i64.sub (i64.const 10) (i64.const 3))))
        (memory (export "m") 1)
        (data (i32.add (i32.const 16) (i32.mul (i32.const 2) (i32.const 8))) "hi"))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("extended const is on by default");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiate");
    let g = instance.get_global(&mut store, "g").expect("g");
    assert_eq!(g.get(&store).i64(), Some(42));
    let m = instance.get_memory(&mut store, "m").expect("m");
    assert_eq!(&m.data(&store)[32..34], b"hi");

    let mut config = Config::new();
    config.wasm_extended_const(false);
    let err = Module::new(&Engine::new(&config).expect("engine"), wat).expect_err("2.0 rules");
    assert!(err.to_string().contains("constant expression"), "{err}");
}

/// A runaway recursion's backtrace keeps the innermost and outermost frames and counts the
/// rest, so the error stays small; a shallow one keeps every frame.
#[test]
fn deep_backtraces_are_capped() {
    // A small call depth keeps the test quick (under Miri too); the cap does not depend on it.
    let engine = Engine::new(Config::new().max_call_depth(2_000)).expect("engine");
    let module = Module::new(
        &engine,
        r#"(module $m
             (func $down (export "down") (param i32)
               (if (i32.eqz (local.get 0)) (then unreachable))
               (call $down (i32.sub (local.get 0) (i32.const 1))))
             (func (export "forever") (call 1)))"#,
    )
    .expect("module");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instance");
    let down = instance.get_typed_func::<i32, ()>(&mut store, "down").expect("down");
    let err = down.call(&mut store, 5).unwrap_err();
    let trace = err.wasm_backtrace().expect("backtrace");
    assert_eq!((trace.frames.len(), trace.elided), (6, 0));

    let forever = instance.get_typed_func::<(), ()>(&mut store, "forever").expect("forever");
    let err = forever.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err}");
    let trace = err.wasm_backtrace().expect("backtrace");
    assert_eq!(trace.frames.len(), wasmguard::WasmBacktrace::MAX_FRAMES);
    assert!(trace.elided > 1_800, "elided {}", trace.elided);
    // The outermost frame is the exported entry, the innermost the recursion.
    assert_eq!(trace.frames.last().map(|f| f.func_index), Some(1));
    let text = trace.to_string();
    assert!(text.contains(&format!("... {} frames elided ...", trace.elided)), "{text}");
    assert!(text.lines().count() < 110, "{text}");
}

/// The module offsets of the operators of every function body, in order.
fn operator_offsets(wasm: &[u8]) -> Vec<Vec<(usize, String)>> {
    let mut funcs = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.expect("payload") {
            let mut ops = body.get_operators_reader().expect("operators");
            let mut list = Vec::new();
            while !ops.eof() {
                let (op, offset) = ops.read_with_offset().expect("operator");
                list.push((offset as usize, format!("{op:?}")));
            }
            funcs.push(list);
        }
    }
    funcs
}

/// Backtrace frames carry the module offset of the instruction each frame was at: the one
/// that trapped or whose host call failed, and in the callers the call.
#[test]
fn backtrace_frames_have_code_offsets() {
    let wasm = wat::parse_str(
        r#"(module
             (import "env" "fail" (func $fail))
             (memory 1)
             (func $load (param i32) (result i32) (i32.load offset=8 (local.get 0)))
             (func $inner (drop (i32.const 1)) (unreachable))
             (func (export "trap") (nop) (call $inner))
             (func (export "oob") (result i32) (call $load (i32.const 65535)))
             (func (export "host") (nop) (nop) (call $fail)))"#,
    )
    .expect("wat");
    let ops = operator_offsets(&wasm);
    let at = |func: usize, name: &str| ops[func].iter().find(|(_, op)| op.starts_with(name)).expect("operator").0;
    let engine = Engine::default();
    let module = Module::new(&engine, &wasm).expect("module");
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "fail", || -> Result { Err(wasmguard::Error::msg("no")) }).expect("define");
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).expect("instance");
    let offsets = |store: &mut Store<()>, name: &str| {
        let f = instance.get_func(&mut *store, name).expect("export");
        let mut results = vec![Val::I32(0); f.ty(&*store).results().len()];
        let err = f.call(&mut *store, &[], &mut results).unwrap_err();
        let trace = err.wasm_backtrace().expect("backtrace").clone();
        trace.frames.iter().map(|f| (f.func_index, f.module_offset)).collect::<Vec<_>>()
    };
    // Functions 1.. are the defined ones (0 is the import); `ops` counts defined bodies.
    assert_eq!(offsets(&mut store, "trap"), [(2, Some(at(1, "Unreachable"))), (3, Some(at(2, "Call")))]);
    assert_eq!(offsets(&mut store, "oob"), [(1, Some(at(0, "I32Load"))), (4, Some(at(3, "Call")))]);
    assert_eq!(offsets(&mut store, "host"), [(5, Some(at(4, "Call")))]);
    let f = instance.get_func(&mut store, "trap").expect("export");
    let err = f.call(&mut store, &[], &mut []).unwrap_err();
    let frame = &err.wasm_backtrace().expect("backtrace").frames[0];
    // The body offset is the function's own: the `unreachable` comes after a const and a drop.
    assert!(frame.func_offset.is_some_and(|o| o > 0 && o < frame.module_offset.unwrap()), "{frame:?}");
    assert!(err.wasm_backtrace().unwrap().to_string().contains(&format!("at {:#x}", at(1, "Unreachable"))));
}
