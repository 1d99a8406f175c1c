//! Exception handling (Wasm 3.0) seen from the embedding API: exceptions that escape a call
//! ([`Error::exception`]), the four catch clauses of `try_table` and where they deliver their
//! values, `throw_ref`, host functions that throw ([`ExnRef::new`]) and host frames that an
//! exception crosses, exceptions between instances, tail calls, deep unwinding, the store's
//! limit on live exceptions, `exnref` values in parameters, results, globals and tables, fuel,
//! the feature switch, and the always-null `anyref` family.

use std::sync::mpsc;
use std::time::Duration;

use wasmguard::{
    Caller, Config, Engine, Error, ErrorKind, ExnRef, Extern, ExternRef, Func, FuncType, Global, GlobalType, HeapType,
    Instance, Linker, Module, Mutability, RefType, Store, StoreLimits, Table, TableType, Tag, TagType, TrapCode, Val,
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

/// Calls export `name` of `instance` with `params`; returns its results.
fn call<T>(store: &mut Store<T>, instance: &Instance, name: &str, params: &[Val]) -> Result<Vec<Val>> {
    let f = instance.get_func(&mut *store, name).unwrap_or_else(|| panic!("no exported function `{name}`"));
    let mut results: Vec<Val> = f.ty(&*store).results().map(Val::default_for).collect();
    f.call(&mut *store, params, &mut results)?;
    Ok(results)
}

/// The exception of an error that must be an uncaught wasm exception (and not a trap).
fn uncaught(err: &Error) -> ExnRef {
    assert_eq!(err.trap_code(), None, "{err}");
    assert!(matches!(err.kind(), ErrorKind::Exception(_)), "{err:?}");
    assert_eq!(err.to_string(), "uncaught wasm exception");
    err.exception().unwrap_or_else(|| panic!("not an exception: {err:?}"))
}

/// The `i32`s of `vals` (panics on any other value).
fn ints(vals: &[Val]) -> Vec<i32> {
    vals.iter().map(|v| v.i32().unwrap_or_else(|| panic!("not an i32: {v:?}"))).collect()
}

/// The exception reference in `v` (panics on a null or another value).
fn exn_of(v: &Val) -> ExnRef {
    match v {
        Val::ExnRef(Some(e)) => *e,
        other => panic!("not a non-null exnref: {other:?}"),
    }
}

/// The tag `name` exported by `instance`.
fn tag(store: &mut Store<impl Sized>, instance: &Instance, name: &str) -> Tag {
    instance.get_tag(&mut *store, name).unwrap_or_else(|| panic!("no exported tag `{name}`"))
}

/// Runs `f` on another thread and waits at most `secs` seconds for it, so a runaway wasm
/// loop fails the test instead of hanging it.
fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("still running after {secs} s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().expect_err("the worker ended without a result"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Uncaught exceptions and the catch clauses
// ---------------------------------------------------------------------------------------------

/// Throws, catches and rethrows within one module: the tags are exported so the host can
/// compare them with the tags of the exceptions it sees.
const CATCHES: &str = r#"
(module
  (tag $all (export "all") (param i32 i64 f32 f64 v128 funcref externref))
  (tag $a (export "a") (param i32 i64))
  (tag $b (export "b") (param f64))
  (tag $i (export "i") (param i32))
  (tag $empty (export "empty"))
  (global $saved (export "saved") (mut exnref) (ref.null exn))
  (table $tab (export "tab") 2 exnref)
  (elem declare func $throw_all)

  ;; One value of every kind; the f32 is a NaN with a payload.
  (func $throw_all (export "throw_all") (param externref)
    (throw $all (i32.const -7) (i64.const 0x100000001) (f32.const nan:0x200001) (f64.const -2.25)
      (v128.const i32x4 1 2 3 4) (ref.func $throw_all) (local.get 0)))

  ;; `catch` whose label is the function: the payload is the function's results.
  (func (export "catch_to_func") (param externref)
    (result i32 i64 f32 f64 v128 funcref externref)
    (try_table (catch $all 0) (call $throw_all (local.get 0)))
    (unreachable))

  ;; `catch` to a block: x + 40.
  (func (export "catch_block") (param $x i32) (result i64)
    (local $y i64)
    (block $h (result i32 i64)
      (try_table (catch $a $h) (throw $a (local.get $x) (i64.const 40)))
      (unreachable))
    (local.set $y)
    (i64.add (i64.extend_i32_s) (local.get $y)))

  ;; `catch_ref`: the payload, then the exception.
  (func (export "catch_ref") (param $x i32) (result i32 i64 exnref)
    (block $h (result i32 i64 exnref)
      (try_table (catch_ref $a $h) (throw $a (local.get $x) (i64.const -1)))
      (unreachable)))

  ;; `catch_all`: nothing; the value below the block survives: 1000 + x.
  (func (export "catch_all") (param $x i32) (result i32)
    (i32.const 1000)
    (block $h
      (try_table (catch_all $h) (throw $a (local.get $x) (i64.const 0)))
      (unreachable))
    (i32.add (local.get $x)))

  ;; `catch_all_ref`: the exception only.
  (func (export "catch_all_ref") (param $x i32) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $i (local.get $x)))
      (unreachable)))

  ;; A catch to a loop label, n times round: n.
  (func (export "loop_all") (param $n i32) (result i32)
    (local $count i32)
    (loop $l
      (local.set $count (i32.add (local.get $count) (i32.const 1)))
      (if (i32.lt_s (local.get $count) (local.get $n))
        (then (try_table (catch_all $l) (throw $empty)))))
    (local.get $count))

  ;; A catch to a loop label with a parameter: the payload is the loop's next argument.
  (func (export "loop_param") (param $n i32) (result i32)
    (local $x i32)
    (i32.const 0)
    (loop $l (param i32) (result i32)
      (local.set $x)
      (if (i32.lt_s (local.get $x) (local.get $n))
        (then (try_table (catch $i $l) (throw $i (i32.add (local.get $x) (i32.const 1))))))
      (local.get $x)))

  ;; Which label caught: the first clause that matches.
  (func (export "order") (param $which i32) (result i32)
    (block $l3 (result f64)
      (block $l2
        (block $l1 (result i32 i64)
          (if (i32.eq (local.get $which) (i32.const 0))
            (then (try_table (catch $a $l1) (catch_all $l2) (throw $a (i32.const 0) (i64.const 0)))))
          (if (i32.eq (local.get $which) (i32.const 1))
            (then (try_table (catch_all $l2) (catch $a $l1) (throw $a (i32.const 0) (i64.const 0)))))
          (if (i32.eq (local.get $which) (i32.const 2))
            (then (try_table (catch $b $l3) (catch_all $l2) (catch $a $l1)
              (throw $a (i32.const 0) (i64.const 0)))))
          (if (i32.eq (local.get $which) (i32.const 3))
            (then (try_table (catch $a $l1) (catch $b $l3) (catch_all $l2) (throw $b (f64.const 1)))))
          (return (i32.const -1)))
        (drop) (drop)
        (return (i32.const 1)))
      (return (i32.const 2)))
    (drop)
    (i32.const 3))

  ;; The inner try_table catches $a only (100 + payload); the outer one $b (200 + payload)
  ;; and everything else (300).
  (func (export "nested") (param $which i32) (result i32)
    (block $any
      (block $outer (result f64)
        (block $inner (result i32 i64)
          (try_table (catch $b $outer) (catch_all $any)
            (try_table (catch $a $inner)
              (if (i32.eqz (local.get $which)) (then (throw $a (i32.const 7) (i64.const 0))))
              (if (i32.eq (local.get $which) (i32.const 1)) (then (throw $b (f64.const 2))))
              (throw $empty)))
          (unreachable))
        (drop)
        (i32.const 100)
        (i32.add)
        (return))
      (i32.trunc_f64_s)
      (i32.const 200)
      (i32.add)
      (return))
    (i32.const 300))

  ;; catch_ref, keep the exception in $saved, throw it again: it escapes.
  (func (export "rethrow") (param $x i32)
    (block $h (result i32 i64 exnref)
      (try_table (catch_ref $a $h) (throw $a (local.get $x) (i64.const 4)))
      (unreachable))
    (global.set $saved)
    (drop) (drop)
    (throw_ref (global.get $saved)))

  ;; Rethrown inside an outer try_table, which catches it with its payload.
  (func (export "rethrow_caught") (param $x i32) (result i32 i64)
    (block $outer (result i32 i64)
      (try_table (catch $a $outer)
        (block $h (result exnref)
          (try_table (catch_all_ref $h) (throw $a (local.get $x) (i64.const 9)))
          (unreachable))
        (throw_ref))
      (unreachable)))

  (func (export "throw_null") (throw_ref (ref.null exn)))
  (func (export "throw_param") (param exnref) (throw_ref (local.get 0)))

  ;; Keeps a caught exception in the global and in table slot 1.
  (func (export "keep") (param $x i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $i (local.get $x)))
      (unreachable))
    (global.set $saved)
    (table.set $tab (i32.const 1) (global.get $saved)))
  (func (export "throw_saved") (throw_ref (global.get $saved)))
  (func (export "throw_table") (param i32) (throw_ref (table.get $tab (local.get 0)))))
