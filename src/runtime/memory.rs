//! Linear memories: [`Memory`] (the handle) and the store-side entity.

use crate::error::{Error, Result};
use crate::exec::state::{CopyBudget, MemoryEntity, StoreInner, Stored};
use crate::linear::{AccessError, check_range};
use crate::store::{AsContext, AsContextMut};
use crate::types::MemoryType;

/// A WebAssembly linear memory: a handle, used together with the store that owns it.
///
/// ```
/// use wasmguard::{Engine, Memory, MemoryType, Store};
/// # fn main() -> wasmguard::Result<()> {
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, ());
/// let memory = Memory::new(&mut store, MemoryType::new(1, Some(3)))?;
/// assert_eq!(memory.size(&store), 1);
/// memory.write(&mut store, 0x10, b"hello")?;
/// assert_eq!(&memory.data(&store)[0x10..0x15], b"hello");
/// assert_eq!(memory.grow(&mut store, 2)?, 1);
/// assert!(memory.grow(&mut store, 1).is_err(), "past the maximum");
/// # Ok(()) }
/// ```
///
/// # What the borrow checker rules out
///
/// The classic raw `data_unchecked` examples of other runtimes are unsafe because a slice of
/// guest memory could outlive a `grow` or a wasm call (which may move or change the bytes)
/// or alias another mutable slice. With the safe API each of these is a compile error.
///
/// A slice held across growth:
///
/// ```compile_fail
/// # use wasmguard::{Engine, Memory, MemoryType, Store};
/// # let mut store = Store::new(&Engine::default(), ());
/// # let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
/// let bytes = memory.data(&store);
/// memory.grow(&mut store, 1).unwrap(); // error: `store` is already borrowed
/// println!("{}", bytes[0]);
/// ```
///
/// A slice held across a wasm call:
///
/// ```compile_fail
/// # use wasmguard::{Engine, Instance, Module, Store};
/// # let engine = Engine::default();
/// # let module = Module::new(&engine, r#"(module (memory (export "m") 1) (func (export "f")))"#).unwrap();
/// # let mut store = Store::new(&engine, ());
/// # let instance = Instance::new(&mut store, &module, &[]).unwrap();
/// let memory = instance.get_memory(&mut store, "m").unwrap();
/// let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
/// let view = memory.view(&store);
/// f.call(&mut store, ()).unwrap(); // error: `store` is borrowed by `view`
/// println!("{:?}", view.bytes(0, 4));
/// ```
///
/// Two mutable slices of the same memory:
///
/// ```compile_fail
/// # use wasmguard::{Engine, Memory, MemoryType, Store};
/// # let mut store = Store::new(&Engine::default(), ());
/// # let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
/// let a = memory.data_mut(&mut store);
/// let b = memory.data_mut(&mut store); // error: second mutable borrow
/// a[0] = b[0];
/// ```
///
/// Overlapping regions within one exclusive view are checked at run time instead, see
/// [`MemoryViewMut`](crate::access::MemoryViewMut).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory(pub(crate) Stored);

