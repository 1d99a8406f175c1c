//! Hostile inputs (malformed, huge, deep, recursive): each must give an error or trap, or succeed; never panic.

use wasmguard::Tag;
use wasmguard::{
    Caller, Config, Engine, Error, Extern, ExternType, Func, Global, GlobalType, Instance, Linker, Memory, Module,
    Mutability, Store, StoreLimits, Table, TrapCode, Val, ValType,
};

type Result<T = ()> = wasmguard::Result<T>;

// ---------------------------------------------------------------------------------------------
// Helpers: a tiny binary encoder and a deterministic pseudo-random generator
// ---------------------------------------------------------------------------------------------

const HEADER: &[u8] = b"\0asm\x01\0\0\0";

/// Unsigned LEB128.
fn leb(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A section: id, LEB size, payload.
fn section(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![id];
    out.extend(leb(payload.len() as u64));
    out.extend_from_slice(payload);
    out
}

/// A binary module: the header followed by `sections`.
fn binary(sections: &[Vec<u8>]) -> Vec<u8> {
    let mut out = HEADER.to_vec();
    for s in sections {
        out.extend_from_slice(s);
    }
    out
}

/// Concatenates byte pieces.
fn cat(pieces: &[&[u8]]) -> Vec<u8> {
    pieces.concat()
}

/// Type section with one type `(func)`; function section with one function of it.
fn one_func_prelude() -> [Vec<u8>; 2] {
    [section(1, &[1, 0x60, 0, 0]), section(3, &[1, 0])]
}

/// A code section holding one function body (`body` is the locals vector plus the code).
fn code_section(body: &[u8]) -> Vec<u8> {
    section(10, &cat(&[&[1], &leb(body.len() as u64), body]))
}

/// xorshift64*: deterministic, good enough to shake a decoder.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A module using most of the instruction set, the seed for truncation and mutation.
const SEED: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (memory (export "mem") 1 2)
  (table (export "tab") 4 funcref)
  (global $g (export "g") (mut i32) (i32.const 7))
  (elem (i32.const 0) $sq $fac)
  (data (i32.const 16) "hostile\00")
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func $fac (type $t)
    (if (result i32) (i32.le_s (local.get 0) (i32.const 1)) (then (i32.const 1))
      (else (i32.mul (local.get 0) (call $fac (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "run") (param i32 i64 f32 f64) (result i32) (local i32)
    (block $b (loop $l
      (br_if $b (i32.ge_u (local.get 4) (i32.const 10)))
      (i32.store8 (i32.add (local.get 4) (i32.const 32)) (local.get 4))
      (local.set 4 (i32.add (local.get 4) (i32.const 1)))
      (br $l)))
    (global.set $g (i32.wrap_i64 (i64.add (local.get 1) (i64.trunc_sat_f64_s (local.get 3)))))
    (drop (memory.grow (i32.const 1)))
    (memory.fill (i32.const 64) (i32.const 1) (i32.const 8))
    (memory.copy (i32.const 80) (i32.const 16) (i32.const 8))
    (block (br_table 0 0 0 (i32.const 1)))
    (i32.add (call_indirect (type $t) (local.get 0) (i32.and (local.get 0) (i32.const 1)))
      (i32.trunc_sat_f32_u (local.get 2))))
  (func (export "mem_ops") (result i64)
    (i64.add (i64.load offset=3 (i32.const 16)) (i64.extend_i32_u (i32.load16_s (i32.const 18))))))"#;

/// A second seed: reference types, bulk table and memory operations, multi-value blocks, and imports.
const SEED_REFS: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (type $pair (func (param i32 i32) (result i32 i32)))
  (import "env" "unused" (global i32))
  (memory (export "mem") 1 3)
  (table $tf (export "tab") 4 8 funcref)
  (table $te 2 externref)
  (global $g (export "g") (mut i64) (i64.const -7))
  (global $f (mut f64) (f64.const 1.5))
  (elem $p func $sq $swap)
  (elem (table $tf) (i32.const 0) func $sq)
  (elem declare func $fac)
  (data $d "abcdefgh")
  (data (i32.const 100) "\ff\fe\fd")
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func $swap (param i32 i32) (result i32 i32) local.get 1 local.get 0)
  (func $fac (type $t)
    (if (result i32) (i32.le_s (local.get 0) (i32.const 1)) (then (i32.const 1))
      (else (i32.mul (local.get 0) (call $fac (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "a") (param i32 i64 f32 f64) (result i32 f64) (local i32)
    (table.init $tf $p (i32.const 1) (i32.const 0) (i32.const 2))
    (memory.init $d (i32.const 200) (i32.const 2) (i32.const 4))
    (data.drop $d) (elem.drop $p)
    (table.copy $tf $tf (i32.const 2) (i32.const 0) (i32.const 2))
    (table.set $te (i32.const 1) (table.get $te (i32.const 0)))
    (drop (table.grow $tf (ref.func $fac) (i32.const 1)))
    (drop (table.size $tf))
    (table.fill $tf (i32.const 3) (ref.null func) (i32.const 1))
    (local.set 4 (select (i32.const 1) (i32.const 2) (local.get 0)))
    (drop (select (result f64) (f64.const 1) (f64.const 2) (i32.const 0)))
    (i32.const 5)
    (block $b (param i32) (result i32) (br_table $b $b (local.get 0)))
    (loop $l (param i32) (result i32) (i32.add (i32.const 1)) (br_if $l (i32.lt_u (i32.const 0) (i32.const 0))))
    drop
    (global.set $g (i64.rotl (global.get $g) (i64.extend_i32_s (i32.popcnt (local.get 0)))))
    (global.set $f (f64.add (global.get $f) (f64.promote_f32 (f32.sqrt (local.get 2)))))
    (i64.store32 offset=7 align=1 (i32.const 300) (i64.clz (local.get 1)))
    (f32.store (i32.const 320) (f32.convert_i64_u (i64.load16_u (i32.const 100))))
    (drop (i32.extend8_s (i32.load8_s (i32.const 101))))
    (call $swap (i32.const 1) (i32.const 2))
    (call_indirect $tf (type $pair) (i32.const 1))
    i32.sub drop
    (i32.trunc_f64_s (f64.floor (f64.nearest (local.get 3))))
    (f64.copysign (global.get $f) (f64.neg (local.get 3))))
  (func (export "b") (result i32) (local i32)
    (loop $x (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br_if $x (i32.lt_u (local.get 0) (i32.const 50))))
    (if (i32.eqz (ref.is_null (table.get $tf (i32.const 0)))) (then (return (i32.const 9))))
    (memory.copy (i32.const 0) (i32.const 65000) (i32.const 600))
    (i32.wrap_i64 (i64.div_s (i64.const 100) (i64.extend_i32_u (memory.size))))))"#;

/// Runs every exported function of a compiled module under fuel, with zero arguments.
/// Anything may fail; nothing may panic.
fn run_everything(engine: &Engine, module: &Module) {
    let mut store = Store::new(engine, ());
    store.set_limits(StoreLimits { memory_size_bytes: 1 << 24, table_elements: 1 << 16, ..StoreLimits::default() });
    store.set_fuel(20_000).expect("fuel is enabled");
    let imports: Option<Vec<Extern>> = module.imports().map(|(_, _, ty)| import_for(&mut store, ty)).collect();
    let Some(Ok(instance)) = imports.map(|imports| Instance::new(&mut store, module, &imports)) else {
        return;
    };
    let funcs: Vec<_> = instance.exports(&mut store).filter_map(|e| e.into_extern().into_func()).collect();
    for f in funcs {
        let ty = f.ty(&store);
        if ty.params().chain(ty.results()).any(|t| t == ValType::V128) {
            continue;
        }
        let params: Vec<Val> = ty.params().map(Val::default_for).collect();
        let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
        store.set_fuel(20_000).expect("fuel is enabled");
        let _ = f.call(&mut store, &params, &mut results);
    }
}

/// A host object of type `ty` to satisfy an import (functions return zeros).
fn import_for(store: &mut Store<()>, ty: ExternType) -> Option<Extern> {
    Some(match ty {
        ExternType::Func(f) => Func::new(&mut *store, f.clone(), move |_, _, results| {
            for (r, t) in results.iter_mut().zip(f.results()) {
                *r = Val::default_for(t);
            }
            Ok(())
        })
        .into(),
        ExternType::Global(g) => Global::new(store, g, Val::default_for(g.content())).ok()?.into(),
        ExternType::Memory(m) => Memory::new(store, m).ok()?.into(),
        ExternType::Table(t) => Table::new(store, t, Val::default_for(t.element().into())).ok()?.into(),
        ExternType::Tag(t) => Tag::new(store, &t).ok()?.into(),
    })
}

/// Compiles `wat` and instantiates it without imports in a fresh store.
fn instantiate(wat: &str) -> Result<(Store<()>, Instance)> {
    let engine = Engine::default();
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

fn fuel_engine() -> Engine {
    Engine::new(Config::new().consume_fuel(true)).expect("engine")
}

// ---------------------------------------------------------------------------------------------
// Random, truncated and mutated bytes
// ---------------------------------------------------------------------------------------------

#[test]
fn seed_module_runs() -> Result {
    let engine = fuel_engine();
    let module = Module::new(&engine, SEED)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000_000)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let run = instance.get_typed_func::<(i32, i64, f32, f64), i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, (3, 2, 5.0, 4.0))?, 6 + 5, "fac(3) + 5");
    assert_eq!(instance.get_global(&mut store, "g").expect("g").get(&store).i32(), Some(6));
    Ok(())
}

#[test]
fn random_bytes_never_panic() {
    let engine = fuel_engine();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..20_000 {
        let len = rng.below(96);
        let mut bytes: Vec<u8> = if i % 2 == 0 { HEADER.to_vec() } else { Vec::new() };
        bytes.extend((0..len).map(|_| rng.next() as u8));
        if let Ok(module) = Module::new(&engine, &bytes) {
            run_everything(&engine, &module);
        }
    }
    // Random text, too.
    let alphabet = b"()$\" \n;0123456789abcdefimnoprstuxl.=_";
    for _ in 0..5_000 {
        let len = rng.below(64);
        let text: Vec<u8> = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        let _ = Module::new(&engine, &text);
    }
}

#[test]
fn truncated_modules_never_panic() {
    let engine = fuel_engine();
    for seed in [SEED, SEED_REFS] {
        let full = wat::parse_str(seed).expect("seed");
        assert!(Module::new(&engine, &full).is_ok());
        for len in 0..full.len() {
            let prefix = &full[..len];
            match Module::new(&engine, prefix) {
                Ok(module) => run_everything(&engine, &module),
                Err(err) => assert!(err.is_compile(), "truncated at {len}: {err}"),
            }
        }
        for len in 0..seed.len() {
            let _ = Module::new(&engine, &seed.as_bytes()[..len]);
        }
    }
}

#[test]
fn mutated_modules_never_panic_and_always_end() {
    let engine = fuel_engine();
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for seed in [SEED, SEED_REFS] {
        let full = wat::parse_str(seed).expect("seed");
        let mut compiled = 0;
        for _ in 0..5_000 {
            let mut bytes = full.clone();
            for _ in 0..1 + rng.below(3) {
                let at = HEADER.len() + rng.below(bytes.len() - HEADER.len());
                match rng.below(5) {
                    0 => bytes[at] ^= 1 << rng.below(8),
                    1 => bytes[at] = rng.next() as u8,
                    2 => bytes[at] = [0x00, 0x7F, 0x80, 0xFF, 0x41, 0x0B, 0x40, 0x01][rng.below(8)],
                    3 => bytes.insert(at, rng.next() as u8),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            if let Ok(module) = Module::new(&engine, &bytes) {
                compiled += 1;
                run_everything(&engine, &module);
            }
        }
        assert!(compiled > 100, "only {compiled} mutants compiled: the mutator is too destructive to be useful");
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written binaries with huge counts and lengths
// ---------------------------------------------------------------------------------------------

#[test]
fn huge_counts_and_lengths_are_clean_errors() {
    let engine = Engine::default();
    let max32 = leb(u64::from(u32::MAX));
    let [types, funcs] = one_func_prelude();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("type section claiming 4 Gi types", binary(&[section(1, &max32)])),
        ("section size of 4 GiB", cat(&[HEADER, &[1], &max32])),
        ("section size beyond u32", cat(&[HEADER, &[1], &[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]])),
        ("over-long LEB", cat(&[HEADER, &[1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]])),
        ("import count 4 Gi", binary(&[section(2, &max32)])),
        ("import name of 4 GiB", binary(&[section(2, &cat(&[&[1], &max32, b"m"]))])),
        ("function count 4 Gi", binary(&[types.clone(), section(3, &max32)])),
        ("table count 4 Gi", binary(&[section(4, &max32)])),
        ("memory count 4 Gi", binary(&[section(5, &max32)])),
        ("memory of 4 Gi pages", binary(&[section(5, &cat(&[&[1, 0], &max32]))])),
        ("memory max below min", binary(&[section(5, &[1, 1, 2, 1])])),
        ("global count 4 Gi", binary(&[section(6, &max32)])),
        ("export count 4 Gi", binary(&[section(7, &max32)])),
        ("start of a missing function", binary(&[section(8, &max32)])),
        ("element count 4 Gi", binary(&[section(9, &max32)])),
        ("element with 4 Gi functions", binary(&[section(9, &cat(&[&[1, 0, 0x41, 0, 0x0B], &max32]))])),
        ("code count 4 Gi", binary(&[types.clone(), funcs.clone(), section(10, &max32)])),
        ("body of 4 GiB", binary(&[types.clone(), funcs.clone(), section(10, &cat(&[&[1], &max32]))])),
        ("4 Gi locals", binary(&[types.clone(), funcs.clone(), code_section(&cat(&[&[1], &max32, &[0x7F, 0x0B]]))])),
        (
            "local counts summing past u32",
            binary(&[
                types.clone(),
                funcs.clone(),
                code_section(&cat(&[&[2], &leb(1 << 31), &[0x7F], &leb(1 << 31), &[0x7F, 0x0B]])),
            ]),
        ),
        (
            "br_table with 4 Gi targets",
            binary(&[types.clone(), funcs.clone(), code_section(&cat(&[&[0, 0x41, 0, 0x0E], &max32, &[0, 0x0B]]))]),
        ),
        (
            "select with 4 Gi types",
            binary(&[types.clone(), funcs.clone(), code_section(&cat(&[&[0, 0x1C], &max32, &[0x0B]]))]),
        ),
        ("data count 4 Gi", binary(&[section(11, &max32)])),
        (
            "data segment of 4 GiB",
            binary(&[section(5, &[1, 0, 1]), section(11, &cat(&[&[1, 0, 0x41, 0, 0x0B], &max32]))]),
        ),
        ("data count section mismatch", binary(&[section(12, &max32), section(11, &[0])])),
        ("custom section name of 4 GiB", binary(&[section(0, &max32)])),
        ("unknown section id", binary(&[section(0x42, &[])])),
        ("sections out of order", binary(&[funcs.clone(), types.clone()])),
        ("duplicate section", binary(&[types.clone(), types.clone()])),
        ("function without code", binary(&[types.clone(), funcs.clone()])),
        ("type with 4 Gi params", binary(&[section(1, &cat(&[&[1, 0x60], &max32]))])),
        (
            "block type index 4 Gi",
            binary(&[types, funcs, code_section(&cat(&[&[0, 0x02], &leb(u64::from(u32::MAX >> 1)), &[0x0B, 0x0B]]))]),
        ),
    ];
    for (what, bytes) in cases {
        let err = Module::new(&engine, &bytes).expect_err(what);
        assert!(err.is_compile(), "{what}: {err}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn huge_custom_and_name_sections_are_ignored_or_refused() {
    let engine = Engine::default();
    // A well-formed name section whose function-name map claims 4 Gi entries.
    let mut payload = cat(&[&[4], b"name"]);
    let subsection = leb(u64::from(u32::MAX));
    payload.extend([1]);
    payload.extend(leb(subsection.len() as u64));
    payload.extend(subsection);
    let [types, funcs] = one_func_prelude();
    let bytes = binary(&[types, funcs, code_section(&[0, 0x0B]), section(0, &payload)]);
    // Custom sections may be ignored (success) or reported; either is fine.
    let _ = Module::new(&engine, &bytes);
    // A large but well-formed custom section.
    let big = cat(&[&[6], b"custom", &vec![0xAB; 4 << 20]]);
    assert!(Module::new(&engine, binary(&[section(0, &big)])).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Deep nesting, many locals, deep operand stacks
// ---------------------------------------------------------------------------------------------

#[test]
fn hundred_thousand_nested_blocks() -> Result {
    const DEPTH: usize = 100_000;
    let engine = Engine::default();
    let mut wat = String::from("(module (func (export \"f\") (param i32) (result i32)\n");
    for _ in 0..DEPTH {
        wat.push_str("block\n");
    }
    wat.push_str("local.get 0\nbr_if 50000\n");
    for _ in 0..DEPTH {
        wat.push_str("end\n");
    }
    wat.push_str("i32.const 7))");
    let module = Module::new(&engine, &wat)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let f = instance.get_typed_func::<i32, i32>(&mut store, "f")?;
    assert_eq!(f.call(&mut store, 0)?, 7);
    assert_eq!(f.call(&mut store, 1)?, 7);

    // The same depth of `loop` and `if`, in the binary format.
    let mut body = vec![0];
    for i in 0..DEPTH {
        body.extend(if i % 2 == 0 { vec![0x03, 0x40] } else { vec![0x41, 1, 0x04, 0x40] });
    }
    body.extend(std::iter::repeat_n(0x0B, DEPTH + 1));
    let [types, funcs] = one_func_prelude();
    let module = Module::new(&engine, binary(&[types, funcs, section(7, &[1, 1, b'g', 0, 0]), code_section(&body)]))?;
    let instance = Instance::new(&mut store, &module, &[])?;
    instance.get_typed_func::<(), ()>(&mut store, "g")?.call(&mut store, ())?;
    Ok(())
}

#[test]
fn deeply_nested_folded_text_does_not_crash() {
    // The text parser may refuse deep folded expressions, but must not overflow the stack.
    let depth = 100_000;
    let wat = format!("(module (func {} nop {}))", "(block ".repeat(depth), ")".repeat(depth));
    let _ = Module::new(&Engine::default(), wat);
}

#[test]
fn deep_operand_stack() -> Result {
    const N: usize = 100_000;
    let mut wat = String::from("(module (func (export \"f\") (result i32)\n");
    wat.push_str(&"i32.const 1\n".repeat(N));
    wat.push_str(&"i32.add\n".repeat(N - 1));
    wat.push_str("))");
    let (mut store, instance) = instantiate(&wat)?;
    assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "f")?.call(&mut store, ())?, N as i32);
    Ok(())
}

#[test]
fn fifty_thousand_locals() -> Result {
    let wat = r#"(module (func (export "f") (param i32) (result i64) (local i32) (local i64 i64) (local LOCALS f64)
                   (local.set 49999 (f64.const 1.5))
                   (local.set 2 (i64.extend_i32_u (local.get 0)))
                   (i64.add (local.get 2) (i64.trunc_f64_s (local.get 49999)))))"#;
    // 1 param + 4 + 49,995 = 50,000 locals in all (wasmparser's limit).
    let (mut store, instance) = instantiate(&wat.replace("LOCALS", &"f64 ".repeat(49_995)))?;
    let f = instance.get_typed_func::<i32, i64>(&mut store, "f")?;
    assert_eq!(f.call(&mut store, 40)?, 41);
    assert_eq!(f.call(&mut store, 1)?, 2, "locals are zeroed on every call");

    // Recursion with 50,000 locals per frame exhausts the value stack: a trap, not a crash.
    let rec = r#"(module (func $r (export "r") (param i32) (local LOCALS i32)
                   (local.set 1 (i64.extend_i32_u (local.get 0)))
                   (call $r (i32.add (local.get 0) (i32.const 1)))))"#;
    let (mut store, instance) = instantiate(&rec.replace("LOCALS", &"i64 ".repeat(49_998)))?;
    let r = instance.get_typed_func::<i32, ()>(&mut store, "r")?;
    assert_eq!(r.call(&mut store, 0).unwrap_err().trap_code(), Some(TrapCode::StackOverflow));

    // One more local is a clean compile error.
    let too_many = format!("(module (func (local {})))", "i32 ".repeat(50_001));
    assert!(Module::new(&Engine::default(), too_many).unwrap_err().is_compile());
    Ok(())
}

#[test]
fn thousand_params_and_results() -> Result {
    let params = "i32 ".repeat(1000);
    let results = "i32 ".repeat(1000);
    let gets: String = (0..1000).rev().map(|i| format!("local.get {i} ")).collect();
    let wat = format!(r#"(module (func (export "rev") (param {params}) (result {results}) {gets}))"#);
    let (mut store, instance) = instantiate(&wat)?;
    let f = instance.get_func(&mut store, "rev").expect("rev");
    let args: Vec<Val> = (0..1000).map(Val::I32).collect();
    let mut out = vec![Val::I32(0); 1000];
    f.call(&mut store, &args, &mut out)?;
    assert!(out.iter().enumerate().all(|(i, v)| v.i32() == Some(999 - i as i32)));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Huge memories and tables
// ---------------------------------------------------------------------------------------------

#[test]
fn memory_of_65536_pages_instantiates_or_fails_cleanly() {
    let wat = r#"(module (memory (export "mem") 65536)
                   (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
                   (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
                   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("a 4 GiB memory is valid");
    let mut store = Store::new(&engine, ());
    let instance = match Instance::new(&mut store, &module, &[]) {
        Ok(instance) => instance,
        Err(err) => {
            assert!(err.trap_code().is_none(), "{err}");
            return; // the host could not give 4 GiB: a clean failure is allowed
        }
    };
    let mem = instance.get_memory(&mut store, "mem").expect("mem");
    assert_eq!(mem.size(&store), 65_536);
    assert_eq!(mem.data_size(&store) as u64, 1 << 32);
    let poke = instance.get_typed_func::<(u32, u32), ()>(&mut store, "poke").expect("poke");
    let peek = instance.get_typed_func::<u32, u32>(&mut store, "peek").expect("peek");
    poke.call(&mut store, (0xFFFF_FFFC, 0xA5A5_5A5A)).expect("last word is in bounds");
    assert_eq!(peek.call(&mut store, 0xFFFF_FFFC).expect("peek"), 0xA5A5_5A5A);
    let err = peek.call(&mut store, 0xFFFF_FFFD).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds));
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").expect("grow");
    assert_eq!(grow.call(&mut store, 1).expect("grow"), -1);
    assert_eq!(grow.call(&mut store, 0).expect("grow"), 65_536);
}

#[test]
fn memory_grow_to_the_4gib_limit() -> Result {
    let wat = r#"(module (memory (export "mem") 1)
                   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    let (mut store, instance) = instantiate(wat)?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 65_536)?, -1, "one page past 4 GiB");
    assert_eq!(grow.call(&mut store, -1)?, -1, "0xFFFF_FFFF pages");
    assert_eq!(grow.call(&mut store, i32::MIN)?, -1);
    match grow.call(&mut store, 65_535)? {
        1 => {
            assert_eq!(grow.call(&mut store, 0)?, 65_536);
            assert_eq!(grow.call(&mut store, 1)?, -1, "already at 4 GiB");
        }
        -1 => assert_eq!(grow.call(&mut store, 0)?, 1, "a failed grow changes nothing"),
        other => panic!("memory.grow returned {other}"),
    }

    // Under a store limit, growth fails exactly at the limit, without allocating.
    let (mut store, instance) = instantiate(wat)?;
    store.set_limits(StoreLimits { memory_size_bytes: 1 << 30, ..StoreLimits::default() });
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 16_384)?, -1);
    assert_eq!(grow.call(&mut store, 16_383)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1);
    assert_eq!(grow.call(&mut store, 0)?, 16_384);
    Ok(())
}

#[test]
fn table_of_ten_million_elements() -> Result {
    let wat = r#"(module (table (export "t") 10000000 funcref)
                   (func $f (result i32) i32.const 3)
                   (elem (i32.const 9999999) $f)
                   (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
                   (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let instance = match Instance::new(&mut store, &module, &[]) {
        Ok(instance) => instance,
        Err(err) => {
            assert!(err.trap_code().is_none(), "{err}");
            return Ok(());
        }
    };
    let t = instance.get_table(&mut store, "t").expect("t");
    assert_eq!(t.size(&store), 10_000_000);
    let call = instance.get_typed_func::<i32, i32>(&mut store, "call")?;
    assert_eq!(call.call(&mut store, 9_999_999)?, 3);
    assert_eq!(call.call(&mut store, 5).unwrap_err().trap_code(), Some(TrapCode::IndirectCallToNull));
    assert_eq!(call.call(&mut store, 10_000_000).unwrap_err().trap_code(), Some(TrapCode::TableOutOfBounds));
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, -1)?, -1);
    assert_eq!(grow.call(&mut store, 1)?, -1, "at the default store limit of 10 million");

    // Declared sizes beyond the store limit fail to instantiate, without allocating.
    for size in ["10000001", "4294967295"] {
        let module = Module::new(&engine, format!("(module (table {size} funcref))"))?;
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert!(err.trap_code().is_none(), "{err}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Recursion: deep, infinite, indirect, through the host
// ---------------------------------------------------------------------------------------------

const RECURSION: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $ind)
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
  (func $inf (export "inf") (param i32) (result i32) (call $inf (i32.add (local.get 0) (i32.const 1))))
  (func $ind (export "ind") (param i32) (result i32)
    (call_indirect (type $t) (i32.add (local.get 0) (i32.const 1)) (i32.const 0))))"#;

#[test]
fn hundred_thousand_deep_recursion_succeeds_by_default() -> Result {
    let (mut store, instance) = instantiate(RECURSION)?;
    let down = instance.get_typed_func::<i32, i32>(&mut store, "down")?;
    assert_eq!(down.call(&mut store, 100_000)?, 100_000);
    assert_eq!(down.call(&mut store, 10)?, 10);
    Ok(())
}

#[test]
fn infinite_recursion_is_a_stack_overflow_trap() -> Result {
    let (mut store, instance) = instantiate(RECURSION)?;
    for name in ["inf", "ind"] {
        let f = instance.get_typed_func::<i32, i32>(&mut store, name)?;
        let err = f.call(&mut store, 0).unwrap_err();
        assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{name}: {err}");
    }
    // The store is still usable afterwards.
    assert_eq!(instance.get_typed_func::<i32, i32>(&mut store, "down")?.call(&mut store, 3)?, 3);
    Ok(())
}

#[test]
fn infinite_recursion_in_the_start_function() {
    let engine = Engine::default();
    let module = Module::new(&engine, "(module (func $s (call $s)) (start $s))").expect("module");
    let mut store = Store::new(&engine, ());
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err}");
}

const REENTRANT: &str = r#"(module
  (import "host" "again" (func $again (param i32) (result i32)))
  (func $down (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (call $down (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "enter") (param i32) (result i32)
    (drop (call $down (i32.const 1000)))
    (i32.add (i32.const 1) (call $again (local.get 0)))))"#;

/// A linker whose `host.again(n)` calls the guest's `enter(n + 1)` again: unbounded
/// recursion through the host.
fn reentrant_linker(engine: &Engine) -> Linker<u32> {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("host", "again", |mut caller: Caller<'_, u32>, n: i32| -> Result<i32> {
            *caller.data_mut() = (*caller.data()).max(n as u32);
            let enter = caller.get_export("enter").and_then(|e| e.into_func()).ok_or_else(|| Error::msg("enter"))?;
            enter.typed::<i32, i32>(&caller)?.call(&mut caller, n + 1)
        })
        .expect("define host.again");
    linker
}

#[test]
fn host_wasm_host_recursion_ends_in_a_trap() -> Result {
    let engine = Engine::default();
    let module = Module::new(&engine, REENTRANT)?;
    let mut store = Store::new(&engine, 0_u32);
    let instance = reentrant_linker(&engine).instantiate(&mut store, &module)?;
    let enter = instance.get_typed_func::<i32, i32>(&mut store, "enter")?;
    let err = enter.call(&mut store, 0).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err}");
    assert!(*store.data() >= 10, "the host was re-entered only {} times", store.data());
    Ok(())
}

#[test]
fn host_wasm_host_recursion_on_a_small_thread_stack() {
    // However deep the host lets re-entry go, it must not overflow a modest native stack.
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| -> std::result::Result<Option<TrapCode>, String> {
            let engine = Engine::default();
            let module = Module::new(&engine, REENTRANT).map_err(|e| e.to_string())?;
            let mut store = Store::new(&engine, 0_u32);
            let instance = reentrant_linker(&engine).instantiate(&mut store, &module).map_err(|e| e.to_string())?;
            let enter = instance.get_typed_func::<i32, i32>(&mut store, "enter").map_err(|e| e.to_string())?;
            Ok(enter.call(&mut store, 0).err().and_then(|e| e.trap_code()))
        })
        .expect("spawn");
    let result = handle.join().expect("the thread must not panic");
    assert_eq!(result, Ok(Some(TrapCode::StackOverflow)));
}

