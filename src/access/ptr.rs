//! [`WasmPtr`]: a typed guest address that promises nothing, checked on every access.

use std::fmt;
use std::marker::PhantomData;

use super::guest::{Field, GuestStruct, GuestType, copy_cost};
use super::slice::WasmSlice;
use super::view::{GuestBytes, GuestRead, GuestWrite};
use crate::linear::AccessError;
use crate::runtime::func::WasmTy;
use crate::types::ValType;

mod sealed {
    pub trait Sealed {}
}

/// The index type of a memory: [`Memory32`] (the default) or [`Memory64`].
pub trait MemoryIndex: sealed::Sealed + Copy + Send + Sync + 'static {
    /// The largest address plus one.
    const ADDRESS_SPACE: u64;
    /// True for [`Memory64`].
    const IS_64: bool;
    /// The marker's name, for error messages.
    const NAME: &'static str;
}

/// The name of the marker of a memory's index type.
pub(crate) fn index_name(is_64: bool) -> &'static str {
    if is_64 { Memory64::NAME } else { Memory32::NAME }
}

/// Refuses typed access through pointers of index type `M` to a memory whose index type
/// is not `M` (`memory_is_64` tells which it is).
#[inline]
pub(crate) fn check_index<M: MemoryIndex>(memory_is_64: bool) -> Result<(), AccessError> {
    if M::IS_64 == memory_is_64 {
        Ok(())
    } else {
        Err(AccessError::IndexTypeMismatch { pointer: M::NAME, memory: index_name(memory_is_64) })
    }
}

/// Marker: a 32-bit memory (addresses are `u32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory32;

/// Marker: a 64-bit memory (memory64 proposal; addresses are `u64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory64;

impl sealed::Sealed for Memory32 {}
impl sealed::Sealed for Memory64 {}

impl MemoryIndex for Memory32 {
    const ADDRESS_SPACE: u64 = 1 << 32;
    const IS_64: bool = false;
    const NAME: &'static str = "Memory32";
}

impl MemoryIndex for Memory64 {
    const ADDRESS_SPACE: u64 = u64::MAX;
    const IS_64: bool = true;
    const NAME: &'static str = "Memory64";
}

/// A guest address of a `T`: a plain `Copy` number that promises nothing. Every access
/// checks bounds with overflow-checked arithmetic, and guest pointers may be unaligned
/// (reads and writes copy).
///
/// As a host-function parameter a `WasmPtr<T>` (`M = Memory32`) is one wasm `i32`,
/// zero-extended; a `WasmPtr<T, Memory64>` is one wasm `i64`.
///
/// The index type `M` must be the memory's: a [`Memory32`] pointer accesses a 32-bit memory,
/// a [`Memory64`] pointer a 64-bit one (see [`MemoryType::new64`](crate::MemoryType::new64)).
/// Mixing them is refused with [`AccessError::IndexTypeMismatch`], never reinterpreted.
///
/// ```
/// use wasmguard::access::WasmPtr;
/// use wasmguard::{Engine, Memory, MemoryType, Store};
/// # fn main() -> wasmguard::Result<()> {
/// let mut store = Store::new(&Engine::default(), ());
/// let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
/// let p: WasmPtr<u32> = WasmPtr::new(0x100);
/// p.write(&mut memory.view_mut(&mut store), 7)?;
/// assert_eq!(p.read(&memory.view(&store))?, 7);
/// // A hostile pointer is an error, never a panic:
/// assert!(WasmPtr::<u64>::new(u32::MAX).read(&memory.view(&store)).is_err());
/// # Ok(()) }
/// ```
///
/// On a 64-bit memory, addresses are `u64`s:
///
/// ```
/// use wasmguard::access::{AccessError, Memory64, WasmPtr, WasmSlice};
/// use wasmguard::{Engine, Memory, MemoryType, Store};
/// # fn main() -> wasmguard::Result<()> {
/// let mut store = Store::new(&Engine::default(), ());
/// let memory = Memory::new(&mut store, MemoryType::new64(1, None))?;
/// let p: WasmPtr<u32, Memory64> = WasmPtr::new64(0x100);
/// p.write(&mut memory.view_mut(&mut store), 7)?;
/// assert_eq!(p.read(&memory.view(&store))?, 7);
/// let s: WasmSlice<u32, Memory64> = p.slice(2);
/// assert_eq!(s.read_to_vec(&memory.view(&store))?, [7, 0]);
/// // Far beyond the memory: an error, never a panic.
/// assert!(WasmPtr::<u32, Memory64>::new64(u64::MAX - 1).read(&memory.view(&store)).is_err());
/// // A 32-bit pointer on a 64-bit memory is refused.
/// let p32: WasmPtr<u32> = WasmPtr::new(0x100);
/// assert_eq!(
///     p32.read(&memory.view(&store)),
///     Err(AccessError::IndexTypeMismatch { pointer: "Memory32", memory: "Memory64" })
/// );
/// # Ok(()) }
/// ```
pub struct WasmPtr<T, M: MemoryIndex = Memory32> {
    addr: u64,
    _marker: PhantomData<(fn() -> T, M)>,
}

