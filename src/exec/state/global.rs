//! Globals as the store holds them.

use crate::types::GlobalType;

/// A global as the store holds it.
#[derive(Debug)]
pub(crate) struct GlobalEntity {
    pub(crate) ty: GlobalType,
    pub(crate) value: u64,
    /// The high 64 bits of a `v128` global (zero otherwise).
    pub(crate) value_hi: u64,
}
