//! Numeric semantics the spec pins down beyond what Rust's operators give: float
//! `min`/`max`/`nearest`, sign operations on raw bits, checked float-to-int truncation, and
//! the 128-bit operations of wide arithmetic (`i64.add128`, `i64.sub128`, `i64.mul_wide_s/u`),
//! whose values are `(low, high)` pairs of `i64` halves.

use crate::error::TrapCode;

/// `fN.min`: NaN if either operand is NaN; `-0 < +0`.
macro_rules! float_minmax {
    ($min:ident, $max:ident, $t:ty) => {
        pub(crate) fn $min(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                // Equal: only the zero signs may differ; min prefers -0.
                return if a.is_sign_negative() { a } else { b };
            }
            if a < b { a } else { b }
        }

        pub(crate) fn $max(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                return if a.is_sign_positive() { a } else { b };
            }
            if a > b { a } else { b }
        }
    };
}

float_minmax!(f32_min, f32_max, f32);
float_minmax!(f64_min, f64_max, f64);

/// Applies a rounding function, returning a quiet NaN for NaN input (software rounding
/// may return a signalling NaN unchanged, which the spec does not allow).
#[inline]
pub(crate) fn f32_round(x: f32, f: fn(f32) -> f32) -> f32 {
    if x.is_nan() { f32::from_bits(x.to_bits() | 0x0040_0000) } else { f(x) }
}

/// As [`f32_round`] for f64.
#[inline]
pub(crate) fn f64_round(x: f64, f: fn(f64) -> f64) -> f64 {
    if x.is_nan() { f64::from_bits(x.to_bits() | 0x0008_0000_0000_0000) } else { f(x) }
}

/// Checked truncation of a float (widened to f64 exactly) to an integer range.
/// `lo_exclusive` / `hi_exclusive` are the first values out of range.
#[inline]
fn trunc_checked(x: f64, lo_exclusive: f64, hi_exclusive: f64) -> Result<f64, TrapCode> {
    if x.is_nan() {
        return Err(TrapCode::BadConversionToInteger);
    }
    if x <= lo_exclusive || x >= hi_exclusive {
        return Err(TrapCode::IntegerOverflow);
    }
    Ok(x.trunc())
}

pub(crate) fn i32_trunc_s(x: f64) -> Result<i32, TrapCode> {
    trunc_checked(x, -2147483649.0, 2147483648.0).map(|v| v as i32)
}

pub(crate) fn i32_trunc_u(x: f64) -> Result<u32, TrapCode> {
    trunc_checked(x, -1.0, 4294967296.0).map(|v| v as u32)
}

pub(crate) fn i64_trunc_s(x: f64) -> Result<i64, TrapCode> {
    // -2^63 is representable; the next smaller f64 is out of range.
    if x.is_nan() {
        return Err(TrapCode::BadConversionToInteger);
    }
    if !(-9223372036854775808.0..9223372036854775808.0).contains(&x) {
        return Err(TrapCode::IntegerOverflow);
    }
    Ok(x as i64)
}

pub(crate) fn i64_trunc_u(x: f64) -> Result<u64, TrapCode> {
    trunc_checked(x, -1.0, 18446744073709551616.0).map(|v| v as u64)
}

/// The 128-bit value with halves `lo` and `hi`.
#[inline(always)]
fn join128(lo: u64, hi: u64) -> u128 {
    u128::from(lo) | (u128::from(hi) << 64)
}

/// The `(low, high)` halves of `x`.
#[inline(always)]
fn split128(x: u128) -> (u64, u64) {
    (x as u64, (x >> 64) as u64)
}

/// `i64.add128`: the wrapping 128-bit sum of `lo1 | hi1 << 64` and `lo2 | hi2 << 64`.
#[inline(always)]
pub(crate) fn i64_add128(lo1: u64, hi1: u64, lo2: u64, hi2: u64) -> (u64, u64) {
    split128(join128(lo1, hi1).wrapping_add(join128(lo2, hi2)))
}

