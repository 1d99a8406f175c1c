//! API tests: the linker, host functions, and the `Caller` accepted wherever a store is.

use super::*;

// ---------------------------------------------------------------------------------------------
// Linker and host functions
// ---------------------------------------------------------------------------------------------

#[test]
fn linker_func_wrap_define_instantiate() -> Result {
    let engine = Engine::default();
    let module = Module::new(&engine, ALL_KINDS)?;
    let mut store = Store::new(&engine, ());
    let mem = Memory::new(&mut store, MemoryType::new(1, Some(1)))?;
    let g = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(0))?;
    let t = Table::new(&mut store, TableType::new(RefType::FuncRef, 2, None), Val::FuncRef(None))?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", |x: i32| x - 1)?;
    linker.define(&mut store, "env", "mem", mem)?.define(&mut store, "env", "g", g)?;
    linker.define(&mut store, "env", "t", t)?;
    let instance = linker.instantiate(&mut store, &module)?;
    assert_eq!(instance.get_typed_func::<i32, i32>(&mut store, "run")?.call(&mut store, 10)?, 9);
    assert_eq!(g.get(&store).i32(), Some(1));
    // One linker, many instances.
    let again = linker.instantiate(&mut store, &module)?;
    assert_eq!(again.get_typed_func::<i32, i32>(&mut store, "run")?.call(&mut store, 1)?, 0);
    assert_eq!(g.get(&store).i32(), Some(2));
    // A definition of the wrong type is a link error naming the import.
    let mut bad = Linker::new(&engine);
    bad.func_wrap("env", "f", |x: i64| x)?;
    bad.define(&mut store, "env", "mem", mem)?.define(&mut store, "env", "g", g)?.define(&mut store, "env", "t", t)?;
    let err = bad.instantiate(&mut store, &module).unwrap_err();
    assert!(err.is_link() && err.to_string().contains("f"), "{err}");
    Ok(())
}

#[test]
fn unknown_import_is_a_link_error_naming_it() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (import "host_mod" "missing_fn" (func)))"#).expect("module");
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine).instantiate(&mut store, &module).unwrap_err();
    assert!(err.is_link(), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("host_mod") && msg.contains("missing_fn"), "{msg}");
}

#[test]
fn host_closures_with_and_without_caller_and_all_result_shapes() -> Result {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "h" "value" (func $value (param i32) (result i32)))
             (import "h" "tuple" (func $tuple (param i64 f64) (result f64 i64)))
             (import "h" "unit" (func $unit (param i32)))
             (import "h" "ok" (func $ok (param i32) (result i32)))
             (import "h" "fails" (func $fails (param i32) (result i32)))
             (import "h" "state" (func $state (param i32) (result i32)))
             (func (export "value") (param i32) (result i32) (call $value (local.get 0)))
             (func (export "tuple") (param i64 f64) (result f64 i64) (call $tuple (local.get 0) (local.get 1)))
             (func (export "unit") (param i32) (call $unit (local.get 0)))
             (func (export "ok") (param i32) (result i32) (call $ok (local.get 0)))
             (func (export "fails") (param i32) (result i32) (i32.add (call $fails (local.get 0)) (i32.const 1)))
             (func (export "state") (param i32) (result i32) (call $state (local.get 0))))"#,
    )?;
    let mut linker: Linker<Vec<i32>> = Linker::new(&engine);
    linker.func_wrap("h", "value", |x: i32| x * 2)?;
    linker.func_wrap("h", "tuple", |a: i64, b: f64| (b * 2.0, a + 1))?;
    linker.func_wrap("h", "unit", |mut caller: Caller<'_, Vec<i32>>, x: i32| caller.data_mut().push(x))?;
    linker.func_wrap("h", "ok", |x: u32| -> Result<u32> { Ok(x.wrapping_add(1)) })?;
    linker.func_wrap("h", "fails", |x: i32| -> Result<i32> {
        if x < 0 { Err(Error::msg(format!("host refused {x}"))) } else { Ok(x) }
    })?;
    linker.func_wrap("h", "state", |caller: Caller<'_, Vec<i32>>, i: i32| -> Result<i32> {
        caller.data().get(i as usize).copied().ok_or_else(|| Error::msg("no such entry"))
    })?;
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module)?;
    assert_eq!(instance.get_typed_func::<i32, i32>(&mut store, "value")?.call(&mut store, 21)?, 42);
    let tuple = instance.get_typed_func::<(i64, f64), (f64, i64)>(&mut store, "tuple")?;
    assert_eq!(tuple.call(&mut store, (9, 0.5))?, (1.0, 10));
    let unit = instance.get_typed_func::<i32, ()>(&mut store, "unit")?;
    unit.call(&mut store, 4)?;
    unit.call(&mut store, 5)?;
    assert_eq!(store.data(), &[4, 5]);
    assert_eq!(instance.get_typed_func::<u32, u32>(&mut store, "ok")?.call(&mut store, u32::MAX)?, 0);
    let fails = instance.get_typed_func::<i32, i32>(&mut store, "fails")?;
    assert_eq!(fails.call(&mut store, 1)?, 2);
    let err = fails.call(&mut store, -7).unwrap_err();
    assert!(err.to_string().contains("host refused -7"), "{err}");
    assert!(err.trap_code().is_none(), "a host error is not a wasm trap code: {err}");
    let state = instance.get_typed_func::<i32, i32>(&mut store, "state")?;
    assert_eq!(state.call(&mut store, 1)?, 5);
    assert!(state.call(&mut store, 9).unwrap_err().to_string().contains("no such entry"));
    Ok(())
}

