//! Decoding and validation with `wasmparser`, section by section; function bodies are
//! validated and translated in the same pass, by the translator the caller passes in.

use std::sync::Arc;

use wasmparser::{
    DataKind, ElementItems, ElementKind, ExternalKind, Operator, Parser, Payload, TableInit, TypeRef, Validator,
};

use super::{
    ConstExpr, ConstOp, DataSegment, ElemItems, ElemSegment, EntityKind, Export, Import, ImportKind, ModuleInner,
    SegmentMode,
};
use crate::engine::Engine;
use crate::engine::registry::{Composite, Heap, Storage, SubType};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{ConcreteType, FuncType, GlobalType, HeapType, MemoryType, Mutability, RefType, TableType, ValType};

/// Converts a decoder error, telling unsupported proposals apart from bad input.
pub(crate) fn decode_error(e: wasmparser::BinaryReaderError) -> Error {
    let msg = e.to_string();
    if msg.contains("support is not enabled") || msg.contains("proposal not enabled") {
        ErrorKind::Unsupported(msg).into()
    } else {
        Error::compile(msg)
    }
}

/// A value type of the module whose canonical type ids so far are `type_ids`.
pub(crate) fn val_type(ty: wasmparser::ValType, type_ids: &[u32]) -> Result<ValType> {
    Ok(match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) => ValType::from(ref_type(r, type_ids)?),
    })
}

/// A reference type of the module whose canonical type ids so far are `type_ids`.
pub(crate) fn ref_type(r: wasmparser::RefType, type_ids: &[u32]) -> Result<RefType> {
    let unsupported = || -> Error { ErrorKind::Unsupported(format!("reference type {r}")).into() };
    let heap = match r.heap_type() {
        wasmparser::HeapType::Abstract { shared: false, ty } => {
            crate::engine::registry::abstract_heap(ty).ok_or_else(unsupported)?
        }
        wasmparser::HeapType::Concrete(wasmparser::UnpackedIndex::Module(i)) => {
            let id = *type_ids.get(i as usize).ok_or_else(|| Error::compile("unknown type"))?;
            HeapType::Concrete(ConcreteType(id))
        }
        _ => return Err(unsupported()),
    };
    Ok(RefType::new(r.is_nullable(), heap))
}

/// The key form of a field, parameter or result type of the group that starts at module
/// type index `start`.
fn key_storage(t: wasmparser::StorageType, start: u32, type_ids: &[u32]) -> Result<Storage> {
    use wasmparser::ValType as V;
    Ok(match t {
        wasmparser::StorageType::I8 => Storage::I8,
        wasmparser::StorageType::I16 => Storage::I16,
        wasmparser::StorageType::Val(v) => match v {
            V::I32 => Storage::I32,
            V::I64 => Storage::I64,
            V::F32 => Storage::F32,
            V::F64 => Storage::F64,
            V::V128 => Storage::V128,
            V::Ref(r) => Storage::Ref { nullable: r.is_nullable(), heap: key_heap(r.heap_type(), start, type_ids)? },
        },
    })
}

fn key_heap(h: wasmparser::HeapType, start: u32, type_ids: &[u32]) -> Result<Heap> {
    match h {
        wasmparser::HeapType::Abstract { shared, ty } => Ok(Heap::Abstract { shared, ty }),
        wasmparser::HeapType::Concrete(wasmparser::UnpackedIndex::Module(i)) => Ok(if i >= start {
            Heap::Local(i - start)
        } else {
            Heap::Canon(*type_ids.get(i as usize).ok_or_else(|| Error::compile("unknown type"))?)
        }),
        other => Err(ErrorKind::Unsupported(format!("heap type {other:?}")).into()),
    }
}

