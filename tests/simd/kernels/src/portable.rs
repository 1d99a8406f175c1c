//! Portable kernels: plain Rust loops that LLVM auto-vectorises to `v128` code under
//! `+simd128`. `tests/simd_kernels.rs` compiles this same file natively as the reference.

/// xorshift32: deterministic inputs.
pub fn fill(seed: u32, out: &mut [u32]) {
    let mut x = seed | 1;
    for v in out.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *v = x;
    }
}

/// Integer lanes of every width: multiply-add, saturating bytes, 16-bit min/max/abs,
/// widening sums. Returns a checksum of all of it.
pub fn mix(a: &mut [u32], b: &[u32], bytes: &mut [u8], shorts: &mut [i16]) -> u64 {
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.wrapping_mul(3).wrapping_add(*y >> 3) ^ (*y << 7);
    }
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = byte.saturating_add(a[i % a.len()] as u8).max(17);
    }
    for (i, s) in shorts.iter_mut().enumerate() {
        let v = (b[i % b.len()] as i16).wrapping_abs();
        *s = (*s).min(v).max(-1000).wrapping_add(v >> 2);
    }
    let mut sum = 0u64;
    for &x in a.iter() {
        sum = sum.wrapping_add(u64::from(x));
    }
    let mut bsum = 0u32;
    for &x in bytes.iter() {
        bsum = bsum.wrapping_add(u32::from(x));
    }
    let mut ssum = 0i32;
    for &x in shorts.iter() {
        ssum = ssum.wrapping_add(i32::from(x));
    }
    sum ^ (u64::from(bsum) << 32) ^ u64::from(ssum as u32)
}

/// `f32` lanes: element-wise arithmetic (no reassociated reductions, so results are exact).
pub fn scale(xs: &mut [f32], ys: &[f32], k: f32) {
    for (x, y) in xs.iter_mut().zip(ys) {
        *x = ((*x * k + *y).abs() / (*y + 1.0)).max(0.25).min(*y) - *y * 0.5;
    }
}

const N: usize = 1024;

/// Fills the inputs from `seed` and returns [`mix`] of them.
pub fn mix_checksum(seed: u32) -> u64 {
    let mut a = [0u32; N];
    let mut b = [0u32; N];
    fill(seed, &mut a);
    fill(seed.wrapping_mul(7), &mut b);
    let mut bytes = [0u8; N];
    let mut shorts = [0i16; N];
    for i in 0..N {
        bytes[i] = b[i] as u8;
        shorts[i] = (a[i] >> 16) as i16;
    }
    mix(&mut a, &b, &mut bytes, &mut shorts)
}

/// Fills `f32` inputs from `seed`, runs [`scale`] and returns a checksum of the result bits.
pub fn scale_checksum(seed: u32) -> u64 {
    let mut raw = [0u32; N];
    fill(seed, &mut raw);
    let mut xs = [0f32; N];
    let mut ys = [0f32; N];
    for i in 0..N {
        xs[i] = (raw[i] % 20001) as f32 / 100.0 - 100.0;
        ys[i] = (raw[(i + 1) % N] % 1001) as f32 / 10.0;
    }
    scale(&mut xs, &ys, 1.25);
    let mut sum = 0u64;
    for x in xs {
        sum = sum.rotate_left(5) ^ u64::from(x.to_bits());
    }
    sum
}