impl Memory {
    /// Creates a memory of `ty.minimum()` zeroed pages in the store.
    ///
    /// # Errors
    ///
    /// If the type is not supported, exceeds the store's limits, or the host cannot
    /// allocate it. A shared type is refused: shared memories are created with
    /// [`SharedMemory::new`](crate::SharedMemory::new) and never lend bytes, which a `Memory` does.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        if ty.is_shared() {
            return Err(Error::msg("a shared memory type needs SharedMemory::new, not Memory::new"));
        }
        let inner = &mut store.as_context_mut().0.inner;
        Memory::new_in(inner, ty)
    }

    pub(crate) fn new_in(inner: &mut StoreInner, ty: MemoryType) -> Result<Memory> {
        if inner.memories.len() >= inner.limits.memories {
            return Err(Error::limit("too many memories in the store"));
        }
        let entity = MemoryEntity::new(&inner.engine, ty, &inner.limits)?;
        inner.memories.push(entity);
        Ok(Memory(inner.stored(inner.memories.len() - 1)))
    }

    pub(crate) fn entity<'a>(&self, inner: &'a StoreInner) -> &'a MemoryEntity {
        &inner.memories[inner.index(self.0)]
    }

    pub(crate) fn entity_mut<'a>(&self, inner: &'a mut StoreInner) -> &'a mut MemoryEntity {
        let i = inner.index(self.0);
        &mut inner.memories[i]
    }

    /// The memory's state, and the copy budget of the running host call (if any).
    pub(crate) fn entity_mut_and_budget<'a>(
        &self,
        inner: &'a mut StoreInner,
    ) -> (&'a mut MemoryEntity, Option<&'a CopyBudget>) {
        let i = inner.index(self.0);
        (&mut inner.memories[i], inner.copy_budget.active())
    }

    /// The memory's type; its minimum is the current size.
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let e = self.entity(&store.as_context().0.inner);
        MemoryType::from_parts(e.size_pages(), e.ty.maximum(), e.ty.is_64(), e.ty.is_shared())
            .with_page_size_log2(e.ty.page_size_log2())
    }

    /// The current size in pages (64 KiB each).
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.entity(&store.as_context().0.inner).size_pages()
    }

    /// The current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.entity(&store.as_context().0.inner).storage.len()
    }

    /// Grows the memory by `delta` pages and returns the previous size in pages.
    ///
    /// # Errors
    ///
    /// If the new size would pass the memory's maximum, the store's limits, or what the
    /// host can allocate; the memory is then unchanged.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let inner = &mut store.as_context_mut().0.inner;
        let limits = inner.limits;
        self.entity_mut(inner)
            .grow(delta, &limits)
            .ok_or_else(|| Error::limit(format!("failed to grow memory by {delta} pages")))
    }

    /// The base address of the memory's bytes in host memory.
    ///
    /// On Linux every memory is reserved in virtual memory up to its maximum or 4 GiB, so a
    /// 32-bit memory never moves and the pointer stays the same for the memory's life. A
    /// memory64 growing past 4 GiB moves once, unless the engine reserves memories up to
    /// their maximum ([`Config::reserve_memories`](crate::Config::reserve_memories)); on
    /// other systems, and if the address space ran out, only that setting keeps the pointer
    /// valid across a `grow` (or any wasm call, which may grow). Prefer [`Memory::data`] and
    /// the views.
    pub fn data_ptr(&self, store: impl AsContext) -> *mut u8 {
        self.entity(&store.as_context().0.inner).storage.as_ptr()
    }

    /// The memory's bytes, borrowed from the store: nothing can write, grow or run wasm
    /// while the slice lives.
    pub fn data<'a, T: 'a>(&self, store: impl Into<crate::store::StoreContext<'a, T>>) -> &'a [u8] {
        let ctx = store.into();
        self.entity(&ctx.0.inner).data()
    }

    /// The memory's bytes, mutably borrowed from the store.
    pub fn data_mut<'a, T: 'a>(&self, store: impl Into<crate::store::StoreContextMut<'a, T>>) -> &'a mut [u8] {
        let ctx = store.into();
        self.entity_mut(&mut ctx.0.inner).data_mut()
    }

    /// The memory's bytes and the host state, both mutably borrowed from the store at once
    /// (as wasmtime's method of this name). The typed alternative is
    /// [`view_and_data_mut`](Self::view_and_data_mut).
    pub fn data_and_store_mut<'a, T: 'a>(
        &self,
        store: impl Into<crate::store::StoreContextMut<'a, T>>,
    ) -> (&'a mut [u8], &'a mut T) {
        let (inner, data) = store.into().0.inner_and_data_mut();
        (self.entity_mut(inner).data_mut(), data)
    }

    /// Copies `buf.len()` bytes at `offset` out of the memory.
    ///
    /// # Errors
    ///
    /// [`AccessError`] if the range is not inside the memory.
    pub fn read(&self, store: impl AsContext, offset: usize, buf: &mut [u8]) -> Result<(), AccessError> {
        let ctx = store.as_context();
        let data = self.entity(&ctx.0.inner).data();
        let range = check_range(offset as u64, buf.len() as u64, data.len())?;
        buf.copy_from_slice(&data[range]);
        Ok(())
    }

    /// Copies `buf` into the memory at `offset`.
    ///
    /// # Errors
    ///
    /// [`AccessError`] if the range is not inside the memory.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buf: &[u8]) -> Result<(), AccessError> {
        let ctx = store.as_context_mut();
        let data = self.entity_mut(&mut ctx.0.inner).data_mut();
        let range = check_range(offset as u64, buf.len() as u64, data.len())?;
        data[range].copy_from_slice(buf);
        Ok(())
    }

    /// The memory's bytes, with a lifetime not tied to any borrow: the escape hatch.
    ///
    /// # Safety
    ///
    /// The caller must make sure that, for as long as the returned slice is used:
    /// - the memory is not grown (by [`Memory::grow`] or by wasm code: no wasm call may
    ///   run), since growth may move or free the bytes;
    /// - nothing writes the memory (no wasm call, no [`Memory::data_mut`], no
    ///   `data_unchecked_mut` slice in use);
    /// - the store is not dropped.
    ///
    /// The safe alternatives are [`Memory::data`], [`Memory::read`] and the views.
    pub unsafe fn data_unchecked<'a>(&self, store: impl AsContext) -> &'a [u8] {
        let ctx = store.as_context();
        let storage = &self.entity(&ctx.0.inner).storage;
        let (ptr, len) = (storage.as_ptr(), storage.len());
        // SAFETY: `ptr` is valid for `len` initialised bytes now (storage invariant); the
        // caller guarantees no growth, no write and no drop while the slice is used.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }

    /// The memory's bytes, mutable, with a lifetime not tied to any borrow.
    ///
    /// # Safety
    ///
    /// As [`Memory::data_unchecked`], and in addition the returned slice must be the only
    /// access to the memory while it is used: no other slice from `data`, `data_mut`,
    /// `data_unchecked` or `data_unchecked_mut`, no view, no `read`/`write`.
    pub unsafe fn data_unchecked_mut<'a>(&self, store: impl AsContext) -> &'a mut [u8] {
        let ctx = store.as_context();
        let storage = &self.entity(&ctx.0.inner).storage;
        let (ptr, len) = (storage.as_ptr(), storage.len());
        // SAFETY: the bytes are behind a raw pointer owned by the storage (not inside a
        // reference the store hands out), valid for `len` bytes; the caller guarantees the
        // slice is the only access and that the memory is neither grown nor dropped.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    }
}

impl<'a, T> From<&'a crate::Store<T>> for crate::store::StoreContext<'a, T> {
    fn from(s: &'a crate::Store<T>) -> Self {
        crate::store::StoreContext(s)
    }
}

impl<'a, T> From<&'a mut crate::Store<T>> for crate::store::StoreContext<'a, T> {
    fn from(s: &'a mut crate::Store<T>) -> Self {
        crate::store::StoreContext(s)
    }
}

impl<'a, T> From<&'a mut crate::Store<T>> for crate::store::StoreContextMut<'a, T> {
    fn from(s: &'a mut crate::Store<T>) -> Self {
        crate::store::StoreContextMut(s)
    }
}
