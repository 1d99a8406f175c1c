//! Views of one linear memory: [`MemoryView`] (shared, read-only) and [`MemoryViewMut`]
//! (exclusive, with overlap-checked borrow guards).
//!
//! # Correct use
//!
//! ```
//! use wasmguard::access::{WasmPtr, WasmSlice};
//! use wasmguard::{Engine, Memory, MemoryType, Store};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut store = Store::new(&Engine::default(), ());
//! let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
//! memory.write(&mut store, 0, b"input")?;
//!
//! let view = memory.view_mut(&mut store);
//! // Read an input buffer while filling an output buffer: two guards at once.
//! let input = view.borrow(WasmSlice::new(WasmPtr::<u8>::new(0), 5))?;
//! let mut output = view.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(100), 5))?;
//! output.copy_from_slice(&input);
//! output.make_ascii_uppercase();
//! drop((input, output));
//! assert_eq!(memory.view(&store).bytes(100, 5)?, b"INPUT");
//! # Ok(()) }
//! ```
//!
//! # Incorrect use, refused
//!
//! Overlapping a mutable guard is an error at run time, never undefined behaviour:
//!
//! ```
//! # use wasmguard::access::{AccessError, WasmPtr, WasmSlice};
//! # use wasmguard::{Engine, Memory, MemoryType, Store};
//! # let mut store = Store::new(&Engine::default(), ());
//! # let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
//! let view = memory.view_mut(&mut store);
//! let a = view.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(0), 8)).unwrap();
//! let b = view.borrow(WasmSlice::new(WasmPtr::<u8>::new(4), 8));
//! assert!(matches!(b, Err(AccessError::BorrowConflict { .. })));
//! # drop(a);
//! ```
//!
//! and holding a borrowed slice across growth (which may move the memory) does not
//! compile, because `grow` needs the store exclusively:
//!
//! ```compile_fail
//! # use wasmguard::{Engine, Memory, MemoryType, Store};
//! # let mut store = Store::new(&Engine::default(), ());
//! # let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
//! let view = memory.view(&store);
//! let bytes = view.bytes(0, 16).unwrap();
//! memory.grow(&mut store, 1).unwrap(); // error: `store` is borrowed by `view`
//! println!("{bytes:?}");
//! ```

use std::cell::RefCell;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut, Range};

use super::guest::GuestType;
use super::ptr::{MemoryIndex, check_index};
use super::slice::WasmSlice;
use crate::exec::state::{CopyBudget, charge};
use crate::linear::{AccessError, check_range};

pub(crate) mod sealed {
    /// Seals the view traits: only views of this crate implement them.
    pub trait Sealed {}
}

/// Read access to guest memory: implemented by [`MemoryView`] and [`MemoryViewMut`], so
/// typed reads ([`WasmPtr::read`](crate::access::WasmPtr::read)) accept either.
pub trait GuestRead: sealed::Sealed {
    /// Size of the memory in bytes.
    fn len_bytes(&self) -> u64;

    /// True if the memory is 64-bit (memory64): typed access then needs
    /// [`Memory64`](crate::access::Memory64) pointers, otherwise
    /// [`Memory32`](crate::access::Memory32) ones.
    fn is_64(&self) -> bool;

    /// Checks the bytes `[address, address + len)`, charges `cost` to the copy budget of
    /// the running host call (if any), and calls `f` with them.
    ///
    /// # Errors
    ///
    /// Out of bounds, (for a [`MemoryViewMut`]) overlapping a live mutable guard, or
    /// [`AccessError::CopyBudgetExceeded`].
    #[doc(hidden)]
    fn with_bytes<R>(&self, address: u64, len: u64, cost: u64, f: impl FnOnce(&[u8]) -> R) -> Result<R, AccessError>;
}

