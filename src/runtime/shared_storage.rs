//! [`SharedStorage`]: the bytes of one shared linear memory (threads proposal), accessed
//! only through atomics.
//!
//! This is the `unsafe` core of shared memories. Its invariants, and how each hazard of
//! host access to memory that other threads use at the same time is prevented:
//!
//! - **The base never moves.** The memory's *maximum* size is allocated once, zeroed
//!   (`alloc_zeroed`, which the system backs with lazily committed pages), when the storage
//!   is created. Growth only raises the published length, so any address that was in
//!   bounds once stays valid, in the same place, for the storage's whole life.
//! - **Growth is serialized and published.** `grow` takes a mutex, checks the maximum and
//!   stores the new length with `Release`; every access loads the length with `Acquire`
//!   and checks `address + len` (overflow-checked) against it. Bytes past the length were
//!   never written (every access is bounds-checked against it), so they are still the
//!   allocation's zeros when growth exposes them.
//! - **Concurrent writes are never data races.** No `&[u8]` / `&mut [u8]` into the
//!   allocation is ever created: other threads may write any byte at any time. Every byte
//!   is read and written through `AtomicU8`, `AtomicU16`, `AtomicU32` or `AtomicU64`
//!   (made in place with `from_ptr` in one helper, [`SharedStorage::cell`], which checks
//!   bounds against the allocation and natural alignment). Copies move the widest naturally
//!   aligned chunks, so a naturally aligned access of 1, 2, 4 or 8 bytes is one atomic
//!   operation of that width and is never torn.
//!
//! What Rust's memory model leaves open: racing atomic accesses *of different sizes* to
//! the same bytes (a guest `i32.atomic.store` racing a host 8-byte read of the same word,
//! say) are coherent on every hardware wasmguard targets, but not defined by the Rust
//! abstract machine, and Miri reports them. Accesses of one width are fully defined; the
//! tests keep to that.
//!
//! Wait/notify ([`SharedStorage::wait`], [`SharedStorage::notify`]) park threads in a table
//! keyed by address: the comparison of the memory value with the expected one and the
//! enqueueing happen under the table's lock, and `notify` takes the same lock, so no
//! wake-up is lost; waiters of one address are woken in FIFO order.

use std::alloc::{self, Layout};
use std::collections::{HashMap, VecDeque};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::access::AccessError;

/// Alignment of the allocation: at least that of the widest atomic, so that guest
/// alignment equals host alignment.
const ALIGN: usize = 16;

/// Bytes moved per step by bulk copies between two ranges of memory.
const COPY_BLOCK: usize = 256;

/// What [`SharedMemory::atomic_wait32`](crate::SharedMemory::atomic_wait32) / `atomic_wait64`
/// (and `memory.atomic.wait32/64`) returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitResult {
    /// Woken by a notify ("ok", 0 in wasm).
    Ok,
    /// The value in memory differed from the expected one, so the thread did not wait
    /// ("not-equal", 1 in wasm).
    NotEqual,
    /// The timeout expired first ("timed-out", 2 in wasm).
    TimedOut,
}

impl WaitResult {
    /// The value the wasm instruction pushes: 0, 1 or 2.
    pub fn as_wasm(self) -> u32 {
        match self {
            WaitResult::Ok => 0,
            WaitResult::NotEqual => 1,
            WaitResult::TimedOut => 2,
        }
    }
}

/// A read-modify-write operation (`i32.atomic.rmw.add` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtomicRmwOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise exclusive or.
    Xor,
    /// Exchange: store the operand, return the old value.
    Xchg,
}

/// An atomic integer type that can be made in place over naturally aligned bytes.
trait AtomicCell: Sync {
    /// Size (and alignment) in bytes.
    const SIZE: usize;

    /// # Safety
    ///
    /// As `AtomicU*::from_ptr`: `ptr` is aligned to `SIZE`, valid for reads and writes of
    /// `SIZE` bytes for `'a`, and only accessed atomically during `'a`.
    unsafe fn at<'a>(ptr: *mut u8) -> &'a Self;
}

