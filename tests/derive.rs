//! `#[derive(GuestType)]`: guest layouts (wasm32 C ABI), little-endian encoding, padding,
//! validation of enums, field offsets for projection, and use through guest memory.

use wasmguard::{AccessError, Engine, GuestStruct, GuestType, Memory, MemoryType, Store, WasmPtr, WasmSlice};

/// `struct { uint8_t a; uint64_t b; uint16_t c; }`: offsets 0, 8, 16; size 24; align 8.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
#[guest(size = 24, align = 8)]
pub struct Mixed {
    /// At offset 0.
    pub a: u8,
    /// At offset 8, after 7 bytes of padding.
    #[guest(offset = 8)]
    pub b: u64,
    /// At offset 16, followed by 6 bytes of tail padding.
    #[guest(offset = 16)]
    pub c: u16,
}

/// A small struct with tail padding: size 4, align 2.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Small {
    a: u16,
    b: u8,
}

/// Nested derived structs: offsets 0, 8, 32; size 40; align 8.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
#[guest(size = 40, align = 8)]
struct Outer {
    tag: u8,
    #[guest(offset = 8)]
    inner: Mixed,
    #[guest(offset = 32)]
    tail: u32,
}

/// Arrays of primitives and of derived structs: offsets 0, 4, 12; size 20; align 4.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
#[guest(size = 20, align = 4)]
struct WithArrays {
    bytes: [u8; 3],
    #[guest(offset = 4)]
    words: [u32; 2],
    #[guest(offset = 12)]
    smalls: [Small; 2],
}

/// A WASI-style `iovec`: two u32 fields whatever the host's pointer width.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
#[guest(size = 8, align = 4)]
struct Iovec {
    buf: WasmPtr<u8>,
    #[guest(offset = 4)]
    len: u32,
}

/// Pointers to derived types, floats, bools and signed integers.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Node {
    next: WasmPtr<Node>,
    value: f64,
    flag: bool,
    delta: i16,
    ratio: f32,
}

#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Pair(u8, u32);

#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Unit;

#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Empty {}

/// `#[repr(C, align(16))]` raises the guest alignment and rounds the size.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
#[guest(size = 16, align = 16)]
struct Aligned {
    x: u32,
}

#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Color {
    Red,
    Green,
    Blue,
}

#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
#[guest(size = 4, align = 4)]
enum Errno {
    Success = 0,
    Again = 6,
    Inval = 28,
    Big = 0xDEAD_BEEF,
}

#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
enum Sign {
    Negative = -1,
    Zero = 0,
    Positive = 1,
}

#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
enum Whence {
    Set = 0x100,
    Cur,
    End,
}

/// An enum as a field: an invalid discriminant fails the whole read.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Event {
    color: Color,
    #[guest(offset = 4)]
    errno: Errno,
    sign: Sign,
    #[guest(offset = 10)]
    whence: Whence,
}

/// Raw identifiers and a mix of field visibilities.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Keywords {
    pub r#type: u16,
    pub(crate) r#match: u8,
}

mod nested {
    use wasmguard::GuestType;

    /// A derived type in another module, with a private field.
    #[derive(GuestType, Debug, Clone, Copy, PartialEq)]
    #[repr(C)]
    pub struct Stat {
        pub dev: u64,
        pub ino: u64,
        secret: u32,
    }

    impl Stat {
        pub fn new(dev: u64, ino: u64) -> Self {
            Stat { dev, ino, secret: 7 }
        }

        pub fn secret_offset() -> u32 {
            // The private field's offset is visible where the field is.
            <Stat as wasmguard::GuestStruct>::FIELDS.secret.offset()
        }
    }
}

/// The generated code uses absolute paths only, works without the prelude, and is
/// safe code.
#[forbid(unsafe_code)]
#[no_implicit_prelude]
mod hygiene {
    /// Names that generated code must not pick up by accident.
    #[allow(dead_code)]
    mod shadows {
        pub struct Result;
        pub struct Ok;
        pub struct Field;
        pub struct GuestType;
        pub struct AccessError;
        pub fn layout_offsets() {}
    }
    #[allow(unused_imports)]
    use self::shadows::*;

    #[derive(::wasmguard::GuestType, ::core::fmt::Debug, ::core::cmp::PartialEq)]
    #[repr(C)]
    pub struct Plain {
        pub a: u8,
        pub b: u32,
    }

    #[derive(::wasmguard::GuestType, ::core::fmt::Debug, ::core::cmp::PartialEq)]
    #[repr(u8)]
    pub enum Tag {
        A = 1,
        B = 2,
    }

