//! Typed function references (Wasm 3.0): `call_ref` and `return_call_ref` of wasm
//! functions, host functions and functions of other instances, `ref.as_non_null`,
//! `br_on_null` and `br_on_non_null` both ways, and the traps on null references.
//!
//! Typed references live in locals, block results and `select` results here, made by
//! `ref.func` (declared by `(elem declare func ...)`) or from `funcref`/`externref`
//! parameters the host passes in. (Under Miri, which runs the interpreter's handlers on
//! every path, the long runs are shorter.)

use wasmguard::{Caller, Config, Engine, ExternRef, Func, Instance, Linker, Module, Store, TrapCode, Val};

const REFS: &str = r#"
(module
  (type $bin (func (param i32 i64) (result i64 i32)))
  (type $un (func (param i32) (result i32)))
  (import "env" "host_add" (func $host_add (type $un)))
  (import "other" "load" (func $other_load (type $un)))
  (memory 1)
  (data (i32.const 0) "\01")
  (elem declare func $swap $inc $host_add $other_load)

  ;; Many locals: entering it makes the value stack grow on a store's first call.
  (func $swap (type $bin)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (i64.add (local.get 1) (i64.extend_i32_u (local.get 0)))
    (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (type $un) (i32.add (local.get 0) (i32.const 1)))

  ;; call_ref of a reference held in a local, with two parameters and two results.
  (func (export "call_local") (param $x i32) (param $y i64) (result i64 i32)
    (local $r (ref null $bin))
    (local.set $r (ref.func $swap))
    (call_ref $bin (local.get $x) (local.get $y) (local.get $r)))

  ;; call_ref of a reference on the operand stack, from a block's typed result.
  (func (export "call_temp") (param $x i32) (result i32)
    (call_ref $un (local.get $x) (block (result (ref $un)) (ref.func $inc))))

  ;; A typed select chooses the callee: 1 picks $inc, 0 the host function.
  (func (export "choose") (param $x i32) (param $which i32) (result i32)
    (call_ref $un (local.get $x)
      (select (result (ref $un)) (ref.func $inc) (ref.func $host_add) (local.get $which))))

  ;; The host function and a function of another instance, called and tail-called.
  (func (export "call_host") (param $x i32) (result i32)
    (call_ref $un (local.get $x) (ref.func $host_add)))
  (func (export "tail_host") (param $x i32) (result i32)
    (return_call_ref $un (local.get $x) (ref.func $host_add)))
  ;; The other instance adds the byte at address 0 of its memory (42); this one's is 1,
  ;; read after the call returns to this instance.
  (func (export "call_other") (param $x i32) (result i32)
    (i32.add (call_ref $un (local.get $x) (ref.func $other_load)) (i32.load8_u (i32.const 0))))
  (func (export "tail_other") (param $x i32) (result i32)
    (return_call_ref $un (local.get $x) (ref.func $other_load)))

  ;; Null references.
  (func (export "call_null") (param $x i32) (result i32)
    (call_ref $un (local.get $x) (ref.null $un)))
  (func (export "tail_null") (param $x i32) (result i32)
    (local $r (ref null $un))
    (return_call_ref $un (local.get $x) (local.get $r)))
  (func (export "is_null") (param $which i32) (result i32)
    (ref.is_null (select (result (ref null $un)) (ref.func $inc) (ref.null $un) (local.get $which))))

  ;; ref.as_non_null of a funcref the host passes: the same reference, or a trap.
  (func (export "as_non_null") (param $f funcref) (result funcref)
    (ref.as_non_null (local.get $f)))
  ;; ... and of a typed local, the result then called.
  (func (export "as_non_null_call") (param $which i32) (param $x i32) (result i32)
    (local $r (ref null $un))
    (if (local.get $which) (then (local.set $r (ref.func $inc))))
    (call_ref $un (local.get $x) (ref.as_non_null (local.get $r))))
  (func (export "extern_as_non_null") (param $e externref) (result externref)
    (local $t (ref null extern))
    (local.set $t (local.get $e))
    (ref.as_non_null (local.get $t)))

  ;; br_on_null: a null reference branches with the value below it (x); a non-null one
  ;; stays and is called (x + 1).
  (func (export "on_null") (param $which i32) (param $x i32) (result i32)
    (local $r (ref null $un))
    (if (local.get $which) (then (local.set $r (ref.func $inc))))
    (block $null (result i32)
      (local.get $x)
      (local.get $r)
      (br_on_null $null)
      (call_ref $un))
    (i32.add (i32.const 1000)))
  ;; The same with the reference a temporary, and a value below the carried one, so the
  ;; branch moves x down to the block's result slot: null gives x, non-null 7 + x + 1.
  (func (export "on_null_moved") (param $which i32) (param $x i32) (result i32)
    (block $null (result i32)
      (i32.const 7)
      (local.get $x)
      (select (result (ref null $un)) (ref.func $inc) (ref.null $un) (local.get $which))
      (br_on_null $null)
      (call_ref $un)
      (i32.add)))
  ;; To the function's label: null returns x.
  (func (export "on_null_return") (param $f funcref) (param $x i32) (result i32)
    (local.get $x)
    (local.get $f)
    (br_on_null 0)
    (drop)
    (i32.add (i32.const 1)))
  ;; An externref: 0 for null, 1 otherwise.
  (func (export "extern_on_null") (param $e externref) (result i32)
    (block $null
      (local.get $e)
      (br_on_null $null)
      (drop)
      (return (i32.const 1)))
    (i32.const 0))

  ;; br_on_non_null: a non-null reference branches with itself and is called (x + 1); a
  ;; null one is dropped (x + 1000).
  (func (export "on_non_null") (param $which i32) (param $x i32) (result i32)
    (local $r (ref null $un))
    (if (local.get $which) (then (local.set $r (ref.func $inc))))
    (local.get $x)
    (block $nn (result (ref $un))
      (br_on_non_null $nn (local.get $r))
      (return (i32.add (local.get $x) (i32.const 1000))))
    (call_ref $un))
  ;; The same with a value below the reference, so the branch moves the reference down
  ;; to the block's result slot; on fall-through the value is what is left.
  (func (export "on_non_null_moved") (param $which i32) (param $x i32) (result i32)
    (local.get $x)
    (block $nn (result (ref $un))
      (i32.const 5)
      (br_on_non_null $nn
        (select (result (ref null $un)) (ref.func $inc) (ref.null $un) (local.get $which)))
      (return (i32.add (i32.const 1000))))
    (call_ref $un))
  ;; To the function's label, the reference as the returned value: a null one is
  ;; replaced by $inc.
  (func (export "on_non_null_return") (param $f funcref) (result funcref)
    (br_on_non_null 0 (local.get $f))
    (ref.func $inc))
)
"#;

/// Adds 42, the byte at address 0 of its memory.
const OTHER: &str = r#"
(module
  (memory 1)
  (data (i32.const 0) "\2a")
  (func (export "load") (param i32) (result i32)
    (i32.add (local.get 0) (i32.load8_u (i32.const 0)))))
"#;

/// A store whose data counts the host function's calls, and the instance of [`REFS`]; the
/// host function adds 100.
fn setup(engine: &Engine) -> (Store<u32>, Instance) {
    let mut store = Store::new(engine, 0u32);
    let other = Module::new(engine, wat::parse_str(OTHER).unwrap()).unwrap();
    let other = Instance::new(&mut store, &other, &[]).unwrap();
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("env", "host_add", |mut caller: Caller<'_, u32>, x: i32| {
            *caller.data_mut() += 1;
            x + 100
        })
        .unwrap();
    linker.instance(&mut store, "other", other).unwrap();
    let module = Module::new(engine, wat::parse_str(REFS).unwrap()).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

fn call_i32(store: &mut Store<u32>, instance: &Instance, name: &str, args: &[i32]) -> wasmguard::Result<i32> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let args: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
    let mut results = [Val::I32(0)];
    f.call(&mut *store, &args, &mut results)?;
    match results[0] {
        Val::I32(r) => Ok(r),
        ref other => panic!("{name} returned {other:?}"),
    }
}

