//! Execution: translation of wasm function bodies into the slot IR ([`ir`]), on first call
//! through a module's code table (`code`) or up front, and the
//! interpreter that runs it (`interp`), with its value stack, frames and traps.

// First: the operation lists are macros that the modules below invoke.
#[macro_use]
mod ops;

mod code;
mod compile;
mod interp;
pub(crate) mod ir;
mod lower;
mod mem;
mod num;
mod simd;
pub(crate) mod state;
mod threaded;
mod translate;
mod validate;

pub(crate) use code::Code;
pub(crate) use compile::{translate_bodies, validate_bodies};
pub(crate) use interp::{Host, Stack, call_func};
