//! Guard acquisition and release sequences on one `MemoryViewMut`, against a model of the
//! live set: overlapping shared guards are granted, anything overlapping a mutable guard is
//! refused, disjoint ones are granted, dropping releases, and zero-length regions never
//! conflict.

use std::ops::Range;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use wasmguard::access::{Guard, GuardMut};
use wasmguard::{AccessError, Engine, Memory, MemoryType, Store, WASM_PAGE_SIZE, WasmPtr, WasmSlice};

use crate::model::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    U8,
    U32,
}

#[derive(Debug, Clone)]
enum GuardOp {
    /// `borrow` / `borrow_mut` of `len` elements; a mutable guard is filled with `fill`.
    Take { at: Addr, len: u32, elem: Elem, mutable: bool, fill: u8 },
    /// `borrow_many_mut` of two byte regions.
    TakeTwo { first: (Addr, u32), second: (Addr, u32), fill: u8 },
    /// Drops the live guard at this index (modulo the number of live guards).
    Release(usize),
    /// Writes one element through a live mutable guard.
    Store { guard: usize, index: usize, byte: u8 },
    /// `MemoryViewMut::read` while guards live.
    Read(Addr, u32),
    /// `WasmPtr::<u32>::read` through the view while guards live.
    PtrRead(Addr),
}

fn guard_addr() -> impl Strategy<Value = Addr> {
    prop_oneof![
        12 => (0u32..160).prop_map(Addr::Low),
        1 => (0u32..=48).prop_map(Addr::BeforeEnd),
        1 => (1u32..=8).prop_map(Addr::PastEnd),
        1 => (0u32..=8).prop_map(Addr::Top),
    ]
}

/// Guard operations; with `empty_guards`, guards of zero length are taken too.
fn guard_op(empty_guards: bool) -> impl Strategy<Value = GuardOp> {
    let elem = prop_oneof![3 => Just(Elem::U8), 1 => Just(Elem::U32)];
    let len = prop_oneof![1 => Just(0u32), 8 => 1u32..=40];
    let guard_len = if empty_guards { len.clone().boxed() } else { (1u32..=40).boxed() };
    prop_oneof![
        8 => (guard_addr(), guard_len.clone(), elem, any::<bool>(), any::<u8>())
            .prop_map(|(at, len, elem, mutable, fill)| GuardOp::Take { at, len, elem, mutable, fill }),
        1 => (guard_addr(), guard_len.clone(), guard_addr(), guard_len, any::<u8>())
            .prop_map(|(a, n, b, m, fill)| GuardOp::TakeTwo { first: (a, n), second: (b, m), fill }),
        5 => any::<usize>().prop_map(GuardOp::Release),
        3 => (any::<usize>(), any::<usize>(), any::<u8>())
            .prop_map(|(guard, index, byte)| GuardOp::Store { guard, index, byte }),
        3 => (guard_addr(), len).prop_map(|(a, n)| GuardOp::Read(a, n)),
        2 => guard_addr().prop_map(GuardOp::PtrRead),
    ]
}

