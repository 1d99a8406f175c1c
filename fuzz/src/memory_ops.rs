//! The accessor API against a model: a `Vec<u8>` holding what the memory must contain, and
//! for guard sessions the list of live regions. Every operation's result (value or error
//! kind) is predicted by the model before it runs; after each operation the memory's
//! bytes must equal the model's. This checks the growth invariants (growth keeps old
//! bytes, new pages are zero, failed growth changes nothing) and the aliasing invariants
//! (a guard conflicts exactly with the live guards it overlaps, a read with the mutable
//! ones, and a refused borrow leaves nothing registered).

use arbitrary::{Arbitrary, Result, Unstructured};
use wasmguard::access::{Guard, GuardMut};
use wasmguard::{AccessError, Engine, Memory, MemoryType, Store, StoreLimits, WasmPtr, WasmSlice};

const PAGE: usize = 65_536;
/// The store's memory limit, in pages.
const LIMIT_PAGES: u64 = 6;

/// An address chosen relative to the memory's size, so that edges are hit often.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Addr {
    /// Anywhere in the 32-bit space.
    Raw(u32),
    /// Within the memory or just past it.
    Inside(u16, u8),
    /// `n` bytes before the end.
    FromEnd(u8),
}

impl Addr {
    fn resolve(self, size: usize) -> u32 {
        match self {
            Addr::Raw(a) => a,
            Addr::Inside(lo, hi) => (((u32::from(hi) << 16) | u32::from(lo)) as usize % (size + 64)) as u32,
            Addr::FromEnd(n) => (size as u32).wrapping_sub(u32::from(n)),
        }
    }
}

/// One step of the sequence.
#[derive(Debug, Arbitrary)]
pub enum Op {
    Grow(u8),
    Write(Addr, Vec<u8>),
    Read(Addr, u16),
    ViewBytes(Addr, u16),
    ReadU32(Addr),
    WriteU32(Addr, u32),
    ReadU64(Addr),
    WriteU64(Addr, u64),
    WriteSlice(Addr, Vec<u16>),
    ReadSlice(Addr, u8),
    Utf8(Addr, u16),
    Cstr(Addr, u16),
    DataMut(Addr, u8),
    Session(Vec<GuardOp>),
}

/// One step of a guard session on a single `MemoryViewMut`.
#[derive(Debug, Arbitrary)]
pub enum GuardOp {
    /// Borrow bytes; `mutable` chooses `borrow_mut`.
    Bytes { addr: Addr, len: u16, mutable: bool },
    /// Borrow `u32`s (alignment checked).
    Words { addr: Addr, len: u8, mutable: bool },
    /// Two byte regions at once with `borrow_many_mut`.
    Pair(Addr, u16, Addr, u16),
    /// Fill live guard `i` (if mutable) with a byte.
    Fill(u8, u8),
    /// Compare live guard `i` with the model.
    Check(u8),
    /// Drop live guard `i`.
    Release(u8),
    /// A copying read through the view while guards live.
    Read(Addr, u16),
}

