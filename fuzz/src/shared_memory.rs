//! A shared memory used by 2–3 threads at once, each running an arbitrary script: grows,
//! aligned atomic stores of self-checking per-thread-tagged values, loads (atomic and
//! through typed pointers), atomic adds, tiny-timeout waits and notifies, and hostile
//! addresses. Checked during the run and after the join: no torn value (every aligned word
//! holds 0 or a value some thread wrote), counters equal the sum of increments, the size
//! only increases and stays within the maximum, and the base address never changes.

use std::time::Duration;

use arbitrary::{Arbitrary, Result, Unstructured};
use wasmguard::{AtomicRmwOp, Engine, MemoryType, SharedMemory, WASM_PAGE_SIZE, WaitResult, WasmPtr};

/// `u32` counters, then `u64` counters.
const COUNTERS32: u64 = 0;
const COUNTERS64: u64 = 32;
/// The words waited on (never written, so they hold 0).
const WAIT32: u64 = 64;
const WAIT64: u64 = 72;
/// Tagged `u32` slots, then tagged `u64` slots.
const SLOTS32: u64 = 128;
const SLOTS64: u64 = 256;
const SLOTS: u8 = 32;

#[derive(Debug, Arbitrary)]
pub enum Op {
    Grow(u8),
    Store32 {
        slot: u8,
        via_ptr: bool,
    },
    Store64 {
        slot: u8,
        via_ptr: bool,
    },
    Load32 {
        slot: u8,
        via_ptr: bool,
    },
    Load64 {
        slot: u8,
        via_ptr: bool,
    },
    /// A tagged `u64` in the last 8 bytes of the memory as it is now.
    StoreAtEnd,
    Add32 {
        counter: u8,
        by: u8,
    },
    Add64 {
        counter: u8,
        by: u16,
    },
    Wait32 {
        micros: u8,
    },
    Wait64 {
        micros: u8,
    },
    Notify {
        wide: bool,
        count: u8,
    },
    /// An atomic load at an arbitrary address: must fail cleanly unless in bounds and aligned.
    Hostile(u64),
    CheckSize,
}

/// A `u32` that checks itself: high half `x`, low half `!x`, `x` = tag (2 bits) | seq.
fn tag32(thread: usize, seq: u32) -> u32 {
    let x = (thread as u32 + 1) | ((seq & 0x3FFF) << 2);
    (x << 16) | (!x & 0xFFFF)
}

fn valid32(v: u32) -> bool {
    v == 0 || ((v >> 16) == (!v & 0xFFFF) && (1..=3).contains(&((v >> 16) & 3)))
}

/// As [`tag32`], 64 bits wide.
fn tag64(thread: usize, seq: u32) -> u64 {
    let x = (thread as u64 + 1) | (u64::from(seq) << 2);
    (x << 32) | (!x & 0xFFFF_FFFF)
}

fn valid64(v: u64) -> bool {
    v == 0 || ((v >> 32) == (!v & 0xFFFF_FFFF) && (1..=3).contains(&((v >> 32) & 3)))
}

/// What one thread did that the final check needs.
#[derive(Default)]
struct Tally {
    adds32: [u32; 8],
    adds64: [u64; 4],
}