/// Write access to guest memory: implemented by [`MemoryViewMut`].
pub trait GuestWrite: GuestRead {
    /// Checks the bytes `[address, address + len)`, charges `cost` to the copy budget of
    /// the running host call (if any), and calls `f` with them, mutably.
    ///
    /// # Errors
    ///
    /// Out of bounds, or [`AccessError::CopyBudgetExceeded`].
    #[doc(hidden)]
    fn with_bytes_mut<R>(
        &mut self,
        address: u64,
        len: u64,
        cost: u64,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, AccessError>;
}

/// A view that can lend bytes for `'v` without a guard: `&MemoryView<'a>` (for the memory
/// borrow `'a`) and `&'v mut MemoryViewMut` (exclusively, so no guard can overlap). Used by
/// [`WasmPtr::read_utf8`](crate::access::WasmPtr::read_utf8) and
/// [`WasmPtr::read_cstr`](crate::access::WasmPtr::read_cstr).
///
/// A shared `&MemoryViewMut` is not one: while it is only shared, a [`GuardMut`] of the same
/// view may be writing the bytes, so lending them would alias. Borrow the view exclusively
/// (`&mut view`), or use a [`MemoryView`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot lend guest bytes",
    label = "borrowed strings need `&MemoryView` or `&mut MemoryViewMut`",
    note = "only `&MemoryView` and `&mut MemoryViewMut` lend bytes: a shared `&MemoryViewMut` does not (a `GuardMut` of the view may be writing them), nor does a `SharedMemoryView` (another thread may); borrow the view exclusively, or copy with `WasmSlice::read_to_vec`"
)]
pub trait GuestBytes<'v>: sealed::Sealed {
    /// Size of the memory in bytes.
    fn memory_len(&self) -> usize;

    /// True if the memory is 64-bit (see [`GuestRead::is_64`]).
    fn memory_is_64(&self) -> bool;

    /// Borrows `len` bytes at `address`.
    ///
    /// # Errors
    ///
    /// Out of bounds.
    fn guest_bytes(self, address: u64, len: u64) -> Result<&'v [u8], AccessError>;
}

impl sealed::Sealed for &MemoryView<'_> {}

impl<'a> GuestBytes<'a> for &MemoryView<'a> {
    fn memory_len(&self) -> usize {
        self.data.len()
    }

    fn memory_is_64(&self) -> bool {
        self.is_64
    }

    fn guest_bytes(self, address: u64, len: u64) -> Result<&'a [u8], AccessError> {
        self.bytes(address, len)
    }
}

impl sealed::Sealed for &mut MemoryViewMut<'_> {}

impl<'v> GuestBytes<'v> for &'v mut MemoryViewMut<'_> {
    fn memory_len(&self) -> usize {
        self.len
    }

    fn memory_is_64(&self) -> bool {
        self.is_64
    }

    fn guest_bytes(self, address: u64, len: u64) -> Result<&'v [u8], AccessError> {
        self.bytes(address, len)
    }
}

/// A shared, read-only view of a linear memory. Any number of borrowed `&'a [u8]` and
/// `&'a str` may be taken at once; nothing can write, grow the memory or run wasm while
/// the view (or anything borrowed from it) lives, because the view borrows the store.
///
/// The view knows its memory's index type: typed access through a
/// [`WasmPtr<T, M>`](crate::access::WasmPtr) whose `M` does not match is refused with
/// [`AccessError::IndexTypeMismatch`].
///
/// A view taken during a host call charges what it copies to the call's copy budget
/// ([`StoreLimits::host_copy_bytes`](crate::StoreLimits::host_copy_bytes)); borrowing is free.
#[derive(Debug, Clone, Copy)]
pub struct MemoryView<'a> {
    data: &'a [u8],
    is_64: bool,
    budget: Option<&'a CopyBudget>,
}