#[test]
fn recursion_without_locals_is_bounded_by_the_value_stack() -> Result {
    // With the call depth effectively unlimited, the value-stack limit must still end the
    // recursion (and bound its memory): each frame must cost something. Fuel is only a
    // safety net so that this test fails cleanly instead of exhausting host memory.
    let engine = Engine::new(Config::new().max_call_depth(u32::MAX).max_stack_slots(1 << 16).consume_fuel(true))?;
    for wat in
        [r#"(module (func $f (export "f") (call $f)))"#, r#"(module (func $f (export "f") (local i32) (call $f)))"#]
    {
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        store.set_fuel(4_000_000)?;
        let instance = Instance::new(&mut store, &module, &[])?;
        let f = instance.get_typed_func::<(), ()>(&mut store, "f")?;
        let err = f.call(&mut store, ()).unwrap_err();
        assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{wat}: {err}");
    }
    Ok(())
}

#[test]
fn panicking_host_function_leaves_the_store_usable() -> Result {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "h" "p" (func $p (param i32)))
             (func (export "run") (param i32) (result i32)
               (if (local.get 0) (then (call $p (local.get 0)))) (i32.const 7)))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("h", "p", |x: i32| {
        if x != 0 {
            std::panic::panic_any(x);
        }
    })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    for i in 1..=150 {
        // The embedder catches the host's panic; it must reach it intact every time.
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.call(&mut store, i)));
        let payload = caught.expect_err("the host panic propagates");
        assert_eq!(payload.downcast_ref::<i32>(), Some(&i), "call {i}");
    }
    assert_eq!(run.call(&mut store, 0)?, 7, "the store is usable after caught panics");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Huge offsets and addresses
