//! A Rust program compiled for wasm32 with `-C target-feature=+simd128` (`tests/simd/`) runs in
//! wasmguard and computes what the same code computes natively.
//!
//! `portable_*` are auto-vectorised loops whose source (`tests/simd/kernels/src/portable.rs`)
//! is compiled into this test as the reference; `intrinsics` uses `core::arch::wasm32` and is
//! checked against a scalar model of each operation below.

use wasmguard::{Engine, Instance, Module, Store};

#[allow(dead_code, reason = "the kernels' helpers are exercised through the checksums")]
#[path = "simd/kernels/src/portable.rs"]
mod portable;

const KERNELS: &[u8] = include_bytes!("simd/simd_kernels.wasm");

fn instance() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, KERNELS).expect("the kernels compile");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("the kernels instantiate");
    (store, instance)
}

#[test]
fn the_module_really_uses_simd() {
    let mut simd_ops = 0;
    for payload in wasmparser::Parser::new(0).parse_all(KERNELS) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let mut ops = body.get_operators_reader().expect("operators");
            while !ops.eof() {
                let name = format!("{:?}", ops.read().expect("operator"));
                let lanes = ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"];
                simd_ops += usize::from(lanes.iter().any(|p| name.starts_with(p)));
            }
        }
    }
    assert!(simd_ops > 50, "only {simd_ops} SIMD operators: was the module built with +simd128?");
}

#[test]
fn auto_vectorised_loops_match_native() {
    let (mut store, instance) = instance();
    let mix = instance.get_typed_func::<u32, u64>(&mut store, "portable_mix").expect("export");
    let scale = instance.get_typed_func::<u32, u64>(&mut store, "portable_scale").expect("export");
    for seed in [1u32, 2, 0xdead_beef, 12345, u32::MAX] {
        assert_eq!(mix.call(&mut store, seed).expect("runs"), portable::mix_checksum(seed), "mix({seed})");
        assert_eq!(scale.call(&mut store, seed).expect("runs"), portable::scale_checksum(seed), "scale({seed})");
    }
}

#[test]
fn intrinsics_match_a_scalar_model() {
    let (mut store, instance) = instance();
    let f = instance.get_typed_func::<(i32, i32, i32, i32), u64>(&mut store, "intrinsics").expect("export");
    let cases = [
        [1, 2, 3, 4],
        [0, -1, i32::MIN, i32::MAX],
        [0x7fff_8000, -0x8000, 0x1234_5678, -0x1234_5678],
        [100_000, -3, 77, 1 << 30],
        [-7, -7, -7, -7],
    ];
    for [a0, a1, a2, a3] in cases {
        let got = f.call(&mut store, (a0, a1, a2, a3)).expect("runs");
        assert_eq!(got, model::intrinsics(a0, a1, a2, a3), "intrinsics({a0}, {a1}, {a2}, {a3})");
    }
}

/// Scalar model of `intrinsics` in `tests/simd/kernels/src/lib.rs`, lane by lane.
mod model {
    fn bytes(v: [i32; 4]) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (chunk, x) in out.chunks_exact_mut(4).zip(v) {
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        out
    }

    fn from_bytes(b: [u8; 16]) -> [u64; 2] {
        let lo = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let hi = u64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
        [lo, hi]
    }

    fn i16s(v: [i32; 4]) -> [i16; 8] {
        let b = bytes(v);
        std::array::from_fn(|i| i16::from_le_bytes([b[2 * i], b[2 * i + 1]]))
    }

    fn from_i16s(v: [i16; 8]) -> [u64; 2] {
        let mut b = [0u8; 16];
        for (chunk, x) in b.chunks_exact_mut(2).zip(v) {
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        from_bytes(b)
    }

    fn from_i32s(v: [i32; 4]) -> [u64; 2] {
        from_bytes(bytes(v))
    }

    fn from_f32s(v: [f32; 4]) -> [u64; 2] {
        from_i32s(v.map(|x| x.to_bits() as i32))
    }

    pub(super) fn intrinsics(a0: i32, a1: i32, a2: i32, a3: i32) -> u64 {
        let a = [a0, a1, a2, a3];
        let b = [a3, a2.wrapping_mul(3), a1 ^ 0x5555, a0.wrapping_sub(9)];
        let (a16, b16) = (i16s(a), i16s(b));
        let (ab, bb) = (bytes(a), bytes(b));

        let dot = from_i32s(std::array::from_fn(|i| {
            let p = |j: usize| i32::from(a16[j]) * i32::from(b16[j]);
            p(2 * i).wrapping_add(p(2 * i + 1))
        }));
        let q15 = from_i16s(std::array::from_fn(|i| {
            ((i32::from(a16[i]) * i32::from(b16[i]) + 0x4000) >> 15).clamp(-32768, 32767) as i16
        }));
        let lanes = [0, 17, 2, 19, 4, 21, 6, 23, 31, 30, 29, 28, 3, 2, 1, 0];
        let shuf = from_bytes(lanes.map(|i: usize| if i < 16 { ab[i] } else { bb[i - 16] }));
        let idx = [15u8, 0, 14, 1, 13, 2, 12, 3, 40, 4, 11, 5, 10, 6, 9, 7];
        let swz = from_bytes(idx.map(|i| ab.get(usize::from(i)).copied().unwrap_or(0)));
        let avg = from_bytes(std::array::from_fn(|i| (u16::from(ab[i]) + u16::from(bb[i])).div_ceil(2) as u8));
        let c = [-1, 0, 0x0f0f_0f0f, 0x00ff_00ff];
        let sel = from_i32s(std::array::from_fn(|i| (a[i] & c[i]) | (b[i] & !c[i])));
        let narrow = from_i16s(std::array::from_fn(|i| {
            let x = if i < 4 { a[i] } else { b[i - 4] };
            x.clamp(-32768, 32767) as i16
        }));
        let wide = [0, 1].map(|i| (i64::from(a[i]) * i64::from(b[i])) as u64);
        let fa = a.map(|x| x as f32);
        let fb = b.map(|x| x as f32);
        let fq: [f32; 4] = std::array::from_fn(|i| (fa[i] / (fb[i].abs() + 1.0)).round_ties_even());
        let fi = from_i32s(fq.map(|x| (x * 3.5) as i32));
        let fmin = from_f32s(std::array::from_fn(|i| if fb[i] < fa[i] { fb[i] } else { fa[i] }));
        let dbl = [0, 1].map(|i| f64::from(fq[i]).to_bits());
        let mask = (0..16).fold(0u64, |m, i| m | (u64::from((ab[i] as i8) < (bb[i] as i8)) << i));

        let all = [dot, q15, shuf, swz, avg, sel, narrow, wide, fi, fmin, dbl];
        let mut sum = mask;
        for [lo, hi] in all {
            sum = sum.rotate_left(7) ^ lo;
            sum = sum.rotate_left(7) ^ hi;
        }
        sum
    }
}
