//! Instances: [`Instance`] and instantiation (import checks, segments, start function).

use std::sync::Arc;

use super::func::{Func, TypedFunc, WasmTyList};
use super::global::Global;
use super::memory::Memory;
use super::module::Module;
use super::table::Table;
use super::tag::Tag;
use super::value::{Export, Extern};
use crate::engine::layout::{FieldKind, GcLayout};
use crate::error::{Error, Result, TrapCode};
use crate::exec::call_func;
use crate::exec::state::gc::GcHeap;
use crate::exec::state::{FuncEntity, InstanceEntity, MemoryEntity, StoreInner, Stored};
use crate::module::{ConstExpr, ConstOp, ElemItems, EntityKind, ImportKind, ModuleInner, SegmentMode};
use crate::store::{AsContextMut, Store};
use crate::types::{MemoryType, Mutability};

impl InstanceEntity {
    pub(crate) fn extern_at(&self, inner: &StoreInner, kind: EntityKind, index: u32) -> Extern {
        let i = index as usize;
        match kind {
            EntityKind::Func => Extern::Func(Func(inner.stored(self.funcs[i] as usize))),
            EntityKind::Table => Extern::Table(Table(inner.stored(self.tables[i] as usize))),
            EntityKind::Memory => {
                let index = self.memories[i] as usize;
                match &inner.memories[index].shared {
                    Some(shared) => Extern::SharedMemory(shared.clone()),
                    None => Extern::Memory(Memory(inner.stored(index))),
                }
            }
            EntityKind::Global => Extern::Global(Global(inner.stored(self.globals[i] as usize))),
            EntityKind::Tag => Extern::Tag(Tag(inner.stored(self.tags[i] as usize))),
        }
    }

    pub(crate) fn export(&self, inner: &StoreInner, name: &str) -> Option<Extern> {
        let e = self.module.exports.iter().find(|e| e.name == name)?;
        Some(self.extern_at(inner, e.kind, e.index))
    }
}

/// An instantiated module: a handle, used together with the store that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance(pub(crate) Stored);

impl Instance {
    /// Instantiates `module` with `imports` given in the module's import order.
    ///
    /// # Errors
    ///
    /// A link error if the imports do not match (count, kinds, types), a resource-limit
    /// error, or a trap raised while initialising segments or running the start function.
    pub fn new<T>(mut store: impl AsContextMut<Data = T>, module: &Module, imports: &[Extern]) -> Result<Instance> {
        let ctx = store.as_context_mut();
        instantiate(ctx.0, module, imports)
    }

    fn entity<'a, T>(&self, store: &'a Store<T>) -> &'a InstanceEntity {
        &store.inner.instances[store.inner.index(self.0)]
    }

    /// The exports, in the module's export order.
    pub fn exports(&self, mut store: impl AsContextMut) -> std::vec::IntoIter<Export> {
        let ctx = store.as_context_mut();
        let e = self.entity(ctx.0);
        let list: Vec<Export> = e
            .module
            .exports
            .iter()
            .map(|x| Export { name: x.name.clone(), item: e.extern_at(&ctx.0.inner, x.kind, x.index) })
            .collect();
        list.into_iter()
    }

    /// The export named `name`.
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let ctx = store.as_context_mut();
        self.entity(ctx.0).export(&ctx.0.inner, name)
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported memory `name`.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported shared memory `name` (threads).
    pub fn get_shared_memory(&self, store: impl AsContextMut, name: &str) -> Option<crate::SharedMemory> {
        self.get_export(store, name)?.into_shared_memory()
    }

    /// The exported global `name`.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The exported tag `name`.
    pub fn get_tag(&self, store: impl AsContextMut, name: &str) -> Option<Tag> {
        self.get_export(store, name)?.into_tag()
    }

    /// The exported table `name`.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported function `name` with a static signature.
    ///
    /// # Errors
    ///
    /// If there is no such function export or its type does not match.
    pub fn get_typed_func<Params: WasmTyList, Results: WasmTyList>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let mut ctx = store.as_context_mut();
        let f =
            self.get_func(&mut ctx, name).ok_or_else(|| Error::msg(format!("no exported function named `{name}`")))?;
        f.typed(&ctx)
    }
}

