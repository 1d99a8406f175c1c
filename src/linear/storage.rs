//! [`LinearStorage`]: the bytes of one linear memory, in reserved virtual memory (on Linux)
//! or a raw heap allocation.
//!
//! A reserved memory ([`LinearStorage::reserved`]) maps its whole reservation inaccessible
//! up front and makes pages accessible as it grows: the system hands them out zeroed on
//! first touch, so growth neither copies nor zero-fills, and the bytes never move. (Miri
//! cannot run system calls, so under Miri, and on other systems, reserved memories are heap
//! allocations of the reserved size, which the allocator also gets zeroed and lazily.)
//!
//! This is one of the few places with `unsafe` code. The bytes live behind a raw pointer
//! (not inside a `Vec`), so a shared borrow of the owning store says nothing about them
//! at the language level: that is what makes the documented escape hatch
//! [`Memory::data_unchecked_mut`](crate::Memory::data_unchecked_mut) possible to use
//! soundly. Every safe accessor hands out slices whose lifetime is tied to a borrow of
//! the storage, so safe code gets the usual guarantees.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// Alignment of the allocation: generous, so guest data is naturally aligned on the host
/// when guest addresses are.
const ALIGN: usize = 16;

/// Owned, zero-initialised, growable bytes of a linear memory.
pub(crate) struct LinearStorage {
    // INVARIANT (mapped storage, `mapped > 0`): `ptr` is the start of a live anonymous
    // private mapping of `mapped` bytes that this storage owns; its first `cap` bytes are
    // readable and writable (`cap` a multiple of the host page size, or `mapped`), the rest
    // inaccessible and never handed out; every byte of `[len, cap)` is zero (never written:
    // memories do not shrink); `len <= zeroed == cap <= mapped`.
    //
    // INVARIANT: if `cap > 0`, `ptr` is the start of a live allocation from the global
    // allocator with layout `(cap, ALIGN)`, its first `len` bytes are initialised, the
    // bytes `[len, zeroed)` are initialised to zero, and the bytes `[zeroed, cap)` may be
    // uninitialised (both a reservation: never handed out, so never written or read); if
    // `cap == 0`, `ptr` is dangling (well aligned) and `len == zeroed == 0`. Always
    // `len <= zeroed <= cap`.
    ptr: NonNull<u8>,
    len: usize,
    zeroed: usize,
    cap: usize,
    mapped: usize,
}

// SAFETY: `LinearStorage` owns its allocation exclusively, like a `Box<[u8]>`; it has no
// thread-affine state, so moving it to another thread is sound.
unsafe impl Send for LinearStorage {}
// SAFETY: shared access (`&LinearStorage`) only reads through the pointer (`as_slice`);
// writes need `&mut LinearStorage` or the caller-checked `unsafe` paths of `Memory`.
unsafe impl Sync for LinearStorage {}

impl std::fmt::Debug for LinearStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinearStorage").field("len", &self.len).finish()
    }
}

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size, ALIGN).ok()
}

impl LinearStorage {
    /// No bytes and no allocation.
    pub(crate) fn empty() -> Self {
        LinearStorage { ptr: dangling(), len: 0, zeroed: 0, cap: 0, mapped: 0 }
    }

