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
//!   allocation is ever created: other threads may write any byte at any time. The
//!   allocation is treated as an array of `AtomicU64` words (made in place with
//!   `from_ptr` in one helper, [`SharedStorage::word`], which checks bounds against the
//!   allocation and alignment), and *every* access is an atomic access to whole words:
//!   a load of the word(s) holding the bytes; a store of a whole word; or, for fewer
//!   bytes, a compare-exchange loop on their word that changes only those bytes.
//!   Accesses of one size only matter: Rust's memory model does not define racing atomic
//!   accesses of *different* sizes to the same bytes (which a wasm guest may do freely,
//!   `i32.atomic.store` against `i64.atomic.load`), so this storage never makes any.
//! - **No tearing.** A naturally aligned value of 1, 2, 4 or 8 bytes lies in one word, so
//!   reading or writing it is one atomic operation on that word. Longer or unaligned
//!   ranges are copied word by word and may mix bytes of concurrent writes, as non-atomic
//!   wasm accesses may.
//!
//! Wait/notify ([`SharedStorage::wait`], [`SharedStorage::notify`]) park threads in a table
//! keyed by address: the comparison of the memory value with the expected one and the
//! enqueueing happen under the table's lock, and `notify` takes the same lock, so no
//! wake-up is lost; waiters of one address are woken in FIFO order.

use std::alloc::{self, Layout};
use std::collections::{HashMap, VecDeque};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::error::AccessError;

/// Alignment of the allocation: at least that of the widest atomic, so that guest
/// alignment equals host alignment.
const ALIGN: usize = 16;

/// Every access is to a whole, aligned word of this many bytes.
const WORD: usize = 8;

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
    // storage and freed only by `Drop`; if `cap == 0`, `base` is dangling (aligned).
    // `cap` is a multiple of 8. The allocation's bytes are only ever accessed as whole
    // `AtomicU64` words (`word`), never through `&[u8]`/`&mut [u8]`, non-atomic pointer
    // reads and writes, or atomics of another size.
    base: NonNull<u8>,
    cap: usize,
    // INVARIANT: `len <= cap`; it only increases, and only under `grow_lock`.
    len: AtomicUsize,
    grow_lock: Mutex<()>,
    parking: Mutex<ParkingTable>,
}

