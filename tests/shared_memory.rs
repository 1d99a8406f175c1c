//! Shared memories (threads proposal), host side: atomic access from several threads (no
//! torn values, no lost updates), concurrent growth (monotone, bounded, never moving),
//! wait/notify, typed access through `SharedMemoryView`, a property test of the chunked
//! atomic copies against a `Vec<u8>` model, and a property test of random concurrent
//! scripts (grow, tagged stores, reads, adds, wait/notify, copies) from several threads.
//!
//! Everything is small enough for Miri with threads:
//! `cargo +nightly miri test -p wasmguard --test shared_memory`. Host threads mix access
//! widths on the same bytes freely (the storage makes every access a whole-word atomic).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use wasmguard::{
    AccessError, AtomicRmwOp, Config, Engine, GuestType, MemoryType, SharedMemory, WASM_PAGE_SIZE, WaitResult, WasmPtr,
    WasmSlice,
};

/// Iterations of the concurrent loops: enough natively, few under Miri.
const ITERS: u32 = if cfg!(miri) { 12 } else { 2_000 };

fn memory(min: u32, max: u32) -> SharedMemory {
    SharedMemory::new(&Engine::default(), MemoryType::shared(min, max)).expect("small shared memory")
}

fn access_error(e: &wasmguard::Error) -> Option<&AccessError> {
    e.host_error()?.downcast_ref::<AccessError>()
}

#[test]
fn creation_checks_the_type() {
    let engine = Engine::default();
    assert!(SharedMemory::new(&engine, MemoryType::new(1, Some(2))).is_err(), "not shared");
    assert!(SharedMemory::new(&engine, MemoryType::shared(3, 2)).is_err(), "min > max");
    assert!(SharedMemory::new(&engine, MemoryType::shared(0, 65_537)).is_err(), "beyond 4 GiB");
    let capped = SharedMemory::with_reservation_limit(&engine, MemoryType::shared(1, 8), 4 * WASM_PAGE_SIZE);
    assert!(capped.unwrap_err().to_string().contains("reservation limit"));
    let no_threads = Engine::new(Config::new().wasm_threads(false)).unwrap();
    assert!(SharedMemory::new(&no_threads, MemoryType::shared(1, 1)).is_err());

    let m = memory(1, 3);
    assert!(m.ty().is_shared());
    assert_eq!((m.ty().minimum(), m.ty().maximum()), (1, Some(3)));
    assert_eq!((m.size(), m.data_size()), (1, WASM_PAGE_SIZE as usize));
    let empty = memory(0, 0);
    assert_eq!(empty.size(), 0);
    assert!(empty.view().is_empty());
    assert!(empty.grow(1).is_err());
    assert_eq!(empty.grow(0).unwrap(), 0);
    let clone = m.clone();
    assert!(SharedMemory::same(&m, &clone));
    assert!(!SharedMemory::same(&m, &empty));

    fn send_sync_clone<T: Send + Sync + Clone>() {}
    send_sync_clone::<SharedMemory>();
}

/// Aligned u32 and u64 stores of distinct patterns race with reads of the same words:
/// every value read is one some thread wrote (or the initial zero), never a mix.
#[test]
fn aligned_values_are_never_torn() {
    let m = memory(1, 1);
    const P32: [u32; 3] = [0x1111_1111, 0x2222_2222, 0xABCD_EF01];
    const P64: [u64; 3] = [0x1111_1111_1111_1111, 0x2222_2222_FFFF_FFFF, 0x0123_4567_89AB_CDEF];
    std::thread::scope(|s| {
        for t in 0..3 {
            let m = &m;
            s.spawn(move || {
                let mut view = m.view();
                for i in 0..ITERS {
                    let word = u64::from(i % 4) * 8;
                    // Alternate the ways to store one u32 / one u64 atomically.
                    if i % 2 == 0 {
                        m.atomic_store32(word, P32[t]).unwrap();
                        m.atomic_store64(64 + word, P64[t]).unwrap();
                    } else {
                        WasmPtr::<u32>::new(word as u32).write(&mut view, P32[t]).unwrap();
                        view.write(64 + word, &P64[t].to_le_bytes()).unwrap();
                    }
                }
            });
        }
        for _ in 0..2 {
            let m = &m;
            s.spawn(move || {
                let view = m.view();
                for i in 0..ITERS {
                    let word = u64::from(i % 4) * 8;
                    let a = if i % 2 == 0 {
                        m.atomic_load32(word).unwrap()
                    } else {
                        WasmPtr::<u32>::new(word as u32).read(&view).unwrap()
                    };
                    assert!(a == 0 || P32.contains(&a), "torn u32 {a:#x}");
                    let b = if i % 2 == 0 {
                        m.atomic_load64(64 + word).unwrap()
                    } else {
                        WasmSlice::new(WasmPtr::<u64>::new(64 + word as u32), 1).read_to_vec(&view).unwrap()[0]
                    };
                    assert!(b == 0 || P64.contains(&b), "torn u64 {b:#x}");
                }
            });
        }
    });
}

