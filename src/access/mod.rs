//! The accessor framework: typed, bounds-checked, borrow-checked access to guest linear
//! memory.
//!
//! - [`MemoryView`] (from [`Memory::view`](crate::Memory::view)) borrows the store shared:
//!   any number of borrowed `&[u8]` / `&str` at once, nothing can write, grow or run wasm
//!   meanwhile.
//! - [`MemoryViewMut`] (from [`Memory::view_mut`](crate::Memory::view_mut)) borrows it
//!   exclusively: reads, writes and overlap-checked guards.
//! - [`SharedMemoryView`] (from [`SharedMemory::view`](crate::SharedMemory::view)) copies
//!   in and out of a shared memory atomically and lends nothing.
//! - [`WasmPtr<T>`] and [`WasmSlice<T>`] are guest addresses that promise nothing; every
//!   access checks bounds with overflow-checked arithmetic and returns an [`AccessError`]
//!   rather than panicking.
//! - [`GuestType`] describes values that live in guest memory (wasm32 layout,
//!   little-endian, validated on read); derive it with `#[derive(GuestType)]`.

mod guest;
mod ptr;
mod shared;
mod slice;
mod view;

pub use crate::linear::AccessError;
pub(crate) use crate::linear::check_range;
#[doc(hidden)]
pub use guest::layout_offsets;
pub use guest::{Field, GuestStruct, GuestType};
pub use ptr::{Memory32, Memory64, MemoryIndex, WasmPtr};
pub use shared::SharedMemoryView;
pub use slice::WasmSlice;
pub use view::{Guard, GuardMut, GuestBytes, GuestRead, GuestWrite, MemoryView, MemoryViewMut, ZeroCopy};
