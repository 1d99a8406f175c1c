//! Unit tests of [`SharedStorage`], small enough for Miri (with threads).

use super::*;

fn storage(len: usize, cap: usize) -> SharedStorage {
    SharedStorage::new(len, cap).expect("small allocation")
}

#[test]
fn new_is_zeroed_and_refuses_len_over_cap() {
    let s = storage(64, 128);
    let mut buf = [1u8; 64];
    s.read(0, &mut buf).unwrap();
    assert_eq!(buf, [0; 64]);
    assert!(SharedStorage::new(2, 1).is_none());
    let empty = storage(0, 0);
    assert_eq!(empty.read(0, &mut []), Ok(()));
    assert!(empty.load(0, 1).is_err());
    assert!(empty.grow_to(|_| Some(1)).is_none());
}

#[test]
fn loads_and_stores_are_little_endian_at_every_alignment() {
    let s = storage(32, 32);
    for width in [1u8, 2, 4, 8] {
        for addr in 0..9u64 {
            let value = 0x0807_0605_0403_0201u64;
            s.store(addr, width, value).unwrap();
            let mask = if width == 8 { u64::MAX } else { (1u64 << (8 * width)) - 1 };
            assert_eq!(s.load(addr, width).unwrap(), value & mask);
            let mut bytes = [0u8; 8];
            s.read(addr, &mut bytes[..usize::from(width)]).unwrap();
            assert_eq!(&bytes[..usize::from(width)], &value.to_le_bytes()[..usize::from(width)]);
        }
    }
    assert!(s.load(0, 3).is_err());
    assert!(s.store(0, 16, 0).is_err());
}

#[test]
fn hostile_addresses_are_errors() {
    let s = storage(16, 16);
    assert!(matches!(s.load(16, 1), Err(AccessError::OutOfBounds { .. })));
    assert!(matches!(s.load(u64::MAX, 8), Err(AccessError::Overflow { .. })));
    assert!(matches!(s.store(13, 4, 0), Err(AccessError::OutOfBounds { .. })));
    assert!(matches!(s.rmw(AtomicRmwOp::Add, 2, 4, 1), Err(AccessError::Misaligned { .. })));
    assert!(matches!(s.rmw(AtomicRmwOp::Add, 16, 4, 1), Err(AccessError::OutOfBounds { .. })));
    assert!(matches!(s.cmpxchg(u64::MAX - 7, 8, 0, 1), Err(AccessError::Overflow { .. })));
    assert!(matches!(s.fill(10, 0, 7), Err(AccessError::OutOfBounds { .. })));
    assert!(matches!(s.copy_within(0, 9, 8), Err(AccessError::OutOfBounds { .. })));
    assert!(matches!(s.copy_within(u64::MAX, 0, 2), Err(AccessError::Overflow { .. })));
    assert!(matches!(s.wait(2, 4, 0, None), Err(AccessError::Misaligned { .. })));
    assert!(matches!(s.wait(16, 8, 0, None), Err(AccessError::OutOfBounds { .. })));
    assert!(matches!(s.notify(1, 1), Err(AccessError::Misaligned { .. })));
    assert!(matches!(s.notify(16, 1), Err(AccessError::OutOfBounds { .. })));
    assert_eq!(SharedStorage::aligned(8, 8), Ok(()));
    assert!(SharedStorage::aligned(8, 3).is_err());
}

#[test]
fn rmw_and_cmpxchg_at_every_width() {
    let s = storage(16, 16);
    for width in [1u8, 2, 4, 8] {
        let addr = u64::from(width);
        s.store(addr, width, 5).unwrap();
        assert_eq!(s.rmw(AtomicRmwOp::Add, addr, width, 3).unwrap(), 5);
        assert_eq!(s.rmw(AtomicRmwOp::Sub, addr, width, 10).unwrap(), 8);
        let mask = if width == 8 { u64::MAX } else { (1u64 << (8 * width)) - 1 };
        assert_eq!(s.load(addr, width).unwrap(), 8u64.wrapping_sub(10) & mask, "wraps at the width");
        s.store(addr, width, 0b1100).unwrap();
        assert_eq!(s.rmw(AtomicRmwOp::And, addr, width, 0b1010).unwrap(), 0b1100);
        assert_eq!(s.rmw(AtomicRmwOp::Or, addr, width, 0b0001).unwrap(), 0b1000);
        assert_eq!(s.rmw(AtomicRmwOp::Xor, addr, width, 0b1111).unwrap(), 0b1001);
        assert_eq!(s.rmw(AtomicRmwOp::Xchg, addr, width, 42).unwrap(), 0b0110);
        assert_eq!(s.cmpxchg(addr, width, 41, 7).unwrap(), 42, "no exchange on mismatch");
        assert_eq!(s.cmpxchg(addr, width, 42 | !mask, 7).unwrap(), 42, "operands truncated to the width");
        assert_eq!(s.load(addr, width).unwrap(), 7);
    }
}

