//! The interpreter fuses common instruction sequences (a comparison and the branch that
//! consumes it, a constant and the operation that uses it, ...). These tests run every
//! comparison in each shape the fusions cover — result used as a value, branched on, branched
//! on through `eqz`, as an `if` condition (a branch when false), with a local or a constant
//! as second operand — over edge values
//! (NaNs, signed zeros, infinities, extremes) and check each against Rust's own comparison.

use wasmguard::{Engine, Instance, Linker, Module, Store, Val};

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
    let engine = Engine::default();
    let module = Module::new(&engine, wat::parse_str(&wat).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance: Instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
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
        ops: &[
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
        ],
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