impl crate::Memory {
    /// A shared, read-only view of the memory, borrowing the store (see
    /// [`MemoryView`](MemoryView)).
    pub fn view<'a, T: 'a>(&self, store: impl Into<crate::StoreContext<'a, T>>) -> MemoryView<'a> {
        let ctx = store.into();
        let inner = &ctx.0.inner;
        let e = self.entity(inner);
        MemoryView { data: e.data(), is_64: e.ty.is_64(), budget: inner.copy_budget.active() }
    }

    /// An exclusive view of the memory, borrowing the store mutably (see
    /// [`MemoryViewMut`](MemoryViewMut)).
    pub fn view_mut<'a, T: 'a>(&self, store: impl Into<crate::StoreContextMut<'a, T>>) -> MemoryViewMut<'a> {
        let ctx = store.into();
        let (e, budget) = self.entity_mut_and_budget(&mut ctx.0.inner);
        let is_64 = e.ty.is_64();
        MemoryViewMut::with_budget(e.data_mut(), is_64, budget)
    }

    /// An exclusive view of the memory together with the host state, borrowed at once.
    #[doc(alias = "data_and_store_mut")]
    pub fn view_and_data_mut<'a, T: 'a>(
        &self,
        store: impl Into<crate::StoreContextMut<'a, T>>,
    ) -> (MemoryViewMut<'a>, &'a mut T) {
        let ctx = store.into();
        let store = ctx.0;
        let (inner, data) = store.inner_and_data_mut();
        let (e, budget) = self.entity_mut_and_budget(inner);
        let is_64 = e.ty.is_64();
        (MemoryViewMut::with_budget(e.data_mut(), is_64, budget), data)
    }
}

impl<'a> MemoryView<'a> {
    /// A view of a 32-bit memory's bytes.
    #[cfg(test)]
    pub(crate) fn new(data: &'a [u8]) -> Self {
        MemoryView { data, is_64: false, budget: None }
    }

    /// True if the memory is 64-bit (memory64): typed access takes
    /// [`WasmPtr<T, Memory64>`](crate::access::WasmPtr).
    pub fn is_64(&self) -> bool {
        self.is_64
    }

    /// Size of the memory in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True for a memory of size 0.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The whole memory.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    ///
    /// # Errors
    ///
    /// [`AccessError::OutOfBounds`] / [`AccessError::Overflow`], or
    /// [`AccessError::CopyBudgetExceeded`]; `buf` is then unchanged.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), AccessError> {
        let len = buf.len() as u64;
        self.with_bytes(offset, len, len, |bytes| buf.copy_from_slice(bytes))
    }

    /// Borrows `len` bytes at `offset`.
    ///
    /// # Errors
    ///
    /// [`AccessError::OutOfBounds`] / [`AccessError::Overflow`].
    #[inline]
    pub fn bytes(&self, offset: u64, len: u64) -> Result<&'a [u8], AccessError> {
        let range = check_range(offset, len, self.data.len())?;
        Ok(&self.data[range])
    }
}

impl sealed::Sealed for MemoryView<'_> {}

impl GuestRead for MemoryView<'_> {
    fn len_bytes(&self) -> u64 {
        self.data.len() as u64
    }

    fn is_64(&self) -> bool {
        self.is_64
    }

    #[inline]
    fn with_bytes<R>(&self, address: u64, len: u64, cost: u64, f: impl FnOnce(&[u8]) -> R) -> Result<R, AccessError> {
        let bytes = self.bytes(address, len)?;
        charge(self.budget, cost)?;
        Ok(f(bytes))
    }
}

/// Element types that can be borrowed in place (zero-copy) as `&[T]` / `&mut [T]`: the
/// guest and host layouts agree and every bit pattern is a valid value (the
/// `bytemuck::Pod` bound proves the latter). Multi-byte integers and floats qualify only
/// on little-endian hosts; other types are read and written by copying
/// ([`WasmSlice::read_to_vec`], [`WasmSlice::write_from`]).
pub trait ZeroCopy: GuestType + bytemuck::Pod {}

impl ZeroCopy for u8 {}
impl ZeroCopy for i8 {}
#[cfg(target_endian = "little")]
impl ZeroCopy for u16 {}
#[cfg(target_endian = "little")]
impl ZeroCopy for i16 {}
#[cfg(target_endian = "little")]
impl ZeroCopy for u32 {}
#[cfg(target_endian = "little")]
impl ZeroCopy for i32 {}
#[cfg(target_endian = "little")]
impl ZeroCopy for u64 {}
#[cfg(target_endian = "little")]
impl ZeroCopy for i64 {}
#[cfg(target_endian = "little")]
impl ZeroCopy for f32 {}
#[cfg(target_endian = "little")]
impl ZeroCopy for f64 {}

/// A live borrowed region.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Region {
    range: Range<usize>,
    mutable: bool,
}