// SAFETY: the storage owns its allocation like a `Box<[AtomicU64]>`; nothing in it is tied
// to a thread.
unsafe impl Send for SharedStorage {}
// SAFETY: `&SharedStorage` only reaches the allocation through same-sized atomic
// operations (the invariant on `base`), the length is an atomic, and the rest is behind mutexes: shared
// use from several threads is free of data races, like `&[AtomicU64]`.
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
    /// `len > cap`, `cap` is not a multiple of 8, or the allocation fails.
    pub(crate) fn new(len: usize, cap: usize) -> Option<Self> {
        if len > cap || !cap.is_multiple_of(WORD) {
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

    /// The 8-byte word at byte offset `at` (a multiple of 8), or `None` if it is not inside
    /// the allocation or not aligned. Does not check the current length.
    #[inline]
    fn word(&self, at: usize) -> Option<&AtomicU64> {
        let end = at.checked_add(WORD)?;
        if end > self.cap || !at.is_multiple_of(WORD) {
            return None;
        }
        // SAFETY: `at + 8 <= cap`, so `at` is inside the allocation (which is non-empty
        // since `cap >= 8`), and the offset fits `isize` (the layout was accepted).
        let ptr = unsafe { self.base.as_ptr().add(at) };
        // `ptr` is aligned to 8 (the base is aligned to `ALIGN`, `at` is a multiple of 8);
        // it is valid for reads and writes of 8 bytes while `self` lives (the allocation is
        // freed only by `Drop`, which needs `&mut self`); and every access to the
        // allocation is an atomic access of this same size to a whole aligned word
        // (invariant).
        // SAFETY: those are `from_ptr`'s preconditions, so there is neither a non-atomic
        // nor a mixed-size access to race with.
        Some(unsafe { AtomicU64::from_ptr(ptr.cast::<u64>()) })
    }

    /// Loads the word holding `[at, at + n)` (`n <= 8`, not crossing a word boundary;
    /// bounds checked by the caller) and returns those bytes as a little-endian integer.
    #[inline]
    fn load_in_word(&self, at: usize, n: usize) -> Option<u64> {
        let off = at % WORD;
        let word = self.word(at - off)?.load(Ordering::SeqCst);
        Some(extract(word, off, n))
    }

    /// Stores the low `n` bytes of `value` (little-endian) at `[at, at + n)`, inside one
    /// word: a plain atomic store of a whole word, else a compare-exchange loop that
    /// changes only those bytes.
    #[inline]
    fn store_in_word(&self, at: usize, n: usize, value: u64) -> Option<()> {
        let off = at % WORD;
        let word = self.word(at - off)?;
        if n == WORD {
            word.store(u64::from_ne_bytes(value.to_le_bytes()), Ordering::SeqCst);
        } else {
            let _ = word.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |old| Some(patch(old, off, n, value)));
        }
        Some(())
    }

    /// Checks `[addr, addr + len)` against the current length; returns it as `usize`s.
    #[inline]
    fn range(&self, addr: u64, len: u64) -> Result<(usize, usize), AccessError> {
        let memory_size = self.len_bytes();
        let range = super::error::check_range(addr, len, memory_size)?;
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
    /// zero-extended, `SeqCst`. Naturally aligned: one atomic load. Unaligned (plain wasm
    /// loads may be): one load per word touched, so the value may mix concurrent writes.
    ///
    /// # Errors
    ///
    /// Out of bounds (or an invalid `width`, reported as misaligned).
    pub(crate) fn load(&self, addr: u64, width: u8) -> Result<u64, AccessError> {
        if !is_width(width) {
            return Err(AccessError::Misaligned { address: addr, align: u32::from(width) });
        }
        let (start, _) = self.range(addr, u64::from(width))?;
        // Naturally aligned, the value lies in one word: `copy_out` loads it once.
        let mut bytes = [0u8; 8];
        self.copy_out(start, &mut bytes[..usize::from(width)]);
        Ok(u64::from_le_bytes(bytes))
    }

    /// Stores the low `width` (1, 2, 4 or 8) bytes of `value` at `addr`, little-endian,
    /// `SeqCst`: one atomic operation if naturally aligned, else one per word touched.
    ///
    /// # Errors
    ///
    /// Out of bounds (or an invalid `width`); memory is then unchanged.
    pub(crate) fn store(&self, addr: u64, width: u8, value: u64) -> Result<(), AccessError> {
        if !is_width(width) {
            return Err(AccessError::Misaligned { address: addr, align: u32::from(width) });
        }
        let (start, _) = self.range(addr, u64::from(width))?;
        // Naturally aligned, the value lies in one word: `copy_in` changes it atomically.
        self.copy_in(start, &value.to_le_bytes()[..usize::from(width)]);
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

    /// Atomic read-modify-write of `width` bytes at `addr` (naturally aligned), `SeqCst`;
    /// `value` is truncated to the width. Returns the old value, zero-extended.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`] if unaligned, else out of bounds.
    pub(crate) fn rmw(&self, op: AtomicRmwOp, addr: u64, width: u8, value: u64) -> Result<u64, AccessError> {
        let at = self.atomic_range(addr, width)?;
        let (n, off) = (usize::from(width), at % WORD);
        let word = self.word(at - off).ok_or_else(|| self.oob(addr, u64::from(width)))?;
        let apply = |old: u64| {
            let new = match op {
                AtomicRmwOp::Add => old.wrapping_add(value),
                AtomicRmwOp::Sub => old.wrapping_sub(value),
                AtomicRmwOp::And => old & value,
                AtomicRmwOp::Or => old | value,
                AtomicRmwOp::Xor => old ^ value,
                AtomicRmwOp::Xchg => value,
            };
            new & mask(n)
        };
        let update = |w: u64| Some(patch(w, off, n, apply(extract(w, off, n))));
        let (Ok(old) | Err(old)) = word.fetch_update(Ordering::SeqCst, Ordering::SeqCst, update);
        Ok(extract(old, off, n))
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
        let (n, off) = (usize::from(width), at % WORD);
        let word = self.word(at - off).ok_or_else(|| self.oob(addr, u64::from(width)))?;
        let expected = expected & mask(n);
        let update = |w: u64| (extract(w, off, n) == expected).then(|| patch(w, off, n, replacement));
        let (Ok(old) | Err(old)) = word.fetch_update(Ordering::SeqCst, Ordering::SeqCst, update);
        Ok(extract(old, off, n))
    }

    /// Copies out of `[at, at + buf.len())`, which the caller checked against the length,
    /// one atomic word load per word touched.
    fn copy_out(&self, at: usize, buf: &mut [u8]) {
        let mut i = 0;
        while i < buf.len() {
            let a = at + i;
            let n = (WORD - a % WORD).min(buf.len() - i);
            // In bounds (checked by the caller) and inside one word: this succeeds.
            let v = self.load_in_word(a, n).unwrap_or(0);
            buf[i..i + n].copy_from_slice(&v.to_le_bytes()[..n]);
            i += n;
        }
    }

    /// Copies `buf` into `[at, at + buf.len())`, which the caller checked: whole words are
    /// stored, partial ones patched with a compare-exchange loop.
    fn copy_in(&self, at: usize, buf: &[u8]) {
        let mut i = 0;
        while i < buf.len() {
            let a = at + i;
            let n = (WORD - a % WORD).min(buf.len() - i);
            let mut v = [0u8; 8];
            v[..n].copy_from_slice(&buf[i..i + n]);
            // In bounds and inside one word (see `copy_out`): this succeeds.
            let _ = self.store_in_word(a, n, u64::from_le_bytes(v));
            i += n;
        }
    }

    /// Copies `buf.len()` bytes at `addr` into `buf`. A naturally aligned range of 1, 2,
    /// 4 or 8 bytes is read by one atomic load.
    ///
    /// # Errors
    ///
    /// Out of bounds; `buf` is then unchanged.
    pub(crate) fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), AccessError> {
        let (start, _) = self.range(addr, buf.len() as u64)?;
        self.copy_out(start, buf);
        Ok(())
    }

    /// Copies `buf` into memory at `addr`. A naturally aligned range of 1, 2, 4 or 8
    /// bytes is written by one atomic operation.
    ///
    /// # Errors
    ///
    /// Out of bounds; memory is then unchanged.
    pub(crate) fn write(&self, addr: u64, buf: &[u8]) -> Result<(), AccessError> {
        let (start, _) = self.range(addr, buf.len() as u64)?;
        self.copy_in(start, buf);
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
            self.copy_in(at, &block[..n]);
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
                from.copy_out(s + rest, &mut buf[..n]);
                self.copy_in(d + rest, &buf[..n]);
            }
        } else {
            let mut done = 0;
            while done < len {
                let n = (len - done).min(COPY_BLOCK);
                from.copy_out(s + done, &mut buf[..n]);
                self.copy_in(d + done, &buf[..n]);
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
        let current = self.load_in_word(at, usize::from(width)).ok_or_else(|| self.oob(addr, u64::from(width)))?;
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

/// The low `n` bytes set (`n <= 8`).
#[inline]
fn mask(n: usize) -> u64 {
    if n >= WORD { u64::MAX } else { (1u64 << (8 * n)) - 1 }
}

/// The `n` bytes at byte offset `off` of a word (as it lies in memory), as a
/// little-endian integer.
#[inline]
fn extract(word: u64, off: usize, n: usize) -> u64 {
    let le = u64::from_le_bytes(word.to_ne_bytes());
    (le >> (8 * off)) & mask(n)
}

/// `word` with its `n` bytes at byte offset `off` replaced by the low `n` bytes of
/// `value` (little-endian).
#[inline]
fn patch(word: u64, off: usize, n: usize, value: u64) -> u64 {
    let le = u64::from_le_bytes(word.to_ne_bytes());
    let m = mask(n) << (8 * off);
    let new = (le & !m) | ((value << (8 * off)) & m);
    u64::from_ne_bytes(new.to_le_bytes())
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
#[path = "shared_tests.rs"]
mod tests;