/// Calls `name` with one reference argument and returns its reference result.
fn call_ref_fn(store: &mut Store<u32>, instance: &Instance, name: &str, arg: Val) -> wasmguard::Result<Val> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut results = [Val::I32(0)];
    f.call(&mut *store, &[arg], &mut results)?;
    Ok(results[0].clone())
}

/// The module offset of the first operator of the defined function exported as `export`
/// whose debug form starts with `op`.
fn offset_of(wasm: &[u8], export: &str, op: &str) -> usize {
    let mut imported = 0;
    let mut index = None;
    let mut bodies = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.unwrap() {
            wasmparser::Payload::ImportSection(imports) => {
                imported = imports.into_imports().count();
            }
            wasmparser::Payload::ExportSection(exports) => {
                for e in exports {
                    let e = e.unwrap();
                    if e.name == export {
                        index = Some(e.index as usize);
                    }
                }
            }
            wasmparser::Payload::CodeSectionEntry(body) => bodies.push(body),
            _ => {}
        }
    }
    let body = &bodies[index.unwrap() - imported];
    let mut ops = body.get_operators_reader().unwrap();
    while !ops.eof() {
        let (o, offset) = ops.read_with_offset().unwrap();
        if format!("{o:?}").starts_with(op) {
            return offset as usize;
        }
    }
    panic!("no {op} in {export}")
}