// ---------------------------------------------------------------------------------------------

#[test]
fn huge_data_and_element_segment_offsets() -> Result {
    let engine = Engine::default();
    let fails = [
        r#"(module (memory 1) (data (i32.const 0xFFFFFFFF) "ab"))"#,
        r#"(module (memory 1) (data (i32.const 0xFFFFFFFF) ""))"#,
        r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
        r#"(module (memory 1) (data (i32.const 65537) ""))"#,
        r#"(module (memory 0) (data (i32.const 0x80000000) "x"))"#,
        r#"(module (table 1 funcref) (func $f) (elem (i32.const 0xFFFFFFFF) $f))"#,
        r#"(module (table 1 funcref) (func $f) (elem (i32.const 1) $f $f))"#,
        r#"(module (table 0 funcref) (elem (i32.const 1) func))"#,
    ];
    for wat in fails {
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        let code = err.trap_code();
        assert!(matches!(code, Some(TrapCode::MemoryOutOfBounds | TrapCode::TableOutOfBounds)), "{wat}: {err}");
    }
    // An offset from an imported global.
    let module =
        Module::new(&engine, r#"(module (global (import "env" "g") i32) (memory 1) (data (global.get 0) "x"))"#)?;
    let mut store = Store::new(&engine, ());
    let g = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Const), Val::I32(-1))?;
    let err = Instance::new(&mut store, &module, &[g.into()]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds), "{err}");
    let fine = [
        r#"(module (memory 1) (data (i32.const 65536) ""))"#,
        r#"(module (memory 1) (data (i32.const 65534) "ab"))"#,
        r#"(module (table 1 funcref) (elem (i32.const 1) func))"#,
    ];
    for wat in fine {
        let module = Module::new(&engine, wat)?;
        Instance::new(&mut Store::new(&engine, ()), &module, &[])?;
    }
    Ok(())
}

