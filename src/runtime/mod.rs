//! Runtime objects: linear memories, tables, globals, functions (wasm and host),
//! instances, and the linker that wires imports.

pub(crate) mod exception;
pub(crate) mod func;
pub(crate) mod gc;
pub(crate) mod global;
pub(crate) mod instance;
pub(crate) mod linker;
pub(crate) mod memory;
pub(crate) mod module;
pub(crate) mod table;
pub(crate) mod tag;
pub(crate) mod v128;
pub(crate) mod value;
