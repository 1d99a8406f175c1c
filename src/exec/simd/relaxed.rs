//! Relaxed SIMD: the one result wasmguard gives for each relaxed operator.
//!
//! The specification allows a set of results for each relaxed operator. wasmguard picks
//! one, the same on every host and in every run, and it is the choice of the spec's
//! *deterministic profile* (every relaxed parameter `R` is 0): each operator behaves like
//! its non-relaxed counterpart, computed in portable Rust on the lanes (no host SIMD, no
//! fused multiply-add). Most of them therefore run as that counterpart ([`of`]):
//!
//! | Operator | Result | Runs as |
//! |---|---|---|
//! | `i8x16.relaxed_swizzle` | index ≥ 16 (including "negative" ones) gives 0 | `i8x16.swizzle` |
//! | `i32x4.relaxed_trunc_f32x4_s` | saturating; NaN gives 0 | `i32x4.trunc_sat_f32x4_s` |
//! | `i32x4.relaxed_trunc_f32x4_u` | saturating; NaN and negatives give 0 | `i32x4.trunc_sat_f32x4_u` |
//! | `i32x4.relaxed_trunc_f64x2_s_zero` | saturating; NaN gives 0; upper lanes 0 | `i32x4.trunc_sat_f64x2_s_zero` |
//! | `i32x4.relaxed_trunc_f64x2_u_zero` | saturating; NaN and negatives give 0; upper lanes 0 | `i32x4.trunc_sat_f64x2_u_zero` |
//! | `f32x4.relaxed_madd`, `f64x2.relaxed_madd` | **unfused** `a * b + c`: two roundings | [`SimdTernary`] |
//! | `f32x4.relaxed_nmadd`, `f64x2.relaxed_nmadd` | **unfused** `-a * b + c`: two roundings | [`SimdTernary`] |
//! | `i8x16/i16x8/i32x4/i64x2.relaxed_laneselect` | bitwise select by every mask bit (the top bit of a lane is not spread) | `v128.bitselect` |
//! | `f32x4.relaxed_min`, `f64x2.relaxed_min` | NaN if either lane is NaN; `-0 < +0` | `f32x4.min`, `f64x2.min` |
//! | `f32x4.relaxed_max`, `f64x2.relaxed_max` | NaN if either lane is NaN; `-0 < +0` | `f32x4.max`, `f64x2.max` |
//! | `i16x8.relaxed_q15mulr_s` | saturating: `-32768 * -32768` gives 32767 | `i16x8.q15mulr_sat_s` |
//! | `i16x8.relaxed_dot_i8x16_i7x16_s` | both operands signed `i8`; each pair of products added with `i16` saturation | [`dot_i8x16_i7x16_s`] |
//! | `i32x4.relaxed_dot_i8x16_i7x16_add_s` | the `i16x8` dot product above (signed, saturating), its pairs added into `i32`s, plus `c` (wrapping) | [`SimdTernary`] |
//!
//! Unfused multiply-add is the deterministic profile's choice; it is also what the plain
//! Rust `a * b + c` computes on every target (Rust never contracts it into a fused
//! operation). The dot products read the second operand as signed `i8`s: for lanes that
//! fit in 7 bits (what the operator is meant for) every allowed result is the same.

use super::{SimdBinary, SimdUnary, get8, get16, get32, get64, put16, put32, put64};
use wasmparser::Operator;

simd_ops!(
    /// `v128 v128 v128 -> v128`: the relaxed operators with three operands, other than
    /// `relaxed_laneselect` (which is `v128.bitselect`).
    SimdTernary {
        F32x4RelaxedMadd, F32x4RelaxedNmadd, F64x2RelaxedMadd, F64x2RelaxedNmadd, I32x4RelaxedDotI8x16I7x16AddS,
    }
);

/// What a relaxed operator runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relaxed {
    /// A `v128 -> v128` operation.
    Unary(SimdUnary),
    /// A `v128 v128 -> v128` operation.
    Binary(SimdBinary),
    /// `v128.bitselect`.
    Bitselect,
    /// A three-operand operation of its own.
    Ternary(SimdTernary),
}

