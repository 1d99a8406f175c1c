//! Instances as the store holds them.

use std::sync::Arc;

use crate::exec::Code;
use crate::module::ModuleInner;

/// An instance as the store holds it: the store indices of everything it uses.
#[derive(Debug)]
pub(crate) struct InstanceEntity {
    pub(crate) module: Arc<ModuleInner>,
    /// The module's translated function bodies.
    pub(crate) code: Arc<Code>,
    pub(crate) funcs: Vec<u32>,
    pub(crate) tables: Vec<u32>,
    pub(crate) memories: Vec<u32>,
    pub(crate) globals: Vec<u32>,
    pub(crate) tags: Vec<u32>,
    /// Element segments (evaluated references); dropped ones are empty.
    pub(crate) elems: Vec<Arc<[u64]>>,
    /// Data segments; dropped ones are empty.
    pub(crate) datas: Vec<Arc<[u8]>>,
}