/// Racing accesses of different widths to the same bytes (which wasm allows) are defined:
/// u32 halves stored separately are each seen whole by u64 loads; byte stores next to a
/// u16 counter never disturb it.
#[test]
fn mixed_width_races_are_defined() {
    let m = memory(1, 1);
    const HALVES: [u32; 2] = [0xAAAA_5555, 0x1234_EDCB];
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let m = &m;
            s.spawn(move || {
                for i in 0..ITERS {
                    m.atomic_store32(4 * t, HALVES[(i as usize + t as usize) % 2]).unwrap();
                    m.view().write(10 + t, &[i as u8]).unwrap();
                }
            });
        }
        s.spawn(|| {
            for _ in 0..ITERS {
                m.atomic_rmw32(AtomicRmwOp::Add, 12, 1).unwrap();
            }
        });
        s.spawn(|| {
            for _ in 0..ITERS {
                let v = m.atomic_load64(0).unwrap();
                for half in [v as u32, (v >> 32) as u32] {
                    assert!(half == 0 || HALVES.contains(&half), "torn half {half:#x}");
                }
                let mut bytes = [0u8; 3];
                m.view().read(1, &mut bytes).unwrap();
            }
        });
    });
    assert_eq!(m.atomic_load32(12).unwrap(), ITERS, "neighbouring byte stores lose no increment");
}

/// Concurrent fetch-adds (u32 and u64) and a cmpxchg spin counter lose no update.
#[test]
fn concurrent_read_modify_writes_lose_nothing() {
    let m = memory(1, 1);
    const THREADS: u32 = 4;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let m = &m;
            s.spawn(move || {
                for _ in 0..ITERS {
                    m.atomic_rmw32(AtomicRmwOp::Add, 0, 1).unwrap();
                    m.atomic_rmw64(AtomicRmwOp::Add, 8, u64::from(t) + 1).unwrap();
                    let mut cur = m.atomic_load32(16).unwrap();
                    loop {
                        match m.atomic_cmpxchg32(16, cur, cur + 2).unwrap() {
                            old if old == cur => break,
                            old => cur = old,
                        }
                    }
                }
            });
        }
    });
    assert_eq!(m.atomic_load32(0).unwrap(), THREADS * ITERS);
    assert_eq!(m.atomic_load64(8).unwrap(), u64::from(ITERS) * (1..=u64::from(THREADS)).sum::<u64>());
    assert_eq!(m.atomic_load32(16).unwrap(), 2 * THREADS * ITERS);
}