    /// `len` zero bytes, or `None` if the allocation fails.
    pub(crate) fn new(len: usize) -> Option<Self> {
        if len == 0 {
            return Some(LinearStorage::empty());
        }
        let layout = layout(len)?;
        // SAFETY: `layout` has a non-zero size (checked above).
        let raw = unsafe { alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(raw)?;
        Some(LinearStorage { ptr, len, zeroed: len, cap: len, mapped: 0 })
    }

    /// `len` zero bytes in an allocation of `cap` zero bytes, so that growth up to `cap`
    /// never moves the bytes; `None` if the allocation fails. The system provides zeroed
    /// memory lazily, so an unused reservation costs address space, not memory.
    #[cfg_attr(all(target_os = "linux", not(miri)), allow(dead_code))]
    pub(crate) fn with_capacity(len: usize, cap: usize) -> Option<Self> {
        let mut storage = LinearStorage::new(cap.max(len))?;
        // The bytes past `len` are zero and stay unused until growth: the invariant holds.
        storage.len = len;
        storage.zeroed = storage.cap;
        Some(storage)
    }

    /// `len` zero bytes in a reservation of `reserve` bytes of virtual memory (Linux): growth
    /// up to `reserve` makes more of it accessible, never moving or copying the bytes, and
    /// the system provides the pages zeroed when first touched. Elsewhere (and under Miri),
    /// [`with_capacity`](Self::with_capacity). `None` if the reservation fails.
    pub(crate) fn reserved(len: usize, reserve: usize) -> Option<Self> {
        let reserve = reserve.max(len);
        #[cfg(all(target_os = "linux", not(miri)))]
        {
            if reserve == 0 {
                return Some(LinearStorage::empty());
            }
            // A reservation of this size given back by an earlier memory, if the pool has
            // one: its first `cap` bytes are accessible and zero, the rest inaccessible.
            let (ptr, cap) = match mapped::pool::take(reserve) {
                Some(reused) => reused,
                None => (mapped::reserve(reserve)?, 0),
            };
            let mut storage = LinearStorage { ptr, len: 0, zeroed: cap, cap, mapped: reserve };
            // On failure `storage` is dropped, which unmaps the reservation.
            storage.grow(len).then_some(storage)
        }
        #[cfg(not(all(target_os = "linux", not(miri))))]
        {
            LinearStorage::with_capacity(len, reserve)
        }
    }

    /// Number of bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: by the invariant, `ptr` is valid for reads of `len` initialised bytes
        // (or dangling with `len == 0`); the slice borrows `self`, so no `&mut self`
        // method can run while it lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The bytes, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and the slice borrows `self` exclusively.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// The raw base pointer (valid until the next growth).
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Grows to `new_len` bytes, the new ones zero. Returns `false` (and changes nothing)
    /// if the allocation fails.
    ///
    /// Small growth past the allocation reallocates with room to spare (the capacity grows
    /// by at least half, at most [`MAX_SPARE`]), so a memory grown a page at a time is not
    /// reallocated (and, for large allocations, remapped) every time.
    pub(crate) fn grow(&mut self, new_len: usize) -> bool {
        if new_len <= self.len {
            return true;
        }
        if self.mapped > 0 {
            return self.grow_mapped(new_len);
        }
        if new_len > self.cap {
            if new_len - self.len >= FRESH_ALLOCATION_THRESHOLD || self.cap == 0 {
                return self.grow_fresh(new_len);
            }
            let roomy = self.cap.saturating_add((self.cap / 2).min(MAX_SPARE));
            // With room to spare if that can be had, else just what was asked for.
            let grown = (roomy > new_len && self.realloc(roomy)) || self.realloc(new_len);
            if !grown {
                return false;
            }
        }
        if new_len > self.zeroed {
            // SAFETY: `zeroed < new_len <= cap`, so `[zeroed, new_len)` lies inside the
            // allocation (and may be uninitialised).
            let tail = unsafe { self.ptr.as_ptr().add(self.zeroed) };
            // SAFETY: `tail` is valid for writes of `new_len - zeroed` bytes (see above).
            unsafe { tail.write_bytes(0, new_len - self.zeroed) };
            self.zeroed = new_len;
        }
        // `[len, new_len)` is zero by the invariant (`new_len <= zeroed`).
        self.len = new_len;
        true
    }

    /// [`grow`](Self::grow) of mapped storage: makes the pages up to `new_len` accessible,
    /// or past the reservation moves the bytes to a heap allocation.
    fn grow_mapped(&mut self, new_len: usize) -> bool {
        if new_len > self.mapped {
            return self.grow_fresh(new_len);
        }
        if new_len > self.cap {
            #[cfg(all(target_os = "linux", not(miri)))]
            {
                let new_cap = mapped::round_up(new_len).unwrap_or(self.mapped).min(self.mapped);
                // SAFETY: by the invariant, `[cap, new_cap)` lies inside the mapping (and
                // `cap` is page-aligned, as `new_cap <= mapped` after the rounding).
                if !unsafe { mapped::commit(self.ptr, self.cap, new_cap) } {
                    return false;
                }
                self.cap = new_cap;
                self.zeroed = new_cap;
            }
        }
        // `[len, new_len)` is zero by the invariant (`new_len <= cap`).
        self.len = new_len;
        true
    }

    /// Moves the bytes to an allocation of `cap > self.cap` bytes, the part past the old
    /// one uninitialised. Returns `false` (and changes nothing) if the allocation fails.
    fn realloc(&mut self, cap: usize) -> bool {
        let (Some(old_layout), Some(_)) = (layout(self.cap), layout(cap)) else {
            return false;
        };
        // SAFETY: by the invariant (and `self.cap > 0`, which `grow` checks), `ptr` was
        // allocated with `old_layout`; the new size is non-zero and
        // `Layout::from_size_align` accepted it (checked just above), so rounded up to
        // `ALIGN` it does not overflow `isize`.
        let raw = unsafe { alloc::realloc(self.ptr.as_ptr(), old_layout, cap) };
        let Some(ptr) = NonNull::new(raw) else {
            return false;
        };
        // `realloc` kept the first `self.cap` bytes, so `[len, zeroed)` is still zero.
        self.ptr = ptr;
        self.cap = cap;
        true
    }

    /// Grows into a new zeroed allocation (which the system can provide lazily, without
    /// touching the pages) and copies the old bytes over: cheaper than `realloc` plus
    /// zeroing when the new part is large.
    fn grow_fresh(&mut self, new_len: usize) -> bool {
        let Some(mut fresh) = LinearStorage::new(new_len) else {
            return false;
        };
        fresh.as_mut_slice()[..self.len].copy_from_slice(self.as_slice());
        *self = fresh;
        true
    }
}

/// Growth by at least this many bytes takes a fresh zeroed allocation.
const FRESH_ALLOCATION_THRESHOLD: usize = 1 << 20;

/// The most room to spare a reallocation for small growth adds beyond what was asked.
const MAX_SPARE: usize = 64 << 20;

impl Drop for LinearStorage {
    fn drop(&mut self) {
        #[cfg(all(target_os = "linux", not(miri)))]
        if self.mapped > 0 {
            // SAFETY: by the invariant, `ptr` is a live mapping of `mapped` bytes owned by
            // this storage, its first `cap` bytes accessible, the rest inaccessible; it is
            // not used after this point.
            unsafe { mapped::pool::give_back(self.ptr, self.cap, self.mapped) };
            return;
        }
        if self.cap > 0
            && let Some(l) = layout(self.cap)
        {
            // SAFETY: by the invariant, `ptr` is a live allocation with this layout, and
            // it is not used after this point.
            unsafe { alloc::dealloc(self.ptr.as_ptr(), l) };
        }
    }
}

/// Reserved virtual memory: the system calls behind mapped storage.
#[cfg(all(target_os = "linux", not(miri)))]
mod mapped {
    use rustix::mm::{self, MapFlags, MprotectFlags, ProtFlags};
    use std::ptr::NonNull;