/// A live guard of any kind.
enum Live<'v> {
    U8(Guard<'v, u8>),
    MutU8(GuardMut<'v, u8>),
    U32(Guard<'v, u32>),
    MutU32(GuardMut<'v, u32>),
}

impl Live<'_> {
    /// The guarded bytes, in host memory order.
    fn bytes(&self) -> Vec<u8> {
        match self {
            Live::U8(g) => g.to_vec(),
            Live::MutU8(g) => g.to_vec(),
            Live::U32(g) => g.iter().flat_map(|v| v.to_ne_bytes()).collect(),
            Live::MutU32(g) => g.iter().flat_map(|v| v.to_ne_bytes()).collect(),
        }
    }
}

/// The model of the live set: the byte range of each live guard and whether it is mutable.
#[derive(Debug, Default)]
struct LiveSet(Vec<(Range<usize>, bool)>);

impl LiveSet {
    /// Whether a new region conflicts: overlapping shared regions are fine, a mutable one
    /// overlaps nothing, and zero-length regions never conflict.
    fn conflicts(&self, range: &Range<usize>, mutable: bool) -> bool {
        !range.is_empty()
            && self
                .0
                .iter()
                .any(|(r, m)| !r.is_empty() && r.start < range.end && range.start < r.end && (mutable || *m))
    }

    /// Whether a read of `range` must be refused: it overlaps a live mutable guard.
    fn overlaps_mutable(&self, range: &Range<usize>) -> bool {
        !range.is_empty()
            && self.0.iter().any(|(r, m)| *m && !r.is_empty() && r.start < range.end && range.start < r.end)
    }

    /// What taking a guard of `len_bytes` at `address` must give.
    fn expect_take(
        &self,
        address: u32,
        len_bytes: u64,
        align: usize,
        base: usize,
        size: usize,
        mutable: bool,
    ) -> Result<Range<usize>, AccessError> {
        let range = model_range(u64::from(address), len_bytes, size)?;
        if !(base + range.start).is_multiple_of(align) {
            return Err(AccessError::Misaligned { address: u64::from(address), align: align as u32 });
        }
        if self.conflicts(&range, mutable) {
            return Err(AccessError::BorrowConflict { address: u64::from(address), len: len_bytes });
        }
        Ok(range)
    }
}

/// `len` bytes of a pattern with period 251 (byte `i` is `i * 7 % 251`): one period
/// computed, the rest copied in doubling runs (a few `memcpy`s, where Miri would interpret
/// a loop over every byte).
fn patterned(len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..251usize.min(len)).map(|i| (i * 7 % 251) as u8).collect();
    while bytes.len() < len {
        let n = bytes.len().min(len - bytes.len());
        bytes.extend_from_within(..n);
    }
    bytes
}

fn run_guards(ops: &[GuardOp]) -> TestCaseResult {
    let mut store = Store::new(&Engine::default(), ());
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(1))).unwrap();
    let mut model = patterned(WASM_PAGE_SIZE as usize);
    memory.write(&mut store, 0, &model).unwrap();
    let base = memory.data_ptr(&store) as usize;
    let size = model.len();

    let view = memory.view_mut(&mut store);
    let mut live: Vec<Live<'_>> = Vec::new();
    let mut set = LiveSet::default();
    for op in ops {
        match *op {
            GuardOp::Take { at, len, elem, mutable, fill } => {
                let address = at.at(size, 0);
                let (elem_size, align) = match elem {
                    Elem::U8 => (1, 1),
                    Elem::U32 => (4, std::mem::align_of::<u32>()),
                };
                let len_bytes = u64::from(len) * elem_size;
                let expected = set.expect_take(address, len_bytes, align, base, size, mutable);
                let actual = match (elem, mutable) {
                    (Elem::U8, false) => view.borrow(WasmSlice::new(WasmPtr::<u8>::new(address), len)).map(Live::U8),
                    (Elem::U8, true) => {
                        view.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(address), len)).map(Live::MutU8)
                    }
                    (Elem::U32, false) => view.borrow(WasmSlice::new(WasmPtr::<u32>::new(address), len)).map(Live::U32),
                    (Elem::U32, true) => {
                        view.borrow_mut(WasmSlice::new(WasmPtr::<u32>::new(address), len)).map(Live::MutU32)
                    }
                };
                match (actual, expected) {
                    (Ok(mut guard), Ok(range)) => {
                        match &mut guard {
                            Live::MutU8(g) => g.fill(fill),
                            Live::MutU32(g) => g.fill(u32::from_ne_bytes([fill; 4])),
                            Live::U8(_) | Live::U32(_) => {}
                        }
                        if mutable {
                            model[range.clone()].fill(fill);
                        }
                        live.push(guard);
                        set.0.push((range, mutable));
                    }
                    (Err(a), Err(e)) => prop_assert_eq!(a, e, "{:?} with live {:?}", op, set),
                    (Ok(_), Err(e)) => {
                        prop_assert!(false, "{op:?} granted with live {set:?}; expected {e:?}")
                    }
                    (Err(a), Ok(_)) => {
                        prop_assert!(false, "{op:?} refused with {a:?}; live {set:?}")
                    }
                }
            }
            GuardOp::TakeTwo { first, second, fill } => {
                let regions = [first, second].map(|(at, len)| (at.at(size, 0), len));
                // All or nothing: take them in order in a copy of the live set.
                let mut trial = LiveSet(set.0.clone());
                let mut expected = Ok(Vec::new());
                for &(address, len) in &regions {
                    match trial.expect_take(address, u64::from(len), 1, base, size, true) {
                        Ok(range) => {
                            trial.0.push((range.clone(), true));
                            if let Ok(v) = &mut expected {
                                v.push(range);
                            }
                        }
                        Err(e) => {
                            expected = Err(e);
                            break;
                        }
                    }
                }
                let actual = view
                    .borrow_many_mut(regions.map(|(address, len)| WasmSlice::new(WasmPtr::<u8>::new(address), len)));
                match (actual, expected) {
                    (Ok(guards), Ok(ranges)) => {
                        for (mut g, range) in guards.into_iter().zip(ranges) {
                            g.fill(fill);
                            model[range.clone()].fill(fill);
                            live.push(Live::MutU8(g));
                            set.0.push((range, true));
                        }
                    }
                    (Err(a), Err(e)) => prop_assert_eq!(a, e, "{:?} with live {:?}", op, set),
                    (a, e) => prop_assert!(false, "{op:?}: got {:?}, expected {e:?}; live {set:?}", a.map(|_| ())),
                }
            }
            GuardOp::Release(i) => {
                if !live.is_empty() {
                    let i = i % live.len();
                    drop(live.remove(i));
                    set.0.remove(i);
                }
            }
            GuardOp::Store { guard, index, byte } => {
                let mutable: Vec<usize> = (0..live.len()).filter(|&i| set.0[i].1).collect();
                if mutable.is_empty() {
                    continue;
                }
                let g = mutable[guard % mutable.len()];
                let start = set.0[g].0.start;
                match &mut live[g] {
                    Live::MutU8(items) if !items.is_empty() => {
                        let i = index % items.len();
                        items[i] = byte;
                        model[start + i] = byte;
                    }
                    Live::MutU32(items) if !items.is_empty() => {
                        let i = index % items.len();
                        let v = u32::from_ne_bytes([byte, byte ^ 1, byte ^ 2, byte ^ 3]);
                        items[i] = v;
                        model[start + 4 * i..][..4].copy_from_slice(&v.to_ne_bytes());
                    }
                    _ => {}
                }
            }
            GuardOp::Read(at, len) => {
                let address = at.at(size, 0);
                let mut buf = vec![0xEE; len as usize];
                let actual = view.read(u64::from(address), &mut buf).map(|()| buf);
                let expected = model_range(u64::from(address), u64::from(len), size).and_then(|r| {
                    if set.overlaps_mutable(&r) {
                        Err(AccessError::BorrowConflict { address: u64::from(address), len: u64::from(len) })
                    } else {
                        Ok(model[r].to_vec())
                    }
                });
                prop_assert_eq!(actual, expected, "{:?} with live {:?}", op, set);
            }
            GuardOp::PtrRead(at) => {
                let address = at.at(size, 0);
                let actual = WasmPtr::<u32>::new(address).read(&view);
                let expected = model_range(u64::from(address), 4, size).and_then(|r| {
                    if set.overlaps_mutable(&r) {
                        Err(AccessError::BorrowConflict { address: u64::from(address), len: 4 })
                    } else {
                        Ok(u32::from_le_bytes(model[r].try_into().unwrap()))
                    }
                });
                prop_assert_eq!(actual, expected, "{:?} with live {:?}", op, set);
            }
        }
        // Every live guard sees what the model holds.
        for (g, (range, _)) in live.iter().zip(&set.0) {
            prop_assert_eq!(g.bytes(), &model[range.clone()]);
        }
    }
    drop(live);
    // Everything released: the whole memory can be borrowed mutably again.
    let all = view.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(0), size as u32));
    prop_assert!(all.is_ok(), "guards not released: {:?}", all.err());
    drop(all);
    drop(view);
    let diff = first_diff(memory.data(&store), &model);
    prop_assert!(diff.is_none(), "memory differs from the model at {diff:#x?}");
    Ok(())
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    /// Guard acquisition and release sequences on one `MemoryViewMut` follow the model of
    /// the live set, and writes through mutable guards land in memory. (Zero-length
    /// *requests* are made by reads here; zero-length *guards* by the test below.)
    #[test]
    fn guards_follow_the_live_set_model(ops in vec(guard_op(false), 1..40)) {
        run_guards(&ops)?;
    }

    /// As above, with zero-length guards among the live ones: they never conflict.
    #[test]
        fn guards_with_empty_regions_follow_the_live_set_model(ops in vec(guard_op(true), 1..40)) {
        run_guards(&ops)?;
    }
}

/// Minimal reproduction: a zero-length region covers no byte, so it cannot conflict with
/// anything, yet while it lives the registry refuses regions that straddle its address.
#[test]
fn live_empty_guard_does_not_conflict() {
    let mut store = Store::new(&Engine::default(), ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let view = memory.view_mut(&mut store);
    let empty = view.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(8), 0)).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(view.read(0, &mut buf), Ok(()));
    assert!(view.borrow(WasmSlice::new(WasmPtr::<u8>::new(0), 16)).is_ok());
    drop(empty);
}
