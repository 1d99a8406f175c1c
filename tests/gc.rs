//! Garbage collection: structs and arrays in a store's heap, the tracing collector (cycles,
//! the limit, roots on suspended stacks and in the host), `any`/`extern` conversions, and
//! the typed host access of [`StructRef`] and [`ArrayRef`].

use wasmguard::{
    AnyRef, Caller, Config, Engine, ErrorKind, ExternRef, Func, Instance, Linker, Module, Store, StoreLimits, TrapCode,
    Val,
};

type Result<T = ()> = wasmguard::Result<T>;

const WAT: &str = r#"
(module
  (type $pair (struct (field $left (mut (ref null $pair))) (field $right (mut (ref null $pair))) (field $v (mut i32))))
  (type $bytes (array (mut i8)))
  (type $ints (array i32))
  (import "host" "churn" (func $churn))
  (global $keep (mut (ref null $pair)) (ref.null $pair))

  ;; `n` times: a two-object cycle, dropped at once.
  (func (export "cycles") (param $n i32)
    (local $a (ref null $pair)) (local $b (ref null $pair))
    (loop $l
      (local.set $a (struct.new $pair (ref.null $pair) (ref.null $pair) (local.get $n)))
      (local.set $b (struct.new $pair (local.get $a) (local.get $a) (i32.const 0)))
      (struct.set $pair $left (local.get $a) (local.get $b))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))

  ;; A list of `n` pairs kept alive in a global.
  (func (export "grow_list") (param $n i32)
    (loop $l
      (global.set $keep (struct.new $pair (global.get $keep) (ref.null $pair) (local.get $n)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))

  (func (export "drop_list") (global.set $keep (ref.null $pair)))

  (func (export "make") (param i32) (result (ref $pair))
    (struct.new $pair (ref.null $pair) (ref.null $pair) (local.get 0)))
  (func (export "value") (param (ref null $pair)) (result i32) (struct.get $pair $v (local.get 0)))

  ;; A pair on this frame's stack while the host runs wasm that collects.
  (func (export "survives_nested") (result i32)
    (local $p (ref $pair))
    (local.set $p (struct.new $pair (ref.null $pair) (ref.null $pair) (i32.const 77)))
    (call $churn)
    (struct.get $pair $v (local.get $p)))

  (func (export "to_any") (param externref) (result anyref) (any.convert_extern (local.get 0)))
  (func (export "to_extern") (param anyref) (result externref) (extern.convert_any (local.get 0)))
  (func (export "is_pair") (param externref) (result i32) (ref.test (ref $pair) (any.convert_extern (local.get 0))))

  (func (export "bytes") (param i32) (result (ref $bytes)) (array.new_default $bytes (local.get 0)))
  (func (export "sum") (param (ref $bytes)) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (array.len (local.get 0))))
        (local.set $s (i32.add (local.get $s) (array.get_u $bytes (local.get 0) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s))
  (func (export "ints") (result (ref $ints)) (array.new_fixed $ints 3 (i32.const 1) (i32.const 2) (i32.const 3)))
)
"#;

/// The store's data: the instance's `cycles` export, for the host function to call.
type Data = Option<Func>;

fn setup() -> Result<(Store<Data>, Instance)> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let mut store = Store::new(&engine, None);
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "churn", |mut caller: Caller<'_, Data>| -> Result {
        let cycles = caller.data().expect("set after instantiation");
        // Enough garbage for collections to run on their own, then one more by hand.
        cycles.call(&mut caller, &[Val::I32(300_000)], &mut [])?;
        caller.gc();
        Ok(())
    })?;
    let instance = linker.instantiate(&mut store, &module)?;
    let cycles = instance.get_func(&mut store, "cycles");
    *store.data_mut() = cycles;
    Ok((store, instance))
}

fn call(store: &mut Store<Data>, instance: &Instance, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let f = instance.get_func(&mut *store, name).expect("export");
    let mut out: Vec<Val> = f.ty(&*store).results().map(Val::default_for).collect();
    f.call(&mut *store, args, &mut out)?;
    Ok(out)
}