    /// What reservations and commits are rounded to: 64 KiB, a multiple of the page size
    /// of every Linux system (4, 16 and 64 KiB pages). (A constant rather than the
    /// system's page size, which would have to be read from the auxiliary vector: that
    /// read fails under some tools, Valgrind among them.)
    const GRANULE: usize = 64 << 10;

    /// `len` rounded up to a multiple of [`GRANULE`] (`None` on overflow).
    pub(super) fn round_up(len: usize) -> Option<usize> {
        Some(len.checked_add(GRANULE - 1)? & !(GRANULE - 1))
    }

    /// A new private anonymous mapping of `len > 0` bytes, all inaccessible (address space
    /// only: nothing is committed).
    pub(super) fn reserve(len: usize) -> Option<NonNull<u8>> {
        // SAFETY: a new anonymous mapping at an address of the system's choosing aliases
        // nothing.
        let ptr = unsafe {
            mm::mmap_anonymous(std::ptr::null_mut(), len, ProtFlags::empty(), MapFlags::PRIVATE | MapFlags::NORESERVE)
        };
        NonNull::new(ptr.ok()?.cast())
    }

    /// Makes bytes `[from, to)` of the mapping at `base` readable and writable.
    ///
    /// # Safety
    ///
    /// `base` is a live mapping this code made with [`reserve`], `from <= to` lie inside it,
    /// and `from` is page-aligned.
    pub(super) unsafe fn commit(base: NonNull<u8>, from: usize, to: usize) -> bool {
        if from == to {
            return true;
        }
        // SAFETY: see the function's contract: the range is inside the mapping; making
        // inaccessible pages accessible changes no byte (they read as zero).
        unsafe {
            let start = base.as_ptr().add(from);
            mm::mprotect(start.cast(), to - from, MprotectFlags::READ | MprotectFlags::WRITE).is_ok()
        }
    }

