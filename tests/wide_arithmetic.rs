//! The wide-arithmetic instructions (`i64.add128`, `i64.sub128`, `i64.mul_wide_s`,
//! `i64.mul_wide_u`): two `i64` results each, the low half first. Behind
//! `Config::wasm_wide_arithmetic`, which is off by default.

use wasmguard::{Config, Engine, Instance, Module, Store};

const WAT: &str = r#"
(module
  (func (export "add128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "sub128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.sub128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "mul_wide_s") (param i64 i64) (result i64 i64)
    (i64.mul_wide_s (local.get 0) (local.get 1)))
  (func (export "mul_wide_u") (param i64 i64) (result i64 i64)
    (i64.mul_wide_u (local.get 0) (local.get 1)))

  ;; Operands that are temporaries and the same local twice; results stored to locals
  ;; (the high half first, as it is on top) and combined.
  (func (export "mixed") (param $x i64) (param $y i64) (result i64 i64)
    (local $lo i64) (local $hi i64)
    (i64.add128 (i64.add (local.get $x) (i64.const 0)) (local.get $x) (local.get $x) (local.get $y))
    (local.set $hi)
    (local.set $lo)
    (i64.mul_wide_u (local.get $lo) (local.get $hi))
    (i64.xor)
    (local.get $hi))

  ;; n! as a 128-bit number (exact up to 34!), a loop of mul_wide_u and add128.
  (func (export "factorial") (param $n i64) (result i64 i64)
    (local $lo i64) (local $hi i64) (local $k i64) (local $t i64)
    (local.set $lo (i64.const 1))
    (local.set $k (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i64.gt_u (local.get $k) (local.get $n)))
        ;; (lo, hi) * k = lo * k + (hi * k) << 64
        (i64.mul_wide_u (local.get $lo) (local.get $k))
        (local.set $t)
        (local.set $lo)
        (i64.add128 (local.get $lo) (local.get $t)
                    (i64.const 0) (i64.mul (local.get $hi) (local.get $k)))
        (local.set $hi)
        (local.set $lo)
        (local.set $k (i64.add (local.get $k) (i64.const 1)))
        (br $next)))
    (local.get $lo) (local.get $hi))
)
"#;