/// The key of a recursive type group whose first type has module index `start`.
fn key_group(rec: &wasmparser::RecGroup, start: u32, type_ids: &[u32]) -> Result<Box<[SubType]>> {
    let field = |f: &wasmparser::FieldType| Ok((key_storage(f.element_type, start, type_ids)?, f.mutable));
    rec.types()
        .map(|sub| {
            let supertype = match sub.supertype_idxs.first() {
                Some(idx) => match idx.unpack() {
                    wasmparser::UnpackedIndex::Module(i) => Some(key_heap(
                        wasmparser::HeapType::Concrete(wasmparser::UnpackedIndex::Module(i)),
                        start,
                        type_ids,
                    )?),
                    _ => return Err(Error::compile("unexpected supertype index")),
                },
                None => None,
            };
            let ct = &sub.composite_type;
            let composite = match &ct.inner {
                wasmparser::CompositeInnerType::Func(f) => {
                    let conv = |t: &wasmparser::ValType| key_storage(wasmparser::StorageType::Val(*t), start, type_ids);
                    Composite::Func {
                        params: f.params().iter().map(conv).collect::<Result<_>>()?,
                        results: f.results().iter().map(conv).collect::<Result<_>>()?,
                    }
                }
                wasmparser::CompositeInnerType::Struct(st) => {
                    Composite::Struct(st.fields.iter().map(field).collect::<Result<_>>()?)
                }
                wasmparser::CompositeInnerType::Array(a) => {
                    let (s, m) = field(&a.0)?;
                    Composite::Array(s, m)
                }
                wasmparser::CompositeInnerType::Cont(_) => {
                    return Err(ErrorKind::Unsupported("continuation types (stack switching)".into()).into());
                }
            };
            Ok(SubType { is_final: sub.is_final, shared: ct.shared, supertype, composite })
        })
        .collect()
}

fn table_type(t: &wasmparser::TableType, type_ids: &[u32]) -> Result<TableType> {
    if t.shared {
        return Err(ErrorKind::Unsupported("shared tables".into()).into());
    }
    let element = ref_type(t.element_type, type_ids)?;
    if t.table64 {
        // A 64-bit table's limits may pass `u32`; no table can be that large (the store's
        // limits are `u32`s), so they saturate: such a minimum fails at instantiation.
        let sat = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        return Ok(TableType::new64(element, sat(t.initial), t.maximum.map(sat)));
    }
    let to32 = |v: u64| u32::try_from(v).map_err(|_| Error::compile("table size out of range"));
    Ok(TableType::new(element, to32(t.initial)?, t.maximum.map(to32).transpose()?))
}

fn memory_type(m: &wasmparser::MemoryType) -> Result<MemoryType> {
    let ty = MemoryType::from_parts(m.initial, m.maximum, m.memory64, m.shared);
    Ok(match m.page_size_log2 {
        // The validator admits only the sizes WebAssembly defines (1 byte and 64 KiB).
        Some(log2) => {
            ty.with_page_size_log2(u8::try_from(log2).map_err(|_| Error::compile("invalid custom page size"))?)
        }
        None => ty,
    })
}

fn global_type(g: &wasmparser::GlobalType, type_ids: &[u32]) -> Result<GlobalType> {
    let m = if g.mutable { Mutability::Var } else { Mutability::Const };
    Ok(GlobalType::new(val_type(g.content_type, type_ids)?, m))
}

fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr> {
    let mut ops = Vec::new();
    let mut reader = expr.get_operators_reader();
    while !reader.eof() {
        let op = reader.read().map_err(decode_error)?;
        ops.push(match op {
            Operator::I32Const { value } => ConstOp::I32(value),
            Operator::I64Const { value } => ConstOp::I64(value),
            Operator::F32Const { value } => ConstOp::F32(value.bits()),
            Operator::F64Const { value } => ConstOp::F64(value.bits()),
            Operator::V128Const { value } => ConstOp::V128(value.i128() as u128),
            Operator::RefNull { .. } => ConstOp::RefNull,
            Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            Operator::RefI31 => ConstOp::RefI31,
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            Operator::AnyConvertExtern => ConstOp::AnyConvertExtern,
            Operator::ExternConvertAny => ConstOp::ExternConvertAny,
            Operator::StructNew { struct_type_index } => ConstOp::StructNew(struct_type_index),
            Operator::StructNewDefault { struct_type_index } => ConstOp::StructNewDefault(struct_type_index),
            Operator::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
            Operator::ArrayNewDefault { array_type_index } => ConstOp::ArrayNewDefault(array_type_index),
            Operator::ArrayNewFixed { array_type_index, array_size } => {
                ConstOp::ArrayNewFixed(array_type_index, array_size)
            }
            Operator::End => continue,
            other => {
                return Err(Error::compile(format!("unsupported constant expression operator {other:?}")));
            }
        });
    }
    Ok(ConstExpr { ops: ops.into() })
}

fn index_kind(kind: ExternalKind) -> Result<EntityKind> {
    Ok(match kind {
        ExternalKind::Func | ExternalKind::FuncExact => EntityKind::Func,
        ExternalKind::Table => EntityKind::Table,
        ExternalKind::Memory => EntityKind::Memory,
        ExternalKind::Global => EntityKind::Global,
        ExternalKind::Tag => EntityKind::Tag,
    })
}

