//! Inputs found by the fuzz targets in `fuzz/`, replayed with the same steps as the target
//! that found them. A crash found by `execute` is stored as the `.wasm` module wasm-smith
//! made from it (`cargo run --example smith_to_wasm` in `fuzz/`), under
//! `tests/fuzz_regressions/<name>.wasm`; one found by `decode` as the raw input bytes.
//! A test stays `#[ignore = "fuzz bug: ..."]` until the engine is fixed.

use wasmguard::Tag;
use wasmguard::{
    Config, Engine, Extern, ExternType, Func, Global, Instance, Memory, Module, Store, StoreLimits, Table, TrapCode,
    Val,
};

/// Fuel for the start function and for each exported call, as in the fuzz targets.
const FUEL: u64 = 100_000;

/// The `decode` target: compile arbitrary bytes; an error is fine, a panic is not.
fn decode(bytes: &[u8]) {
    let _ = Module::new(&Engine::default(), bytes);
}

/// The `execute` target: compile, instantiate with dummy imports, call every exported
/// function with zeros, all under fuel. Errors and traps are fine, a panic is not.
/// Returns the outcome of each call (none if compiling or instantiating failed).
fn execute(wasm: &[u8]) -> Vec<wasmguard::Result<()>> {
    let engine = Engine::new(Config::new().consume_fuel(true).max_call_depth(1_000)).expect("engine");
    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimits { memory_size_bytes: 16 * 65_536, table_elements: 10_000, ..StoreLimits::default() });
    let Ok(module) = Module::new(&engine, wasm) else { return Vec::new() };
    let mut imports: Vec<Extern> = Vec::new();
    for (_, _, ty) in module.imports() {
        let import = match ty {
            ExternType::Func(ft) => {
                let results: Vec<_> = ft.results().collect();
                Ok(Func::new(&mut store, ft, move |_, _, out| {
                    for (slot, &t) in out.iter_mut().zip(&results) {
                        *slot = Val::default_for(t);
                    }
                    Ok(())
                })
                .into())
            }
            ExternType::Global(gt) => Global::new(&mut store, gt, Val::default_for(gt.content())).map(Extern::from),
            ExternType::Table(tt) => {
                Table::new(&mut store, tt, Val::default_for(tt.element().into())).map(Extern::from)
            }
            ExternType::Memory(mt) => Memory::new(&mut store, mt).map(Extern::from),
            ExternType::Tag(tt) => Tag::new(&mut store, &tt).map(Extern::from),
        };
        let Ok(import) = import else { return Vec::new() };
        imports.push(import);
    }
    store.set_fuel(FUEL).expect("fuel is on");
    let Ok(instance) = Instance::new(&mut store, &module, &imports) else { return Vec::new() };
    let funcs: Vec<Func> = instance.exports(&mut store).filter_map(|e| e.into_extern().into_func()).collect();
    let mut outcomes = Vec::new();
    for func in funcs {
        let ty = func.ty(&store);
        let params: Vec<Val> = ty.params().map(Val::default_for).collect();
        let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
        store.set_fuel(FUEL).expect("fuel is on");
        outcomes.push(func.call(&mut store, &params, &mut results));
    }
    outcomes
}

/// The bytes of `tests/fuzz_regressions/<name>.wasm`.
#[expect(dead_code, reason = "no regression is stored as a file yet; remove this with the first")]
fn input(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fuzz_regressions/{name}.wasm", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The replay driver itself works: every kind of import, a start function, and exports
/// that return, trap, and run out of fuel.
#[test]
fn execute_driver_smoke() {
    let outcomes = execute(
        br#"(module
          (import "env" "f" (func $f (param f32 f64) (result i64 i32)))
          (import "env" "g" (global i32))
          (import "env" "m" (memory 1 2))
          (import "env" "t" (table 1 funcref))
          (start $s)
          (func $s (drop (memory.grow (i32.const 1))))
          (func (export "ok") (param i32) (result i64) (drop (call $f (f32.const 1) (f64.const 2))))
          (func (export "trap") (i32.div_s (i32.const 1) (global.get 0)) drop)
          (func (export "spin") (loop br 0)))"#,
    );
    let traps: Vec<_> = outcomes.iter().map(|r| r.as_ref().err().map(wasmguard::Error::trap_code)).collect();
    assert_eq!(traps, [None, Some(Some(TrapCode::IntegerDivisionByZero)), Some(Some(TrapCode::OutOfFuel))]);
    decode(b"\0asm\x01\0\0\0\x01");
}

/// Found by `differential`: wasmi 2.0.0 returns `a` from `select(a, x, eqz(x))` when `x` is
/// non-zero (the shape wasm-smith uses to guard divisors). The right answer is `x`; this
/// keeps wasmguard's lowering of `select` with a fused or retargeted condition honest.
#[test]
fn differential_select_of_eqz_of_the_same_local() {
    let wasm = wat::parse_str(
        r#"(module
          (func (export "guard") (param i32) (result i32) (local i32)
            (local.set 1 (local.get 0))
            (i32.div_u (i32.const 524296)
              (select (i32.const 1) (local.get 1) (i32.eqz (local.get 1)))))
          (func (export "pick") (param i64) (result i64)
            (select (i64.const 5) (local.get 0) (i64.eqz (local.get 0)))))"#,
    )
    .expect("valid text");
    let engine = Engine::default();
    let module = Module::new(&engine, &wasm).expect("valid module");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("no imports");
    let guard = instance.get_typed_func::<u32, u32>(&mut store, "guard").expect("export");
    let pick = instance.get_typed_func::<i64, i64>(&mut store, "pick").expect("export");
    for (x, want) in [(0, 524_296), (1, 524_296), (7, 74_899), (524_297, 0)] {
        assert_eq!(guard.call(&mut store, x).expect("no trap"), want, "guard({x})");
    }
    for (x, want) in [(0, 5), (1, 1), (-9, -9)] {
        assert_eq!(pick.call(&mut store, x).expect("no trap"), want, "pick({x})");
    }
}