#[test]
fn call_ref_calls_a_wasm_function() {
    let engine = Engine::default();
    let (mut store, instance) = setup(&engine);
    let f = instance.get_func(&mut store, "call_local").unwrap();
    let mut results = [Val::I32(0), Val::I32(0)];
    f.call(&mut store, &[Val::I32(21), Val::I64(1 << 40)], &mut results).unwrap();
    assert!(matches!(results, [Val::I64(y), Val::I32(42)] if y == (1 << 40) + 21), "{results:?}");
    assert_eq!(call_i32(&mut store, &instance, "call_temp", &[41]).unwrap(), 42);
    assert_eq!(call_i32(&mut store, &instance, "choose", &[5, 1]).unwrap(), 6);
    assert_eq!(*store.data(), 0);
}

#[test]
fn call_ref_calls_a_host_function() {
    let engine = Engine::default();
    let (mut store, instance) = setup(&engine);
    assert_eq!(call_i32(&mut store, &instance, "call_host", &[1]).unwrap(), 101);
    assert_eq!(call_i32(&mut store, &instance, "choose", &[5, 0]).unwrap(), 105);
    assert_eq!(call_i32(&mut store, &instance, "tail_host", &[2]).unwrap(), 102);
    assert_eq!(*store.data(), 3, "three host calls");
}

#[test]
fn call_ref_calls_a_function_of_another_instance() {
    let engine = Engine::default();
    let (mut store, instance) = setup(&engine);
    // 10 + 42 from the other instance's memory, + 1 from this one's after the return.
    assert_eq!(call_i32(&mut store, &instance, "call_other", &[10]).unwrap(), 53);
    assert_eq!(call_i32(&mut store, &instance, "tail_other", &[10]).unwrap(), 52);
}

#[test]
fn null_references_trap_where_they_are_used() {
    let engine = Engine::default();
    let (mut store, instance) = setup(&engine);
    let wasm = wat::parse_str(REFS).unwrap();
    for (name, op, args, code) in [
        ("call_null", "CallRef", &[1][..], TrapCode::NullFunctionReference),
        ("tail_null", "ReturnCallRef", &[1][..], TrapCode::NullFunctionReference),
        ("as_non_null_call", "RefAsNonNull", &[0, 1][..], TrapCode::NullReference),
    ] {
        let err = call_i32(&mut store, &instance, name, args).unwrap_err();
        assert_eq!(err.trap_code(), Some(code), "{name}: {err}");
        let frame = &err.wasm_backtrace().expect("backtrace").frames[0];
        assert_eq!(frame.module_offset, Some(offset_of(&wasm, name, op)), "{name}: {frame:?}");
    }
    assert_eq!(call_i32(&mut store, &instance, "as_non_null_call", &[1, 1]).unwrap(), 2);
    assert_eq!(call_i32(&mut store, &instance, "is_null", &[0]).unwrap(), 1);
    assert_eq!(call_i32(&mut store, &instance, "is_null", &[1]).unwrap(), 0);
}

#[test]
fn ref_as_non_null_passes_references_through_and_traps_on_null() {
    let engine = Engine::default();
    let (mut store, instance) = setup(&engine);
    let host = Func::wrap(&mut store, |x: i32| x);
    let r = call_ref_fn(&mut store, &instance, "as_non_null", Val::FuncRef(Some(host))).unwrap();
    assert!(matches!(r, Val::FuncRef(Some(f)) if f == host), "{r:?}");
    let err = call_ref_fn(&mut store, &instance, "as_non_null", Val::FuncRef(None)).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::NullReference), "{err}");

    let e = ExternRef::new(7u32);
    let r = call_ref_fn(&mut store, &instance, "extern_as_non_null", Val::ExternRef(Some(e.clone()))).unwrap();
    assert!(matches!(&r, Val::ExternRef(Some(x)) if ExternRef::ptr_eq(x, &e)), "{r:?}");
    let err = call_ref_fn(&mut store, &instance, "extern_as_non_null", Val::ExternRef(None)).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::NullReference), "{err}");
}

