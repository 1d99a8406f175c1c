//! Handlers hand the value they write on in registers (the accumulators), stores and
//! branches pass them on unchanged, and an op whose operand is in them on every path to it
//! takes it from there. These tests build the shapes where that hand-off must not happen
//! or must carry the right value: a join reached by a jump and by falling through with
//! different producers, joins reached by several jumps (`br_table`, `br`), loop heads,
//! a value a loop computes last and uses first, the op after a call or a host call,
//! stores and untaken branches between a producer and its consumer, a value used twice,
//! float and integer values through the same slot, and long dependency chains; each
//! result is checked against Rust.
//!
//! In debug builds every operand taken from the accumulators is also compared with its
//! slot, so a wrong hand-off fails here even where it would happen to compute the right
//! result.

use wasmguard::{Engine, Linker, Module, Store};

const WAT: &str = r#"(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  ;; A block result produced by a branch (x * 3) or by falling through (x + 7), then used.
  (func (export "join") (param $x i32) (param $c i32) (result i32)
    (i32.mul
      (block (result i32)
        (br_if 0 (i32.mul (local.get $x) (i32.const 3)) (local.get $c))
        drop
        (i32.add (local.get $x) (i32.const 7)))
      (i32.const 5)))
  ;; A loop whose head consumes a value produced before the loop and by the back edge.
  (func (export "loop") (param $n i32) (result i32) (local $acc i32)
    (local.set $acc (i32.const 1))
    (loop $l
      (local.set $acc (i32.xor (i32.mul (local.get $acc) (i32.const 33)) (local.get $n)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))
  ;; Results of wasm and host calls consumed right away.
  (func (export "calls") (param $x i32) (result i32)
    (i32.add (call $inc (local.get $x)) (call $twice (local.get $x))))
  ;; One value used by two consumers, the second after an unrelated producer.
  (func (export "reuse") (param $x i64) (result i64) (local $t i64)
    (local.set $t (i64.mul (local.get $x) (local.get $x)))
    (i64.add (i64.sub (local.get $t) (i64.const 3)) (i64.shl (local.get $t) (i64.const 2))))
  ;; Floats and their bits through the same slots: loads, reinterprets, abs and neg.
  (func (export "floats") (param $x f64) (result i64)
    (f64.store (i32.const 8) (f64.mul (local.get $x) (local.get $x)))
    (i64.reinterpret_f64
      (f64.add
        (f64.neg (f64.abs (f64.load (i32.const 8))))
        (f64.reinterpret_i64 (i64.add (i64.load (i32.const 8)) (i64.const 1))))))
  ;; A long chain of dependent operations, each consuming the previous result.
  (func (export "chain") (param $x i32) (result i32)
    (i32.rotl
      (i32.xor
        (i32.add
          (i32.shr_u (i32.mul (i32.sub (local.get $x) (i32.const 9)) (local.get $x)) (i32.const 3))
          (i32.load8_u (i32.and (local.get $x) (i32.const 15))))
        (i32.const 0x5a5a))
      (i32.const 7)))
  ;; Select and compare-and-branch on a value produced just before.
  (func (export "select") (param $x i32) (param $y i32) (result i32)
    (if (result i32) (i32.lt_s (i32.add (local.get $x) (local.get $y)) (i32.const 10))
      (then (select (i32.sub (local.get $x) (local.get $y)) (i32.const 99) (i32.and (local.get $x) (i32.const 1))))
      (else (i32.const -1))))
  ;; A value the loop computes last and uses first (a sieve's inner loop): the path into
  ;; the loop and the back edge both leave it in the accumulators.
  (func (export "sieve") (param $i i32) (param $n i32) (result i32) (local $j i32) (local $count i32)
    (local.set $j (i32.mul (local.get $i) (local.get $i)))
    (drop (br_if 0 (i32.const -1) (i32.ge_u (local.get $j) (local.get $n))))
    (loop $l
      (i32.store8 offset=64 (i32.and (local.get $j) (i32.const 1023)) (local.get $j))
      (local.set $count (i32.add (local.get $count) (i32.load8_u offset=64 (i32.and (local.get $j) (i32.const 1023)))))
      (local.set $j (i32.add (local.get $j) (local.get $i)))
      (br_if $l (i32.lt_u (local.get $j) (local.get $n))))
    (i32.add (local.get $count) (local.get $j)))
  ;; A join reached by two jumps and a fall-through; `$k` picks which paths leave the same
  ;; slot in the accumulators and which another.
  (func (export "paths") (param $x i32) (param $k i32) (result i32) (local $t i32)
    (block $join
      (block $b
        (block $a
          (br_table $a $b $join (local.get $k)))
        ;; $a: writes $t last
        (local.set $t (i32.mul (local.get $x) (i32.const 5)))
        (br $join))
      ;; $b: writes $t, then something else
      (local.set $t (i32.add (local.get $x) (i32.const 11)))
      (local.set $x (i32.sub (local.get $x) (i32.const 1)))
      (br $join))
    (i32.xor (local.get $t) (local.get $x)))
  ;; Stores and not-taken branches between a value's producer and its consumer.
  (func (export "passed_on") (param $x i32) (result i32) (local $v i32)
    (local.set $v (i32.add (local.get $x) (i32.const 1000)))
    (i32.store (i32.const 128) (local.get $x))
    (drop (br_if 0 (i32.const -7) (i32.eq (local.get $x) (i32.const 123456))))
    (i64.store (i32.const 136) (i64.const 99))
    (i32.mul (local.get $v) (i32.const 3)))
  (memory 1)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10"))"#;

fn setup() -> (Store<()>, wasmguard::Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "twice", |x: i32| x.wrapping_mul(2)).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

const VALUES: [i32; 9] = [0, 1, -1, 2, 7, 255, 100_000, i32::MAX, i32::MIN];

#[test]
fn values_reaching_a_join_by_jump_and_by_fall_through() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<(i32, i32), i32>(&mut store, "join").unwrap();
    for x in VALUES {
        for c in [0, 1] {
            let block = if c != 0 { x.wrapping_mul(3) } else { x.wrapping_add(7) };
            assert_eq!(f.call(&mut store, (x, c)).unwrap(), block.wrapping_mul(5), "join({x}, {c})");
        }
    }
}

#[test]
fn loop_heads_and_back_edges() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<i32, i32>(&mut store, "loop").unwrap();
    for n in [1, 2, 3, 10, 1000] {
        let (mut acc, mut k) = (1i32, n);
        loop {
            acc = acc.wrapping_mul(33) ^ k;
            k -= 1;
            if k == 0 {
                break;
            }
        }
        assert_eq!(f.call(&mut store, n).unwrap(), acc, "loop({n})");
    }
}

#[test]
fn results_of_wasm_and_host_calls() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<i32, i32>(&mut store, "calls").unwrap();
    for x in VALUES {
        assert_eq!(f.call(&mut store, x).unwrap(), x.wrapping_add(1).wrapping_add(x.wrapping_mul(2)), "calls({x})");
    }
}

