//! The interpreter fuses common instruction sequences (a comparison and the branch that
//! consumes it, a constant and the operation that uses it, ...). These tests run every
//! comparison in each shape the fusions cover — result used as a value, branched on, branched
//! on through `eqz`, as an `if` condition (a branch when false), with a local or a constant
//! as second operand — over edge values
//! (NaNs, signed zeros, infinities, extremes) and check each against Rust's own comparison.

use wasmguard::{Engine, Instance, Linker, Module, Store, Val};

/// A store and an instance of the module `wat`.
fn instantiate(wat: &str) -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("module");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module).expect("instance");
    (store, instance)
}

/// The shapes of one comparison `x op y`; each function returns the comparison as 0 or 1.
fn shapes(ty: &str, op: &str, k: &str) -> String {
    format!(
        r#"
  (func (export "{op}_value") (param $x {ty}) (param $y {ty}) (result i32)
    ({ty}.{op} (local.get $x) (local.get $y)))
  (func (export "{op}_branch") (param $x {ty}) (param $y {ty}) (result i32)
    (block $yes
      (br_if $yes ({ty}.{op} (local.get $x) (local.get $y)))
      (return (i32.const 0)))
    (i32.const 1))
  (func (export "{op}_branch_not") (param $x {ty}) (param $y {ty}) (result i32)
    (block $no
      (br_if $no (i32.eqz ({ty}.{op} (local.get $x) (local.get $y))))
      (return (i32.const 1)))
    (i32.const 0))
  (func (export "{op}_if") (param $x {ty}) (param $y {ty}) (result i32)
    (if (result i32) ({ty}.{op} (local.get $x) (local.get $y)) (then (i32.const 1)) (else (i32.const 0))))
  (func (export "{op}_k_if") (param $x {ty}) (result i32)
    (if (result i32) ({ty}.{op} (local.get $x) ({ty}.const {k})) (then (i32.const 1)) (else (i32.const 0))))
  (func (export "{op}_k_value") (param $x {ty}) (result i32)
    ({ty}.{op} (local.get $x) ({ty}.const {k})))
  (func (export "{op}_k_branch") (param $x {ty}) (result i32)
    (block $yes
      (br_if $yes ({ty}.{op} (local.get $x) ({ty}.const {k})))
      (return (i32.const 0)))
    (i32.const 1))
  (func (export "{op}_k_branch_not") (param $x {ty}) (result i32)
    (block $no
      (br_if $no (i32.eqz ({ty}.{op} (local.get $x) ({ty}.const {k}))))
      (return (i32.const 1)))
    (i32.const 0))
  (func (export "{op}_k_swapped") (param $x {ty}) (result i32)
    (block $yes
      (br_if $yes ({ty}.{op} ({ty}.const {k}) (local.get $x)))
      (return (i32.const 0)))
    (i32.const 1))"#
    )
}

/// A comparison: its wat name and its meaning.
type Op<T> = (&'static str, fn(T, T) -> bool);

struct Case<T: 'static> {
    ty: &'static str,
    ops: &'static [Op<T>],
    values: Vec<T>,
    /// The constant used by the `_k` shapes, as wat text and as a value.
    k: (&'static str, T),
    to_val: fn(T) -> Val,
}

fn run<T: Copy + std::fmt::Debug + 'static>(case: Case<T>) {
    let body: String = case.ops.iter().map(|(op, _)| shapes(case.ty, op, case.k.0)).collect();
    let wat = format!("(module {body})");
    let (mut store, instance) = instantiate(&wat);
    let mut call = |name: String, args: &[Val]| -> bool {
        let f = instance.get_func(&mut store, &name).unwrap();
        let mut out = [Val::I32(0)];
        f.call(&mut store, args, &mut out).unwrap();
        match out[0] {
            Val::I32(0) => false,
            Val::I32(1) => true,
            ref other => panic!("{name}: {other:?}"),
        }
    };
    for &(op, f) in case.ops {
        for &x in &case.values {
            for &y in &case.values {
                let want = f(x, y);
                let args = [(case.to_val)(x), (case.to_val)(y)];
                for shape in ["value", "branch", "branch_not", "if"] {
                    assert_eq!(call(format!("{op}_{shape}"), &args), want, "{} {op} {x:?} {y:?} ({shape})", case.ty);
                }
            }
            let want = f(x, case.k.1);
            for shape in ["k_value", "k_branch", "k_branch_not", "k_if"] {
                let got = call(format!("{op}_{shape}"), &[(case.to_val)(x)]);
                assert_eq!(got, want, "{} {op} {x:?} k ({shape})", case.ty);
            }
            let got = call(format!("{op}_k_swapped"), &[(case.to_val)(x)]);
            assert_eq!(got, f(case.k.1, x), "{} {op} k {x:?} (swapped)", case.ty);
        }
    }
}

#[test]
fn i32_comparisons_in_every_fused_shape() {
    run(Case::<i32> {
        ty: "i32",
        ops: &I32_CMPS,
        values: vec![0, 1, -1, 7, 8, i32::MIN, i32::MAX, -8],
        k: ("7", 7),
        to_val: Val::I32,
    });
}

