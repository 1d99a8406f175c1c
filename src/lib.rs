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
//! let add = instance.get_typed_func::<(i32, i32), i32, _>(&mut store, "add")?;
//! assert_eq!(add.call(&mut store, (1, 2))?, 3);
//! let memory = instance.get_memory(&mut store, "mem").expect("exported memory");
//! assert_eq!(memory.size(&store), 1);
//! # Ok(()) }
//! ```
//!
//! Traps are values: a failing call returns an [`Error`] whose [`Error::trap_code`] says
//! which trap it was. Calls never recurse on the host stack, so deep wasm recursion is a
//! [`TrapCode::StackOverflow`] trap, and fuel ([`Config::consume_fuel`]) bounds execution
//! of untrusted code.

pub mod access;
mod engine;
mod error;
mod exec;
mod module;
mod runtime;
mod store;
mod types;
pub mod wast;

pub use access::AccessError;
pub use engine::{Config, Engine};
pub use error::{Error, ErrorKind, Result, TrapCode};
pub use module::Module;
pub use runtime::func::{Caller, Func, IntoFunc, TypedFunc, WasmRet, WasmTy, WasmTyList};
pub use runtime::global::Global;
pub use runtime::instance::Instance;
pub use runtime::linker::Linker;
pub use runtime::memory::Memory;
pub use runtime::table::Table;
pub use runtime::value::{Export, Extern, ExternRef, Val};
pub use store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut, StoreLimits};
pub use types::{
    ExternType, FuncType, GlobalType, MemoryType, Mutability, RefType, TableType, ValType,
    WASM_PAGE_SIZE,
};