"#;

#[test]
fn uncaught_exception_escapes_with_its_tag_and_payload() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    let host_value = ExternRef::new(String::from("host value"));
    let err = call(&mut store, &instance, "throw_all", &[Val::ExternRef(Some(host_value.clone()))]).unwrap_err();
    let exn = uncaught(&err);
    assert_eq!(exn.tag(&store), tag(&mut store, &instance, "all"));
    assert_ne!(exn.tag(&store), tag(&mut store, &instance, "a"));
    let values = exn.values(&store);
    assert_eq!(values.len(), 7);
    assert_eq!(values[0].i32(), Some(-7));
    assert_eq!(values[1].i64(), Some(0x1_0000_0001));
    assert!(matches!(values[2], Val::F32(0x7fa0_0001)), "NaN payload kept: {:?}", values[2]);
    assert!(matches!(values[3], Val::F64(bits) if bits == (-2.25f64).to_bits()), "{:?}", values[3]);
    assert_eq!(values[4].v128(), Some(1 | 2 << 32 | 3 << 64 | 4 << 96));
    let throw_all = instance.get_func(&mut store, "throw_all").expect("function");
    assert!(matches!(values[5], Val::FuncRef(Some(f)) if f == throw_all), "{:?}", values[5]);
    match &values[6] {
        Val::ExternRef(Some(r)) => assert!(ExternRef::ptr_eq(r, &host_value), "the same host value"),
        other => panic!("not the externref: {other:?}"),
    }
    Ok(())
}

#[test]
fn catch_to_the_function_label_returns_the_payload() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    let host_value = ExternRef::new(5u8);
    let r = call(&mut store, &instance, "catch_to_func", &[Val::ExternRef(Some(host_value.clone()))])?;
    assert_eq!(r[0].i32(), Some(-7));
    assert_eq!(r[1].i64(), Some(0x1_0000_0001));
    assert!(matches!(r[2], Val::F32(0x7fa0_0001)), "{:?}", r[2]);
    assert_eq!(r[3].f64(), Some(-2.25));
    assert_eq!(r[4].v128(), Some(1 | 2 << 32 | 3 << 64 | 4 << 96));
    let throw_all = instance.get_func(&mut store, "throw_all").expect("function");
    assert!(matches!(r[5], Val::FuncRef(Some(f)) if f == throw_all), "{:?}", r[5]);
    assert!(matches!(&r[6], Val::ExternRef(Some(e)) if ExternRef::ptr_eq(e, &host_value)), "{:?}", r[6]);
    Ok(())
}

#[test]
fn catch_delivers_the_payload_to_a_block() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    for x in [2, -50, i32::MAX] {
        let r = call(&mut store, &instance, "catch_block", &[Val::I32(x)])?;
        assert_eq!(r[0].i64(), Some(i64::from(x) + 40));
    }
    Ok(())
}

#[test]
fn catch_ref_delivers_the_payload_then_the_exception() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    let a = tag(&mut store, &instance, "a");
    let r = call(&mut store, &instance, "catch_ref", &[Val::I32(31)])?;
    assert_eq!(r[0].i32(), Some(31));
    assert_eq!(r[1].i64(), Some(-1));
    let exn = exn_of(&r[2]);
    assert_eq!(exn.tag(&store), a);
    let values = exn.values(&store);
    assert_eq!((values[0].i32(), values[1].i64()), (Some(31), Some(-1)));
    // Each throw is a new exception.
    let again = call(&mut store, &instance, "catch_ref", &[Val::I32(32)])?;
    assert_ne!(exn_of(&again[2]), exn);
    assert_eq!(exn.values(&store)[0].i32(), Some(31), "the first one is unchanged");
    Ok(())
}

#[test]
fn catch_all_keeps_the_operand_stack_below() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    assert_eq!(ints(&call(&mut store, &instance, "catch_all", &[Val::I32(5)])?), [1005]);
    assert_eq!(ints(&call(&mut store, &instance, "catch_all", &[Val::I32(-1000)])?), [0]);
    Ok(())
}

#[test]
fn catch_all_ref_delivers_only_the_exception() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    let i = tag(&mut store, &instance, "i");
    let r = call(&mut store, &instance, "catch_all_ref", &[Val::I32(-9)])?;
    let exn = exn_of(&r[0]);
    assert_eq!(exn.tag(&store), i);
    assert_eq!(ints(&exn.values(&store)), [-9]);
    Ok(())
}

#[test]
fn catch_to_a_loop_label_runs_the_loop_again() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    for n in [1, 2, 10, 1000] {
        assert_eq!(ints(&call(&mut store, &instance, "loop_all", &[Val::I32(n)])?), [n]);
        assert_eq!(ints(&call(&mut store, &instance, "loop_param", &[Val::I32(n)])?), [n]);
    }
    Ok(())
}

#[test]
fn the_first_matching_clause_catches() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    let caught_by: Vec<i32> = (0..4)
        .map(|which| Ok(ints(&call(&mut store, &instance, "order", &[Val::I32(which)])?)[0]))
        .collect::<Result<_>>()?;
    // catch $a before catch_all; catch_all before catch $a; a catch of another tag skipped,
    // then catch_all before catch $a; catch $b found after catch $a.
    assert_eq!(caught_by, [1, 2, 2, 3]);
    Ok(())
}

#[test]
fn nested_try_tables_catch_their_own_tags() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    assert_eq!(ints(&call(&mut store, &instance, "nested", &[Val::I32(0)])?), [107], "inner catch $a");
    assert_eq!(ints(&call(&mut store, &instance, "nested", &[Val::I32(1)])?), [202], "outer catch $b");
    assert_eq!(ints(&call(&mut store, &instance, "nested", &[Val::I32(2)])?), [300], "outer catch_all");
    Ok(())
}

#[test]
fn throw_ref_rethrows_the_same_exception() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    let a = tag(&mut store, &instance, "a");
    let err = call(&mut store, &instance, "rethrow", &[Val::I32(3)]).unwrap_err();
    let exn = uncaught(&err);
    let saved = instance.get_global(&mut store, "saved").expect("global").get(&store);
    assert_eq!(exn, exn_of(&saved), "the exception caught is the one that escapes");
    assert_eq!(exn.tag(&store), a);
    let values = exn.values(&store);
    assert_eq!((values[0].i32(), values[1].i64()), (Some(3), Some(4)));

    // Rethrown under an outer try_table, it is caught there with its payload.
    let r = call(&mut store, &instance, "rethrow_caught", &[Val::I32(8)])?;
    assert_eq!((r[0].i32(), r[1].i64()), (Some(8), Some(9)));
    Ok(())
}

#[test]
fn throw_ref_of_null_traps() {
    let (mut store, instance) = instantiate(CATCHES);
    let err = call(&mut store, &instance, "throw_null", &[]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::NullReference), "{err}");
    assert!(err.exception().is_none());
    let err = call(&mut store, &instance, "throw_param", &[Val::ExnRef(None)]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::NullReference), "{err}");
}

#[test]
fn traps_and_host_errors_are_not_caught() -> Result {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "fail" (func $fail))
             (func (export "trap") (result i32)
               (block $h (try_table (catch_all $h) (unreachable))) (i32.const 1))
             (func $rec (call $rec))
             (func (export "overflow") (result i32)
               (block $h (try_table (catch_all $h) (call $rec))) (i32.const 1))
             (func (export "host_error") (result i32)
               (block $h (block $r (result exnref) (try_table (catch_all_ref $r) (call $fail)) (return (i32.const 0)))
                 (drop))
               (i32.const 1)))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "fail", || -> Result<()> { Err(Error::msg("refused by the host")) })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let err = call(&mut store, &instance, "trap", &[]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached), "{err}");
    assert!(err.exception().is_none());
    let err = call(&mut store, &instance, "overflow", &[]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err}");
    let err = call(&mut store, &instance, "host_error", &[]).unwrap_err();
    assert!(err.to_string().contains("refused by the host"), "{err}");
    assert!(err.exception().is_none());
    Ok(())
}

