//! Host references.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// An opaque reference to a host value, passed to wasm as an `externref`.
#[derive(Clone)]
pub struct ExternRef(Arc<dyn Any + Send + Sync>);

impl ExternRef {
    /// Wraps a host value.
    pub fn new(value: impl Any + Send + Sync) -> Self {
        ExternRef(Arc::new(value))
    }

    /// The wrapped value, for downcasting.
    pub fn data(&self) -> &(dyn Any + Send + Sync) {
        &*self.0
    }

    /// The address of the shared value (identity while it is alive).
    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }

    /// True if both refer to the same host value.
    pub fn ptr_eq(a: &ExternRef, b: &ExternRef) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl fmt::Debug for ExternRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternRef(..)")
    }
}
