//! [`SharedMemory`]: a linear memory of the threads proposal, shared between threads.
//!
//! A shared memory is not owned by a store: it is an `Arc` around a
//! [`SharedStorage`], `Send + Sync + Clone`, usable from any number of threads at once.
//! How host access stays sound while other threads (and, later, wasm code) write to it:
//!
//! - **Concurrent writes**: every byte is read and written through atomics, and no
//!   reference to the bytes (`&[u8]`, `&mut [u8]`, `&str`, a guard) is ever handed out.
//!   Host code copies in and out ([`SharedMemoryView::read`] / [`SharedMemoryView::write`],
//!   typed [`WasmPtr::read`](crate::WasmPtr::read) / [`write`](crate::WasmPtr::write)), or
//!   uses the atomic helpers below.
//! - **Concurrent growth**: the memory is allocated at its maximum size when created (the
//!   system commits pages lazily), so growth never moves it; growth is serialized and
//!   publishes the new length with `Release`, and every access loads it with `Acquire`.
//! - **Borrowing**: there is nothing to borrow. [`SharedMemoryView`] implements the
//!   copying traits [`GuestRead`](crate::access::GuestRead) and
//!   [`GuestWrite`](crate::access::GuestWrite), never the borrowing
//!   [`GuestBytes`](crate::access::GuestBytes), so `read_utf8`, `read_cstr`, `borrow` and
//!   `borrow_mut` do not compile with it (see [`SharedMemoryView`]).
//!
//! [`SharedStorage`]: super::shared::SharedStorage

use std::sync::Arc;
use std::time::Duration;

use super::shared::{AtomicRmwOp, SharedStorage, WaitResult};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::types::{MAX_PAGES_32, MemoryType, WASM_PAGE_SIZE};

/// The largest reservation (maximum size in bytes) [`SharedMemory::new`] accepts: 4 GiB
/// (the whole 32-bit space) on 64-bit hosts, 1 GiB on others. Use
/// [`SharedMemory::with_reservation_limit`] for another cap.
pub const DEFAULT_SHARED_RESERVATION_BYTES: u64 =
    if usize::BITS >= 64 { MAX_PAGES_32 * WASM_PAGE_SIZE } else { 1 << 30 };

/// A shared linear memory (threads proposal): preallocated to its maximum, so growth never
/// moves it; `Send + Sync`; cloning gives another handle to the same memory. Host access
/// is by atomic copy-in/copy-out only ([`SharedMemory::view`]) and atomic operations;
/// nothing is ever borrowed.
///
/// ```
/// use std::time::Duration;
/// use wasmguard::{Engine, MemoryType, SharedMemory, WaitResult, WasmPtr};
/// # fn main() -> wasmguard::Result<()> {
/// let memory = SharedMemory::new(&Engine::default(), MemoryType::shared(1, 2))?;
/// std::thread::scope(|s| {
///     let waiter = s.spawn(|| memory.atomic_wait32(0, 0, None));
///     // Publish a value, then wake the waiter (it may not have parked yet: then it sees
///     // the new value and returns `NotEqual`).
///     let mut view = memory.view();
///     WasmPtr::<u64>::new(8).write(&mut view, 0xDEAD_BEEF).unwrap();
///     memory.atomic_store32(0, 1).unwrap();
///     while memory.atomic_notify(0, 1).unwrap() == 0 && !waiter.is_finished() {
///         std::thread::yield_now();
///     }
///     let woken = waiter.join().unwrap().unwrap();
///     assert!(matches!(woken, WaitResult::Ok | WaitResult::NotEqual));
/// });
/// assert_eq!(WasmPtr::<u64>::new(8).read(&memory.view())?, 0xDEAD_BEEF);
/// assert_eq!(memory.grow(1)?, 1);
/// assert!(memory.grow(1).is_err(), "beyond the maximum");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SharedMemory {
    inner: Arc<Inner>,
}

struct Inner {
    ty: MemoryType,
    storage: SharedStorage,
}

impl std::fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemory").field("ty", &self.inner.ty).field("storage", &self.inner.storage).finish()
    }
}