#[derive(Debug)]
struct CustomHostError(u32);

impl std::fmt::Display for CustomHostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "custom host error #{}", self.0)
    }
}

impl std::error::Error for CustomHostError {}

#[test]
fn host_error_reaches_the_caller_intact() -> Result {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "h" "boom" (func $boom))
             (global $after (export "after") (mut i32) (i32.const 0))
             (func (export "run") (call $boom) (global.set $after (i32.const 1))))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("h", "boom", || -> Result<()> { Err(Error::new(CustomHostError(17))) })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let err = instance.get_typed_func::<(), ()>(&mut store, "run")?.call(&mut store, ()).unwrap_err();
    assert!(err.to_string().contains("custom host error #17"), "{err}");
    let inner = err.host_error().expect("a host error");
    assert_eq!(inner.downcast_ref::<CustomHostError>().map(|e| e.0), Some(17));
    let after = instance.get_global(&mut store, "after").expect("after");
    assert_eq!(after.get(&store).i32(), Some(0), "the guest must stop at the host error");
    Ok(())
}

#[test]
fn caller_works_wherever_a_store_does() -> Result {
    let engine = Engine::default();
    // The memory is deliberately NOT exported: `Caller::memory` still finds memory 0.
    let module = Module::new(
        &engine,
        r#"(module
             (import "h" "work" (func $work (param i32) (result i32)))
             (memory 1 4)
             (global (export "g") (mut i32) (i32.const 0))
             (table (export "t") 1 funcref)
             (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
             (func (export "run") (param i32) (result i32)
               (i32.add (call $work (local.get 0)) (i32.load8_u (i32.const 0)))))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("h", "work", |mut caller: Caller<'_, u32>, x: i32| -> Result<i32> {
        *caller.data_mut() += 1;
        let mem = caller.memory().ok_or_else(|| Error::msg("no memory 0"))?;
        assert!(caller.get_export("memory").is_none(), "memory is not exported");
        mem.data_mut(&mut caller)[0] = 100;
        mem.write(&mut caller, 1, &[7, 8])?;
        let mut buf = [0; 2];
        mem.read(&caller, 1, &mut buf)?;
        assert_eq!(buf, [7, 8]);
        assert_eq!(mem.data(&caller)[..3], [100, 7, 8]);
        assert_eq!(mem.grow(&mut caller, 1)?, 1);
        assert_eq!((mem.size(&caller), mem.data_size(&caller)), (2, 2 * 65_536));
        let double = caller.get_export("double").and_then(|e| e.into_func()).ok_or_else(|| Error::msg("double"))?;
        let doubled = double.typed::<i32, i32>(&caller)?.call(&mut caller, x)?;
        let mut out = [Val::I32(0)];
        double.call(&mut caller, &[Val::I32(doubled)], &mut out)?;
        let g = caller.get_export("g").and_then(|e| e.into_global()).ok_or_else(|| Error::msg("g"))?;
        g.set(&mut caller, out[0].clone())?;
        let t = caller.get_export("t").and_then(|e| e.into_table()).ok_or_else(|| Error::msg("t"))?;
        assert_eq!(t.size(&caller), 1);
        let helper = Func::wrap(&mut caller, |a: i32| a + 1);
        t.grow(&mut caller, 1, Val::FuncRef(Some(helper)))?;
        assert!(matches!(t.get(&mut caller, 1), Some(Val::FuncRef(Some(_)))));
        assert_eq!(helper.typed::<i32, i32>(&caller)?.call(&mut caller, 1)?, 2);
        let mut ctx = caller.as_context_mut();
        double.typed::<i32, i32>(&ctx)?.call(&mut ctx, out[0].i32().unwrap_or(0))
    })?;
    let mut store = Store::new(&engine, 0_u32);
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 3)?, 3 * 8 + 100);
    assert_eq!(*store.data(), 1);
    assert_eq!(instance.get_global(&mut store, "g").expect("g").get(&store).i32(), Some(12));
    assert_eq!(instance.get_table(&mut store, "t").expect("t").size(&store), 2);
    Ok(())
}