#[test]
fn i64_comparisons_in_every_fused_shape() {
    let ops: &[Op<i64>] = &[
        ("eq", |x, y| x == y),
        ("ne", |x, y| x != y),
        ("lt_s", |x, y| x < y),
        ("lt_u", |x, y| (x as u64) < (y as u64)),
        ("gt_s", |x, y| x > y),
        ("gt_u", |x, y| (x as u64) > (y as u64)),
        ("le_s", |x, y| x <= y),
        ("le_u", |x, y| (x as u64) <= (y as u64)),
        ("ge_s", |x, y| x >= y),
        ("ge_u", |x, y| (x as u64) >= (y as u64)),
    ];
    let values = vec![0, 1, -1, -5, 0xFFFF_FFFF, 1 << 32, i64::MIN, i64::MAX];
    // A negative constant (sign-extended immediate), one that only fits 64 bits, and one
    // that fits 32 bits unsigned but not signed.
    for k in [("-5", -5), ("0x100000000", 1 << 32), ("0xFFFFFFFF", 0xFFFF_FFFF)] {
        run(Case::<i64> { ty: "i64", ops, values: values.clone(), k, to_val: Val::I64 });
    }
}

#[test]
fn f64_comparisons_in_every_fused_shape() {
    run(Case::<f64> {
        ty: "f64",
        ops: &[
            ("eq", |x, y| x == y),
            ("ne", |x, y| x != y),
            ("lt", |x, y| x < y),
            ("gt", |x, y| x > y),
            ("le", |x, y| x <= y),
            ("ge", |x, y| x >= y),
        ],
        values: vec![0.0, -0.0, 1.5, -1.5, 4.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY],
        k: ("4.0", 4.0),
        to_val: |x| Val::F64(x.to_bits()),
    });
}

#[test]
fn f32_comparisons_in_every_fused_shape() {
    run(Case::<f32> {
        ty: "f32",
        ops: &[
            ("eq", |x, y| x == y),
            ("ne", |x, y| x != y),
            ("lt", |x, y| x < y),
            ("gt", |x, y| x > y),
            ("le", |x, y| x <= y),
            ("ge", |x, y| x >= y),
        ],
        values: vec![0.0, -0.0, 1.5, -1.5, f32::NAN, f32::INFINITY, f32::NEG_INFINITY],
        k: ("nan", f32::NAN),
        to_val: |x| Val::F32(x.to_bits()),
    });
}

/// Array elements: `base + (index << log2(size))` loaded and stored at every width the
/// fused handlers cover (and at one they do not), with offsets, addresses that wrap at 2^32,
/// and accesses that end just inside and just past the memory.
#[test]
fn array_element_loads_and_stores() {
    let wat = r#"(module
      (memory (export "memory") 1)
      (func (export "ld16s") (param $b i32) (param $i i32) (result i32)
        (i32.load16_s offset=2 (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 1)))))
      (func (export "ld16u") (param $b i32) (param $i i32) (result i32)
        (i32.load16_u (i32.add (i32.shl (local.get $i) (i32.const 1)) (local.get $b))))
      (func (export "ld32") (param $b i32) (param $i i32) (result i32)
        (i32.load offset=4 (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))
      (func (export "ldf32") (param $b i32) (param $i i32) (result f32)
        (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))
      (func (export "ld64") (param $b i32) (param $i i32) (result i64)
        (i64.load offset=8 (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3)))))
      (func (export "ld8_shift3") (param $b i32) (param $i i32) (result i32)
        (i32.load8_u (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3)))))
      (func (export "st16") (param $b i32) (param $i i32) (param $v i32)
        (i32.store16 offset=2 (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 1))) (local.get $v)))
      (func (export "st32") (param $b i32) (param $i i32) (param $v i32)
        (i32.store (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))) (local.get $v)))
      (func (export "st64") (param $b i32) (param $i i32) (param $v i64)
        (i64.store offset=16 (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))) (local.get $v)))
      ;; the stored value computed after the address (a temporary of its own)
      (func (export "st32_sum") (param $b i32) (param $i i32) (param $v i32)
        (i32.store (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))
          (i32.add (local.get $v) (local.get $i))))
      ;; the address kept in a local as well (`local.tee`)
      (func (export "ld32_tee") (param $b i32) (param $i i32) (result i32) (local $p i32)
        (i32.add
          (i32.load (local.tee $p (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))
          (local.get $p))))"#;
    let (mut store, instance) = instantiate(wat);
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(65536).map(|b| b.wrapping_mul(37) ^ 0x5a).collect();
    memory.write(&mut store, 0, &bytes).expect("fill");
    let le = |at: usize, n: usize| bytes[at..at + n].iter().rev().fold(0u64, |v, b| (v << 8) | u64::from(*b));
    let call = |store: &mut Store<()>, name: &str, args: &[Val]| -> Result<Val, String> {
        let f = instance.get_func(&mut *store, name).expect("export");
        let mut out = [Val::I32(0)];
        let n = f.ty(&*store).results().len();
        f.call(&mut *store, args, &mut out[..n]).map_err(|e| e.to_string())?;
        Ok(out[0].clone())
    };
    let ea = |b: u32, i: u32, shift: u32, offset: u32| u64::from(b.wrapping_add(i << shift)) + u64::from(offset);
    let pairs: &[(u32, u32)] = &[
        (0, 0),
        (100, 7),
        (65000, 100),
        (0, 16383),
        (0xffff_fff0, 8),           // wraps to 0x10
        (0x8000_0000, 0x2000_0000), // wraps to 0
        (65534, 0),
        (65535, 1),
        (0, 0x7fff_ffff),
        (65536, 0),
    ];
    for &(b, i) in pairs {
        let args = [Val::I32(b as i32), Val::I32(i as i32)];
        let check = |store: &mut Store<()>, name: &str, at: u64, n: usize, expect: &dyn Fn(u64) -> Val| {
            let got = call(store, name, &args);
            if at + n as u64 <= 65536 {
                let want = expect(le(at as usize, n));
                assert_eq!(format!("{:?}", got), format!("{:?}", Ok::<Val, String>(want)), "{name}({b:#x}, {i:#x})");
            } else {
                let err = got.expect_err(name);
                assert!(err.contains("out of bounds"), "{name}({b:#x}, {i:#x}): {err}");
            }
        };
        check(&mut store, "ld16s", ea(b, i, 1, 2), 2, &|v| Val::I32(v as u16 as i16 as i32));
        check(&mut store, "ld16u", ea(b, i, 1, 0), 2, &|v| Val::I32(v as i32));
        check(&mut store, "ld32", ea(b, i, 2, 4), 4, &|v| Val::I32(v as u32 as i32));
        check(&mut store, "ldf32", ea(b, i, 2, 0), 4, &|v| Val::F32(v as u32));
        check(&mut store, "ld64", ea(b, i, 3, 8), 8, &|v| Val::I64(v as i64));
        check(&mut store, "ld8_shift3", ea(b, i, 3, 0), 1, &|v| Val::I32(v as i32));
        let p = b.wrapping_add(i << 2);
        check(&mut store, "ld32_tee", ea(b, i, 2, 0), 4, &|v| Val::I32((v as u32).wrapping_add(p) as i32));
    }
    // Stores: write, then read back what changed (and that nothing else did).
    for &(b, i) in pairs {
        let v: u64 = 0x1122_3344_5566_7788 ^ u64::from(b) ^ (u64::from(i) << 17);
        let cases: [(&str, u64, usize, Val, u64); 4] = [
            ("st16", ea(b, i, 1, 2), 2, Val::I32(v as i32), v),
            ("st32", ea(b, i, 2, 0), 4, Val::I32(v as i32), v),
            ("st64", ea(b, i, 3, 16), 8, Val::I64(v as i64), v),
            ("st32_sum", ea(b, i, 2, 0), 4, Val::I32(v as i32), (v as u32).wrapping_add(i) as u64),
        ];
        for (name, at, n, arg, stored) in cases {
            memory.write(&mut store, 0, &bytes).expect("refill");
            let got = call(&mut store, name, &[Val::I32(b as i32), Val::I32(i as i32), arg]);
            let mut want = bytes.clone();
            if at + n as u64 <= 65536 {
                got.unwrap_or_else(|e| panic!("{name}({b:#x}, {i:#x}): {e}"));
                want[at as usize..at as usize + n].copy_from_slice(&stored.to_le_bytes()[..n]);
            } else {
                let err = got.expect_err(name);
                assert!(err.contains("out of bounds"), "{name}({b:#x}, {i:#x}): {err}");
            }
            let mut now = vec![0u8; 65536];
            memory.read(&store, 0, &mut now).expect("read back");
            assert!(now == want, "{name}({b:#x}, {i:#x}) changed the wrong bytes");
        }
    }
}