    #[derive(::wasmguard::GuestType, ::core::fmt::Debug, ::core::cmp::PartialEq)]
    #[repr(C)]
    pub struct Tuple(pub Tag, pub Plain);
}

fn encode<T: GuestType>(value: &T) -> Vec<u8> {
    let mut bytes = vec![0xAA; T::SIZE as usize];
    value.write_to(&mut bytes);
    bytes
}

fn round_trip<T: GuestType + PartialEq + std::fmt::Debug>(value: T) {
    let bytes = encode(&value);
    assert_eq!(T::read_from(&bytes), Ok(value));
}

/// A small deterministic generator (xorshift64*), for many values without proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn generated_code_is_hygienic() {
    use hygiene::{Plain, Tag, Tuple};
    assert_eq!((Tuple::SIZE, Tuple::ALIGN), (12, 4));
    assert_eq!(Tuple::FIELDS.1.offset(), 4);
    round_trip(Tuple(Tag::B, Plain { a: 1, b: 2 }));
    assert!(Tag::read_from(&[0]).is_err());
}

#[test]
fn mixed_struct_has_the_wasm32_c_layout() {
    assert_eq!((Mixed::SIZE, Mixed::ALIGN), (24, 8));
    let f = Mixed::FIELDS;
    assert_eq!((f.a.offset(), f.b.offset(), f.c.offset()), (0, 8, 16));
}

#[test]
fn nested_structs_and_arrays_lay_out_like_c() {
    assert_eq!((Small::SIZE, Small::ALIGN), (4, 2));
    assert_eq!((Outer::SIZE, Outer::ALIGN), (40, 8));
    let f = Outer::FIELDS;
    assert_eq!((f.tag.offset(), f.inner.offset(), f.tail.offset()), (0, 8, 32));

    assert_eq!((WithArrays::SIZE, WithArrays::ALIGN), (20, 4));
    let f = WithArrays::FIELDS;
    assert_eq!((f.bytes.offset(), f.words.offset(), f.smalls.offset()), (0, 4, 12));
}

#[test]
fn pointers_are_four_bytes_whatever_the_host() {
    assert_eq!((Iovec::SIZE, Iovec::ALIGN), (8, 4));
    // next 0, value 8, flag 16, delta 18, ratio 20; size 24.
    assert_eq!((Node::SIZE, Node::ALIGN), (24, 8));
    let f = Node::FIELDS;
    assert_eq!(
        [f.next.offset(), f.value.offset(), f.flag.offset(), f.delta.offset(), f.ratio.offset()],
        [0, 8, 16, 18, 20]
    );
    let iov = Iovec { buf: WasmPtr::new(0x1234_5678), len: 0x9A };
    assert_eq!(encode(&iov), [0x78, 0x56, 0x34, 0x12, 0x9A, 0, 0, 0]);
    round_trip(iov);
}

#[test]
fn tuple_unit_and_empty_structs() {
    assert_eq!((Pair::SIZE, Pair::ALIGN), (8, 4));
    assert_eq!((Pair::FIELDS.0.offset(), Pair::FIELDS.1.offset()), (0, 4));
    round_trip(Pair(7, 0xFFFF_FFFF));
    assert_eq!(encode(&Pair(7, 1)), [7, 0, 0, 0, 1, 0, 0, 0]);

    assert_eq!((Unit::SIZE, Unit::ALIGN), (0, 1));
    assert_eq!((Empty::SIZE, Empty::ALIGN), (0, 1));
    assert_eq!(Unit::read_from(&[]), Ok(Unit));
    assert_eq!(Empty::read_from(&[]), Ok(Empty {}));
    Unit.write_to(&mut []);
    Empty {}.write_to(&mut []);
}

