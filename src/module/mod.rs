//! Decoding: what a WebAssembly module declares, read and validated from its bytes.
//!
//! This is the only part of wasmguard that reads wasm bytes: `parse` drives `wasmparser`
//! (decode + validate) and hands every function body, with its validator, to a translator
//! its caller supplies (the public [`Module`](crate::Module) passes the one in `exec`), so
//! decoding knows nothing of the instruction set it is translated into; the rest of the
//! crate sees only the types defined here.

mod parse;

pub(crate) use parse::{FuncBody, decode_error, parse};

use std::sync::Arc;

use crate::engine::Engine;
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType, TagType};

/// What an import brings in.
#[derive(Debug, Clone)]
pub(crate) enum ImportKind {
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// A tag of the given type index.
    Tag(u32),
}

#[derive(Debug, Clone)]
pub(crate) struct Import {
    pub(crate) module: String,
    pub(crate) name: String,
    pub(crate) kind: ImportKind,
}

/// Kinds of entity an export or import refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntityKind {
    Func,
    Table,
    Memory,
    Global,
    Tag,
}

#[derive(Debug, Clone)]
pub(crate) struct Export {
    pub(crate) name: String,
    pub(crate) kind: EntityKind,
    pub(crate) index: u32,
}

/// One operation of a constant expression.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    RefI31,
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
    AnyConvertExtern,
    ExternConvertAny,
    /// Allocations of the GC proposal: the module's type, and for `array.new_fixed` the
    /// number of elements.
    StructNew(u32),
    StructNewDefault(u32),
    ArrayNew(u32),
    ArrayNewDefault(u32),
    ArrayNewFixed(u32, u32),
}

/// A constant expression (global initialisers, segment offsets and items).
#[derive(Debug, Clone)]
pub(crate) struct ConstExpr {
    pub(crate) ops: Box<[ConstOp]>,
}

#[derive(Debug, Clone)]
pub(crate) enum SegmentMode {
    Passive,
    Active { index: u32, offset: ConstExpr },
    Declared,
}

#[derive(Debug, Clone)]
pub(crate) enum ElemItems {
    Funcs(Box<[u32]>),
    Exprs(Box<[ConstExpr]>),
}

#[derive(Debug, Clone)]
pub(crate) struct ElemSegment {
    pub(crate) mode: SegmentMode,
    pub(crate) items: ElemItems,
}

#[derive(Debug, Clone)]
pub(crate) struct DataSegment {
    pub(crate) mode: SegmentMode,
    pub(crate) bytes: Arc<[u8]>,
}

/// Everything a module holds after decoding.
#[derive(Debug)]
pub(crate) struct ModuleInner {
    pub(crate) engine: Engine,
    pub(crate) name: Option<String>,
    pub(crate) types: Vec<FuncType>,
    /// Engine-wide id of each type in `types`.
    pub(crate) type_ids: Vec<u32>,
    /// The layout of each struct and array type in `types` (`None` for function types).
    pub(crate) gc_types: Vec<Option<std::sync::Arc<crate::engine::layout::GcType>>>,
    pub(crate) imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub(crate) funcs: Vec<u32>,
    pub(crate) num_imported_funcs: u32,
    pub(crate) tables: Vec<TableType>,
    pub(crate) num_imported_tables: u32,
    /// Initial value of defined tables' elements (`None`: null).
    pub(crate) table_inits: Vec<Option<ConstExpr>>,
    pub(crate) memories: Vec<MemoryType>,
    pub(crate) num_imported_memories: u32,
    pub(crate) globals: Vec<GlobalType>,
    pub(crate) num_imported_globals: u32,
    /// Initialisers of the defined globals.
    pub(crate) global_inits: Vec<ConstExpr>,
    /// Type index of every tag, imported ones first.
    pub(crate) tags: Vec<u32>,
    pub(crate) num_imported_tags: u32,
    pub(crate) exports: Vec<Export>,
    pub(crate) start: Option<u32>,
    pub(crate) elems: Vec<ElemSegment>,
    pub(crate) datas: Vec<DataSegment>,
    /// Number of defined functions whose bodies were decoded (and handed to the translator).
    pub(crate) num_bodies: u32,
    /// Function names from the name section (for backtraces).
    pub(crate) func_names: std::collections::HashMap<u32, String>,
}

impl ModuleInner {
    /// The name of function `index` from the name section, if any.
    pub(crate) fn func_name(&self, index: u32) -> Option<&str> {
        self.func_names.get(&index).map(String::as_str)
    }

    pub(crate) fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.funcs[func as usize] as usize]
    }

    pub(crate) fn import_type(&self, kind: &ImportKind) -> ExternType {
        match kind {
            ImportKind::Func(t) => ExternType::Func(self.types[*t as usize].clone()),
            ImportKind::Table(t) => ExternType::Table(*t),
            ImportKind::Memory(m) => ExternType::Memory(*m),
            ImportKind::Global(g) => ExternType::Global(*g),
            ImportKind::Tag(t) => ExternType::Tag(TagType::from_func_type(self.types[*t as usize].clone())),
        }
    }

    pub(crate) fn extern_type(&self, kind: EntityKind, index: u32) -> ExternType {
        match kind {
            EntityKind::Func => ExternType::Func(self.func_type(index).clone()),
            EntityKind::Table => ExternType::Table(self.tables[index as usize]),
            EntityKind::Memory => ExternType::Memory(self.memories[index as usize]),
            EntityKind::Global => ExternType::Global(self.globals[index as usize]),
            EntityKind::Tag => {
                ExternType::Tag(TagType::from_func_type(self.types[self.tags[index as usize] as usize].clone()))
            }
        }
    }
}
