//! The `path_*` functions. Every path resolves beneath an open directory through cap-std,
//! which refuses paths that lead outside it (`..`, absolute paths, symbolic links pointing
//! out) without ever opening a host file there; wasmguard reports those as
//! [`Errno::NOTCAPABLE`].

use std::path::PathBuf;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt};
use cap_std::fs::{Dir, OpenOptions};

use crate::access::{MemoryViewMut, WasmPtr, WasmSlice};
use crate::wasi::ctx::WasiCtx;
use crate::wasi::fd::{Descriptor, DirDesc, FileDesc, errno_of, filestat_of};
use crate::wasi::types::{
    Errno, FDFLAGS_APPEND, Filestat, LOOKUPFLAGS_SYMLINK_FOLLOW, OFLAGS_CREAT, OFLAGS_DIRECTORY, OFLAGS_EXCL,
    OFLAGS_TRUNC, RIGHTS_FD_READ, RIGHTS_FD_WRITE,
};

type Res = Result<(), Errno>;

/// The directory `fd` refers to.
fn dir(ctx: &WasiCtx, fd: u32) -> Result<&Dir, Errno> {
    match ctx.fds.get(&fd) {
        Some(Descriptor::Dir(d)) => Ok(&d.dir),
        Some(_) => Err(Errno::NOTDIR),
        None => Err(Errno::BADF),
    }
}

/// A guest path, checked: UTF-8 (else `ILSEQ`), no NUL byte (else `INVAL`), not empty
/// (else `NOENT`), relative (else `NOTCAPABLE`). `..` and symbolic links are left to
/// cap-std, which resolves them beneath the directory or refuses.
pub(crate) fn guest_path(view: &MemoryViewMut<'_>, path: WasmSlice<u8>) -> Result<PathBuf, Errno> {
    let bytes = view.borrow(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Errno::ILSEQ)?;
    if text.contains('\0') {
        return Err(Errno::INVAL);
    }
    if text.is_empty() {
        return Err(Errno::NOENT);
    }
    if text.starts_with('/') || text.starts_with('\\') {
        return Err(Errno::NOTCAPABLE);
    }
    Ok(PathBuf::from(text))
}

fn io<T>(result: std::io::Result<T>) -> Result<T, Errno> {
    result.map_err(|e| errno_of(&e))
}

#[allow(clippy::too_many_arguments, reason = "the WASI signature")]
pub(crate) fn path_open(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    dirflags: u32,
    path: WasmSlice<u8>,
    oflags: u32,
    rights_base: u64,
    _rights_inheriting: u64,
    fdflags: u32,
    opened: WasmPtr<u32>,
) -> Res {
    let oflags = u16::try_from(oflags).map_err(|_| Errno::INVAL)?;
    let fdflags = u16::try_from(fdflags).map_err(|_| Errno::INVAL)?;
    let follow = dirflags & LOOKUPFLAGS_SYMLINK_FOLLOW != 0;
    let path = guest_path(view, path)?;
    let base = dir(ctx, fd)?;
    let creat = oflags & OFLAGS_CREAT != 0;
    let trunc = oflags & OFLAGS_TRUNC != 0;
    let append = fdflags & FDFLAGS_APPEND != 0;
    let writable = rights_base & RIGHTS_FD_WRITE != 0 || creat || trunc || append;
    let readable = rights_base & RIGHTS_FD_READ != 0 || !writable;
    let meta = if follow { base.metadata(&path) } else { base.symlink_metadata(&path) };
    let is_dir = meta.as_ref().is_ok_and(|m| m.is_dir());
    let desc = if oflags & OFLAGS_DIRECTORY != 0 || (is_dir && !writable) {
        if creat || trunc {
            return Err(Errno::INVAL);
        }
        let dir = if follow { io(base.open_dir(&path))? } else { io(base.open_dir_nofollow(&path))? };
        Descriptor::Dir(DirDesc { dir, preopen: None })
    } else {
        let mut options = OpenOptions::new();
        options.read(readable).write(writable && !append).append(append).truncate(trunc);
        if creat {
            if oflags & OFLAGS_EXCL != 0 {
                options.create_new(true);
            } else {
                options.create(true);
            }
        }
        options.follow(if follow { FollowSymlinks::Yes } else { FollowSymlinks::No });
        options.maybe_dir(false);
        let file = io(base.open_with(&path, &options))?;
        Descriptor::File(FileDesc { file: file.into_std(), flags: fdflags, readable, writable })
    };
    let new_fd = ctx.insert(desc)?;
    if let Err(e) = opened.write(view, new_fd) {
        ctx.fds.remove(&new_fd);
        return Err(e.into());
    }
    Ok(())
}

pub(crate) fn path_filestat_get(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    flags: u32,
    path: WasmSlice<u8>,
    out: WasmPtr<Filestat>,
) -> Res {
    let path = guest_path(view, path)?;
    let base = dir(ctx, fd)?;
    let meta =
        if flags & LOOKUPFLAGS_SYMLINK_FOLLOW != 0 { base.metadata(&path) } else { base.symlink_metadata(&path) };
    Ok(out.write(view, filestat_of(&io(meta)?))?)
}

pub(crate) fn path_create_directory(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    path: WasmSlice<u8>,
) -> Res {
    let path = guest_path(view, path)?;
    io(dir(ctx, fd)?.create_dir(path))
}

pub(crate) fn path_remove_directory(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    path: WasmSlice<u8>,
) -> Res {
    let path = guest_path(view, path)?;
    io(dir(ctx, fd)?.remove_dir(path))
}

pub(crate) fn path_unlink_file(ctx: &mut WasiCtx, view: &mut MemoryViewMut<'_>, fd: u32, path: WasmSlice<u8>) -> Res {
    let path = guest_path(view, path)?;
    io(dir(ctx, fd)?.remove_file(path))
}

pub(crate) fn path_rename(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    old_path: WasmSlice<u8>,
    new_fd: u32,
    new_path: WasmSlice<u8>,
) -> Res {
    let old_path = guest_path(view, old_path)?;
    let new_path = guest_path(view, new_path)?;
    io(dir(ctx, fd)?.rename(old_path, dir(ctx, new_fd)?, new_path))
}

pub(crate) fn path_readlink(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    path: WasmSlice<u8>,
    buf: WasmPtr<u8>,
    buf_len: u32,
    bufused: WasmPtr<u32>,
) -> Res {
    let path = guest_path(view, path)?;
    let target = io(dir(ctx, fd)?.read_link(path))?;
    let target = target.to_str().ok_or(Errno::ILSEQ)?.as_bytes();
    let n = target.len().min(buf_len as usize);
    let used = n as u32; // <= buf_len
    buf.slice(used).write_from(view, &target[..n])?;
    Ok(bufused.write(view, used)?)
}