#[test]
fn atomic_helpers_cover_every_op_and_refuse_bad_addresses() {
    let m = memory(1, 1);
    m.atomic_store32(4, 0b1100).unwrap();
    assert_eq!(m.atomic_rmw32(AtomicRmwOp::And, 4, 0b1010).unwrap(), 0b1100);
    assert_eq!(m.atomic_rmw32(AtomicRmwOp::Or, 4, 1).unwrap(), 0b1000);
    assert_eq!(m.atomic_rmw32(AtomicRmwOp::Xor, 4, 0b1111).unwrap(), 0b1001);
    assert_eq!(m.atomic_rmw32(AtomicRmwOp::Sub, 4, 7).unwrap(), 0b0110);
    assert_eq!(m.atomic_rmw32(AtomicRmwOp::Xchg, 4, 9).unwrap(), u32::MAX);
    assert_eq!(m.atomic_cmpxchg64(8, 1, 2).unwrap(), 0);
    assert_eq!(m.atomic_cmpxchg64(8, 0, 2).unwrap(), 0);
    assert_eq!(m.atomic_load64(8).unwrap(), 2);
    assert_eq!(m.view().read_to_vec(4, 4).unwrap(), 9u32.to_le_bytes());

    let end = WASM_PAGE_SIZE;
    let misaligned = [
        m.atomic_load32(2).unwrap_err(),
        m.atomic_load64(4).unwrap_err(),
        m.atomic_store32(1, 0).unwrap_err(),
        m.atomic_store64(12, 0).unwrap_err(),
        m.atomic_rmw32(AtomicRmwOp::Add, 3, 1).unwrap_err(),
        m.atomic_rmw64(AtomicRmwOp::Add, 4, 1).unwrap_err(),
        m.atomic_cmpxchg32(6, 0, 1).unwrap_err(),
        m.atomic_cmpxchg64(20, 0, 1).unwrap_err(),
        m.atomic_wait32(2, 0, None).unwrap_err(),
        m.atomic_wait64(4, 0, None).unwrap_err(),
        m.atomic_notify(1, 1).unwrap_err(),
    ];
    for e in &misaligned {
        assert!(matches!(access_error(e), Some(AccessError::Misaligned { .. })), "{e}");
    }
    let out_of_bounds = [
        m.atomic_load32(end).unwrap_err(),
        m.atomic_load64(end).unwrap_err(),
        m.atomic_store32(u64::MAX - 3, 0).unwrap_err(),
        m.atomic_rmw64(AtomicRmwOp::Xchg, end, 1).unwrap_err(),
        m.atomic_cmpxchg32(end, 0, 1).unwrap_err(),
        m.atomic_wait32(end, 0, None).unwrap_err(),
        m.atomic_wait64(u64::MAX - 7, 0, None).unwrap_err(),
        m.atomic_notify(end, 1).unwrap_err(),
    ];
    for e in &out_of_bounds {
        assert!(matches!(access_error(e), Some(AccessError::OutOfBounds { .. } | AccessError::Overflow { .. })), "{e}");
    }
}

/// Several threads grow while others read and write: sizes only increase, never past the
/// maximum; growth beyond it fails; the base never moves; earlier writes survive.
#[test]
fn concurrent_growth_is_monotone_bounded_and_never_moves() {
    const MAX: u64 = 4;
    let m = memory(1, MAX as u32);
    let base = m.base_address();
    m.atomic_store64(8, 0x5555).unwrap();
    let done = AtomicBool::new(false);
    let successes: u64 = std::thread::scope(|s| {
        let growers: Vec<_> = (0..3)
            .map(|_| {
                let m = &m;
                s.spawn(move || {
                    let mut ok = 0;
                    for _ in 0..2 {
                        match m.grow(1) {
                            Ok(old) => {
                                assert!((1..MAX).contains(&old));
                                // The new page is usable at once, and zero.
                                let last = (old + 1) * WASM_PAGE_SIZE - 8;
                                assert_eq!(m.atomic_rmw64(AtomicRmwOp::Add, last, 1).unwrap(), 0);
                                ok += 1;
                            }
                            Err(e) => assert!(e.to_string().contains("maximum"), "{e}"),
                        }
                    }
                    ok
                })
            })
            .collect();
        let reader = {
            let (m, done) = (&m, &done);
            s.spawn(move || {
                let mut last = 0;
                while !done.load(Ordering::Acquire) {
                    let size = m.size();
                    assert!(size >= last && size <= MAX, "size went from {last} to {size}");
                    last = size;
                    assert_eq!(m.base_address(), base);
                    assert_eq!(m.atomic_load64(8).unwrap(), 0x5555);
                    // Whatever the size is now is readable at its end, while the growers
                    // write there.
                    let view = m.view();
                    let len = view.len() as u64;
                    assert!(view.read(len - 3, &mut [0; 3]).is_ok());
                    std::thread::yield_now();
                }
            })
        };
        let total = growers.into_iter().map(|g| g.join().unwrap()).sum();
        done.store(true, Ordering::Release);
        reader.join().unwrap();
        total
    });
    assert_eq!(successes, MAX - 1, "exactly the pages up to the maximum were added");
    assert_eq!(m.size(), MAX);
    assert!(m.grow(1).is_err());
    assert_eq!(m.grow(0).unwrap(), MAX);
    assert_eq!(m.base_address(), base);
    for page in 1..MAX {
        assert_eq!(m.atomic_load64((page + 1) * WASM_PAGE_SIZE - 8).unwrap(), 1);
    }
    assert_eq!(m.atomic_load64(8).unwrap(), 0x5555);
}

