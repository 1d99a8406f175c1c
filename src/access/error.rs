//! [`AccessError`]: why an access to guest memory was refused.

use crate::error::{Error, ErrorKind};

/// Why an access to guest memory was refused. No accessor panics on a guest-supplied
/// address or length: every failure is one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// The range `[address, address + len)` is not inside the memory.
    #[error(
        "out of bounds memory access: {len} bytes at address {address:#x}, memory size is {memory_size} bytes"
    )]
    OutOfBounds {
        /// First byte of the access.
        address: u64,
        /// Length of the access in bytes.
        len: u64,
        /// Size of the memory in bytes at the time of the access.
        memory_size: u64,
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
pub(crate) fn check_range(
    address: u64,
    len: u64,
    memory_size: usize,
) -> Result<std::ops::Range<usize>, AccessError> {
    let end = address
        .checked_add(len)
        .ok_or(AccessError::Overflow { address, len })?;
    if end > memory_size as u64 {
        return Err(AccessError::OutOfBounds {
            address,
            len,
            memory_size: memory_size as u64,
        });
    }
    // Both fit in usize: they are at most `memory_size`.
    Ok(address as usize..end as usize)
}