impl SharedMemory {
    /// A shared memory of the type's minimum size, reserving its maximum, at most
    /// [`DEFAULT_SHARED_RESERVATION_BYTES`].
    ///
    /// # Errors
    ///
    /// The type is not shared or has no maximum, minimum > maximum, the maximum is beyond
    /// the index type's address space or the reservation cap, the engine's configuration
    /// disables the threads proposal, or the allocation fails.
    pub fn new(engine: &Engine, ty: MemoryType) -> Result<SharedMemory> {
        SharedMemory::with_reservation_limit(engine, ty, DEFAULT_SHARED_RESERVATION_BYTES)
    }

    /// As [`SharedMemory::new`], refusing a maximum of more than `max_bytes` bytes.
    ///
    /// # Errors
    ///
    /// As [`SharedMemory::new`].
    pub fn with_reservation_limit(engine: &Engine, ty: MemoryType, max_bytes: u64) -> Result<SharedMemory> {
        if !engine.config().threads {
            return Err(crate::ErrorKind::Unsupported("shared memories (threads proposal disabled)".into()).into());
        }
        if !ty.is_shared() {
            return Err(Error::msg("SharedMemory::new needs a shared memory type (MemoryType::shared)"));
        }
        let Some(max_pages) = ty.maximum() else {
            return Err(Error::msg("a shared memory needs a maximum size"));
        };
        if ty.minimum() > max_pages {
            return Err(Error::msg(format!(
                "invalid memory type: minimum {} pages exceeds maximum {max_pages}",
                ty.minimum()
            )));
        }
        if !matches!(ty.page_size_log2(), 0 | 16) {
            return Err(Error::msg(format!("invalid memory type: page size 2^{}", ty.page_size_log2())));
        }
        if max_pages > ty.page_limit() {
            return Err(Error::msg(format!(
                "invalid memory type: maximum {max_pages} pages exceeds the address space"
            )));
        }
        let max = max_pages.checked_mul(ty.page_size()).filter(|&b| b <= max_bytes).ok_or_else(|| {
            Error::limit(format!(
                "shared memory maximum of {max_pages} pages exceeds the reservation limit of {max_bytes} bytes"
            ))
        })?;
        let too_big = || Error::limit("shared memory larger than the host address space");
        let cap = usize::try_from(max).map_err(|_| too_big())?;
        let len = usize::try_from(ty.minimum() * ty.page_size()).map_err(|_| too_big())?;
        let storage = SharedStorage::new(len, cap)
            .ok_or_else(|| Error::limit(format!("could not reserve a shared memory of {max} bytes")))?;
        Ok(SharedMemory { inner: Arc::new(Inner { ty, storage }) })
    }

    /// The memory's type.
    pub fn ty(&self) -> MemoryType {
        self.inner.ty
    }

    /// Current size in pages.
    pub fn size(&self) -> u64 {
        self.data_size() as u64 / self.inner.ty.page_size()
    }

    /// Current size in bytes. Another thread may grow the memory at any time, so this is
    /// a lower bound by the time it is used; it never decreases.
    pub fn data_size(&self) -> usize {
        self.inner.storage.len_bytes()
    }

    /// Grows the memory by `delta_pages` pages (zeroed) and returns the old size in pages.
    /// The base address does not change; other threads see the new size at once.
    ///
    /// # Errors
    ///
    /// The new size would exceed the maximum; nothing changes then.
    pub fn grow(&self, delta_pages: u64) -> Result<u64> {
        let page = self.inner.ty.page_size();
        let max_pages = self.inner.storage.cap_bytes() as u64 / page;
        let old = self.inner.storage.grow_to(|old_bytes| {
            let pages = (old_bytes as u64 / page).checked_add(delta_pages).filter(|&p| p <= max_pages)?;
            usize::try_from(pages * page).ok()
        });
        old.map(|bytes| bytes as u64 / page).ok_or_else(|| {
            Error::limit(format!("failed to grow shared memory by {delta_pages} pages (maximum {max_pages})"))
        })
    }

    /// True if both handles are the same memory.
    pub fn same(a: &SharedMemory, b: &SharedMemory) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The address of the first byte on the host, for diagnostics and for checking that
    /// growth does not move the memory. It never changes. Not a way to access the bytes:
    /// they may only be accessed atomically.
    #[doc(hidden)]
    pub fn base_address(&self) -> usize {
        self.inner.storage.base_addr()
    }

    /// Number of threads parked in [`atomic_wait32`](Self::atomic_wait32) /
    /// [`atomic_wait64`](Self::atomic_wait64) on `addr` right now (for tests).
    #[doc(hidden)]
    pub fn waiter_count(&self, addr: u64) -> usize {
        self.inner.storage.waiters(addr)
    }