#[test]
fn copies_overlap_like_memmove() {
    let s = storage(600, 600);
    let pattern: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
    s.write(0, &pattern).unwrap();
    let mut model = pattern.clone();
    s.copy_within(3, 0, 590).unwrap();
    model.copy_within(0..590, 3);
    s.copy_within(1, 9, 500).unwrap();
    model.copy_within(9..509, 1);
    s.fill(517, 0xEE, 70).unwrap();
    model[517..587].fill(0xEE);
    let mut out = vec![0u8; 600];
    s.read(0, &mut out).unwrap();
    assert_eq!(out, model);

    let other = storage(64, 64);
    other.copy_from(&s, 5, 100, 50).unwrap();
    let mut out = vec![0u8; 50];
    other.read(5, &mut out).unwrap();
    assert_eq!(out, model[100..150]);
    assert!(other.copy_from(&s, 60, 0, 8).is_err());
}

#[test]
fn grow_publishes_length_keeps_base_and_zeroes() {
    let s = storage(16, 64);
    let base = s.base_addr();
    s.write(8, &[9; 8]).unwrap();
    assert!(s.read(16, &mut [0]).is_err());
    assert_eq!(s.grow_to(|old| Some(old + 16)), Some(16));
    assert_eq!(s.len_bytes(), 32);
    assert_eq!(s.grow_to(|_| Some(65)), None);
    assert_eq!(s.grow_to(|_| Some(8)), None, "never shrinks");
    assert_eq!(s.grow_to(|_| None), None);
    assert_eq!(s.len_bytes(), 32);
    let mut buf = [1u8; 24];
    s.read(8, &mut buf).unwrap();
    assert_eq!(buf[..8], [9; 8]);
    assert_eq!(buf[8..], [0; 16]);
    assert_eq!(s.base_addr(), base);
    assert_eq!(s.cap_bytes(), 64);
}

#[test]
fn wait_not_equal_and_timeout() {
    let s = storage(16, 16);
    s.store(0, 4, 1).unwrap();
    assert_eq!(s.wait(0, 4, 2, None), Ok(WaitResult::NotEqual));
    assert_eq!(s.wait(0, 4, 1, Some(Duration::ZERO)), Ok(WaitResult::TimedOut));
    assert_eq!(s.wait(8, 8, 0, Some(Duration::from_millis(5))), Ok(WaitResult::TimedOut));
    assert_eq!(s.waiters(8), 0, "a timed-out waiter leaves the queue");
    assert_eq!(s.notify(8, 1), Ok(0));
}

#[test]
fn notify_wakes_waiters_in_fifo_order() {
    let s = storage(16, 16);
    let order = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for id in 0..3u32 {
            // Enqueue one waiter at a time, so the queue order is known.
            scope.spawn({
                let (s, order) = (&s, &order);
                move || {
                    assert_eq!(s.wait(4, 4, 0, None), Ok(WaitResult::Ok));
                    lock(order).push(id);
                }
            });
            while s.waiters(4) != id as usize + 1 {
                std::thread::yield_now();
            }
        }
        assert_eq!(s.notify(4, 0), Ok(0));
        for n in 1..=3 {
            assert_eq!(s.notify(4, 1), Ok(1));
            while lock(&order).len() != n {
                std::thread::yield_now();
            }
        }
        assert_eq!(s.notify(4, 5), Ok(0));
    });
    assert_eq!(*lock(&order), vec![0, 1, 2]);
}