/// The operation that relaxed operator `op` runs as (see the module docs), if it is one.
pub(crate) fn of(op: &Operator<'_>) -> Option<Relaxed> {
    use Operator as O;
    use Relaxed::{Binary, Unary};
    Some(match op {
        O::I8x16RelaxedSwizzle => Binary(SimdBinary::I8x16Swizzle),
        O::I32x4RelaxedTruncF32x4S => Unary(SimdUnary::I32x4TruncSatF32x4S),
        O::I32x4RelaxedTruncF32x4U => Unary(SimdUnary::I32x4TruncSatF32x4U),
        O::I32x4RelaxedTruncF64x2SZero => Unary(SimdUnary::I32x4TruncSatF64x2SZero),
        O::I32x4RelaxedTruncF64x2UZero => Unary(SimdUnary::I32x4TruncSatF64x2UZero),
        O::I8x16RelaxedLaneselect
        | O::I16x8RelaxedLaneselect
        | O::I32x4RelaxedLaneselect
        | O::I64x2RelaxedLaneselect => Relaxed::Bitselect,
        O::F32x4RelaxedMin => Binary(SimdBinary::F32x4Min),
        O::F32x4RelaxedMax => Binary(SimdBinary::F32x4Max),
        O::F64x2RelaxedMin => Binary(SimdBinary::F64x2Min),
        O::F64x2RelaxedMax => Binary(SimdBinary::F64x2Max),
        O::I16x8RelaxedQ15mulrS => Binary(SimdBinary::I16x8Q15MulrSatS),
        O::I16x8RelaxedDotI8x16I7x16S => Binary(SimdBinary::I16x8RelaxedDotI8x16I7x16S),
        other => Relaxed::Ternary(SimdTernary::of(other)?),
    })
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s`: lane `i` is `a[2i] * b[2i] + a[2i+1] * b[2i+1]`
/// with every byte a signed `i8`, the sum saturated to `i16`.
pub(crate) fn dot_i8x16_i7x16_s(a: u128, b: u128) -> u128 {
    let (x, y) = (get8(a), get8(b));
    let prod = |i: usize| i32::from(x[i] as i8) * i32::from(y[i] as i8);
    put16(std::array::from_fn(|i| super::sat_i16(prod(2 * i) + prod(2 * i + 1))))
}

/// Evaluates a three-operand relaxed operation.
pub(crate) fn ternary(op: SimdTernary, a: u128, b: u128, c: u128) -> u128 {
    use SimdTernary::*;
    let lanes32 = |f: fn(f32, f32, f32) -> f32| {
        let (x, y, z) = (get32(a), get32(b), get32(c));
        put32(std::array::from_fn(|i| f(f32::from_bits(x[i]), f32::from_bits(y[i]), f32::from_bits(z[i])).to_bits()))
    };
    let lanes64 = |f: fn(f64, f64, f64) -> f64| {
        let (x, y, z) = (get64(a), get64(b), get64(c));
        put64(std::array::from_fn(|i| f(f64::from_bits(x[i]), f64::from_bits(y[i]), f64::from_bits(z[i])).to_bits()))
    };
    match op {
        // Unfused: the product is rounded, then the sum.
        F32x4RelaxedMadd => lanes32(|x, y, z| x * y + z),
        F32x4RelaxedNmadd => lanes32(|x, y, z| -x * y + z),
        F64x2RelaxedMadd => lanes64(|x, y, z| x * y + z),
        F64x2RelaxedNmadd => lanes64(|x, y, z| -x * y + z),
        I32x4RelaxedDotI8x16I7x16AddS => {
            let (d, acc) = (get16(dot_i8x16_i7x16_s(a, b)), get32(c));
            put32(std::array::from_fn(|i| {
                let pair = i32::from(d[2 * i] as i16) + i32::from(d[2 * i + 1] as i16);
                pair.wrapping_add(acc[i] as i32) as u32
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::put8;
    use super::*;

    #[test]
    fn dot_products_are_signed_and_saturate_in_i16() {
        let a = put8([0x80, 0x80, 0x80, 0x80, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let b = put8([0x80, 0x80, 0x81, 0x81, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        // -128 * -128 * 2 = 32768 saturates; -128 * -127 * 2 = 32512; 3 * -1 + 4 * 2 = 5.
        assert_eq!(dot_i8x16_i7x16_s(a, b), put16([32767, 32512, 5, 0, 0, 0, 0, 0]));
        let c = put32([1, 2, 3, 4]);
        let r = ternary(SimdTernary::I32x4RelaxedDotI8x16I7x16AddS, a, b, c);
        assert_eq!(r, put32([32767 + 32512 + 1, 5 + 2, 3, 4]));
    }

    #[test]
    fn madd_is_unfused() {
        let v = |x: f32| put32([x.to_bits(); 4]);
        // Fused, f32::MAX * 2 - f32::MAX would be f32::MAX; unfused the product overflows.
        let r = ternary(SimdTernary::F32x4RelaxedMadd, v(f32::MAX), v(2.0), v(-f32::MAX));
        assert_eq!(r, v(f32::INFINITY));
        let r = ternary(SimdTernary::F32x4RelaxedNmadd, v(f32::MAX), v(2.0), v(f32::MAX));
        assert_eq!(r, v(f32::NEG_INFINITY));
    }
}
