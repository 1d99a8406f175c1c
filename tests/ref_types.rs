//! The WebAssembly 3.0 type system through the public API: typed function references are
//! checked against their declared types everywhere the host hands a value in, types are
//! equivalent across modules when their recursive groups are, and subtypes are accepted
//! where the specification accepts them.

use wasmguard::{
    Config, Engine, Error, ExternType, Func, FuncType, Global, GlobalType, HeapType, Instance, Linker, Module,
    Mutability, RefType, Store, Table, TableType, TrapCode, Val, ValType,
};

fn instantiate(store: &mut Store<()>, linker: &Linker<()>, wat: &str) -> Result<Instance, Error> {
    let module = Module::new(store.engine(), wat::parse_str(wat).unwrap())?;
    linker.instantiate(&mut *store, &module)
}

/// Exports a table whose functions have the second type of a recursive group.
const PROVIDER: &str = r#"
(module
  (rec (type $a (func (param (ref null $b)) (result i32))) (type $b (func (param (ref null $a)) (result i32))))
  (func $f (type $b) (i32.const 7))
  (table (export "table") funcref (elem $f)))
"#;

#[test]
fn equivalent_recursive_groups_of_two_modules_are_one_type() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let provider = instantiate(&mut store, &linker, PROVIDER).unwrap();
    let table = provider.get_table(&mut store, "table").unwrap();
    linker.define(&mut store, "p", "table", table).unwrap();
    // The same group, written again: `call_indirect` of its second type finds the function.
    let same = instantiate(
        &mut store,
        &linker,
        r#"(module
          (rec (type $x (func (param (ref null $y)) (result i32))) (type $y (func (param (ref null $x)) (result i32))))
          (import "p" "table" (table 1 funcref))
          (func (export "call") (result i32) (call_indirect (type $y) (ref.null $x) (i32.const 0))))"#,
    )
    .unwrap();
    let call = same.get_typed_func::<(), i32>(&mut store, "call").unwrap();
    assert_eq!(call.call(&mut store, ()).unwrap(), 7);

    // The same signatures in groups of one are different types (iso-recursive equivalence
    // compares whole groups), and the call is a signature mismatch.
    let split = instantiate(
        &mut store,
        &linker,
        r#"(module
          (type $x (func (param funcref) (result i32)))
          (rec (type $y (func (param (ref null $x)) (result i32))))
          (import "p" "table" (table 1 funcref))
          (func (export "call") (result i32) (call_indirect (type $y) (ref.null $x) (i32.const 0))))"#,
    )
    .unwrap();
    let call = split.get_typed_func::<(), i32>(&mut store, "call").unwrap();
    assert_eq!(call.call(&mut store, ()).unwrap_err().trap_code(), Some(TrapCode::BadSignature));
}

const SUBTYPES: &str = r#"
(module
  (type $super (sub (func (result i32))))
  (type $sub (sub final $super (func (result i32))))
  (func $f (export "f") (type $sub) (i32.const 1))
  (func $g (export "g") (type $super) (i32.const 2))
  (table (export "t") 2 (ref null $super))
  (global (export "sub") (ref null $sub) (ref.func $f))
  (global (export "var") (mut (ref null $super)) (ref.null $super))
  (elem declare func $f $g))
"#;

