//! Semantics of the fixed-width SIMD (`v128`) operators, in portable Rust on `u128` values
//! (lane 0 in the lowest bits), so results are the same on every host.
//!
//! The operators are grouped by shape into the operation enums the IR carries
//! ([`SimdUnary`], [`SimdBinary`], ...); each group has one evaluation function here.
//! Enum variants are named after the wasm operators.

use super::num;
use crate::error::TrapCode;

/// Declares an operation enum and a lookup of its variants by name, for the translator.
macro_rules! simd_ops {
    ($(#[$meta:meta])* $name:ident { $($v:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        #[allow(clippy::enum_variant_names, reason = "variants are named after the wasm operators")]
        pub(crate) enum $name {
            $($v,)*
        }

        impl $name {
            /// The operation an operator without immediates stands for, if it is one of these.
            pub(crate) fn of(op: &wasmparser::Operator<'_>) -> Option<$name> {
                match op {
                    $(wasmparser::Operator::$v => Some($name::$v),)*
                    _ => None,
                }
            }
        }
    };
}

simd_ops!(
    /// `v128 -> v128`.
    SimdUnary {
        V128Not, I8x16Abs, I8x16Neg, I8x16Popcnt,
        I16x8ExtAddPairwiseI8x16S, I16x8ExtAddPairwiseI8x16U, I16x8Abs, I16x8Neg,
        I16x8ExtendLowI8x16S, I16x8ExtendHighI8x16S, I16x8ExtendLowI8x16U, I16x8ExtendHighI8x16U,
        I32x4ExtAddPairwiseI16x8S, I32x4ExtAddPairwiseI16x8U, I32x4Abs, I32x4Neg,
        I32x4ExtendLowI16x8S, I32x4ExtendHighI16x8S, I32x4ExtendLowI16x8U, I32x4ExtendHighI16x8U,
        I64x2Abs, I64x2Neg,
        I64x2ExtendLowI32x4S, I64x2ExtendHighI32x4S, I64x2ExtendLowI32x4U, I64x2ExtendHighI32x4U,
        F32x4Ceil, F32x4Floor, F32x4Trunc, F32x4Nearest, F32x4Abs, F32x4Neg, F32x4Sqrt,
        F64x2Ceil, F64x2Floor, F64x2Trunc, F64x2Nearest, F64x2Abs, F64x2Neg, F64x2Sqrt,
        I32x4TruncSatF32x4S, I32x4TruncSatF32x4U, F32x4ConvertI32x4S, F32x4ConvertI32x4U,
        I32x4TruncSatF64x2SZero, I32x4TruncSatF64x2UZero, F64x2ConvertLowI32x4S, F64x2ConvertLowI32x4U,
        F32x4DemoteF64x2Zero, F64x2PromoteLowF32x4,
    }
);

simd_ops!(
    /// `v128 v128 -> v128`.
    SimdBinary {
        V128And, V128AndNot, V128Or, V128Xor, I8x16Swizzle,
        I8x16Eq, I8x16Ne, I8x16LtS, I8x16LtU, I8x16GtS, I8x16GtU, I8x16LeS, I8x16LeU, I8x16GeS, I8x16GeU,
        I16x8Eq, I16x8Ne, I16x8LtS, I16x8LtU, I16x8GtS, I16x8GtU, I16x8LeS, I16x8LeU, I16x8GeS, I16x8GeU,
        I32x4Eq, I32x4Ne, I32x4LtS, I32x4LtU, I32x4GtS, I32x4GtU, I32x4LeS, I32x4LeU, I32x4GeS, I32x4GeU,
        I64x2Eq, I64x2Ne, I64x2LtS, I64x2GtS, I64x2LeS, I64x2GeS,
        F32x4Eq, F32x4Ne, F32x4Lt, F32x4Gt, F32x4Le, F32x4Ge,
        F64x2Eq, F64x2Ne, F64x2Lt, F64x2Gt, F64x2Le, F64x2Ge,
        I8x16NarrowI16x8S, I8x16NarrowI16x8U,
        I8x16Add, I8x16AddSatS, I8x16AddSatU, I8x16Sub, I8x16SubSatS, I8x16SubSatU,
        I8x16MinS, I8x16MinU, I8x16MaxS, I8x16MaxU, I8x16AvgrU,
        I16x8Q15MulrSatS, I16x8NarrowI32x4S, I16x8NarrowI32x4U,
        I16x8Add, I16x8AddSatS, I16x8AddSatU, I16x8Sub, I16x8SubSatS, I16x8SubSatU, I16x8Mul,
        I16x8MinS, I16x8MinU, I16x8MaxS, I16x8MaxU, I16x8AvgrU,
        I16x8ExtMulLowI8x16S, I16x8ExtMulHighI8x16S, I16x8ExtMulLowI8x16U, I16x8ExtMulHighI8x16U,
        I32x4Add, I32x4Sub, I32x4Mul, I32x4MinS, I32x4MinU, I32x4MaxS, I32x4MaxU, I32x4DotI16x8S,
        I32x4ExtMulLowI16x8S, I32x4ExtMulHighI16x8S, I32x4ExtMulLowI16x8U, I32x4ExtMulHighI16x8U,
        I64x2Add, I64x2Sub, I64x2Mul,
        I64x2ExtMulLowI32x4S, I64x2ExtMulHighI32x4S, I64x2ExtMulLowI32x4U, I64x2ExtMulHighI32x4U,
        F32x4Add, F32x4Sub, F32x4Mul, F32x4Div, F32x4Min, F32x4Max, F32x4PMin, F32x4PMax,
        F64x2Add, F64x2Sub, F64x2Mul, F64x2Div, F64x2Min, F64x2Max, F64x2PMin, F64x2PMax,
        I16x8RelaxedDotI8x16I7x16S,
    }
);

simd_ops!(
    /// `v128 i32 -> v128`: shifts by a scalar amount (taken modulo the lane width).
    SimdShift {
        I8x16Shl, I8x16ShrS, I8x16ShrU, I16x8Shl, I16x8ShrS, I16x8ShrU,
        I32x4Shl, I32x4ShrS, I32x4ShrU, I64x2Shl, I64x2ShrS, I64x2ShrU,
    }
);

simd_ops!(
    /// `v128 -> i32`: lane tests and bit masks.
    SimdTest {
        V128AnyTrue, I8x16AllTrue, I8x16Bitmask, I16x8AllTrue, I16x8Bitmask,
        I32x4AllTrue, I32x4Bitmask, I64x2AllTrue, I64x2Bitmask,
    }
);

simd_ops!(
    /// `scalar -> v128`: splats.
    SimdSplat {
        I8x16Splat, I16x8Splat, I32x4Splat, I64x2Splat, F32x4Splat, F64x2Splat,
    }
);

pub(crate) mod relaxed;

/// The lane shapes of `extract_lane` / `replace_lane` (`S` / `U`: how an i8 / i16 lane extends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum LaneShape {
    I8S,
    I8U,
    I16S,
    I16U,
    I32,
    I64,
}