impl<T, M: MemoryIndex> Clone for WasmPtr<T, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, M: MemoryIndex> Copy for WasmPtr<T, M> {}

impl<T, M: MemoryIndex> PartialEq for WasmPtr<T, M> {
    fn eq(&self, other: &Self) -> bool {
        self.addr == other.addr
    }
}

impl<T, M: MemoryIndex> Eq for WasmPtr<T, M> {}

impl<T, M: MemoryIndex> std::hash::Hash for WasmPtr<T, M> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.addr.hash(state);
    }
}

impl<T, M: MemoryIndex> fmt::Debug for WasmPtr<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WasmPtr({:#x})", self.addr)
    }
}

impl<T> WasmPtr<T, Memory32> {
    /// A pointer to guest address `offset` of a 32-bit memory.
    pub const fn new(offset: u32) -> Self {
        WasmPtr { addr: offset as u64, _marker: PhantomData }
    }

    /// The guest address.
    pub const fn offset(self) -> u32 {
        self.addr as u32
    }
}

impl<T> WasmPtr<T, Memory64> {
    /// A pointer to guest address `offset` of a 64-bit memory.
    pub const fn new64(offset: u64) -> Self {
        WasmPtr { addr: offset, _marker: PhantomData }
    }

    /// The guest address.
    pub const fn offset64(self) -> u64 {
        self.addr
    }
}

impl<T, M: MemoryIndex> WasmPtr<T, M> {
    /// The null pointer (address 0).
    pub const fn null() -> Self {
        WasmPtr { addr: 0, _marker: PhantomData }
    }

    /// True if the address is 0.
    pub const fn is_null(self) -> bool {
        self.addr == 0
    }

    /// The guest address as a `u64`, whatever the index type.
    pub const fn address(self) -> u64 {
        self.addr
    }

    /// The same address as a pointer to `U`.
    pub const fn cast<U>(self) -> WasmPtr<U, M> {
        WasmPtr { addr: self.addr, _marker: PhantomData }
    }

    /// A slice of `len` elements starting here.
    pub const fn slice(self, len: u32) -> WasmSlice<T, M> {
        WasmSlice::new(self, len)
    }

    fn with_addr(addr: u64) -> Result<Self, AccessError> {
        if addr >= M::ADDRESS_SPACE {
            return Err(AccessError::Overflow { address: addr, len: 0 });
        }
        Ok(WasmPtr { addr, _marker: PhantomData })
    }

    /// Adds `bytes` to the address.
    ///
    /// # Errors
    ///
    /// [`AccessError::Overflow`] if the result leaves the address space.
    pub fn add_bytes(self, bytes: u64) -> Result<Self, AccessError> {
        let addr = self.addr.checked_add(bytes).ok_or(AccessError::Overflow { address: self.addr, len: bytes })?;
        Self::with_addr(addr)
    }
}

impl<T: GuestType, M: MemoryIndex> WasmPtr<T, M> {
    /// The pointer `count` elements further (`count * T::SIZE` bytes).
    ///
    /// # Errors
    ///
    /// [`AccessError::Overflow`] if the address overflows the address space.
    #[expect(clippy::should_implement_trait, reason = "contract name; fallible, unlike `Add::add`")]
    pub fn add(self, count: u32) -> Result<Self, AccessError> {
        self.add_bytes(u64::from(count) * u64::from(T::SIZE))
    }

    /// Copies the value out of guest memory.
    ///
    /// # Errors
    ///
    /// Out of bounds, invalid bytes for `T` (see [`GuestType::read_from`]),
    /// [`AccessError::IndexTypeMismatch`] if `M` is not the memory's index type, or
    /// [`AccessError::CopyBudgetExceeded`] during a host call.
    #[inline]
    pub fn read(self, view: &impl GuestRead) -> Result<T, AccessError> {
        check_index::<M>(view.is_64())?;
        view.with_bytes(self.addr, u64::from(T::SIZE), copy_cost::<T>(1), T::read_from)?
    }

    /// Copies the value into guest memory.
    ///
    /// # Errors
    ///
    /// Out of bounds, [`AccessError::IndexTypeMismatch`] if `M` is not the memory's
    /// index type, or [`AccessError::CopyBudgetExceeded`] during a host call.
    #[inline]
    pub fn write(self, view: &mut impl GuestWrite, value: T) -> Result<(), AccessError> {
        check_index::<M>(view.is_64())?;
        view.with_bytes_mut(self.addr, u64::from(T::SIZE), copy_cost::<T>(1), |bytes| value.write_to(bytes))
    }
}

