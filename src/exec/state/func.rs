//! Functions as the store holds them.

use std::sync::Arc;

use crate::exec::Code;

/// A function as the store holds it. A host function's `num_params` / `num_results` count
/// value-stack slots (two per `v128`).
#[derive(Debug)]
pub(crate) enum FuncEntity {
    /// Function `index` of the code table of its instance's module.
    Wasm {
        type_id: u32,
        instance: u32,
        code: Arc<Code>,
        index: u32,
    },
    Host {
        type_id: u32,
        host: u32,
        num_params: u32,
        num_results: u32,
    },
}

impl FuncEntity {
    pub(crate) fn type_id(&self) -> u32 {
        match self {
            FuncEntity::Wasm { type_id, .. } | FuncEntity::Host { type_id, .. } => *type_id,
        }
    }
}
