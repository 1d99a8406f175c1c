//! The relaxed SIMD instructions give the one result wasmguard documents for each (the
//! spec's deterministic profile, listed in the README and in `src/exec/simd/relaxed.rs`):
//! the result of the non-relaxed counterpart, unfused multiply-add, and signed dot products.
//! The cases are the ones where the specification allows more than one result.

use wasmguard::{Config, Engine, Instance, Module, Store, V128};

const WAT: &str = r#"
(module
  (func (export "relaxed_swizzle") (param v128 v128) (result v128) (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
  (func (export "swizzle") (param v128 v128) (result v128) (i8x16.swizzle (local.get 0) (local.get 1)))
  (func (export "trunc_f32x4_s") (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_s (local.get 0)))
  (func (export "trunc_f32x4_u") (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_u (local.get 0)))
  (func (export "trunc_f64x2_s_zero") (param v128) (result v128) (i32x4.relaxed_trunc_f64x2_s_zero (local.get 0)))
  (func (export "trunc_f64x2_u_zero") (param v128) (result v128) (i32x4.relaxed_trunc_f64x2_u_zero (local.get 0)))
  (func (export "f32x4_madd") (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f32x4_nmadd") (param v128 v128 v128) (result v128) (f32x4.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f64x2_madd") (param v128 v128 v128) (result v128) (f64x2.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f64x2_nmadd") (param v128 v128 v128) (result v128) (f64x2.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i8x16_laneselect") (param v128 v128 v128) (result v128) (i8x16.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i16x8_laneselect") (param v128 v128 v128) (result v128) (i16x8.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i32x4_laneselect") (param v128 v128 v128) (result v128) (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i64x2_laneselect") (param v128 v128 v128) (result v128) (i64x2.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f32x4_min") (param v128 v128) (result v128) (f32x4.relaxed_min (local.get 0) (local.get 1)))
  (func (export "f32x4_max") (param v128 v128) (result v128) (f32x4.relaxed_max (local.get 0) (local.get 1)))
  (func (export "f64x2_min") (param v128 v128) (result v128) (f64x2.relaxed_min (local.get 0) (local.get 1)))
  (func (export "f64x2_max") (param v128 v128) (result v128) (f64x2.relaxed_max (local.get 0) (local.get 1)))
  (func (export "q15mulr") (param v128 v128) (result v128) (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1)))
  (func (export "dot") (param v128 v128) (result v128) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
  (func (export "dot_add") (param v128 v128 v128) (result v128) (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
  ;; Operands that are temporaries, not locals.
  (func (export "madd_of_temps") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_madd (f32x4.add (local.get 0) (v128.const f32x4 0 0 0 0))
                        (f32x4.mul (local.get 1) (v128.const f32x4 1 1 1 1))
                        (local.get 2)))
)
"#;

fn setup() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, wat::parse_str(WAT).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn call1(store: &mut Store<()>, instance: &Instance, name: &str, a: V128) -> V128 {
    instance.get_typed_func::<V128, V128>(&mut *store, name).unwrap().call(store, a).unwrap()
}

fn call2(store: &mut Store<()>, instance: &Instance, name: &str, a: V128, b: V128) -> V128 {
    instance.get_typed_func::<(V128, V128), V128>(&mut *store, name).unwrap().call(store, (a, b)).unwrap()
}

fn call3(store: &mut Store<()>, instance: &Instance, name: &str, a: V128, b: V128, c: V128) -> V128 {
    let f = instance.get_typed_func::<(V128, V128, V128), V128>(&mut *store, name).unwrap();
    f.call(store, (a, b, c)).unwrap()
}

fn bits32(v: V128) -> [u32; 4] {
    v.to_u32x4()
}

#[test]
fn relaxed_swizzle_is_swizzle_indices_from_16_give_zero() {
    let (mut store, instance) = setup();
    let data = V128::from_u8x16(std::array::from_fn(|i| 0xa0 + i as u8));
    let indices = V128::from_u8x16([0, 15, 16, 17, 31, 0x7f, 0x80, 0x8f, 0xff, 3, 0x10, 0x90, 1, 2, 0x40, 14]);
    let r = call2(&mut store, &instance, "relaxed_swizzle", data, indices);
    assert_eq!(r.to_u8x16(), [0xa0, 0xaf, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0, 0, 0xa1, 0xa2, 0, 0xae]);
    assert_eq!(r, call2(&mut store, &instance, "swizzle", data, indices));
}

#[test]
fn relaxed_truncation_saturates_and_maps_nan_to_zero() {
    let (mut store, instance) = setup();
    let f32s = V128::from_f32x4([f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -1.5]);
    assert_eq!(call1(&mut store, &instance, "trunc_f32x4_s", f32s).to_i32x4(), [0, i32::MAX, i32::MIN, -1]);
    assert_eq!(call1(&mut store, &instance, "trunc_f32x4_u", f32s).to_u32x4(), [0, u32::MAX, 0, 0]);
    let out_of_range = V128::from_f32x4([3e9, -3e9, 5e9, 2147483520.0]);
    assert_eq!(
        call1(&mut store, &instance, "trunc_f32x4_s", out_of_range).to_i32x4(),
        [i32::MAX, i32::MIN, i32::MAX, 2147483520]
    );
    assert_eq!(
        call1(&mut store, &instance, "trunc_f32x4_u", out_of_range).to_u32x4(),
        [3_000_000_000, 0, u32::MAX, 2147483520]
    );
    let nan_payload = V128::from_u32x4([0xffc0_1234, 0x7f80_0001, 0, 0x8000_0000]);
    assert_eq!(call1(&mut store, &instance, "trunc_f32x4_s", nan_payload).to_i32x4(), [0, 0, 0, 0]);

    let f64s = V128::from_f64x2([f64::NAN, 1e20]);
    assert_eq!(call1(&mut store, &instance, "trunc_f64x2_s_zero", f64s).to_i32x4(), [0, i32::MAX, 0, 0]);
    assert_eq!(call1(&mut store, &instance, "trunc_f64x2_u_zero", f64s).to_u32x4(), [0, u32::MAX, 0, 0]);
    let f64s = V128::from_f64x2([-2147483649.0, -0.9]);
    assert_eq!(call1(&mut store, &instance, "trunc_f64x2_s_zero", f64s).to_i32x4(), [i32::MIN, 0, 0, 0]);
    let f64s = V128::from_f64x2([-1.0, 4294967295.9]);
    assert_eq!(call1(&mut store, &instance, "trunc_f64x2_u_zero", f64s).to_u32x4(), [0, u32::MAX, 0, 0]);
}

#[test]
fn relaxed_madd_is_unfused() {
    let (mut store, instance) = setup();
    let splat32 = |x: f32| V128::from_f32x4([x; 4]);
    // The product overflows before the sum: unfused gives infinity (fused: f32::MAX).
    let r = call3(&mut store, &instance, "f32x4_madd", splat32(f32::MAX), splat32(2.0), splat32(-f32::MAX));
    assert_eq!(r.to_f32x4(), [f32::INFINITY; 4]);
    let r = call3(&mut store, &instance, "f32x4_nmadd", splat32(f32::MAX), splat32(2.0), splat32(f32::MAX));
    assert_eq!(r.to_f32x4(), [f32::NEG_INFINITY; 4]);
    // (1 + 2^-23)^2 = 1 + 2^-22 + 2^-46: rounded before the sum, the 2^-46 is lost (fused keeps it).
    let x = 1.0 + f32::EPSILON;
    let c = 1.0 + 2.0 * f32::EPSILON;
    let r = call3(&mut store, &instance, "f32x4_madd", splat32(x), splat32(x), splat32(-c));
    assert_eq!(bits32(r), [0; 4]);
    let r = call3(&mut store, &instance, "f32x4_nmadd", splat32(x), splat32(x), splat32(c));
    assert_eq!(bits32(r), [0; 4]);
    let r = call3(&mut store, &instance, "madd_of_temps", splat32(x), splat32(x), splat32(-c));
    assert_eq!(bits32(r), [0; 4]);
    // Lanes are independent, and ordinary values are exact.
    let r = call3(
        &mut store,
        &instance,
        "f32x4_madd",
        V128::from_f32x4([1.0, 2.0, -3.0, 0.5]),
        V128::from_f32x4([4.0, 0.25, 2.0, -8.0]),
        V128::from_f32x4([1.0, 1.0, 1.0, 1.0]),
    );
    assert_eq!(r.to_f32x4(), [5.0, 1.5, -5.0, -3.0]);

    let splat64 = |x: f64| V128::from_f64x2([x; 2]);
    let r = call3(&mut store, &instance, "f64x2_madd", splat64(f64::MAX), splat64(2.0), splat64(-f64::MAX));
    assert_eq!(r.to_f64x2(), [f64::INFINITY; 2]);
    let x = 1.0 + f64::EPSILON;
    let c = 1.0 + 2.0 * f64::EPSILON;
    let r = call3(&mut store, &instance, "f64x2_madd", splat64(x), splat64(x), splat64(-c));
    assert_eq!(r.to_u64x2(), [0; 2]);
    let r = call3(&mut store, &instance, "f64x2_nmadd", splat64(x), splat64(x), splat64(c));
    assert_eq!(r.to_u64x2(), [0; 2]);
    let r = call3(&mut store, &instance, "f64x2_nmadd", splat64(3.0), splat64(2.0), splat64(10.0));
    assert_eq!(r.to_f64x2(), [4.0; 2]);
}

#[test]
fn relaxed_laneselect_selects_bit_by_bit() {
    let (mut store, instance) = setup();
    let a = V128::from_bits(0xaaaa_aaaa_aaaa_aaaa_aaaa_aaaa_aaaa_aaaa);
    let b = V128::from_bits(0x5555_5555_5555_5555_5555_5555_5555_5555);
    // Masks whose lanes are neither all ones nor all zeros: only the top bit set, all but
    // the top bit, a nibble pattern.
    let masks = [
        V128::from_u8x16([0x80; 16]),
        V128::from_u16x8([0x7fff; 8]),
        V128::from_u32x4([0x8000_0000, 0x0f0f_0f0f, 0xffff_ffff, 0]),
        V128::from_u64x2([0x8000_0000_0000_0001, 0x00ff_00ff_00ff_00ff]),
    ];
    for name in ["i8x16_laneselect", "i16x8_laneselect", "i32x4_laneselect", "i64x2_laneselect"] {
        for &m in &masks {
            let r = call3(&mut store, &instance, name, a, b, m);
            let expected = (a.to_bits() & m.to_bits()) | (b.to_bits() & !m.to_bits());
            assert_eq!(r.to_bits(), expected, "{name} with mask {:#x}", m.to_bits());
        }
    }
    let r = call3(&mut store, &instance, "i8x16_laneselect", a, b, masks[0]);
    assert_eq!(r.to_u8x16(), [0xd5; 16]);
}

#[test]
fn relaxed_min_max_order_zeros_and_propagate_nan() {
    let (mut store, instance) = setup();
    let x = V128::from_f32x4([-0.0, 0.0, f32::NAN, 1.0]);
    let y = V128::from_f32x4([0.0, -0.0, 1.0, f32::NAN]);
    for (a, b) in [(x, y), (y, x)] {
        let min = call2(&mut store, &instance, "f32x4_min", a, b).to_f32x4();
        let max = call2(&mut store, &instance, "f32x4_max", a, b).to_f32x4();
        assert_eq!((min[0].to_bits(), min[1].to_bits()), ((-0.0f32).to_bits(), (-0.0f32).to_bits()));
        assert_eq!((max[0].to_bits(), max[1].to_bits()), (0, 0));
        assert!(min[2].is_nan() && min[3].is_nan() && max[2].is_nan() && max[3].is_nan());
    }
    let r = call2(
        &mut store,
        &instance,
        "f32x4_min",
        V128::from_f32x4([1.0, -2.0, 3.0, f32::NEG_INFINITY]),
        V128::from_f32x4([2.0, -1.0, -3.0, 0.0]),
    );
    assert_eq!(r.to_f32x4(), [1.0, -2.0, -3.0, f32::NEG_INFINITY]);

    let x = V128::from_f64x2([-0.0, f64::NAN]);
    let y = V128::from_f64x2([0.0, 5.0]);
    for (a, b) in [(x, y), (y, x)] {
        let min = call2(&mut store, &instance, "f64x2_min", a, b).to_f64x2();
        let max = call2(&mut store, &instance, "f64x2_max", a, b).to_f64x2();
        assert_eq!(min[0].to_bits(), (-0.0f64).to_bits());
        assert_eq!(max[0].to_bits(), 0);
        assert!(min[1].is_nan() && max[1].is_nan());
    }
}

#[test]
fn relaxed_q15mulr_saturates() {
    let (mut store, instance) = setup();
    let a = V128::from_i16x8([i16::MIN, i16::MIN, i16::MAX, 0x4000, -0x4000, 1, 0x2000, -1]);
    let b = V128::from_i16x8([i16::MIN, i16::MAX, i16::MAX, 0x4000, 0x4000, 1, 3, -1]);
    let r = call2(&mut store, &instance, "q15mulr", a, b);
    // (x * y + 2^14) >> 15, saturated: MIN * MIN overflows to 32768 and becomes MAX.
    assert_eq!(r.to_i16x8(), [i16::MAX, -32767, 32766, 0x2000, -0x2000, 0, 1, 0]);
}

#[test]
fn relaxed_dot_products_read_the_second_operand_as_signed() {
    let (mut store, instance) = setup();
    let a = V128::from_i8x16([1, 2, -3, 4, 127, 127, -128, -128, 10, 20, -128, 127, 0, 0, 5, -5]);
    let b = V128::from_i8x16([-1, -2, -128, 1, -128, -128, -128, -128, 3, -4, -127, -127, 100, -100, -1, -1]);
    let r = call2(&mut store, &instance, "dot", a, b);
    // -1 - 4; 384 + 4; -16256 * 2; 16384 * 2 saturated; 30 - 80; 16256 - 16129; 0; -5 + 5.
    assert_eq!(r.to_i16x8(), [-5, 388, -32512, i16::MAX, -50, 127, 0, 0]);

    let c = V128::from_i32x4([100, i32::MAX, -7, i32::MIN]);
    let r = call3(&mut store, &instance, "dot_add", a, b, c);
    // The i16 pairs above, added in pairs into i32s, plus c (wrapping).
    assert_eq!(r.to_i32x4(), [100 - 5 + 388, i32::MAX.wrapping_add(-32512 + 32767), -7 - 50 + 127, i32::MIN]);
    let r = call3(
        &mut store,
        &instance,
        "dot_add",
        V128::from_i8x16([-128; 16]),
        V128::from_i8x16([-128; 16]),
        V128::from_i32x4([0; 4]),
    );
    assert_eq!(r.to_i32x4(), [2 * 32767; 4]);
}

#[test]
fn relaxed_simd_is_refused_when_turned_off() {
    let mut config = Config::new();
    config.wasm_relaxed_simd(false);
    let engine = Engine::new(&config).unwrap();
    let err = Module::new(&engine, wat::parse_str(WAT).unwrap()).unwrap_err();
    assert!(err.to_string().contains("relaxed"), "{err}");
}
