//! The `fd_*` functions: reading, writing, seeking and inspecting open descriptors, and
//! listing directories.

use std::io::{Read, Seek, SeekFrom, Write};

use crate::GuestType;
use crate::access::{MemoryViewMut, WasmPtr, WasmSlice};
use crate::wasi::ctx::WasiCtx;
use crate::wasi::fd::{Descriptor, errno_of, filestat_of, filetype_of};
use crate::wasi::types::{Ciovec, Dirent, Errno, FDFLAGS_APPEND, Fdstat, Filestat, Filetype, Iovec, Prestat, Whence};

type Res = Result<(), Errno>;

fn desc(ctx: &mut WasiCtx, fd: u32) -> Result<&mut Descriptor, Errno> {
    ctx.fds.get_mut(&fd).ok_or(Errno::BADF)
}

/// Reads from `desc` into `buf`.
fn read_some(desc: &mut Descriptor, buf: &mut [u8]) -> Result<usize, Errno> {
    match desc {
        Descriptor::Stdin(input) => input.read(buf).map_err(|e| errno_of(&e)),
        Descriptor::File(f) if f.readable => f.file.read(buf).map_err(|e| errno_of(&e)),
        Descriptor::Dir(_) => Err(Errno::ISDIR),
        _ => Err(Errno::BADF),
    }
}

/// Writes `buf` to `desc`.
fn write_some(desc: &mut Descriptor, buf: &[u8]) -> Result<usize, Errno> {
    match desc {
        Descriptor::Stdout(output) => output.write(buf).map_err(|e| errno_of(&e)),
        Descriptor::File(f) if f.writable => {
            if f.flags & FDFLAGS_APPEND != 0 {
                f.file.seek(SeekFrom::End(0)).map_err(|e| errno_of(&e))?;
            }
            f.file.write(buf).map_err(|e| errno_of(&e))
        }
        Descriptor::Dir(_) => Err(Errno::ISDIR),
        _ => Err(Errno::BADF),
    }
}

/// Fills the guest buffers of `iovs` in order with `read`, stopping at a short read;
/// returns the total, which never exceeds `u32::MAX`.
fn read_iovs(
    view: &mut MemoryViewMut<'_>,
    iovs: WasmSlice<Iovec>,
    mut read: impl FnMut(&mut [u8], u64) -> Result<usize, Errno>,
) -> Result<u32, Errno> {
    let iovs = iovs.read_to_vec(view)?;
    let mut total = 0u32;
    for iov in iovs {
        let room = u32::MAX - total;
        let len = iov.buf_len.min(room);
        if len == 0 {
            continue;
        }
        let mut buf = view.borrow_mut(iov.buf.slice(len))?;
        let n = read(&mut buf, u64::from(total))?.min(buf.len());
        total += n as u32; // n <= len <= room
        if n < buf.len() {
            break;
        }
    }
    Ok(total)
}

/// Writes the guest buffers of `iovs` in order with `write`, stopping at a short write;
/// returns the total, which never exceeds `u32::MAX`.
fn write_iovs(
    view: &mut MemoryViewMut<'_>,
    iovs: WasmSlice<Ciovec>,
    mut write: impl FnMut(&[u8], u64) -> Result<usize, Errno>,
) -> Result<u32, Errno> {
    let iovs = iovs.read_to_vec(view)?;
    let mut total = 0u32;
    for iov in iovs {
        let room = u32::MAX - total;
        let len = iov.buf_len.min(room);
        if len == 0 {
            continue;
        }
        let buf = view.borrow(iov.buf.slice(len))?;
        let n = write(&buf, u64::from(total))?.min(buf.len());
        total += n as u32; // n <= len <= room
        if n < buf.len() {
            break;
        }
    }
    Ok(total)
}

pub(crate) fn fd_read(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    iovs: WasmSlice<Iovec>,
    nread: WasmPtr<u32>,
) -> Res {
    let desc = desc(ctx, fd)?;
    let n = read_iovs(view, iovs, |buf, _| read_some(desc, buf))?;
    Ok(nread.write(view, n)?)
}

pub(crate) fn fd_write(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    iovs: WasmSlice<Ciovec>,
    nwritten: WasmPtr<u32>,
) -> Res {
    let desc = desc(ctx, fd)?;
    let n = write_iovs(view, iovs, |buf, _| write_some(desc, buf))?;
    Ok(nwritten.write(view, n)?)
}

#[cfg(unix)]
fn file_at(ctx: &mut WasiCtx, fd: u32) -> Result<&mut crate::wasi::fd::FileDesc, Errno> {
    match desc(ctx, fd)? {
        Descriptor::File(f) => Ok(f),
        Descriptor::Dir(_) => Err(Errno::ISDIR),
        _ => Err(Errno::SPIPE),
    }
}