/// The widening, splatting and zero-filling loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum SimdLoad {
    Load8x8S,
    Load8x8U,
    Load16x4S,
    Load16x4U,
    Load32x2S,
    Load32x2U,
    Load8Splat,
    Load16Splat,
    Load32Splat,
    Load64Splat,
    Load32Zero,
    Load64Zero,
}

impl SimdLoad {
    /// Bytes read from memory.
    pub(crate) fn len_bytes(self) -> usize {
        use SimdLoad::*;
        match self {
            Load8Splat => 1,
            Load16Splat => 2,
            Load32Splat | Load32Zero => 4,
            _ => 8,
        }
    }

    /// The vector built from the `len_bytes()` little-endian bytes in `bits`.
    pub(crate) fn apply(self, bits: u64) -> u128 {
        use SimdLoad::*;
        match self {
            Load8x8S => put16(std::array::from_fn(|i| (bits >> (8 * i)) as u8 as i8 as u16)),
            Load8x8U => put16(std::array::from_fn(|i| u16::from((bits >> (8 * i)) as u8))),
            Load16x4S => put32(std::array::from_fn(|i| (bits >> (16 * i)) as u16 as i16 as u32)),
            Load16x4U => put32(std::array::from_fn(|i| u32::from((bits >> (16 * i)) as u16))),
            Load32x2S => put64(std::array::from_fn(|i| (bits >> (32 * i)) as u32 as i32 as u64)),
            Load32x2U => put64(std::array::from_fn(|i| u64::from((bits >> (32 * i)) as u32))),
            Load8Splat => splat(SimdSplat::I8x16Splat, bits),
            Load16Splat => splat(SimdSplat::I16x8Splat, bits),
            Load32Splat => splat(SimdSplat::I32x4Splat, bits),
            Load64Splat => splat(SimdSplat::I64x2Splat, bits),
            Load32Zero => u128::from(bits as u32),
            Load64Zero => u128::from(bits),
        }
    }
}

