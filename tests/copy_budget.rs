//! The copy budget of a host call (`StoreLimits::host_copy_bytes`): a guest-chosen length
//! cannot make a host function copy, allocate or loop without bound.

use wasmguard::{AccessError, Caller, Engine, Instance, Linker, Module, Store, StoreLimits, WasmPtr, WasmSlice};

const GUEST: &str = r#"
    (module
      (import "host" "sum" (func $sum (param i32 i32) (result i32)))
      (import "host" "sum_twice" (func $sum_twice (param i32 i32) (result i32)))
      (import "host" "units" (func $units (param i32 i32) (result i32)))
      (import "host" "walk" (func $walk (param i32 i32) (result i32)))
      (memory (export "memory") 4)
      (func (export "sum") (param i32 i32) (result i32) (call $sum (local.get 0) (local.get 1)))
      (func (export "sum_twice") (param i32 i32) (result i32) (call $sum_twice (local.get 0) (local.get 1)))
      (func (export "units") (param i32 i32) (result i32) (call $units (local.get 0) (local.get 1)))
      (func (export "walk") (param i32 i32) (result i32) (call $walk (local.get 0) (local.get 1))))
"#;

fn sum(caller: &Caller<'_, ()>, bytes: WasmSlice<u8>) -> wasmguard::Result<u32> {
    let memory = caller.memory().expect("memory");
    let data = bytes.read_to_vec(&memory.view(caller))?;
    Ok(data.iter().map(|&b| u32::from(b)).sum())
}

/// A store whose host calls may copy `budget` bytes each, and the guest's instance.
fn setup(budget: u64) -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST).expect("module");
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "sum", |caller: Caller<'_, ()>, s: WasmSlice<u8>| sum(&caller, s)).expect("sum");
    linker
        .func_wrap("host", "sum_twice", |caller: Caller<'_, ()>, s: WasmSlice<u8>| -> wasmguard::Result<u32> {
            Ok(sum(&caller, s)? + sum(&caller, s)?)
        })
        .expect("sum_twice");
    linker
        .func_wrap("host", "units", |caller: Caller<'_, ()>, s: WasmSlice<[u32; 0]>| -> wasmguard::Result<u32> {
            let memory = caller.memory().expect("memory");
            Ok(s.read_to_vec(&memory.view(&caller))?.len() as u32)
        })
        .expect("units");
    // A host function that walks a guest-chosen number of values one by one.
    linker
        .func_wrap("host", "walk", |caller: Caller<'_, ()>, p: WasmPtr<u32>, n: u32| -> wasmguard::Result<u32> {
            let memory = caller.memory().expect("memory");
            let before = caller.copy_budget_remaining();
            let view = memory.view(&caller);
            let mut total = 0u32;
            for i in 0..n {
                // Wrapping guest addresses: `add` and `read` check them.
                total = total.wrapping_add(p.add(i % 16_384)?.read(&view)?);
            }
            let spent = before - caller.copy_budget_remaining();
            assert_eq!(spent, u64::from(n) * 4, "each u32 read costs its 4 bytes");
            Ok(total)
        })
        .expect("walk");
    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimits { host_copy_bytes: budget, ..StoreLimits::default() });
    let instance = linker.instantiate(&mut store, &module).expect("instance");
    (store, instance)
}

fn call(store: &mut Store<()>, instance: &Instance, name: &str, args: (u32, u32)) -> wasmguard::Result<u32> {
    instance.get_typed_func::<(u32, u32), u32>(&mut *store, name).expect("export").call(store, args)
}

fn assert_over_budget(result: wasmguard::Result<u32>, budget: u64) {
    let err = result.expect_err("over the copy budget");
    let message = err.to_string();
    assert!(message.contains(&format!("copy budget of {budget} bytes per host call exceeded")), "{message}");
    let access = err.host_error().and_then(|e| e.downcast_ref::<AccessError>());
    assert!(matches!(access, Some(AccessError::CopyBudgetExceeded { budget: b, .. }) if *b == budget), "{err:?}");
}

#[test]
fn the_default_budget_is_generous_and_documented() {
    assert_eq!(StoreLimits::default().host_copy_bytes, 256 << 20);
}