fn setup() -> (Store<()>, Instance) {
    let mut config = Config::new();
    config.wasm_wide_arithmetic(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat::parse_str(WAT).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

/// The `(low, high)` halves of a 128-bit value, as wasm sees them.
fn halves(x: u128) -> (i64, i64) {
    (x as u64 as i64, (x >> 64) as u64 as i64)
}

fn join(lo: i64, hi: i64) -> u128 {
    u128::from(lo as u64) | (u128::from(hi as u64) << 64)
}

#[test]
fn add128_and_sub128_carry_across_64_bits() {
    let (mut store, instance) = setup();
    let add = instance.get_typed_func::<(i64, i64, i64, i64), (i64, i64)>(&mut store, "add128").unwrap();
    let sub = instance.get_typed_func::<(i64, i64, i64, i64), (i64, i64)>(&mut store, "sub128").unwrap();
    // A carry out of the low half.
    assert_eq!(add.call(&mut store, (-1, 0, 1, 0)).unwrap(), (0, 1));
    // ... and out of the high half, which wraps.
    assert_eq!(add.call(&mut store, (-1, -1, 1, 0)).unwrap(), (0, 0));
    assert_eq!(add.call(&mut store, (0, i64::MAX, 0, 1)).unwrap(), (0, i64::MIN));
    // A borrow from the high half, and one that wraps.
    assert_eq!(sub.call(&mut store, (0, 1, 1, 0)).unwrap(), (-1, 0));
    assert_eq!(sub.call(&mut store, (0, 0, 1, 0)).unwrap(), (-1, -1));
    assert_eq!(sub.call(&mut store, (5, 7, 5, 7)).unwrap(), (0, 0));
    let samples = [0u128, 1, u128::MAX, 1 << 63, 1 << 64, (1 << 64) - 1, 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210];
    for &x in &samples {
        for &y in &samples {
            let ((a, b), (c, d)) = (halves(x), halves(y));
            assert_eq!(add.call(&mut store, (a, b, c, d)).unwrap(), halves(x.wrapping_add(y)), "{x:#x} + {y:#x}");
            assert_eq!(sub.call(&mut store, (a, b, c, d)).unwrap(), halves(x.wrapping_sub(y)), "{x:#x} - {y:#x}");
        }
    }
}

#[test]
fn mul_wide_gives_the_full_product() {
    let (mut store, instance) = setup();
    let mul_s = instance.get_typed_func::<(i64, i64), (i64, i64)>(&mut store, "mul_wide_s").unwrap();
    let mul_u = instance.get_typed_func::<(i64, i64), (i64, i64)>(&mut store, "mul_wide_u").unwrap();
    // i64::MIN squared is 2^126: the one signed product that needs the top bit but one.
    assert_eq!(mul_s.call(&mut store, (i64::MIN, i64::MIN)).unwrap(), (0, 1 << 62));
    assert_eq!(mul_s.call(&mut store, (i64::MIN, -1)).unwrap(), (i64::MIN, 0));
    assert_eq!(mul_s.call(&mut store, (i64::MIN, 1)).unwrap(), (i64::MIN, -1));
    assert_eq!(mul_s.call(&mut store, (-1, 1)).unwrap(), (-1, -1));
    assert_eq!(mul_s.call(&mut store, (i64::MAX, i64::MAX)).unwrap(), (1, i64::MAX >> 1));
    // The same bits read as unsigned.
    assert_eq!(mul_u.call(&mut store, (-1, -1)).unwrap(), (1, -2));
    assert_eq!(mul_u.call(&mut store, (i64::MIN, i64::MIN)).unwrap(), (0, 1 << 62));
    assert_eq!(mul_u.call(&mut store, (i64::MIN, 2)).unwrap(), (0, 1));
    let samples = [0i64, 1, -1, 2, i64::MIN, i64::MAX, 0x1234_5678_9abc_def0, -0x0fed_cba9_8765_4321];
    for &x in &samples {
        for &y in &samples {
            let signed = (i128::from(x) * i128::from(y)) as u128;
            let unsigned = u128::from(x as u64) * u128::from(y as u64);
            assert_eq!(mul_s.call(&mut store, (x, y)).unwrap(), halves(signed), "{x} * {y} signed");
            assert_eq!(mul_u.call(&mut store, (x, y)).unwrap(), halves(unsigned), "{x} * {y} unsigned");
        }
    }
}

#[test]
fn results_feed_locals_and_other_instructions() {
    let (mut store, instance) = setup();
    let mixed = instance.get_typed_func::<(i64, i64), (i64, i64)>(&mut store, "mixed").unwrap();
    for (x, y) in [(-1i64, 3i64), (5, 7), (i64::MIN, i64::MAX)] {
        let sum = join(x, x).wrapping_add(join(x, y));
        let (lo, hi) = halves(sum);
        let (plo, phi) = halves(u128::from(lo as u64) * u128::from(hi as u64));
        assert_eq!(mixed.call(&mut store, (x, y)).unwrap(), (plo ^ phi, hi), "mixed({x}, {y})");
    }
}

#[test]
fn a_loop_of_wide_operations_computes_factorials_exactly() {
    let (mut store, instance) = setup();
    let factorial = instance.get_typed_func::<i64, (i64, i64)>(&mut store, "factorial").unwrap();
    let top: u32 = if cfg!(miri) { 25 } else { 34 };
    let mut expected = 1u128;
    for n in 0..=top {
        if n > 0 {
            expected *= u128::from(n);
        }
        assert_eq!(factorial.call(&mut store, i64::from(n)).unwrap(), halves(expected), "{n}!");
    }
}

#[test]
fn wide_arithmetic_is_refused_unless_turned_on() {
    let engine = Engine::default();
    let err = Module::new(&engine, wat::parse_str(WAT).unwrap()).unwrap_err();
    assert!(err.to_string().contains("wide"), "{err}");
}