macro_rules! atomic_cell {
    ($atomic:ty, $int:ty) => {
        const _: () = assert!(
            std::mem::size_of::<$atomic>() == std::mem::align_of::<$atomic>()
                && std::mem::size_of::<$atomic>() == std::mem::size_of::<$int>()
        );

        impl AtomicCell for $atomic {
            const SIZE: usize = std::mem::size_of::<$int>();

            unsafe fn at<'a>(ptr: *mut u8) -> &'a Self {
                // SAFETY: the caller guarantees alignment, validity for `'a` and atomic-only
                // access, the preconditions of `from_ptr`.
                unsafe { <$atomic>::from_ptr(ptr.cast::<$int>()) }
            }
        }
    };
}

atomic_cell!(AtomicU8, u8);
atomic_cell!(AtomicU16, u16);
atomic_cell!(AtomicU32, u32);
atomic_cell!(AtomicU64, u64);

/// One parked thread.
#[derive(Debug, Default)]
struct Waiter {
    /// Set (under the parking table's lock) by the `notify` that dequeues this waiter.
    woken: AtomicBool,
    /// Signalled by that `notify`; only ever used with the parking table's mutex.
    condvar: Condvar,
}

/// Parked threads by address, oldest first.
type ParkingTable = HashMap<u64, VecDeque<Arc<Waiter>>>;

/// The bytes of a shared linear memory: preallocated to the maximum, accessed only through
/// atomics, shareable between threads (`Send + Sync`).
pub(crate) struct SharedStorage {
    // INVARIANT: if `cap > 0`, `base` is the start of a live allocation from the global
    // allocator with layout `(cap, ALIGN)`, zero-initialised at creation, owned by this
    // storage and freed only by `Drop`; if `cap == 0`, `base` is dangling (aligned). The
    // allocation's bytes are only ever accessed through atomics (`cell`), never through
    // `&[u8]`/`&mut [u8]` or non-atomic pointer reads and writes.
    base: NonNull<u8>,
    cap: usize,
    // INVARIANT: `len <= cap`; it only increases, and only under `grow_lock`.
    len: AtomicUsize,
    grow_lock: Mutex<()>,
    parking: Mutex<ParkingTable>,
}

// SAFETY: the storage owns its allocation like a `Box<[AtomicU8]>`; nothing in it is tied
// to a thread.
unsafe impl Send for SharedStorage {}
// SAFETY: `&SharedStorage` only reaches the allocation through atomic operations (the
// invariant on `base`), the length is an atomic, and the rest is behind mutexes: shared
// use from several threads is free of data races, like `&[AtomicU8]`.
unsafe impl Sync for SharedStorage {}

impl std::fmt::Debug for SharedStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStorage").field("len", &self.len_bytes()).field("cap", &self.cap).finish()
    }
}

/// Locks `mutex`, ignoring poisoning: the data behind these mutexes is kept consistent
/// by every critical section, which cannot panic halfway.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn is_width(width: u8) -> bool {
    matches!(width, 1 | 2 | 4 | 8)
}

impl SharedStorage {
    /// A storage of `len` bytes that can grow to `cap` bytes, all zero, or `None` if
    /// `len > cap` or the allocation fails.
    pub(crate) fn new(len: usize, cap: usize) -> Option<Self> {
        if len > cap {
            return None;
        }
        let base = if cap == 0 {
            // An aligned, non-null address that is never dereferenced (capacity 0).
            NonNull::<u128>::dangling().cast()
        } else {
            let layout = Layout::from_size_align(cap, ALIGN).ok()?;
            // SAFETY: `layout` has a non-zero size (`cap > 0`).
            let raw = unsafe { alloc::alloc_zeroed(layout) };
            NonNull::new(raw)?
        };
        Some(SharedStorage {
            base,
            cap,
            len: AtomicUsize::new(len),
            grow_lock: Mutex::new(()),
            parking: Mutex::new(HashMap::new()),
        })
    }

