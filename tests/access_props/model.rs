//! The model: guest types under test, an independent oracle for their layout, the range
//! check every accessor must agree with, and the addresses and lengths operations use.

use std::fmt::Debug;
use std::ops::Range;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use wasmguard::{AccessError, GuestType, WasmPtr};

// ---------------------------------------------------------------------------------------------
// Guest struct and enum types
// ---------------------------------------------------------------------------------------------

/// `struct Point { int32_t x; double y; }`: 4 bytes of padding after `x`.
#[derive(Debug, Clone, Copy, GuestType)]
#[repr(C)]
pub(crate) struct Point {
    pub(crate) x: i32,
    pub(crate) y: f64,
}

/// Two points: padding inside each.
#[derive(Debug, Clone, Copy, GuestType)]
#[repr(C)]
pub(crate) struct Rect {
    pub(crate) origin: Point,
    pub(crate) size: Point,
}

/// A field-less enum: discriminants other than 0, 1 and 7 are invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, GuestType)]
#[repr(u16)]
pub(crate) enum Color {
    Red = 0,
    Green = 1,
    Blue = 7,
}

/// Interior and trailing padding, a `bool` and an enum (both validated on read).
#[derive(Debug, Clone, Copy, GuestType)]
#[repr(C)]
pub(crate) struct Mixed {
    pub(crate) a: u8,
    pub(crate) b: u16,
    pub(crate) on: bool,
    pub(crate) c: u64,
    pub(crate) color: Color,
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// A guest type together with an independent oracle for its guest layout.
pub(crate) trait Model: GuestType + Clone + Debug + 'static {
    /// Values to test with (all bit patterns for floats, NaN payloads included).
    fn arb() -> BoxedStrategy<Self>;
    /// Decodes exactly `SIZE` little-endian bytes by the wasm32 C layout.
    fn decode(bytes: &[u8]) -> Result<Self, AccessError>;
    /// Encodes into exactly `SIZE` bytes, padding zeroed.
    fn encode(&self, out: &mut [u8]);
    /// Equality that compares floats bit for bit.
    fn same(&self, other: &Self) -> bool;
    /// Byte ranges inside the value that are padding.
    fn padding() -> &'static [Range<usize>] {
        &[]
    }
}

macro_rules! model_int {
    ($($t:ty),*) => {$(
        impl Model for $t {
            fn arb() -> BoxedStrategy<Self> {
                any::<$t>().boxed()
            }
            fn decode(bytes: &[u8]) -> Result<Self, AccessError> {
                Ok(<$t>::from_le_bytes(bytes.try_into().unwrap()))
            }
            fn encode(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            fn same(&self, other: &Self) -> bool {
                self == other
            }
        }
    )*};
}

model_int!(u8, i8, u16, i16, u32, i32, u64, i64);

macro_rules! model_float {
    ($($t:ty: $bits:ty),*) => {$(
        impl Model for $t {
            fn arb() -> BoxedStrategy<Self> {
                any::<$bits>().prop_map(<$t>::from_bits).boxed()
            }
            fn decode(bytes: &[u8]) -> Result<Self, AccessError> {
                Ok(<$t>::from_bits(<$bits>::from_le_bytes(bytes.try_into().unwrap())))
            }
            fn encode(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_bits().to_le_bytes());
            }
            fn same(&self, other: &Self) -> bool {
                self.to_bits() == other.to_bits()
            }
        }
    )*};
}

model_float!(f32: u32, f64: u64);