#[test]
fn repr_align_raises_alignment_and_zeroes_the_tail() {
    assert_eq!((Aligned::SIZE, Aligned::ALIGN), (16, 16));
    let bytes = encode(&Aligned { x: 0x0102_0304 });
    assert_eq!(bytes, [4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    round_trip(Aligned { x: 5 });
}

#[test]
fn fields_are_little_endian_at_their_offsets() {
    let value = Mixed { a: 0x11, b: 0x0102_0304_0506_0708, c: 0xA1B2 };
    let bytes = encode(&value);
    let mut expected = [0u8; 24];
    expected[0] = 0x11;
    expected[8..16].copy_from_slice(&[8, 7, 6, 5, 4, 3, 2, 1]);
    expected[16..18].copy_from_slice(&[0xB2, 0xA1]);
    assert_eq!(bytes, expected);
}

#[test]
fn padding_is_zeroed_on_write() {
    let value = Mixed { a: 0xFF, b: u64::MAX, c: u16::MAX };
    let bytes = encode(&value);
    assert_eq!(bytes[1..8], [0; 7], "padding after `a`");
    assert_eq!(bytes[18..24], [0; 6], "tail padding");

    // Nested: padding of the outer struct and of the inner one.
    let outer = Outer { tag: 0xFF, inner: value, tail: u32::MAX };
    let bytes = encode(&outer);
    assert_eq!(bytes[1..8], [0; 7]);
    assert_eq!(bytes[8 + 1..8 + 8], [0; 7]);
    assert_eq!(bytes[8 + 18..8 + 24], [0; 6]);
    assert_eq!(bytes[36..40], [0; 4]);

    // Array of structs with tail padding, and the gap after `[u8; 3]`.
    let arrays = WithArrays { bytes: [0xFF; 3], words: [u32::MAX; 2], smalls: [Small { a: u16::MAX, b: 0xFF }; 2] };
    let bytes = encode(&arrays);
    assert_eq!(bytes[3], 0);
    assert_eq!((bytes[15], bytes[19]), (0, 0));
    assert!(bytes.iter().all(|&b| b == 0 || b == 0xFF), "{bytes:?}");
}

#[test]
fn padding_is_ignored_on_read() {
    let value = Outer { tag: 3, inner: Mixed { a: 1, b: 2, c: 3 }, tail: 4 };
    let mut bytes = encode(&value);
    for i in (1..8).chain(9..16).chain(26..32).chain(36..40) {
        bytes[i] = 0xAA ^ i as u8;
    }
    assert_eq!(Outer::read_from(&bytes), Ok(value));
}

#[test]
fn every_byte_outside_padding_is_written() {
    // Writing over any prior contents gives the same bytes: nothing is left over.
    let value = Node { next: WasmPtr::new(9), value: -0.5, flag: true, delta: -2, ratio: 1.25 };
    let mut a = vec![0x00; Node::SIZE as usize];
    let mut b = vec![0xFF; Node::SIZE as usize];
    value.write_to(&mut a);
    value.write_to(&mut b);
    assert_eq!(a, b);
    assert_eq!(a[17], 0, "padding after `flag`");
}

#[test]
fn round_trips() {
    round_trip(Mixed { a: u8::MAX, b: u64::MAX, c: 0 });
    round_trip(Outer { tag: 1, inner: Mixed { a: 2, b: 3, c: 4 }, tail: 5 });
    round_trip(WithArrays { bytes: [1, 2, 3], words: [4, 5], smalls: [Small { a: 6, b: 7 }, Small { a: 8, b: 9 }] });
    round_trip(Node {
        next: WasmPtr::null(),
        value: f64::MIN_POSITIVE,
        flag: false,
        delta: i16::MIN,
        ratio: f32::INFINITY,
    });
    round_trip(Keywords { r#type: 0xBEEF, r#match: 1 });
    round_trip(nested::Stat::new(1, 2));
}

#[test]
fn many_pseudo_random_round_trips() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2000 {
        let value = Outer {
            tag: rng.next() as u8,
            inner: Mixed { a: rng.next() as u8, b: rng.next(), c: rng.next() as u16 },
            tail: rng.next() as u32,
        };
        let mut bytes = [0u8; 40];
        // Garbage everywhere first: padding must come out zero regardless.
        for b in &mut bytes {
            *b = rng.next() as u8;
        }
        value.write_to(&mut bytes);
        assert_eq!(bytes[1..8], [0; 7]);
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), value.inner.b);
        assert_eq!(Outer::read_from(&bytes), Ok(value));

        let event = Event {
            color: [Color::Red, Color::Green, Color::Blue][rng.next() as usize % 3],
            errno: [Errno::Success, Errno::Again, Errno::Inval, Errno::Big][rng.next() as usize % 4],
            sign: [Sign::Negative, Sign::Zero, Sign::Positive][rng.next() as usize % 3],
            whence: [Whence::Set, Whence::Cur, Whence::End][rng.next() as usize % 3],
        };
        round_trip(event);
    }
}

#[test]
fn every_byte_value_of_a_u8_enum_is_checked() {
    for raw in 0..=u8::MAX {
        let expected = match raw {
            0 => Ok(Color::Red),
            1 => Ok(Color::Green),
            2 => Ok(Color::Blue),
            _ => Err(AccessError::InvalidValue { type_name: "Color", value: u64::from(raw) }),
        };
        assert_eq!(Color::read_from(&[raw]), expected);
    }
    assert_eq!((Color::SIZE, Color::ALIGN), (1, 1));
}

#[test]
fn explicit_discriminants() {
    assert_eq!((Errno::SIZE, Errno::ALIGN), (4, 4));
    assert_eq!(encode(&Errno::Inval), [28, 0, 0, 0]);
    assert_eq!(encode(&Errno::Big), [0xEF, 0xBE, 0xAD, 0xDE]);
    assert_eq!(Errno::read_from(&[6, 0, 0, 0]), Ok(Errno::Again));
    assert_eq!(Errno::read_from(&[0xEF, 0xBE, 0xAD, 0xDE]), Ok(Errno::Big));
    assert_eq!(
        Errno::read_from(&[6, 0, 0, 1]),
        Err(AccessError::InvalidValue { type_name: "Errno", value: 0x0100_0006 })
    );

    // Implicit discriminants continue from an explicit one.
    assert_eq!((Whence::SIZE, Whence::ALIGN), (2, 2));
    assert_eq!(encode(&Whence::End), [0x02, 0x01]);
    assert_eq!(Whence::read_from(&[0x01, 0x01]), Ok(Whence::Cur));
    assert!(Whence::read_from(&[0, 0]).is_err());
}

#[test]
fn signed_enums_store_twos_complement_and_report_raw_bits() {
    assert_eq!(encode(&Sign::Negative), [0xFF]);
    assert_eq!(Sign::read_from(&[0xFF]), Ok(Sign::Negative));
    assert_eq!(Sign::read_from(&[1]), Ok(Sign::Positive));
    assert_eq!(Sign::read_from(&[0xFE]), Err(AccessError::InvalidValue { type_name: "Sign", value: 0xFE }));
}

#[test]
fn invalid_field_fails_the_whole_struct() {
    // color 0, pad, errno 4..8, sign 8, pad, whence 10..12
    assert_eq!((Event::SIZE, Event::ALIGN), (12, 4));
    let good = Event { color: Color::Blue, errno: Errno::Again, sign: Sign::Zero, whence: Whence::Set };
    let bytes = encode(&good);
    assert_eq!(bytes, [2, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(Event::read_from(&bytes), Ok(good));

    for (at, raw, type_name) in [(0, 3, "Color"), (4, 1, "Errno"), (8, 2, "Sign"), (11, 9, "Whence")] {
        let mut bad = bytes.clone();
        bad[at] = raw;
        match Event::read_from(&bad) {
            Err(AccessError::InvalidValue { type_name: t, .. }) => assert_eq!(t, type_name),
            other => panic!("byte {at} = {raw}: {other:?}"),
        }
    }

    let mut bad_bool = encode(&Node { next: WasmPtr::null(), value: 0.0, flag: true, delta: 0, ratio: 0.0 });
    bad_bool[16] = 2;
    assert_eq!(Node::read_from(&bad_bool), Err(AccessError::InvalidValue { type_name: "bool", value: 2 }));
}

#[test]
fn fields_follow_names_and_visibility() {
    assert_eq!(Keywords::FIELDS.r#type.offset(), 0);
    assert_eq!(Keywords::FIELDS.r#match.offset(), 2);
    assert_eq!((Keywords::SIZE, Keywords::ALIGN), (4, 2));
    let f: nested::StatGuestFields = nested::Stat::FIELDS;
    assert_eq!((f.dev.offset(), f.ino.offset()), (0, 8));
    assert_eq!(nested::Stat::secret_offset(), 16);
    assert_eq!(nested::Stat::SIZE, 24);
    // The fields struct is Copy and Debug.
    let copy = f;
    assert_eq!(format!("{:?}", copy.ino), "Field(+8)");
}

#[test]
fn derived_types_through_guest_memory() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;

    let value = Outer { tag: 9, inner: Mixed { a: 1, b: 0x1122_3344_5566_7788, c: 3 }, tail: 4 };
    // Guest pointers may be unaligned.
    let ptr: WasmPtr<Outer> = WasmPtr::new(0x101);
    {
        let mut view = memory.view_mut(&mut store);
        view.write(0x100, &[0xAA; 64])?;
        ptr.write(&mut view, value)?;
    }
    let view = memory.view(&store);
    assert_eq!(ptr.read(&view)?, value);

    // Projection to nested fields.
    let inner = ptr.project(|f| f.inner)?;
    assert_eq!(inner.offset(), 0x101 + 8);
    assert_eq!(inner.read(&view)?, value.inner);
    let b = inner.project(|f| f.b)?;
    assert_eq!(b.offset(), 0x101 + 16);
    assert_eq!(b.read(&view)?, 0x1122_3344_5566_7788);
    assert_eq!(ptr.project(|f| f.tail)?.read(&view)?, 4);

    // Padding in guest memory was zeroed, and the bytes around were left alone.
    let mut raw = [0u8; 42];
    view.read(0x100, &mut raw)?;
    assert_eq!(raw[0], 0xAA);
    assert_eq!(raw[1 + 1..1 + 8], [0; 7]);
    assert_eq!(raw[41], 0xAA);

    // Out of bounds is an error, not a panic.
    let last = WasmPtr::<Outer>::new(65536 - 39);
    assert!(matches!(last.read(&view), Err(AccessError::OutOfBounds { .. })));
    Ok(())
}

#[test]
fn slices_of_derived_types() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    let iovs = [Iovec { buf: WasmPtr::new(0x1000), len: 5 }, Iovec { buf: WasmPtr::new(0x2000), len: 7 }];
    let slice = WasmSlice::new(WasmPtr::<Iovec>::new(0x40), 2);
    slice.write_from(&mut memory.view_mut(&mut store), &iovs)?;
    let view = memory.view(&store);
    assert_eq!(slice.read_to_vec(&view)?, iovs);
    let mut raw = [0u8; 16];
    view.read(0x40, &mut raw)?;
    assert_eq!(raw, [0, 0x10, 0, 0, 5, 0, 0, 0, 0, 0x20, 0, 0, 7, 0, 0, 0]);

    // A bad enum in the middle of a slice is an error.
    let colors = WasmSlice::new(WasmPtr::<Color>::new(0x80), 3);
    memory.view_mut(&mut store).write(0x80, &[0, 1, 5])?;
    assert_eq!(
        colors.read_to_vec(&memory.view(&store)),
        Err(AccessError::InvalidValue { type_name: "Color", value: 5 })
    );
    Ok(())
}

/// A C tagged union: `struct { u8 tag; union { struct { u32 id; u64 timeout; } clock; u32 fd; } }`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C, u8)]
#[guest(size = 24, align = 8)]
enum Wait {
    Clock {
        #[guest(offset = 8)]
        id: u32,
        #[guest(offset = 16)]
        timeout: u64,
    },
    Fd(#[guest(offset = 8)] u32) = 4,
    Nothing,
}

/// A tag wider than a byte, and a union of small members: the union follows the tag.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C, u16)]
#[guest(size = 4, align = 2)]
enum WideTag {
    Byte(#[guest(offset = 2)] u8),
    Pair([u8; 2]),
}

#[test]
fn tagged_unions_have_the_c_layout() {
    let clock = Wait::Clock { id: 1, timeout: 0x0102_0304_0506_0708 };
    let mut bytes = encode(&clock);
    assert_eq!(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]);
    // Explicit and implicit discriminants, as the language assigns them.
    assert_eq!(encode(&Wait::Fd(9))[..12], [4, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0]);
    assert_eq!(encode(&Wait::Nothing)[0], 5);
    round_trip(clock);
    round_trip(Wait::Fd(u32::MAX));
    round_trip(Wait::Nothing);
    round_trip(WideTag::Byte(7));
    round_trip(WideTag::Pair([1, 2]));
    assert_eq!(encode(&WideTag::Pair([1, 2])), [1, 0, 1, 2]);
    // Writing zeroes what the live variant does not use.
    let mut dirty = [0xAA; 24];
    Wait::Fd(1).write_to(&mut dirty);
    assert_eq!(dirty, encode(&Wait::Fd(1)).as_slice());
    // An unknown tag is an error, never an invalid value.
    bytes[0] = 2;
    assert_eq!(Wait::read_from(&bytes), Err(AccessError::InvalidValue { type_name: "Wait", value: 2 }));
    assert_eq!(WideTag::read_from(&[0, 1, 0, 0]), Err(AccessError::InvalidValue { type_name: "WideTag", value: 256 }));
}

#[test]
fn tagged_unions_in_guest_memory() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    let waits = [Wait::Fd(3), Wait::Clock { id: 2, timeout: 1000 }, Wait::Nothing];
    let slice = WasmSlice::new(WasmPtr::<Wait>::new(0x101), 3); // unaligned is fine
    slice.write_from(&mut memory.view_mut(&mut store), &waits)?;
    assert_eq!(slice.read_to_vec(&memory.view(&store))?, waits);
    memory.view_mut(&mut store).write(0x101 + 24, &[99])?;
    assert!(matches!(slice.read_to_vec(&memory.view(&store)), Err(AccessError::InvalidValue { value: 99, .. })));
    Ok(())
}
