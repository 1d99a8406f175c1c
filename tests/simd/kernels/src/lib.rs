//! SIMD kernels for `tests/simd_kernels.rs`, built for `wasm32-unknown-unknown` with
//! `-C target-feature=+simd128` (see `tests/simd/build.sh`).
//!
//! `portable_*` exports run the auto-vectorised loops of `portable.rs`; `intrinsics` runs
//! hand-written `core::arch::wasm32` code. Results are checksums the test recomputes natively.

#![no_std]

use core::arch::wasm32::*;

mod portable;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// [`portable::mix_checksum`], auto-vectorised.
#[unsafe(no_mangle)]
pub extern "C" fn portable_mix(seed: u32) -> u64 {
    portable::mix_checksum(seed)
}

/// [`portable::scale_checksum`], auto-vectorised.
#[unsafe(no_mangle)]
pub extern "C" fn portable_scale(seed: u32) -> u64 {
    portable::scale_checksum(seed)
}

/// Explicit SIMD intrinsics over four `i32x4` inputs built from the arguments.
#[unsafe(no_mangle)]
pub extern "C" fn intrinsics(a0: i32, a1: i32, a2: i32, a3: i32) -> u64 {
    let a = i32x4(a0, a1, a2, a3);
    let b = i32x4(a3, a2.wrapping_mul(3), a1 ^ 0x5555, a0.wrapping_sub(9));
    let dot = i32x4_dot_i16x8(a, b);
    let q15 = i16x8_q15mulr_sat(a, b);
    let shuf = i8x16_shuffle::<0, 17, 2, 19, 4, 21, 6, 23, 31, 30, 29, 28, 3, 2, 1, 0>(a, b);
    let swz = i8x16_swizzle(a, u8x16(15, 0, 14, 1, 13, 2, 12, 3, 40, 4, 11, 5, 10, 6, 9, 7));
    let avg = u8x16_avgr(a, b);
    let sel = v128_bitselect(a, b, i32x4(-1, 0, 0x0f0f_0f0f, 0x00ff_00ff));
    let narrow = i16x8_narrow_i32x4(a, b);
    let wide = i64x2_extmul_low_i32x4(a, b);
    let fa = f32x4_convert_i32x4(a);
    let fb = f32x4_convert_i32x4(b);
    let fq = f32x4_nearest(f32x4_div(fa, f32x4_add(f32x4_abs(fb), f32x4_splat(1.0))));
    let fi = i32x4_trunc_sat_f32x4(f32x4_mul(fq, f32x4_splat(3.5)));
    let fmin = f32x4_pmin(fa, fb);
    let dbl = f64x2_promote_low_f32x4(fq);
    let mask = i8x16_bitmask(i8x16_lt(a, b)) as u64;
    let all = [dot, q15, shuf, swz, avg, sel, narrow, wide, fi, fmin, dbl];
    let mut sum = mask;
    for v in all {
        sum = sum.rotate_left(7) ^ (i64x2_extract_lane::<0>(v) as u64);
        sum = sum.rotate_left(7) ^ (i64x2_extract_lane::<1>(v) as u64);
    }
    sum
}