/// Blocks until `count` threads wait on `addr`.
fn wait_for_waiters(m: &SharedMemory, addr: u64, count: usize) {
    while m.waiter_count(addr) != count {
        std::thread::yield_now();
    }
}

#[test]
fn wait_blocks_until_notified() {
    let m = memory(1, 1);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| m.atomic_wait32(0, 0, None).unwrap());
        wait_for_waiters(&m, 0, 1);
        assert!(!waiter.is_finished());
        assert_eq!(m.atomic_notify(4, 1).unwrap(), 0, "another address wakes nobody");
        assert_eq!(m.atomic_notify(0, 0).unwrap(), 0, "count 0 wakes nobody");
        assert_eq!(m.waiter_count(0), 1);
        m.atomic_store32(0, 1).unwrap();
        assert_eq!(m.atomic_notify(0, u32::MAX).unwrap(), 1);
        assert_eq!(waiter.join().unwrap(), WaitResult::Ok);
    });
    // The value protocol: a waiter that comes after the store does not block.
    assert_eq!(m.atomic_wait32(0, 0, None).unwrap(), WaitResult::NotEqual);
    assert_eq!(m.atomic_notify(0, 1).unwrap(), 0);
}

#[test]
fn wait_not_equal_and_timeouts() {
    let m = memory(1, 1);
    m.atomic_store64(8, u64::MAX).unwrap();
    assert_eq!(m.atomic_wait64(8, 0, None).unwrap(), WaitResult::NotEqual);
    assert_eq!(m.atomic_wait32(8, 0, Some(Duration::from_secs(100))).unwrap(), WaitResult::NotEqual);
    assert_eq!(m.atomic_wait64(8, u64::MAX, Some(Duration::ZERO)).unwrap(), WaitResult::TimedOut);
    assert_eq!(m.atomic_wait32(16, 0, Some(Duration::from_millis(2))).unwrap(), WaitResult::TimedOut);
    assert_eq!(m.atomic_wait64(16, 0, Some(Duration::from_millis(2))).unwrap(), WaitResult::TimedOut);
    assert_eq!(m.waiter_count(16), 0);
    assert_eq!(WaitResult::TimedOut.as_wasm(), 2);
    assert_eq!(WaitResult::NotEqual.as_wasm(), 1);
    assert_eq!(WaitResult::Ok.as_wasm(), 0);
}

/// Waiters are woken oldest first; notify returns how many it woke.
#[test]
fn notify_is_fifo_and_counts() {
    let m = memory(1, 1);
    let woken = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for id in 0..4 {
            let (m, woken) = (&m, &woken);
            s.spawn(move || {
                assert_eq!(m.atomic_wait64(24, 0, None).unwrap(), WaitResult::Ok);
                woken.lock().unwrap().push(id);
            });
            wait_for_waiters(m, 24, id + 1);
        }
        assert_eq!(m.atomic_notify(24, 1).unwrap(), 1);
        while woken.lock().unwrap().len() != 1 {
            std::thread::yield_now();
        }
        assert_eq!(*woken.lock().unwrap(), [0]);
        assert_eq!(m.waiter_count(24), 3);
        assert_eq!(m.atomic_notify(24, 2).unwrap(), 2);
        while woken.lock().unwrap().len() != 3 {
            std::thread::yield_now();
        }
        // The two woken together record themselves in either order.
        let mut next_two = woken.lock().unwrap()[1..].to_vec();
        next_two.sort_unstable();
        assert_eq!(next_two, [1, 2], "the oldest waiters are woken first");
        assert_eq!(m.waiter_count(24), 1);
        assert_eq!(m.atomic_notify(24, 10).unwrap(), 1);
    });
    assert_eq!(woken.into_inner().unwrap()[3], 3, "the youngest waiter is woken last");
}