/// Bit fields: `(x >> k1) & k2` for shift amounts at and past the width (which wraps).
#[test]
fn bit_field_extraction() {
    let shifts = [0u32, 1, 5, 16, 31, 32, 33, 63];
    let masks = [0u32, 1, 0xff, 0x7fff_ffff, 0xffff_ffff];
    let mut funcs = String::new();
    for (si, s) in shifts.iter().enumerate() {
        for (mi, m) in masks.iter().enumerate() {
            funcs.push_str(&format!(
                "(func (export \"f{si}_{mi}\") (param $x i32) (result i32) \
                   (i32.and (i32.shr_u (local.get $x) (i32.const {s})) (i32.const {m})))\n\
                 (func (export \"g{si}_{mi}\") (param $x i32) (result i32) \
                   (i32.and (i32.const {m}) (i32.shr_u (local.get $x) (i32.const {s}))))\n"
            ));
        }
    }
    let (mut store, instance) = instantiate(&format!("(module {funcs})"));
    for x in [0u32, 1, 0x8000_0000, 0xdead_beef, 0xffff_ffff, 0x1234_5678] {
        for (si, s) in shifts.iter().enumerate() {
            for (mi, m) in masks.iter().enumerate() {
                for name in [format!("f{si}_{mi}"), format!("g{si}_{mi}")] {
                    let f = instance.get_typed_func::<u32, u32>(&mut store, &name).expect("export");
                    assert_eq!(f.call(&mut store, x).expect("call"), (x >> (s % 32)) & m, "{name}({x:#x})");
                }
            }
        }
    }
}