#[test]
fn an_import_may_be_a_subtype_of_what_is_declared() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let provider = instantiate(&mut store, &linker, SUBTYPES).unwrap();
    for name in ["f", "g", "sub", "var"] {
        let item = provider.get_export(&mut store, name).unwrap();
        linker.define(&mut store, "p", name, item).unwrap();
    }
    let types = r#"(type $super (sub (func (result i32)))) (type $sub (sub final $super (func (result i32))))"#;
    // A function of the subtype where the supertype is declared, and an immutable global
    // whose type is a subtype: both link.
    let ok = format!(
        r#"(module {types}
          (import "p" "f" (func (type $super)))
          (import "p" "sub" (global (ref null $super))))"#
    );
    instantiate(&mut store, &linker, &ok).unwrap();
    // The other way round, or a mutable global of another type, does not.
    for bad in [
        format!(r#"(module {types} (import "p" "g" (func (type $sub))))"#),
        format!(r#"(module {types} (import "p" "var" (global (mut (ref null $sub)))))"#),
        format!(r#"(module {types} (import "p" "sub" (global (ref $sub))))"#),
    ] {
        let err = instantiate(&mut store, &linker, &bad).unwrap_err();
        assert!(err.to_string().contains("incompatible import type"), "{err}");
    }
}

#[test]
fn call_indirect_accepts_a_function_of_a_subtype() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let instance = instantiate(
        &mut store,
        &Linker::new(&engine),
        r#"(module
          (type $super (sub (func (result i32))))
          (type $sub (sub $super (func (result i32))))
          (type $other (func (result i32)))
          (func $f (type $sub) (i32.const 5))
          (table funcref (elem $f))
          (func (export "super") (result i32) (call_indirect (type $super) (i32.const 0)))
          (func (export "sub") (result i32) (call_indirect (type $sub) (i32.const 0)))
          (func (export "other") (result i32) (call_indirect (type $other) (i32.const 0))))"#,
    )
    .unwrap();
    for (name, expected) in [("super", Some(5)), ("sub", Some(5)), ("other", None)] {
        let f = instance.get_typed_func::<(), i32>(&mut store, name).unwrap();
        match expected {
            Some(v) => assert_eq!(f.call(&mut store, ()).unwrap(), v),
            None => assert_eq!(f.call(&mut store, ()).unwrap_err().trap_code(), Some(TrapCode::BadSignature)),
        }
    }
}

#[test]
fn globals_and_tables_check_typed_references() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let instance = instantiate(&mut store, &Linker::new(&engine), SUBTYPES).unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    let g = instance.get_func(&mut store, "g").unwrap();
    let host = Func::wrap(&mut store, || 3i32);

    // `var` holds `(ref null $super)`: functions of `$super` and `$sub` and null go in,
    // a host function (whose type is its own) does not.
    let var = instance.get_global(&mut store, "var").unwrap();
    let ty = var.ty(&store).content();
    assert!(matches!(ty, ValType::Ref(r) if r.is_nullable() && matches!(r.heap_type(), HeapType::Concrete(_))));
    for ok in [Val::FuncRef(Some(f)), Val::FuncRef(Some(g)), Val::FuncRef(None)] {
        var.set(&mut store, ok).unwrap();
    }
    let err = var.set(&mut store, Val::FuncRef(Some(host))).unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err}");
    assert!(var.set(&mut store, Val::ExternRef(None)).is_err());

    // Tables check the same way, on set, grow and fill.
    let table = instance.get_table(&mut store, "t").unwrap();
    table.set(&mut store, 0, Val::FuncRef(Some(f))).unwrap();
    assert!(table.set(&mut store, 1, Val::FuncRef(Some(host))).is_err());
    assert!(table.grow(&mut store, 1, Val::FuncRef(Some(host))).is_err());
    assert!(matches!(table.get(&mut store, 0), Some(Val::FuncRef(Some(_)))));

    // A non-nullable global made by the host needs a function of its type.
    let sub = match instance.get_global(&mut store, "sub").unwrap().ty(&store).content() {
        ValType::Ref(r) => r.heap_type(),
        other => panic!("unexpected type {other}"),
    };
    let non_null = GlobalType::new(ValType::Ref(RefType::new(false, sub)), Mutability::Const);
    assert!(Global::new(&mut store, non_null, Val::FuncRef(None)).is_err());
    assert!(Global::new(&mut store, non_null, Val::FuncRef(Some(g))).is_err());
    Global::new(&mut store, non_null, Val::FuncRef(Some(f))).unwrap();
    let nullable = TableType::new(RefType::new(true, sub), 1, None);
    assert!(Table::new(&mut store, nullable, Val::FuncRef(Some(g))).is_err());
    Table::new(&mut store, nullable, Val::FuncRef(None)).unwrap();
}