impl Region {
    fn conflicts(&self, other: &Region) -> bool {
        let overlap = self.range.start < other.range.end && other.range.start < self.range.end;
        overlap && (self.mutable || other.mutable)
    }
}

/// The live regions of a [`MemoryViewMut`].
#[derive(Debug, Default)]
struct Registry {
    live: RefCell<Vec<Region>>,
}

impl Registry {
    fn acquire(&self, region: Region) -> Result<(), AccessError> {
        if region.range.is_empty() {
            // An empty region covers no byte: it never conflicts and is not tracked.
            return Ok(());
        }
        let mut live = self.live.borrow_mut();
        if live.iter().any(|r| r.conflicts(&region)) {
            return Err(AccessError::BorrowConflict {
                address: region.range.start as u64,
                len: region.range.len() as u64,
            });
        }
        live.push(region);
        Ok(())
    }

    fn release(&self, region: &Region) {
        if region.range.is_empty() {
            return;
        }
        let mut live = self.live.borrow_mut();
        if let Some(i) = live.iter().rposition(|r| r == region) {
            live.swap_remove(i);
        }
    }
}

/// An exclusive view of a linear memory: reads, writes, and *guards* — several borrowed
/// regions at once, checked for overlap when taken (two shared regions may overlap, a
/// mutable region overlaps nothing). A conflict is an [`AccessError::BorrowConflict`],
/// never undefined behaviour; a guard releases its region when dropped.
///
/// Methods that hand out borrows not tracked as guards take `&mut self`, so they cannot
/// be called while a guard lives.
pub struct MemoryViewMut<'a> {
    // INVARIANT: `base` is valid for reads and writes of `len` bytes for `'a`, and nothing
    // else accesses those bytes during `'a` (the view was made from a `&'a mut [u8]`).
    // Every reference into them handed out by `&self` methods is covered by a region in
    // `registry` for as long as it lives, and regions never conflict.
    base: *mut u8,
    len: usize,
    is_64: bool,
    budget: Option<&'a CopyBudget>,
    registry: Registry,
    _marker: PhantomData<&'a mut [u8]>,
}

impl std::fmt::Debug for MemoryViewMut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryViewMut").field("len", &self.len).finish_non_exhaustive()
    }
}

impl<'a> MemoryViewMut<'a> {
    /// An exclusive view of a 32-bit memory's bytes.
    #[cfg(test)]
    pub(crate) fn new(data: &'a mut [u8]) -> Self {
        Self::with_budget(data, false, None)
    }

    /// An exclusive view of a memory's bytes; `is_64` for a 64-bit memory; charging
    /// `budget` (that of the running host call) for copies.
    pub(crate) fn with_budget(data: &'a mut [u8], is_64: bool, budget: Option<&'a CopyBudget>) -> Self {
        MemoryViewMut {
            base: data.as_mut_ptr(),
            len: data.len(),
            is_64,
            budget,
            registry: Registry::default(),
            _marker: PhantomData,
        }
    }

    /// True if the memory is 64-bit (memory64): typed access takes
    /// [`WasmPtr<T, Memory64>`](crate::access::WasmPtr).
    pub fn is_64(&self) -> bool {
        self.is_64
    }