#[test]
fn br_on_null_branches_on_null_and_falls_through_otherwise() {
    let engine = Engine::default();
    let (mut store, instance) = setup(&engine);
    assert_eq!(call_i32(&mut store, &instance, "on_null", &[0, 5]).unwrap(), 1005);
    assert_eq!(call_i32(&mut store, &instance, "on_null", &[1, 5]).unwrap(), 1006);
    assert_eq!(call_i32(&mut store, &instance, "on_null_moved", &[0, 5]).unwrap(), 5);
    assert_eq!(call_i32(&mut store, &instance, "on_null_moved", &[1, 5]).unwrap(), 13);

    let host = Func::wrap(&mut store, |x: i32| x);
    let f = instance.get_func(&mut store, "on_null_return").unwrap();
    let mut results = [Val::I32(0)];
    f.call(&mut store, &[Val::FuncRef(None), Val::I32(5)], &mut results).unwrap();
    assert!(matches!(results[0], Val::I32(5)), "{results:?}");
    f.call(&mut store, &[Val::FuncRef(Some(host)), Val::I32(5)], &mut results).unwrap();
    assert!(matches!(results[0], Val::I32(6)), "{results:?}");

    let f = instance.get_func(&mut store, "extern_on_null").unwrap();
    f.call(&mut store, &[Val::ExternRef(None)], &mut results).unwrap();
    assert!(matches!(results[0], Val::I32(0)), "{results:?}");
    f.call(&mut store, &[Val::ExternRef(Some(ExternRef::new(())))], &mut results).unwrap();
    assert!(matches!(results[0], Val::I32(1)), "{results:?}");
}

#[test]
fn br_on_non_null_branches_with_the_reference_and_drops_a_null_one() {
    let engine = Engine::default();
    let (mut store, instance) = setup(&engine);
    assert_eq!(call_i32(&mut store, &instance, "on_non_null", &[1, 5]).unwrap(), 6);
    assert_eq!(call_i32(&mut store, &instance, "on_non_null", &[0, 5]).unwrap(), 1005);
    assert_eq!(call_i32(&mut store, &instance, "on_non_null_moved", &[1, 5]).unwrap(), 6);
    assert_eq!(call_i32(&mut store, &instance, "on_non_null_moved", &[0, 5]).unwrap(), 1005);

    let host = Func::wrap(&mut store, |x: i32| x);
    let r = call_ref_fn(&mut store, &instance, "on_non_null_return", Val::FuncRef(Some(host))).unwrap();
    assert!(matches!(r, Val::FuncRef(Some(f)) if f == host), "{r:?}");
    let r = call_ref_fn(&mut store, &instance, "on_non_null_return", Val::FuncRef(None)).unwrap();
    let Val::FuncRef(Some(inc)) = r else { panic!("{r:?}") };
    let mut results = [Val::I32(0)];
    inc.call(&mut store, &[Val::I32(1)], &mut results).unwrap();
    assert!(matches!(results[0], Val::I32(2)), "{results:?}");
}

const MUTUAL: &str = r#"
(module
  (type $step (func (param i32 i32) (result i32)))
  (elem declare func $even $odd $down)
  (func $even (export "even") (type $step)
    (local $next (ref null $step))
    (local.set $next (ref.func $odd))
    (if (result i32) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_ref $step
        (i32.sub (local.get 0) (i32.const 1)) (i32.add (local.get 1) (i32.const 1)) (local.get $next)))))
  (func $odd (type $step)
    (if (result i32) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_ref $step
        (i32.sub (local.get 0) (i32.const 1)) (i32.add (local.get 1) (i32.const 1)) (ref.func $even)))))
  ;; The same recursion with plain call_refs.
  (func $down (export "down") (type $step)
    (if (result i32) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (call_ref $step
        (i32.sub (local.get 0) (i32.const 1)) (i32.add (local.get 1) (i32.const 1)) (ref.func $down))))))
"#;

