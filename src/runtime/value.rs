//! Values ([`Val`]), host references ([`ExternRef`]) and external values ([`Extern`]).

use super::func::Func;
use super::global::Global;
use super::memory::Memory;
use super::table::Table;
use super::tag::Tag;
use crate::error::{Error, ExnRef, Result};
use std::sync::Arc;

use crate::exec::state::gc::{self, GcRoot};
use crate::exec::state::{ExternRef, StoreInner};
use crate::linear::SharedMemory;
use crate::types::{HeapType, Hierarchy, I31, ValType};

/// A WebAssembly value. Floats are raw bits, so NaN payloads survive a round trip.
#[derive(Debug, Clone)]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// The bits of an `f32`.
    F32(u32),
    /// The bits of an `f64`.
    F64(u64),
    /// A `v128`, lane 0 in the lowest bits.
    V128(u128),
    /// A `funcref`.
    FuncRef(Option<Func>),
    /// An `externref`.
    ExternRef(Option<ExternRef>),
    /// An `exnref`: a reference to a wasm exception.
    ExnRef(Option<ExnRef>),
    /// An `anyref`: a reference of the GC proposal's `any` hierarchy (an `eqref`, an
    /// `i31ref`, ...). Only `i31` references exist so far: GC objects are not supported yet.
    AnyRef(Option<AnyRef>),
}

/// A non-null reference of the GC proposal's `any` hierarchy: an [`I31`], a struct or
/// array object of a store's GC heap, or a host reference converted with
/// `any.convert_extern`.
///
/// A reference to an object keeps it alive (it is a root of the store's collector) for as
/// long as the `AnyRef` or a clone of it lives, so it cannot dangle.
///
/// ```
/// use wasmguard::{AnyRef, I31};
/// let r = AnyRef::from_i31(I31::wrapping_i32(-5));
/// assert_eq!(r.as_i31().map(I31::get_i32), Some(-5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnyRef(AnyRefKind);

#[derive(Debug, Clone)]
enum AnyRefKind {
    I31(I31),
    /// A struct or array of a store's heap, rooted.
    Object(Arc<GcRoot>),
    /// A host reference (`any.convert_extern` of an `externref`).
    Host(ExternRef),
}

impl PartialEq for AnyRefKind {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AnyRefKind::I31(a), AnyRefKind::I31(b)) => a == b,
            (AnyRefKind::Object(a), AnyRefKind::Object(b)) => a.store_id == b.store_id && a.bits == b.bits,
            (AnyRefKind::Host(a), AnyRefKind::Host(b)) => ExternRef::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for AnyRefKind {}

impl std::hash::Hash for AnyRefKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            AnyRefKind::I31(v) => v.hash(state),
            AnyRefKind::Object(r) => (r.store_id, r.bits).hash(state),
            AnyRefKind::Host(e) => e.addr().hash(state),
        }
    }
}

/// The private wrapper an `externref` made by `extern.convert_any` carries to the host: the
/// `any` reference it converts, which goes back to wasm as itself.
struct Externalized(AnyRef);

impl AnyRef {
    /// The reference to an `i31` value (`ref.i31`).
    pub fn from_i31(value: I31) -> AnyRef {
        AnyRef(AnyRefKind::I31(value))
    }

    /// The `i31` value, if this is one.
    pub fn as_i31(&self) -> Option<I31> {
        match self.0 {
            AnyRefKind::I31(v) => Some(v),
            _ => None,
        }
    }

    /// Whether this is an `i31`.
    pub fn is_i31(&self) -> bool {
        self.as_i31().is_some()
    }

    /// Whether this is a struct object.
    pub fn is_struct(&self) -> bool {
        matches!(&self.0, AnyRefKind::Object(r) if r.bits & gc::ARRAY_BIT == 0)
    }

    /// Whether this is an array object.
    pub fn is_array(&self) -> bool {
        matches!(&self.0, AnyRefKind::Object(r) if r.bits & gc::ARRAY_BIT != 0)
    }

    /// Whether this is a host reference (made by `any.convert_extern`).
    pub fn is_host(&self) -> bool {
        matches!(self.0, AnyRefKind::Host(_))
    }

    /// `extern.convert_any`: this reference as an `externref`, which converts back to
    /// the same reference (`any.convert_extern`) when it returns to wasm.
    pub fn to_extern(&self) -> ExternRef {
        match &self.0 {
            AnyRefKind::Host(e) => e.clone(),
            _ => ExternRef::new(Externalized(self.clone())),
        }
    }