    /// Size of the memory in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a memory of size 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn slice(&self, range: Range<usize>) -> &[u8] {
        debug_assert!(range.end <= self.len);
        // SAFETY: `range` was bounds-checked against `len`, so it lies inside the
        // allocation `base` is valid for (invariant). Callers either hold `&mut self` (no
        // guard can be live) or cover the returned borrow with a registered region.
        unsafe { std::slice::from_raw_parts(self.base.add(range.start), range.len()) }
    }

    #[expect(clippy::mut_from_ref, reason = "exclusivity is enforced by the region registry")]
    fn slice_mut_unchecked(&self, range: Range<usize>) -> &mut [u8] {
        debug_assert!(range.end <= self.len);
        // SAFETY: `range` is inside the allocation (bounds-checked by the caller). The
        // caller registered `range` as a mutable region (so no other live reference
        // overlaps it and none will be created while it is registered), or holds
        // `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.base.add(range.start), range.len()) }
    }

    /// A shared view of the whole memory, for as long as this view is borrowed
    /// exclusively (no guard can be taken meanwhile).
    pub fn as_view(&mut self) -> MemoryView<'_> {
        MemoryView { data: self.slice(0..self.len), is_64: self.is_64, budget: self.budget }
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    ///
    /// # Errors
    ///
    /// Out of bounds, [`AccessError::BorrowConflict`] if the range overlaps a live
    /// mutable guard, or [`AccessError::CopyBudgetExceeded`].
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), AccessError> {
        let len = buf.len() as u64;
        self.with_bytes(offset, len, len, |bytes| buf.copy_from_slice(bytes))
    }

    /// Borrows `len` bytes at `offset` (exclusively borrows the view meanwhile).
    ///
    /// # Errors
    ///
    /// Out of bounds.
    pub fn bytes(&mut self, offset: u64, len: u64) -> Result<&[u8], AccessError> {
        let range = check_range(offset, len, self.len)?;
        Ok(self.slice(range))
    }

    /// Borrows `len` bytes at `offset` mutably.
    ///
    /// # Errors
    ///
    /// Out of bounds.
    pub fn bytes_mut(&mut self, offset: u64, len: u64) -> Result<&mut [u8], AccessError> {
        let range = check_range(offset, len, self.len)?;
        Ok(self.slice_mut_unchecked(range))
    }

    /// Copies `buf` into memory at `offset`.
    ///
    /// # Errors
    ///
    /// Out of bounds, or [`AccessError::CopyBudgetExceeded`]; memory is then unchanged.
    pub fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), AccessError> {
        let len = buf.len() as u64;
        self.with_bytes_mut(offset, len, len, |bytes| bytes.copy_from_slice(buf))
    }

    fn typed_range<T: ZeroCopy, M: MemoryIndex>(&self, slice: WasmSlice<T, M>) -> Result<Range<usize>, AccessError> {
        check_index::<M>(self.is_64)?;
        let range = check_range(slice.ptr().address(), slice.len_bytes(), self.len)?;
        let align = std::mem::align_of::<T>();
        if !(self.base as usize + range.start).is_multiple_of(align) {
            return Err(AccessError::Misaligned { address: slice.ptr().address(), align: align as u32 });
        }
        Ok(range)
    }

    /// Borrows a region as `&[T]` in place, until the guard is dropped. Shared regions
    /// may overlap each other, not a mutable one.
    ///
    /// # Errors
    ///
    /// Out of bounds, [`AccessError::Misaligned`] if the address is not aligned for `T`
    /// on the host, [`AccessError::BorrowConflict`], or [`AccessError::IndexTypeMismatch`]
    /// if `M` is not the memory's index type.
    pub fn borrow<T: ZeroCopy, M: MemoryIndex>(&self, slice: WasmSlice<T, M>) -> Result<Guard<'_, T>, AccessError> {
        let range = self.typed_range(slice)?;
        let region = Region { range: range.clone(), mutable: false };
        self.registry.acquire(region.clone())?;
        let items: Result<&[T], _> = bytemuck::try_cast_slice(self.slice(range));
        match items {
            Ok(items) => Ok(Guard { items, registry: &self.registry, region }),
            Err(_) => {
                self.registry.release(&region);
                Err(AccessError::Misaligned { address: slice.ptr().address(), align: std::mem::align_of::<T>() as u32 })
            }
        }
    }

    /// Borrows a region as `&mut [T]` in place, until the guard is dropped. It may not
    /// overlap any other live guard.
    ///
    /// # Errors
    ///
    /// As [`MemoryViewMut::borrow`].
    pub fn borrow_mut<T: ZeroCopy, M: MemoryIndex>(
        &self,
        slice: WasmSlice<T, M>,
    ) -> Result<GuardMut<'_, T>, AccessError> {
        let range = self.typed_range(slice)?;
        let region = Region { range: range.clone(), mutable: true };
        self.registry.acquire(region.clone())?;
        let items: Result<&mut [T], _> = bytemuck::try_cast_slice_mut(self.slice_mut_unchecked(range));
        match items {
            Ok(items) => Ok(GuardMut { items, registry: &self.registry, region }),
            Err(_) => {
                self.registry.release(&region);
                Err(AccessError::Misaligned { address: slice.ptr().address(), align: std::mem::align_of::<T>() as u32 })
            }
        }
    }

    /// Borrows `N` regions mutably at once (like `split_at_mut`): all or nothing.
    ///
    /// # Errors
    ///
    /// As [`MemoryViewMut::borrow_mut`], if any region fails or two of them overlap; no
    /// guard is then held.
    pub fn borrow_many_mut<T: ZeroCopy, M: MemoryIndex, const N: usize>(
        &self,
        slices: [WasmSlice<T, M>; N],
    ) -> Result<[GuardMut<'_, T>; N], AccessError> {
        let mut guards = Vec::with_capacity(N);
        for s in slices {
            guards.push(self.borrow_mut(s)?);
        }
        guards.try_into().map_err(|_| AccessError::LengthMismatch { expected: N as u64, actual: 0 })
    }
}