/// A load whose only use is a zero test by a branch, at every width, from `base + index`
/// (no offset) and from `base + offset`, branching when the value is zero and when it is
/// not: values zero only in some bytes, and loads that end past the memory.
#[test]
fn branches_on_loaded_values() {
    let loads = [
        ("i32.load8_u", "i32", 1usize),
        ("i32.load8_s", "i32", 1),
        ("i32.load16_u", "i32", 2),
        ("i32.load16_s", "i32", 2),
        ("i32.load", "i32", 4),
        ("i64.load", "i64", 8),
    ];
    let mut funcs = String::new();
    for (k, (load, ty, _)) in loads.iter().enumerate() {
        // `br_if` on the value itself exists only for i32 loads.
        let test_nez = if *ty == "i32" { String::from("(LOAD)") } else { format!("({ty}.ne (LOAD) ({ty}.const 0))") };
        for (mode, addr) in [
            ("add", format!("({load} (i32.add (local.get $b) (local.get $i)))")),
            ("off", format!("({load} offset=3 (local.get $b))")),
        ] {
            let nez = test_nez.replace("(LOAD)", &addr);
            funcs.push_str(&format!(
                r#"(func (export "nez_{mode}_{k}") (param $b i32) (param $i i32) (result i32)
                     (block $yes (br_if $yes {nez}) (return (i32.const 0))) (i32.const 1))
                   (func (export "eqz_{mode}_{k}") (param $b i32) (param $i i32) (result i32)
                     (block $yes (br_if $yes ({ty}.eqz {addr})) (return (i32.const 0))) (i32.const 1))
                "#
            ));
        }
    }
    let (mut store, instance) = instantiate(&format!("(module (memory (export \"memory\") 1) {funcs})"));
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    // Zero everywhere but single bytes at 0x100 + 8k + k (k = 0..8), and the last byte.
    let mut bytes = vec![0u8; 65536];
    for k in 0..8 {
        bytes[0x100 + 8 * k + k] = 0x80;
    }
    bytes[65535] = 1;
    memory.write(&mut store, 0, &bytes).expect("fill");
    let mut addresses: Vec<u32> = (0x0f8..0x150).collect();
    addresses.extend([0, 65528, 65530, 65532, 65534, 65535, 65536, u32::MAX]);
    for (k, (_, _, width)) in loads.iter().enumerate() {
        for &ea in &addresses {
            let in_bounds = u64::from(ea) + *width as u64 <= 65536;
            let nonzero = in_bounds && bytes[ea as usize..ea as usize + width].iter().any(|&b| b != 0);
            // The same address both ways: base + index, and (base - 3) + offset 3.
            for (mode, b, i) in [("add", ea.wrapping_sub(5), 5u32), ("off", ea.wrapping_sub(3), 0)] {
                if mode == "off" && ea < 3 {
                    continue; // the offset is added without wrapping
                }
                for (test, expect) in [("nez", nonzero), ("eqz", !nonzero)] {
                    let name = format!("{test}_{mode}_{k}");
                    let f = instance.get_typed_func::<(u32, u32), i32>(&mut store, &name).expect("export");
                    match f.call(&mut store, (b, i)) {
                        Ok(r) => {
                            assert!(in_bounds, "{name} at {ea:#x}: no trap");
                            assert_eq!(r, i32::from(expect), "{name} at {ea:#x}");
                        }
                        Err(e) => {
                            assert!(!in_bounds, "{name} at {ea:#x}: {e}");
                            assert!(e.to_string().contains("out of bounds"), "{name} at {ea:#x}: {e}");
                        }
                    }
                }
            }
        }
    }
}

/// A load whose only use is a store of the same width (a move): every width, overlapping
/// and identical ranges, offsets, and either side out of bounds (a trap, nothing written).
#[test]
fn loads_stored_right_away() {
    let moves = [
        ("i32.load8_u", "i32.store8", 1u64),
        ("i32.load8_s", "i32.store8", 1),
        ("i32.load16_u", "i32.store16", 2),
        ("i32.load16_s", "i32.store16", 2),
        ("i32.load", "i32.store", 4),
        ("f32.load", "f32.store", 4),
        ("i64.load", "i64.store", 8),
        ("f64.load", "f64.store", 8),
    ];
    let funcs: String = moves
        .iter()
        .enumerate()
        .map(|(k, (load, store, _))| {
            format!(
                "(func (export \"m{k}\") (param $to i32) (param $from i32) \
                   ({store} offset=2 (local.get $to) ({load} offset=1 (local.get $from))))\n"
            )
        })
        .collect();
    let (mut store, instance) = instantiate(&format!("(module (memory (export \"memory\") 1) {funcs})"));
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    // Bytes that include signalling-NaN patterns, so float moves must keep bits.
    let bytes: Vec<u8> = (0..65536u32).map(|i| (i.wrapping_mul(0x9e37_79b9) >> 24) as u8 | 0x7f).collect();
    let pairs: &[(u32, u32)] = &[
        (0, 0),
        (100, 100),
        (100, 101),
        (101, 100),
        (5000, 17),
        (65533 - 8, 0),
        (65534 - 8, 0),
        (0, 65534 - 8),
        (0, 65535 - 8),
        (65536, 0),
        (0, u32::MAX),
        (u32::MAX, 0),
    ];
    for (k, (_, _, n)) in moves.iter().enumerate() {
        let f = instance.get_typed_func::<(u32, u32), ()>(&mut store, &format!("m{k}")).expect("export");
        for &(to, from) in pairs {
            memory.write(&mut store, 0, &bytes).expect("refill");
            let (src, dst) = (u64::from(from) + 1, u64::from(to) + 2);
            let in_bounds = src + n <= 65536 && dst + n <= 65536;
            let mut want = bytes.clone();
            match f.call(&mut store, (to, from)) {
                Ok(()) => {
                    assert!(in_bounds, "m{k}({to}, {from}): no trap");
                    let moved = bytes[src as usize..(src + n) as usize].to_vec();
                    want[dst as usize..(dst + n) as usize].copy_from_slice(&moved);
                }
                Err(e) => {
                    assert!(!in_bounds, "m{k}({to}, {from}): {e}");
                    assert!(e.to_string().contains("out of bounds"), "m{k}({to}, {from}): {e}");
                }
            }
            let mut now = vec![0u8; 65536];
            memory.read(&store, 0, &mut now).expect("read back");
            assert!(now == want, "m{k}({to}, {from}) changed the wrong bytes");
        }
    }
}