/// A function body, decoded from the code section and still to be validated.
pub(crate) struct FuncBody<'a> {
    /// Index of the function in the module's function space (imports first).
    pub(crate) func_index: u32,
    /// Its locals and code.
    pub(crate) body: wasmparser::FunctionBody<'a>,
    /// What its validator is made from.
    pub(crate) to_validate: wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
}

/// Decodes and validates a binary module, except for its function bodies: they are
/// pushed to `bodies` as they are read, for the caller to validate (and translate).
///
/// On an error, `bodies` holds the bodies read before it: an invalid one among them comes
/// earlier in the binary, and so is the module's first error.
pub(crate) fn parse<'a>(engine: &Engine, bytes: &'a [u8], bodies: &mut Vec<FuncBody<'a>>) -> Result<ModuleInner> {
    let mut validator = Validator::new_with_features(engine.config().wasm_features());
    let mut m = ModuleInner {
        engine: engine.clone(),
        name: None,
        types: Vec::new(),
        type_ids: Vec::new(),
        gc_types: Vec::new(),
        imports: Vec::new(),
        funcs: Vec::new(),
        num_imported_funcs: 0,
        tables: Vec::new(),
        num_imported_tables: 0,
        table_inits: Vec::new(),
        memories: Vec::new(),
        num_imported_memories: 0,
        globals: Vec::new(),
        num_imported_globals: 0,
        global_inits: Vec::new(),
        tags: Vec::new(),
        num_imported_tags: 0,
        exports: Vec::new(),
        start: None,
        elems: Vec::new(),
        datas: Vec::new(),
        num_bodies: 0,
        func_names: Default::default(),
    };

    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(decode_error)?;
        let valid = validator.payload(&payload).map_err(decode_error)?;
        match payload {
            Payload::TypeSection(reader) => {
                for rec in reader {
                    let rec = rec.map_err(decode_error)?;
                    let start = u32::try_from(m.type_ids.len()).map_err(|_| Error::compile("too many types"))?;
                    let first = engine.register_group(key_group(&rec, start, &m.type_ids)?)?;
                    for (i, sub) in rec.types().enumerate() {
                        let id = first + i as u32;
                        m.type_ids.push(id);
                        // Struct and array types get an empty signature (the validator lets
                        // no call or function declaration name them) and a layout.
                        m.types.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(_) => engine.resolve_type(id),
                            _ => FuncType::new([], []),
                        });
                        m.gc_types.push(engine.gc_type(id));
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for imp in reader.into_imports() {
                    let imp = imp.map_err(decode_error)?;
                    let kind = match imp.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            m.funcs.push(t);
                            m.num_imported_funcs += 1;
                            ImportKind::Func(t)
                        }
                        TypeRef::Table(t) => {
                            let t = table_type(&t, &m.type_ids)?;
                            m.tables.push(t);
                            m.num_imported_tables += 1;
                            ImportKind::Table(t)
                        }
                        TypeRef::Memory(mt) => {
                            let mt = memory_type(&mt)?;
                            m.memories.push(mt);
                            m.num_imported_memories += 1;
                            ImportKind::Memory(mt)
                        }
                        TypeRef::Global(g) => {
                            let g = global_type(&g, &m.type_ids)?;
                            m.globals.push(g);
                            m.num_imported_globals += 1;
                            ImportKind::Global(g)
                        }
                        TypeRef::Tag(t) => {
                            m.tags.push(t.func_type_idx);
                            m.num_imported_tags += 1;
                            ImportKind::Tag(t.func_type_idx)
                        }
                    };
                    m.imports.push(Import { module: imp.module.to_string(), name: imp.name.to_string(), kind });
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    m.funcs.push(t.map_err(decode_error)?);
                }
            }
            Payload::TableSection(reader) => {
                for t in reader {
                    let t = t.map_err(decode_error)?;
                    m.tables.push(table_type(&t.ty, &m.type_ids)?);
                    m.table_inits.push(match &t.init {
                        TableInit::RefNull => None,
                        TableInit::Expr(e) => Some(const_expr(e)?),
                    });
                }
            }
            Payload::MemorySection(reader) => {
                let r = reader.range();
                check_memory_leb_lengths(bytes.get(r.start as usize..r.end as usize).unwrap_or(&[]))?;
                for mt in reader {
                    m.memories.push(memory_type(&mt.map_err(decode_error)?)?);
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    let g = g.map_err(decode_error)?;
                    m.globals.push(global_type(&g.ty, &m.type_ids)?);
                    m.global_inits.push(const_expr(&g.init_expr)?);
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e.map_err(decode_error)?;
                    m.exports.push(Export { name: e.name.to_string(), kind: index_kind(e.kind)?, index: e.index });
                }
            }
            Payload::TagSection(reader) => {
                for t in reader {
                    m.tags.push(t.map_err(decode_error)?.func_type_idx);
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(reader) => {
                for e in reader {
                    let e = e.map_err(decode_error)?;
                    let mode = match e.kind {
                        ElementKind::Passive => SegmentMode::Passive,
                        ElementKind::Declared => SegmentMode::Declared,
                        ElementKind::Active { table_index, offset_expr } => {
                            SegmentMode::Active { index: table_index.unwrap_or(0), offset: const_expr(&offset_expr)? }
                        }
                    };
                    let items = match e.items {
                        ElementItems::Functions(r) => {
                            ElemItems::Funcs(r.into_iter().collect::<Result<Vec<_>, _>>().map_err(decode_error)?.into())
                        }
                        ElementItems::Expressions(_, r) => {
                            let mut exprs = Vec::new();
                            for ex in r {
                                exprs.push(const_expr(&ex.map_err(decode_error)?)?);
                            }
                            ElemItems::Exprs(exprs.into())
                        }
                    };
                    m.elems.push(ElemSegment { mode, items });
                }
            }
            Payload::DataSection(reader) => {
                for d in reader {
                    let d = d.map_err(decode_error)?;
                    let mode = match d.kind {
                        DataKind::Passive => SegmentMode::Passive,
                        DataKind::Active { memory_index, offset_expr } => {
                            SegmentMode::Active { index: memory_index, offset: const_expr(&offset_expr)? }
                        }
                    };
                    m.datas.push(DataSegment { mode, bytes: Arc::from(d.data) });
                }
            }
            Payload::CustomSection(reader) => {
                // Names only serve diagnostics: a malformed name section is ignored.
                if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                    read_names(&mut m, names);
                }
            }
            Payload::CodeSectionEntry(body) => {
                let wasmparser::ValidPayload::Func(to_validate, _) = valid else {
                    return Err(Error::compile("code entry without a function to validate"));
                };
                let func_index = m.num_imported_funcs + m.num_bodies;
                bodies.push(FuncBody { func_index, body, to_validate });
                m.num_bodies += 1;
            }
            _ => {}
        }
    }
    Ok(m)
}

