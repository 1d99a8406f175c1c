//! Typed function references from the host's side: a module keeps a callback of a declared
//! type in a global, the host installs one (wasm or host-made: types are equal when their
//! definitions are), and a function of another type is refused before wasm code sees it.
//!
//! `cargo run --example typed_refs`

use wasmguard::{Engine, Func, HeapType, Instance, Module, Store, Val, ValType};

const MODULE: &str = r#"
(module
  (type $binop (func (param i32 i32) (result i32)))
  (func $add (export "add") (type $binop) (i32.add (local.get 0) (local.get 1)))
  (func $mul (export "mul") (type $binop) (i32.mul (local.get 0) (local.get 1)))
  ;; The callback: never null, so it starts as `add`.
  (global $op (export "op") (mut (ref $binop)) (ref.func $add))
  (func (export "apply") (param i32 i32) (result i32)
    (call_ref $binop (local.get 0) (local.get 1) (global.get $op))))
"#;

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let apply = instance.get_typed_func::<(i32, i32), i32>(&mut store, "apply")?;
    let op = instance.get_global(&mut store, "op").expect("exported global");

    // The global's type names the module's `$binop`, as the engine's canonical type.
    let ty = op.ty(&store).content();
    println!("op: {ty}");
    let ValType::Ref(r) = ty else { unreachable!("a reference global") };
    let HeapType::Concrete(binop) = r.heap_type() else { unreachable!("a typed reference") };
    println!("$binop is {}", engine.func_type(binop).expect("a function type"));
    println!("apply(6, 7) with add = {}", apply.call(&mut store, (6, 7))?);

    // Another function of the module's `$binop` goes in...
    let mul = instance.get_func(&mut store, "mul").expect("exported function");
    op.set(&mut store, Val::FuncRef(Some(mul)))?;
    println!("apply(6, 7) with mul = {}", apply.call(&mut store, (6, 7))?);

    // ...and so does a host closure of the same signature: `(type (func ...))` and the
    // host's `FuncType` of it are one type.
    let sub = Func::wrap(&mut store, |a: i32, b: i32| a - b);
    op.set(&mut store, Val::FuncRef(Some(sub)))?;
    println!("apply(6, 7) with a host sub = {}", apply.call(&mut store, (6, 7))?);

    // A function of another type does not go in, and null never does: `op` keeps `sub`.
    let negate = Func::wrap(&mut store, |a: i32| -a);
    for bad in [Val::FuncRef(Some(negate)), Val::FuncRef(None)] {
        let err = op.set(&mut store, bad).expect_err("refused");
        println!("refused: {err}");
    }
    assert_eq!(apply.call(&mut store, (6, 7))?, -1);
    Ok(())
}
