//! `i31` references (the first part of the GC proposal): `ref.i31`, `i31.get_s/u`,
//! `ref.eq`, `ref.test` and `ref.cast` to abstract heap types, and their host side:
//! [`I31`] and [`AnyRef`] values through calls, globals and tables.

use wasmguard::{AnyRef, Engine, I31, Instance, Module, Store, TrapCode, Val};

type Result<T = ()> = wasmguard::Result<T>;

const WAT: &str = r#"
(module
  (type $s (struct))
  (global $g (export "g") (mut anyref) (ref.i31 (i32.const -3)))
  (table $t (export "t") 4 anyref)
  (elem (table $t) (i32.const 0) i31ref (item (ref.i31 (i32.const 77))))

  (func (export "new") (param i32) (result (ref i31)) (ref.i31 (local.get 0)))
  (func (export "get_s") (param anyref) (result i32) (i31.get_s (ref.cast i31ref (local.get 0))))
  (func (export "get_u") (param i31ref) (result i32) (i31.get_u (local.get 0)))
  (func (export "eq") (param eqref eqref) (result i32) (ref.eq (local.get 0) (local.get 1)))

  ;; One bit per test of the argument, in order: any, (ref any), eq, i31, (ref i31),
  ;; struct, none.
  (func (export "tests") (param anyref) (result i32)
    (i32.or (i32.or (i32.or
      (i32.or (ref.test anyref (local.get 0))
              (i32.shl (ref.test (ref any) (local.get 0)) (i32.const 1)))
      (i32.or (i32.shl (ref.test eqref (local.get 0)) (i32.const 2))
              (i32.shl (ref.test i31ref (local.get 0)) (i32.const 3))))
      (i32.or (i32.shl (ref.test (ref i31) (local.get 0)) (i32.const 4))
              (i32.shl (ref.test structref (local.get 0)) (i32.const 5))))
      (i32.shl (ref.test nullref (local.get 0)) (i32.const 6))))

  (func (export "cast_i31") (param anyref) (result anyref) (ref.cast (ref i31) (local.get 0)))
  (func (export "cast_struct") (param anyref) (result anyref) (ref.cast structref (local.get 0)))

  ;; Casts outside the `any` hierarchy.
  (func $f)
  (elem declare func $f)
  (func (export "func_tests") (result i32)
    (i32.or (ref.test (ref func) (ref.func $f))
            (i32.shl (ref.test nullfuncref (ref.func $f)) (i32.const 1))))
  (func (export "cast_nofunc") (result funcref) (ref.cast nullfuncref (ref.func $f)))
  (func (export "extern_test") (param externref) (result i32) (ref.test (ref extern) (local.get 0)))
)
"#;

fn setup() -> Result<(Store<()>, Instance)> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

fn i31(v: i32) -> Val {
    Val::AnyRef(Some(AnyRef::from_i31(I31::wrapping_i32(v))))
}

fn call(store: &mut Store<()>, instance: &Instance, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let f = instance.get_func(&mut *store, name).expect("export");
    let mut out: Vec<Val> = f.ty(&*store).results().map(Val::default_for).collect();
    f.call(&mut *store, args, &mut out)?;
    Ok(out)
}

fn as_i31(v: &Val) -> Option<I31> {
    match v {
        Val::AnyRef(Some(a)) => a.as_i31(),
        _ => None,
    }
}

#[test]
fn i31_values_wrap_to_31_bits() {
    assert_eq!(I31::wrapping_u32(0xffff_ffff).get_u32(), 0x7fff_ffff);
    assert_eq!(I31::wrapping_u32(0xffff_ffff).get_i32(), -1);
    assert_eq!(I31::wrapping_i32(0x4000_0000).get_i32(), -0x4000_0000);
    assert_eq!(I31::wrapping_i32(-0x4000_0001).get_i32(), 0x3fff_ffff);
    assert_eq!(I31::new_i32(0x3fff_ffff).map(I31::get_i32), Some(0x3fff_ffff));
    assert_eq!(I31::new_i32(-0x4000_0000).map(I31::get_i32), Some(-0x4000_0000));
    assert_eq!(I31::new_i32(0x4000_0000), None);
    assert_eq!(I31::new_i32(-0x4000_0001), None);
    assert_eq!(I31::new_u32(0x7fff_ffff).map(I31::get_u32), Some(0x7fff_ffff));
    assert_eq!(I31::new_u32(0x8000_0000), None);
}

