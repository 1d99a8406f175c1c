//! `Module::new` of a module large enough to be validated (and, eagerly, translated) on
//! several threads (`Config::parallel_compilation`, on by default) against the same module
//! compiled on one thread: the same functions, the same results, and for a bad module the
//! same error, that of its first bad function in module order, whichever thread meets
//! which bad function first.
//!
//! On a single-core machine both sides run on one thread and the tests still check that.

use wasmguard::{Config, Engine, ErrorKind, Instance, Module, Store, Val};

/// Functions in the generated module: with [`BODY_OPS`], about 150 KB of code, over the
/// 64 KiB a second thread needs.
const FUNCS: usize = 3000;
const BODY_OPS: usize = 12;

/// A module of [`FUNCS`] exported functions `f{k}: i32 -> i32`, function `k` returning
/// `x + k * BODY_OPS`, with function `k`'s body replaced by `bad(k)` where it is `Some`.
fn module_wat(bad: impl Fn(usize) -> Option<&'static str>) -> String {
    let mut wat = String::from("(module\n");
    for k in 0..FUNCS {
        wat.push_str(&format!("(func (export \"f{k}\") (param i32) (result i32)"));
        match bad(k) {
            Some(body) => wat.push_str(body),
            None => {
                wat.push_str(" local.get 0");
                for _ in 0..BODY_OPS {
                    wat.push_str(&format!(" i32.const {k} i32.add"));
                }
            }
        }
        wat.push_str(")\n");
    }
    wat.push(')');
    wat
}

fn engine(lazy: bool, parallel: bool) -> Engine {
    let mut config = Config::new();
    config.lazy_translation(lazy).parallel_compilation(parallel);
    Engine::new(&config).unwrap()
}

/// The four ways to compile: lazily or eagerly, on several threads or one.
const MODES: [(bool, bool); 4] = [(true, true), (true, false), (false, true), (false, false)];

/// `Module::new`'s error for `binary` in every mode, checked to be the same in all of them.
fn same_error_every_way(binary: &[u8]) -> wasmguard::Error {
    let errors: Vec<_> = MODES
        .iter()
        .map(|&(lazy, parallel)| {
            Module::new(&engine(lazy, parallel), binary)
                .map(|_| ())
                .expect_err(&format!("lazy={lazy} parallel={parallel}: the module compiled"))
        })
        .collect();
    for (e, (lazy, parallel)) in errors.iter().zip(MODES) {
        assert_eq!(e.to_string(), errors[1].to_string(), "lazy={lazy} parallel={parallel}");
    }
    errors.into_iter().next().unwrap()
}

#[test]
fn a_large_module_runs_the_same_compiled_on_several_threads() {
    let binary = wat::parse_str(module_wat(|_| None)).unwrap();
    for (lazy, parallel) in MODES {
        let engine = engine(lazy, parallel);
        let module = Module::new(&engine, &binary).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        for k in [0, 1, 777, 1500, 2222, FUNCS - 1] {
            let f = instance.get_typed_func::<i32, i32>(&mut store, &format!("f{k}")).unwrap();
            let expected = 5 + (k * BODY_OPS) as i32;
            assert_eq!(f.call(&mut store, 5).unwrap(), expected, "f{k}, lazy={lazy} parallel={parallel}");
        }
    }
}

#[test]
fn the_first_invalid_function_in_module_order_is_the_error() {
    // Two type errors, one early and one late: each thread may meet either first.
    for (first, second) in [(3, FUNCS - 2), (1200, 2900), (FUNCS - 1, FUNCS - 1)] {
        let binary = wat::parse_str(module_wat(|k| {
            if k == first {
                Some(" i64.const 1")
            } else if k == second {
                Some(" local.get 0 f32.neg")
            } else {
                None
            }
        }))
        .unwrap();
        let err = same_error_every_way(&binary);
        assert!(err.is_compile(), "{err}");
        assert!(err.to_string().contains("i64"), "function {first}'s error expected: {err}");
    }
}

#[test]
fn an_ill_typed_gc_operator_is_refused_the_same_way() {
    // `any.convert_extern` gives an `anyref`, which `i32.add` does not take.
    let binary =
        wat::parse_str(module_wat(|k| (k == 2500).then_some(" ref.null extern any.convert_extern i32.add"))).unwrap();
    let err = same_error_every_way(&binary);
    assert!(matches!(err.kind(), ErrorKind::Compile(_)), "{err:?}");
}

#[test]
fn an_invalid_function_comes_before_a_malformed_section_after_the_code() {
    let mut binary = wat::parse_str(module_wat(|k| (k == 2000).then_some(" i64.const 1"))).unwrap();
    // A data section (id 11) of 3 bytes: one segment whose flags are not a valid LEB128.
    binary.extend_from_slice(&[11, 3, 1, 0xff, 0xff]);
    let err = same_error_every_way(&binary);
    assert!(err.to_string().contains("i64"), "function 2000's error expected: {err}");

    // Without the invalid function, the malformed section is the error.
    let mut binary = wat::parse_str(module_wat(|_| None)).unwrap();
    binary.extend_from_slice(&[11, 3, 1, 0xff, 0xff]);
    let err = same_error_every_way(&binary);
    assert!(err.is_compile() && !err.to_string().contains("i64"), "{err}");
}

#[test]
fn fuel_and_results_agree_across_threads() {
    let binary = wat::parse_str(module_wat(|_| None)).unwrap();
    let mut fuel_left = Vec::new();
    for (lazy, parallel) in MODES {
        let mut config = Config::new();
        config.lazy_translation(lazy).parallel_compilation(parallel).consume_fuel(true);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, &binary).unwrap();
        let mut store = Store::new(&engine, ());
        store.set_fuel(1_000_000).unwrap();
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance.get_func(&mut store, "f2999").unwrap();
        let mut out = [Val::I32(0)];
        f.call(&mut store, &[Val::I32(1)], &mut out).unwrap();
        assert_eq!(out[0].i32(), Some(1 + 2999 * BODY_OPS as i32));
        fuel_left.push(store.get_fuel().unwrap());
    }
    assert!(fuel_left.windows(2).all(|w| w[0] == w[1]), "{fuel_left:?}");
}
