//! The descriptor table's entries ([`Descriptor`]) and what the host knows about them:
//! conversions from host errors and metadata to WASI's [`Errno`] and [`Filestat`].

use std::io;
use std::time::SystemTime;

use cap_fs_ext::MetadataExt;
use cap_std::fs::{Dir, Metadata};

use super::ctx::{Input, Output};
use super::types::{Errno, Fdstat, Filestat, Filetype, RIGHTS_ALL, RIGHTS_FD_READ, RIGHTS_FD_WRITE};

/// One open descriptor.
#[derive(Debug)]
pub(crate) enum Descriptor {
    /// Standard input.
    Stdin(Input),
    /// Standard output or error.
    Stdout(Output),
    /// An open file.
    File(FileDesc),
    /// An open directory, preopened or opened by `path_open`.
    Dir(DirDesc),
}

/// An open file.
#[derive(Debug)]
pub(crate) struct FileDesc {
    pub(crate) file: std::fs::File,
    /// `fdflags` (append...), as given to `path_open` or `fd_fdstat_set_flags`.
    pub(crate) flags: u16,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
}

/// An open directory: every path operation resolves beneath it, through cap-std.
#[derive(Debug)]
pub(crate) struct DirDesc {
    pub(crate) dir: Dir,
    /// The guest name, for preopened directories.
    pub(crate) preopen: Option<String>,
}

impl Descriptor {
    /// `fd_fdstat_get`'s answer.
    pub(crate) fn fdstat(&self) -> Fdstat {
        let stdio = |rights| Fdstat {
            fs_filetype: Filetype::CharacterDevice,
            fs_flags: 0,
            fs_rights_base: rights,
            fs_rights_inheriting: 0,
        };
        match self {
            Descriptor::Stdin(_) => stdio(RIGHTS_FD_READ),
            Descriptor::Stdout(_) => stdio(RIGHTS_FD_WRITE),
            Descriptor::File(f) => {
                let mut rights = RIGHTS_ALL;
                if !f.readable {
                    rights &= !RIGHTS_FD_READ;
                }
                if !f.writable {
                    rights &= !RIGHTS_FD_WRITE;
                }
                Fdstat {
                    fs_filetype: Filetype::RegularFile,
                    fs_flags: f.flags,
                    fs_rights_base: rights,
                    fs_rights_inheriting: 0,
                }
            }
            Descriptor::Dir(_) => Fdstat {
                fs_filetype: Filetype::Directory,
                fs_flags: 0,
                fs_rights_base: RIGHTS_ALL,
                fs_rights_inheriting: RIGHTS_ALL,
            },
        }
    }
}

/// The errno of a host I/O error. An error without an OS code that says permission
/// denied is cap-std refusing a path that leads outside the directory: `NOTCAPABLE`.
pub(crate) fn errno_of(error: &io::Error) -> Errno {
    #[cfg(unix)]
    if let Some(code) = error.raw_os_error() {
        return errno_of_os(code);
    }
    use io::ErrorKind as K;
    match error.kind() {
        K::NotFound => Errno::NOENT,
        K::PermissionDenied => Errno::NOTCAPABLE,
        K::AlreadyExists => Errno::EXIST,
        K::InvalidInput => Errno::INVAL,
        K::InvalidData => Errno::ILSEQ,
        K::NotADirectory => Errno::NOTDIR,
        K::IsADirectory => Errno::ISDIR,
        K::DirectoryNotEmpty => Errno::NOTEMPTY,
        K::Unsupported => Errno::NOTSUP,
        K::BrokenPipe => Errno::PIPE,
        K::Interrupted => Errno::INTR,
        K::WouldBlock => Errno::AGAIN,
        K::OutOfMemory => Errno::NOMEM,
        K::StorageFull => Errno::NOSPC,
        K::ReadOnlyFilesystem => Errno::ROFS,
        K::CrossesDevices => Errno::XDEV,
        K::NotSeekable => Errno::SPIPE,
        K::FileTooLarge => Errno::FBIG,
        K::InvalidFilename => Errno::NAMETOOLONG,
        _ => Errno::IO,
    }
}