impl Model for bool {
    fn arb() -> BoxedStrategy<Self> {
        any::<bool>().boxed()
    }
    fn decode(bytes: &[u8]) -> Result<Self, AccessError> {
        match bytes[0] {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(AccessError::InvalidValue { type_name: "bool", value: u64::from(v) }),
        }
    }
    fn encode(&self, out: &mut [u8]) {
        out[0] = u8::from(*self);
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl Model for [u16; 3] {
    fn arb() -> BoxedStrategy<Self> {
        any::<[u16; 3]>().boxed()
    }
    fn decode(bytes: &[u8]) -> Result<Self, AccessError> {
        Ok([0, 2, 4].map(|i| u16::from_le_bytes([bytes[i], bytes[i + 1]])))
    }
    fn encode(&self, out: &mut [u8]) {
        for (chunk, v) in out.chunks_exact_mut(2).zip(self) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl Model for WasmPtr<u8> {
    fn arb() -> BoxedStrategy<Self> {
        any::<u32>().prop_map(WasmPtr::new).boxed()
    }
    fn decode(bytes: &[u8]) -> Result<Self, AccessError> {
        Ok(WasmPtr::new(u32::decode(bytes)?))
    }
    fn encode(&self, out: &mut [u8]) {
        self.offset().encode(out);
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl Model for Color {
    fn arb() -> BoxedStrategy<Self> {
        prop::sample::select(vec![Color::Red, Color::Green, Color::Blue]).boxed()
    }
    fn decode(bytes: &[u8]) -> Result<Self, AccessError> {
        match u16::decode(bytes)? {
            0 => Ok(Color::Red),
            1 => Ok(Color::Green),
            7 => Ok(Color::Blue),
            v => Err(AccessError::InvalidValue { type_name: "Color", value: u64::from(v) }),
        }
    }
    fn encode(&self, out: &mut [u8]) {
        (*self as u16).encode(out);
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl Model for Point {
    fn arb() -> BoxedStrategy<Self> {
        (i32::arb(), f64::arb()).prop_map(|(x, y)| Point { x, y }).boxed()
    }
    fn decode(bytes: &[u8]) -> Result<Self, AccessError> {
        Ok(Point { x: i32::decode(&bytes[0..4])?, y: f64::decode(&bytes[8..16])? })
    }
    fn encode(&self, out: &mut [u8]) {
        out.fill(0);
        self.x.encode(&mut out[0..4]);
        self.y.encode(&mut out[8..16]);
    }
    fn same(&self, other: &Self) -> bool {
        self.x == other.x && self.y.same(&other.y)
    }
    #[expect(clippy::single_range_in_vec_init, reason = "a list of padding ranges that holds one")]
    fn padding() -> &'static [Range<usize>] {
        &[4..8]
    }
}

impl Model for Rect {
    fn arb() -> BoxedStrategy<Self> {
        (Point::arb(), Point::arb()).prop_map(|(origin, size)| Rect { origin, size }).boxed()
    }
    fn decode(bytes: &[u8]) -> Result<Self, AccessError> {
        Ok(Rect { origin: Point::decode(&bytes[0..16])?, size: Point::decode(&bytes[16..32])? })
    }
    fn encode(&self, out: &mut [u8]) {
        self.origin.encode(&mut out[0..16]);
        self.size.encode(&mut out[16..32]);
    }
    fn same(&self, other: &Self) -> bool {
        self.origin.same(&other.origin) && self.size.same(&other.size)
    }
    fn padding() -> &'static [Range<usize>] {
        &[4..8, 20..24]
    }
}

impl Model for Mixed {
    fn arb() -> BoxedStrategy<Self> {
        (any::<u8>(), any::<u16>(), any::<bool>(), any::<u64>(), Color::arb())
            .prop_map(|(a, b, on, c, color)| Mixed { a, b, on, c, color })
            .boxed()
    }
    // a @ 0, b @ 2, on @ 4, c @ 8, color @ 16; size 24, align 8.
    fn decode(bytes: &[u8]) -> Result<Self, AccessError> {
        Ok(Mixed {
            a: u8::decode(&bytes[0..1])?,
            b: u16::decode(&bytes[2..4])?,
            on: bool::decode(&bytes[4..5])?,
            c: u64::decode(&bytes[8..16])?,
            color: Color::decode(&bytes[16..18])?,
        })
    }
    fn encode(&self, out: &mut [u8]) {
        out.fill(0);
        self.a.encode(&mut out[0..1]);
        self.b.encode(&mut out[2..4]);
        self.on.encode(&mut out[4..5]);
        self.c.encode(&mut out[8..16]);
        self.color.encode(&mut out[16..18]);
    }
    fn same(&self, other: &Self) -> bool {
        self.a == other.a && self.b == other.b && self.on == other.on && self.c == other.c && self.color == other.color
    }
    fn padding() -> &'static [Range<usize>] {
        &[1..2, 5..8, 18..24]
    }
}

/// The range check every accessor must agree with: `[address, address + len)` inside a
/// memory of `size` bytes, with overflow-checked arithmetic.
pub(crate) fn model_range(address: u64, len: u64, size: usize) -> Result<Range<usize>, AccessError> {
    let end = address.checked_add(len).ok_or(AccessError::Overflow { address, len })?;
    if end > size as u64 {
        return Err(AccessError::OutOfBounds { address, len, memory_size: size as u64 });
    }
    Ok(address as usize..end as usize)
}

/// Equality of errors; an invalid value is identified by its raw value (the type name in
/// the message is the implementation's choice).
pub(crate) fn same_err(a: &AccessError, b: &AccessError) -> bool {
    match (a, b) {
        (AccessError::InvalidValue { value: x, .. }, AccessError::InvalidValue { value: y, .. }) => x == y,
        _ => a == b,
    }
}

pub(crate) fn check<T: Debug>(
    what: &str,
    actual: &Result<T, AccessError>,
    expected: &Result<T, AccessError>,
    same: impl Fn(&T, &T) -> bool,
) -> TestCaseResult {
    let ok = match (actual, expected) {
        (Ok(a), Ok(e)) => same(a, e),
        (Err(a), Err(e)) => same_err(a, e),
        _ => false,
    };
    prop_assert!(ok, "{what}: got {actual:?}, the model says {expected:?}");
    Ok(())
}

/// Where two byte slices first differ, so a failure does not print a whole memory.
pub(crate) fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len() != b.len() {
        return Some(a.len().min(b.len()));
    }
    // Compared as slices first: one `memcmp`, where Miri would interpret the loop below
    // byte by byte.
    if a == b {
        return None;
    }
    a.iter().zip(b).position(|(x, y)| x != y)
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// A guest address, resolved against the memory's size when the operation runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Addr {
    /// Near the start.
    Low(u32),
    /// `size - k`: the last bytes.
    BeforeEnd(u32),
    /// `size + k`: just past the end.
    PastEnd(u32),
    /// `u32::MAX - k`: the top of the address space.
    Top(u32),
    /// Where the last text was written, plus `k`.
    Mark(u32),
    /// Anywhere.
    Any(u32),
}

impl Addr {
    pub(crate) fn at(self, size: usize, mark: u32) -> u32 {
        let size = u32::try_from(size).expect("small memories");
        match self {
            Addr::Low(a) | Addr::Any(a) => a,
            Addr::BeforeEnd(k) => size.saturating_sub(k),
            Addr::PastEnd(k) => size.saturating_add(k),
            Addr::Top(k) => u32::MAX - k,
            Addr::Mark(k) => mark.saturating_add(k),
        }
    }
}

pub(crate) fn addr() -> impl Strategy<Value = Addr> {
    prop_oneof![
        4 => (0u32..512).prop_map(Addr::Low),
        4 => (0u32..=64).prop_map(Addr::BeforeEnd),
        1 => (1u32..=64).prop_map(Addr::PastEnd),
        1 => (0u32..=64).prop_map(Addr::Top),
        2 => (0u32..8).prop_map(Addr::Mark),
        1 => any::<u32>().prop_map(Addr::Any),
    ]
}

/// A length (in bytes or elements): mostly small, sometimes hostile.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Len {
    Small(u32),
    /// `u32::MAX - k`.
    Top(u32),
    /// The memory's size in bytes.
    Size,
}

impl Len {
    pub(crate) fn get(self, size: usize) -> u32 {
        match self {
            Len::Small(n) => n,
            Len::Top(k) => u32::MAX - k,
            Len::Size => u32::try_from(size).expect("small memories"),
        }
    }
}

pub(crate) fn len() -> impl Strategy<Value = Len> {
    prop_oneof![
        8 => (0u32..=80).prop_map(Len::Small),
        1 => (0u32..=16).prop_map(Len::Top),
        1 => Just(Len::Size),
    ]
}

/// Bytes that are text more often than not: UTF-8 pieces, NULs, and broken sequences.
pub(crate) fn text() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        6 => any::<char>().prop_map(|c| c.to_string().into_bytes()),
        4 => "[a-z ]{1,6}".prop_map(String::into_bytes),
        2 => Just(vec![0u8]),
        1 => Just(vec![0xFF]),
        1 => Just(vec![0xE2, 0x82]),
    ];
    vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// Calls `$callback!` with every guest type under test, as `Variant test_name: Type`.
macro_rules! with_guest_types {
    ($callback:ident) => {
        $callback! {
        U8 u8_: u8,
        I8 i8_: i8,
        U16 u16_: u16,
        I16 i16_: i16,
        U32 u32_: u32,
        I32 i32_: i32,
        U64 u64_: u64,
        I64 i64_: i64,
        F32 f32_: f32,
        F64 f64_: f64,
        Bool bool_: bool,
        Arr array_u16_3: [u16; 3],
        Ptr wasm_ptr: WasmPtr<u8>,
        Color color: Color,
        Point point: Point,
        Rect rect: Rect,
        Mixed mixed: Mixed,
        }
    };
}

pub(crate) use with_guest_types;