    /// `any.convert_extern`: the `any` reference of an `externref` (the one it was made
    /// from, if [`to_extern`](Self::to_extern) made it).
    pub fn from_extern(e: &ExternRef) -> AnyRef {
        match e.data().downcast_ref::<Externalized>() {
            Some(Externalized(a)) => a.clone(),
            None => AnyRef(AnyRefKind::Host(e.clone())),
        }
    }

    /// The slot encoding of the reference, in `store`.
    pub(crate) fn to_bits(&self, store: &mut StoreInner) -> Result<u64> {
        Ok(match &self.0 {
            AnyRefKind::I31(v) => v.to_ref_bits(),
            AnyRefKind::Object(r) if r.store_id == store.id => r.bits,
            AnyRefKind::Object(_) => return Err(Error::msg("GC reference belongs to another store")),
            AnyRefKind::Host(e) => store.intern_externref(e),
        })
    }

    /// The reference a non-null slot of the `any` hierarchy holds (`None` for a slot that
    /// holds none, which valid code never makes).
    pub(crate) fn from_bits(bits: u64, store: &StoreInner) -> Option<AnyRef> {
        if let Some(v) = I31::from_ref_bits(bits) {
            return Some(AnyRef::from_i31(v));
        }
        if let Some(i) = crate::exec::state::externref_index(bits) {
            return store.externrefs.get(i).map(|e| AnyRef(AnyRefKind::Host(e.clone())));
        }
        store.gc.type_of(bits)?;
        Some(AnyRef(AnyRefKind::Object(store.gc.root(store.id, bits))))
    }

    /// Whether this reference is one to the heap type `h` (in `store`).
    pub(crate) fn matches(&self, store: &StoreInner, h: HeapType) -> bool {
        match &self.0 {
            AnyRefKind::I31(_) => matches!(h, HeapType::Any | HeapType::Eq | HeapType::I31),
            AnyRefKind::Host(_) => h == HeapType::Any,
            AnyRefKind::Object(r) => {
                let Some(ty) = store.gc.type_of(r.bits).filter(|_| r.store_id == store.id) else {
                    return false;
                };
                match h {
                    HeapType::Any | HeapType::Eq => true,
                    HeapType::Struct => !ty.is_array(),
                    HeapType::Array => ty.is_array(),
                    HeapType::Concrete(c) => ty.supers.contains(&c.0),
                    _ => false,
                }
            }
        }
    }

    /// The rooted slot encoding of an object reference, for the host API.
    pub(crate) fn object_bits(&self, store: &StoreInner) -> Option<u64> {
        match &self.0 {
            AnyRefKind::Object(r) if r.store_id == store.id => Some(r.bits),
            _ => None,
        }
    }
}

impl From<I31> for AnyRef {
    fn from(value: I31) -> AnyRef {
        AnyRef::from_i31(value)
    }
}

