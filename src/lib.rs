//! # wasmguard
//!
//! A WebAssembly runtime whose reason to exist is **safe, typed, fast access to guest
//! linear memory from host code**. It carries its own interpreter and linear memory;
//! the embedding API is shaped like wasmtime's.
//!
//! ```
//! use wasmguard::{Engine, Instance, Module, Store};
//! # fn main() -> wasmguard::Result<()> {
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"
//!     (module
//!       (memory (export "mem") 1)
//!       (func (export "add") (param i32 i32) (result i32)
//!         local.get 0 local.get 1 i32.add))
//! "#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Instance::new(&mut store, &module, &[])?;
//! let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
//! assert_eq!(add.call(&mut store, (1, 2))?, 3);
//! let memory = instance.get_memory(&mut store, "mem").expect("exported memory");
//! assert_eq!(memory.size(&store), 1);
//! # Ok(()) }
//! ```
//!
//! # The pieces
//!
//! - [`Engine`] and [`Config`]: the features modules may use (`wasm_simd`,
//!   `wasm_multi_memory`, `wasm_memory64`, `wasm_threads`, `wasm_extended_const`,
//!   `wasm_tail_call`, `wasm_function_references`, `wasm_exceptions`, `wasm_relaxed_simd`, or
//!   exactly 2.0 with [`Config::wasm2`]),
//!   fuel, call-depth and stack limits. The engine also holds the canonical types: equivalent
//!   recursive type groups of any two modules are one [`ConcreteType`].
//! - Types: [`ValType`], and for references [`RefType`] (nullable or not) over a
//!   [`HeapType`] (`func`, `extern`, `exn`, the GC proposal's `any` family, their bottoms, or
//!   a concrete type). Every value
//!   the host hands to wasm ([`Func::call`] arguments, host function results, [`Global::set`],
//!   [`Table::set`]) is checked against the declared type, subtyping included
//!   ([`Val::matches_ty`]): a function of the wrong type is an error, never a later trap.
//! - [`Module`]: decoded and validated once (its functions translated on first call, once for
//!   every instance), instantiated any number of times.
//! - [`Store<T>`](Store): owns every instance, function, memory, table and global, and the
//!   host state `T`; objects are small `Copy` handles used together with their store.
//!   [`StoreLimits`] bounds what guest code may allocate.
//! - [`Linker`] and [`Instance`]: wire imports by name; [`Func::wrap`] / [`Linker::func_wrap`]
//!   turn a Rust closure into a host function, whose first parameter may be a [`Caller`]
//!   (the store, the host state, the calling instance's memories).
//! - [`access`]: typed guest memory ([`MemoryView`], [`MemoryViewMut`], [`WasmPtr`],
//!   [`WasmSlice`], [`GuestType`] and `#[derive(GuestType)]`).
//! - [`wasi`] (feature `wasi`, on by default): WASI preview1, written with the accessor
//!   framework, sandboxed by cap-std.
//! - [`wast`]: the spec-script runner behind `wasmguard wast`.
//! - `fuzzing` (feature `fuzzing`, off by default): the host-call fuzzing harness.
//!
//! # Guest memory, safely
//!
//! The borrow checker enforces the rules that make raw access undefined behaviour
//! elsewhere: a slice of guest memory cannot outlive a `memory.grow` or a wasm call (both
//! need `&mut Store`), and two mutable slices cannot alias.
//!
//! - [`Memory::view`] borrows the store shared: any number of `&[u8]` / `&str` at once
//!   ([`WasmPtr::read_utf8`], [`WasmPtr::read_cstr`], [`MemoryView::bytes`]); nothing writes.
//! - [`Memory::view_mut`] borrows it exclusively: writes, and *guards* ([`MemoryViewMut::borrow`],
//!   [`MemoryViewMut::borrow_mut`], [`MemoryViewMut::borrow_many_mut`]) — several regions
//!   at once, checked for overlap when taken; a conflict is an [`AccessError`], never UB.
//!   While only `&MemoryViewMut` is held, a guard may be writing, so borrowed strings need
//!   `&mut view` (see [`GuestBytes`]).
//! - Zero-copy `&[T]` exists only for [`ZeroCopy`] types (guest and host layouts agree and
//!   every bit pattern is valid); everything else is copied in and out, validated on read
//!   (an invalid `bool` or enum byte is an error).
//! - Every guest pointer and length is checked with overflow-checked arithmetic; a hostile
//!   one is an `Err`, which `?` in a host function turns into an error the embedder sees.
//! - Offsets and lengths: guest addresses are `u64` in views and pointers (they hold 64-bit
//!   memories too); [`WasmSlice`] counts elements in a `u32` (the guest ABI's length);
//!   [`Memory::read`] / [`Memory::write`] take `usize` offsets into the host-side bytes, as
//!   wasmtime's do.
//! - [`SharedMemory`] (threads) is never borrowed: its view copies atomically.
//! - [`Memory::data_unchecked`] (`unsafe`) and [`Memory::data_ptr`] remain as the escape
//!   hatch, for code that takes the aliasing rules on itself.
//!
//! # Errors and untrusted code
//!
//! Traps are values: a failing call returns an [`Error`] whose [`Error::trap_code`] says
//! which trap it was, with a [`WasmBacktrace`] (each frame with the code offset it was
//! at; capped, so a runaway recursion stays small). Calls never recurse on the host stack, so deep wasm recursion is a
//! [`TrapCode::StackOverflow`] trap; fuel ([`Config::consume_fuel`],
//! [`Store::set_fuel`]) bounds execution, and [`StoreLimits`] bounds memories, tables and
//! instances, and what one host call may copy through the typed accessors
//! ([`StoreLimits::host_copy_bytes`]), so a guest-chosen length cannot make a host function
//! allocate or loop without bound. Malformed or invalid modules fail in [`Module::new`] with the decoder's
//! message.
//!
//! A wasm exception that no `try_table` catches is not a trap: the call fails with
//! [`ErrorKind::Exception`], and [`Error::exception`] gives the [`ExnRef`], whose
//! [`tag`](ExnRef::tag) and [`values`](ExnRef::values) the host can read. A host function
//! throws one to the calling wasm code by returning it as its error
//! (`Err(ExnRef::new(&mut caller, tag, &values)?.into())`); exceptions pass through host
//! frames in both directions.
//!
//! # Fuzzing
//!
//! The `fuzzing` feature is for fuzzing the host functions of an embedding against hostile
//! guests: `fuzzing::HostCallHarness` calls a linked host function with hostile arguments
//! and guest memory from a fuzzer's input and checks that it allocates within a budget and
//! leaves the store usable; the guest types implement `arbitrary::Arbitrary`, and
//! `#[guest(arbitrary)]` derives it for derived ones.
//!
//! `fuzz/` holds the crate's own cargo-fuzz targets (decoding, execution, differential
//! against wasmi, memory operations against a model, derived guest types, shared memories,
//! and the WASI host functions through the harness); `fuzz/run.sh SECONDS` runs each for a
//! while. The README lists what each checks.
//!
//! # Layers
//!
//! The modules import only downward: `error`/`types` → `engine` → `linear` (linear-memory
//! storage, [`AccessError`]) → `module` (decoding) → `exec` (translation, lowering,
//! execution, and the store state they work on) → `store` → `runtime` (the public
//! handles) → `access` → `wasi` and `fuzzing`. `tests/layers.rs` enforces it.