    /// Unmaps the mapping of `len` bytes at `base`.
    ///
    /// # Safety
    ///
    /// `base` is a live mapping of `len` bytes made by [`reserve`], used by nothing after.
    pub(super) unsafe fn release(base: NonNull<u8>, len: usize) {
        // SAFETY: see the function's contract. An error would leave address space mapped,
        // nothing worse; there is nothing more to do about it.
        let _ = unsafe { mm::munmap(base.as_ptr().cast(), len) };
    }

    /// Reservations kept for reuse: creating and unmapping a reservation (and splitting its
    /// mapping at the first commit) costs more than the rest of a small instantiation, so a
    /// memory's reservation, once dropped, is zeroed and kept for the next memory of the same
    /// reservation size. At most [`MAX_POOLED`] reservations are kept, each with at most
    /// [`MAX_POOLED_COMMIT`] accessible bytes; the others are unmapped. Zeroing uses
    /// `madvise(MADV_DONTNEED)`, which hands the pages back to the system (a pooled
    /// reservation holds address space, not memory) and makes them read as zero again,
    /// swapped-out pages included.
    pub(super) mod pool {
        use std::ptr::NonNull;
        use std::sync::Mutex;

        /// How many reservations are kept.
        pub(in super::super) const MAX_POOLED: usize = 16;

        /// Reservations with more accessible bytes than this are unmapped, not kept.
        pub(in super::super) const MAX_POOLED_COMMIT: usize = 64 << 20;

        /// A pooled reservation. INVARIANT: `base` is a live mapping of `mapped` bytes made
        /// by [`reserve`](super::reserve), owned by the pool; its first `cap` bytes are
        /// readable, writable and zero, the rest inaccessible; `cap` is a multiple of the
        /// granule or `mapped`.
        struct Pooled {
            base: NonNull<u8>,
            cap: usize,
            mapped: usize,
        }

        // SAFETY: a pooled reservation is owned memory with no thread affinity, like a
        // `Box<[u8]>`.
        unsafe impl Send for Pooled {}

        static POOL: Mutex<Vec<Pooled>> = Mutex::new(Vec::new());

        /// A pooled reservation of exactly `mapped` bytes, with how many of its first bytes
        /// are accessible (and zero); the caller owns it from now on.
        pub(in super::super) fn take(mapped: usize) -> Option<(NonNull<u8>, usize)> {
            let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let at = pool.iter().rposition(|p| p.mapped == mapped)?;
            let Pooled { base, cap, .. } = pool.swap_remove(at);
            Some((base, cap))
        }