fn incompatible(imp: &crate::module::Import, why: impl std::fmt::Display) -> Error {
    Error::link(format!("incompatible import type for `{}::{}`: {why}", imp.module, imp.name))
}

fn limits_match(actual_min: u64, actual_max: Option<u64>, want_min: u64, want_max: Option<u64>) -> bool {
    actual_min >= want_min
        && match want_max {
            None => true,
            Some(w) => actual_max.is_some_and(|a| a <= w),
        }
}

fn check_import(
    inner: &mut StoreInner,
    imp: &crate::module::Import,
    module: &ModuleInner,
    item: &Extern,
) -> Result<u32> {
    match (&imp.kind, item) {
        (ImportKind::Func(t), Extern::Func(f)) => {
            if !inner.owns(f.0) {
                return Err(incompatible(imp, "function from another store"));
            }
            let have = inner.funcs[f.0.index as usize].type_id();
            if !inner.engine.func_subtype(have, module.type_ids[*t as usize]) {
                let want = &module.types[*t as usize];
                return Err(incompatible(imp, format!("expected {want}, found {}", inner.engine.resolve_type(have))));
            }
            Ok(f.0.index)
        }
        (ImportKind::Table(want), Extern::Table(t)) => {
            if !inner.owns(t.0) {
                return Err(incompatible(imp, "table from another store"));
            }
            let e = &inner.tables[t.0.index as usize];
            let ok = e.ty.element() == want.element()
                && e.ty.is_64() == want.is_64()
                && limits_match(
                    u64::from(e.size()),
                    e.ty.maximum().map(u64::from),
                    u64::from(want.minimum()),
                    want.maximum().map(u64::from),
                );
            if !ok {
                return Err(incompatible(imp, "table type or limits do not match"));
            }
            Ok(t.0.index)
        }
        (ImportKind::Memory(want), Extern::Memory(m)) => {
            if !inner.owns(m.0) {
                return Err(incompatible(imp, "memory from another store"));
            }
            let e = &inner.memories[m.0.index as usize];
            let bits = |is_64: bool| if is_64 { "64-bit" } else { "32-bit" };
            if e.ty.is_64() != want.is_64() {
                let (want, found) = (bits(want.is_64()), bits(e.ty.is_64()));
                return Err(incompatible(imp, format!("expected a {want} memory, found a {found} memory")));
            }
            if e.ty.is_shared() != want.is_shared() {
                return Err(incompatible(imp, "memory sharedness does not match"));
            }
            if e.ty.page_size_log2() != want.page_size_log2() {
                let (want, found) = (want.page_size(), e.ty.page_size());
                return Err(incompatible(imp, format!("expected pages of {want} bytes, found pages of {found} bytes")));
            }
            if !limits_match(e.size_pages(), e.ty.maximum(), want.minimum(), want.maximum()) {
                return Err(incompatible(imp, "memory limits do not match"));
            }
            Ok(m.0.index)
        }
        (ImportKind::Memory(want), Extern::SharedMemory(shared)) => {
            let shared = shared.clone();
            let ty = shared.ty();
            if !want.is_shared() {
                return Err(incompatible(imp, "expected an unshared memory, found a shared memory"));
            }
            if ty.is_64() != want.is_64() {
                return Err(incompatible(imp, "memory index types (32/64-bit) do not match"));
            }
            if ty.page_size_log2() != want.page_size_log2() {
                return Err(incompatible(imp, "memory page sizes do not match"));
            }
            if !limits_match(shared.size(), ty.maximum(), want.minimum(), want.maximum()) {
                return Err(incompatible(imp, "memory limits do not match"));
            }
            if inner.memories.len() >= inner.limits.memories {
                return Err(Error::limit("too many memories in the store"));
            }
            // The store gets its own entry for the memory; the bytes stay shared.
            inner.memories.push(MemoryEntity::from_shared(shared));
            u32::try_from(inner.memories.len() - 1).map_err(|_| Error::limit("too many memories in the store"))
        }
        (ImportKind::Global(want), Extern::Global(g)) => {
            if !inner.owns(g.0) {
                return Err(incompatible(imp, "global from another store"));
            }
            // A mutable global's type must be the same (wasm code both reads and writes it); an
            // immutable one's may be a subtype.
            let have = inner.globals[g.0.index as usize].ty;
            let ok = have.mutability() == want.mutability()
                && match want.mutability() {
                    Mutability::Var => have.content() == want.content(),
                    Mutability::Const => inner.engine.val_subtype(have.content(), want.content()),
                };
            if !ok {
                return Err(incompatible(imp, format!("expected {}, found {}", want.content(), have.content())));
            }
            Ok(g.0.index)
        }
        (ImportKind::Tag(t), Extern::Tag(tag)) => {
            if !inner.owns(tag.0) {
                return Err(incompatible(imp, "tag from another store"));
            }
            // Tag types match exactly: a handler reads the payload as the type says.
            let have = inner.tags[tag.0.index as usize];
            if have != module.type_ids[*t as usize] {
                let want = &module.types[*t as usize];
                return Err(incompatible(
                    imp,
                    format!("expected tag {want}, found {}", inner.engine.resolve_type(have)),
                ));
            }
            Ok(tag.0.index)
        }
        _ => Err(incompatible(imp, "wrong kind of import")),
    }
}