impl sealed::Sealed for MemoryViewMut<'_> {}

impl GuestRead for MemoryViewMut<'_> {
    fn len_bytes(&self) -> u64 {
        self.len as u64
    }

    fn is_64(&self) -> bool {
        self.is_64
    }

    fn with_bytes<R>(&self, address: u64, len: u64, cost: u64, f: impl FnOnce(&[u8]) -> R) -> Result<R, AccessError> {
        let range = check_range(address, len, self.len)?;
        // Cover the borrow with a shared region while `f` runs, so `f` cannot take an
        // overlapping mutable guard through a captured `&self`.
        let region = Region { range: range.clone(), mutable: false };
        self.registry.acquire(region.clone())?;
        if let Err(e) = charge(self.budget, cost) {
            self.registry.release(&region);
            return Err(e);
        }
        let result = f(self.slice(range));
        self.registry.release(&region);
        Ok(result)
    }
}

impl GuestWrite for MemoryViewMut<'_> {
    fn with_bytes_mut<R>(
        &mut self,
        address: u64,
        len: u64,
        cost: u64,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, AccessError> {
        let range = check_range(address, len, self.len)?;
        charge(self.budget, cost)?;
        Ok(f(self.slice_mut_unchecked(range)))
    }
}

/// A shared zero-copy borrow of guest memory taken with [`MemoryViewMut::borrow`].
pub struct Guard<'v, T> {
    items: &'v [T],
    registry: &'v Registry,
    region: Region,
}

impl<T> Deref for Guard<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.items
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        self.registry.release(&self.region);
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Guard<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.items.fmt(f)
    }
}

/// A mutable zero-copy borrow of guest memory taken with [`MemoryViewMut::borrow_mut`].
pub struct GuardMut<'v, T> {
    items: &'v mut [T],
    registry: &'v Registry,
    region: Region,
}

impl<T> Deref for GuardMut<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.items
    }
}

impl<T> DerefMut for GuardMut<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.items
    }
}