/// Where payloads come from and what survives a catch: payloads taken from locals in any
/// order, `try_table` parameters, values computed before a throwing call and used after
/// the catch, a throw after leaving a `try_table`.
const VALUES: &str = r#"
(module
  (import "host" "throw" (func $host_throw (param i32) (result i32)))
  (tag $t (export "t") (param i32))
  (tag $t2 (param i32 i32))
  (tag $tf (param f64 f32))
  (func (export "swapped") (param $a i32) (param $b i32) (result i32 i32)
    (block $h (result i32 i32)
      (try_table (catch $t2 $h) (throw $t2 (local.get $b) (local.get $a)))
      (unreachable)))
  (func (export "twice") (param $a i32) (result i32 i32)
    (block $h (result i32 i32)
      (try_table (catch $t2 $h) (throw $t2 (local.get $a) (local.get $a)))
      (unreachable)))
  (func (export "floats") (param $x f64) (result f64 f32)
    (block $h (result f64 f32)
      (try_table (catch $tf $h) (throw $tf (f64.mul (local.get $x) (f64.const 2)) (f32.const 1.5)))
      (unreachable)))
  ;; x + 1, thrown from inside a try_table with a parameter.
  (func (export "with_param") (param $x i32) (result i32)
    (local.get $x)
    (try_table (param i32) (result i32) (catch $t 0)
      (i32.add (i32.const 1))
      (throw $t)))
  ;; (2q + q + 0.5, p + 7 + 3p) with a host function throwing in between.
  (func (export "live") (param $p i32) (param $q f64) (result f64 i32)
    (local $x i32) (local $y f64)
    (local.set $x (i32.mul (local.get $p) (i32.const 3)))
    (local.set $y (f64.add (local.get $q) (f64.const 0.5)))
    (f64.mul (local.get $q) (f64.const 2))
    (i32.add (local.get $p) (i32.const 7))
    (block $h (result i32)
      (try_table (catch $t $h) (drop (call $host_throw (local.get $p))))
      (i32.const -1))
    (drop)
    (local.get $x) (i32.add)
    (local.set $x)
    (local.get $y) (f64.add)
    (local.get $x))
  ;; 2 * splat(x) + (1, 2, 3, 4), a v128 held across the catch.
  (func (export "live_v128") (param $x i32) (result v128)
    (local $v v128)
    (local.set $v (i32x4.splat (local.get $x)))
    (i32x4.add (local.get $v) (v128.const i32x4 1 2 3 4))
    (block $h (try_table (catch_all $h) (drop (call $host_throw (local.get $x)))))
    (local.get $v)
    (i32x4.add))
  ;; The try_table was left by a branch: the throw after it escapes.
  (func (export "after_end") (result i32)
    (block $h
      (block $out (try_table (catch_all $h) (br $out)))
      (throw $t (i32.const 9)))
    (i32.const -1)))
"#;

/// `VALUES`, whose `host.throw` throws its argument as `t`.
fn values_module() -> Result<(Store<()>, Instance)> {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "throw", |mut caller: Caller<'_, ()>, x: i32| -> Result<i32> {
        let t = caller.get_export("t").and_then(Extern::into_tag).ok_or_else(|| Error::msg("no tag"))?;
        Err(ExnRef::new(&mut caller, t, &[Val::I32(x)])?.into())
    })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &Module::new(&engine, VALUES)?)?;
    Ok((store, instance))
}

#[test]
fn payloads_keep_their_order_and_types() -> Result {
    let (mut store, instance) = values_module()?;
    assert_eq!(ints(&call(&mut store, &instance, "swapped", &[Val::I32(1), Val::I32(2)])?), [2, 1]);
    assert_eq!(ints(&call(&mut store, &instance, "twice", &[Val::I32(5)])?), [5, 5]);
    let r = call(&mut store, &instance, "floats", &[Val::F64(3.0f64.to_bits())])?;
    assert_eq!((r[0].f64(), r[1].f32()), (Some(6.0), Some(1.5)));
    assert_eq!(ints(&call(&mut store, &instance, "with_param", &[Val::I32(5)])?), [6]);
    Ok(())
}

#[test]
fn values_computed_before_a_throwing_call_survive_the_catch() -> Result {
    let (mut store, instance) = values_module()?;
    let r = call(&mut store, &instance, "live", &[Val::I32(5), Val::F64(1.0f64.to_bits())])?;
    assert_eq!((r[0].f64(), r[1].i32()), (Some(3.5), Some(27)));
    let r = call(&mut store, &instance, "live_v128", &[Val::I32(10)])?;
    assert_eq!(r[0].v128(), Some(21 | 22 << 32 | 23 << 64 | 24 << 96));
    Ok(())
}

#[test]
fn a_try_table_left_by_a_branch_catches_nothing_more() -> Result {
    let (mut store, instance) = values_module()?;
    let err = call(&mut store, &instance, "after_end", &[]).unwrap_err();
    assert_eq!(ints(&uncaught(&err).values(&store)), [9]);
    Ok(())
}

#[test]
fn catch_clauses_work_the_same_with_fuel_metering() -> Result {
    let engine = Engine::new(Config::new().consume_fuel(true))?;
    let module = Module::new(&engine, CATCHES)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000_000)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let mut got = Vec::new();
    for (name, arg) in
        [("order", 0), ("order", 1), ("order", 2), ("order", 3), ("nested", 0), ("nested", 1), ("nested", 2)]
    {
        got.push(ints(&call(&mut store, &instance, name, &[Val::I32(arg)])?)[0]);
    }
    assert_eq!(got, [1, 2, 2, 3, 107, 202, 300]);
    assert_eq!(ints(&call(&mut store, &instance, "loop_param", &[Val::I32(7)])?), [7]);
    assert_eq!(ints(&call(&mut store, &instance, "catch_all", &[Val::I32(2)])?), [1002]);
    let r = call(&mut store, &instance, "rethrow_caught", &[Val::I32(2)])?;
    assert_eq!((r[0].i32(), r[1].i64()), (Some(2), Some(9)));
    assert!(store.get_fuel()? < 1_000_000, "fuel was consumed");
    Ok(())
}

#[test]
fn a_start_function_that_throws_fails_instantiation_with_the_exception() -> Result {
    let engine = Engine::default();
    let module =
        Module::new(&engine, r#"(module (tag $t (param i32)) (func $s (throw $t (i32.const 3))) (start $s))"#)?;
    let mut store = Store::new(&engine, ());
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(ints(&uncaught(&err).values(&store)), [3]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Host functions that throw, and host frames that exceptions cross
// ---------------------------------------------------------------------------------------------

/// `host.check` throws `host.tag` (payload x, 2x) for a negative x and returns x otherwise.
const HOST_THROWS: &str = r#"
(module
  (import "host" "tag" (tag $t (param i32 i64)))
  (import "host" "check" (func $check (param i32) (result i32)))
  ;; x normally; 3x (x + 2x) when the host throws.
  (func (export "catch") (param $x i32) (result i64)
    (local $y i64)
    (block $h (result i32 i64)
      (try_table (catch $t $h) (return (i64.extend_i32_s (call $check (local.get $x)))))
      (unreachable))
    (local.set $y)
    (i64.add (i64.extend_i32_s) (local.get $y)))
  ;; Catches with a reference and throws the exception on.
  (func (export "pass_on") (param $x i32) (result i32)
    (block $h (result i32 i64 exnref)
      (try_table (catch_ref $t $h) (return (call $check (local.get $x))))
      (unreachable))
    (throw_ref)))
"#;

/// A store (whose data is the last exception the host threw), its tag, and `HOST_THROWS`.
fn host_throws() -> Result<(Store<Option<ExnRef>>, Tag, Instance)> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, None);
    let t = Tag::new(&mut store, &TagType::new([ValType::I32, ValType::I64]))?;
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "host", "tag", t)?;
    linker.func_wrap("host", "check", move |mut caller: Caller<'_, Option<ExnRef>>, x: i32| -> Result<i32> {
        if x >= 0 {
            return Ok(x);
        }
        let exn = ExnRef::new(&mut caller, t, &[Val::I32(x), Val::I64(2 * i64::from(x))])?;
        *caller.data_mut() = Some(exn);
        Err(exn.into())
    })?;
    let instance = linker.instantiate(&mut store, &Module::new(&engine, HOST_THROWS)?)?;
    Ok((store, t, instance))
}

