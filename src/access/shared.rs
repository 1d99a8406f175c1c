//! [`SharedMemoryView`]: copy-in/copy-out access to a [`SharedMemory`](crate::SharedMemory).
//!
//! Other threads may write a shared memory at any moment, so no reference into it can be
//! handed out: this view copies, atomically. It implements [`GuestRead`] and
//! [`GuestWrite`] (so [`WasmPtr::read`](crate::WasmPtr::read) /
//! [`write`](crate::WasmPtr::write) and [`WasmSlice::read_to_vec`](crate::WasmSlice::read_to_vec)
//! / [`write_from`](crate::WasmSlice::write_from) accept it), and never
//! [`GuestBytes`](super::GuestBytes), the trait of views that lend `&[u8]`.

use super::view::{GuestRead, GuestWrite, sealed};
use crate::linear::{AccessError, SharedMemory, SharedStorage};

/// Copy-in/copy-out access to a shared memory, from [`SharedMemory::view`](crate::SharedMemory::view).
///
/// Every access is atomic: a naturally aligned value of 1, 2, 4 or 8 bytes (a `u32` at a
/// multiple of 4, say) is read or written by one atomic operation, so it is never torn by
/// a concurrent write; longer or unaligned ranges are copied one atomic 8-byte word at a
/// time, and may mix bytes of concurrent writes. Writes take `&self`: the view lends
/// nothing, so sharing it is harmless.
///
/// ```
/// use wasmguard::{Engine, MemoryType, SharedMemory, WasmPtr, WasmSlice};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let memory = SharedMemory::new(&Engine::default(), MemoryType::shared(1, 1))?;
/// let mut view = memory.view();
/// view.write(16, b"hello")?;
/// assert_eq!(view.read_to_vec(16, 5)?, b"hello");
/// WasmPtr::<u32>::new(4).write(&mut view, 7)?;
/// assert_eq!(WasmSlice::new(WasmPtr::<u32>::new(4), 1).read_to_vec(&view)?, [7]);
/// # Ok(()) }
/// ```
///
/// Borrowing the bytes does not compile, since another thread could change them while
/// borrowed:
///
/// ```compile_fail
/// # use wasmguard::{Engine, MemoryType, SharedMemory, WasmPtr};
/// let memory = SharedMemory::new(&Engine::default(), MemoryType::shared(1, 1)).unwrap();
/// let view = memory.view();
/// let text: &str = WasmPtr::<u8>::new(0).read_utf8(&view, 4).unwrap(); // error: GuestBytes
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SharedMemoryView<'a> {
    storage: &'a SharedStorage,
    /// Whether the memory is 64-bit (typed pointers must match its index type).
    is_64: bool,
}

/// Values up to this many bytes are copied through a stack buffer by typed accesses.
const STACK_BUFFER: usize = 64;

impl SharedMemory {
    /// A view for copy-in/copy-out and typed access. It borrows only this handle: any
    /// number of views may exist, in any number of threads.
    pub fn view(&self) -> SharedMemoryView<'_> {
        SharedMemoryView::new(self.storage(), self.ty().is_64())
    }
}

impl<'a> SharedMemoryView<'a> {
    pub(crate) fn new(storage: &'a SharedStorage, is_64: bool) -> Self {
        SharedMemoryView { storage, is_64 }
    }

    /// Current size of the memory in bytes (another thread may grow it at any time; it
    /// never shrinks).
    pub fn len(&self) -> usize {
        self.storage.len_bytes()
    }

    /// True while the memory has size 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`, atomically (see the type's docs).
    ///
    /// # Errors
    ///
    /// [`AccessError::OutOfBounds`] / [`AccessError::Overflow`]; `buf` is then unchanged.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), AccessError> {
        self.storage.read(offset, buf)
    }

    /// Copies `len` bytes at `offset` into a new vector.
    ///
    /// # Errors
    ///
    /// [`AccessError::OutOfBounds`] / [`AccessError::Overflow`].
    pub fn read_to_vec(&self, offset: u64, len: u64) -> Result<Vec<u8>, AccessError> {
        // Check before allocating, so a hostile length cannot exhaust host memory.
        let range = super::check_range(offset, len, self.len())?;
        let mut out = vec![0; range.len()];
        self.storage.read(offset, &mut out)?;
        Ok(out)
    }

    /// Copies `buf` into memory at `offset`, atomically (see the type's docs).
    ///
    /// # Errors
    ///
    /// [`AccessError::OutOfBounds`] / [`AccessError::Overflow`]; memory is then unchanged.
    pub fn write(&self, offset: u64, buf: &[u8]) -> Result<(), AccessError> {
        self.storage.write(offset, buf)
    }

    /// Sets `len` bytes at `offset` to `byte` (as `memory.fill`).
    ///
    /// # Errors
    ///
    /// [`AccessError::OutOfBounds`] / [`AccessError::Overflow`]; memory is then unchanged.
    pub fn fill(&self, offset: u64, byte: u8, len: u64) -> Result<(), AccessError> {
        self.storage.fill(offset, byte, len)
    }

    /// Copies `len` bytes from `src` to `dst`, correct for overlapping ranges (as
    /// `memory.copy`).
    ///
    /// # Errors
    ///
    /// Either range out of bounds; memory is then unchanged.
    pub fn copy_within(&self, dst: u64, src: u64, len: u64) -> Result<(), AccessError> {
        self.storage.copy_within(dst, src, len)
    }

    /// Calls `f` with a copy of `[address, address + len)` in a temporary buffer.
    fn with_copy<R>(&self, address: u64, len: u64, f: impl FnOnce(&mut [u8]) -> R) -> Result<R, AccessError> {
        let range = super::check_range(address, len, self.len())?;
        if range.len() <= STACK_BUFFER {
            let mut buf = [0u8; STACK_BUFFER];
            let buf = &mut buf[..range.len()];
            self.storage.read(address, buf)?;
            Ok(f(buf))
        } else {
            let mut buf = vec![0u8; range.len()];
            self.storage.read(address, &mut buf)?;
            Ok(f(&mut buf))
        }
    }
}

impl sealed::Sealed for SharedMemoryView<'_> {}

impl GuestRead for SharedMemoryView<'_> {
    fn len_bytes(&self) -> u64 {
        self.len() as u64
    }

    fn is_64(&self) -> bool {
        self.is_64
    }

    /// Copies the range out (atomically) and calls `f` with the copy. A shared memory
    /// belongs to no store, so no copy budget applies (`_cost` is ignored).
    fn with_bytes<R>(&self, address: u64, len: u64, _cost: u64, f: impl FnOnce(&[u8]) -> R) -> Result<R, AccessError> {
        self.with_copy(address, len, |bytes| f(bytes))
    }
}

impl GuestWrite for SharedMemoryView<'_> {
    /// Copies the range out, calls `f` on the copy, and copies all of it back in
    /// (atomically, chunk by chunk).
    fn with_bytes_mut<R>(
        &mut self,
        address: u64,
        len: u64,
        _cost: u64,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, AccessError> {
        let storage = self.storage;
        self.with_copy(address, len, |bytes| {
            let result = f(bytes);
            // The range was checked, and memory never shrinks: this cannot fail.
            storage.write(address, bytes).map(|()| result)
        })?
    }
}