/// Evaluates a constant expression without GC allocations (a segment offset) in the
/// context of a partly built instance.
pub(crate) fn eval_const(inner: &StoreInner, funcs: &[u32], globals: &[u32], expr: &ConstExpr) -> u128 {
    let mut stack: Vec<u128> = Vec::with_capacity(2);
    for op in expr.ops.iter() {
        let v = simple_const_op(inner, funcs, globals, op, &mut stack).unwrap_or(0);
        stack.push(v);
    }
    stack.pop().unwrap_or(0)
}

/// Evaluates a constant expression that may allocate GC objects (a global's initialiser,
/// a table's, an element). No collection runs while an instance is built: the objects
/// made so far are referenced from nowhere yet. `m` is the instance's module.
pub(crate) fn eval_const_gc(
    inner: &mut StoreInner,
    m: &ModuleInner,
    funcs: &[u32],
    globals: &[u32],
    expr: &ConstExpr,
) -> Result<u128> {
    let mut stack: Vec<u128> = Vec::with_capacity(2);
    for op in expr.ops.iter() {
        if let Some(v) = simple_const_op(inner, funcs, globals, op, &mut stack) {
            stack.push(v);
            continue;
        }
        let ty = match *op {
            ConstOp::StructNew(t)
            | ConstOp::StructNewDefault(t)
            | ConstOp::ArrayNew(t)
            | ConstOp::ArrayNewDefault(t)
            | ConstOp::ArrayNewFixed(t, _) => m.gc_types.get(t as usize).cloned().flatten(),
            _ => None,
        };
        let ty = ty.ok_or_else(|| Error::msg("internal error: a constant allocation of a non-GC type"))?;
        let heap_full = || Error::trap(TrapCode::GcHeapExhausted);
        let check = |inner: &StoreInner, cost: Option<usize>| {
            let cost = cost.ok_or_else(heap_full)?;
            if inner.gc.bytes().saturating_add(cost) as u64 > inner.limits.gc_heap_bytes {
                return Err(heap_full());
            }
            Ok(())
        };
        let r = match *op {
            ConstOp::StructNew(_) | ConstOp::StructNewDefault(_) => {
                check(inner, Some(GcHeap::struct_cost(&ty)))?;
                let fields = match (&ty.layout, *op) {
                    (GcLayout::Struct { fields, .. }, ConstOp::StructNew(_)) => {
                        let mut slots = Vec::new();
                        let values = stack.split_off(stack.len().saturating_sub(fields.len()));
                        for (f, v) in fields.iter().zip(values) {
                            slots.push(v as u64);
                            if f.kind == FieldKind::V128 {
                                slots.push((v >> 64) as u64);
                            }
                        }
                        Some(slots)
                    }
                    _ => None,
                };
                inner.gc.alloc_struct(&ty, fields.as_deref())
            }
            ConstOp::ArrayNew(_) | ConstOp::ArrayNewDefault(_) => {
                let n = stack.pop().unwrap_or(0) as u32;
                let init = if matches!(op, ConstOp::ArrayNew(_)) { stack.pop().unwrap_or(0) } else { 0 };
                check(inner, GcHeap::array_cost(&ty, n))?;
                inner.gc.alloc_array(&ty, n, [init as u64, (init >> 64) as u64])
            }
            ConstOp::ArrayNewFixed(_, n) => {
                check(inner, GcHeap::array_cost(&ty, n))?;
                let wide = matches!(ty.layout, GcLayout::Array { elem: FieldKind::V128, .. });
                let values = stack.split_off(stack.len().saturating_sub(n as usize));
                let mut slots = Vec::with_capacity(values.len() * 2);
                for v in values {
                    slots.push(v as u64);
                    if wide {
                        slots.push((v >> 64) as u64);
                    }
                }
                inner.gc.alloc_array_from(&ty, &slots)
            }
            _ => return Err(Error::msg("internal error: unknown constant operator")),
        };
        stack.push(u128::from(r.map_err(Error::trap)?));
    }
    Ok(stack.pop().unwrap_or(0))
}