#[test]
fn wasm_catches_what_a_host_function_throws() -> Result {
    let (mut store, _, instance) = host_throws()?;
    assert_eq!(call(&mut store, &instance, "catch", &[Val::I32(5)])?[0].i64(), Some(5));
    assert!(store.data().is_none());
    assert_eq!(call(&mut store, &instance, "catch", &[Val::I32(-3)])?[0].i64(), Some(-9));
    assert!(store.data().is_some(), "the host threw");
    Ok(())
}

#[test]
fn a_host_exception_rethrown_by_wasm_escapes_as_itself() -> Result {
    let (mut store, t, instance) = host_throws()?;
    assert_eq!(ints(&call(&mut store, &instance, "pass_on", &[Val::I32(4)])?), [4]);
    let err = call(&mut store, &instance, "pass_on", &[Val::I32(-4)]).unwrap_err();
    let exn = uncaught(&err);
    assert_eq!(Some(exn), *store.data(), "the exception the host made");
    assert_eq!(exn.tag(&store), t);
    let values = exn.values(&store);
    assert_eq!((values[0].i32(), values[1].i64()), (Some(-4), Some(-8)));
    Ok(())
}

#[test]
fn a_host_function_called_from_the_host_throws_to_the_host() -> Result {
    let mut store = Store::new(&Engine::default(), ());
    let t = Tag::new(&mut store, &TagType::new([ValType::F64]))?;
    let f = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>| -> Result<()> {
        Err(ExnRef::new(&mut caller, t, &[Val::F64(0.5f64.to_bits())])?.into())
    });
    let err = f.call(&mut store, &[], &mut []).unwrap_err();
    let exn = uncaught(&err);
    assert_eq!(exn.tag(&store), t);
    assert_eq!(exn.values(&store)[0].f64(), Some(0.5));
    Ok(())
}

#[test]
fn an_exception_of_another_store_thrown_by_a_host_function_is_not_caught() -> Result {
    let engine = Engine::default();
    let mut other = Store::new(&engine, ());
    let other_tag = Tag::new(&mut other, &TagType::new([ValType::I32]))?;
    let foreign = ExnRef::new(&mut other, other_tag, &[Val::I32(1)])?;
    let module = Module::new(
        &engine,
        r#"(module (import "host" "throw" (func $throw))
             (func (export "run") (result i32)
               (block $h (try_table (catch_all $h) (call $throw)) (return (i32.const 0)))
               (i32.const 1)))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "throw", move || -> Result<()> { Err(foreign.into()) })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let err = call(&mut store, &instance, "run", &[]).unwrap_err();
    assert_eq!(err.exception(), Some(foreign), "{err:?}");
    assert_eq!(foreign.tag(&other), other_tag);
    Ok(())
}

/// Memory grown by the thrower (a host function, or wasm reached by `call_indirect`) is
/// seen by the catching frame; `call_indirect` and `call_ref` of a throwing host function.
const GROWS: &str = r#"
(module
  (import "host" "grow_throw" (func $grow_throw (param i32)))
  (import "host" "throw" (func $host_throw (param i32) (result i32)))
  (type $un (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (tag $t (export "t") (param i32))
  (table 2 funcref)
  (elem (i32.const 0) $host_throw $wasm_grow_throw)
  (elem declare func $host_throw)
  (func $wasm_grow_throw (type $un) (drop (memory.grow (i32.const 1))) (throw $t (local.get 0)))
  ;; Writes to and reads from the last word of memory after the catch: payload + 0x55.
  (func $last_word (param $v i32) (result i32)
    (local $at i32)
    (local.set $at (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)))
    (i32.store (local.get $at) (i32.const 0x55))
    (i32.add (local.get $v) (i32.load (local.get $at))))
  (func (export "host_grows") (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (call $grow_throw (i32.const 3)))
      (unreachable))
    (call $last_word))
  (func (export "wasm_grows") (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (drop (call_indirect (type $un) (i32.const 4) (i32.const 1))))
      (unreachable))
    (call $last_word))
  (func (export "indirect_host") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (return (call_indirect (type $un) (local.get 0) (i32.const 0))))
      (unreachable))
    (i32.add (i32.const 100)))
  (func (export "ref_host") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (return (call_ref $un (local.get 0) (ref.func $host_throw))))
      (unreachable))
    (i32.add (i32.const 100))))
"#;

/// `GROWS`, with its host functions.
fn grows() -> Result<(Store<()>, Instance)> {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    fn throw_t(caller: &mut Caller<'_, ()>, x: i32) -> Error {
        let made = caller
            .get_export("t")
            .and_then(Extern::into_tag)
            .ok_or_else(|| Error::msg("no tag"))
            .and_then(|t| ExnRef::new(&mut *caller, t, &[Val::I32(x)]));
        match made {
            Ok(exn) => exn.into(),
            Err(e) => e,
        }
    }
    linker.func_wrap("host", "grow_throw", |mut caller: Caller<'_, ()>, x: i32| -> Result<()> {
        let memory = caller.memory().ok_or_else(|| Error::msg("no memory"))?;
        memory.grow(&mut caller, 1)?;
        Err(throw_t(&mut caller, x))
    })?;
    linker.func_wrap("host", "throw", |mut caller: Caller<'_, ()>, x: i32| -> Result<i32> {
        Err(throw_t(&mut caller, x))
    })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &Module::new(&engine, GROWS)?)?;
    Ok((store, instance))
}

#[test]
fn the_catching_frame_sees_memory_grown_by_the_thrower() -> Result {
    let (mut store, instance) = grows()?;
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    assert_eq!(ints(&call(&mut store, &instance, "host_grows", &[])?), [3 + 0x55]);
    assert_eq!(memory.size(&store), 2);
    assert_eq!(ints(&call(&mut store, &instance, "wasm_grows", &[])?), [4 + 0x55]);
    assert_eq!(memory.size(&store), 3);
    assert_eq!(memory.data(&store)[3 * 65536 - 4], 0x55);
    Ok(())
}

#[test]
fn indirect_calls_of_throwing_host_functions_are_caught() -> Result {
    let (mut store, instance) = grows()?;
    assert_eq!(ints(&call(&mut store, &instance, "indirect_host", &[Val::I32(5)])?), [105]);
    assert_eq!(ints(&call(&mut store, &instance, "ref_host", &[Val::I32(6)])?), [106]);
    Ok(())
}

/// `a` calls the host, which calls `b`, which throws for a negative argument.
const CROSSING: &str = r#"
(module
  (import "host" "call_b" (func $call_b (param i32) (result i32)))
  (import "host" "call_b_and_catch" (func $call_b_and_catch (param i32) (result i32)))
  (tag $t (export "t") (param i32))
  (global $g (mut i32) (i32.const 1))
  (func (export "b") (param $x i32) (result i32)
    (if (i32.lt_s (local.get $x) (i32.const 0)) (then (throw $t (local.get $x))))
    (i32.mul (local.get $x) (i32.const 10)))
  ;; 10x + 1 normally; 1000 + x when the exception comes through the host.
  (func (export "a") (param $x i32) (result i32)
    (block $caught (result i32)
      (try_table (catch $t $caught) (return (i32.add (call $call_b (local.get $x)) (i32.const 1))))
      (unreachable))
    (i32.add (i32.const 1000)))
  ;; The host catches: what it returns + the global; -1 if an exception came through.
  (func (export "a_host_catches") (param $x i32) (result i32)
    (block $caught
      (try_table (catch_all $caught)
        (global.set $g (i32.add (global.get $g) (call $call_b_and_catch (local.get $x))))
        (return (global.get $g)))
      (unreachable))
    (i32.const -1)))
"#;

/// Calls export `b` of the calling instance from a host function.
fn call_b(caller: &mut Caller<'_, Vec<i32>>, x: i32) -> Result<i32> {
    let b = caller.get_export("b").and_then(Extern::into_func).ok_or_else(|| Error::msg("no export b"))?;
    let mut out = [Val::I32(0)];
    b.call(&mut *caller, &[Val::I32(x)], &mut out)?;
    Ok(out[0].i32().expect("an i32"))
}

