//! The host functions of `wasi_snapshot_preview1` and their registration in a [`Linker`].
//!
//! Each function is a plain Rust function of the [`WasiCtx`], the caller's memory view and
//! the guest's arguments as typed pointers ([`WasmPtr`], [`WasmSlice`]) returning
//! `Result<(), Errno>`; [`add_to_linker`] wraps each one into a host function that returns
//! the errno to the guest.

mod fd;
mod path;
mod process;

use crate::access::{MemoryViewMut, WasmPtr, WasmSlice};
use crate::error::{Error, Result};
use crate::runtime::linker::Linker;
use crate::runtime::module::Module;
use crate::runtime::value::Val;
use crate::store::Caller;
use crate::types::{ExternType, ValType};
use crate::wasi::ctx::{ProcExit, WasiCtx};
use crate::wasi::types::{Ciovec, Errno, Event, Fdstat, Filestat, Iovec, Prestat, Subscription};

/// The module name of WASI preview1 imports.
pub const MODULE: &str = "wasi_snapshot_preview1";
/// The module name of the older snapshot, whose unknown imports get stubs too.
pub const MODULE_UNSTABLE: &str = "wasi_unstable";

/// Runs `f` with the WASI context and the caller's memory 0; the errno as the guest's
/// result. A module without memory gets `FAULT`.
fn call<T>(
    caller: &mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut WasiCtx,
    f: impl FnOnce(&mut WasiCtx, &mut MemoryViewMut<'_>) -> Result<(), Errno>,
) -> i32 {
    let Some(memory) = caller.memory() else {
        return i32::from(Errno::FAULT.0);
    };
    let (mut view, data) = memory.view_and_data_mut(caller);
    match f(get(data), &mut view) {
        Ok(()) => 0,
        Err(errno) => i32::from(errno.0),
    }
}

macro_rules! define {
    ($linker:ident, $get:ident, $T:ident; $($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $linker.func_wrap(MODULE, stringify!($name), move |mut caller: Caller<'_, $T>, $($arg: $ty),*| -> i32 {
            call(&mut caller, $get, |ctx, view| $name(ctx, view, $($arg),*))
        })?;
    )*};
}

/// Preview1 functions that are not implemented: they return `NOSYS` (52).
macro_rules! not_implemented {
    ($linker:ident, $T:ident; $($name:ident($($ty:ty),*);)*) => {$(
        $linker.func_wrap(MODULE, stringify!($name), |$(_: $ty),*| -> i32 { i32::from(Errno::NOSYS.0) })?;
    )*};
}