        /// Gives a reservation back: zeroed and kept, or unmapped.
        ///
        /// # Safety
        ///
        /// `base` is a live mapping of `mapped` bytes made by [`reserve`](super::reserve),
        /// its first `cap` bytes (a multiple of the granule, or `mapped`) readable and
        /// writable and the rest inaccessible; the caller does not use it after this call.
        pub(in super::super) unsafe fn give_back(base: NonNull<u8>, cap: usize, mapped: usize) {
            let keep = cap <= MAX_POOLED_COMMIT
                // SAFETY: `[0, cap)` is an accessible part of the mapping (the contract),
                // which nothing uses any more; afterwards it reads as zero.
                && unsafe { super::discard(base, cap) };
            if keep {
                let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if pool.len() < MAX_POOLED {
                    pool.push(Pooled { base, cap, mapped });
                    return;
                }
            }
            // SAFETY: the contract: a live mapping of `mapped` bytes, used by nothing after.
            unsafe { super::release(base, mapped) };
        }

        /// How many reservations the pool holds (for tests).
        #[cfg(test)]
        pub(in super::super) fn len() -> usize {
            POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
        }
    }

    /// Hands the pages of bytes `[0, len)` of the mapping at `base` back to the system:
    /// afterwards they read as zero. `false` if the system refused.
    ///
    /// # Safety
    ///
    /// `base` is a live private anonymous mapping made by [`reserve`] whose first `len`
    /// bytes are accessible, and nothing holds a reference into them.
    unsafe fn discard(base: NonNull<u8>, len: usize) -> bool {
        if len == 0 {
            return true;
        }
        // SAFETY: see the function's contract; dropping the pages of a private anonymous
        // mapping only changes their contents to zero, which no one observes.
        unsafe { mm::madvise(base.as_ptr().cast(), len, mm::Advice::LinuxDontNeed).is_ok() }
    }
}

fn dangling() -> NonNull<u8> {
    // An aligned, non-null address that is never dereferenced (length 0).
    NonNull::<u128>::dangling().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_is_zeroed_and_grow_zeroes_the_tail() {
        let mut s = LinearStorage::new(16).unwrap();
        assert!(s.as_slice().iter().all(|&b| b == 0));
        s.as_mut_slice().fill(0xAA);
        assert!(s.grow(100_000));
        assert_eq!(s.len(), 100_000);
        assert!(s.as_slice()[..16].iter().all(|&b| b == 0xAA));
        assert!(s.as_slice()[16..].iter().all(|&b| b == 0));
    }

    #[test]
    fn page_by_page_growth_reallocates_rarely_and_zeroes_every_page() {
        const PAGE: usize = 65536;
        let pages = if cfg!(miri) { 12 } else { 200 };
        let mut s = LinearStorage::new(PAGE).unwrap();
        let mut reallocations = 0;
        for n in 1..pages {
            let cap = s.cap;
            // Dirty the spare room's neighbour: the last byte handed out so far.
            s.as_mut_slice()[n * PAGE - 1] = n as u8;
            assert!(s.grow((n + 1) * PAGE));
            reallocations += usize::from(s.cap != cap);
            assert!(s.len <= s.zeroed && s.zeroed <= s.cap);
            assert_eq!(s.as_slice()[n * PAGE - 1], n as u8, "old bytes kept");
            let new = &s.as_slice()[n * PAGE..];
            assert!(new.iter().step_by(if cfg!(miri) { 997 } else { 1 }).all(|&b| b == 0), "page {n} not zero");
        }
        // Capacity grows by half each time: about log1.5(pages) reallocations, not one a page.
        assert!(reallocations <= 16, "{reallocations} reallocations for {pages} pages");
    }

    #[test]
    fn empty_storage_grows() {
        let mut s = LinearStorage::new(0).unwrap();
        assert_eq!(s.as_slice(), &[] as &[u8]);
        assert!(s.grow(8));
        assert_eq!(s.as_slice(), &[0; 8]);
        assert!(s.grow(4), "shrinking requests are a no-op");
        assert_eq!(s.len(), 8);
    }

    #[test]
    fn large_growth_keeps_contents() {
        let mut s = LinearStorage::new(3).unwrap();
        s.as_mut_slice().copy_from_slice(b"abc");
        assert!(s.grow(FRESH_ALLOCATION_THRESHOLD + 3));
        assert_eq!(&s.as_slice()[..3], b"abc");
        let tail = &s.as_slice()[3..];
        // Under Miri, checking every byte is slow; a sample suffices there.
        let step = if cfg!(miri) { 4093 } else { 1 };
        assert!(tail.iter().step_by(step).all(|&b| b == 0));
    }

    #[test]
    fn a_reservation_grows_in_place_with_zero_bytes() {
        let mut s = LinearStorage::with_capacity(8, 4096).unwrap();
        s.as_mut_slice().fill(7);
        let base = s.as_ptr();
        assert!(s.grow(4096));
        assert_eq!(s.as_ptr(), base, "growth within the reservation never moves the bytes");
        assert!(s.as_slice()[..8].iter().all(|&b| b == 7));
        assert!(s.as_slice()[8..].iter().all(|&b| b == 0));
        assert!(s.grow(5000), "past the reservation: reallocates");
        assert!(s.as_slice()[4096..].iter().all(|&b| b == 0));
    }

    #[test]
    fn reserved_storage_grows_in_place_with_zero_pages() {
        const PAGE: usize = 65536;
        let reserve = if cfg!(miri) { 8 * PAGE } else { 1 << 32 };
        let mut s = LinearStorage::reserved(PAGE, reserve).unwrap();
        let base = s.as_ptr();
        s.as_mut_slice()[PAGE - 1] = 9;
        for n in 1..8 {
            assert!(s.grow((n + 1) * PAGE));
            assert_eq!(s.as_ptr(), base, "growth within the reservation never moves the bytes");
            assert_eq!(s.as_slice()[PAGE - 1], 9);
            let new = &s.as_slice()[n * PAGE..];
            assert!(new.iter().step_by(if cfg!(miri) { 997 } else { 1 }).all(|&b| b == 0));
            s.as_mut_slice()[(n + 1) * PAGE - 1] = n as u8;
        }
        // Odd sizes (a memory of 1-byte pages) round up inside and stay zero.
        assert!(s.grow(8 * PAGE + 3));
        assert_eq!(&s.as_slice()[8 * PAGE..], &[0, 0, 0]);
    }

    #[test]
    fn reserved_storage_past_its_reservation_moves_and_keeps_contents() {
        let mut s = LinearStorage::reserved(5, 4096).unwrap();
        s.as_mut_slice().copy_from_slice(b"hello");
        assert!(s.grow(4096));
        assert!(s.grow(10_000), "past the reservation: a new allocation");
        assert_eq!(&s.as_slice()[..5], b"hello");
        assert!(s.as_slice()[5..].iter().all(|&b| b == 0));
        assert!(LinearStorage::reserved(0, 0).unwrap().grow(3));
    }

    #[test]
    #[cfg(all(target_os = "linux", not(miri)))]
    fn a_dropped_reservation_is_reused_zeroed() {
        const PAGE: usize = 65536;
        // A reservation size no other test uses, so the pool's entry is this test's.
        let reserve = 4093 * PAGE;
        let mut s = LinearStorage::reserved(2 * PAGE, reserve).unwrap();
        assert!(s.grow(5 * PAGE));
        s.as_mut_slice().fill(0xAB);
        let base = s.as_ptr();
        drop(s);
        let mut again = LinearStorage::reserved(PAGE, reserve).unwrap();
        assert_eq!(again.as_ptr(), base, "the reservation is reused");
        assert_eq!(again.len(), PAGE);
        assert!(again.grow(6 * PAGE));
        assert!(again.as_slice().iter().all(|&b| b == 0), "a reused reservation reads as zero");
        drop(again);

        // Reservations with much committed are unmapped, not kept.
        let big = LinearStorage::reserved(mapped::pool::MAX_POOLED_COMMIT + PAGE, reserve).unwrap();
        let before = mapped::pool::len();
        drop(big);
        assert!(mapped::pool::len() <= before);
    }

    #[test]
    fn impossible_allocation_fails_cleanly() {
        let mut s = LinearStorage::new(1).unwrap();
        assert!(!s.grow(usize::MAX - 8));
        assert_eq!(s.len(), 1);
        assert!(LinearStorage::new(usize::MAX - 8).is_none());
    }
}