/// The value of a constant operator that allocates nothing (`None` for one that does),
/// its operands popped from `stack`.
fn simple_const_op(
    inner: &StoreInner,
    funcs: &[u32],
    globals: &[u32],
    op: &ConstOp,
    stack: &mut Vec<u128>,
) -> Option<u128> {
    Some(match *op {
        ConstOp::I32(v) => u128::from(v as u32),
        ConstOp::I64(v) => u128::from(v as u64),
        ConstOp::F32(v) => u128::from(v),
        ConstOp::F64(v) => u128::from(v),
        ConstOp::V128(v) => v,
        ConstOp::RefNull => 0,
        ConstOp::RefFunc(f) => u128::from(funcs[f as usize]) + 1,
        ConstOp::RefI31 => {
            let x = stack.pop().unwrap_or(0);
            u128::from(crate::types::I31::wrapping_u32(x as u32).to_ref_bits())
        }
        // The slot encodings of `any` and `extern` references agree.
        ConstOp::AnyConvertExtern | ConstOp::ExternConvertAny => stack.pop().unwrap_or(0),
        ConstOp::GlobalGet(g) => {
            let g = &inner.globals[globals[g as usize] as usize];
            u128::from(g.value) | (u128::from(g.value_hi) << 64)
        }
        ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul | ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
            let b = stack.pop().unwrap_or(0);
            let a = stack.pop().unwrap_or(0);
            let (a, b) = (a as u64, b as u64);
            u128::from(match *op {
                ConstOp::I32Add => u64::from((a as u32).wrapping_add(b as u32)),
                ConstOp::I32Sub => u64::from((a as u32).wrapping_sub(b as u32)),
                ConstOp::I32Mul => u64::from((a as u32).wrapping_mul(b as u32)),
                ConstOp::I64Add => a.wrapping_add(b),
                ConstOp::I64Sub => a.wrapping_sub(b),
                _ => a.wrapping_mul(b),
            })
        }
        ConstOp::StructNew(_)
        | ConstOp::StructNewDefault(_)
        | ConstOp::ArrayNew(_)
        | ConstOp::ArrayNewDefault(_)
        | ConstOp::ArrayNewFixed(..) => return None,
    })
}