/// The i32 comparisons, by wat name.
const I32_CMPS: [Op<i32>; 10] = [
    ("eq", |x, y| x == y),
    ("ne", |x, y| x != y),
    ("lt_s", |x, y| x < y),
    ("lt_u", |x, y| (x as u32) < (y as u32)),
    ("gt_s", |x, y| x > y),
    ("gt_u", |x, y| (x as u32) > (y as u32)),
    ("le_s", |x, y| x <= y),
    ("le_u", |x, y| (x as u32) <= (y as u32)),
    ("ge_s", |x, y| x >= y),
    ("ge_u", |x, y| (x as u32) >= (y as u32)),
];

/// A counter stepped and tested (`x += y; br_if (x op z)`): the step a local, a constant,
/// the counter itself, or added the other way round, or a copy (`x = y`) instead of the
/// add; the bound a local, a constant, the counter itself, on either side; the branch on the
/// comparison or on its `eqz`. Each
/// function returns the new counter and whether the branch was taken; checked over
/// wrapping and sign-boundary values.
#[test]
fn counters_stepped_and_tested() {
    // (name, step, bound (with `X` for the counter), expected step, expected bound, swapped)
    type Shape = (&'static str, &'static str, &'static str, fn(i32, i32) -> i32, fn(i32, i32) -> i32, bool);
    let shapes: [Shape; 14] = [
        ("rr", "(local.get $y)", "(i32.OP X (local.get $z))", |_, y| y, |_, z| z, false),
        ("rr_added_back", "CA", "(i32.OP X (local.get $z))", |_, y| y, |_, z| z, false),
        ("rr_swapped", "(local.get $y)", "(i32.OP (local.get $z) X)", |_, y| y, |_, z| z, true),
        ("rr_self", "(local.get $y)", "(i32.OP X (local.get $x))", |_, y| y, |x, _| x, false),
        ("rr_double", "(local.get $x)", "(i32.OP X (local.get $z))", |x, _| x, |_, z| z, false),
        ("ir", "(i32.const -2)", "(i32.OP X (local.get $z))", |_, _| -2, |_, z| z, false),
        ("ir_one", "(i32.const 1)", "(i32.OP (local.get $z) X)", |_, _| 1, |_, z| z, true),
        ("rk", "(local.get $y)", "(i32.OP X (i32.const 1))", |_, y| y, |_, _| 1, false),
        ("rk_swapped", "(local.get $y)", "(i32.OP (i32.const -1) X)", |_, y| y, |_, _| -1, true),
        ("ik", "(i32.const -2)", "(i32.OP X (i32.const 1))", |_, _| -2, |_, _| 1, false),
        (
            "ik_min",
            "(i32.const 0x80000000)",
            "(i32.OP (i32.const 0x7fffffff) X)",
            |_, _| i32::MIN,
            |_, _| i32::MAX,
            true,
        ),
        // A copy instead of the add (`x = y`: the step that takes `x` to `y`).
        ("copy", "COPY", "(i32.OP X (local.get $z))", |x, y| y.wrapping_sub(x), |_, z| z, false),
        ("copy_swapped", "COPY", "(i32.OP (local.get $z) X)", |x, y| y.wrapping_sub(x), |_, z| z, true),
        ("copy_k", "COPY", "(i32.OP X (i32.const -1))", |x, y| y.wrapping_sub(x), |_, _| -1, false),
    ];
    let mut funcs = String::new();
    for (op, _) in I32_CMPS {
        for (name, step, bound, ..) in shapes {
            // The add written as `local.set`, or (`CA`) `y + x` through `local.tee`.
            let (set, tested) = match step {
                "CA" => ("", "(local.tee $x (i32.add (local.get $y) (local.get $x)))".to_string()),
                "COPY" => ("(local.set $x (local.get $y))", "(local.get $x)".to_string()),
                _ => ("(local.set $x (i32.add (local.get $x) STEP))", "(local.get $x)".to_string()),
            };
            let set = set.replace("STEP", step);
            let cond = bound.replace("OP", op).replace('X', &tested);
            funcs.push_str(&format!(
                r#"(func (export "{op}_{name}") (param $x i32) (param $y i32) (param $z i32) (result i32 i32)
                     (block $yes {set} (br_if $yes {cond}) (return (local.get $x) (i32.const 0)))
                     (local.get $x) (i32.const 1))
                   (func (export "{op}_{name}_not") (param $x i32) (param $y i32) (param $z i32) (result i32 i32)
                     (block $no {set} (br_if $no (i32.eqz {cond})) (return (local.get $x) (i32.const 1)))
                     (local.get $x) (i32.const 0))
                "#
            ));
        }
    }
    let (mut store, instance) = instantiate(&format!("(module {funcs})"));
    let values = [0, 1, -1, 2, -2, 7, i32::MIN, i32::MAX, i32::MIN + 1];
    for (op, f) in I32_CMPS {
        for (name, _, _, step, bound, swapped) in shapes {
            for suffix in ["", "_not"] {
                let func = instance.get_func(&mut store, &format!("{op}_{name}{suffix}")).expect("export");
                for x in values {
                    for y in values {
                        for z in values {
                            let new = x.wrapping_add(step(x, y));
                            let b = bound(new, z);
                            let taken = if swapped { f(b, new) } else { f(new, b) };
                            let mut out = [Val::I32(0), Val::I32(0)];
                            func.call(&mut store, &[Val::I32(x), Val::I32(y), Val::I32(z)], &mut out).expect("call");
                            let got = out.map(|v| v.i32().expect("i32 result"));
                            let want = [new, i32::from(taken)];
                            assert_eq!(got, want, "{op}_{name}{suffix}({x}, {y}, {z})");
                        }
                    }
                }
            }
        }
    }
}