#[test]
fn calls_check_typed_reference_arguments() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let instance = instantiate(
        &mut store,
        &Linker::new(&engine),
        r#"(module
          (type $t (func (result i32)))
          (func $seven (export "seven") (type $t) (i32.const 7))
          (func (export "is_null") (param (ref null $t)) (result i32) (ref.is_null (local.get 0)))
          (func (export "non_null") (param (ref $t)) (result i32) (ref.is_null (local.get 0))))"#,
    )
    .unwrap();
    let seven = instance.get_func(&mut store, "seven").unwrap();
    let other = Func::wrap(&mut store, |x: i32| x);
    let mut out = [Val::I32(-1)];
    let is_null = instance.get_func(&mut store, "is_null").unwrap();
    is_null.call(&mut store, &[Val::FuncRef(None)], &mut out).unwrap();
    assert_eq!(out[0].i32(), Some(1));
    is_null.call(&mut store, &[Val::FuncRef(Some(seven))], &mut out).unwrap();
    assert_eq!(out[0].i32(), Some(0));
    let err = is_null.call(&mut store, &[Val::FuncRef(Some(other))], &mut out).unwrap_err();
    assert!(err.to_string().contains("argument 0 must be (ref null $type"), "{err}");
    let non_null = instance.get_func(&mut store, "non_null").unwrap();
    assert!(non_null.call(&mut store, &[Val::FuncRef(None)], &mut out).is_err());
    non_null.call(&mut store, &[Val::FuncRef(Some(seven))], &mut out).unwrap();
    assert_eq!(out[0].i32(), Some(0));
}

#[test]
fn reference_types_have_one_spelling() {
    assert_eq!(ValType::Ref(RefType::FUNCREF), ValType::FuncRef);
    assert_eq!(ValType::from(RefType::EXTERNREF), ValType::ExternRef);
    assert!(matches!(ValType::from(RefType::FUNCREF), ValType::FuncRef));
    assert_ne!(ValType::Ref(RefType::new(false, HeapType::Func)), ValType::FuncRef);
    assert_eq!(ValType::Ref(RefType::new(false, HeapType::Func)).to_string(), "(ref func)");
    assert_eq!(ValType::Ref(RefType::new(true, HeapType::NoExtern)).to_string(), "(ref null noextern)");
    let mut set = std::collections::HashSet::new();
    set.insert(ValType::Ref(RefType::FUNCREF));
    assert!(set.contains(&ValType::FuncRef));
}

#[test]
fn module_types_report_typed_references() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (type $t (func (param i32)))
          (import "m" "g" (global (ref null $t)))
          (import "m" "f" (func (type $t)))
          (table (export "t") 1 (ref null func)))"#,
    )
    .unwrap();
    let imports: Vec<_> = module.imports().map(|(_, _, ty)| ty).collect();
    let ExternType::Global(g) = &imports[0] else { panic!("{imports:?}") };
    let ValType::Ref(r) = g.content() else { panic!("{g:?}") };
    let HeapType::Concrete(handle) = r.heap_type() else { panic!("{r:?}") };
    assert_eq!(engine.func_type(handle), Some(FuncType::new([ValType::I32], [])));
    assert_eq!(engine.concrete_type(&FuncType::new([ValType::I32], [])), handle);
    let (_, ExternType::Table(t)) = module.exports().next().unwrap() else { panic!() };
    assert_eq!(ValType::from(t.element()), ValType::FuncRef);
}

#[test]
fn wasm2_refuses_typed_references() {
    let mut config = Config::new();
    config.wasm2();
    let engine = Engine::new(&config).unwrap();
    let err = Module::new(&engine, r#"(module (type $t (func)) (func (param (ref $t))))"#).unwrap_err();
    assert!(err.to_string().contains("function references"), "{err}");
}