impl<S: GuestStruct, M: MemoryIndex> WasmPtr<S, M> {
    /// A typed pointer to a field of the struct this points to, without hand-written
    /// offsets: `ptr.project(|f| f.x)`.
    ///
    /// # Errors
    ///
    /// [`AccessError::Overflow`] if the field's address overflows.
    pub fn project<F>(self, pick: impl FnOnce(&S::Fields) -> Field<S, F>) -> Result<WasmPtr<F, M>, AccessError> {
        let field = pick(&S::FIELDS);
        Ok(self.add_bytes(u64::from(field.offset()))?.cast())
    }
}

impl<M: MemoryIndex> WasmPtr<u8, M> {
    /// Borrows `len` bytes as a string, checked to be UTF-8 (no copy). Takes a
    /// `&MemoryView` (the string lives as long as the view's borrow of the store) or a
    /// `&mut MemoryViewMut`.
    ///
    /// # Errors
    ///
    /// Out of bounds, [`AccessError::InvalidUtf8`], or [`AccessError::IndexTypeMismatch`].
    pub fn read_utf8<'a>(self, view: impl GuestBytes<'a>, len: u32) -> Result<&'a str, AccessError> {
        check_index::<M>(view.memory_is_64())?;
        let bytes = view.guest_bytes(self.addr, u64::from(len))?;
        std::str::from_utf8(bytes).map_err(|_| AccessError::InvalidUtf8 { address: self.addr, len: u64::from(len) })
    }

    /// Borrows a NUL-terminated string of at most `max_len` bytes (terminator not
    /// included), checked to be UTF-8. The terminator is searched at memchr speed.
    ///
    /// # Errors
    ///
    /// Out of bounds, no terminator within `max_len` bytes (or before the end of memory),
    /// invalid UTF-8, or [`AccessError::IndexTypeMismatch`].
    pub fn read_cstr<'a>(self, view: impl GuestBytes<'a>, max_len: u32) -> Result<&'a str, AccessError> {
        check_index::<M>(view.memory_is_64())?;
        let size = view.memory_len() as u64;
        if self.addr > size {
            return Err(AccessError::OutOfBounds { address: self.addr, len: 1, memory_size: size });
        }
        let window = (size - self.addr).min(u64::from(max_len) + 1);
        let bytes = view.guest_bytes(self.addr, window)?;
        let n = memchr::memchr(0, bytes)
            .ok_or(AccessError::Unterminated { address: self.addr, max_len: u64::from(max_len) })?;
        std::str::from_utf8(&bytes[..n]).map_err(|_| AccessError::InvalidUtf8 { address: self.addr, len: n as u64 })
    }
}

impl<T: 'static> GuestType for WasmPtr<T, Memory32> {
    const SIZE: u32 = 4;
    const ALIGN: u32 = 4;

    fn read_from(bytes: &[u8]) -> Result<Self, AccessError> {
        Ok(WasmPtr::new(u32::read_from(bytes)?))
    }

    fn write_to(&self, bytes: &mut [u8]) {
        self.offset().write_to(bytes);
    }
}

impl<T: 'static> GuestType for WasmPtr<T, Memory64> {
    const SIZE: u32 = 8;
    const ALIGN: u32 = 8;

    fn read_from(bytes: &[u8]) -> Result<Self, AccessError> {
        Ok(WasmPtr::new64(u64::read_from(bytes)?))
    }

    fn write_to(&self, bytes: &mut [u8]) {
        self.addr.write_to(bytes);
    }
}

impl<T: 'static> WasmTy for WasmPtr<T, Memory32> {
    fn val_types() -> &'static [ValType] {
        &[ValType::I32]
    }

    fn from_slots(slots: &[u64]) -> Self {
        // Zero-extended: a guest `i32` is an unsigned address.
        WasmPtr::new(slots[0] as u32)
    }

    fn into_slots(self, slots: &mut [u64]) {
        slots[0] = self.addr;
    }
}

impl<T: 'static> WasmTy for WasmPtr<T, Memory64> {
    fn val_types() -> &'static [ValType] {
        &[ValType::I64]
    }

    fn from_slots(slots: &[u64]) -> Self {
        WasmPtr::new64(slots[0])
    }

    fn into_slots(self, slots: &mut [u64]) {
        slots[0] = self.addr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_checked() {
        let p = WasmPtr::<u32>::new(u32::MAX - 3);
        assert_eq!(p.add(1), Err(AccessError::Overflow { address: u64::from(u32::MAX) + 1, len: 0 }));
        assert_eq!(WasmPtr::<u32>::new(8).add(2).unwrap().offset(), 16);
        assert!(WasmPtr::<u8>::null().is_null());
        assert_eq!(WasmPtr::<u64>::new(5).cast::<u8>().offset(), 5);
        assert!(WasmPtr::<u8, Memory64>::new64(u64::MAX).add_bytes(1).is_err());
    }

    #[test]
    fn host_parameter_is_zero_extended() {
        let p = <WasmPtr<u8> as WasmTy>::from_slots(&[0xFFFF_FFFF]);
        assert_eq!(p.offset(), u32::MAX);
        assert_eq!(p.address(), 0xFFFF_FFFF);
    }
}