fn any(v: &Val) -> AnyRef {
    match v {
        Val::AnyRef(Some(a)) => a.clone(),
        other => panic!("expected a non-null anyref, got {other:?}"),
    }
}

#[test]
fn millions_of_cyclic_objects_run_in_bounded_memory() -> Result {
    let (mut store, instance) = setup()?;
    // Four million objects, two thousand times what the heap ever holds at once.
    call(&mut store, &instance, "cycles", &[Val::I32(2_000_000)])?;
    assert!(store.gc_collections() > 0, "allocation triggers collections");
    assert!(store.gc_heap_bytes() < 64 << 20, "the heap stays bounded: {} bytes", store.gc_heap_bytes());
    store.gc();
    assert_eq!(store.gc_heap_bytes(), 0, "nothing is reachable: every cycle is freed");
    Ok(())
}

#[test]
fn an_exhausted_heap_traps_and_the_store_stays_usable() -> Result {
    let (mut store, instance) = setup()?;
    store.set_limits(StoreLimits { gc_heap_bytes: 1 << 20, ..StoreLimits::default() });
    let err = call(&mut store, &instance, "grow_list", &[Val::I32(1_000_000)]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::GcHeapExhausted), "{err}");
    assert!(store.gc_heap_bytes() <= 1 << 20);
    // The list is still reachable; once it is not, its room is collected for more.
    assert!(call(&mut store, &instance, "cycles", &[Val::I32(1000)]).is_err(), "the heap is full");
    call(&mut store, &instance, "drop_list", &[])?;
    call(&mut store, &instance, "cycles", &[Val::I32(100_000)])?;
    Ok(())
}

#[test]
fn references_the_host_keeps_survive_collections() -> Result {
    let (mut store, instance) = setup()?;
    let kept = call(&mut store, &instance, "make", &[Val::I32(41)])?.remove(0);
    let before = store.gc_heap_bytes();
    call(&mut store, &instance, "cycles", &[Val::I32(500_000)])?;
    store.gc();
    assert!(store.gc_collections() > 1);
    assert_eq!(store.gc_heap_bytes(), before, "only the kept object survives");
    let pair = any(&kept).as_struct().expect("a struct");
    assert_eq!(pair.field(&store, 2)?.i32(), Some(41));
    pair.set_field(&mut store, 2, Val::I32(42))?;
    assert_eq!(call(&mut store, &instance, "value", std::slice::from_ref(&kept))?[0].i32(), Some(42));
    assert!(pair.set_field(&mut store, 2, Val::I64(1)).is_err(), "a value of the wrong type");
    assert!(pair.field(&store, 3).is_err(), "no such field");
    drop((kept, pair));
    store.gc();
    assert_eq!(store.gc_heap_bytes(), 0, "dropping the last host reference frees the object");
    Ok(())
}

#[test]
fn objects_on_a_suspended_stack_survive_a_nested_collection() -> Result {
    let (mut store, instance) = setup()?;
    let before = store.gc_collections();
    assert_eq!(call(&mut store, &instance, "survives_nested", &[])?[0].i32(), Some(77));
    assert!(store.gc_collections() > before, "the nested call collected");
    Ok(())
}

#[test]
fn any_and_extern_conversions_keep_identity() -> Result {
    let (mut store, instance) = setup()?;
    let host = ExternRef::new(5u32);
    let a = any(&call(&mut store, &instance, "to_any", &[Val::ExternRef(Some(host.clone()))])?[0]);
    assert!(a.is_host() && !a.is_struct());
    let back = call(&mut store, &instance, "to_extern", &[Val::AnyRef(Some(a))])?.remove(0);
    let Val::ExternRef(Some(back)) = back else { panic!("expected an externref") };
    assert!(ExternRef::ptr_eq(&back, &host), "the same host value comes back");

    // A struct made external goes out to the host and back in as itself.
    let pair = call(&mut store, &instance, "make", &[Val::I32(9)])?.remove(0);
    let ext = call(&mut store, &instance, "to_extern", &[pair])?.remove(0);
    assert_eq!(call(&mut store, &instance, "is_pair", std::slice::from_ref(&ext))?[0].i32(), Some(1));
    let Val::ExternRef(Some(e)) = &ext else { panic!("expected an externref") };
    assert!(AnyRef::from_extern(e).is_struct());
    assert_eq!(call(&mut store, &instance, "is_pair", &[Val::ExternRef(Some(host))])?[0].i32(), Some(0));
    Ok(())
}