impl Val {
    /// The type of this value.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::ExnRef(_) => ValType::EXNREF,
            Val::AnyRef(_) => ValType::ANYREF,
        }
    }

    /// True for a null reference.
    pub fn is_null(&self) -> bool {
        matches!(self, Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None))
    }

    /// The hierarchy of a reference value (`None` for a number or vector).
    fn hierarchy(&self) -> Option<Hierarchy> {
        Some(match self {
            Val::FuncRef(_) => Hierarchy::Func,
            Val::ExternRef(_) => Hierarchy::Extern,
            Val::ExnRef(_) => Hierarchy::Exn,
            Val::AnyRef(_) => Hierarchy::Any,
            _ => return None,
        })
    }

    /// The null reference of a hierarchy.
    fn null_of(h: Hierarchy) -> Val {
        match h {
            Hierarchy::Func => Val::FuncRef(None),
            Hierarchy::Extern => Val::ExternRef(None),
            Hierarchy::Exn => Val::ExnRef(None),
            Hierarchy::Any => Val::AnyRef(None),
        }
    }

    /// The zero / null value of a type. (A non-nullable reference type has no default:
    /// this gives its null, which [`matches_ty`](Self::matches_ty) refuses. A concrete heap
    /// type gives a null function reference: which hierarchy a defined type belongs to
    /// only its engine knows.)
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::Ref(r) => Val::null_of(match r.heap_type() {
                HeapType::Func | HeapType::NoFunc | HeapType::Concrete(_) => Hierarchy::Func,
                HeapType::Extern | HeapType::NoExtern => Hierarchy::Extern,
                HeapType::Exn | HeapType::NoExn => Hierarchy::Exn,
                _ => Hierarchy::Any,
            }),
        }
    }

    /// Whether this value is one of type `ty`: for references, whether it is null and the
    /// type nullable, or the function's type is a subtype of the one `ty` names.
    ///
    /// ```
    /// use wasmguard::{Engine, Func, FuncType, HeapType, RefType, Store, Val, ValType};
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, ());
    /// let f = Func::wrap(&mut store, |x: i32| x + 1);
    /// let mine = RefType::new(false, HeapType::Concrete(engine.concrete_type(&f.ty(&store))));
    /// let other = engine.concrete_type(&FuncType::new([], []));
    /// assert!(Val::FuncRef(Some(f)).matches_ty(&store, ValType::Ref(mine)));
    /// assert!(Val::FuncRef(Some(f)).matches_ty(&store, ValType::FuncRef));
    /// assert!(!Val::FuncRef(Some(f)).matches_ty(&store, ValType::Ref(RefType::new(true, HeapType::Concrete(other)))));
    /// assert!(!Val::FuncRef(None).matches_ty(&store, ValType::Ref(mine)));
    /// ```
    pub fn matches_ty(&self, store: impl crate::AsContext, ty: ValType) -> bool {
        self.matches(&store.as_context().0.inner, ty)
    }

    /// What this value is, for an error message: its type, and for a function reference
    /// the function's signature or that it belongs to another store.
    pub(crate) fn describe(&self, store: &StoreInner) -> String {
        match self {
            Val::FuncRef(Some(f)) if !store.owns(f.0) => "a function of another store".to_string(),
            Val::FuncRef(Some(f)) => {
                let id = store.funcs[store.index(f.0)].type_id();
                format!("a function of type {}", store.engine.resolve_type(id))
            }
            Val::ExnRef(Some(e)) if e.store_id != store.id => "an exception of another store".to_string(),
            v if v.is_null() => format!("a null {}", self.ty()),
            other => format!("a {} value", other.ty()),
        }
    }

    pub(crate) fn matches(&self, store: &StoreInner, ty: ValType) -> bool {
        let Some(r) = ty.as_ref_type() else {
            return self.hierarchy().is_none() && self.ty() == ty;
        };
        match self {
            Val::FuncRef(Some(f)) => {
                if !store.owns(f.0) {
                    return false;
                }
                let id = store.funcs[store.index(f.0)].type_id();
                match r.heap_type() {
                    HeapType::Func => true,
                    HeapType::Concrete(c) => store.engine.func_subtype(id, c.0),
                    _ => false,
                }
            }
            Val::ExternRef(Some(_)) => r.heap_type() == HeapType::Extern,
            Val::ExnRef(Some(e)) => e.store_id == store.id && r.heap_type() == HeapType::Exn,
            Val::AnyRef(Some(a)) => a.matches(store, r.heap_type()),
            v => match v.hierarchy() {
                // A null: of the type's hierarchy, if the type is nullable.
                Some(h) => r.is_nullable() && store.engine.hierarchy(r.heap_type()) == h,
                None => false,
            },
        }
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self { Some(*v) } else { None }
    }

    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self { Some(*v) } else { None }
    }

    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self { Some(f32::from_bits(*v)) } else { None }
    }

    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self { Some(f64::from_bits(*v)) } else { None }
    }

    /// Encodes the value into a stack slot.
    pub(crate) fn to_slot(&self, store: &mut StoreInner) -> Result<u64> {
        Ok(match self {
            Val::I32(v) => u64::from(*v as u32),
            Val::I64(v) => *v as u64,
            Val::F32(v) => u64::from(*v),
            Val::F64(v) => *v,
            Val::V128(_) => return Err(Error::msg("internal error: a v128 value does not fit one slot")),
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => 0,
            Val::ExnRef(Some(e)) => {
                if e.store_id != store.id || store.exns.get(e.index).is_none() {
                    return Err(Error::msg("exception reference belongs to another store"));
                }
                // An exception reference is its object's index + 1.
                u64::from(e.index) + 1
            }
            Val::AnyRef(Some(a)) => a.to_bits(store)?,
            Val::FuncRef(Some(f)) => {
                if !store.owns(f.0) {
                    return Err(Error::msg("function reference belongs to another store"));
                }
                u64::from(f.0.index) + 1
            }
            Val::ExternRef(Some(r)) => match r.data().downcast_ref::<Externalized>() {
                Some(Externalized(a)) => a.to_bits(store)?,
                None => store.intern_externref(r),
            },
        })
    }

    /// Encodes the value into `slot_count()` slots at the start of `out`; returns how many.
    pub(crate) fn to_slots(&self, store: &mut StoreInner, out: &mut [u64]) -> Result<usize> {
        if let Val::V128(v) = self {
            out[0] = *v as u64;
            out[1] = (*v >> 64) as u64;
            return Ok(2);
        }
        out[0] = self.to_slot(store)?;
        Ok(1)
    }

    /// Decodes a value of type `ty` from the start of `slots` (two slots for `v128`).
    pub(crate) fn from_slots(slots: &[u64], ty: ValType, store: &StoreInner) -> Val {
        match ty {
            ValType::V128 => Val::V128(u128::from(slots[0]) | (u128::from(slots[1]) << 64)),
            _ => Val::from_slot(slots[0], ty, store),
        }
    }

    /// The `v128`, if this is one.
    pub fn v128(&self) -> Option<u128> {
        if let Val::V128(v) = self { Some(*v) } else { None }
    }

    /// Decodes a stack slot of type `ty` (the low half only, for `v128`).
    pub(crate) fn from_slot(bits: u64, ty: ValType, store: &StoreInner) -> Val {
        match ty {
            ValType::I32 => Val::I32(bits as u32 as i32),
            ValType::I64 => Val::I64(bits as i64),
            ValType::F32 => Val::F32(bits as u32),
            ValType::F64 => Val::F64(bits),
            ValType::V128 => Val::V128(u128::from(bits)),
            ValType::FuncRef | ValType::ExternRef | ValType::Ref(_) => {
                let h = ty.as_ref_type().map_or(Hierarchy::Func, |r| store.engine.hierarchy(r.heap_type()));
                match (h, bits) {
                    (_, 0) => Val::null_of(h),
                    (Hierarchy::Func, _) => Val::FuncRef(Some(Func(store.stored(bits as usize - 1)))),
                    (Hierarchy::Extern, _) => match crate::exec::state::externref_index(bits) {
                        Some(i) => Val::ExternRef(store.externrefs.get(i).cloned()),
                        // An `any` reference made external by `extern.convert_any`.
                        None => Val::ExternRef(AnyRef::from_bits(bits, store).map(|a| a.to_extern())),
                    },
                    (Hierarchy::Exn, _) => Val::ExnRef(Some(ExnRef { store_id: store.id, index: (bits - 1) as u32 })),
                    (Hierarchy::Any, _) => Val::AnyRef(AnyRef::from_bits(bits, store)),
                }
            }
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}

impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}