#[derive(Debug)]
enum Live<'v> {
    Bytes(Guard<'v, u8>),
    BytesMut(GuardMut<'v, u8>),
    Words(Guard<'v, u32>),
    WordsMut(GuardMut<'v, u32>),
}

struct Held<'v> {
    start: usize,
    len: usize,
    mutable: bool,
    guard: Live<'v>,
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.1 > 0 && b.1 > 0 && a.0 < b.0 + b.1 && b.0 < a.0 + a.1
}

/// In bounds: the range `[addr, addr + len)` lies in a memory of `size` bytes.
fn fits(addr: u32, len: usize, size: usize) -> bool {
    (addr as usize).checked_add(len).is_some_and(|end| end <= size)
}

fn expect_oob<T: std::fmt::Debug>(r: Result<T, AccessError>, what: &str) {
    match r {
        Err(AccessError::OutOfBounds { .. } | AccessError::Overflow { .. }) => {}
        other => panic!("{what}: expected out of bounds, got {other:?}"),
    }
}

/// Runs an arbitrary sequence from `u` and panics at the first divergence from the model.
pub fn check(u: &mut Unstructured<'_>) -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimits { memory_size_bytes: LIMIT_PAGES * PAGE as u64, ..StoreLimits::default() });
    let min: u32 = u.int_in_range(0..=2)?;
    let max: Option<u32> = if u.arbitrary()? { Some(min + u.int_in_range(0..=8)?) } else { None };
    let memory = Memory::new(&mut store, MemoryType::new(min, max)).expect("within limits");
    let mut model = vec![0u8; min as usize * PAGE];
    let ops: Vec<Op> = u.arbitrary()?;
    for op in ops {
        step(&mut store, memory, &mut model, op);
        let data = memory.data(&store);
        assert_eq!(data.len(), model.len(), "memory size");
        if let Some(i) = data.iter().zip(&model).position(|(a, b)| a != b) {
            panic!("byte {i:#x}: memory has {:#x}, model {:#x}", data[i], model[i]);
        }
        assert_eq!(memory.size(&store), (model.len() / PAGE) as u64, "size in pages");
    }
    Ok(())
}

fn step(store: &mut Store<()>, memory: Memory, model: &mut Vec<u8>, op: Op) {
    let size = model.len();
    match op {
        Op::Grow(delta) => {
            let delta = u64::from(delta % 5);
            let pages = (size / PAGE) as u64;
            let max = memory.ty(&*store).maximum().unwrap_or(u64::MAX).min(LIMIT_PAGES);
            let before = memory.data_ptr(&*store);
            let r = memory.grow(&mut *store, delta);
            if pages + delta <= max {
                assert_eq!(r.expect("growth within limits"), pages, "grow returns the old size");
                model.resize(size + delta as usize * PAGE, 0);
                if delta == 0 {
                    assert_eq!(memory.data_ptr(&*store), before, "growth by 0 does not move memory");
                }
            } else {
                assert!(r.is_err(), "growth past the maximum must fail");
            }
        }
        Op::Write(addr, bytes) => {
            let a = addr.resolve(size);
            let r = memory.write(&mut *store, a as usize, &bytes);
            if fits(a, bytes.len(), size) {
                r.expect("write in bounds");
                model[a as usize..a as usize + bytes.len()].copy_from_slice(&bytes);
            } else {
                expect_oob(r, "Memory::write");
            }
        }
        Op::Read(addr, len) => {
            let a = addr.resolve(size);
            let mut buf = vec![0xAA; usize::from(len)];
            let r = memory.read(&*store, a as usize, &mut buf);
            if fits(a, buf.len(), size) {
                r.expect("read in bounds");
                assert_eq!(buf, model[a as usize..a as usize + buf.len()]);
            } else {
                expect_oob(r, "Memory::read");
                assert!(buf.iter().all(|&b| b == 0xAA), "a refused read writes nothing");
            }
        }
        Op::ViewBytes(addr, len) => {
            let a = addr.resolve(size);
            let view = memory.view(&*store);
            assert_eq!(view.len(), size);
            let r = view.bytes(u64::from(a), u64::from(len));
            if fits(a, usize::from(len), size) {
                assert_eq!(r.expect("in bounds"), &model[a as usize..a as usize + usize::from(len)]);
            } else {
                expect_oob(r, "MemoryView::bytes");
            }
        }
        Op::ReadU32(addr) => {
            let a = addr.resolve(size);
            let r = WasmPtr::<u32>::new(a).read(&memory.view(&*store));
            if fits(a, 4, size) {
                let i = a as usize;
                assert_eq!(r.expect("in bounds"), u32::from_le_bytes(model[i..i + 4].try_into().unwrap()));
            } else {
                expect_oob(r, "WasmPtr<u32>::read");
            }
        }
        Op::WriteU32(addr, v) => {
            let a = addr.resolve(size);
            let r = WasmPtr::<u32>::new(a).write(&mut memory.view_mut(&mut *store), v);
            if fits(a, 4, size) {
                r.expect("in bounds");
                model[a as usize..a as usize + 4].copy_from_slice(&v.to_le_bytes());
            } else {
                expect_oob(r, "WasmPtr<u32>::write");
            }
        }
        Op::ReadU64(addr) => {
            let a = addr.resolve(size);
            let mut view = memory.view_mut(&mut *store);
            let r = WasmPtr::<u64>::new(a).read(&view);
            if fits(a, 8, size) {
                let i = a as usize;
                assert_eq!(r.expect("in bounds"), u64::from_le_bytes(model[i..i + 8].try_into().unwrap()));
            } else {
                expect_oob(r, "WasmPtr<u64>::read");
            }
            // A view's length is the memory's length at the time it was taken.
            assert_eq!(view.as_view().len(), size);
        }
        Op::WriteU64(addr, v) => {
            let a = addr.resolve(size);
            let r = WasmPtr::<u64>::new(a).write(&mut memory.view_mut(&mut *store), v);
            if fits(a, 8, size) {
                r.expect("in bounds");
                model[a as usize..a as usize + 8].copy_from_slice(&v.to_le_bytes());
            } else {
                expect_oob(r, "WasmPtr<u64>::write");
            }
        }
        Op::WriteSlice(addr, values) => {
            let a = addr.resolve(size);
            let slice = WasmSlice::new(WasmPtr::<u16>::new(a), values.len() as u32);
            let r = slice.write_from(&mut memory.view_mut(&mut *store), &values);
            if fits(a, values.len() * 2, size) {
                r.expect("in bounds");
                for (i, v) in values.iter().enumerate() {
                    let at = a as usize + 2 * i;
                    model[at..at + 2].copy_from_slice(&v.to_le_bytes());
                }
            } else {
                expect_oob(r, "WasmSlice::write_from");
            }
            // A length that disagrees with the slice is refused whatever the address.
            let short = WasmSlice::new(WasmPtr::<u16>::new(a), values.len() as u32 + 1);
            let r = short.write_from(&mut memory.view_mut(&mut *store), &values);
            assert!(matches!(r, Err(AccessError::LengthMismatch { .. })), "{r:?}");
        }
        Op::ReadSlice(addr, len) => {
            let a = addr.resolve(size);
            let r = WasmSlice::new(WasmPtr::<u16>::new(a), u32::from(len)).read_to_vec(&memory.view(&*store));
            if fits(a, usize::from(len) * 2, size) {
                let want: Vec<u16> = model[a as usize..a as usize + usize::from(len) * 2]
                    .chunks(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                assert_eq!(r.expect("in bounds"), want);
            } else {
                expect_oob(r, "WasmSlice::read_to_vec");
            }
        }
        Op::Utf8(addr, len) => {
            let a = addr.resolve(size);
            let view = memory.view(&*store);
            let r = WasmPtr::<u8>::new(a).read_utf8(&view, u32::from(len));
            if fits(a, usize::from(len), size) {
                let bytes = &model[a as usize..a as usize + usize::from(len)];
                match std::str::from_utf8(bytes) {
                    Ok(s) => assert_eq!(r.expect("valid UTF-8"), s),
                    Err(_) => assert!(matches!(r, Err(AccessError::InvalidUtf8 { .. })), "{r:?}"),
                }
            } else {
                expect_oob(r, "read_utf8");
            }
        }
        Op::Cstr(addr, max_len) => {
            let a = addr.resolve(size);
            let view = memory.view(&*store);
            let r = WasmPtr::<u8>::new(a).read_cstr(&view, u32::from(max_len));
            if a as usize > size {
                expect_oob(r, "read_cstr");
            } else {
                let window = &model[a as usize..size.min(a as usize + usize::from(max_len) + 1)];
                match window.iter().position(|&b| b == 0) {
                    None => assert!(matches!(r, Err(AccessError::Unterminated { .. })), "{r:?}"),
                    Some(n) => match std::str::from_utf8(&window[..n]) {
                        Ok(s) => assert_eq!(r.expect("terminated UTF-8"), s),
                        Err(_) => assert!(matches!(r, Err(AccessError::InvalidUtf8 { .. })), "{r:?}"),
                    },
                }
            }
        }
        Op::DataMut(addr, byte) => {
            let a = addr.resolve(size) as usize;
            let data = memory.data_mut(&mut *store);
            if a < size {
                data[a] = byte;
                model[a] = byte;
            }
        }
        Op::Session(ops) => session(store, memory, model, ops),
    }
}

fn session(store: &mut Store<()>, memory: Memory, model: &mut [u8], ops: Vec<GuardOp>) {
    let size = model.len();
    let view = memory.view_mut(&mut *store);
    let mut held: Vec<Held<'_>> = Vec::new();
    let conflicts = |held: &[Held<'_>], start: usize, len: usize, mutable: bool| {
        held.iter().any(|h| (mutable || h.mutable) && overlaps((h.start, h.len), (start, len)))
    };
    for op in ops {
        match op {
            GuardOp::Bytes { addr, len, mutable } => {
                let a = addr.resolve(size);
                let len = usize::from(len);
                let slice = WasmSlice::new(WasmPtr::<u8>::new(a), len as u32);
                let r = if mutable {
                    view.borrow_mut(slice).map(Live::BytesMut)
                } else {
                    view.borrow(slice).map(Live::Bytes)
                };
                if !fits(a, len, size) {
                    expect_oob(r, "borrow bytes");
                } else if conflicts(&held, a as usize, len, mutable) {
                    assert!(matches!(r, Err(AccessError::BorrowConflict { .. })), "expected a conflict");
                } else {
                    let guard = r.expect("no conflict");
                    held.push(Held { start: a as usize, len, mutable, guard });
                }
            }
            GuardOp::Words { addr, len, mutable } => {
                let a = addr.resolve(size);
                let bytes = usize::from(len) * 4;
                let slice = WasmSlice::new(WasmPtr::<u32>::new(a), u32::from(len));
                let r = if mutable {
                    view.borrow_mut(slice).map(Live::WordsMut)
                } else {
                    view.borrow(slice).map(Live::Words)
                };
                // The memory's base is page-aligned, so host alignment is guest alignment.
                if !fits(a, bytes, size) {
                    expect_oob(r, "borrow words");
                } else if a % 4 != 0 {
                    assert!(matches!(r, Err(AccessError::Misaligned { .. })), "expected misaligned");
                } else if conflicts(&held, a as usize, bytes, mutable) {
                    assert!(matches!(r, Err(AccessError::BorrowConflict { .. })), "expected a conflict");
                } else {
                    let guard = r.expect("no conflict");
                    held.push(Held { start: a as usize, len: bytes, mutable, guard });
                }
            }
            GuardOp::Pair(a1, l1, a2, l2) => {
                let (a1, a2) = (a1.resolve(size), a2.resolve(size));
                let (l1, l2) = (usize::from(l1), usize::from(l2));
                let r = view.borrow_many_mut([
                    WasmSlice::new(WasmPtr::<u8>::new(a1), l1 as u32),
                    WasmSlice::new(WasmPtr::<u8>::new(a2), l2 as u32),
                ]);
                let ok = fits(a1, l1, size)
                    && fits(a2, l2, size)
                    && !conflicts(&held, a1 as usize, l1, true)
                    && !conflicts(&held, a2 as usize, l2, true)
                    && !overlaps((a1 as usize, l1), (a2 as usize, l2));
                match r {
                    Ok([g1, g2]) => {
                        assert!(ok, "borrow_many_mut granted overlapping or out-of-bounds regions");
                        held.push(Held { start: a1 as usize, len: l1, mutable: true, guard: Live::BytesMut(g1) });
                        held.push(Held { start: a2 as usize, len: l2, mutable: true, guard: Live::BytesMut(g2) });
                    }
                    Err(e) => assert!(!ok, "borrow_many_mut refused valid regions: {e}"),
                }
            }
            GuardOp::Fill(i, byte) => {
                let n = held.len();
                if let Some(h) = held.get_mut(usize::from(i) % n.max(1)) {
                    match &mut h.guard {
                        Live::BytesMut(g) => g.fill(byte),
                        Live::WordsMut(g) => g.fill(u32::from_ne_bytes([byte; 4])),
                        Live::Bytes(_) | Live::Words(_) => continue,
                    }
                    model[h.start..h.start + h.len].fill(byte);
                }
            }
            GuardOp::Check(i) => {
                if let Some(h) = held.get(usize::from(i) % held.len().max(1)) {
                    let bytes: Vec<u8> = match &h.guard {
                        Live::Bytes(g) => g.to_vec(),
                        Live::BytesMut(g) => g.to_vec(),
                        Live::Words(g) => g.iter().flat_map(|w| w.to_le_bytes()).collect(),
                        Live::WordsMut(g) => g.iter().flat_map(|w| w.to_le_bytes()).collect(),
                    };
                    assert_eq!(bytes, model[h.start..h.start + h.len], "guard contents");
                }
            }
            GuardOp::Release(i) => {
                if !held.is_empty() {
                    let n = held.len();
                    held.swap_remove(usize::from(i) % n);
                }
            }
            GuardOp::Read(addr, len) => {
                let a = addr.resolve(size);
                let mut buf = vec![0u8; usize::from(len)];
                let r = view.read(u64::from(a), &mut buf);
                if !fits(a, buf.len(), size) {
                    expect_oob(r, "MemoryViewMut::read");
                } else if held.iter().any(|h| h.mutable && overlaps((h.start, h.len), (a as usize, buf.len()))) {
                    assert!(matches!(r, Err(AccessError::BorrowConflict { .. })), "expected a conflict");
                } else {
                    r.expect("no conflict");
                    assert_eq!(buf, model[a as usize..a as usize + buf.len()]);
                }
            }
        }
    }
    // Every guard released: the whole memory can be borrowed mutably again.
    drop(held);
    let all = view.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(0), size as u32));
    assert!(all.is_ok(), "a region stayed registered after its guard was dropped");
}