/// Loops whose counter is stepped and tested at the bottom, so the counter stays in the
/// accumulators round the back edge: the counts and the sums must match a plain loop.
#[test]
fn loops_counted_at_the_bottom() {
    let (mut store, instance) = instantiate(
        r#"(module
          (func (export "sum_by") (param $i i32) (param $step i32) (param $n i32) (result i32)
            (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (local.get $i)))
              (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $n))))
            (local.get $s))
          (func (export "count_down") (param $i i32) (result i32)
            (local $c i32)
            (loop $l
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (local.set $i (i32.add (local.get $i) (i32.const -3)))
              (br_if $l (i32.gt_s (local.get $i) (i32.const 0))))
            (local.get $c)))"#,
    );
    let sum_by = instance.get_typed_func::<(u32, u32, u32), u32>(&mut store, "sum_by").expect("export");
    for (i, step, n) in [(0u32, 1u32, 100u32), (3, 7, 1000), (5, 1, 5), (10, 3, 2), (u32::MAX - 10, 13, 5)] {
        let (mut want, mut j) = (0u32, i);
        loop {
            want = want.wrapping_add(j);
            j = j.wrapping_add(step);
            if j >= n {
                break;
            }
        }
        assert_eq!(sum_by.call(&mut store, (i, step, n)).expect("call"), want, "sum_by({i}, {step}, {n})");
    }
    let count_down = instance.get_typed_func::<i32, i32>(&mut store, "count_down").expect("export");
    for (i, want) in [(1, 1), (3, 1), (4, 2), (100, 34), (-5, 1), (0, 1), (3001, 1001)] {
        assert_eq!(count_down.call(&mut store, i).expect("call"), want, "count_down({i})");
    }
}

/// Memory updated in place (`mem[p] = mem[p] op x`, a load, the operation and a store to
/// the same address): every operation at both widths, the loaded value on either side,
/// addresses at the end of memory (a trap, nothing written), and the value kept by the
/// other operand's slot.
#[test]
fn memory_updated_in_place() {
    /// An operation: its wat name and its meaning.
    type Update = (&'static str, fn(u64, u64) -> u64);
    let ops: [Update; 5] = [
        ("add", u64::wrapping_add),
        ("sub", u64::wrapping_sub),
        ("and", |m, x| m & x),
        ("or", |m, x| m | x),
        ("xor", |m, x| m ^ x),
    ];
    let mut funcs = String::new();
    for (op, _) in ops {
        for ty in ["i32", "i64"] {
            funcs.push_str(&format!(
                r#"(func (export "{ty}_{op}") (param $p i32) (param $x {ty}) (result {ty})
                     ({ty}.store offset=3 (local.get $p) ({ty}.{op} ({ty}.load offset=3 (local.get $p)) (local.get $x)))
                     (local.get $x))
                   (func (export "{ty}_{op}_swapped") (param $p i32) (param $x {ty}) (result {ty})
                     ({ty}.store offset=3 (local.get $p) ({ty}.{op} (local.get $x) ({ty}.load offset=3 (local.get $p))))
                     (local.get $x))
                "#
            ));
        }
    }
    let (mut store, instance) = instantiate(&format!("(module (memory (export \"memory\") 1) {funcs})"));
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let bytes: Vec<u8> = (0..65536u32).map(|i| (i.wrapping_mul(0x9e37_79b9) >> 24) as u8).collect();
    for (op, f) in ops {
        for (ty, n) in [("i32", 4u64), ("i64", 8)] {
            for swapped in [false, true] {
                let name = format!("{ty}_{op}{}", if swapped { "_swapped" } else { "" });
                let func = instance.get_func(&mut store, &name).expect("export");
                for p in [0u32, 1, 1000, 65536 - 3 - n as u32, 65536 - 2 - n as u32, 65535, u32::MAX] {
                    for x in [0u64, 1, 0x8000_0000_0000_0001, u64::MAX, 0x0123_4567_89ab_cdef] {
                        memory.write(&mut store, 0, &bytes).expect("refill");
                        let ea = u64::from(p) + 3;
                        let in_bounds = ea + n <= 65536;
                        let arg = if ty == "i32" { Val::I32(x as u32 as i32) } else { Val::I64(x as i64) };
                        let mut out = [Val::I32(0)];
                        let mut want = bytes.clone();
                        match func.call(&mut store, &[Val::I32(p as i32), arg], &mut out) {
                            Ok(()) => {
                                assert!(in_bounds, "{name}({p}): no trap");
                                let at = ea as usize..(ea + n) as usize;
                                let mut m = [0u8; 8];
                                m[..n as usize].copy_from_slice(&bytes[at.clone()]);
                                let (m, x) = (u64::from_le_bytes(m), if ty == "i32" { x & 0xffff_ffff } else { x });
                                let v = if swapped { f(x, m) } else { f(m, x) };
                                want[at].copy_from_slice(&v.to_le_bytes()[..n as usize]);
                                let kept = if ty == "i32" {
                                    out[0].i32().map(|v| v as u32 as u64)
                                } else {
                                    out[0].i64().map(|v| v as u64)
                                };
                                assert_eq!(kept, Some(x), "{name}({p}, {x:#x}): the operand's local");
                            }
                            Err(e) => {
                                assert!(!in_bounds, "{name}({p}): {e}");
                                assert!(e.to_string().contains("out of bounds"), "{name}({p}): {e}");
                            }
                        }
                        let mut now = vec![0u8; 65536];
                        memory.read(&store, 0, &mut now).expect("read back");
                        assert!(now == want, "{name}({p}, {x:#x}) left the wrong bytes");
                    }
                }
            }
        }
    }
}