fn run_thread(m: &SharedMemory, id: usize, script: &[Op], max_pages: u64, base: usize) -> Tally {
    let mut tally = Tally::default();
    let mut view = m.view();
    let mut seq = 0u32;
    let mut last_size = m.size();
    for op in script {
        seq = seq.wrapping_add(1);
        match *op {
            Op::Grow(delta) => {
                let delta = u64::from(delta % 3);
                if let Ok(old) = m.grow(delta) {
                    assert!(old + delta <= max_pages);
                }
            }
            Op::Store32 { slot, via_ptr } => {
                let addr = SLOTS32 + 4 * u64::from(slot % SLOTS);
                if via_ptr {
                    WasmPtr::<u32>::new(addr as u32).write(&mut view, tag32(id, seq)).unwrap();
                } else {
                    m.atomic_store32(addr, tag32(id, seq)).unwrap();
                }
            }
            Op::Store64 { slot, via_ptr } => {
                let addr = SLOTS64 + 8 * u64::from(slot % SLOTS);
                if via_ptr {
                    view.write(addr, &tag64(id, seq).to_le_bytes()).unwrap();
                } else {
                    m.atomic_store64(addr, tag64(id, seq)).unwrap();
                }
            }
            Op::Load32 { slot, via_ptr } => {
                let addr = SLOTS32 + 4 * u64::from(slot % SLOTS);
                let v = if via_ptr {
                    WasmPtr::<u32>::new(addr as u32).read(&view).unwrap()
                } else {
                    m.atomic_load32(addr).unwrap()
                };
                assert!(valid32(v), "torn u32 {v:#x}");
            }
            Op::Load64 { slot, via_ptr } => {
                let addr = SLOTS64 + 8 * u64::from(slot % SLOTS);
                let v = if via_ptr {
                    WasmPtr::<u64>::new(addr as u32).read(&view).unwrap()
                } else {
                    m.atomic_load64(addr).unwrap()
                };
                assert!(valid64(v), "torn u64 {v:#x}");
            }
            Op::StoreAtEnd => {
                let end = m.data_size() as u64;
                if end >= WASM_PAGE_SIZE {
                    m.atomic_store64(end - 8, tag64(id, seq)).unwrap();
                }
            }
            Op::Add32 { counter, by } => {
                let c = usize::from(counter % 8);
                m.atomic_rmw32(AtomicRmwOp::Add, COUNTERS32 + 4 * c as u64, u32::from(by)).unwrap();
                tally.adds32[c] = tally.adds32[c].wrapping_add(u32::from(by));
            }
            Op::Add64 { counter, by } => {
                let c = usize::from(counter % 4);
                m.atomic_rmw64(AtomicRmwOp::Add, COUNTERS64 + 8 * c as u64, u64::from(by)).unwrap();
                tally.adds64[c] += u64::from(by);
            }
            Op::Wait32 { micros } => {
                let r = m.atomic_wait32(WAIT32, 0, Some(Duration::from_micros(u64::from(micros % 200)))).unwrap();
                assert_ne!(r, WaitResult::NotEqual, "the wait word is always 0");
            }
            Op::Wait64 { micros } => {
                let r = m.atomic_wait64(WAIT64, 0, Some(Duration::from_micros(u64::from(micros % 200)))).unwrap();
                assert_ne!(r, WaitResult::NotEqual, "the wait word is always 0");
            }
            Op::Notify { wide, count } => {
                let woken = m.atomic_notify(if wide { WAIT64 } else { WAIT32 }, u32::from(count)).unwrap();
                assert!(woken <= u32::from(count) && woken <= 2, "at most the other threads wait");
            }
            Op::Hostile(addr) => {
                let size_before = m.data_size() as u64;
                // Anywhere, even inside words others write 8 bytes at a time: racing
                // accesses of different widths are fine.
                let r = m.atomic_load32(addr);
                let in_bounds_surely = addr.checked_add(4).is_some_and(|end| end <= size_before);
                let out_surely = addr.checked_add(4).is_none_or(|end| end > max_pages * WASM_PAGE_SIZE);
                if addr % 4 != 0 || out_surely {
                    assert!(r.is_err());
                } else if in_bounds_surely {
                    assert!(r.is_ok());
                }
            }
            Op::CheckSize => {}
        }
        let size = m.size();
        assert!(size >= last_size && size <= max_pages, "size {last_size} -> {size} (max {max_pages})");
        last_size = size;
        assert_eq!(m.base_address(), base);
    }
    tally
}

/// Runs 2 or 3 arbitrary scripts concurrently on one shared memory and checks the
/// invariants. Panics on a violation.
pub fn check(u: &mut Unstructured<'_>) -> Result<()> {
    let max_pages: u64 = u.int_in_range(1..=4)?;
    let min_pages: u64 = u.int_in_range(1..=max_pages)?;
    let threads: usize = u.int_in_range(2..=3)?;
    let mut scripts = Vec::new();
    for _ in 0..threads {
        let len = u.int_in_range(0..=64)?;
        let mut script = Vec::with_capacity(len);
        for _ in 0..len {
            script.push(u.arbitrary::<Op>()?);
        }
        scripts.push(script);
    }
    let m = SharedMemory::new(&Engine::default(), MemoryType::shared(min_pages as u32, max_pages as u32))
        .expect("small shared memory");
    let base = m.base_address();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = scripts
            .iter()
            .enumerate()
            .map(|(id, script)| {
                let m = &m;
                s.spawn(move || run_thread(m, id, script, max_pages, base))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread panicked")).collect()
    });
    // Counters: the sum of every thread's increments.
    for c in 0..8 {
        let expected = tallies.iter().fold(0u32, |sum, t| sum.wrapping_add(t.adds32[c]));
        assert_eq!(m.atomic_load32(COUNTERS32 + 4 * c as u64).unwrap(), expected, "u32 counter {c}");
    }
    for c in 0..4 {
        let expected: u64 = tallies.iter().map(|t| t.adds64[c]).sum();
        assert_eq!(m.atomic_load64(COUNTERS64 + 8 * c as u64).unwrap(), expected, "u64 counter {c}");
    }
    // No torn values anywhere they were written.
    for slot in 0..u64::from(SLOTS) {
        assert!(valid32(m.atomic_load32(SLOTS32 + 4 * slot).unwrap()));
        assert!(valid64(m.atomic_load64(SLOTS64 + 8 * slot).unwrap()));
    }
    for page in 1..=m.size() {
        assert!(valid64(m.atomic_load64(page * WASM_PAGE_SIZE - 8).unwrap()));
    }
    assert_eq!((m.atomic_load32(WAIT32).unwrap(), m.atomic_load64(WAIT64).unwrap()), (0, 0));
    assert_eq!(m.waiter_count(WAIT32) + m.waiter_count(WAIT64), 0, "no waiter left behind");
    assert!(m.size() <= max_pages && m.size() >= min_pages);
    assert_eq!(m.base_address(), base);
    Ok(())
}