/// The errno of a host OS error code.
#[cfg(unix)]
fn errno_of_os(code: i32) -> Errno {
    match code {
        libc::EPERM => Errno::PERM,
        libc::ENOENT => Errno::NOENT,
        libc::EACCES => Errno::ACCES,
        libc::EEXIST => Errno::EXIST,
        libc::ENOTDIR => Errno::NOTDIR,
        libc::EISDIR => Errno::ISDIR,
        libc::EINVAL => Errno::INVAL,
        libc::ELOOP => Errno::LOOP,
        libc::ENAMETOOLONG => Errno::NAMETOOLONG,
        libc::ENOTEMPTY => Errno::NOTEMPTY,
        libc::EBADF => Errno::BADF,
        libc::ENOSPC => Errno::NOSPC,
        libc::EROFS => Errno::ROFS,
        libc::EXDEV => Errno::XDEV,
        libc::EMLINK => Errno::MLINK,
        libc::ESPIPE => Errno::SPIPE,
        libc::EAGAIN => Errno::AGAIN,
        libc::EINTR => Errno::INTR,
        libc::EFBIG => Errno::FBIG,
        libc::EBUSY => Errno::BUSY,
        libc::ENXIO => Errno::NXIO,
        libc::EMFILE => Errno::MFILE,
        libc::ENOMEM => Errno::NOMEM,
        libc::EILSEQ => Errno::ILSEQ,
        libc::EOVERFLOW => Errno::OVERFLOW,
        libc::EPIPE => Errno::PIPE,
        libc::ENOTTY => Errno::NOTTY,
        libc::ENOSYS => Errno::NOSYS,
        code if code == libc::ENOTSUP || code == libc::EOPNOTSUPP => Errno::NOTSUP,
        _ => Errno::IO,
    }
}

/// The WASI type of a host file type.
pub(crate) fn filetype_of(ty: cap_std::fs::FileType) -> Filetype {
    if ty.is_dir() {
        Filetype::Directory
    } else if ty.is_file() {
        Filetype::RegularFile
    } else if ty.is_symlink() {
        Filetype::SymbolicLink
    } else {
        filetype_of_special(ty)
    }
}

#[cfg(unix)]
fn filetype_of_special(ty: cap_std::fs::FileType) -> Filetype {
    use cap_std::fs::FileTypeExt;
    if ty.is_block_device() {
        Filetype::BlockDevice
    } else if ty.is_char_device() {
        Filetype::CharacterDevice
    } else if ty.is_socket() {
        Filetype::SocketStream
    } else {
        Filetype::Unknown
    }
}

#[cfg(not(unix))]
fn filetype_of_special(_ty: cap_std::fs::FileType) -> Filetype {
    Filetype::Unknown
}

/// Nanoseconds since the epoch of a timestamp, 0 if unknown or before the epoch.
fn nanos(time: io::Result<cap_std::time::SystemTime>) -> u64 {
    time.ok()
        .and_then(|t| t.into_std().duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// `filestat` of host metadata.
pub(crate) fn filestat_of(meta: &Metadata) -> Filestat {
    let mtim = nanos(meta.modified());
    Filestat {
        dev: meta.dev(),
        ino: meta.ino(),
        filetype: filetype_of(meta.file_type()),
        nlink: meta.nlink(),
        size: meta.len(),
        atim: nanos(meta.accessed()),
        mtim,
        ctim: ctime(meta).unwrap_or(mtim),
    }
}

#[cfg(unix)]
fn ctime(meta: &Metadata) -> Option<u64> {
    use cap_std::fs::MetadataExt as _;
    let secs = u64::try_from(meta.ctime()).ok()?;
    let nsec = u64::try_from(meta.ctime_nsec()).ok()?;
    secs.checked_mul(1_000_000_000)?.checked_add(nsec)
}

#[cfg(not(unix))]
fn ctime(_meta: &Metadata) -> Option<u64> {
    None
}