/// A copy to a local and a store of the value copied (`store (local.tee $c (local.get
/// $v))`): every store width, the copy kept, and the bounds (a trap, nothing written).
#[test]
fn copies_stored_right_away() {
    let stores = [
        ("i32", "i32.store8", 1usize),
        ("i32", "i32.store16", 2),
        ("i32", "i32.store", 4),
        ("i64", "i64.store8", 1),
        ("i64", "i64.store16", 2),
        ("i64", "i64.store32", 4),
        ("i64", "i64.store", 8),
        ("f32", "f32.store", 4),
        ("f64", "f64.store", 8),
    ];
    let funcs: String = stores
        .iter()
        .enumerate()
        .map(|(k, (ty, store, _))| {
            format!(
                "(func (export \"s{k}\") (param $p i32) (param $v {ty}) (result {ty}) (local $c {ty}) \
                   ({store} offset=5 (local.get $p) (local.tee $c (local.get $v))) (local.get $c))\n"
            )
        })
        .collect();
    let (mut store, instance) = instantiate(&format!("(module (memory (export \"memory\") 1) {funcs})"));
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let value: u64 = 0xfff4_0000_8765_4321; // a signalling NaN as f64, its low half a float too
    for (k, (ty, _, n)) in stores.iter().enumerate() {
        let func = instance.get_func(&mut store, &format!("s{k}")).expect("export");
        for p in [0u32, 7, 65536 - 5 - *n as u32, 65536 - 4 - *n as u32, u32::MAX] {
            memory.write(&mut store, 0, &[0xaa; 65536]).expect("refill");
            let arg = match *ty {
                "i32" => Val::I32(value as i32),
                "i64" => Val::I64(value as i64),
                "f32" => Val::F32(value as u32),
                _ => Val::F64(value),
            };
            let mut out = [Val::I32(0)];
            let ea = u64::from(p) + 5;
            let mut want = vec![0xaa; 65536];
            match func.call(&mut store, &[Val::I32(p as i32), arg], &mut out) {
                Ok(()) => {
                    assert!(ea + *n as u64 <= 65536, "s{k}({p}): no trap");
                    want[ea as usize..ea as usize + n].copy_from_slice(&value.to_le_bytes()[..*n]);
                    let kept = match out[0] {
                        Val::I32(v) => u64::from(v as u32),
                        Val::I64(v) => v as u64,
                        Val::F32(v) => u64::from(v),
                        Val::F64(v) => v,
                        ref other => panic!("s{k}: {other:?}"),
                    };
                    let mask = if matches!(*ty, "i32" | "f32") { 0xffff_ffff } else { u64::MAX };
                    assert_eq!(kept, value & mask, "s{k}({p}): the copy");
                }
                Err(e) => {
                    assert!(ea + *n as u64 > 65536, "s{k}({p}): {e}");
                    assert!(e.to_string().contains("out of bounds"), "s{k}({p}): {e}");
                }
            }
            let mut now = vec![0u8; 65536];
            memory.read(&store, 0, &mut now).expect("read back");
            assert!(now == want, "s{k}({p}) left the wrong bytes");
        }
    }
}