impl<T> Drop for GuardMut<'_, T> {
    fn drop(&mut self) {
        self.registry.release(&self.region);
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for GuardMut<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.items.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::WasmPtr;

    fn s(addr: u32, len: u32) -> WasmSlice<u8> {
        WasmSlice::new(WasmPtr::new(addr), len)
    }

    #[test]
    fn shared_guards_overlap_mutable_ones_do_not() {
        let mut mem = vec![0u8; 64];
        let view = MemoryViewMut::new(&mut mem);
        let a = view.borrow(s(0, 16)).unwrap();
        let b = view.borrow(s(8, 16)).unwrap();
        assert!(matches!(view.borrow_mut(s(12, 2)), Err(AccessError::BorrowConflict { .. })));
        let mut c = view.borrow_mut(s(32, 8)).unwrap();
        c.fill(7);
        assert!(matches!(view.borrow(s(39, 4)), Err(AccessError::BorrowConflict { .. })));
        let mut buf = [0u8; 2];
        assert!(view.read(38, &mut buf).is_err(), "reads may not alias a mutable guard");
        assert_eq!(a.len() + b.len(), 32);
        drop(c);
        view.read(38, &mut buf).unwrap();
        assert_eq!(buf, [7, 7]);
        drop((a, b));
        let mut d = view.borrow_mut(s(0, 64)).unwrap();
        d[0] = 1;
        drop(d);
        assert_eq!(mem[0], 1);
        assert_eq!(mem[32..40], [7; 8]);
    }

    #[test]
    fn many_disjoint_mutable_guards_at_once() {
        let mut mem = vec![0u8; 32];
        let view = MemoryViewMut::new(&mut mem);
        let [mut x, mut y] = view.borrow_many_mut([s(0, 4), s(4, 4)]).unwrap();
        x.copy_from_slice(b"abcd");
        y.copy_from_slice(&x);
        drop((x, y));
        assert!(view.borrow_many_mut([s(0, 4), s(3, 4)]).is_err());
        // The failed call released what it had taken.
        assert!(view.borrow_mut(s(0, 8)).is_ok());
        drop(view);
        assert_eq!(&mem[..8], b"abcdabcd");
    }

    #[test]
    fn typed_guards_check_alignment_and_bounds() {
        let mut store = crate::Store::new(&crate::Engine::default(), ());
        let memory = crate::Memory::new(&mut store, crate::MemoryType::new(1, None)).unwrap();
        let view = memory.view_mut(&mut store);
        let ok = view.borrow_mut(WasmSlice::new(WasmPtr::<u32>::new(8), 4));
        assert!(ok.is_ok());
        drop(ok);
        assert!(matches!(view.borrow(WasmSlice::new(WasmPtr::<u32>::new(2), 4)), Err(AccessError::Misaligned { .. })));
        assert!(matches!(
            view.borrow(WasmSlice::new(WasmPtr::<u32>::new(65_532), 2)),
            Err(AccessError::OutOfBounds { .. })
        ));
        assert!(matches!(view.borrow(s(u32::MAX, u32::MAX)), Err(AccessError::OutOfBounds { .. })));
    }

    #[test]
    fn typed_reads_and_writes_through_both_views() {
        let mut mem = vec![0u8; 16];
        let mut view = MemoryViewMut::new(&mut mem);
        WasmPtr::<u32>::new(1).write(&mut view, 0xAABB_CCDD).unwrap();
        assert_eq!(WasmPtr::<u32>::new(1).read(&view).unwrap(), 0xAABB_CCDD);
        assert!(WasmPtr::<u64>::new(9).read(&view).is_err());
        assert!(WasmPtr::<u64>::new(9).write(&mut view, 1).is_err());
        let shared = view.as_view();
        assert_eq!(shared.bytes(1, 4).unwrap(), &[0xDD, 0xCC, 0xBB, 0xAA]);
        drop(view);
        let view = MemoryView::new(&mem);
        assert_eq!(WasmSlice::new(WasmPtr::<u8>::new(1), 2).read_to_vec(&view).unwrap(), vec![0xDD, 0xCC]);
    }

    #[test]
    fn strings() {
        let mut mem = b"hello\0w\xFFrld\0".to_vec();
        mem.extend_from_slice(&[b'x'; 8]);
        let view = MemoryView::new(&mem);
        let p = WasmPtr::<u8>::new(0);
        assert_eq!(p.read_utf8(&view, 5).unwrap(), "hello");
        assert_eq!(p.read_cstr(&view, 100).unwrap(), "hello");
        assert!(matches!(p.read_cstr(&view, 3), Err(AccessError::Unterminated { .. })));
        assert_eq!(p.read_cstr(&view, 5).unwrap(), "hello");
        let q = WasmPtr::<u8>::new(6);
        assert!(matches!(q.read_cstr(&view, 100), Err(AccessError::InvalidUtf8 { .. })));
        assert!(matches!(WasmPtr::<u8>::new(13).read_cstr(&view, 100), Err(AccessError::Unterminated { .. })));
        assert!(WasmPtr::<u8>::new(u32::MAX).read_cstr(&view, u32::MAX).is_err());
        assert!(WasmPtr::<u8>::new(3).read_utf8(&view, u32::MAX).is_err());
    }
}