impl From<Func> for Val {
    fn from(f: Func) -> Val {
        Val::FuncRef(Some(f))
    }
}

/// An external value: what an instance exports and a module imports.
///
/// `Clone` (cheap: handles and an `Arc` for a shared memory), not `Copy`, because a shared
/// memory is owned by its handles rather than by a store.
#[derive(Debug, Clone)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A global.
    Global(Global),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
    /// A shared memory (threads): not owned by any store, so instances in several stores
    /// and threads can import it at once. `From<SharedMemory>` makes one.
    SharedMemory(SharedMemory),
    /// An exception tag.
    Tag(Tag),
}

impl PartialEq for Extern {
    /// The same kind and the same entity (shared memories compare by identity).
    fn eq(&self, other: &Extern) -> bool {
        match (self, other) {
            (Extern::Func(a), Extern::Func(b)) => a == b,
            (Extern::Global(a), Extern::Global(b)) => a == b,
            (Extern::Table(a), Extern::Table(b)) => a == b,
            (Extern::Memory(a), Extern::Memory(b)) => a == b,
            (Extern::SharedMemory(a), Extern::SharedMemory(b)) => SharedMemory::same(a, b),
            (Extern::Tag(a), Extern::Tag(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Extern {}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self { Some(f) } else { None }
    }

    /// The tag, if this is one.
    pub fn into_tag(self) -> Option<Tag> {
        if let Extern::Tag(t) = self { Some(t) } else { None }
    }

    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self { Some(g) } else { None }
    }

    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self { Some(t) } else { None }
    }

    /// The memory, if this is one (a shared memory is not: see
    /// [`into_shared_memory`](Self::into_shared_memory)).
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self { Some(m) } else { None }
    }

    /// The shared memory, if this is one.
    pub fn into_shared_memory(self) -> Option<SharedMemory> {
        if let Extern::SharedMemory(m) = self { Some(m) } else { None }
    }
}

impl From<SharedMemory> for Extern {
    fn from(m: SharedMemory) -> Extern {
        Extern::SharedMemory(m)
    }
}

impl From<&SharedMemory> for Extern {
    fn from(m: &SharedMemory) -> Extern {
        Extern::SharedMemory(m.clone())
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}

impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}

impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}

/// One export of an instance: a name and the external value.
#[derive(Debug, Clone)]
pub struct Export {
    pub(crate) name: String,
    pub(crate) item: Extern,
}

impl Export {
    /// The export's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The exported value.
    pub fn into_extern(self) -> Extern {
        self.item
    }
}