/// `CROSSING` in a store whose data lists the payloads the host caught.
fn crossing() -> Result<(Store<Vec<i32>>, Instance)> {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "call_b", |mut caller: Caller<'_, Vec<i32>>, x: i32| -> Result<i32> {
        let r = call_b(&mut caller, x)?;
        Ok(r)
    })?;
    linker.func_wrap("host", "call_b_and_catch", |mut caller: Caller<'_, Vec<i32>>, x: i32| -> Result<i32> {
        match call_b(&mut caller, x) {
            Ok(r) => Ok(r),
            Err(e) => {
                let exn = e.exception().ok_or(e)?;
                let payload = exn.values(&caller)[0].i32().expect("an i32");
                caller.data_mut().push(payload);
                Ok(-payload)
            }
        }
    })?;
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &Module::new(&engine, CROSSING)?)?;
    Ok((store, instance))
}

#[test]
fn an_exception_crosses_a_host_frame_that_propagates_it() -> Result {
    let (mut store, instance) = crossing()?;
    assert_eq!(ints(&call(&mut store, &instance, "a", &[Val::I32(2)])?), [21]);
    assert_eq!(ints(&call(&mut store, &instance, "a", &[Val::I32(-5)])?), [995]);
    // The exception also escapes the host frame when nothing in wasm catches it.
    let err = call(&mut store, &instance, "b", &[Val::I32(-6)]).unwrap_err();
    assert_eq!(ints(&uncaught(&err).values(&store)), [-6]);
    assert_eq!(ints(&call(&mut store, &instance, "a", &[Val::I32(3)])?), [31]);
    Ok(())
}

#[test]
fn a_host_frame_that_catches_the_exception_returns_normally() -> Result {
    let (mut store, instance) = crossing()?;
    // $g = 1 + 20, then + 5 (the host caught -5 and returned 5).
    assert_eq!(ints(&call(&mut store, &instance, "a_host_catches", &[Val::I32(2)])?), [21]);
    assert_eq!(ints(&call(&mut store, &instance, "a_host_catches", &[Val::I32(-5)])?), [26]);
    assert_eq!(*store.data(), [-5]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Instances, tail calls, deep stacks
// ---------------------------------------------------------------------------------------------

/// Throws its tag with the argument plus the byte at address 0 of its memory (42).
const THROWER: &str = r#"
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\2a")
  (global (mut i32) (i32.const 7))
  (tag $t (export "t") (param i32))
  (func (export "throw") (param $x i32)
    (throw $t (i32.add (local.get $x) (i32.load8_u (i32.const 0))))))
"#;

/// Catches what the imported `b.throw` throws, then uses its own memory and global.
const CATCHER: &str = r#"
(module
  (import "b" "t" (tag $t (param i32)))
  (import "b" "throw" (func $throw (param i32)))
  (tag $mine (param i32))
  (memory (export "memory") 1)
  (data (i32.const 0) "\05")
  (global $g (mut i32) (i32.const 100))
  ;; payload + this memory's byte 0 (5) + the incremented global; the payload stored at 16.
  (func (export "run") (param $x i32) (result i32)
    (local $v i32)
    (block $caught (result i32)
      (try_table (catch $t $caught) (call $throw (local.get $x)))
      (unreachable))
    (local.set $v)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.store (i32.const 16) (local.get $v))
    (i32.add (i32.add (local.get $v) (i32.load8_u (i32.const 0))) (global.get $g)))
  ;; 1 if `catch $mine` caught it, 2 if catch_all did (then 0x55 is stored at 20).
  (func (export "by_identity") (param $x i32) (result i32)
    (block $all
      (block $wrong (result i32)
        (try_table (catch $mine $wrong) (catch_all $all) (call $throw (local.get $x)))
        (unreachable))
      (return (i32.const 1)))
    (i32.store8 (i32.const 20) (i32.const 0x55))
    (i32.const 2)))
"#;

#[test]
fn an_exception_from_another_instance_is_caught_by_tag_identity() -> Result {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let thrower = Module::new(&engine, THROWER)?;
    let b = Instance::new(&mut store, &thrower, &[])?;
    let mut linker = Linker::new(&engine);
    linker.instance(&mut store, "b", b)?;
    let a = linker.instantiate(&mut store, &Module::new(&engine, CATCHER)?)?;
    let (a_mem, b_mem) =
        (a.get_memory(&mut store, "memory").expect("a"), b.get_memory(&mut store, "memory").expect("b"));

    // 1 + 42 caught, + 5 from A's memory, + 101 from A's global.
    assert_eq!(ints(&call(&mut store, &a, "run", &[Val::I32(1)])?), [149]);
    assert_eq!(ints(&call(&mut store, &a, "run", &[Val::I32(1)])?), [150]);
    assert_eq!(a_mem.data(&store)[16..20], 43i32.to_le_bytes(), "stored in A's memory");
    assert_eq!(b_mem.data(&store)[16..20], [0; 4], "not in B's");

    // A tag of the same type defined by A is another tag.
    assert_eq!(ints(&call(&mut store, &a, "by_identity", &[Val::I32(0)])?), [2]);
    assert_eq!((a_mem.data(&store)[20], b_mem.data(&store)[20]), (0x55, 0));
    Ok(())
}

#[test]
fn another_instance_of_the_same_module_has_other_tags() -> Result {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let thrower = Module::new(&engine, THROWER)?;
    let b1 = Instance::new(&mut store, &thrower, &[])?;
    let b2 = Instance::new(&mut store, &thrower, &[])?;
    let (t1, t2) = (tag(&mut store, &b1, "t"), tag(&mut store, &b2, "t"));
    assert_ne!(t1, t2);
    // A catches b1's tag but calls b2's `throw`.
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "b", "t", t1)?;
    let throw2 = b2.get_func(&mut store, "throw").expect("throw");
    linker.define(&mut store, "b", "throw", throw2)?;
    let a = linker.instantiate(&mut store, &Module::new(&engine, CATCHER)?)?;
    let err = call(&mut store, &a, "run", &[Val::I32(1)]).unwrap_err();
    let exn = uncaught(&err);
    assert_eq!(exn.tag(&store), t2);
    assert_eq!(ints(&exn.values(&store)), [43]);
    assert_eq!(ints(&call(&mut store, &a, "by_identity", &[Val::I32(0)])?), [2]);
    Ok(())
}

/// `$tail` tail-calls a function that throws from inside its try_table, in four ways
/// (`how`): `return_call` of wasm and of a host function, `return_call_indirect` of wasm,
/// `return_call_ref` of a host function.
const TAIL: &str = r#"
(module
  (import "host" "throw" (func $host_throw (param i32) (result i32)))
  (type $un (func (param i32) (result i32)))
  (tag $t (export "t") (param i32))
  (table 1 funcref)
  (elem (i32.const 0) $thrower)
  (elem declare func $host_throw)
  (func $thrower (type $un) (throw $t (local.get 0)))
  (func $tail (param $x i32) (param $how i32) (result i32)
    (block $caught (result i32)
      (try_table (result i32) (catch $t $caught)
        (if (i32.eqz (local.get $how)) (then (return_call $thrower (local.get $x))))
        (if (i32.eq (local.get $how) (i32.const 1)) (then (return_call $host_throw (local.get $x))))
        (if (i32.eq (local.get $how) (i32.const 2))
          (then (return_call_indirect (type $un) (local.get $x) (i32.const 0))))
        (return_call_ref $un (local.get $x) (ref.func $host_throw)))
      (return))
    ;; Never: the frame is gone when the callee throws.
    (i32.add (i32.const 1000)))
  (func (export "tail") (param i32 i32) (result i32) (call $tail (local.get 0) (local.get 1)))
  (func (export "outer") (param $x i32) (param $how i32) (result i32)
    (block $caught (result i32)
      (try_table (result i32) (catch $t $caught) (call $tail (local.get $x) (local.get $how)))
      (return))
    (i32.add (i32.const 2000))))
"#;

#[test]
fn a_tail_call_leaves_its_try_table_behind() -> Result {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "throw", |mut caller: Caller<'_, ()>, x: i32| -> Result<i32> {
        let t = caller.get_export("t").and_then(Extern::into_tag).ok_or_else(|| Error::msg("no tag"))?;
        Err(ExnRef::new(&mut caller, t, &[Val::I32(x)])?.into())
    })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &Module::new(&engine, TAIL)?)?;
    let t = tag(&mut store, &instance, "t");
    for how in 0..4 {
        let r = call(&mut store, &instance, "outer", &[Val::I32(5), Val::I32(how)])?;
        assert_eq!(ints(&r), [2005], "way {how}: caught by the caller's try_table");
        let err = call(&mut store, &instance, "tail", &[Val::I32(6), Val::I32(how)]).unwrap_err();
        let exn = uncaught(&err);
        assert_eq!((exn.tag(&store), ints(&exn.values(&store))), (t, vec![6]), "way {how}");
    }
    Ok(())
}

