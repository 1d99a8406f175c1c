//! Derived guest types against hand-written decoders. For each type the C layout is
//! written out here by hand (offsets, valid discriminants, padding), independently of the
//! derive macro, and arbitrary bytes must decode exactly when that oracle says they are
//! valid; a decoded value must encode back to the same bytes with the padding zeroed; and
//! an arbitrary value written through guest memory must read back unchanged.

use std::fmt::Debug;
use std::ops::Range;

use arbitrary::{Arbitrary, Result, Unstructured};
use wasmguard::{AccessError, Engine, GuestType, Memory, MemoryType, Store, WasmPtr, WasmSlice};

#[derive(GuestType, Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    A = 0,
    B = 1,
    C = 7,
    D = 255,
}

#[derive(GuestType, Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i16)]
pub enum Level {
    Low = -300,
    Mid = 0,
    High = 300,
}

#[derive(GuestType, Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Code {
    X = 1,
    Y = 0x8000_0000,
}

/// `struct { bool ok; uint8_t kind; int16_t level; uint32_t len; uint64_t big; char *ptr; }`:
/// offsets 0, 1, 2, 4, 8, 16; size 24, align 8; 4 bytes of tail padding.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 24, align = 8)]
pub struct Rec {
    pub ok: bool,
    pub kind: Kind,
    pub level: Level,
    pub len: u32,
    pub big: u64,
    pub ptr: WasmPtr<u8>,
}

impl<'a> Arbitrary<'a> for Rec {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Rec {
            ok: u.arbitrary()?,
            kind: u.arbitrary()?,
            level: u.arbitrary()?,
            len: u.arbitrary()?,
            big: u.arbitrary()?,
            ptr: WasmPtr::new(u.arbitrary()?),
        })
    }
}

/// `struct { uint8_t tag; Rec recs[2]; bool flags[3]; uint32_t code; float ratio; }`:
/// offsets 0, 8, 56, 60, 64; size 72, align 8.
#[derive(GuestType, Arbitrary, Debug, Clone, Copy)]
#[repr(C)]
#[guest(size = 72, align = 8)]
pub struct Outer {
    pub tag: u8,
    #[guest(offset = 8)]
    pub recs: [Rec; 2],
    #[guest(offset = 56)]
    pub flags: [bool; 3],
    #[guest(offset = 60)]
    pub code: Code,
    #[guest(offset = 64)]
    pub ratio: f32,
}

/// A tuple struct raised to 16-byte alignment: size 16.
#[derive(GuestType, Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, align(16))]
#[guest(size = 16, align = 16)]
pub struct Wide(pub i8, pub u16);

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The hand-written layout of a type: its size, validity predicate and padding ranges.
struct Oracle {
    size: usize,
    align: usize,
    valid: fn(&[u8]) -> bool,
    padding: &'static [Range<usize>],
}

fn rec_valid(b: &[u8]) -> bool {
    b[0] <= 1 && matches!(b[1], 0 | 1 | 7 | 255) && matches!(le16(b, 2) as i16, -300 | 0 | 300)
}

#[expect(clippy::single_range_in_vec_init, reason = "a list of padding ranges that has one entry")]
const REC: Oracle = Oracle { size: 24, align: 8, valid: rec_valid, padding: &[20..24] };

const OUTER: Oracle = Oracle {
    size: 72,
    align: 8,
    valid: |b| {
        rec_valid(&b[8..32])
            && rec_valid(&b[32..56])
            && b[56..59].iter().all(|&x| x <= 1)
            && matches!(le32(b, 60), 1 | 0x8000_0000)
    },
    padding: &[1..8, 28..32, 52..56, 59..60, 68..72],
};

const WIDE: Oracle = Oracle { size: 16, align: 16, valid: |_| true, padding: &[1..2, 4..16] };

const KINDS: Oracle =
    Oracle { size: 5, align: 1, valid: |b| b.iter().all(|x| matches!(x, 0 | 1 | 7 | 255)), padding: &[] };

/// `bytes` as `T` must decode iff the oracle says so; a decoded value re-encodes to
/// `bytes` with the padding zeroed.
fn decode<T: GuestType + Debug>(oracle: &Oracle, bytes: &[u8]) {
    assert_eq!(T::SIZE as usize, oracle.size, "size of {}", std::any::type_name::<T>());
    assert_eq!(T::ALIGN as usize, oracle.align, "alignment of {}", std::any::type_name::<T>());
    let bytes = &bytes[..oracle.size];
    let valid = (oracle.valid)(bytes);
    match T::read_from(bytes) {
        Ok(v) => {
            assert!(valid, "{} accepted invalid bytes {bytes:02x?} as {v:?}", std::any::type_name::<T>());
            let mut out = vec![0xEE; oracle.size];
            v.write_to(&mut out);
            let mut want = bytes.to_vec();
            for r in oracle.padding {
                want[r.clone()].fill(0);
            }
            assert_eq!(out, want, "re-encoding {v:?}");
        }
        Err(e) => {
            assert!(!valid, "{} refused valid bytes {bytes:02x?}: {e}", std::any::type_name::<T>());
            assert!(matches!(e, AccessError::InvalidValue { .. }), "wrong error {e:?}");
        }
    }
}