/// A guest struct: `{ u32 id; u8 flags; u64 value; }`, size 16, align 8.
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Message {
    id: u32,
    flags: u8,
    value: u64,
}

#[test]
fn typed_access_round_trips_and_refuses_hostile_pointers() {
    let m = memory(1, 2);
    let mut view = m.view();
    let msg = Message { id: 7, flags: 0x80, value: u64::MAX - 1 };
    let p = WasmPtr::<Message>::new(64);
    p.write(&mut view, msg).unwrap();
    assert_eq!(p.read(&view).unwrap(), msg);
    // Little-endian guest layout, padding zeroed.
    let bytes = view.read_to_vec(64, 16).unwrap();
    assert_eq!(bytes[..8], [7, 0, 0, 0, 0x80, 0, 0, 0]);
    assert_eq!(bytes[8..], (u64::MAX - 1).to_le_bytes());
    let slice = WasmSlice::new(WasmPtr::<Message>::new(1001), 3);
    let msgs = [msg, Message { id: 1, flags: 2, value: 3 }, Message { id: 4, flags: 5, value: 6 }];
    slice.write_from(&mut view, &msgs).unwrap();
    assert_eq!(slice.read_to_vec(&view).unwrap(), msgs);
    // A large slice goes through a heap buffer.
    let big = WasmSlice::new(WasmPtr::<u32>::new(3), 100);
    let values: Vec<u32> = (0..100).collect();
    big.write_from(&mut view, &values).unwrap();
    assert_eq!(big.read_to_vec(&view).unwrap(), values);

    let end = m.data_size() as u32;
    assert!(matches!(WasmPtr::<Message>::new(end - 8).read(&view), Err(AccessError::OutOfBounds { .. })));
    assert!(matches!(WasmPtr::<Message>::new(u32::MAX).write(&mut view, msg), Err(AccessError::OutOfBounds { .. })));
    let huge = WasmSlice::new(WasmPtr::<u64>::new(8), u32::MAX);
    assert!(matches!(huge.read_to_vec(&view), Err(AccessError::OutOfBounds { .. })));
    assert!(matches!(view.read_to_vec(u64::MAX, 2), Err(AccessError::Overflow { .. })));
    assert!(matches!(view.write(u64::from(end), &[1]), Err(AccessError::OutOfBounds { .. })));
    assert!(matches!(
        WasmSlice::new(WasmPtr::<u8>::new(0), 2).write_from(&mut view, &[1]),
        Err(AccessError::LengthMismatch { .. })
    ));
    // After growth, the same view reaches the new page.
    m.grow(1).unwrap();
    p.add(4096).unwrap().write(&mut view, msg).unwrap();
    assert_eq!(p.add(4096).unwrap().read(&view).unwrap(), msg);
    // An invalid value read from the guest is an error.
    view.write(0, &[2]).unwrap();
    assert!(matches!(WasmPtr::<bool>::new(0).read(&view), Err(AccessError::InvalidValue { .. })));
}

// ---------------------------------------------------------------------------------------------
// Property test: random single-threaded sequences against a `Vec<u8>` model
// ---------------------------------------------------------------------------------------------

fn proptest_config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 500 });
    if cfg!(miri) {
        config.failure_persistence = None;
    }
    config
}

/// An address relative to the memory's size when the operation runs.
#[derive(Debug, Clone, Copy)]
enum Addr {
    /// Near the start (all small alignments).
    Start(u16),
    /// `n` bytes before the end (negative: past it).
    FromEnd(i16),
    /// Anywhere in the 64-bit space.
    Raw(u64),
}

impl Addr {
    fn resolve(self, size: usize) -> u64 {
        match self {
            Addr::Start(a) => u64::from(a % 1024),
            Addr::FromEnd(n) => (size as u64).wrapping_sub(n as u64),
            Addr::Raw(a) => a,
        }
    }
}