pub(crate) fn fd_pread(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    iovs: WasmSlice<Iovec>,
    offset: u64,
    nread: WasmPtr<u32>,
) -> Res {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        let f = file_at(ctx, fd)?;
        if !f.readable {
            return Err(Errno::BADF);
        }
        let n = read_iovs(view, iovs, |buf, done| {
            let at = offset.checked_add(done).ok_or(Errno::OVERFLOW)?;
            f.file.read_at(buf, at).map_err(|e| errno_of(&e))
        })?;
        Ok(nread.write(view, n)?)
    }
    #[cfg(not(unix))]
    {
        let _ = (ctx, view, fd, iovs, offset, nread);
        Err(Errno::NOSYS)
    }
}

pub(crate) fn fd_pwrite(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    iovs: WasmSlice<Ciovec>,
    offset: u64,
    nwritten: WasmPtr<u32>,
) -> Res {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        let f = file_at(ctx, fd)?;
        if !f.writable {
            return Err(Errno::BADF);
        }
        let n = write_iovs(view, iovs, |buf, done| {
            let at = offset.checked_add(done).ok_or(Errno::OVERFLOW)?;
            f.file.write_at(buf, at).map_err(|e| errno_of(&e))
        })?;
        Ok(nwritten.write(view, n)?)
    }
    #[cfg(not(unix))]
    {
        let _ = (ctx, view, fd, iovs, offset, nwritten);
        Err(Errno::NOSYS)
    }
}

fn seek(ctx: &mut WasiCtx, fd: u32, to: SeekFrom) -> Result<u64, Errno> {
    match desc(ctx, fd)? {
        Descriptor::File(f) => f.file.seek(to).map_err(|e| errno_of(&e)),
        Descriptor::Dir(_) => Err(Errno::BADF),
        _ => Err(Errno::SPIPE),
    }
}

pub(crate) fn fd_seek(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    offset: i64,
    whence: u32,
    newoffset: WasmPtr<u64>,
) -> Res {
    let whence = u8::try_from(whence).map_err(|_| Errno::INVAL)?;
    let to = match Whence::read_from(&[whence])? {
        Whence::Set => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::INVAL)?),
        Whence::Cur => SeekFrom::Current(offset),
        Whence::End => SeekFrom::End(offset),
    };
    let at = seek(ctx, fd, to)?;
    Ok(newoffset.write(view, at)?)
}

pub(crate) fn fd_tell(ctx: &mut WasiCtx, view: &mut MemoryViewMut<'_>, fd: u32, offset: WasmPtr<u64>) -> Res {
    let at = seek(ctx, fd, SeekFrom::Current(0))?;
    Ok(offset.write(view, at)?)
}

pub(crate) fn fd_close(ctx: &mut WasiCtx, _view: &mut MemoryViewMut<'_>, fd: u32) -> Res {
    ctx.fds.remove(&fd).map(drop).ok_or(Errno::BADF)
}

pub(crate) fn fd_sync(ctx: &mut WasiCtx, _view: &mut MemoryViewMut<'_>, fd: u32) -> Res {
    match desc(ctx, fd)? {
        Descriptor::File(f) => f.file.sync_all().map_err(|e| errno_of(&e)),
        _ => Ok(()),
    }
}

pub(crate) fn fd_datasync(ctx: &mut WasiCtx, _view: &mut MemoryViewMut<'_>, fd: u32) -> Res {
    match desc(ctx, fd)? {
        Descriptor::File(f) => f.file.sync_data().map_err(|e| errno_of(&e)),
        _ => Ok(()),
    }
}

pub(crate) fn fd_fdstat_get(ctx: &mut WasiCtx, view: &mut MemoryViewMut<'_>, fd: u32, out: WasmPtr<Fdstat>) -> Res {
    let stat = desc(ctx, fd)?.fdstat();
    Ok(out.write(view, stat)?)
}

pub(crate) fn fd_fdstat_set_flags(ctx: &mut WasiCtx, _view: &mut MemoryViewMut<'_>, fd: u32, flags: u32) -> Res {
    let flags = u16::try_from(flags).map_err(|_| Errno::INVAL)?;
    match desc(ctx, fd)? {
        Descriptor::File(f) => {
            f.flags = flags;
            Ok(())
        }
        _ => Err(Errno::NOTSUP),
    }
}

pub(crate) fn fd_filestat_get(ctx: &mut WasiCtx, view: &mut MemoryViewMut<'_>, fd: u32, out: WasmPtr<Filestat>) -> Res {
    let stat = match desc(ctx, fd)? {
        Descriptor::File(f) => filestat_of(&cap_std::fs::Metadata::from_file(&f.file).map_err(|e| errno_of(&e))?),
        Descriptor::Dir(d) => filestat_of(&d.dir.dir_metadata().map_err(|e| errno_of(&e))?),
        Descriptor::Stdin(_) | Descriptor::Stdout(_) => Filestat {
            dev: 0,
            ino: 0,
            filetype: Filetype::CharacterDevice,
            nlink: 1,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        },
    };
    Ok(out.write(view, stat)?)
}