    /// Current size in bytes (`Acquire`: bytes below it are valid and visible).
    pub(crate) fn len_bytes(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Reserved size in bytes: the most the storage can grow to.
    pub(crate) fn cap_bytes(&self) -> usize {
        self.cap
    }

    /// The base address of the allocation. It never changes; it is only for comparisons
    /// (tests, diagnostics) and must not be used to access the bytes.
    pub(crate) fn base_addr(&self) -> usize {
        self.base.as_ptr() as usize
    }

    /// True if both are the same storage.
    pub(crate) fn same(&self, other: &SharedStorage) -> bool {
        std::ptr::eq(self, other)
    }

    /// Grows to `new_len` bytes (never shrinks; serialized with other growths). Returns
    /// the old length, or `None` (changing nothing) if `new_len` exceeds the capacity.
    pub(crate) fn grow_to(&self, new_len: impl FnOnce(usize) -> Option<usize>) -> Option<usize> {
        let _serialized = lock(&self.grow_lock);
        let old = self.len.load(Ordering::Acquire);
        let new = new_len(old)?;
        if new > self.cap || new < old {
            return None;
        }
        // Bytes in `[old, new)` were never accessed (every access is checked against the
        // length, which was at most `old`), so they are still zero.
        self.len.store(new, Ordering::Release);
        Some(old)
    }

    /// The atomic of type `A` at byte offset `at`, or `None` if it is not inside the
    /// allocation or not naturally aligned. Does not check the current length.
    #[inline]
    fn cell<A: AtomicCell>(&self, at: usize) -> Option<&A> {
        let end = at.checked_add(A::SIZE)?;
        if end > self.cap || !at.is_multiple_of(A::SIZE) {
            return None;
        }
        // SAFETY: `at + SIZE <= cap`, so `at` is inside the allocation (which is non-empty
        // since `cap >= SIZE > 0`), and the offset fits `isize` (the layout was accepted).
        let ptr = unsafe { self.base.as_ptr().add(at) };
        // SAFETY: `ptr` is aligned to `SIZE` (the base is aligned to `ALIGN >= SIZE` and
        // `at` is a multiple of `SIZE`) and valid for `SIZE` bytes while `self` lives (the
        // allocation is freed only by `Drop`, which needs `&mut self`); every access to
        // the allocation is atomic (invariant), and this one is too.
        Some(unsafe { A::at(ptr) })
    }

    /// Checks `[addr, addr + len)` against the current length; returns it as `usize`s.
    #[inline]
    fn range(&self, addr: u64, len: u64) -> Result<(usize, usize), AccessError> {
        let memory_size = self.len_bytes();
        let range = crate::access::check_range(addr, len, memory_size)?;
        Ok((range.start, range.end))
    }

    /// Checks that `addr` is naturally aligned for an atomic access of `width` bytes
    /// (1, 2, 4 or 8): the interpreter's "unaligned atomic" trap.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`] if it is not (or `width` is not an atomic width).
    #[inline]
    pub(crate) fn aligned(addr: u64, width: u8) -> Result<(), AccessError> {
        if is_width(width) && addr.is_multiple_of(u64::from(width)) {
            Ok(())
        } else {
            Err(AccessError::Misaligned { address: addr, align: u32::from(width) })
        }
    }

    /// Loads `width` (1, 2, 4 or 8) bytes at `addr` as a little-endian integer,
    /// zero-extended. Naturally aligned: one `SeqCst` atomic load. Unaligned (plain wasm
    /// loads may be): byte by byte, so the value may mix bytes of concurrent writes.
    ///
    /// # Errors
    ///
    /// Out of bounds (or an invalid `width`, reported as misaligned).
    pub(crate) fn load(&self, addr: u64, width: u8) -> Result<u64, AccessError> {
        if !is_width(width) {
            return Err(AccessError::Misaligned { address: addr, align: u32::from(width) });
        }
        let (start, _) = self.range(addr, u64::from(width))?;
        if Self::aligned(addr, width).is_ok() {
            return self.load_aligned(start, width, Ordering::SeqCst).ok_or(self.oob(addr, u64::from(width)));
        }
        let mut bytes = [0u8; 8];
        self.copy_out(start, &mut bytes[..usize::from(width)], Ordering::SeqCst);
        Ok(u64::from_le_bytes(bytes))
    }

    /// Stores the low `width` (1, 2, 4 or 8) bytes of `value` at `addr`, little-endian:
    /// one `SeqCst` atomic store if naturally aligned, else byte by byte.
    ///
    /// # Errors
    ///
    /// Out of bounds (or an invalid `width`); memory is then unchanged.
    pub(crate) fn store(&self, addr: u64, width: u8, value: u64) -> Result<(), AccessError> {
        if !is_width(width) {
            return Err(AccessError::Misaligned { address: addr, align: u32::from(width) });
        }
        let (start, _) = self.range(addr, u64::from(width))?;
        if Self::aligned(addr, width).is_ok() {
            return self.store_aligned(start, width, value, Ordering::SeqCst).ok_or(self.oob(addr, u64::from(width)));
        }
        self.copy_in(start, &value.to_le_bytes()[..usize::from(width)], Ordering::SeqCst);
        Ok(())
    }

    fn oob(&self, address: u64, len: u64) -> AccessError {
        AccessError::OutOfBounds { address, len, memory_size: self.len_bytes() as u64 }
    }

    /// Bounds then alignment checks of an atomic instruction's access.
    fn atomic_range(&self, addr: u64, width: u8) -> Result<usize, AccessError> {
        Self::aligned(addr, width)?;
        Ok(self.range(addr, u64::from(width))?.0)
    }

    fn load_aligned(&self, at: usize, width: u8, order: Ordering) -> Option<u64> {
        Some(match width {
            1 => u64::from(self.cell::<AtomicU8>(at)?.load(order)),
            2 => u64::from(u16::from_le(self.cell::<AtomicU16>(at)?.load(order))),
            4 => u64::from(u32::from_le(self.cell::<AtomicU32>(at)?.load(order))),
            8 => u64::from_le(self.cell::<AtomicU64>(at)?.load(order)),
            _ => return None,
        })
    }

    fn store_aligned(&self, at: usize, width: u8, value: u64, order: Ordering) -> Option<()> {
        match width {
            1 => self.cell::<AtomicU8>(at)?.store(value as u8, order),
            2 => self.cell::<AtomicU16>(at)?.store((value as u16).to_le(), order),
            4 => self.cell::<AtomicU32>(at)?.store((value as u32).to_le(), order),
            8 => self.cell::<AtomicU64>(at)?.store(value.to_le(), order),
            _ => return None,
        }
        Some(())
    }

    /// Atomic read-modify-write of `width` bytes at `addr` (naturally aligned), `SeqCst`;
    /// `value` is truncated to the width. Returns the old value, zero-extended.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`] if unaligned, else out of bounds.
    pub(crate) fn rmw(&self, op: AtomicRmwOp, addr: u64, width: u8, value: u64) -> Result<u64, AccessError> {
        let at = self.atomic_range(addr, width)?;
        macro_rules! rmw {
            ($atomic:ty, $int:ty) => {{
                let cell = self.cell::<$atomic>(at).ok_or(self.oob(addr, u64::from(width)))?;
                let v = value as $int;
                let o = Ordering::SeqCst;
                // Values are stored little-endian: arithmetic needs native order, bitwise
                // operations and exchange do not care.
                let old = match op {
                    AtomicRmwOp::Add | AtomicRmwOp::Sub => {
                        let mut cur = cell.load(Ordering::Relaxed);
                        loop {
                            let n = <$int>::from_le(cur);
                            let new = if op == AtomicRmwOp::Add { n.wrapping_add(v) } else { n.wrapping_sub(v) };
                            match cell.compare_exchange_weak(cur, new.to_le(), o, Ordering::Relaxed) {
                                Ok(prev) => break prev,
                                Err(actual) => cur = actual,
                            }
                        }
                    }
                    AtomicRmwOp::And => cell.fetch_and(v.to_le(), o),
                    AtomicRmwOp::Or => cell.fetch_or(v.to_le(), o),
                    AtomicRmwOp::Xor => cell.fetch_xor(v.to_le(), o),
                    AtomicRmwOp::Xchg => cell.swap(v.to_le(), o),
                };
                u64::from(<$int>::from_le(old))
            }};
        }
        #[cfg(target_endian = "little")]
        if matches!(op, AtomicRmwOp::Add | AtomicRmwOp::Sub) {
            // Native order is little-endian: use the hardware fetch-add.
            macro_rules! add {
                ($atomic:ty, $int:ty) => {{
                    let cell = self.cell::<$atomic>(at).ok_or(self.oob(addr, u64::from(width)))?;
                    let v = value as $int;
                    let old = if op == AtomicRmwOp::Add {
                        cell.fetch_add(v, Ordering::SeqCst)
                    } else {
                        cell.fetch_sub(v, Ordering::SeqCst)
                    };
                    u64::from(old)
                }};
            }
            return Ok(match width {
                1 => add!(AtomicU8, u8),
                2 => add!(AtomicU16, u16),
                4 => add!(AtomicU32, u32),
                _ => add!(AtomicU64, u64),
            });
        }
        Ok(match width {
            1 => rmw!(AtomicU8, u8),
            2 => rmw!(AtomicU16, u16),
            4 => rmw!(AtomicU32, u32),
            _ => rmw!(AtomicU64, u64),
        })
    }

    /// Atomic compare-and-exchange of `width` bytes at `addr` (naturally aligned),
    /// `SeqCst`: stores `replacement` if the value equals `expected` (both truncated to
    /// the width). Returns the old value, zero-extended.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`] if unaligned, else out of bounds.
    pub(crate) fn cmpxchg(&self, addr: u64, width: u8, expected: u64, replacement: u64) -> Result<u64, AccessError> {
        let at = self.atomic_range(addr, width)?;
        macro_rules! cas {
            ($atomic:ty, $int:ty) => {{
                let cell = self.cell::<$atomic>(at).ok_or(self.oob(addr, u64::from(width)))?;
                let (e, r) = ((expected as $int).to_le(), (replacement as $int).to_le());
                let old = match cell.compare_exchange(e, r, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(old) | Err(old) => old,
                };
                u64::from(<$int>::from_le(old))
            }};
        }
        Ok(match width {
            1 => cas!(AtomicU8, u8),
            2 => cas!(AtomicU16, u16),
            4 => cas!(AtomicU32, u32),
            _ => cas!(AtomicU64, u64),
        })
    }

    /// Copies out of `[at, at + buf.len())`, which the caller checked against the length,
    /// in the widest naturally aligned atomic chunks.
    fn copy_out(&self, at: usize, buf: &mut [u8], order: Ordering) {
        let mut i = 0;
        while i < buf.len() {
            let a = at + i;
            let rest = buf.len() - i;
            let w = chunk_width(a, rest);
            // `a + w <= at + buf.len() <= len <= cap`, aligned: `load_aligned` succeeds.
            let v = self.load_aligned(a, w as u8, order).unwrap_or(0);
            buf[i..i + w].copy_from_slice(&v.to_le_bytes()[..w]);
            i += w;
        }
    }

    /// Copies `buf` into `[at, at + buf.len())`, which the caller checked, in the widest
    /// naturally aligned atomic chunks.
    fn copy_in(&self, at: usize, buf: &[u8], order: Ordering) {
        let mut i = 0;
        while i < buf.len() {
            let a = at + i;
            let w = chunk_width(a, buf.len() - i);
            let mut v = [0u8; 8];
            v[..w].copy_from_slice(&buf[i..i + w]);
            // In bounds and aligned (see `copy_out`): `store_aligned` succeeds.
            let _ = self.store_aligned(a, w as u8, u64::from_le_bytes(v), order);
            i += w;
        }
    }

    /// Copies `buf.len()` bytes at `addr` into `buf`. A naturally aligned range of 1, 2,
    /// 4 or 8 bytes is read by one atomic load of that width.
    ///
    /// # Errors
    ///
    /// Out of bounds; `buf` is then unchanged.
    pub(crate) fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), AccessError> {
        let (start, _) = self.range(addr, buf.len() as u64)?;
        self.copy_out(start, buf, Ordering::SeqCst);
        Ok(())
    }