fn any_addr() -> impl Strategy<Value = Addr> {
    prop_oneof![
        4 => any::<u16>().prop_map(Addr::Start),
        2 => (-8i16..600).prop_map(Addr::FromEnd),
        1 => any::<u64>().prop_map(Addr::Raw),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Grow(u64),
    Read(Addr, u16),
    Write(Addr, Vec<u8>),
    Fill(Addr, u8, u16),
    Copy(Addr, Addr, u16),
    Load(Addr, u8),
    Store(Addr, u8, u64),
    TypedU32(Addr, u32),
    TypedU64(Addr, u64),
}

fn any_op() -> impl Strategy<Value = Op> {
    let len = if cfg!(miri) { 64u16 } else { 600 };
    let width = prop::sample::select(vec![1u8, 2, 4, 8]);
    prop_oneof![
        1 => (0u64..3).prop_map(Op::Grow),
        3 => (any_addr(), 0..len).prop_map(|(a, n)| Op::Read(a, n)),
        3 => (any_addr(), prop::collection::vec(any::<u8>(), 0..usize::from(len))).prop_map(|(a, b)| Op::Write(a, b)),
        2 => (any_addr(), any::<u8>(), 0..len).prop_map(|(a, b, n)| Op::Fill(a, b, n)),
        2 => (any_addr(), any_addr(), 0..len).prop_map(|(d, s, n)| Op::Copy(d, s, n)),
        2 => (any_addr(), width.clone()).prop_map(|(a, w)| Op::Load(a, w)),
        2 => (any_addr(), width, any::<u64>()).prop_map(|(a, w, v)| Op::Store(a, w, v)),
        1 => (any_addr(), any::<u32>()).prop_map(|(a, v)| Op::TypedU32(a, v)),
        1 => (any_addr(), any::<u64>()).prop_map(|(a, v)| Op::TypedU64(a, v)),
    ]
}

/// `Some(range)` if `[addr, addr + len)` is inside a model of `size` bytes.
fn in_bounds(addr: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = addr.checked_add(len)?;
    (end <= size as u64).then_some(addr as usize..end as usize)
}

fn run_op(m: &SharedMemory, model: &mut Vec<u8>, op: &Op) -> Result<(), TestCaseError> {
    let mut view = m.view();
    let size = model.len();
    match op {
        Op::Grow(delta) => {
            let ok = (size as u64 / WASM_PAGE_SIZE + delta) <= m.ty().maximum().unwrap();
            prop_assert_eq!(m.grow(*delta).is_ok(), ok);
            if ok {
                model.resize(size + (delta * WASM_PAGE_SIZE) as usize, 0);
            }
        }
        Op::Read(a, n) => {
            let addr = a.resolve(size);
            let mut buf = vec![0xA5; usize::from(*n)];
            match in_bounds(addr, u64::from(*n), size) {
                Some(r) => {
                    view.read(addr, &mut buf).unwrap();
                    prop_assert_eq!(&buf[..], &model[r]);
                }
                None => {
                    prop_assert!(view.read(addr, &mut buf).is_err());
                    prop_assert!(buf.iter().all(|&b| b == 0xA5), "buffer unchanged on error");
                }
            }
        }
        Op::Write(a, bytes) => {
            let addr = a.resolve(size);
            let r = in_bounds(addr, bytes.len() as u64, size);
            prop_assert_eq!(view.write(addr, bytes).is_ok(), r.is_some());
            if let Some(r) = r {
                model[r].copy_from_slice(bytes);
            }
        }
        Op::Fill(a, byte, n) => {
            let addr = a.resolve(size);
            let r = in_bounds(addr, u64::from(*n), size);
            prop_assert_eq!(view.fill(addr, *byte, u64::from(*n)).is_ok(), r.is_some());
            if let Some(r) = r {
                model[r].fill(*byte);
            }
        }
        Op::Copy(d, s, n) => {
            let (dst, src) = (d.resolve(size), s.resolve(size));
            let rd = in_bounds(dst, u64::from(*n), size);
            let rs = in_bounds(src, u64::from(*n), size);
            prop_assert_eq!(view.copy_within(dst, src, u64::from(*n)).is_ok(), rd.is_some() && rs.is_some());
            if let (Some(rd), Some(rs)) = (rd, rs) {
                model.copy_within(rs, rd.start);
            }
        }
        Op::Load(a, w) => {
            let addr = a.resolve(size);
            let (misaligned, r) = (addr % u64::from(*w) != 0, in_bounds(addr, u64::from(*w), size));
            let expected = match (*w, r) {
                (_, None) => None,
                (w, Some(r)) => {
                    let mut b = [0u8; 8];
                    b[..usize::from(w)].copy_from_slice(&model[r]);
                    Some(u64::from_le_bytes(b))
                }
            };
            let got = match w {
                4 => m.atomic_load32(addr).map(u64::from).ok(),
                8 => m.atomic_load64(addr).ok(),
                _ => {
                    let mut b = [0u8; 8];
                    view.read(addr, &mut b[..usize::from(*w)]).ok().map(|()| u64::from_le_bytes(b))
                }
            };
            let expected = if misaligned && *w >= 4 { None } else { expected };
            prop_assert_eq!(got, expected);
        }
        Op::Store(a, w, v) => {
            let addr = a.resolve(size);
            let r = in_bounds(addr, u64::from(*w), size);
            let ok = match w {
                4 => m.atomic_store32(addr, *v as u32).is_ok(),
                8 => m.atomic_store64(addr, *v).is_ok(),
                _ => view.write(addr, &v.to_le_bytes()[..usize::from(*w)]).is_ok(),
            };
            let aligned_enough = *w < 4 || addr % u64::from(*w) == 0;
            prop_assert_eq!(ok, r.is_some() && aligned_enough);
            if let Some(r) = r.filter(|_| ok) {
                model[r].copy_from_slice(&v.to_le_bytes()[..usize::from(*w)]);
            }
        }
        Op::TypedU32(a, v) => {
            let addr = a.resolve(size);
            let p = WasmPtr::<u32>::new(addr as u32);
            let r = in_bounds(addr, 4, size).filter(|_| addr <= u64::from(u32::MAX));
            prop_assert_eq!(p.write(&mut view, *v).is_ok(), r.is_some());
            if let Some(r) = r {
                model[r].copy_from_slice(&v.to_le_bytes());
                prop_assert_eq!(p.read(&view).unwrap(), *v);
            }
        }
        Op::TypedU64(a, v) => {
            let addr = a.resolve(size);
            let p = WasmSlice::new(WasmPtr::<u64>::new(addr as u32), 1);
            let r = in_bounds(addr, 8, size).filter(|_| addr <= u64::from(u32::MAX));
            prop_assert_eq!(p.write_from(&mut view, &[*v]).is_ok(), r.is_some());
            if let Some(r) = r {
                model[r].copy_from_slice(&v.to_le_bytes());
                prop_assert_eq!(p.read_to_vec(&view).unwrap(), vec![*v]);
            }
        }
    }
    prop_assert_eq!(m.data_size(), model.len());
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Random read / write / fill / copy / load / store / typed / grow sequences at all
    /// alignments agree with a `Vec<u8>` model.
    #[test]
    fn sequences_match_the_model(
        min in 0u32..2,
        ops in prop::collection::vec(any_op(), 1..if cfg!(miri) { 12 } else { 40 }),
    ) {
        let m = memory(min, 3);
        let base = m.base_address();
        let mut model = vec![0u8; m.data_size()];
        for op in &ops {
            run_op(&m, &mut model, op)?;
        }
        prop_assert_eq!(m.base_address(), base);
        let contents = m.view().read_to_vec(0, model.len() as u64).unwrap();
        prop_assert!(contents == model, "memory differs from the model");
    }
}

// ---------------------------------------------------------------------------------------------
// Property test: random concurrent scripts, one per thread, on one memory
// ---------------------------------------------------------------------------------------------

/// One step of a thread's script.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Grow by 0 or 1 pages.
    Grow(bool),
    /// Store this thread's next tagged value in word `slot` (u64, aligned).
    Tag(u8),
    /// Read word `slot` (u64, aligned); also through a typed pointer of the view.
    Read(u8),
    /// Add 1 to the shared counter.
    Add,
    /// Notify every waiter on the counter.
    Notify,
    /// Wait on the counter (while it keeps its current value) for at most 50 µs.
    Wait,
    /// Write `len` bytes of this thread's tag byte at word `slot` (unaligned copy-in).
    Bytes(u8, u8),
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        any::<bool>().prop_map(Step::Grow),
        (0u8..16).prop_map(Step::Tag),
        (0u8..16).prop_map(Step::Read),
        Just(Step::Add),
        Just(Step::Notify),
        Just(Step::Wait),
        (0u8..16, 1u8..24).prop_map(|(s, n)| Step::Bytes(s, n)),
    ]
}