/// Reads one unsigned LEB128 at `*at`, returning its encoded length in bytes.
fn leb_len(bytes: &[u8], at: &mut usize) -> Result<usize> {
    let start = *at;
    loop {
        let b = *bytes.get(*at).ok_or_else(|| Error::compile("unexpected end of section"))?;
        *at += 1;
        if b & 0x80 == 0 {
            return Ok(*at - start);
        }
    }
}

/// `wasmparser` reads memory limits as 64-bit LEB128s (for memory64); a 32-bit memory's
/// limits are `u32`s, whose encoding is at most 5 bytes.
fn check_memory_leb_lengths(section: &[u8]) -> Result<()> {
    let mut at = 0;
    let mut count: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *section.get(at).ok_or_else(|| Error::compile("unexpected end of memory section"))?;
        at += 1;
        count |= u64::from(b & 0x7f) << shift.min(63);
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    for _ in 0..count {
        let flags = *section.get(at).ok_or_else(|| Error::compile("unexpected end of memory section"))?;
        at += 1;
        // A 64-bit memory's limits are `u64`s (left to wasmparser beyond their length).
        let max_len = if flags & 0x04 != 0 { 10 } else { 5 };
        let limits = if flags & 0x01 != 0 { 2 } else { 1 };
        for _ in 0..limits {
            if leb_len(section, &mut at)? > max_len {
                return Err(Error::compile("integer representation too long"));
            }
        }
        if flags & 0x08 != 0 {
            // custom page size: left to wasmparser.
            return Ok(());
        }
    }
    Ok(())
}

/// Reads the module and function names of a name section, ignoring anything malformed.
fn read_names(m: &mut ModuleInner, names: wasmparser::NameSectionReader<'_>) {
    for name in names.into_iter().flatten() {
        match name {
            wasmparser::Name::Module { name, .. } => m.name = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                for naming in map.into_iter().flatten() {
                    m.func_names.insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
}