#[test]
fn i31_references_cross_calls_both_ways() -> Result {
    let (mut store, instance) = setup()?;
    for v in [0, 1, -1, 100, 0x3fff_ffff, -0x4000_0000, i32::MAX, i32::MIN] {
        let out = call(&mut store, &instance, "new", &[Val::I32(v)])?;
        let got = as_i31(&out[0]).expect("an i31");
        assert_eq!(got, I31::wrapping_i32(v), "ref.i31 {v}");
        // Back in: the guest sees the host's value.
        let s = call(&mut store, &instance, "get_s", &[out[0].clone()])?;
        assert_eq!(s[0].i32(), Some(I31::wrapping_i32(v).get_i32()), "i31.get_s of {v}");
        let u = call(&mut store, &instance, "get_u", &[i31(v)])?;
        assert_eq!(u[0].i32(), Some(I31::wrapping_i32(v).get_u32() as i32), "i31.get_u of {v}");
    }
    Ok(())
}

#[test]
fn null_i31_and_failed_casts_trap() -> Result {
    let (mut store, instance) = setup()?;
    let err = call(&mut store, &instance, "get_u", &[Val::AnyRef(None)]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::NullI31Reference), "{err}");
    // `ref.cast i31ref` lets null through, to `i31.get_s`.
    let err = call(&mut store, &instance, "get_s", &[Val::AnyRef(None)]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::NullI31Reference), "{err}");
    let err = call(&mut store, &instance, "cast_i31", &[Val::AnyRef(None)]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::CastFailure), "{err}");
    let err = call(&mut store, &instance, "cast_struct", &[i31(5)]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::CastFailure), "{err}");
    let err = call(&mut store, &instance, "cast_nofunc", &[]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::CastFailure), "{err}");

    // Casts that hold return their argument.
    let out = call(&mut store, &instance, "cast_i31", &[i31(9)])?;
    assert_eq!(as_i31(&out[0]), Some(I31::wrapping_i32(9)));
    let out = call(&mut store, &instance, "cast_struct", &[Val::AnyRef(None)])?;
    assert!(out[0].is_null());
    Ok(())
}

#[test]
fn ref_test_of_abstract_types() -> Result {
    let (mut store, instance) = setup()?;
    // any, (ref any), eq, i31, (ref i31), struct, none
    let bits = |store: &mut Store<()>, v: Val| call(store, &instance, "tests", &[v]).map(|o| o[0].i32());
    assert_eq!(bits(&mut store, i31(3))?, Some(0b001_1111), "an i31");
    assert_eq!(bits(&mut store, Val::AnyRef(None))?, Some(0b110_1101), "null");
    assert_eq!(call(&mut store, &instance, "func_tests", &[])?[0].i32(), Some(0b01));
    let host = Val::ExternRef(Some(wasmguard::ExternRef::new(5u8)));
    assert_eq!(call(&mut store, &instance, "extern_test", &[host])?[0].i32(), Some(1));
    assert_eq!(call(&mut store, &instance, "extern_test", &[Val::ExternRef(None)])?[0].i32(), Some(0));
    Ok(())
}

#[test]
fn ref_eq_compares_i31_values_and_nulls() -> Result {
    let (mut store, instance) = setup()?;
    let eq = |store: &mut Store<()>, a: Val, b: Val| call(store, &instance, "eq", &[a, b]).map(|o| o[0].i32());
    assert_eq!(eq(&mut store, i31(7), i31(7))?, Some(1));
    assert_eq!(eq(&mut store, i31(7), i31(8))?, Some(0));
    // -1 and 0x7fffffff are the same i31.
    assert_eq!(eq(&mut store, i31(-1), i31(0x7fff_ffff))?, Some(1));
    assert_eq!(eq(&mut store, Val::AnyRef(None), Val::AnyRef(None))?, Some(1));
    assert_eq!(eq(&mut store, Val::AnyRef(None), i31(0))?, Some(0));
    Ok(())
}

#[test]
fn i31_references_in_globals_and_tables() -> Result {
    let (mut store, instance) = setup()?;
    let g = instance.get_global(&mut store, "g").expect("global");
    assert_eq!(as_i31(&g.get(&store)), Some(I31::wrapping_i32(-3)));
    g.set(&mut store, i31(1234))?;
    assert_eq!(as_i31(&g.get(&store)), Some(I31::wrapping_i32(1234)));

    let t = instance.get_table(&mut store, "t").expect("table");
    assert_eq!(t.get(&mut store, 0).as_ref().and_then(as_i31), Some(I31::wrapping_i32(77)));
    assert!(t.get(&mut store, 1).is_some_and(|v| v.is_null()));
    t.set(&mut store, 2, i31(-42))?;
    assert_eq!(t.get(&mut store, 2).as_ref().and_then(as_i31), Some(I31::wrapping_i32(-42)));
    Ok(())
}

#[test]
fn the_rest_of_gc_compiles() {
    let engine = Engine::default();
    for wat in [
        "(module (type $s (struct)) (func (drop (struct.new $s))))",
        "(module (type $s (struct)) (func (param anyref) (drop (ref.test (ref $s) (local.get 0)))))",
        "(module (func (param anyref) (result anyref) (local.get 0) (br_on_cast 0 anyref i31ref) (drop) (ref.null any)))",
    ] {
        Module::new(&engine, wat).expect(wat);
    }
}
