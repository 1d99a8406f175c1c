//! [`V128`]: a `v128` value for typed calls, with lane constructors and accessors.

/// A WebAssembly `v128` value: 128 bits, lane 0 in the lowest bits (little-endian lanes).
///
/// ```
/// use wasmguard::V128;
/// let v = V128::from_i32x4([1, -2, 3, -4]);
/// assert_eq!(v.to_i32x4(), [1, -2, 3, -4]);
/// assert_eq!(v.to_bits() as u32, 1);
/// assert_eq!(V128::from_bits(v.to_bits()), v);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct V128(u128);

macro_rules! lanes {
    ($from:ident, $to:ident, $t:ty, $n:literal, $bytes:literal, $doc:literal) => {
        #[doc = concat!("A vector of ", $doc, " lanes, lane 0 first.")]
        pub fn $from(lanes: [$t; $n]) -> V128 {
            let mut bytes = [0u8; 16];
            for (chunk, lane) in bytes.chunks_exact_mut($bytes).zip(lanes) {
                chunk.copy_from_slice(&lane.to_le_bytes());
            }
            V128(u128::from_le_bytes(bytes))
        }

        #[doc = concat!("The ", $doc, " lanes, lane 0 first.")]
        pub fn $to(self) -> [$t; $n] {
            let bytes = self.0.to_le_bytes();
            let mut out = [<$t>::default(); $n];
            for (lane, chunk) in out.iter_mut().zip(bytes.chunks_exact($bytes)) {
                let mut b = [0u8; $bytes];
                b.copy_from_slice(chunk);
                *lane = <$t>::from_le_bytes(b);
            }
            out
        }
    };
}

impl V128 {
    /// The vector with these bits.
    pub const fn from_bits(bits: u128) -> V128 {
        V128(bits)
    }

    /// The vector's bits.
    pub const fn to_bits(self) -> u128 {
        self.0
    }

    lanes!(from_u8x16, to_u8x16, u8, 16, 1, "16 `u8`");
    lanes!(from_i8x16, to_i8x16, i8, 16, 1, "16 `i8`");
    lanes!(from_u16x8, to_u16x8, u16, 8, 2, "8 `u16`");
    lanes!(from_i16x8, to_i16x8, i16, 8, 2, "8 `i16`");
    lanes!(from_u32x4, to_u32x4, u32, 4, 4, "4 `u32`");
    lanes!(from_i32x4, to_i32x4, i32, 4, 4, "4 `i32`");
    lanes!(from_u64x2, to_u64x2, u64, 2, 8, "2 `u64`");
    lanes!(from_i64x2, to_i64x2, i64, 2, 8, "2 `i64`");
    lanes!(from_f32x4, to_f32x4, f32, 4, 4, "4 `f32`");
    lanes!(from_f64x2, to_f64x2, f64, 2, 8, "2 `f64`");
}

impl From<u128> for V128 {
    fn from(bits: u128) -> V128 {
        V128(bits)
    }
}

impl From<V128> for u128 {
    fn from(v: V128) -> u128 {
        v.0
    }
}