/// Tagged words live at `TAGS + 8 * slot`; the counter at `COUNTER`; byte copies at `BYTES`.
const TAGS: u64 = 64;
const COUNTER: u64 = 0;
const BYTES: u64 = 512;

/// A value thread `thread` writes: its id in the high half, a sequence number below.
fn tag(thread: u64, seq: u64) -> u64 {
    (thread + 1) << 48 | seq
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Two or three threads run random scripts at once. Afterwards, and during: every
    /// tagged word read is 0 or a whole value some thread wrote (never torn), every add is
    /// counted, each thread sees the size only grow and stay within the maximum, and the
    /// memory never moves.
    #[test]
    fn concurrent_scripts_keep_the_invariants(
        scripts in prop::collection::vec(
            prop::collection::vec(any_step(), 1..if cfg!(miri) { 8 } else { 60 }),
            2..=3,
        ),
    ) {
        let m = memory(1, 4);
        let base = m.base_address();
        let adds: u32 = scripts.iter().flatten().filter(|s| matches!(s, Step::Add)).count() as u32;
        let written: Vec<Vec<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = scripts
                .iter()
                .enumerate()
                .map(|(t, script)| {
                    let m = &m;
                    s.spawn(move || -> Result<Vec<u64>, String> {
                        let mut seq = 0;
                        let mut last_size = m.size();
                        let mut mine = Vec::new();
                        for step in script {
                            match *step {
                                Step::Grow(more) => {
                                    let _ = m.grow(u64::from(more));
                                }
                                Step::Tag(slot) => {
                                    seq += 1;
                                    let v = tag(t as u64, seq);
                                    m.atomic_store64(TAGS + 8 * u64::from(slot), v).map_err(|e| e.to_string())?;
                                    mine.push(v);
                                }
                                Step::Read(slot) => {
                                    let addr = TAGS + 8 * u64::from(slot);
                                    let a = m.atomic_load64(addr).map_err(|e| e.to_string())?;
                                    let b = WasmPtr::<u64>::new(addr as u32).read(&m.view()).map_err(|e| e.to_string())?;
                                    for v in [a, b] {
                                        let (thread, seq) = (v >> 48, v & 0xffff_ffff_ffff);
                                        if v != 0 && (thread == 0 || thread > 3 || seq == 0) {
                                            return Err(format!("torn or foreign value {v:#x}"));
                                        }
                                    }
                                }
                                Step::Add => {
                                    m.atomic_rmw32(AtomicRmwOp::Add, COUNTER, 1).map_err(|e| e.to_string())?;
                                }
                                Step::Notify => {
                                    m.atomic_notify(COUNTER, u32::MAX).map_err(|e| e.to_string())?;
                                }
                                Step::Wait => {
                                    let now = m.atomic_load32(COUNTER).map_err(|e| e.to_string())?;
                                    m.atomic_wait32(COUNTER, now, Some(Duration::from_micros(50)))
                                        .map_err(|e| e.to_string())?;
                                }
                                Step::Bytes(slot, len) => {
                                    let at = BYTES + 24 * u64::from(slot) + u64::from(slot % 3);
                                    m.view().write(at, &vec![t as u8 + 1; usize::from(len)]).map_err(|e| e.to_string())?;
                                }
                            }
                            let size = m.size();
                            if size < last_size || size > 4 {
                                return Err(format!("size went from {last_size} to {size} pages"));
                            }
                            last_size = size;
                            if m.base_address() != base {
                                return Err("the memory moved".into());
                            }
                        }
                        Ok(mine)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("no panic")).collect::<Result<_, _>>()
        }).map_err(TestCaseError::fail)?;

        prop_assert_eq!(m.atomic_load32(COUNTER).unwrap(), adds, "every add is counted");
        for slot in 0..16u64 {
            let v = m.atomic_load64(TAGS + 8 * slot).unwrap();
            prop_assert!(v == 0 || written.iter().flatten().any(|&w| w == v), "word {} holds {:#x}", slot, v);
        }
        // Every copied-in byte is one thread's whole byte.
        let bytes = m.view().read_to_vec(BYTES, 24 * 16 + 2).unwrap();
        prop_assert!(bytes.iter().all(|&b| b <= 3));
        prop_assert_eq!(m.base_address(), base);
    }
}