/// A global moved by a constant (`global.set g (global.get g ± k)`, a stack pointer moved
/// in a prologue, with the new value kept in a local or not) and a global set to a local
/// plus a constant (the epilogue): the globals and the locals afterwards, wrapping values,
/// and a global set from another one (not moved in place).
#[test]
fn globals_moved_by_constants() {
    let (mut store, instance) = instantiate(
        r#"(module
          (global $sp (export "sp") (mut i32) (i32.const 0))
          (global $other (export "other") (mut i32) (i32.const 0))
          (func (export "prologue") (result i32) (local $fp i32)
            (global.set $sp (local.tee $fp (i32.sub (global.get $sp) (i32.const 16))))
            (local.get $fp))
          (func (export "add_k") (result i32)
            (global.set $sp (i32.add (global.get $sp) (i32.const -32)))
            (i32.const 0))
          (func (export "k_add") (result i32)
            (global.set $sp (i32.add (i32.const 48) (global.get $sp)))
            (i32.const 0))
          (func (export "into_other") (result i32)
            (global.set $other (i32.sub (global.get $sp) (i32.const 16)))
            (i32.const 0))
          (func (export "epilogue") (result i32) (local $fp i32)
            (local.set $fp (i32.const 1000))
            (global.set $sp (local.tee $fp (i32.add (local.get $fp) (i32.const 16))))
            (local.get $fp)))"#,
    );
    let sp = instance.get_global(&mut store, "sp").expect("sp");
    let other = instance.get_global(&mut store, "other").expect("other");
    // (function, sp before, sp after, other after, the function's result)
    let cases: [(&str, u32, u32, u32, u32); 7] = [
        ("prologue", 1024, 1008, 0, 1008),
        ("prologue", 8, 0xffff_fff8, 0, 0xffff_fff8),
        ("add_k", 1024, 992, 0, 0),
        ("add_k", 0, 0xffff_ffe0, 0, 0),
        ("k_add", 0xffff_fff0, 32, 0, 0),
        ("into_other", 1024, 1024, 1008, 0),
        ("epilogue", 7, 1016, 0, 1016),
    ];
    for (name, before, after, other_after, result) in cases {
        sp.set(&mut store, Val::I32(before as i32)).expect("set sp");
        other.set(&mut store, Val::I32(0)).expect("set other");
        let f = instance.get_typed_func::<(), u32>(&mut store, name).expect("export");
        assert_eq!(f.call(&mut store, ()).expect("call"), result, "{name} from {before:#x}");
        assert_eq!(sp.get(&store).i32().map(|v| v as u32), Some(after), "{name} from {before:#x}: sp");
        assert_eq!(other.get(&store).i32().map(|v| v as u32), Some(other_after), "{name} from {before:#x}: other");
    }
}

/// Two loads of the same width from one address slot (two fields of a struct): i32, f32,
/// i64 and f64, offsets in either order and past 16 bits, either load out of bounds, and a
/// first load that overwrites the address the second one uses.
#[test]
fn pairs_of_loads_from_one_base() {
    let (mut store, instance) = instantiate(
        r#"(module
          (memory (export "memory") 1)
          (func (export "i32") (param $p i32) (result i32 i32)
            (i32.load offset=4 (local.get $p)) (i32.load offset=9 (local.get $p)))
          (func (export "f32") (param $p i32) (result f32 f32)
            (f32.load offset=9 (local.get $p)) (f32.load offset=4 (local.get $p)))
          (func (export "i64") (param $p i32) (result i64 i64)
            (i64.load offset=4 (local.get $p)) (i64.load offset=9 (local.get $p)))
          (func (export "f64") (param $p i32) (result f64 f64)
            (f64.load offset=9 (local.get $p)) (f64.load offset=4 (local.get $p)))
          (func (export "far") (param $p i32) (result i32 i32)
            (i32.load offset=4 (local.get $p)) (i32.load offset=70000 (local.get $p)))
          (func (export "chained") (param $p i32) (result i32 i32)
            (local.set $p (i32.load (local.get $p)))
            (local.get $p) (i32.load offset=4 (local.get $p))))"#,
    );
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let bytes: Vec<u8> = (0..65536u32).map(|i| (i.wrapping_mul(0x9e37_79b9) >> 24) as u8 | 0x7f).collect();
    memory.write(&mut store, 0, &bytes).expect("fill");
    let at = |ea: u64, n: usize| -> Option<u64> {
        let end = ea.checked_add(n as u64)?;
        (end <= 65536).then(|| {
            let mut v = [0u8; 8];
            v[..n].copy_from_slice(&bytes[ea as usize..end as usize]);
            u64::from_le_bytes(v)
        })
    };
    let bits = |v: &Val| match *v {
        Val::I32(x) => u64::from(x as u32),
        Val::F32(x) => u64::from(x),
        Val::I64(x) => x as u64,
        Val::F64(x) => x,
        ref other => panic!("{other:?}"),
    };
    // (function, access width, first offset, second offset)
    let funcs: [(&str, usize, u64, u64); 5] =
        [("i32", 4, 4, 9), ("f32", 4, 9, 4), ("i64", 8, 4, 9), ("f64", 8, 9, 4), ("far", 4, 4, 70000)];
    for (name, n, o1, o2) in funcs {
        let func = instance.get_func(&mut store, name).expect("export");
        for p in [0u32, 100, 65536 - 9 - n as u32, 65536 - 8 - n as u32, 65536 - 4 - n as u32, 65535, u32::MAX] {
            let want = at(u64::from(p) + o1, n).zip(at(u64::from(p) + o2, n));
            let mut out = [Val::I32(0), Val::I32(0)];
            match (func.call(&mut store, &[Val::I32(p as i32)], &mut out), want) {
                (Ok(()), Some((x, y))) => assert_eq!([bits(&out[0]), bits(&out[1])], [x, y], "{name}({p})"),
                (Err(e), None) => assert!(e.to_string().contains("out of bounds"), "{name}({p}): {e}"),
                (got, want) => {
                    panic!("{name}({p}): {:?}, expected {want:?}", got.map(|()| [bits(&out[0]), bits(&out[1])]))
                }
            }
        }
    }
    let chained = instance.get_typed_func::<u32, (u32, u32)>(&mut store, "chained").expect("export");
    memory.write(&mut store, 200, &1000u32.to_le_bytes()).expect("pointer");
    memory.write(&mut store, 1004, &77u32.to_le_bytes()).expect("field");
    assert_eq!(chained.call(&mut store, 200).expect("call"), (1000, 77));
}