    /// Copies `buf` into memory at `addr`. A naturally aligned range of 1, 2, 4 or 8
    /// bytes is written by one atomic store of that width.
    ///
    /// # Errors
    ///
    /// Out of bounds; memory is then unchanged.
    pub(crate) fn write(&self, addr: u64, buf: &[u8]) -> Result<(), AccessError> {
        let (start, _) = self.range(addr, buf.len() as u64)?;
        self.copy_in(start, buf, Ordering::SeqCst);
        Ok(())
    }

    /// `memory.fill`: sets `len` bytes at `addr` to `byte`.
    ///
    /// # Errors
    ///
    /// Out of bounds; memory is then unchanged.
    pub(crate) fn fill(&self, addr: u64, byte: u8, len: u64) -> Result<(), AccessError> {
        let (start, end) = self.range(addr, len)?;
        let block = [byte; COPY_BLOCK];
        let mut at = start;
        while at < end {
            let n = (end - at).min(COPY_BLOCK);
            self.copy_in(at, &block[..n], Ordering::SeqCst);
            at += n;
        }
        Ok(())
    }

    /// `memory.copy` within this memory: `len` bytes from `src` to `dst`, correct for
    /// overlapping ranges (as `memmove`).
    ///
    /// # Errors
    ///
    /// Either range out of bounds; memory is then unchanged.
    pub(crate) fn copy_within(&self, dst: u64, src: u64, len: u64) -> Result<(), AccessError> {
        let (d, _) = self.range(dst, len)?;
        let (s, _) = self.range(src, len)?;
        self.move_blocks(self, d, s, len as usize);
        Ok(())
    }

