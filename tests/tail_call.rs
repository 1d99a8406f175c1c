//! Tail calls run in constant space: a long chain of them needs no more frames than one call.
//! (Under Miri, which runs the interpreter's handlers on every path, the chain is shorter.)

use wasmguard::{Config, Engine, Instance, Module, Store, TrapCode};

const MUTUAL: &str = r#"
(module
  (type $t (func (param i32 i32) (result i32)))
  (table funcref (elem $odd_indirect))
  (func $even (export "even") (param $n i32) (param $acc i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call $odd (i32.sub (local.get $n) (i32.const 1)) (i32.add (local.get $acc) (i32.const 1))))))
  (func $odd (param $n i32) (param $acc i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call_indirect (type $t) (i32.sub (local.get $n) (i32.const 1)) (i32.add (local.get $acc) (i32.const 1)) (i32.const 0)))))
  (func $odd_indirect (type $t) (return_call $even (local.get 0) (local.get 1)))
  (func $plain (export "plain") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (call $plain (i32.sub (local.get $n) (i32.const 1)))))))
"#;

fn setup(depth: u32) -> (Store<()>, Instance) {
    let mut config = Config::new();
    config.max_call_depth(depth);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat::parse_str(MUTUAL).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn ten_million_mutual_tail_calls_run_in_a_call_depth_of_one_hundred() {
    let (mut store, instance) = setup(100);
    let even = instance.get_typed_func::<(i32, i32), i32>(&mut store, "even").unwrap();
    let n = if cfg!(miri) { 1_000 } else { 10_000_000 };
    assert_eq!(even.call(&mut store, (n, 0)).unwrap(), n);
}

#[test]
fn plain_calls_of_the_same_depth_exhaust_the_stack() {
    let (mut store, instance) = setup(100);
    let plain = instance.get_typed_func::<i32, i32>(&mut store, "plain").unwrap();
    let err = plain.call(&mut store, 1_000).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err}");
}

#[test]
fn tail_calls_are_refused_when_turned_off() {
    let mut config = Config::new();
    config.wasm_tail_call(false);
    let engine = Engine::new(&config).unwrap();
    let err = Module::new(&engine, wat::parse_str(MUTUAL).unwrap()).unwrap_err();
    assert!(err.to_string().contains("tail"), "{err}");
}