/// Reads `out.len()` bytes at `addr + offset` (33-bit effective address) of `data`.
pub(crate) fn read_mem(data: &[u8], addr: u32, offset: u32, out: &mut [u8]) -> Result<(), TrapCode> {
    let ea = u64::from(addr) + u64::from(offset);
    let end = ea + out.len() as u64;
    if end > data.len() as u64 {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    out.copy_from_slice(&data[ea as usize..end as usize]);
    Ok(())
}

/// Writes `bytes` at `addr + offset` of `data`.
pub(crate) fn write_mem(data: &mut [u8], addr: u32, offset: u32, bytes: &[u8]) -> Result<(), TrapCode> {
    let ea = u64::from(addr) + u64::from(offset);
    let end = ea + bytes.len() as u64;
    if end > data.len() as u64 {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    data[ea as usize..end as usize].copy_from_slice(bytes);
    Ok(())
}

/// Reads `len_bytes` (1, 2, 4 or 8) little-endian bytes as a zero-extended `u64`.
pub(crate) fn read_le(data: &[u8], addr: u32, offset: u32, len_bytes: usize) -> Result<u64, TrapCode> {
    let mut b = [0u8; 8];
    read_mem(data, addr, offset, &mut b[..len_bytes.min(8)])?;
    Ok(u64::from_le_bytes(b))
}

// ---- lanes ----

macro_rules! lane_conv {
    ($get:ident, $put:ident, $t:ty, $n:literal, $bits:literal) => {
        #[inline]
        fn $get(v: u128) -> [$t; $n] {
            std::array::from_fn(|i| (v >> (i * $bits)) as $t)
        }

        #[inline]
        fn $put(lanes: [$t; $n]) -> u128 {
            lanes.iter().enumerate().fold(0u128, |acc, (i, &x)| acc | (u128::from(x) << (i * $bits)))
        }
    };
}

lane_conv!(get8, put8, u8, 16, 8);
lane_conv!(get16, put16, u16, 8, 16);
lane_conv!(get32, put32, u32, 4, 32);
lane_conv!(get64, put64, u64, 2, 64);

macro_rules! lane_ops {
    ($map:ident, $zip:ident, $get:ident, $put:ident, $t:ty) => {
        #[inline]
        fn $map(a: u128, f: impl Fn($t) -> $t) -> u128 {
            $put($get(a).map(f))
        }

        #[inline]
        fn $zip(a: u128, b: u128, f: impl Fn($t, $t) -> $t) -> u128 {
            let (x, y) = ($get(a), $get(b));
            $put(std::array::from_fn(|i| f(x[i], y[i])))
        }
    };
}

lane_ops!(map8, zip8, get8, put8, u8);
lane_ops!(map16, zip16, get16, put16, u16);
lane_ops!(map32, zip32, get32, put32, u32);
lane_ops!(map64, zip64, get64, put64, u64);

/// All ones if `c`, else zero, at any lane width.
#[inline]
fn mask<T: From<u8> + std::ops::Not<Output = T>>(c: bool) -> T {
    if c { !T::from(0) } else { T::from(0) }
}

#[inline]
fn f32u(x: u32, f: impl Fn(f32) -> f32) -> u32 {
    f(f32::from_bits(x)).to_bits()
}

#[inline]
fn f64u(x: u64, f: impl Fn(f64) -> f64) -> u64 {
    f(f64::from_bits(x)).to_bits()
}

#[inline]
fn f32b(x: u32, y: u32, f: impl Fn(f32, f32) -> f32) -> u32 {
    f(f32::from_bits(x), f32::from_bits(y)).to_bits()
}

#[inline]
fn f64b(x: u64, y: u64, f: impl Fn(f64, f64) -> f64) -> u64 {
    f(f64::from_bits(x), f64::from_bits(y)).to_bits()
}

#[inline]
fn f32c(x: u32, y: u32, f: impl Fn(f32, f32) -> bool) -> u32 {
    mask(f(f32::from_bits(x), f32::from_bits(y)))
}

#[inline]
fn f64c(x: u64, y: u64, f: impl Fn(f64, f64) -> bool) -> u64 {
    mask(f(f64::from_bits(x), f64::from_bits(y)))
}

fn sat_i8(x: i16) -> u8 {
    x.clamp(i16::from(i8::MIN), i16::from(i8::MAX)) as i8 as u8
}

fn sat_u8(x: i16) -> u8 {
    x.clamp(0, i16::from(u8::MAX)) as u8
}

fn sat_i16(x: i32) -> u16 {
    x.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16 as u16
}

fn sat_u16(x: i32) -> u16 {
    x.clamp(0, i32::from(u16::MAX)) as u16
}

/// Evaluates a unary operation.
pub(crate) fn unary(op: SimdUnary, a: u128) -> u128 {
    use SimdUnary::*;
    let s8 = |i: usize| get8(a)[i] as i8;
    let s16 = |i: usize| get16(a)[i] as i16;
    let s32 = |i: usize| get32(a)[i] as i32;
    match op {
        V128Not => !a,
        I8x16Abs => map8(a, |x| (x as i8).wrapping_abs() as u8),
        I8x16Neg => map8(a, |x| (x as i8).wrapping_neg() as u8),
        I8x16Popcnt => map8(a, |x| x.count_ones() as u8),
        I16x8ExtAddPairwiseI8x16S => {
            put16(std::array::from_fn(|i| (i16::from(s8(2 * i)) + i16::from(s8(2 * i + 1))) as u16))
        }
        I16x8ExtAddPairwiseI8x16U => {
            let x = get8(a);
            put16(std::array::from_fn(|i| u16::from(x[2 * i]) + u16::from(x[2 * i + 1])))
        }
        I16x8Abs => map16(a, |x| (x as i16).wrapping_abs() as u16),
        I16x8Neg => map16(a, |x| (x as i16).wrapping_neg() as u16),
        I16x8ExtendLowI8x16S => put16(std::array::from_fn(|i| i16::from(s8(i)) as u16)),
        I16x8ExtendHighI8x16S => put16(std::array::from_fn(|i| i16::from(s8(i + 8)) as u16)),
        I16x8ExtendLowI8x16U => put16(std::array::from_fn(|i| u16::from(get8(a)[i]))),
        I16x8ExtendHighI8x16U => put16(std::array::from_fn(|i| u16::from(get8(a)[i + 8]))),
        I32x4ExtAddPairwiseI16x8S => {
            put32(std::array::from_fn(|i| (i32::from(s16(2 * i)) + i32::from(s16(2 * i + 1))) as u32))
        }
        I32x4ExtAddPairwiseI16x8U => {
            let x = get16(a);
            put32(std::array::from_fn(|i| u32::from(x[2 * i]) + u32::from(x[2 * i + 1])))
        }
        I32x4Abs => map32(a, |x| (x as i32).wrapping_abs() as u32),
        I32x4Neg => map32(a, |x| (x as i32).wrapping_neg() as u32),
        I32x4ExtendLowI16x8S => put32(std::array::from_fn(|i| i32::from(s16(i)) as u32)),
        I32x4ExtendHighI16x8S => put32(std::array::from_fn(|i| i32::from(s16(i + 4)) as u32)),
        I32x4ExtendLowI16x8U => put32(std::array::from_fn(|i| u32::from(get16(a)[i]))),
        I32x4ExtendHighI16x8U => put32(std::array::from_fn(|i| u32::from(get16(a)[i + 4]))),
        I64x2Abs => map64(a, |x| (x as i64).wrapping_abs() as u64),
        I64x2Neg => map64(a, |x| (x as i64).wrapping_neg() as u64),
        I64x2ExtendLowI32x4S => put64(std::array::from_fn(|i| i64::from(s32(i)) as u64)),
        I64x2ExtendHighI32x4S => put64(std::array::from_fn(|i| i64::from(s32(i + 2)) as u64)),
        I64x2ExtendLowI32x4U => put64(std::array::from_fn(|i| u64::from(get32(a)[i]))),
        I64x2ExtendHighI32x4U => put64(std::array::from_fn(|i| u64::from(get32(a)[i + 2]))),
        F32x4Ceil => map32(a, |x| f32u(x, |f| num::f32_round(f, f32::ceil))),
        F32x4Floor => map32(a, |x| f32u(x, |f| num::f32_round(f, f32::floor))),
        F32x4Trunc => map32(a, |x| f32u(x, |f| num::f32_round(f, f32::trunc))),
        F32x4Nearest => map32(a, |x| f32u(x, |f| num::f32_round(f, f32::round_ties_even))),
        F32x4Abs => map32(a, |x| x & !num::F32_SIGN),
        F32x4Neg => map32(a, |x| x ^ num::F32_SIGN),
        F32x4Sqrt => map32(a, |x| f32u(x, f32::sqrt)),
        F64x2Ceil => map64(a, |x| f64u(x, |f| num::f64_round(f, f64::ceil))),
        F64x2Floor => map64(a, |x| f64u(x, |f| num::f64_round(f, f64::floor))),
        F64x2Trunc => map64(a, |x| f64u(x, |f| num::f64_round(f, f64::trunc))),
        F64x2Nearest => map64(a, |x| f64u(x, |f| num::f64_round(f, f64::round_ties_even))),
        F64x2Abs => map64(a, |x| x & !num::F64_SIGN),
        F64x2Neg => map64(a, |x| x ^ num::F64_SIGN),
        F64x2Sqrt => map64(a, |x| f64u(x, f64::sqrt)),
        // Rust's float-to-int `as` saturates and maps NaN to 0: exactly `trunc_sat`.
        I32x4TruncSatF32x4S => map32(a, |x| f32::from_bits(x) as i32 as u32),
        I32x4TruncSatF32x4U => map32(a, |x| f32::from_bits(x) as u32),
        F32x4ConvertI32x4S => map32(a, |x| (x as i32 as f32).to_bits()),
        F32x4ConvertI32x4U => map32(a, |x| (x as f32).to_bits()),
        I32x4TruncSatF64x2SZero => {
            let x = get64(a);
            put32([f64::from_bits(x[0]) as i32 as u32, f64::from_bits(x[1]) as i32 as u32, 0, 0])
        }
        I32x4TruncSatF64x2UZero => {
            let x = get64(a);
            put32([f64::from_bits(x[0]) as u32, f64::from_bits(x[1]) as u32, 0, 0])
        }
        F64x2ConvertLowI32x4S => put64(std::array::from_fn(|i| f64::from(s32(i)).to_bits())),
        F64x2ConvertLowI32x4U => put64(std::array::from_fn(|i| f64::from(get32(a)[i]).to_bits())),
        F32x4DemoteF64x2Zero => {
            let x = get64(a);
            put32([(f64::from_bits(x[0]) as f32).to_bits(), (f64::from_bits(x[1]) as f32).to_bits(), 0, 0])
        }
        F64x2PromoteLowF32x4 => put64(std::array::from_fn(|i| f64::from(f32::from_bits(get32(a)[i])).to_bits())),
    }
}

/// Evaluates a binary operation.
pub(crate) fn binary(op: SimdBinary, a: u128, b: u128) -> u128 {
    use SimdBinary::*;
    match op {
        V128And => a & b,
        V128AndNot => a & !b,
        V128Or => a | b,
        V128Xor => a ^ b,
        I8x16Swizzle => {
            let x = get8(a);
            map8(b, |i| x.get(usize::from(i)).copied().unwrap_or(0))
        }
        I8x16Eq => zip8(a, b, |x, y| mask(x == y)),
        I8x16Ne => zip8(a, b, |x, y| mask(x != y)),
        I8x16LtS => zip8(a, b, |x, y| mask((x as i8) < (y as i8))),
        I8x16LtU => zip8(a, b, |x, y| mask(x < y)),
        I8x16GtS => zip8(a, b, |x, y| mask((x as i8) > (y as i8))),
        I8x16GtU => zip8(a, b, |x, y| mask(x > y)),
        I8x16LeS => zip8(a, b, |x, y| mask((x as i8) <= (y as i8))),
        I8x16LeU => zip8(a, b, |x, y| mask(x <= y)),
        I8x16GeS => zip8(a, b, |x, y| mask((x as i8) >= (y as i8))),
        I8x16GeU => zip8(a, b, |x, y| mask(x >= y)),
        I16x8Eq => zip16(a, b, |x, y| mask(x == y)),
        I16x8Ne => zip16(a, b, |x, y| mask(x != y)),
        I16x8LtS => zip16(a, b, |x, y| mask((x as i16) < (y as i16))),
        I16x8LtU => zip16(a, b, |x, y| mask(x < y)),
        I16x8GtS => zip16(a, b, |x, y| mask((x as i16) > (y as i16))),
        I16x8GtU => zip16(a, b, |x, y| mask(x > y)),
        I16x8LeS => zip16(a, b, |x, y| mask((x as i16) <= (y as i16))),
        I16x8LeU => zip16(a, b, |x, y| mask(x <= y)),
        I16x8GeS => zip16(a, b, |x, y| mask((x as i16) >= (y as i16))),
        I16x8GeU => zip16(a, b, |x, y| mask(x >= y)),
        I32x4Eq => zip32(a, b, |x, y| mask(x == y)),
        I32x4Ne => zip32(a, b, |x, y| mask(x != y)),
        I32x4LtS => zip32(a, b, |x, y| mask((x as i32) < (y as i32))),
        I32x4LtU => zip32(a, b, |x, y| mask(x < y)),
        I32x4GtS => zip32(a, b, |x, y| mask((x as i32) > (y as i32))),
        I32x4GtU => zip32(a, b, |x, y| mask(x > y)),
        I32x4LeS => zip32(a, b, |x, y| mask((x as i32) <= (y as i32))),
        I32x4LeU => zip32(a, b, |x, y| mask(x <= y)),
        I32x4GeS => zip32(a, b, |x, y| mask((x as i32) >= (y as i32))),
        I32x4GeU => zip32(a, b, |x, y| mask(x >= y)),
        I64x2Eq => zip64(a, b, |x, y| mask(x == y)),
        I64x2Ne => zip64(a, b, |x, y| mask(x != y)),
        I64x2LtS => zip64(a, b, |x, y| mask((x as i64) < (y as i64))),
        I64x2GtS => zip64(a, b, |x, y| mask((x as i64) > (y as i64))),
        I64x2LeS => zip64(a, b, |x, y| mask((x as i64) <= (y as i64))),
        I64x2GeS => zip64(a, b, |x, y| mask((x as i64) >= (y as i64))),
        F32x4Eq => zip32(a, b, |x, y| f32c(x, y, |p, q| p == q)),
        F32x4Ne => zip32(a, b, |x, y| f32c(x, y, |p, q| p != q)),
        F32x4Lt => zip32(a, b, |x, y| f32c(x, y, |p, q| p < q)),
        F32x4Gt => zip32(a, b, |x, y| f32c(x, y, |p, q| p > q)),
        F32x4Le => zip32(a, b, |x, y| f32c(x, y, |p, q| p <= q)),
        F32x4Ge => zip32(a, b, |x, y| f32c(x, y, |p, q| p >= q)),
        F64x2Eq => zip64(a, b, |x, y| f64c(x, y, |p, q| p == q)),
        F64x2Ne => zip64(a, b, |x, y| f64c(x, y, |p, q| p != q)),
        F64x2Lt => zip64(a, b, |x, y| f64c(x, y, |p, q| p < q)),
        F64x2Gt => zip64(a, b, |x, y| f64c(x, y, |p, q| p > q)),
        F64x2Le => zip64(a, b, |x, y| f64c(x, y, |p, q| p <= q)),
        F64x2Ge => zip64(a, b, |x, y| f64c(x, y, |p, q| p >= q)),
        I8x16NarrowI16x8S | I8x16NarrowI16x8U => {
            let sat = if op == I8x16NarrowI16x8S { sat_i8 } else { sat_u8 };
            let (x, y) = (get16(a), get16(b));
            put8(std::array::from_fn(|i| sat(if i < 8 { x[i] } else { y[i - 8] } as i16)))
        }
        I8x16Add => zip8(a, b, u8::wrapping_add),
        I8x16AddSatS => zip8(a, b, |x, y| (x as i8).saturating_add(y as i8) as u8),
        I8x16AddSatU => zip8(a, b, u8::saturating_add),
        I8x16Sub => zip8(a, b, u8::wrapping_sub),
        I8x16SubSatS => zip8(a, b, |x, y| (x as i8).saturating_sub(y as i8) as u8),
        I8x16SubSatU => zip8(a, b, u8::saturating_sub),
        I8x16MinS => zip8(a, b, |x, y| (x as i8).min(y as i8) as u8),
        I8x16MinU => zip8(a, b, u8::min),
        I8x16MaxS => zip8(a, b, |x, y| (x as i8).max(y as i8) as u8),
        I8x16MaxU => zip8(a, b, u8::max),
        I8x16AvgrU => zip8(a, b, |x, y| ((u16::from(x) + u16::from(y) + 1) >> 1) as u8),
        I16x8Q15MulrSatS => zip16(a, b, |x, y| sat_i16((i32::from(x as i16) * i32::from(y as i16) + 0x4000) >> 15)),
        I16x8NarrowI32x4S | I16x8NarrowI32x4U => {
            let sat = if op == I16x8NarrowI32x4S { sat_i16 } else { sat_u16 };
            let (x, y) = (get32(a), get32(b));
            put16(std::array::from_fn(|i| sat(if i < 4 { x[i] } else { y[i - 4] } as i32)))
        }
        I16x8Add => zip16(a, b, u16::wrapping_add),
        I16x8AddSatS => zip16(a, b, |x, y| (x as i16).saturating_add(y as i16) as u16),
        I16x8AddSatU => zip16(a, b, u16::saturating_add),
        I16x8Sub => zip16(a, b, u16::wrapping_sub),
        I16x8SubSatS => zip16(a, b, |x, y| (x as i16).saturating_sub(y as i16) as u16),
        I16x8SubSatU => zip16(a, b, u16::saturating_sub),
        I16x8Mul => zip16(a, b, u16::wrapping_mul),
        I16x8MinS => zip16(a, b, |x, y| (x as i16).min(y as i16) as u16),
        I16x8MinU => zip16(a, b, u16::min),
        I16x8MaxS => zip16(a, b, |x, y| (x as i16).max(y as i16) as u16),
        I16x8MaxU => zip16(a, b, u16::max),
        I16x8AvgrU => zip16(a, b, |x, y| ((u32::from(x) + u32::from(y) + 1) >> 1) as u16),
        I16x8ExtMulLowI8x16S | I16x8ExtMulHighI8x16S | I16x8ExtMulLowI8x16U | I16x8ExtMulHighI8x16U => {
            let at = if matches!(op, I16x8ExtMulLowI8x16S | I16x8ExtMulLowI8x16U) { 0 } else { 8 };
            let signed = matches!(op, I16x8ExtMulLowI8x16S | I16x8ExtMulHighI8x16S);
            let (x, y) = (get8(a), get8(b));
            put16(std::array::from_fn(|i| {
                let (p, q) = (x[i + at], y[i + at]);
                if signed {
                    i16::from(p as i8).wrapping_mul(i16::from(q as i8)) as u16
                } else {
                    u16::from(p) * u16::from(q)
                }
            }))
        }
        I32x4Add => zip32(a, b, u32::wrapping_add),
        I32x4Sub => zip32(a, b, u32::wrapping_sub),
        I32x4Mul => zip32(a, b, u32::wrapping_mul),
        I32x4MinS => zip32(a, b, |x, y| (x as i32).min(y as i32) as u32),
        I32x4MinU => zip32(a, b, u32::min),
        I32x4MaxS => zip32(a, b, |x, y| (x as i32).max(y as i32) as u32),
        I32x4MaxU => zip32(a, b, u32::max),
        I32x4DotI16x8S => {
            let (x, y) = (get16(a), get16(b));
            let prod = |i: usize| i32::from(x[i] as i16) * i32::from(y[i] as i16);
            put32(std::array::from_fn(|i| prod(2 * i).wrapping_add(prod(2 * i + 1)) as u32))
        }
        I32x4ExtMulLowI16x8S | I32x4ExtMulHighI16x8S | I32x4ExtMulLowI16x8U | I32x4ExtMulHighI16x8U => {
            let at = if matches!(op, I32x4ExtMulLowI16x8S | I32x4ExtMulLowI16x8U) { 0 } else { 4 };
            let signed = matches!(op, I32x4ExtMulLowI16x8S | I32x4ExtMulHighI16x8S);
            let (x, y) = (get16(a), get16(b));
            put32(std::array::from_fn(|i| {
                let (p, q) = (x[i + at], y[i + at]);
                if signed {
                    i32::from(p as i16).wrapping_mul(i32::from(q as i16)) as u32
                } else {
                    u32::from(p) * u32::from(q)
                }
            }))
        }
        I64x2Add => zip64(a, b, u64::wrapping_add),
        I64x2Sub => zip64(a, b, u64::wrapping_sub),
        I64x2Mul => zip64(a, b, u64::wrapping_mul),
        I64x2ExtMulLowI32x4S | I64x2ExtMulHighI32x4S | I64x2ExtMulLowI32x4U | I64x2ExtMulHighI32x4U => {
            let at = if matches!(op, I64x2ExtMulLowI32x4S | I64x2ExtMulLowI32x4U) { 0 } else { 2 };
            let signed = matches!(op, I64x2ExtMulLowI32x4S | I64x2ExtMulHighI32x4S);
            let (x, y) = (get32(a), get32(b));
            put64(std::array::from_fn(|i| {
                let (p, q) = (x[i + at], y[i + at]);
                if signed {
                    i64::from(p as i32).wrapping_mul(i64::from(q as i32)) as u64
                } else {
                    u64::from(p) * u64::from(q)
                }
            }))
        }
        F32x4Add => zip32(a, b, |x, y| f32b(x, y, |p, q| p + q)),
        F32x4Sub => zip32(a, b, |x, y| f32b(x, y, |p, q| p - q)),
        F32x4Mul => zip32(a, b, |x, y| f32b(x, y, |p, q| p * q)),
        F32x4Div => zip32(a, b, |x, y| f32b(x, y, |p, q| p / q)),
        F32x4Min => zip32(a, b, |x, y| f32b(x, y, num::f32_min)),
        F32x4Max => zip32(a, b, |x, y| f32b(x, y, num::f32_max)),
        // pmin / pmax: `b < a ? b : a` and `a < b ? b : a`, bit patterns kept.
        F32x4PMin => zip32(a, b, |x, y| if f32::from_bits(y) < f32::from_bits(x) { y } else { x }),
        F32x4PMax => zip32(a, b, |x, y| if f32::from_bits(x) < f32::from_bits(y) { y } else { x }),
        F64x2Add => zip64(a, b, |x, y| f64b(x, y, |p, q| p + q)),
        F64x2Sub => zip64(a, b, |x, y| f64b(x, y, |p, q| p - q)),
        F64x2Mul => zip64(a, b, |x, y| f64b(x, y, |p, q| p * q)),
        F64x2Div => zip64(a, b, |x, y| f64b(x, y, |p, q| p / q)),
        F64x2Min => zip64(a, b, |x, y| f64b(x, y, num::f64_min)),
        F64x2Max => zip64(a, b, |x, y| f64b(x, y, num::f64_max)),
        F64x2PMin => zip64(a, b, |x, y| if f64::from_bits(y) < f64::from_bits(x) { y } else { x }),
        F64x2PMax => zip64(a, b, |x, y| if f64::from_bits(x) < f64::from_bits(y) { y } else { x }),
        I16x8RelaxedDotI8x16I7x16S => relaxed::dot_i8x16_i7x16_s(a, b),
    }
}

/// Evaluates a shift by `amount` (taken modulo the lane width).
pub(crate) fn shift(op: SimdShift, a: u128, amount: u32) -> u128 {
    use SimdShift::*;
    match op {
        I8x16Shl => map8(a, |x| x.wrapping_shl(amount)),
        I8x16ShrS => map8(a, |x| (x as i8).wrapping_shr(amount) as u8),
        I8x16ShrU => map8(a, |x| x.wrapping_shr(amount)),
        I16x8Shl => map16(a, |x| x.wrapping_shl(amount)),
        I16x8ShrS => map16(a, |x| (x as i16).wrapping_shr(amount) as u16),
        I16x8ShrU => map16(a, |x| x.wrapping_shr(amount)),
        I32x4Shl => map32(a, |x| x.wrapping_shl(amount)),
        I32x4ShrS => map32(a, |x| (x as i32).wrapping_shr(amount) as u32),
        I32x4ShrU => map32(a, |x| x.wrapping_shr(amount)),
        I64x2Shl => map64(a, |x| x.wrapping_shl(amount)),
        I64x2ShrS => map64(a, |x| (x as i64).wrapping_shr(amount) as u64),
        I64x2ShrU => map64(a, |x| x.wrapping_shr(amount)),
    }
}

/// Evaluates a test; the result is an `i32`.
pub(crate) fn test(op: SimdTest, a: u128) -> u32 {
    use SimdTest::*;
    fn bitmask<T: Copy>(lanes: &[T], top: impl Fn(T) -> bool) -> u32 {
        lanes.iter().enumerate().fold(0, |acc, (i, &x)| acc | (u32::from(top(x)) << i))
    }
    match op {
        V128AnyTrue => u32::from(a != 0),
        I8x16AllTrue => u32::from(get8(a).iter().all(|&x| x != 0)),
        I16x8AllTrue => u32::from(get16(a).iter().all(|&x| x != 0)),
        I32x4AllTrue => u32::from(get32(a).iter().all(|&x| x != 0)),
        I64x2AllTrue => u32::from(get64(a).iter().all(|&x| x != 0)),
        I8x16Bitmask => bitmask(&get8(a), |x| x >> 7 != 0),
        I16x8Bitmask => bitmask(&get16(a), |x| x >> 15 != 0),
        I32x4Bitmask => bitmask(&get32(a), |x| x >> 31 != 0),
        I64x2Bitmask => bitmask(&get64(a), |x| x >> 63 != 0),
    }
}

/// Evaluates a splat of the scalar slot `x`.
pub(crate) fn splat(op: SimdSplat, x: u64) -> u128 {
    use SimdSplat::*;
    match op {
        I8x16Splat => put8([x as u8; 16]),
        I16x8Splat => put16([x as u16; 8]),
        I32x4Splat | F32x4Splat => put32([x as u32; 4]),
        I64x2Splat | F64x2Splat => put64([x; 2]),
    }
}

/// The unsigned lane shape of a `len_bytes`-byte lane (lane loads and stores).
pub(crate) fn lane_shape_of_len(len_bytes: usize) -> LaneShape {
    match len_bytes {
        1 => LaneShape::I8U,
        2 => LaneShape::I16U,
        4 => LaneShape::I32,
        _ => LaneShape::I64,
    }
}

/// Width in bits of a lane shape.
fn lane_bits(shape: LaneShape) -> u32 {
    match shape {
        LaneShape::I8S | LaneShape::I8U => 8,
        LaneShape::I16S | LaneShape::I16U => 16,
        LaneShape::I32 => 32,
        LaneShape::I64 => 64,
    }
}

/// Lane `lane` of `v` as a scalar slot (`f32` lanes use `I32`, `f64` lanes `I64`).
/// Lane indices are validated; an out-of-range one wraps instead of failing.
pub(crate) fn extract_lane(shape: LaneShape, lane: u8, v: u128) -> u64 {
    let bits = lane_bits(shape);
    let lanes = 128 / bits;
    let x = (v >> ((u32::from(lane) % lanes) * bits)) as u64;
    match shape {
        LaneShape::I8S => u64::from(x as u8 as i8 as i32 as u32),
        LaneShape::I8U => u64::from(x as u8),
        LaneShape::I16S => u64::from(x as u16 as i16 as i32 as u32),
        LaneShape::I16U => u64::from(x as u16),
        LaneShape::I32 => u64::from(x as u32),
        LaneShape::I64 => x,
    }
}

/// `v` with lane `lane` replaced by the low bits of `x`.
pub(crate) fn replace_lane(shape: LaneShape, lane: u8, v: u128, x: u64) -> u128 {
    let bits = lane_bits(shape);
    let lanes = 128 / bits;
    let at = (u32::from(lane) % lanes) * bits;
    let ones = if bits == 64 { u128::from(u64::MAX) } else { (1u128 << bits) - 1 };
    (v & !(ones << at)) | ((u128::from(x) & ones) << at)
}

/// `i8x16.shuffle`: byte `i` of the result is byte `lanes[i]` of `a ++ b`.
pub(crate) fn shuffle(lanes: u128, a: u128, b: u128) -> u128 {
    let (x, y) = (get8(a), get8(b));
    map8(lanes, |i| {
        let i = usize::from(i % 32);
        if i < 16 { x[i] } else { y[i - 16] }
    })
}

/// `v128.bitselect`: bits of `a` where `c` is set, of `b` elsewhere.
pub(crate) fn bitselect(a: u128, b: u128, c: u128) -> u128 {
    (a & c) | (b & !c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_round_trip() {
        let v = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeffu128;
        assert_eq!(put8(get8(v)), v);
        assert_eq!(put16(get16(v)), v);
        assert_eq!(put32(get32(v)), v);
        assert_eq!(put64(get64(v)), v);
        assert_eq!(get8(v)[0], 0xff);
    }

    #[test]
    fn lane_access() {
        let v = put32([1, 2, 3, 4]);
        assert_eq!(extract_lane(LaneShape::I32, 2, v), 3);
        assert_eq!(replace_lane(LaneShape::I32, 1, v, 9), put32([1, 9, 3, 4]));
        assert_eq!(extract_lane(LaneShape::I8S, 0, put8([0x80; 16])), 0xffff_ff80);
        assert_eq!(replace_lane(LaneShape::I64, 1, 0, u64::MAX), u128::from(u64::MAX) << 64);
    }

    #[test]
    fn saturating_and_rounding() {
        assert_eq!(binary(SimdBinary::I8x16AddSatS, put8([0x7f; 16]), put8([1; 16])), put8([0x7f; 16]));
        assert_eq!(binary(SimdBinary::I16x8Q15MulrSatS, put16([0x8000; 8]), put16([0x8000; 8])), put16([0x7fff; 8]));
        let half = put32([0.5f32.to_bits(), 1.5f32.to_bits(), 2.5f32.to_bits(), (-0.5f32).to_bits()]);
        let r = unary(SimdUnary::F32x4Nearest, half);
        assert_eq!(r, put32([0f32.to_bits(), 2f32.to_bits(), 2f32.to_bits(), (-0f32).to_bits()]));
    }
}