    /// `memory.copy` from another shared memory (or this one): `len` bytes from `src` in
    /// `other` to `dst` in `self`.
    ///
    /// # Errors
    ///
    /// Either range out of bounds; memory is then unchanged.
    pub(crate) fn copy_from(&self, other: &SharedStorage, dst: u64, src: u64, len: u64) -> Result<(), AccessError> {
        if self.same(other) {
            return self.copy_within(dst, src, len);
        }
        let (d, _) = self.range(dst, len)?;
        let (s, _) = other.range(src, len)?;
        self.move_blocks(other, d, s, len as usize);
        Ok(())
    }

    /// Copies `len` checked bytes from `s` in `from` to `d` in `self` through a bounce
    /// buffer; when both are this storage and the ranges overlap with `d > s`, copies
    /// from the end, so every source byte is read before it is overwritten.
    fn move_blocks(&self, from: &SharedStorage, d: usize, s: usize, len: usize) {
        let mut buf = [0u8; COPY_BLOCK];
        if self.same(from) && d > s {
            let mut rest = len;
            while rest > 0 {
                let n = rest.min(COPY_BLOCK);
                rest -= n;
                from.copy_out(s + rest, &mut buf[..n], Ordering::SeqCst);
                self.copy_in(d + rest, &buf[..n], Ordering::SeqCst);
            }
        } else {
            let mut done = 0;
            while done < len {
                let n = (len - done).min(COPY_BLOCK);
                from.copy_out(s + done, &mut buf[..n], Ordering::SeqCst);
                self.copy_in(d + done, &buf[..n], Ordering::SeqCst);
                done += n;
            }
        }
    }