#[test]
fn caller_without_a_calling_instance() -> Result {
    // A host function called directly by the host has no calling instance.
    let mut store = Store::new(&Engine::default(), 5_i32);
    let f = Func::wrap(&mut store, |caller: Caller<'_, i32>| -> i32 {
        assert!(caller.memory().is_none());
        assert!(caller.get_export("x").is_none());
        *caller.data()
    });
    assert_eq!(f.typed::<(), i32>(&store)?.call(&mut store, ())?, 5);
    Ok(())
}

#[test]
fn host_can_catch_a_guest_trap_and_continue() -> Result {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "h" "try" (func $try (result i32)))
             (func (export "boom") (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
             (func (export "run") (result i32) (i32.add (call $try) (i32.const 1))))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("h", "try", |mut caller: Caller<'_, Option<TrapCode>>| -> Result<i32> {
        let boom = caller.get_export("boom").and_then(|e| e.into_func()).ok_or_else(|| Error::msg("boom"))?;
        let err = boom.typed::<(), i32>(&caller)?.call(&mut caller, ()).unwrap_err();
        *caller.data_mut() = err.trap_code();
        Ok(41)
    })?;
    let mut store = Store::new(&engine, None);
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    for _ in 0..3 {
        assert_eq!(run.call(&mut store, ())?, 42, "the outer call continues after the inner trap");
        assert_eq!(*store.data(), Some(TrapCode::IntegerDivisionByZero));
    }
    Ok(())
}

#[test]
fn instantiate_from_inside_a_host_function() -> Result {
    let engine = Engine::default();
    let inner = Module::new(
        &engine,
        r#"(module (global (export "g") (mut i32) (i32.const 0))
             (func $s (global.set 0 (i32.const 33))) (start $s))"#,
    )?;
    let outer = Module::new(
        &engine,
        r#"(module (import "h" "make" (func $make (result i32)))
             (memory 1)
             (func (export "run") (result i32) (i32.store (i32.const 0) (i32.const 5))
               (i32.add (call $make) (i32.load (i32.const 0)))))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("h", "make", move |mut caller: Caller<'_, ()>| -> Result<i32> {
        let instance = Instance::new(&mut caller, &inner, &[])?;
        let g = instance.get_global(&mut caller, "g").ok_or_else(|| Error::msg("g"))?;
        Ok(g.get(&caller).i32().unwrap_or(-1))
    })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &outer)?;
    assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "run")?.call(&mut store, ())?, 38);
    Ok(())
}

#[test]
fn objects_from_another_store_or_engine_are_errors() -> Result {
    let engine = Engine::default();
    let module = Module::new(&engine, ALL_KINDS)?;
    let mut store_a = Store::new(&engine, ());
    let mem = Memory::new(&mut store_a, MemoryType::new(1, None))?;
    let g = Global::new(&mut store_a, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(0))?;
    let t = Table::new(&mut store_a, TableType::new(RefType::FuncRef, 2, None), Val::FuncRef(None))?;
    let f = Func::wrap(&mut store_a, |x: i32| x);
    let mut store_b = Store::new(&engine, ());
    let err = Instance::new(&mut store_b, &module, &[f.into(), mem.into(), g.into(), t.into()]).unwrap_err();
    assert!(err.is_link(), "{err}");
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", |x: i32| x)?;
    linker.define(&mut store_a, "env", "mem", mem)?.define(&mut store_a, "env", "g", g)?;
    linker.define(&mut store_a, "env", "t", t)?;
    assert!(linker.instantiate(&mut store_b, &module).unwrap_err().is_link());
    linker.instantiate(&mut store_a, &module)?;
    // A function reference of store A passed to store B's wasm or tables.
    let t_b = Table::new(&mut store_b, TableType::new(RefType::FuncRef, 1, None), Val::FuncRef(None))?;
    assert!(t_b.grow(&mut store_b, 1, Val::FuncRef(Some(f))).is_err());
    // A module of another engine.
    let other = Engine::default();
    let mut store_c = Store::new(&other, ());
    let plain = Module::new(&engine, "(module)")?;
    assert!(Instance::new(&mut store_c, &plain, &[]).is_err());
    assert!(Linker::new(&other).instantiate(&mut store_c, &plain).is_err());
    Ok(())
}

#[test]
fn runtime_objects_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Engine>();
    send_sync::<Module>();
    send_sync::<Func>();
    send_sync::<Memory>();
    send_sync::<Instance>();
    send::<Store<Vec<u8>>>();
    send::<Linker<Vec<u8>>>();
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (func (export "f") (result i32) i32.const 3))"#).expect("module");
    let handle = std::thread::spawn(move || {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).expect("instance");
        instance.get_typed_func::<(), i32>(&mut store, "f").expect("f").call(&mut store, ()).expect("call")
    });
    assert_eq!(handle.join().expect("thread"), 3);
}
