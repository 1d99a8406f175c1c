//! [`WasmSlice`]: a typed `(pointer, length)` pair into guest memory.

use std::fmt;

use super::guest::{GuestType, copy_cost};
use super::ptr::{Memory32, Memory64, MemoryIndex, WasmPtr};
use super::view::{GuestRead, GuestWrite};
use crate::linear::AccessError;
use crate::runtime::func::WasmTy;
use crate::types::ValType;

/// `len` consecutive `T`s starting at a guest address. Like [`WasmPtr`], it promises
/// nothing until an access checks it.
///
/// As a host-function parameter it is two wasm `i32`s: the pointer, then the length.
pub struct WasmSlice<T, M: MemoryIndex = Memory32> {
    ptr: WasmPtr<T, M>,
    len: u32,
}

impl<T, M: MemoryIndex> Clone for WasmSlice<T, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, M: MemoryIndex> Copy for WasmSlice<T, M> {}

impl<T, M: MemoryIndex> PartialEq for WasmSlice<T, M> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr && self.len == other.len
    }
}

impl<T, M: MemoryIndex> Eq for WasmSlice<T, M> {}

impl<T, M: MemoryIndex> fmt::Debug for WasmSlice<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WasmSlice({:#x}, len {})", self.ptr.address(), self.len)
    }
}

impl<T, M: MemoryIndex> WasmSlice<T, M> {
    /// `len` elements starting at `ptr`.
    pub const fn new(ptr: WasmPtr<T, M>, len: u32) -> Self {
        WasmSlice { ptr, len }
    }

    /// The first element's address.
    pub const fn ptr(&self) -> WasmPtr<T, M> {
        self.ptr
    }

    /// Number of elements.
    pub const fn len(&self) -> u32 {
        self.len
    }

    /// True if there are no elements.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: GuestType, M: MemoryIndex> WasmSlice<T, M> {
    /// Size in bytes (`len * T::SIZE`).
    pub fn len_bytes(&self) -> u64 {
        u64::from(self.len) * u64::from(T::SIZE)
    }

    /// A pointer to element `index`, or `None` if `index >= len` or it overflows.
    pub fn get(&self, index: u32) -> Option<WasmPtr<T, M>> {
        if index >= self.len {
            return None;
        }
        self.ptr.add(index).ok()
    }

    /// Copies all elements out of guest memory.
    ///
    /// # Errors
    ///
    /// Out of bounds (nothing is read), an element with invalid bytes,
    /// [`AccessError::IndexTypeMismatch`] if `M` is not the memory's index type, or
    /// [`AccessError::CopyBudgetExceeded`] if the copy would take the running host call over
    /// its budget (checked before anything is allocated; see
    /// [`StoreLimits::host_copy_bytes`](crate::StoreLimits::host_copy_bytes)).
    pub fn read_to_vec(&self, view: &impl GuestRead) -> Result<Vec<T>, AccessError> {
        super::ptr::check_index::<M>(view.is_64())?;
        let cost = copy_cost::<T>(u64::from(self.len));
        view.with_bytes(self.ptr.address(), self.len_bytes(), cost, |bytes| {
            let mut out = Vec::with_capacity(self.len as usize);
            if T::SIZE == 0 {
                // Zero-sized values occupy no bytes: read each from nothing.
                for _ in 0..self.len {
                    out.push(T::read_from(&[])?);
                }
            } else {
                T::read_many(bytes, &mut out)?;
            }
            Ok(out)
        })?
    }

    /// Copies `values` into guest memory; `values.len()` must equal `self.len()`.
    ///
    /// # Errors
    ///
    /// Out of bounds (nothing is written), [`AccessError::LengthMismatch`],
    /// [`AccessError::IndexTypeMismatch`], or [`AccessError::CopyBudgetExceeded`].
    pub fn write_from(&self, view: &mut impl GuestWrite, values: &[T]) -> Result<(), AccessError> {
        if values.len() as u64 != u64::from(self.len) {
            return Err(AccessError::LengthMismatch { expected: u64::from(self.len), actual: values.len() as u64 });
        }
        super::ptr::check_index::<M>(view.is_64())?;
        let cost = copy_cost::<T>(u64::from(self.len));
        view.with_bytes_mut(self.ptr.address(), self.len_bytes(), cost, |bytes| T::write_many(values, bytes))
    }
}

impl<T: 'static> WasmTy for WasmSlice<T, Memory32> {
    fn val_types() -> &'static [ValType] {
        &[ValType::I32, ValType::I32]
    }

    fn from_slots(slots: &[u64]) -> Self {
        WasmSlice::new(WasmPtr::new(slots[0] as u32), slots[1] as u32)
    }

    fn into_slots(self, slots: &mut [u64]) {
        slots[0] = self.ptr.address();
        slots[1] = u64::from(self.len);
    }
}

/// In a 64-bit memory a slice crosses the boundary as an `i64` address and an `i32` length:
/// a `WasmSlice` counts at most `u32::MAX` elements in either index type, so the length's
/// type says so rather than truncating a wider one.
impl<T: 'static> WasmTy for WasmSlice<T, Memory64> {
    fn val_types() -> &'static [ValType] {
        &[ValType::I64, ValType::I32]
    }

    fn from_slots(slots: &[u64]) -> Self {
        WasmSlice::new(WasmPtr::new64(slots[0]), slots[1] as u32)
    }

    fn into_slots(self, slots: &mut [u64]) {
        slots[0] = self.ptr.address();
        slots[1] = u64::from(self.len);
    }
}