    /// `memory.atomic.wait32` / `wait64` (`width` 4 or 8): if the value at `addr` equals
    /// `expected`, blocks the calling thread until a [`notify`](Self::notify) of `addr`
    /// wakes it or `timeout` expires (`None`: no timeout). The comparison and the
    /// enqueueing are atomic with respect to `notify`.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`] if unaligned, else out of bounds.
    pub(crate) fn wait(
        &self,
        addr: u64,
        width: u8,
        expected: u64,
        timeout: Option<Duration>,
    ) -> Result<WaitResult, AccessError> {
        if width != 4 && width != 8 {
            return Err(AccessError::Misaligned { address: addr, align: u32::from(width) });
        }
        let at = self.atomic_range(addr, width)?;
        // An unrepresentable deadline is as good as none.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let forever = deadline.is_none();
        let mut table = lock(&self.parking);
        let current = self.load_aligned(at, width, Ordering::SeqCst).ok_or(self.oob(addr, u64::from(width)))?;
        if current != expected {
            return Ok(WaitResult::NotEqual);
        }
        if timeout == Some(Duration::ZERO) {
            return Ok(WaitResult::TimedOut);
        }
        let me = Arc::new(Waiter::default());
        table.entry(addr).or_default().push_back(Arc::clone(&me));
        loop {
            // Only `notify` sets `woken`, under the table's lock, which we hold here.
            if me.woken.load(Ordering::Relaxed) {
                return Ok(WaitResult::Ok);
            }
            if forever {
                table = me.condvar.wait(table).unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            let now = Instant::now();
            let remaining = deadline.map_or(Duration::ZERO, |d| d.saturating_duration_since(now));
            if remaining.is_zero() {
                // Timed out while still queued (not woken: checked above): leave the queue.
                remove_waiter(&mut table, addr, &me);
                return Ok(WaitResult::TimedOut);
            }
            table = match me.condvar.wait_timeout(table, remaining) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// `memory.atomic.notify`: wakes up to `count` threads waiting on `addr`, oldest
    /// first, and returns how many were woken.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`] if `addr` is not a multiple of 4, else out of bounds.
    pub(crate) fn notify(&self, addr: u64, count: u32) -> Result<u32, AccessError> {
        self.atomic_range(addr, 4)?;
        let mut table = lock(&self.parking);
        let mut woken = 0;
        if let Some(queue) = table.get_mut(&addr) {
            while woken < count {
                let Some(waiter) = queue.pop_front() else { break };
                waiter.woken.store(true, Ordering::Relaxed);
                waiter.condvar.notify_one();
                woken += 1;
            }
            if queue.is_empty() {
                table.remove(&addr);
            }
        }
        Ok(woken)
    }

    /// Number of threads waiting on `addr` (for tests).
    pub(crate) fn waiters(&self, addr: u64) -> usize {
        lock(&self.parking).get(&addr).map_or(0, VecDeque::len)
    }
}

/// Removes `me` from the queue of `addr`.
fn remove_waiter(table: &mut ParkingTable, addr: u64, me: &Arc<Waiter>) {
    if let Some(queue) = table.get_mut(&addr) {
        queue.retain(|w| !Arc::ptr_eq(w, me));
        if queue.is_empty() {
            table.remove(&addr);
        }
    }
}

/// The widest of 8, 4, 2, 1 that `at` is aligned to and that fits in `rest` bytes.
#[inline]
fn chunk_width(at: usize, rest: usize) -> usize {
    for w in [8, 4, 2] {
        if rest >= w && at.is_multiple_of(w) {
            return w;
        }
    }
    1
}

impl Drop for SharedStorage {
    fn drop(&mut self) {
        if self.cap > 0
            && let Ok(layout) = Layout::from_size_align(self.cap, ALIGN)
        {
            // SAFETY: by the invariant, `base` is a live allocation with this layout, owned
            // by this storage, and no reference into it outlives `&self` borrows, which
            // have all ended (`&mut self`).
            unsafe { alloc::dealloc(self.base.as_ptr(), layout) };
        }
    }
}

#[cfg(test)]
#[path = "shared_storage_tests.rs"]
mod tests;