fn mutual(depth: u32) -> (Store<()>, Instance) {
    let mut config = Config::new();
    config.max_call_depth(depth);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat::parse_str(MUTUAL).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn ten_million_return_call_refs_run_in_a_call_depth_of_one_thousand() {
    let (mut store, instance) = mutual(1000);
    let even = instance.get_typed_func::<(i32, i32), i32>(&mut store, "even").unwrap();
    let n = if cfg!(miri) { 1_000 } else { 10_000_000 };
    assert_eq!(even.call(&mut store, (n, 0)).unwrap(), n);
}

#[test]
fn plain_call_refs_of_the_same_depth_exhaust_the_stack() {
    let (mut store, instance) = mutual(1000);
    let down = instance.get_typed_func::<(i32, i32), i32>(&mut store, "down").unwrap();
    assert_eq!(down.call(&mut store, (500, 0)).unwrap(), 500);
    let err = down.call(&mut store, (2_000, 0)).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err}");
}

/// Every operator costs one unit of fuel, `call_ref` and its `ref.func` too: calling
/// through a reference costs one more than the direct call (the `ref.func`).
#[test]
fn call_ref_costs_fuel_like_other_instructions() {
    let wat = r#"(module
      (type $un (func (param i32) (result i32)))
      (elem declare func $inc)
      (func $inc (type $un) (i32.add (local.get 0) (i32.const 1)))
      (func (export "direct") (param i32) (result i32) (call $inc (local.get 0)))
      (func (export "by_ref") (param i32) (result i32) (call_ref $un (local.get 0) (ref.func $inc)))
      (func (export "checked") (param i32) (result i32)
        (call_ref $un (local.get 0) (ref.as_non_null (ref.func $inc)))))"#;
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat::parse_str(wat).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let mut used = |name: &str| {
        store.set_fuel(1_000).unwrap();
        let f = instance.get_typed_func::<i32, i32>(&mut store, name).unwrap();
        assert_eq!(f.call(&mut store, 1).unwrap(), 2);
        1_000 - store.get_fuel().unwrap()
    };
    let direct = used("direct");
    assert_eq!(used("by_ref"), direct + 1);
    assert_eq!(used("checked"), direct + 2);
    // Too little fuel for the callee's body traps.
    store.set_fuel(direct - 1).unwrap();
    let f = instance.get_typed_func::<i32, i32>(&mut store, "by_ref").unwrap();
    assert_eq!(f.call(&mut store, 1).unwrap_err().trap_code(), Some(TrapCode::OutOfFuel));
}

/// The new handlers continue with tail calls: a long loop over them runs on a small
/// native stack (see `tests/dispatch.rs`).
#[test]
fn long_loops_of_references_run_in_constant_native_stack() {
    let wat = r#"(module
      (type $un (func (param i32) (result i32)))
      (import "env" "host_add" (func $host_add (type $un)))
      (elem declare func $inc $host_add)
      (func $inc (type $un) (i32.add (local.get 0) (i32.const 1)))
      (func (export "run") (param $n i32) (result i32)
        (local $i i32) (local $acc i32) (local $r (ref null $un)) (local $host (ref null $un))
        (local.set $host (ref.func $host_add))
        (block $done
          (loop $top
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $r (select (result (ref null $un))
              (ref.func $inc) (ref.null $un) (i32.and (local.get $i) (i32.const 1))))
            (local.set $acc
              (block $null (result i32)
                (local.get $acc)
                (br_on_null $null (local.get $r))
                (call_ref $un)))
            (local.set $r
              (block $nn (result (ref $un))
                (br_on_non_null $nn (local.get $r))
                (ref.as_non_null (local.get $host))))
            (local.set $acc (call_ref $un (local.get $acc) (local.get $r)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $top)))
        (local.get $acc)))"#;
    let run = move |n: i32| {
        let engine = Engine::default();
        let module = Module::new(&engine, wat::parse_str(wat).unwrap()).unwrap();
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        linker.func_wrap("env", "host_add", |x: i32| x + 100).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
        run.call(&mut store, n).unwrap()
    };
    let n = if cfg!(miri) { 100 } else { 200_000 };
    let r = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || run(n))
        .unwrap()
        .join()
        .expect("the loop ran without overflowing the stack");
    // Odd iterations add 1 twice (the br_on_null fall-through and $inc), even ones 100
    // (the host function).
    assert_eq!(r, n / 2 * 2 + n / 2 * 100);
}

#[test]
fn function_references_are_refused_when_turned_off() {
    let mut config = Config::new();
    config.wasm_function_references(false);
    let engine = Engine::new(&config).unwrap();
    let wat = r#"(module
      (type $un (func (param i32) (result i32)))
      (elem declare func $f)
      (func $f (type $un) (local.get 0))
      (func (param i32) (result i32) (call_ref $un (local.get 0) (ref.func $f))))"#;
    assert!(Module::new(&engine, wat::parse_str(wat).unwrap()).is_err());
}