/// `$rec` recurses n deep (each level inside a try_table for another tag) and throws at
/// the bottom.
const DEEP: &str = r#"
(module
  (tag $t (param i32))
  (tag $other)
  (func $rec (param $n i32) (result i32)
    (if (i32.eqz (local.get $n)) (then (throw $t (i32.const 77))))
    (block $no
      (try_table (catch $other $no)
        (return (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
    (i32.const -1))
  (func (export "deep") (param i32) (result i32)
    (block $caught (result i32)
      (try_table (catch $t $caught) (return (call $rec (local.get 0))))
      (unreachable)))
  (func (export "escape") (param i32) (result i32) (call $rec (local.get 0)))
  (func $count (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0))
      (else (i32.add (call $count (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
  (func (export "count") (param i32) (result i32) (call $count (local.get 0))))
"#;

#[test]
fn an_exception_unwinds_a_deep_stack_which_stays_usable() -> Result {
    let (mut store, instance) = instantiate(DEEP);
    for _ in 0..3 {
        assert_eq!(ints(&call(&mut store, &instance, "deep", &[Val::I32(10_000)])?), [77]);
        assert_eq!(ints(&call(&mut store, &instance, "count", &[Val::I32(10_000)])?), [10_000]);
    }
    let err = call(&mut store, &instance, "escape", &[Val::I32(10_000)]).unwrap_err();
    assert_eq!(ints(&uncaught(&err).values(&store)), [77]);
    assert_eq!(ints(&call(&mut store, &instance, "count", &[Val::I32(10_000)])?), [10_000]);
    assert_eq!(ints(&call(&mut store, &instance, "deep", &[Val::I32(3)])?), [77]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Live exceptions and the store's limit
// ---------------------------------------------------------------------------------------------

/// Throw-and-catch loops: `count` counts the iterations done.
const LOOPS: &str = r#"
(module
  (tag $t (export "t") (param i32))
  (global $count (export "count") (mut i32) (i32.const 0))
  ;; n times: throw i, catch it (without a reference), add it to the sum.
  (func (export "catch") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (block $h (result i32)
          (try_table (catch $t $h) (throw $t (local.get $i)))
          (unreachable))
        (local.set $sum (i32.add (local.get $sum)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $sum))
  (func (export "catch_all") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (block $h (try_table (catch_all $h) (throw $t (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $i))
  ;; n times: throw, catch with a reference, drop it.
  (func (export "catch_ref") (param $n i32) (result i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (global.get $count) (local.get $n)))
        (block $h (result i32 exnref)
          (try_table (catch_ref $t $h) (throw $t (global.get $count)))
          (unreachable))
        (drop) (drop)
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (br $l)))
    (global.get $count))
  (func (export "throw") (param i32) (throw $t (local.get 0)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
"#;

/// `LOOPS` in a store allowing `exceptions` live exceptions.
fn loops(exceptions: usize) -> (Store<()>, Instance) {
    let (mut store, instance) = instantiate(LOOPS);
    store.set_limits(StoreLimits { exceptions, ..StoreLimits::default() });
    (store, instance)
}

#[test]
fn exceptions_caught_without_a_reference_are_freed() -> Result {
    let (mut store, instance) = loops(4);
    let n: i32 = 1_000_000;
    let sum = (0..n).fold(0i32, |s, i| s.wrapping_add(i));
    assert_eq!(ints(&call(&mut store, &instance, "catch", &[Val::I32(n)])?), [sum]);
    assert_eq!(ints(&call(&mut store, &instance, "catch_all", &[Val::I32(100_000)])?), [100_000]);
    Ok(())
}

#[test]
fn exceptions_caught_with_a_reference_count_against_the_limit() -> Result {
    let (mut store, instance) = loops(1000);
    let err = call(&mut store, &instance, "catch_ref", &[Val::I32(5000)]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Limit(_)), "{err:?}");
    assert_eq!(err.trap_code(), None);
    assert!(err.exception().is_none());
    let count = instance.get_global(&mut store, "count").expect("global").get(&store);
    assert_eq!(count.i32(), Some(1000), "the 1001st throw fails");

    // The store still runs wasm; throwing needs a higher limit now.
    assert_eq!(ints(&call(&mut store, &instance, "add", &[Val::I32(2), Val::I32(3)])?), [5]);
    let err = call(&mut store, &instance, "catch", &[Val::I32(1)]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Limit(_)), "{err:?}");
    store.set_limits(StoreLimits { exceptions: 1001, ..StoreLimits::default() });
    assert_eq!(ints(&call(&mut store, &instance, "catch", &[Val::I32(10)])?), [45]);
    Ok(())
}

#[test]
fn escaped_and_host_made_exceptions_stay_alive() -> Result {
    let (mut store, instance) = loops(3);
    let t = tag(&mut store, &instance, "t");
    let first = uncaught(&call(&mut store, &instance, "throw", &[Val::I32(1)]).unwrap_err());
    let second = ExnRef::new(&mut store, t, &[Val::I32(2)])?;
    let third = uncaught(&call(&mut store, &instance, "throw", &[Val::I32(3)]).unwrap_err());
    let err = call(&mut store, &instance, "throw", &[Val::I32(4)]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Limit(_)), "{err:?}");
    let err = ExnRef::new(&mut store, t, &[Val::I32(5)]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Limit(_)), "{err:?}");
    // All three are still readable.
    for (exn, v) in [(first, 1), (second, 2), (third, 3)] {
        assert_eq!(ints(&exn.values(&store)), [v]);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ExnRef from the host, exnref values
// ---------------------------------------------------------------------------------------------

#[test]
fn exn_ref_new_checks_its_values_and_its_tag() -> Result {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let t = Tag::new(&mut store, &TagType::new([ValType::I32, ValType::V128]))?;
    let exn = ExnRef::new(&mut store, t, &[Val::I32(1), Val::V128(u128::MAX - 1)])?;
    assert_eq!(exn.tag(&store), t);
    let values = exn.values(&store);
    assert_eq!((values[0].i32(), values[1].v128()), (Some(1), Some(u128::MAX - 1)));

    let is_type_error =
        |r: Result<ExnRef>| matches!(r.map_err(|e| e.kind().to_string()), Err(m) if m.contains("type mismatch"));
    assert!(is_type_error(ExnRef::new(&mut store, t, &[Val::I32(1)])), "too few values");
    assert!(is_type_error(ExnRef::new(&mut store, t, &[Val::I32(1), Val::V128(0), Val::I32(2)])), "too many");
    assert!(is_type_error(ExnRef::new(&mut store, t, &[Val::I64(1), Val::V128(0)])), "i64 for i32");
    assert!(is_type_error(ExnRef::new(&mut store, t, &[Val::I32(1), Val::I32(0)])), "i32 for v128");

    let mut other = Store::new(&engine, ());
    let other_tag = Tag::new(&mut other, &TagType::new([ValType::I32, ValType::V128]))?;
    let err = ExnRef::new(&mut store, other_tag, &[Val::I32(1), Val::V128(0)]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Type(_)), "{err:?}");
    assert!(err.to_string().contains("another store"), "{err}");

    // A reference payload of another store.
    let r = Tag::new(&mut store, &TagType::new([ValType::FuncRef]))?;
    let foreign = Func::wrap(&mut other, || {});
    assert!(ExnRef::new(&mut store, r, &[Val::FuncRef(Some(foreign))]).is_err());
    assert!(ExnRef::new(&mut store, r, &[Val::FuncRef(None)]).is_ok());
    Ok(())
}

#[test]
fn a_host_made_exnref_thrown_by_wasm_escapes_as_itself() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    let a = tag(&mut store, &instance, "a");
    let exn = ExnRef::new(&mut store, a, &[Val::I32(12), Val::I64(-12)])?;
    let err = call(&mut store, &instance, "throw_param", &[Val::ExnRef(Some(exn))]).unwrap_err();
    assert_eq!(uncaught(&err), exn);
    let values = exn.values(&store);
    assert_eq!((values[0].i32(), values[1].i64()), (Some(12), Some(-12)));
    // Thrown again from a later call.
    let err = call(&mut store, &instance, "throw_param", &[Val::ExnRef(Some(exn))]).unwrap_err();
    assert_eq!(uncaught(&err), exn);
    Ok(())
}

#[test]
fn an_exnref_of_another_store_is_refused_as_an_argument() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    let mut other = Store::new(store.engine(), ());
    let t = Tag::new(&mut other, &TagType::new([]))?;
    let foreign = ExnRef::new(&mut other, t, &[])?;
    let err = call(&mut store, &instance, "throw_param", &[Val::ExnRef(Some(foreign))]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Type(_)), "{err:?}");
    let err = call(&mut store, &instance, "throw_param", &[Val::FuncRef(None)]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Type(_)), "{err:?}");
    Ok(())
}

#[test]
fn exnref_globals_and_tables_hold_caught_exceptions() -> Result {
    let (mut store, instance) = instantiate(CATCHES);
    let i = tag(&mut store, &instance, "i");
    let saved = instance.get_global(&mut store, "saved").expect("global");
    let tab = instance.get_table(&mut store, "tab").expect("table");
    assert_eq!(saved.ty(&store).content(), ValType::EXNREF);
    assert!(saved.get(&store).is_null());
    assert!(tab.get(&mut store, 1).expect("in bounds").is_null());

    call(&mut store, &instance, "keep", &[Val::I32(66)])?;
    let kept = exn_of(&saved.get(&store));
    assert_eq!(kept.tag(&store), i);
    assert_eq!(ints(&kept.values(&store)), [66]);
    assert_eq!(exn_of(&tab.get(&mut store, 1).expect("in bounds")), kept);
    assert!(tab.get(&mut store, 0).expect("in bounds").is_null());
    assert_eq!(uncaught(&call(&mut store, &instance, "throw_saved", &[]).unwrap_err()), kept);
    assert_eq!(uncaught(&call(&mut store, &instance, "throw_table", &[Val::I32(1)]).unwrap_err()), kept);
    let err = call(&mut store, &instance, "throw_table", &[Val::I32(0)]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::NullReference), "{err}");

    // The host puts one in, wasm throws it.
    let mine = ExnRef::new(&mut store, i, &[Val::I32(-1)])?;
    saved.set(&mut store, Val::ExnRef(Some(mine)))?;
    assert_eq!(uncaught(&call(&mut store, &instance, "throw_saved", &[]).unwrap_err()), mine);
    tab.set(&mut store, 0, Val::ExnRef(Some(mine)))?;
    assert_eq!(uncaught(&call(&mut store, &instance, "throw_table", &[Val::I32(0)]).unwrap_err()), mine);
    assert!(saved.set(&mut store, Val::ExternRef(None)).is_err(), "an externref is not an exnref");
    Ok(())
}

#[test]
fn exnref_types_and_default_values() {
    assert_eq!(ValType::EXNREF, ValType::Ref(RefType::EXNREF));
    assert_eq!(RefType::EXNREF.heap_type(), HeapType::Exn);
    assert!(RefType::EXNREF.is_nullable());
    assert!(matches!(Val::default_for(ValType::EXNREF), Val::ExnRef(None)));
    assert!(matches!(Val::default_for(ValType::Ref(RefType::new(true, HeapType::NoExn))), Val::ExnRef(None)));
    assert_eq!(Val::ExnRef(None).ty(), ValType::EXNREF);
    assert!(Val::ExnRef(None).is_null());
}

/// Exnref values in wasm: locals, `select`, `br_on_null`, `ref.as_non_null`, non-null
/// `(ref exn)`, exceptions carrying exceptions, a host function passing one through, and
/// table instructions; the global and table are the host's.
const EXNREF_VALUES: &str = r#"
(module
  (import "h" "g" (global $g (mut exnref)))
  (import "h" "tab" (table $tab 1 exnref))
  (import "h" "t" (tag $t (param i32)))
  (import "h" "echo" (func $echo (param exnref) (result exnref)))
  (tag $n (export "n") (param exnref))
  (func (export "select") (param i32) (result exnref)
    (select (result exnref) (global.get $g) (ref.null exn) (local.get 0)))
  (func (export "non_null") (param (ref exn)) (result i32) (i32.const 1))
  (func (export "as_non_null") (param exnref) (result exnref) (ref.as_non_null (local.get 0)))
  (func (export "is_null") (param exnref) (result i32)
    (block $null (drop (br_on_null $null (local.get 0))) (return (i32.const 0)))
    (i32.const 1))
  (func (export "echo_throw") (throw_ref (call $echo (global.get $g))))
  ;; Throws $g inside a $n, catches it, rethrows the inner one, catches that: its payload.
  (func (export "nest") (result i32)
    (local $e exnref)
    (block $h (result exnref)
      (try_table (catch $n $h) (throw $n (global.get $g)))
      (unreachable))
    (local.set $e)
    (block $h2 (result i32)
      (try_table (catch $t $h2) (throw_ref (local.get $e)))
      (unreachable)))
  (func (export "nest_escape") (throw $n (global.get $g)))
  ;; Fills the table with $g, grows it by a null, copies the null to 0: 1 + 10 * 0.
  (func (export "table_ops") (result i32)
    (table.fill $tab (i32.const 0) (global.get $g) (table.size $tab))
    (drop (table.grow $tab (ref.null exn) (i32.const 1)))
    (table.copy $tab $tab (i32.const 0) (i32.sub (table.size $tab) (i32.const 1)) (i32.const 1))
    (i32.add (ref.is_null (table.get $tab (i32.const 0)))
      (i32.mul (i32.const 10) (ref.is_null (table.get $tab (i32.const 1)))))))
"#;

/// `EXNREF_VALUES` with a host global (holding an exception of tag `t` carrying 1), a
/// host table of 3 and an echoing host function; returns the global's exception too.
fn exnref_values() -> Result<(Store<()>, Instance, ExnRef)> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let t = Tag::new(&mut store, &TagType::new([ValType::I32]))?;
    let exn = ExnRef::new(&mut store, t, &[Val::I32(1)])?;
    let g = Global::new(&mut store, GlobalType::new(ValType::EXNREF, Mutability::Var), Val::ExnRef(Some(exn)))?;
    let tab = Table::new(&mut store, TableType::new(RefType::EXNREF, 1, None), Val::ExnRef(None))?;
    assert_eq!(tab.grow(&mut store, 2, Val::ExnRef(Some(exn)))?, 1);
    let echo = Func::new(&mut store, FuncType::new([ValType::EXNREF], [ValType::EXNREF]), |_, params, results| {
        results[0] = params[0].clone();
        Ok(())
    });
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "h", "g", g)?.define(&mut store, "h", "tab", tab)?.define(&mut store, "h", "t", t)?;
    linker.define(&mut store, "h", "echo", echo)?;
    let instance = linker.instantiate(&mut store, &Module::new(&engine, EXNREF_VALUES)?)?;
    Ok((store, instance, exn))
}

#[test]
fn exnrefs_flow_through_wasm_instructions() -> Result {
    let (mut store, instance, exn) = exnref_values()?;
    assert_eq!(exn_of(&call(&mut store, &instance, "select", &[Val::I32(1)])?[0]), exn);
    assert!(call(&mut store, &instance, "select", &[Val::I32(0)])?[0].is_null());
    assert_eq!(ints(&call(&mut store, &instance, "is_null", &[Val::ExnRef(None)])?), [1]);
    assert_eq!(ints(&call(&mut store, &instance, "is_null", &[Val::ExnRef(Some(exn))])?), [0]);
    assert_eq!(exn_of(&call(&mut store, &instance, "as_non_null", &[Val::ExnRef(Some(exn))])?[0]), exn);
    let err = call(&mut store, &instance, "as_non_null", &[Val::ExnRef(None)]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::NullReference), "{err}");
    assert_eq!(ints(&call(&mut store, &instance, "non_null", &[Val::ExnRef(Some(exn))])?), [1]);
    let err = call(&mut store, &instance, "non_null", &[Val::ExnRef(None)]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Type(_)), "a null for (ref exn): {err:?}");
    assert_eq!(ints(&call(&mut store, &instance, "table_ops", &[])?), [1]);
    Ok(())
}

#[test]
fn exceptions_carry_exceptions_and_host_functions_pass_them_on() -> Result {
    let (mut store, instance, exn) = exnref_values()?;
    assert_eq!(uncaught(&call(&mut store, &instance, "echo_throw", &[]).unwrap_err()), exn);
    assert_eq!(ints(&call(&mut store, &instance, "nest", &[])?), [1]);
    let n = tag(&mut store, &instance, "n");
    let outer = uncaught(&call(&mut store, &instance, "nest_escape", &[]).unwrap_err());
    assert_eq!(outer.tag(&store), n);
    assert_eq!(exn_of(&outer.values(&store)[0]), exn);
    Ok(())
}

#[test]
fn exnrefs_of_another_store_are_refused_everywhere() -> Result {
    let (mut store, _, _) = exnref_values()?;
    let mut other = Store::new(store.engine(), ());
    let t = Tag::new(&mut other, &TagType::new([]))?;
    let foreign = ExnRef::new(&mut other, t, &[])?;
    let ty = GlobalType::new(ValType::EXNREF, Mutability::Var);
    let err = Global::new(&mut store, ty, Val::ExnRef(Some(foreign))).unwrap_err();
    assert!(err.to_string().contains("another store"), "{err}");
    let table = Table::new(&mut store, TableType::new(RefType::EXNREF, 1, None), Val::ExnRef(None))?;
    let err = table.set(&mut store, 0, Val::ExnRef(Some(foreign))).unwrap_err();
    assert!(err.to_string().contains("another store"), "{err}");
    // As a host function's result.
    let bad = Func::new(&mut store, FuncType::new([], [ValType::EXNREF]), move |_, _, results| {
        results[0] = Val::ExnRef(Some(foreign));
        Ok(())
    });
    let mut out = [Val::ExnRef(None)];
    let err = bad.call(&mut store, &[], &mut out).unwrap_err();
    assert!(err.to_string().contains("another store"), "{err}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Fuel and validation
// ---------------------------------------------------------------------------------------------

#[test]
fn throw_and_catch_loops_run_out_of_fuel() {
    within(60, || -> Result {
        let engine = Engine::new(Config::new().consume_fuel(true))?;
        let module = Module::new(
            &engine,
            r#"(module
                 (tag $t (param i32))
                 (func $thrower (throw $t (i32.const 1)))
                 (func (export "to_loop") (loop $l (try_table (catch_all $l) (throw $t (i32.const 0)))))
                 (func (export "to_loop_param")
                   (i32.const 0)
                   (loop $l (param i32) (drop) (try_table (catch $t $l) (throw $t (i32.const 1)))))
                 (func (export "to_block_from_call")
                   (loop $l (block $h (try_table (catch_all $h) (call $thrower))) (br $l)))
                 (func (export "id") (param i32) (result i32) (local.get 0)))"#,
        )?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        for name in ["to_loop", "to_loop_param", "to_block_from_call"] {
            store.set_fuel(100_000)?;
            let err = call(&mut store, &instance, name, &[]).unwrap_err();
            assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{name}: {err}");
            assert_eq!(store.get_fuel()?, 0, "{name}");
        }
        store.set_fuel(100)?;
        assert_eq!(ints(&call(&mut store, &instance, "id", &[Val::I32(4)])?), [4]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn exceptions_need_the_feature() -> Result {
    let modules = [
        r#"(module (func (block $h (try_table (catch_all $h) (nop)))))"#,
        r#"(module (tag $t) (func (throw $t)))"#,
        r#"(module (func (param exnref)))"#,
    ];
    let mut off = Config::new();
    off.wasm_exceptions(false);
    let mut wasm2 = Config::new();
    wasm2.wasm2();
    for config in [off, wasm2] {
        let engine = Engine::new(&config)?;
        for wat in modules {
            let err = Module::new(&engine, wat).expect_err(wat);
            assert!(err.is_compile(), "{wat}: {err:?}");
        }
    }
    for wat in modules {
        Module::new(&Engine::default(), wat)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The `any` hierarchy: nulls only
// ---------------------------------------------------------------------------------------------

const ANY: &str = r#"
(module
  (global $any (export "any") (mut anyref) (ref.null any))
  (global (export "eq") eqref (ref.null eq))
  (global (export "struct") structref (ref.null struct))
  (global (export "array") arrayref (ref.null array))
  (global (export "i31") i31ref (ref.null i31))
  (global (export "none") nullref (ref.null none))
  (table (export "tab") 2 anyref)
  (func (export "id") (param anyref) (result anyref) (local.get 0))
  (func (export "eq_is_null") (param eqref) (result i32) (ref.is_null (local.get 0)))
  (func (export "set_any") (param structref) (global.set $any (local.get 0)))
  (func (export "null_struct") (result structref) (ref.null none)))
"#;

#[test]
fn any_family_nulls_pass_through_signatures_and_globals() -> Result {
    let (mut store, instance) = instantiate(ANY);
    let r = call(&mut store, &instance, "id", &[Val::AnyRef(None)])?;
    assert!(matches!(r[0], Val::AnyRef(None)), "{:?}", r[0]);
    assert_eq!(ints(&call(&mut store, &instance, "eq_is_null", &[Val::AnyRef(None)])?), [1]);
    call(&mut store, &instance, "set_any", &[Val::AnyRef(None)])?;
    assert!(matches!(call(&mut store, &instance, "null_struct", &[])?[0], Val::AnyRef(None)));
    for (name, heap) in [
        ("any", HeapType::Any),
        ("eq", HeapType::Eq),
        ("struct", HeapType::Struct),
        ("array", HeapType::Array),
        ("i31", HeapType::I31),
        ("none", HeapType::None),
    ] {
        let g = instance.get_global(&mut store, name).expect("global");
        assert_eq!(g.ty(&store).content(), ValType::Ref(RefType::new(true, heap)), "{name}");
        assert!(matches!(g.get(&store), Val::AnyRef(None)), "{name}");
    }
    let tab = instance.get_table(&mut store, "tab").expect("table");
    assert!(matches!(tab.get(&mut store, 1), Some(Val::AnyRef(None))));
    assert_eq!(Val::AnyRef(None).ty(), ValType::ANYREF);
    assert!(Val::AnyRef(None).is_null());
    Ok(())
}

#[test]
fn gc_objects_compile_and_run() {
    // (The GC proposal as a whole: tests/gc.rs and tests/i31.rs.)
    for (wat, expected) in [
        (
            r#"(module (type $s (struct (field i32))) (func (export "f") (result i32) (ref.is_null (struct.new $s (i32.const 1)))))"#,
            0,
        ),
        (r#"(module (type $a (array i8)) (func (export "f") (result i32) (ref.is_null (array.new_fixed $a 0))))"#, 0),
        (r#"(module (func (export "f") (result i32) (ref.is_null (any.convert_extern (ref.null extern)))))"#, 1),
        (r#"(module (type $s (struct)) (func (export "f") (result i32) (ref.test (ref $s) (ref.null any))))"#, 0),
        (r#"(module (type $s (struct (field i32))) (func (export "f") (result i32) (ref.is_null (ref.null $s))))"#, 1),
    ] {
        let (mut store, instance) = instantiate(wat);
        assert_eq!(ints(&call(&mut store, &instance, "f", &[]).expect("runs")), [expected], "{wat}");
    }
}

#[test]
fn other_references_are_not_anyrefs() -> Result {
    let (mut store, instance) = instantiate(ANY);
    let f = Func::wrap(&mut store, || {});
    for wrong in [Val::FuncRef(None), Val::FuncRef(Some(f)), Val::ExternRef(None), Val::ExnRef(None), Val::I32(0)] {
        let err = call(&mut store, &instance, "id", std::slice::from_ref(&wrong)).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Type(_)), "{wrong:?}: {err:?}");
    }
    let any = instance.get_global(&mut store, "any").expect("global");
    assert!(any.set(&mut store, Val::FuncRef(None)).is_err());
    any.set(&mut store, Val::AnyRef(None))?;
    // Host functions of anyref types pass nulls too.
    let ty = FuncType::new([ValType::ANYREF], [ValType::ANYREF]);
    let host = Func::new(&mut store, ty, |_, params, results| {
        results[0] = params[0].clone();
        Ok(())
    });
    let mut out = [Val::AnyRef(None)];
    host.call(&mut store, &[Val::AnyRef(None)], &mut out)?;
    assert!(matches!(out[0], Val::AnyRef(None)));
    assert!(host.call(&mut store, &[Val::ExternRef(None)], &mut out).is_err());
    Ok(())
}
