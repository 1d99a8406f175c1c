//! The accessor framework: typed, bounds-checked access to guest linear memory.

mod error;

pub use error::AccessError;
pub(crate) use error::check_range;