pub(crate) fn fd_filestat_set_size(ctx: &mut WasiCtx, _view: &mut MemoryViewMut<'_>, fd: u32, size: u64) -> Res {
    match desc(ctx, fd)? {
        Descriptor::File(f) if f.writable => f.file.set_len(size).map_err(|e| errno_of(&e)),
        Descriptor::Dir(_) => Err(Errno::ISDIR),
        _ => Err(Errno::BADF),
    }
}

fn preopen_name(ctx: &mut WasiCtx, fd: u32) -> Result<&str, Errno> {
    match desc(ctx, fd)? {
        Descriptor::Dir(d) => d.preopen.as_deref().ok_or(Errno::BADF),
        _ => Err(Errno::BADF),
    }
}

pub(crate) fn fd_prestat_get(ctx: &mut WasiCtx, view: &mut MemoryViewMut<'_>, fd: u32, out: WasmPtr<Prestat>) -> Res {
    let len = u32::try_from(preopen_name(ctx, fd)?.len()).map_err(|_| Errno::NAMETOOLONG)?;
    Ok(out.write(view, Prestat::Dir { pr_name_len: len })?)
}

pub(crate) fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    path: WasmPtr<u8>,
    path_len: u32,
) -> Res {
    let name = preopen_name(ctx, fd)?.as_bytes();
    let len = u32::try_from(name.len()).map_err(|_| Errno::NAMETOOLONG)?;
    if path_len < len {
        return Err(Errno::NAMETOOLONG);
    }
    Ok(path.slice(len).write_from(view, name)?)
}

/// One entry of `fd_readdir`: name, type, inode.
type Entry = (Vec<u8>, Filetype, u64);

#[cfg(unix)]
fn name_bytes(name: std::ffi::OsString) -> Vec<u8> {
    std::os::unix::ffi::OsStringExt::into_vec(name)
}

#[cfg(not(unix))]
fn name_bytes(name: std::ffi::OsString) -> Vec<u8> {
    name.to_string_lossy().into_owned().into_bytes()
}

/// Every entry of the directory: `.` and `..`, then the others sorted by name, so that a
/// cookie (an index in this list) stays meaningful between calls.
fn entries(dir: &cap_std::fs::Dir) -> Result<Vec<Entry>, Errno> {
    use cap_fs_ext::MetadataExt;
    let ino = dir.dir_metadata().map(|m| m.ino()).unwrap_or(0);
    let mut list = Vec::new();
    for entry in dir.entries().map_err(|e| errno_of(&e))? {
        let entry = entry.map_err(|e| errno_of(&e))?;
        let ty = entry.file_type().map_or(Filetype::Unknown, filetype_of);
        let ino = entry.metadata().map_or(0, |m| m.ino());
        list.push((name_bytes(entry.file_name()), ty, ino));
    }
    list.sort_by(|a, b| a.0.cmp(&b.0));
    let mut all = vec![(b".".to_vec(), Filetype::Directory, ino), (b"..".to_vec(), Filetype::Directory, 0)];
    all.extend(list);
    Ok(all)
}

/// Fills `buf` with directory entries from `cookie` on, each a [`Dirent`] followed by its
/// name; the last one may be cut off at the end of the buffer (the guest then asks again
/// with a larger buffer).
pub(crate) fn fd_readdir(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    fd: u32,
    buf: WasmPtr<u8>,
    buf_len: u32,
    cookie: u64,
    bufused: WasmPtr<u32>,
) -> Res {
    let dir = match desc(ctx, fd)? {
        Descriptor::Dir(d) => &d.dir,
        _ => return Err(Errno::NOTDIR),
    };
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    let cap = buf_len as usize;
    let mut packed = Vec::new();
    for (index, (name, d_type, d_ino)) in entries(dir)?.into_iter().enumerate().skip(start) {
        if packed.len() >= cap {
            break;
        }
        let d_namlen = u32::try_from(name.len()).map_err(|_| Errno::NAMETOOLONG)?;
        let dirent = Dirent { d_next: index as u64 + 1, d_ino, d_namlen, d_type };
        packed.extend_from_slice(&dirent.to_guest_bytes());
        packed.extend_from_slice(&name);
    }
    packed.truncate(cap);
    let used = packed.len() as u32; // <= buf_len
    buf.slice(used).write_from(view, &packed)?;
    Ok(bufused.write(view, used)?)
}

pub(crate) fn fd_renumber(ctx: &mut WasiCtx, _view: &mut MemoryViewMut<'_>, from: u32, to: u32) -> Res {
    let is_preopen = |d: &Descriptor| matches!(d, Descriptor::Dir(d) if d.preopen.is_some());
    let source = ctx.fds.get(&from).ok_or(Errno::BADF)?;
    let target = ctx.fds.get(&to).ok_or(Errno::BADF)?;
    if from == to {
        return Ok(());
    }
    if is_preopen(source) || is_preopen(target) {
        return Err(Errno::NOTSUP);
    }
    let desc = ctx.fds.remove(&from).ok_or(Errno::BADF)?;
    ctx.fds.insert(to, desc);
    Ok(())
}