    /// The storage, for the interpreter.
    pub(crate) fn storage(&self) -> &SharedStorage {
        &self.inner.storage
    }

    /// `memory.atomic.notify`: wakes up to `count` threads waiting on `addr` (oldest
    /// first) and returns how many were woken.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 4, or out of bounds.
    pub fn atomic_notify(&self, addr: u64, count: u32) -> Result<u32> {
        Ok(self.inner.storage.notify(addr, count)?)
    }

    /// `memory.atomic.wait32`: if the `u32` at `addr` equals `expected`, blocks until
    /// notified or until `timeout` expires (`None`: forever).
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 4, or out of bounds.
    pub fn atomic_wait32(&self, addr: u64, expected: u32, timeout: Option<Duration>) -> Result<WaitResult> {
        Ok(self.inner.storage.wait(addr, 4, u64::from(expected), timeout)?)
    }

    /// `memory.atomic.wait64`: as [`atomic_wait32`](Self::atomic_wait32) for the `u64` at
    /// `addr`.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 8, or out of bounds.
    pub fn atomic_wait64(&self, addr: u64, expected: u64, timeout: Option<Duration>) -> Result<WaitResult> {
        Ok(self.inner.storage.wait(addr, 8, expected, timeout)?)
    }

    /// Atomically loads the `u32` at `addr` (`SeqCst`).
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 4, or out of bounds.
    pub fn atomic_load32(&self, addr: u64) -> Result<u32> {
        Ok(self.atomic_load(addr, 4)? as u32)
    }

    /// Atomically loads the `u64` at `addr` (`SeqCst`).
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 8, or out of bounds.
    pub fn atomic_load64(&self, addr: u64) -> Result<u64> {
        self.atomic_load(addr, 8)
    }

    /// Atomically stores `value` at `addr` (`SeqCst`).
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 4, or out of bounds.
    pub fn atomic_store32(&self, addr: u64, value: u32) -> Result<()> {
        self.atomic_store(addr, 4, u64::from(value))
    }

    /// Atomically stores `value` at `addr` (`SeqCst`).
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 8, or out of bounds.
    pub fn atomic_store64(&self, addr: u64, value: u64) -> Result<()> {
        self.atomic_store(addr, 8, value)
    }

    fn atomic_load(&self, addr: u64, width: u8) -> Result<u64> {
        SharedStorage::aligned(addr, width)?;
        Ok(self.inner.storage.load(addr, width)?)
    }

    fn atomic_store(&self, addr: u64, width: u8, value: u64) -> Result<()> {
        SharedStorage::aligned(addr, width)?;
        Ok(self.inner.storage.store(addr, width, value)?)
    }

    /// Atomic read-modify-write of the `u32` at `addr`; returns the old value.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 4, or out of bounds.
    pub fn atomic_rmw32(&self, op: AtomicRmwOp, addr: u64, value: u32) -> Result<u32> {
        Ok(self.inner.storage.rmw(op, addr, 4, u64::from(value))? as u32)
    }

    /// Atomic read-modify-write of the `u64` at `addr`; returns the old value.
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 8, or out of bounds.
    pub fn atomic_rmw64(&self, op: AtomicRmwOp, addr: u64, value: u64) -> Result<u64> {
        Ok(self.inner.storage.rmw(op, addr, 8, value)?)
    }

    /// Atomic compare-and-exchange of the `u32` at `addr`: stores `replacement` if it
    /// holds `expected`. Returns the old value (equal to `expected` on success).
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 4, or out of bounds.
    pub fn atomic_cmpxchg32(&self, addr: u64, expected: u32, replacement: u32) -> Result<u32> {
        Ok(self.inner.storage.cmpxchg(addr, 4, u64::from(expected), u64::from(replacement))? as u32)
    }

    /// Atomic compare-and-exchange of the `u64` at `addr`, as
    /// [`atomic_cmpxchg32`](Self::atomic_cmpxchg32).
    ///
    /// # Errors
    ///
    /// [`AccessError::Misaligned`](crate::AccessError::Misaligned) if `addr` is not a multiple of 8, or out of bounds.
    pub fn atomic_cmpxchg64(&self, addr: u64, expected: u64, replacement: u64) -> Result<u64> {
        Ok(self.inner.storage.cmpxchg(addr, 8, expected, replacement)?)
    }
}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<SharedMemory>();
};