/// Defines every function of `wasi_snapshot_preview1` in `linker`, reaching the
/// [`WasiCtx`] through `get` from the store's host state. The functions that are not
/// implemented (sockets, links, timestamps, advisory calls) return `NOSYS` (52).
/// `proc_exit` unwinds the guest with a [`ProcExit`] error.
///
/// # Errors
///
/// If one of the names is already defined in `linker` (and shadowing is off).
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<()> {
    use fd::*;
    use path::*;
    use process::*;
    define! { linker, get, T;
        args_get(argv: WasmPtr<WasmPtr<u8>>, argv_buf: WasmPtr<u8>);
        args_sizes_get(argc: WasmPtr<u32>, size: WasmPtr<u32>);
        environ_get(environ: WasmPtr<WasmPtr<u8>>, environ_buf: WasmPtr<u8>);
        environ_sizes_get(count: WasmPtr<u32>, size: WasmPtr<u32>);
        clock_res_get(id: u32, out: WasmPtr<u64>);
        clock_time_get(id: u32, precision: u64, out: WasmPtr<u64>);
        random_get(buf: WasmPtr<u8>, len: u32);
        sched_yield();
        poll_oneoff(subs: WasmPtr<Subscription>, events: WasmPtr<Event>, n: u32, nevents: WasmPtr<u32>);
        fd_read(fd: u32, iovs: WasmSlice<Iovec>, nread: WasmPtr<u32>);
        fd_write(fd: u32, iovs: WasmSlice<Ciovec>, nwritten: WasmPtr<u32>);
        fd_pread(fd: u32, iovs: WasmSlice<Iovec>, offset: u64, nread: WasmPtr<u32>);
        fd_pwrite(fd: u32, iovs: WasmSlice<Ciovec>, offset: u64, nwritten: WasmPtr<u32>);
        fd_seek(fd: u32, offset: i64, whence: u32, newoffset: WasmPtr<u64>);
        fd_tell(fd: u32, offset: WasmPtr<u64>);
        fd_close(fd: u32);
        fd_sync(fd: u32);
        fd_datasync(fd: u32);
        fd_fdstat_get(fd: u32, out: WasmPtr<Fdstat>);
        fd_fdstat_set_flags(fd: u32, flags: u32);
        fd_filestat_get(fd: u32, out: WasmPtr<Filestat>);
        fd_filestat_set_size(fd: u32, size: u64);
        fd_prestat_get(fd: u32, out: WasmPtr<Prestat>);
        fd_prestat_dir_name(fd: u32, path: WasmPtr<u8>, len: u32);
        fd_readdir(fd: u32, buf: WasmPtr<u8>, len: u32, cookie: u64, used: WasmPtr<u32>);
        fd_renumber(from: u32, to: u32);
        path_open(fd: u32, dirflags: u32, path: WasmSlice<u8>, oflags: u32, base: u64, inheriting: u64,
            fdflags: u32, opened: WasmPtr<u32>);
        path_filestat_get(fd: u32, flags: u32, path: WasmSlice<u8>, out: WasmPtr<Filestat>);
        path_create_directory(fd: u32, path: WasmSlice<u8>);
        path_remove_directory(fd: u32, path: WasmSlice<u8>);
        path_unlink_file(fd: u32, path: WasmSlice<u8>);
        path_rename(fd: u32, old: WasmSlice<u8>, new_fd: u32, new: WasmSlice<u8>);
        path_readlink(fd: u32, path: WasmSlice<u8>, buf: WasmPtr<u8>, len: u32, used: WasmPtr<u32>);
    }
    linker.func_wrap(MODULE, "proc_exit", |code: u32| -> Result<()> { Err(Error::new(ProcExit(code))) })?;
    not_implemented! { linker, T;
        fd_advise(u32, u64, u64, u32);
        fd_allocate(u32, u64, u64);
        fd_fdstat_set_rights(u32, u64, u64);
        fd_filestat_set_times(u32, u64, u64, u32);
        path_filestat_set_times(u32, u32, u32, u32, u64, u64, u32);
        path_link(u32, u32, u32, u32, u32, u32, u32);
        path_symlink(u32, u32, u32, u32, u32);
        proc_raise(u32);
        sock_accept(u32, u32, u32);
        sock_recv(u32, u32, u32, u32, u32, u32);
        sock_send(u32, u32, u32, u32, u32);
        sock_shutdown(u32, u32);
    }
    Ok(())
}

/// Defines a stub for every function import of `module` from `wasi_snapshot_preview1` or
/// `wasi_unstable` that `linker` does not define yet, so that programs importing functions
/// wasmguard does not provide still run as long as they do not call them. A stub whose
/// result is one `i32` returns `NOSYS` (52); any other stub traps with a message naming
/// the function when called.
///
/// # Errors
///
/// None in practice (only undefined names are defined).
pub fn add_stubs_for_unknown_imports<T: 'static>(linker: &mut Linker<T>, module: &Module) -> Result<()> {
    for (module_name, name, ty) in module.imports() {
        let ExternType::Func(ty) = ty else { continue };
        if (module_name != MODULE && module_name != MODULE_UNSTABLE) || linker.is_defined(module_name, name) {
            continue;
        }
        let returns_errno = ty.results_slice() == [ValType::I32];
        let what = format!("`{module_name}::{name}`");
        linker.func_new(module_name, name, ty, move |_, _, results: &mut [Val]| {
            if returns_errno {
                results[0] = Val::I32(i32::from(Errno::NOSYS.0));
                Ok(())
            } else {
                Err(Error::msg(format!("the WASI function {what} is not implemented by wasmguard")))
            }
        })?;
    }
    Ok(())
}