/// The same through guest memory: a typed pointer at `addr` and a slice of `n` elements
/// agree with the oracle applied element by element.
fn through_memory<T: GuestType + Debug>(oracle: &Oracle, memory: Memory, store: &mut Store<()>, addr: u32, n: u32) {
    let view = memory.view(&*store);
    let size = view.len();
    let elem = oracle.size as u64;
    let end = u64::from(addr) + elem * u64::from(n);
    let r = WasmSlice::new(WasmPtr::<T>::new(addr), n).read_to_vec(&view);
    if end > size as u64 {
        assert!(matches!(r, Err(AccessError::OutOfBounds { .. })), "{r:?}");
        return;
    }
    let data = view.data();
    let all_valid = (0..u64::from(n)).all(|i| {
        let at = (u64::from(addr) + i * elem) as usize;
        (oracle.valid)(&data[at..at + oracle.size])
    });
    assert_eq!(r.is_ok(), all_valid, "slice of {n} at {addr:#x}: {r:?}");
    if n > 0 {
        let first = WasmPtr::<T>::new(addr).read(&view);
        assert_eq!(first.is_ok(), (oracle.valid)(&data[addr as usize..addr as usize + oracle.size]));
    }
}

/// `value` written at `addr` reads back as itself (compared by re-encoding, so floats are
/// compared by bits), with the padding bytes in memory zeroed.
fn round_trip<T: GuestType + Debug + Copy>(
    oracle: &Oracle,
    memory: Memory,
    store: &mut Store<()>,
    addr: u32,
    value: T,
) {
    let ptr = WasmPtr::<T>::new(addr);
    let fits = u64::from(addr) + oracle.size as u64 <= memory.data_size(&*store) as u64;
    let r = ptr.write(&mut memory.view_mut(&mut *store), value);
    if !fits {
        assert!(matches!(r, Err(AccessError::OutOfBounds { .. })), "{r:?}");
        return;
    }
    r.expect("in bounds");
    let back = ptr.read(&memory.view(&*store)).expect("a written value is valid");
    let (mut a, mut b) = (vec![0; oracle.size], vec![0; oracle.size]);
    value.write_to(&mut a);
    back.write_to(&mut b);
    assert_eq!(a, b, "{value:?} read back as {back:?}");
    let data = &memory.data(&*store)[addr as usize..addr as usize + oracle.size];
    assert_eq!(data, &a[..], "bytes in memory");
    for r in oracle.padding {
        assert!(data[r.clone()].iter().all(|&x| x == 0), "padding {r:?} not zeroed");
    }
}

/// Runs the checks for every type on bytes and values drawn from `u`.
pub fn check(u: &mut Unstructured<'_>) -> Result<()> {
    let raw: [u8; 72] = u.arbitrary()?;
    decode::<Rec>(&REC, &raw);
    decode::<Outer>(&OUTER, &raw);
    decode::<Wide>(&WIDE, &raw);
    decode::<[Kind; 5]>(&KINDS, &raw);

    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(1))).expect("one page");
    let fill: Vec<u8> = u.arbitrary()?;
    let at: u16 = u.arbitrary()?;
    memory
        .write(&mut store, usize::from(at).min(65_536 - fill.len().min(65_536)), &fill[..fill.len().min(65_536)])
        .expect("fits");
    let near_end = |u: &mut Unstructured<'_>| -> Result<u32> {
        Ok(if u.arbitrary()? { 65_536 - u32::from(u.arbitrary::<u8>()?) } else { u32::from(u.arbitrary::<u16>()?) })
    };
    let n = u.int_in_range(0..=4)?;
    let addr = if u.arbitrary()? { u32::from(at) } else { near_end(u)? };
    through_memory::<Rec>(&REC, memory, &mut store, addr, n);
    through_memory::<Outer>(&OUTER, memory, &mut store, addr, n);
    through_memory::<Wide>(&WIDE, memory, &mut store, addr, n);
    through_memory::<[Kind; 5]>(&KINDS, memory, &mut store, addr, n);

    let rec: Rec = u.arbitrary()?;
    round_trip(&REC, memory, &mut store, near_end(u)?, rec);
    let outer: Outer = u.arbitrary()?;
    round_trip(&OUTER, memory, &mut store, near_end(u)?, outer);
    let wide: Wide = u.arbitrary()?;
    round_trip(&WIDE, memory, &mut store, near_end(u)?, wide);
    let kinds: [Kind; 5] = u.arbitrary()?;
    round_trip(&KINDS, memory, &mut store, near_end(u)?, kinds);

    // Bulk: a slice of arbitrary records written and read back in one go.
    let recs: Vec<Rec> = u.arbitrary()?;
    let recs = &recs[..recs.len().min(2_000)];
    let slice = WasmSlice::new(WasmPtr::<Rec>::new(near_end(u)? & !7), recs.len() as u32);
    let fits = slice.ptr().address() + slice.len_bytes() <= 65_536;
    let r = slice.write_from(&mut memory.view_mut(&mut store), recs);
    assert_eq!(r.is_ok(), fits, "{r:?}");
    if fits {
        assert_eq!(slice.read_to_vec(&memory.view(&store)).expect("valid"), recs);
    }
    Ok(())
}