/// `i64.sub128`: the wrapping 128-bit difference, as [`i64_add128`].
#[inline(always)]
pub(crate) fn i64_sub128(lo1: u64, hi1: u64, lo2: u64, hi2: u64) -> (u64, u64) {
    split128(join128(lo1, hi1).wrapping_sub(join128(lo2, hi2)))
}

/// `i64.mul_wide_s`: the full 128-bit product of two signed `i64`s (it cannot overflow).
#[inline(always)]
pub(crate) fn i64_mul_wide_s(x: u64, y: u64) -> (u64, u64) {
    split128((i128::from(x as i64) * i128::from(y as i64)) as u128)
}

/// `i64.mul_wide_u`: the full 128-bit product of two unsigned `i64`s (it cannot overflow).
#[inline(always)]
pub(crate) fn i64_mul_wide_u(x: u64, y: u64) -> (u64, u64) {
    split128(u128::from(x) * u128::from(y))
}

/// Sign-bit operations on raw bits (no NaN canonicalisation).
pub(crate) const F32_SIGN: u32 = 0x8000_0000;
/// Sign bit of an f64.
pub(crate) const F64_SIGN: u64 = 0x8000_0000_0000_0000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_zero_signs_and_nan() {
        assert!(f32_min(0.0, -0.0).is_sign_negative());
        assert!(f32_min(-0.0, 0.0).is_sign_negative());
        assert!(f64_max(-0.0, 0.0).is_sign_positive());
        assert!(f64_max(0.0, -0.0).is_sign_positive());
        assert!(f32_min(f32::NAN, 1.0).is_nan());
        assert!(f64_max(1.0, f64::NAN).is_nan());
        assert_eq!(f64_min(1.0, 2.0), 1.0);
    }

    #[test]
    fn nearest_ties_to_even_and_quiet_nans() {
        assert_eq!(f32_round(2.5, f32::round_ties_even), 2.0);
        assert_eq!(f32_round(3.5, f32::round_ties_even), 4.0);
        assert!(f64_round(-0.5, f64::round_ties_even).is_sign_negative());
        let snan = f32::from_bits(0x7fa0_0000);
        assert_eq!(f32_round(snan, f32::floor).to_bits(), 0x7fe0_0000);
    }

    #[test]
    fn wide_arithmetic_carries_and_products() {
        assert_eq!(i64_add128(u64::MAX, 0, 1, 0), (0, 1));
        assert_eq!(i64_add128(u64::MAX, u64::MAX, 1, 0), (0, 0));
        assert_eq!(i64_sub128(0, 1, 1, 0), (u64::MAX, 0));
        assert_eq!(i64_sub128(0, 0, 1, 0), (u64::MAX, u64::MAX));
        let min = i64::MIN as u64;
        assert_eq!(i64_mul_wide_s(min, min), (0, 1 << 62));
        assert_eq!(i64_mul_wide_s(min, u64::MAX), (min, 0));
        assert_eq!(i64_mul_wide_s(u64::MAX, 1), (u64::MAX, u64::MAX));
        assert_eq!(i64_mul_wide_u(u64::MAX, u64::MAX), (1, u64::MAX - 1));
    }

    #[test]
    fn truncation_bounds() {
        assert_eq!(i32_trunc_s(-2147483648.9), Ok(i32::MIN));
        assert_eq!(i32_trunc_s(-2147483649.0), Err(TrapCode::IntegerOverflow));
        assert_eq!(i32_trunc_s(2147483647.9), Ok(i32::MAX));
        assert_eq!(i32_trunc_u(-0.9), Ok(0));
        assert_eq!(i32_trunc_u(-1.0), Err(TrapCode::IntegerOverflow));
        assert_eq!(i64_trunc_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(i64_trunc_s(9223372036854775808.0), Err(TrapCode::IntegerOverflow));
        assert_eq!(i64_trunc_u(f64::NAN), Err(TrapCode::BadConversionToInteger));
    }
}
