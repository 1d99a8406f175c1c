//! Benchmark kernels for wasm guests.
//!
//! Every export is `extern "C" fn bench_<name>(n: u32) -> u64`: `n` scales the work and the
//! result is a checksum of everything computed, so the host can check that two engines ran
//! the kernel identically and the optimizer cannot drop the work. All inputs come from the
//! deterministic [`Rng`]; nothing reads the clock or the host.

use sha2::{Digest, Sha256};

/// xorshift64*: a small deterministic PRNG for inputs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

/// FNV-1a over bytes, for checksums of byte buffers.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn fib(n: u32) -> u64 {
    if n < 2 { u64::from(n) } else { fib(n - 1) + fib(n - 2) }
}

/// Recursive Fibonacci: calls and returns. Returns `fib(n)`.
#[unsafe(no_mangle)]
pub extern "C" fn bench_fib(n: u32) -> u64 {
    fib(core::hint::black_box(n))
}

/// Sieve of Eratosthenes over `[0, n)`: byte loads and stores in a tight loop. Returns the
/// number of primes below `n` in the high half and the sum of the primes' low bits below.
#[unsafe(no_mangle)]
pub extern "C" fn bench_sieve(n: u32) -> u64 {
    let n = n as usize;
    let mut composite = vec![false; n];
    let mut count = 0_u64;
    let mut sum = 0_u64;
    for i in 2..n {
        if composite[i] {
            continue;
        }
        count += 1;
        sum = sum.wrapping_add(i as u64);
        let mut j = i * i;
        while j < n {
            composite[j] = true;
            j += i;
        }
    }
    (count << 32) ^ sum
}

/// `n`×`n` f64 matrix multiply (i-k-j loop order). Returns the bits of the sum of the
/// product's elements weighted by position.
#[unsafe(no_mangle)]
pub extern "C" fn bench_matmul(n: u32) -> u64 {
    let n = n as usize;
    let mut rng = Rng::new(42);
    let a: Vec<f64> = (0..n * n).map(|_| f64::from(rng.next_u32() % 1000) / 100.0).collect();
    let b: Vec<f64> = (0..n * n).map(|_| f64::from(rng.next_u32() % 1000) / 100.0).collect();
    let mut c = vec![0.0_f64; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            let (row_b, row_c) = (&b[k * n..k * n + n], &mut c[i * n..i * n + n]);
            for (cij, bkj) in row_c.iter_mut().zip(row_b) {
                *cij += aik * bkj;
            }
        }
    }
    let sum: f64 = c.iter().enumerate().map(|(i, v)| v * ((i % 7) as f64 + 1.0)).sum();
    sum.to_bits()
}

#[derive(Clone, Copy)]
struct Body {
    pos: [f64; 3],
    vel: [f64; 3],
    mass: f64,
}

const SOLAR_MASS: f64 = 4.0 * core::f64::consts::PI * core::f64::consts::PI;
const DAYS_PER_YEAR: f64 = 365.24;

/// The Sun and the four giant planets, as in the Benchmarks Game.
fn bodies() -> [Body; 5] {
    let body = |pos: [f64; 3], vel: [f64; 3], mass: f64| Body {
        pos,
        vel: vel.map(|v| v * DAYS_PER_YEAR),
        mass: mass * SOLAR_MASS,
    };
    [
        body([0.0; 3], [0.0; 3], 1.0),
        body(
            [4.841_431_442_464_72, -1.160_320_044_027_428_4, -0.103_622_044_471_123_1],
            [0.001_660_076_642_744_037, 0.007_699_011_184_197_404, -0.000_069_046_000_693_351_2],
            0.000_954_791_938_424_326_6,
        ),
        body(
            [8.343_366_718_244_58, 4.124_798_564_124_305, -0.403_523_417_114_321_4],
            [-0.002_767_425_107_268_624, 0.004_998_528_012_349_172, 0.000_023_041_729_757_376_393],
            0.000_285_885_980_666_130_8,
        ),
        body(
            [12.894_369_562_139_131, -15.111_151_401_698_631, -0.223_307_578_892_655_73],
            [0.002_964_601_375_647_616, 0.002_378_471_739_594_809_5, -0.000_029_658_956_854_023_756],
            0.000_043_662_440_433_515_64,
        ),
        body(
            [15.379_697_114_850_917, -25.919_314_609_987_964, 0.179_258_772_950_371_18],
            [0.002_680_677_724_903_893_2, 0.001_628_241_700_382_423, -0.000_095_159_225_451_971_59],
            0.000_051_513_890_204_661_15,
        ),
    ]
}

fn energy(bodies: &[Body]) -> f64 {
    let mut e = 0.0;
    for (i, b) in bodies.iter().enumerate() {
        e += 0.5 * b.mass * b.vel.iter().map(|v| v * v).sum::<f64>();
        for c in &bodies[i + 1..] {
            let d: f64 = (0..3).map(|k| (b.pos[k] - c.pos[k]).powi(2)).sum();
            e -= b.mass * c.mass / d.sqrt();
        }
    }
    e
}