#[test]
fn array_bytes_are_borrowed_not_copied() -> Result {
    let (mut store, instance) = setup()?;
    let bytes = call(&mut store, &instance, "bytes", &[Val::I32(4)])?.remove(0);
    let array = any(&bytes).as_array().expect("an array");
    array.bytes_mut(&mut store)?.copy_from_slice(&[1, 2, 3, 250]);
    assert_eq!(call(&mut store, &instance, "sum", &[bytes])?[0].i32(), Some(256));
    array.set(&mut store, 0, Val::I32(0x1ff))?;
    assert_eq!(array.get(&store, 0)?.i32(), Some(0xff), "an i8 element keeps the low bits");
    let err = array.get(&store, 4).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::ArrayOutOfBounds));

    let ints = any(&call(&mut store, &instance, "ints", &[])?[0]).as_array().expect("an array");
    assert_eq!(ints.len(&store)?, 3);
    assert_eq!(ints.get(&store, 2)?.i32(), Some(3));
    assert!(ints.bytes(&store).is_err(), "only i8 arrays are bytes");
    assert!(ints.set(&mut store, 0, Val::I32(0)).is_err(), "an immutable array");
    Ok(())
}

#[test]
fn references_of_another_store_are_refused() -> Result {
    let (mut store, instance) = setup()?;
    let pair = call(&mut store, &instance, "make", &[Val::I32(1)])?.remove(0);
    let (mut other, other_instance) = setup()?;
    let s = any(&pair).as_struct().expect("a struct");
    assert!(s.field(&other, 0).is_err());
    assert!(call(&mut other, &other_instance, "value", &[pair]).is_err());
    Ok(())
}

#[test]
fn gc_can_be_turned_off() {
    let mut config = Config::new();
    config.wasm_gc(false);
    let engine = Engine::new(&config).expect("engine");
    let err = Module::new(&engine, WAT).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Compile(_)), "{err}");
}

#[test]
fn v128_fields_and_elements_take_two_slots() -> Result {
    let wat = r#"(module
      (type $s (struct (field $a i32) (field $v (mut v128)) (field $b i64)))
      (type $vs (array (mut v128)))
      (func (export "fields") (result i64)
        (local $x (ref $s))
        (local.set $x (struct.new $s (i32.const 1) (v128.const i64x2 2 3) (i64.const 4)))
        (struct.set $s $v (local.get $x) (v128.const i64x2 5 6))
        (i64.add (i64.add (i64.extend_i32_u (struct.get $s $a (local.get $x)))
                          (i64x2.extract_lane 1 (struct.get $s $v (local.get $x))))
                 (struct.get $s $b (local.get $x))))
      (func (export "elements") (result i64)
        (local $y (ref $vs))
        (local.set $y (array.new $vs (v128.const i64x2 7 8) (i32.const 3)))
        (array.set $vs (local.get $y) (i32.const 1) (v128.const i64x2 9 10))
        (array.fill $vs (local.get $y) (i32.const 2) (v128.const i64x2 11 12) (i32.const 1))
        (i64.add (i64.add (i64x2.extract_lane 1 (array.get $vs (local.get $y) (i32.const 0)))
                          (i64x2.extract_lane 0 (array.get $vs (local.get $y) (i32.const 1))))
                 (i64x2.extract_lane 1 (array.get $vs (array.new_fixed $vs 2 (v128.const i64x2 0 0) (v128.const i64x2 13 14)) (i32.const 1)))))
    )"#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    for (name, expected) in [("fields", 1 + 6 + 4), ("elements", 8 + 9 + 14)] {
        let mut out = [Val::I64(0)];
        instance.get_func(&mut store, name).expect("export").call(&mut store, &[], &mut out)?;
        assert_eq!(out[0].i64(), Some(expected), "{name}");
    }
    Ok(())
}
