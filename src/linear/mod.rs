//! Linear-memory storage, the bottom layer under both the runtime objects and the accessor
//! framework: the bytes of a store-owned memory ([`storage`]), the atomic storage of a
//! shared memory and its [`SharedMemory`] handle ([`shared`], [`shared_memory`]), and the
//! error every bounds-checked access reports ([`AccessError`]).
//!
//! Nothing here knows about stores, instances or the interpreter; the unsafe code of the
//! crate's memory model (raw allocations, the atomic byte array, the view of its length)
//! lives here, fenced behind safe methods.

pub(crate) mod error;
pub(crate) mod shared;
pub(crate) mod shared_memory;
pub(crate) mod storage;

pub use error::AccessError;
pub(crate) use error::check_range;
pub(crate) use shared::SharedStorage;
pub use shared::{AtomicRmwOp, WaitResult};
pub use shared_memory::{DEFAULT_SHARED_RESERVATION_BYTES, SharedMemory};
pub(crate) use storage::LinearStorage;