#[test]
fn a_value_used_twice() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<i64, i64>(&mut store, "reuse").unwrap();
    for x in [0i64, 1, -1, 3, 1 << 40, i64::MAX, i64::MIN] {
        let t = x.wrapping_mul(x);
        assert_eq!(f.call(&mut store, x).unwrap(), t.wrapping_sub(3).wrapping_add(t.wrapping_shl(2)), "reuse({x})");
    }
}

#[test]
fn floats_and_their_bits_through_the_same_slots() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<f64, i64>(&mut store, "floats").unwrap();
    for x in [0.0, -0.0, 1.5, -2.25, 1e300, f64::INFINITY, f64::MIN_POSITIVE] {
        let sq = x * x;
        let expected = -sq.abs() + f64::from_bits(sq.to_bits().wrapping_add(1));
        let got = f.call(&mut store, x).unwrap();
        assert_eq!(got, expected.to_bits() as i64, "floats({x})");
    }
}

#[test]
fn long_dependency_chains() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<i32, i32>(&mut store, "chain").unwrap();
    for x in VALUES {
        let byte = (x & 15) + 1;
        let v = (((x.wrapping_sub(9).wrapping_mul(x) as u32) >> 3) as i32).wrapping_add(byte);
        let expected = (v ^ 0x5a5a).rotate_left(7);
        assert_eq!(f.call(&mut store, x).unwrap(), expected, "chain({x})");
    }
}

#[test]
fn select_and_branches_on_fresh_values() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<(i32, i32), i32>(&mut store, "select").unwrap();
    for x in VALUES {
        for y in [0, 3, -20, 9] {
            let expected = if x.wrapping_add(y) < 10 { if x & 1 != 0 { x.wrapping_sub(y) } else { 99 } } else { -1 };
            assert_eq!(f.call(&mut store, (x, y)).unwrap(), expected, "select({x}, {y})");
        }
    }
}

#[test]
fn values_carried_round_a_loop() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<(i32, i32), i32>(&mut store, "sieve").unwrap();
    for (i, n) in [(2i32, 100i32), (3, 10_000), (7, 49), (7, 50), (1, 5), (1000, 10), (65536, 2)] {
        let mut j = i.wrapping_mul(i) as u32;
        let expect = if j >= n as u32 {
            -1
        } else {
            let mut count = 0i32;
            while j < n as u32 {
                count = count.wrapping_add((j & 0xff) as i32);
                j = j.wrapping_add(i as u32);
            }
            count.wrapping_add(j as i32)
        };
        assert_eq!(f.call(&mut store, (i, n)).unwrap(), expect, "sieve({i}, {n})");
    }
}

#[test]
fn joins_reached_by_several_jumps() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<(i32, i32), i32>(&mut store, "paths").unwrap();
    for x in VALUES {
        for k in 0..4 {
            let (t, x2) = match k {
                0 => (x.wrapping_mul(5), x),
                1 => (x.wrapping_add(11), x.wrapping_sub(1)),
                _ => (0, x),
            };
            assert_eq!(f.call(&mut store, (x, k)).unwrap(), t ^ x2, "paths({x}, {k})");
        }
    }
}

#[test]
fn values_passed_on_by_stores_and_branches() {
    let (mut store, instance) = setup();
    let f = instance.get_typed_func::<i32, i32>(&mut store, "passed_on").unwrap();
    for x in VALUES.into_iter().chain([123456]) {
        let expect = if x == 123456 { -7 } else { x.wrapping_add(1000).wrapping_mul(3) };
        assert_eq!(f.call(&mut store, x).unwrap(), expect, "passed_on({x})");
    }
}