#[test]
fn loads_and_stores_at_the_top_of_the_address_space() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module (memory 1) (data $d "xyz") (table 1 funcref) (elem $e func $nop) (func $nop)
             (func (export "load") (drop (i32.load offset=0xFFFFFFFF (i32.const 0xFFFFFFFF))))
             (func (export "load64") (drop (i64.load offset=0xFFFFFFFF (i32.const -8))))
             (func (export "load8") (drop (i32.load8_u offset=0xFFFFFFFF (i32.const 1))))
             (func (export "store") (i32.store offset=0xFFFFFFFF (i32.const 0xFFFFFFFF) (i32.const 1)))
             (func (export "store_end") (i64.store (i32.const 65529) (i64.const 1)))
             (func (export "f64_store") (f64.store offset=65535 (i32.const 0) (f64.const 1)))
             (func (export "fill") (memory.fill (i32.const 0xFFFFFFFF) (i32.const 0) (i32.const 2)))
             (func (export "fill_len") (memory.fill (i32.const 1) (i32.const 0) (i32.const 0xFFFFFFFF)))
             (func (export "copy") (memory.copy (i32.const 0) (i32.const 0xFFFFFFFF) (i32.const 0xFFFFFFFF)))
             (func (export "init") (memory.init $d (i32.const 0) (i32.const 1) (i32.const 0xFFFFFFFF)))
             (func (export "table_init") (table.init $e (i32.const 0) (i32.const 0) (i32.const 0xFFFFFFFF)))
             (func (export "table_copy") (table.copy (i32.const 0xFFFFFFFF) (i32.const 0) (i32.const 2)))
             (func (export "table_fill") (table.fill (i32.const 1) (ref.null func) (i32.const 0xFFFFFFFF)))
             (func (export "ok") (result i32) (i32.load8_u (i32.const 0))))"#,
    )?;
    let memory_oob = ["load", "load64", "load8", "store", "store_end", "f64_store", "fill", "fill_len", "copy", "init"];
    for name in memory_oob {
        let err = instance.get_typed_func::<(), ()>(&mut store, name)?.call(&mut store, ()).unwrap_err();
        assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds), "{name}: {err}");
    }
    for name in ["table_init", "table_copy", "table_fill"] {
        let err = instance.get_typed_func::<(), ()>(&mut store, name)?.call(&mut store, ()).unwrap_err();
        assert_eq!(err.trap_code(), Some(TrapCode::TableOutOfBounds), "{name}: {err}");
    }
    assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "ok")?.call(&mut store, ())?, 0);
    Ok(())
}