pub(crate) fn instantiate<T>(store: &mut Store<T>, module: &Module, imports: &[Extern]) -> Result<Instance> {
    let m = &module.inner;
    if !crate::Engine::same(&m.engine, &store.inner.engine) {
        return Err(Error::link("module and store belong to different engines"));
    }
    if imports.len() != m.imports.len() {
        return Err(Error::link(format!("expected {} imports, got {}", m.imports.len(), imports.len())));
    }
    let inner = &mut store.inner;
    if inner.instances.len() >= inner.limits.instances {
        return Err(Error::limit("too many instances in the store"));
    }
    let mut funcs = Vec::with_capacity(m.funcs.len());
    let mut tables = Vec::with_capacity(m.tables.len());
    let mut memories = Vec::with_capacity(m.memories.len());
    let mut globals = Vec::with_capacity(m.globals.len());
    let mut tags = Vec::with_capacity(m.tags.len());
    for (imp, item) in m.imports.iter().zip(imports) {
        let index = check_import(inner, imp, m, item)?;
        match imp.kind {
            ImportKind::Func(_) => funcs.push(index),
            ImportKind::Table(_) => tables.push(index),
            ImportKind::Memory(_) => memories.push(index),
            ImportKind::Global(_) => globals.push(index),
            ImportKind::Tag(_) => tags.push(index),
        }
    }
    let instance_index = u32::try_from(inner.instances.len()).map_err(|_| Error::limit("too many instances"))?;
    for i in 0..module.code.len() {
        let ty = m.funcs[m.num_imported_funcs as usize + i];
        inner.funcs.push(FuncEntity::Wasm {
            type_id: m.type_ids[ty as usize],
            instance: instance_index,
            code: module.code.clone(),
            index: i as u32,
        });
        funcs.push((inner.funcs.len() - 1) as u32);
    }
    for (i, ty) in m.globals[m.num_imported_globals as usize..].iter().enumerate() {
        let value = eval_const_gc(inner, m, &funcs, &globals, &m.global_inits[i])?;
        globals.push(Global::new_in(inner, *ty, value).0.index);
    }
    for (i, ty) in m.tables[m.num_imported_tables as usize..].iter().enumerate() {
        let init = match &m.table_inits[i] {
            Some(e) => eval_const_gc(inner, m, &funcs, &globals, e)? as u64,
            None => 0,
        };
        tables.push(Table::new_in(inner, *ty, init)?.0.index);
    }
    for &ty in &m.tags[m.num_imported_tags as usize..] {
        tags.push(Tag::new_in(inner, m.type_ids[ty as usize])?.0.index);
    }
    for ty in &m.memories[m.num_imported_memories as usize..] {
        let ty: MemoryType = *ty;
        memories.push(Memory::new_in(inner, ty)?.0.index);
    }
    let mut elems: Vec<Arc<[u64]>> = Vec::with_capacity(m.elems.len());
    for seg in &m.elems {
        let items: Vec<u64> = match &seg.items {
            ElemItems::Funcs(fs) => fs.iter().map(|&f| u64::from(funcs[f as usize]) + 1).collect(),
            ElemItems::Exprs(es) => es
                .iter()
                .map(|e| eval_const_gc(inner, m, &funcs, &globals, e).map(|v| v as u64))
                .collect::<Result<_>>()?,
        };
        elems.push(items.into());
    }
    let datas: Vec<Arc<[u8]>> = m.datas.iter().map(|d| d.bytes.clone()).collect();
    inner.instances.push(InstanceEntity {
        module: m.clone(),
        code: module.code.clone(),
        funcs,
        tables,
        memories,
        globals,
        tags,
        elems,
        datas,
    });
    let instance = Instance(inner.stored(instance_index as usize));

    // Active and declared element segments, in order; then data segments.
    let empty_elems: Arc<[u64]> = Arc::new([]);
    for (i, seg) in m.elems.iter().enumerate() {
        let inst = &inner.instances[instance_index as usize];
        match &seg.mode {
            SegmentMode::Active { index, offset } => {
                let items = inst.elems[i].clone();
                let table = inst.tables[*index as usize] as usize;
                // An `i64` offset for a 64-bit table: past `u32` it is out of bounds anyway.
                let offset =
                    u32::try_from(eval_const(inner, &inst.funcs, &inst.globals, offset) as u64).unwrap_or(u32::MAX);
                inner.tables[table].init(offset, &items, 0, items.len() as u32).map_err(Error::trap)?;
                inner.instances[instance_index as usize].elems[i] = empty_elems.clone();
            }
            SegmentMode::Declared => {
                inner.instances[instance_index as usize].elems[i] = empty_elems.clone();
            }
            SegmentMode::Passive => {}
        }
    }
    let empty_data: Arc<[u8]> = Arc::new([]);
    for (i, seg) in m.datas.iter().enumerate() {
        if let SegmentMode::Active { index, offset } = &seg.mode {
            let inst = &inner.instances[instance_index as usize];
            let mem = inst.memories[*index as usize] as usize;
            let offset = eval_const(inner, &inst.funcs, &inst.globals, offset) as u64;
            // An `i32` offset for a 32-bit memory, an `i64` one for a 64-bit memory.
            let offset = if inner.memories[mem].ty.is_64() { offset } else { u64::from(offset as u32) };
            inner.memories[mem]
                .init(offset, &seg.bytes, 0, seg.bytes.len() as u64)
                .map_err(|_| Error::trap(TrapCode::MemoryOutOfBounds))?;
            inner.instances[instance_index as usize].datas[i] = empty_data.clone();
        }
    }
    if let Some(start) = m.start {
        let f = inner.instances[instance_index as usize].funcs[start as usize] as usize;
        call_func(store, f, &mut [])?;
    }
    Ok(instance)
}