/// N-body simulation of the outer planets for `n` steps: f64 arithmetic and `sqrt`.
/// Returns the bits of the final energy.
#[unsafe(no_mangle)]
pub extern "C" fn bench_nbody(n: u32) -> u64 {
    let mut bodies = bodies();
    let momentum = bodies.iter().fold([0.0; 3], |p, b| [0, 1, 2].map(|k| p[k] + b.vel[k] * b.mass));
    bodies[0].vel = [0, 1, 2].map(|k| -momentum[k] / SOLAR_MASS);
    let dt = 0.01;
    for _ in 0..n {
        for i in 0..bodies.len() {
            let (left, right) = bodies.split_at_mut(i + 1);
            let b = &mut left[i];
            for c in right {
                let d = [0, 1, 2].map(|k| b.pos[k] - c.pos[k]);
                let dist2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                let mag = dt / (dist2 * dist2.sqrt());
                for k in 0..3 {
                    b.vel[k] -= d[k] * c.mass * mag;
                    c.vel[k] += d[k] * b.mass * mag;
                }
            }
        }
        for b in &mut bodies {
            for k in 0..3 {
                b.pos[k] += dt * b.vel[k];
            }
        }
    }
    energy(&bodies).to_bits()
}

/// Sorts `n` pseudo-random `u32`s with `sort_unstable`. Returns a position-weighted sum of
/// the sorted values.
#[unsafe(no_mangle)]
pub extern "C" fn bench_sort(n: u32) -> u64 {
    let mut rng = Rng::new(7);
    let mut v: Vec<u32> = (0..n).map(|_| rng.next_u32()).collect();
    v.sort_unstable();
    v.iter().enumerate().fold(0_u64, |acc, (i, &x)| acc.wrapping_mul(31).wrapping_add(u64::from(x) ^ i as u64))
}

/// SHA-256 (the `sha2` crate) of `n` pseudo-random bytes. Returns the digest's first 8 bytes.
#[unsafe(no_mangle)]
pub extern "C" fn bench_sha256(n: u32) -> u64 {
    let mut rng = Rng::new(3);
    let data: Vec<u8> = (0..n).map(|_| rng.next_u32() as u8).collect();
    let digest = Sha256::digest(&data);
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Text-like input for compression: words drawn from a small vocabulary.
fn text(n: usize) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "wasm",
        "guard",
        "memory",
        "linear",
        "page",
        "grow",
        "table",
        "func",
        "i32.add",
        "local.get",
        "br_if",
        "the",
        "of",
        "and",
        "interpreter",
        "benchmark",
    ];
    let mut rng = Rng::new(11);
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        let r = rng.next_u32();
        out.extend_from_slice(WORDS[(r % 16) as usize].as_bytes());
        out.push(if r & 0x700 == 0 { b'\n' } else { b' ' });
    }
    out.truncate(n);
    out
}

/// `miniz_oxide` deflate (level 6) and inflate round trip of `n` bytes of text. Traps if
/// the round trip loses data. Returns the compressed size and a hash of the compressed
/// bytes.
#[unsafe(no_mangle)]
pub extern "C" fn bench_miniz(n: u32) -> u64 {
    let input = text(n as usize);
    let compressed = miniz_oxide::deflate::compress_to_vec(&input, 6);
    let output = miniz_oxide::inflate::decompress_to_vec(&compressed).expect("inflate");
    assert!(output == input, "round trip");
    ((compressed.len() as u64) << 40) ^ fnv1a(&compressed)
}

/// Builds a JSON document of `n` records and parses it into a `serde_json::Value`
/// (building the text is a small part of the time). Returns a checksum of the parsed tree.
#[unsafe(no_mangle)]
pub extern "C" fn bench_json(n: u32) -> u64 {
    use std::fmt::Write;
    let mut rng = Rng::new(5);
    let mut doc = String::from("[");
    for i in 0..n {
        if i > 0 {
            doc.push(',');
        }
        let (a, b, c) = (rng.next_u32(), rng.next_u32(), rng.next_u32() % 10_000);
        write!(
            doc,
            r#"{{"id":{i},"name":"item-{a:08x}","score":{}.{:03},"tags":["t{}","u{}"],"ok":{},"nested":{{"x":{b},"y":null}}}}"#,
            c / 7,
            c % 1000,
            a % 13,
            b % 17,
            a & 1 == 0
        )
        .expect("write to String");
    }
    doc.push(']');
    let value: serde_json::Value = serde_json::from_str(&doc).expect("valid JSON");
    checksum(&value)
}

fn checksum(v: &serde_json::Value) -> u64 {
    use serde_json::Value;
    match v {
        Value::Null => 1,
        Value::Bool(b) => 2 + u64::from(*b),
        Value::Number(x) => x.as_u64().unwrap_or_else(|| x.as_f64().unwrap_or(0.0).to_bits()),
        Value::String(s) => fnv1a(s.as_bytes()),
        Value::Array(a) => a.iter().fold(3, |h, x| h.wrapping_mul(31).wrapping_add(checksum(x))),
        Value::Object(o) => {
            o.iter().fold(5, |h, (k, x)| h.wrapping_mul(37).wrapping_add(fnv1a(k.as_bytes()) ^ checksum(x)))
        }
    }
}
