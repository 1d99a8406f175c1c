//! The guest types of WASI preview1 (`wasi_snapshot_preview1`), each derived with
//! `#[derive(GuestType)]` with its layout asserted against the witx definition, and the
//! [`Errno`] codes.

use crate::GuestType;
use crate::access::WasmPtr;

/// A WASI error code (`errno`), returned to the guest as the function's `i32` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub u16);

macro_rules! errnos {
    ($($name:ident = $value:literal, $doc:literal;)*) => {
        impl Errno {
            $(#[doc = $doc] pub const $name: Errno = Errno($value);)*

            /// The code's name (`"NOENT"`), or `None` for an unknown code.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    SUCCESS = 0, "No error.";
    TOOBIG = 1, "Argument list too long.";
    ACCES = 2, "Permission denied.";
    AGAIN = 6, "Resource unavailable, try again.";
    BADF = 8, "Bad file descriptor.";
    BUSY = 10, "Device or resource busy.";
    EXIST = 20, "File exists.";
    FAULT = 21, "Bad address: a guest pointer or length out of bounds.";
    FBIG = 22, "File too large.";
    ILSEQ = 25, "Illegal byte sequence (a path that is not UTF-8).";
    INTR = 27, "Interrupted function.";
    INVAL = 28, "Invalid argument.";
    IO = 29, "I/O error.";
    ISDIR = 31, "Is a directory.";
    LOOP = 32, "Too many levels of symbolic links.";
    MFILE = 33, "File descriptor value too large.";
    MLINK = 34, "Too many links.";
    NAMETOOLONG = 37, "Filename too long.";
    NOENT = 44, "No such file or directory.";
    NOMEM = 48, "Not enough space.";
    NOSPC = 51, "No space left on device.";
    NOSYS = 52, "Function not supported.";
    NOTDIR = 54, "Not a directory.";
    NOTEMPTY = 55, "Directory not empty.";
    NOTSUP = 58, "Not supported.";
    NOTTY = 59, "Inappropriate I/O control operation.";
    NXIO = 60, "No such device or address.";
    OVERFLOW = 61, "Value too large to be stored in data type.";
    PERM = 63, "Operation not permitted.";
    PIPE = 64, "Broken pipe.";
    ROFS = 69, "Read-only file system.";
    SPIPE = 70, "Invalid seek.";
    XDEV = 75, "Cross-device link.";
    NOTCAPABLE = 76, "Capabilities insufficient: the path leaves the preopened directory.";
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(name) => write!(f, "errno {} ({name})", self.0),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl From<crate::AccessError> for Errno {
    /// A bad guest pointer or length is `FAULT`, a bad enum value `INVAL`, a path that is
    /// not UTF-8 `ILSEQ`, a copy over the host call's copy budget `NOMEM`.
    fn from(error: crate::AccessError) -> Self {
        match error {
            crate::AccessError::CopyBudgetExceeded { .. } => Errno::NOMEM,
            crate::AccessError::InvalidValue { .. } | crate::AccessError::LengthMismatch { .. } => Errno::INVAL,
            crate::AccessError::InvalidUtf8 { .. } => Errno::ILSEQ,
            _ => Errno::FAULT,
        }
    }
}

/// `filetype`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Filetype {
    /// Unknown, or not one of the others.
    Unknown = 0,
    /// A block device.
    BlockDevice = 1,
    /// A character device (the standard streams).
    CharacterDevice = 2,
    /// A directory.
    Directory = 3,
    /// A regular file.
    RegularFile = 4,
    /// A datagram socket.
    SocketDgram = 5,
    /// A stream socket.
    SocketStream = 6,
    /// A symbolic link.
    SymbolicLink = 7,
}

/// `clockid`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Clockid {
    /// Wall-clock time since the Unix epoch.
    Realtime = 0,
    /// Monotonic time since an arbitrary point.
    Monotonic = 1,
    /// CPU time of the process (here: monotonic time since the context was built).
    ProcessCputime = 2,
    /// CPU time of the thread (here: as the process).
    ThreadCputime = 3,
}

/// `whence` of `fd_seek`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Whence {
    /// From the start of the file.
    Set = 0,
    /// From the current position.
    Cur = 1,
    /// From the end of the file.
    End = 2,
}

/// `iovec`: a buffer the host fills.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 8, align = 4)]
pub struct Iovec {
    /// The buffer.
    pub buf: WasmPtr<u8>,
    /// Its length in bytes.
    pub buf_len: u32,
}

/// `ciovec`: a buffer the host reads.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 8, align = 4)]
pub struct Ciovec {
    /// The buffer.
    pub buf: WasmPtr<u8>,
    /// Its length in bytes.
    pub buf_len: u32,
}

/// `fdstat`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 24, align = 8)]
pub struct Fdstat {
    /// The type of the file.
    pub fs_filetype: Filetype,
    /// `fdflags`.
    #[guest(offset = 2)]
    pub fs_flags: u16,
    /// Rights of the descriptor.
    #[guest(offset = 8)]
    pub fs_rights_base: u64,
    /// Rights of descriptors opened from it.
    #[guest(offset = 16)]
    pub fs_rights_inheriting: u64,
}

/// `filestat`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 64, align = 8)]
pub struct Filestat {
    /// Device ID.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// The type of the file.
    pub filetype: Filetype,
    /// Number of hard links.
    #[guest(offset = 24)]
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last access, ns since the epoch.
    pub atim: u64,
    /// Last modification, ns since the epoch.
    pub mtim: u64,
    /// Last status change, ns since the epoch.
    #[guest(offset = 56)]
    pub ctim: u64,
}

/// `prestat`: the tagged union `{ u8 tag; union { prestat_dir dir; } }`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, u8)]
#[guest(size = 8, align = 4)]
pub enum Prestat {
    /// A preopened directory, whose guest name is `pr_name_len` bytes long.
    Dir {
        /// Length of the name (`fd_prestat_dir_name`), without a terminator.
        #[guest(offset = 4)]
        pr_name_len: u32,
    } = 0,
}

/// `dirent`: the header of a directory entry, followed by `d_namlen` name bytes.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 24, align = 8)]
pub struct Dirent {
    /// The cookie of the next entry.
    pub d_next: u64,
    /// Inode.
    pub d_ino: u64,
    /// Length of the name.
    pub d_namlen: u32,
    /// The type of the file.
    #[guest(offset = 20)]
    pub d_type: Filetype,
}

/// `subscription_clock`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 32, align = 8)]
pub struct SubscriptionClock {
    /// The clock.
    pub id: Clockid,
    /// Timeout in ns: relative, or absolute with `SUBCLOCKFLAGS_ABSTIME`.
    #[guest(offset = 8)]
    pub timeout: u64,
    /// Accepted imprecision in ns.
    pub precision: u64,
    /// `subclockflags`.
    #[guest(offset = 24)]
    pub flags: u16,
}

/// `subscription_fd_readwrite`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 4, align = 4)]
pub struct SubscriptionFdReadwrite {
    /// The descriptor to wait on.
    pub file_descriptor: u32,
}

/// `subscription_u`: the tagged union `{ u8 tag; union { clock; fd_read; fd_write; } }`,
/// the union at offset 8.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, u8)]
#[guest(size = 40, align = 8)]
pub enum SubscriptionU {
    /// Wait for a clock.
    Clock(#[guest(offset = 8)] SubscriptionClock) = 0,
    /// Wait for a descriptor to be readable.
    FdRead(#[guest(offset = 8)] SubscriptionFdReadwrite) = 1,
    /// Wait for a descriptor to be writable.
    FdWrite(#[guest(offset = 8)] SubscriptionFdReadwrite) = 2,
}

/// `subscription`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 48, align = 8)]
pub struct Subscription {
    /// Copied into the event.
    pub userdata: u64,
    /// What to wait for.
    pub u: SubscriptionU,
}

/// `eventtype`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Eventtype {
    /// A clock subscription fired.
    Clock = 0,
    /// A descriptor is readable.
    FdRead = 1,
    /// A descriptor is writable.
    FdWrite = 2,
}

/// `event_fd_readwrite`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 16, align = 8)]
pub struct EventFdReadwrite {
    /// Bytes available (a hint).
    pub nbytes: u64,
    /// `eventrwflags`.
    pub flags: u16,
}

/// `event`.
#[derive(GuestType, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
#[guest(size = 32, align = 8)]
pub struct Event {
    /// The subscription's userdata.
    pub userdata: u64,
    /// An errno for this subscription.
    pub error: u16,
    /// What fired.
    #[guest(offset = 10)]
    pub r#type: Eventtype,
    /// For descriptor events.
    #[guest(offset = 16)]
    pub fd_readwrite: EventFdReadwrite,
}

/// `oflags`: create the file.
pub const OFLAGS_CREAT: u16 = 1;
/// `oflags`: fail if not a directory.
pub const OFLAGS_DIRECTORY: u16 = 2;
/// `oflags`: fail if it exists.
pub const OFLAGS_EXCL: u16 = 4;
/// `oflags`: truncate.
pub const OFLAGS_TRUNC: u16 = 8;
/// `fdflags`: append.
pub const FDFLAGS_APPEND: u16 = 1;
/// `lookupflags`: follow a final symbolic link.
pub const LOOKUPFLAGS_SYMLINK_FOLLOW: u32 = 1;
/// `subclockflags`: the timeout is absolute.
pub const SUBCLOCKFLAGS_ABSTIME: u16 = 1;
/// `rights`: `fd_read`.
pub const RIGHTS_FD_READ: u64 = 1 << 1;
/// `rights`: `fd_seek`.
pub const RIGHTS_FD_SEEK: u64 = 1 << 2;
/// `rights`: `fd_write`.
pub const RIGHTS_FD_WRITE: u64 = 1 << 6;
/// `rights`: `fd_tell`.
pub const RIGHTS_FD_TELL: u64 = 1 << 5;
/// Every right of preview1 (bits 0..=28).
pub const RIGHTS_ALL: u64 = (1 << 29) - 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_tag_is_validated() {
        let mut bytes = [0u8; 48];
        let sub =
            Subscription { userdata: 7, u: SubscriptionU::FdRead(SubscriptionFdReadwrite { file_descriptor: 0 }) };
        sub.write_to(&mut bytes);
        assert_eq!(bytes[8], 1);
        assert_eq!(Subscription::read_from(&bytes), Ok(sub));
        bytes[8] = 3;
        assert!(Subscription::read_from(&bytes).is_err());
    }

    #[test]
    fn prestat_layout() {
        let mut bytes = [0xAA; 8];
        Prestat::Dir { pr_name_len: 5 }.write_to(&mut bytes);
        assert_eq!(bytes, [0, 0, 0, 0, 5, 0, 0, 0]);
    }
}
