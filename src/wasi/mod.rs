//! WASI preview1 (`wasi_snapshot_preview1`): run command programs built for
//! `wasm32-wasip1` (Rust) or `wasm32-wasi` (C with wasi-libc).
//!
//! Everything the guest passes is reached through the accessor framework: every guest
//! struct ([`Iovec`], [`Fdstat`], [`Filestat`], [`Prestat`], [`Dirent`],
//! [`Subscription`], [`Event`]...) is a `#[derive(GuestType)]` type whose layout is
//! asserted at compile time, every pointer a [`WasmPtr`](crate::WasmPtr) or
//! [`WasmSlice`](crate::WasmSlice), and a bad pointer, length, enum value or descriptor is
//! an [`Errno`] for the guest, never a panic.
//!
//! Files are reachable only beneath the directories preopened with
//! [`WasiCtxBuilder::preopened_dir`]. The host side is [cap-std](https://docs.rs/cap-std):
//! every path resolves beneath an open directory handle, so `..`, absolute paths and
//! symbolic links that lead outside are refused — with [`Errno::NOTCAPABLE`] (76) — and no
//! host file outside is ever opened. Paths that are not UTF-8 are [`Errno::ILSEQ`], paths
//! with a NUL byte [`Errno::INVAL`], symbolic link loops [`Errno::LOOP`].
//!
//! `proc_exit(code)` unwinds the guest with a [`ProcExit`] error: the call that ran the
//! program returns `Err`, and [`exit_code`] finds the status in it.
//!
//! ```
//! use wasmguard::wasi::{self, OutputBuffer, WasiCtx, WasiCtxBuilder};
//! use wasmguard::{Engine, Linker, Module, Store};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! struct Host {
//!     wasi: WasiCtx,
//! }
//!
//! let engine = Engine::default();
//! // A command that writes "hi\n" to standard output and exits with status 3.
//! let module = Module::new(&engine, r#"(module
//!     (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
//!     (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
//!     (memory (export "memory") 1)
//!     (data (i32.const 16) "hi\n")
//!     (func (export "_start")
//!         (i32.store (i32.const 0) (i32.const 16))  ;; iovec: buf
//!         (i32.store (i32.const 4) (i32.const 3))   ;; iovec: len
//!         (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
//!         (call $proc_exit (i32.const 3))))"#)?;
//!
//! let stdout = OutputBuffer::new();
//! let wasi = WasiCtxBuilder::new().arg("hello").stdout(stdout.clone()).build();
//! let mut linker = Linker::new(&engine);
//! wasi::add_to_linker(&mut linker, |host: &mut Host| &mut host.wasi)?;
//! wasi::add_stubs_for_unknown_imports(&mut linker, &module)?;
//! let mut store = Store::new(&engine, Host { wasi });
//! let instance = linker.instantiate(&mut store, &module)?;
//! let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
//! let error = start.call(&mut store, ()).expect_err("the program exits");
//! assert_eq!(wasi::exit_code(&error), Some(3));
//! assert_eq!(stdout.contents(), b"hi\n");
//! # Ok(()) }
//! ```

mod ctx;
mod fd;
mod funcs;
mod types;

pub use ctx::{InputBuffer, OutputBuffer, ProcExit, WasiCtx, WasiCtxBuilder};
pub use funcs::{MODULE, MODULE_UNSTABLE, add_stubs_for_unknown_imports, add_to_linker};
pub use types::*;

/// The exit status of a program that called `proc_exit`, if `error` is that.
pub fn exit_code(error: &crate::Error) -> Option<u32> {
    error.host_error()?.downcast_ref::<ProcExit>().map(|exit| exit.0)
}
