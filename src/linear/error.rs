//! [`AccessError`]: why an access to guest memory was refused.

use crate::error::{Error, ErrorKind};

/// Why an access to guest memory was refused. No accessor panics on a guest-supplied
/// address or length: every failure is one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// The range `[address, address + len)` is not inside the memory.
    #[error("out of bounds memory access: {len} bytes at address {address:#x}, memory size is {memory_size} bytes")]
    OutOfBounds {
        /// First byte of the access.
        address: u64,
        /// Length of the access in bytes.
        len: u64,
        /// Size of the memory in bytes at the time of the access.
        memory_size: u64,
    },
    /// The bytes in guest memory are not a valid value of the type (a `bool` that is
    /// neither 0 nor 1, an unknown enum discriminant...).
    #[error("invalid value for {type_name}: {value:#x}")]
    InvalidValue {
        /// The Rust type being read.
        type_name: &'static str,
        /// The offending raw value.
        value: u64,
    },
    /// The bytes are not valid UTF-8.
    #[error("invalid UTF-8 in guest string of {len} bytes at address {address:#x}")]
    InvalidUtf8 {
        /// First byte of the string.
        address: u64,
        /// Length of the string in bytes.
        len: u64,
    },
    /// No NUL terminator within the allowed length.
    #[error("no NUL terminator within {max_len} bytes at address {address:#x}")]
    Unterminated {
        /// First byte of the string.
        address: u64,
        /// The largest length searched.
        max_len: u64,
    },
    /// The region overlaps a region already borrowed in a conflicting way.
    #[error("borrow conflict: {len} bytes at address {address:#x} overlap a live borrow")]
    BorrowConflict {
        /// First byte of the refused region.
        address: u64,
        /// Length of the refused region in bytes.
        len: u64,
    },
    /// The region's address is not aligned for a zero-copy borrow of the element type.
    #[error("misaligned access: address {address:#x} is not aligned to {align} bytes")]
    Misaligned {
        /// First byte of the region.
        address: u64,
        /// Required alignment.
        align: u32,
    },
    /// A slice write was given a different number of elements than the slice holds.
    #[error("length mismatch: the guest slice holds {expected} elements, {actual} were given")]
    LengthMismatch {
        /// Elements in the guest slice.
        expected: u64,
        /// Elements given.
        actual: u64,
    },
    /// A typed pointer's index type is not its memory's: a `WasmPtr<T, Memory32>` used on a
    /// 64-bit memory, or a `WasmPtr<T, Memory64>` on a 32-bit one.
    #[error("index type mismatch: a {pointer} pointer cannot address a {memory} memory")]
    IndexTypeMismatch {
        /// The pointer's index type marker: `"Memory32"` or `"Memory64"`.
        pointer: &'static str,
        /// The memory's index type marker: `"Memory32"` or `"Memory64"`.
        memory: &'static str,
    },
    /// A copy would take the running host call over its copy budget
    /// ([`StoreLimits::host_copy_bytes`](crate::StoreLimits::host_copy_bytes)); nothing was copied.
    #[error(
        "copy budget of {budget} bytes per host call exceeded: a copy of {requested} bytes was refused, {remaining} bytes are left"
    )]
    CopyBudgetExceeded {
        /// The cost of the refused copy, in bytes.
        requested: u64,
        /// What was left of the budget.
        remaining: u64,
        /// The budget the host call started with.
        budget: u64,
    },
    /// Computing the address overflowed.
    #[error("address overflow: {address:#x} + {len} does not fit the address space")]
    Overflow {
        /// Base address.
        address: u64,
        /// Length or offset added to it.
        len: u64,
    },
}

impl From<AccessError> for Error {
    fn from(e: AccessError) -> Error {
        ErrorKind::Host(Box::new(e)).into()
    }
}

/// Checks `[address, address + len)` against a memory of `memory_size` bytes and returns
/// the range as `usize` bounds.
pub(crate) fn check_range(address: u64, len: u64, memory_size: usize) -> Result<std::ops::Range<usize>, AccessError> {
    let end = address.checked_add(len).ok_or(AccessError::Overflow { address, len })?;
    if end > memory_size as u64 {
        return Err(AccessError::OutOfBounds { address, len, memory_size: memory_size as u64 });
    }
    // Both fit in usize: they are at most `memory_size`.
    Ok(address as usize..end as usize)
}