#[test]
fn a_huge_guest_length_is_refused_by_the_budget_before_anything_is_allocated() {
    let (mut store, instance) = setup(64 << 10);
    // In bounds (4 pages = 256 KiB), over the 64 KiB budget.
    assert_over_budget(call(&mut store, &instance, "sum", (0, 200_000)), 64 << 10);
    // Out of bounds stays out of bounds, whatever the budget says.
    let err = call(&mut store, &instance, "sum", (0, u32::MAX)).unwrap_err();
    assert!(err.to_string().contains("out of bounds"), "{err}");
    // The store is still usable.
    assert_eq!(call(&mut store, &instance, "sum", (0, 16)).expect("small"), 0);
}

#[test]
fn calls_within_the_budget_work_and_each_call_starts_afresh() {
    let (mut store, instance) = setup(64 << 10);
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    memory.data_mut(&mut store)[..40_000].fill(1);
    for _ in 0..3 {
        assert_eq!(call(&mut store, &instance, "sum", (0, 40_000)).expect("within budget"), 40_000);
    }
    // Twice 40,000 bytes in one call is over 64 KiB.
    assert_over_budget(call(&mut store, &instance, "sum_twice", (0, 40_000)), 64 << 10);
    assert_eq!(call(&mut store, &instance, "sum_twice", (0, 30_000)).expect("twice within"), 60_000);
}

#[test]
fn a_zero_sized_slice_counts_its_elements() {
    let (mut store, instance) = setup(StoreLimits::default().host_copy_bytes);
    assert_over_budget(call(&mut store, &instance, "units", (0, u32::MAX)), 256 << 20);
    assert_eq!(call(&mut store, &instance, "units", (0, 1000)).expect("few"), 1000);
}

#[test]
fn value_by_value_loops_are_bounded_too() {
    let (mut store, instance) = setup(4096);
    assert_eq!(call(&mut store, &instance, "walk", (0, 1024)).expect("exactly the budget"), 0);
    assert_over_budget(call(&mut store, &instance, "walk", (0, 1025)), 4096);
    assert_over_budget(call(&mut store, &instance, "walk", (0, u32::MAX)), 4096);
}

#[test]
fn views_outside_host_calls_are_not_limited() {
    let (mut store, instance) = setup(16);
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let all = WasmSlice::new(WasmPtr::<u8>::new(0), 4 * 65_536);
    assert_eq!(all.read_to_vec(&memory.view(&store)).expect("no budget").len(), 4 * 65_536);
    let mut view = memory.view_mut(&mut store);
    all.write_from(&mut view, &vec![0; 4 * 65_536]).expect("no budget");
}

#[test]
fn a_nested_host_call_has_its_own_budget_and_its_caller_keeps_what_it_had() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "outer" (func $outer))
             (import "host" "inner" (func $inner))
             (memory 1)
             (func (export "outer") (call $outer))
             (func (export "inner") (call $inner)))"#,
    )
    .expect("module");
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "inner", |caller: Caller<'_, Vec<u64>>| -> wasmguard::Result<()> {
            let memory = caller.memory().expect("memory");
            WasmSlice::new(WasmPtr::<u8>::new(0), 60).read_to_vec(&memory.view(&caller))?;
            let left = caller.copy_budget_remaining();
            let mut caller = caller;
            caller.data_mut().push(left);
            Ok(())
        })
        .expect("inner");
    linker
        .func_wrap("host", "outer", |mut caller: Caller<'_, Vec<u64>>| -> wasmguard::Result<()> {
            let memory = caller.memory().expect("memory");
            WasmSlice::new(WasmPtr::<u8>::new(0), 30).read_to_vec(&memory.view(&caller))?;
            let inner = caller.get_export("inner").and_then(|e| e.into_func()).expect("inner export");
            inner.call(&mut caller, &[], &mut [])?;
            let left = caller.copy_budget_remaining();
            caller.data_mut().push(left);
            Ok(())
        })
        .expect("outer");
    let mut store = Store::new(&engine, Vec::new());
    store.set_limits(StoreLimits { host_copy_bytes: 100, ..StoreLimits::default() });
    let instance = linker.instantiate(&mut store, &module).expect("instance");
    instance.get_typed_func::<(), ()>(&mut store, "outer").expect("outer").call(&mut store, ()).expect("runs");
    assert_eq!(store.data(), &[40, 70]);
}