// `#[derive(GuestType)]` refers to `::wasmguard::__private`, also from inside this crate
// (the WASI types are derived).
#[allow(unused_extern_crates, reason = "used by derived code, which the lint does not see")]
extern crate self as wasmguard;

pub mod access;
mod engine;
mod error;
mod exec;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod linear;
mod module;
mod runtime;
mod store;
mod types;
#[cfg(feature = "wasi")]
pub mod wasi;
pub mod wast;

pub use access::{
    AccessError, Field, Guard, GuardMut, GuestBytes, GuestRead, GuestStruct, GuestType, GuestWrite, Memory32, Memory64,
    MemoryIndex, MemoryView, MemoryViewMut, SharedMemoryView, WasmPtr, WasmSlice, ZeroCopy,
};
pub use engine::{Config, Engine};
pub use error::{Error, ErrorKind, ExnRef, FrameInfo, Result, TrapCode, WasmBacktrace};
pub use exec::state::{ExternRef, StoreLimits};
pub use linear::{AtomicRmwOp, DEFAULT_SHARED_RESERVATION_BYTES, SharedMemory, WaitResult};
pub use runtime::func::{Func, IntoFunc, TypedFunc, WasmRet, WasmTy, WasmTyList};
pub use runtime::gc::{ArrayRef, EqRef, StructRef};
pub use runtime::global::Global;
pub use runtime::instance::Instance;
pub use runtime::linker::Linker;
pub use runtime::memory::Memory;
pub use runtime::module::Module;
pub use runtime::table::Table;
pub use runtime::tag::Tag;
pub use runtime::v128::V128;
pub use runtime::value::{AnyRef, Export, Extern, Val};
pub use store::{AsContext, AsContextMut, Caller, Store, StoreContext, StoreContextMut};
pub use types::{
    ConcreteType, ExternType, FuncType, GlobalType, HeapType, I31, MemoryType, Mutability, RefType, TableType, TagType,
    ValType, WASM_PAGE_SIZE,
};
/// `#[derive(GuestType)]` for `#[repr(C)]` structs (named, tuple or unit; `align(N)` allowed),
/// field-less enums with an integer repr (`u8`..`u64`, `i8`..`i64`), and enums with fields
/// as C tagged unions (`#[repr(C, u8)]`).
pub use wasmguard_derive::GuestType;

/// Items used by code generated by `#[derive(GuestType)]`; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::access::{AccessError, Field, GuestStruct, GuestType, layout_offsets};
    #[cfg(feature = "fuzzing")]
    pub use arbitrary;
    pub use core::result::Result;

    /// The `Arbitrary` impl of `#[guest(arbitrary)]`: emitted with the `fuzzing` feature,
    /// an error saying so without it.
    #[cfg(feature = "fuzzing")]
    #[macro_export]
    #[doc(hidden)]
    macro_rules! __derive_arbitrary {
        ($($item:tt)*) => { $($item)* };
    }

    /// The `Arbitrary` impl of `#[guest(arbitrary)]`: emitted with the `fuzzing` feature,
    /// an error saying so without it.
    #[cfg(not(feature = "fuzzing"))]
    #[macro_export]
    #[doc(hidden)]
    macro_rules! __derive_arbitrary {
        ($($item:tt)*) => {
            ::core::compile_error!(
                "#[guest(arbitrary)] needs the `fuzzing` feature of wasmguard: \
                 wasmguard = { version = \"..\", features = [\"fuzzing\"] }"
            );
        };
    }

    pub use crate::__derive_arbitrary as derive_arbitrary;
}

/// The README's examples, compiled (and, where they need no files, run) as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
