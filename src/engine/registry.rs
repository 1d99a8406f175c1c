//! The engine's canonical types: recursive type groups hash-consed iso-recursively, so a
//! [`ConcreteType`] handle means the same type in every module of an engine.
//!
//! A group is keyed by its structure, with references inside the group written as
//! positions in it ([`Heap::Local`]) and references to earlier types as their canonical
//! handles ([`Heap::Canon`]): two groups are equivalent exactly when their keys are equal
//! (the WebAssembly 3.0 rule), and a group's types get consecutive handles.

use std::collections::HashMap;
use std::sync::Arc;

use wasmparser::AbstractHeapType;

use super::layout::GcType;
use crate::error::{ErrorKind, Result};
use crate::types::{ConcreteType, FuncType, HeapType, Hierarchy, RefType, ValType};

/// What a reference in a type key points to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Heap {
    /// An abstract heap type.
    Abstract { shared: bool, ty: AbstractHeapType },
    /// A type of an earlier group: its canonical handle.
    Canon(u32),
    /// A type of the same group: its position in the group.
    Local(u32),
}

/// A field, parameter or result type in a type key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Storage {
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref { nullable: bool, heap: Heap },
}

/// The structure of a defined type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Composite {
    Func {
        params: Box<[Storage]>,
        results: Box<[Storage]>,
    },
    /// Fields and whether each is mutable.
    Struct(Box<[(Storage, bool)]>),
    Array(Storage, bool),
}

/// One type of a group: its structure and its place in the subtype hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SubType {
    pub(crate) is_final: bool,
    pub(crate) shared: bool,
    pub(crate) supertype: Option<Heap>,
    pub(crate) composite: Composite,
}

#[derive(Debug)]
struct Entry {
    /// The declared supertype's handle.
    supertype: Option<u32>,
    /// The handles of the supertype chain from its root down to this type.
    supers: Box<[u32]>,
    /// The runtime layout, for a struct or array type.
    gc: Option<Arc<GcType>>,
    /// The signature, for a function type.
    func: Option<FuncType>,
    /// What kind of type it is.
    kind: Kind,
}

/// The kinds of defined types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Func,
    Struct,
    Array,
}

/// Every type group an engine has seen.
#[derive(Debug, Default)]
pub(crate) struct TypeRegistry {
    groups: HashMap<Box<[SubType]>, u32>,
    entries: Vec<Entry>,
}

impl TypeRegistry {
    /// The handle of the first type of `group`, registering it if it is new.
    ///
    /// # Errors
    ///
    /// Unsupported if a function type of the group takes or returns a reference the API
    /// cannot represent yet (the GC proposal's heap types and references to struct and array
    /// types); a group of too many types.
    pub(crate) fn register(&mut self, group: Box<[SubType]>) -> Result<u32> {
        if let Some(&first) = self.groups.get(&group) {
            return Ok(first);
        }
        let first = u32::try_from(self.entries.len())
            .ok()
            .filter(|f| f.checked_add(group.len() as u32).is_some())
            .ok_or_else(|| crate::Error::msg("too many distinct types in one engine"))?;
        let mut entries: Vec<Entry> = Vec::with_capacity(group.len());
        for (k, sub) in group.iter().enumerate() {
            let supertype = sub.supertype.as_ref().and_then(|h| self.handle(h, first));
            let id = first + k as u32;
            // Supertypes come before their subtypes: in an earlier group or earlier in this one.
            let parent = supertype.and_then(|s| match s.checked_sub(first) {
                Some(local) => entries.get(local as usize).map(|e| &e.supers),
                None => self.entries.get(s as usize).map(|e| &e.supers),
            });
            let supers: Box<[u32]> = parent.into_iter().flatten().copied().chain([id]).collect();
            let val = |s: &Storage| match s {
                Storage::I8 | Storage::I16 => ValType::I32,
                s => self.val_type(s, first).unwrap_or(ValType::ANYREF),
            };
            let gc = GcType::new(supers.clone(), &sub.composite, &val).map(Arc::new);
            let (func, kind) = match &sub.composite {
                Composite::Func { params, results } => {
                    let convert = |s: &Storage| self.val_type(s, first);
                    let params = params.iter().map(convert).collect::<Result<Vec<_>>>()?;
                    let results = results.iter().map(convert).collect::<Result<Vec<_>>>()?;
                    (Some(FuncType::new(params, results)), Kind::Func)
                }
                Composite::Struct(_) => (None, Kind::Struct),
                Composite::Array(..) => (None, Kind::Array),
            };
            entries.push(Entry { supertype, supers, gc, func, kind });
        }
        self.entries.extend(entries);
        self.groups.insert(group, first);
        Ok(first)
    }

    /// The handle of a host-made function type: a group of one final type without a
    /// supertype, which is what `(type (func ...))` declares.
    pub(crate) fn register_func(&mut self, ty: &FuncType) -> u32 {
        let key = |t: &ValType| storage(*t);
        let composite = Composite::Func {
            params: ty.params_slice().iter().map(key).collect(),
            results: ty.results_slice().iter().map(key).collect(),
        };
        let group: Box<[SubType]> = Box::new([SubType { is_final: true, shared: false, supertype: None, composite }]);
        if let Some(&id) = self.groups.get(&group) {
            return id;
        }
        let id = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        self.entries.push(Entry {
            supertype: None,
            supers: Box::new([id]),
            gc: None,
            func: Some(ty.clone()),
            kind: Kind::Func,
        });
        self.groups.insert(group, id);
        id
    }

    /// The runtime layout of a struct or array type's handle.
    pub(crate) fn gc_type(&self, id: u32) -> Option<Arc<GcType>> {
        self.entries.get(id as usize)?.gc.clone()
    }

    /// The supertype chain of a handle, from its root down to itself.
    pub(crate) fn supers(&self, id: u32) -> Option<&[u32]> {
        self.entries.get(id as usize).map(|e| &*e.supers)
    }

    /// The signature of a function type's handle.
    pub(crate) fn func_type(&self, id: u32) -> Option<&FuncType> {
        self.entries.get(id as usize)?.func.as_ref()
    }

    /// Whether `sub` is `sup` or declares it as a (transitive) supertype.
    pub(crate) fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        let mut at = sub;
        // Supertypes are declared before their subtypes, so the chain ends; the bound
        // keeps that an assumption of speed, not of termination.
        for _ in 0..=self.entries.len() {
            if at == sup {
                return true;
            }
            match self.entries.get(at as usize).and_then(|e| e.supertype) {
                Some(s) => at = s,
                None => return false,
            }
        }
        false
    }

    /// Whether every value of `a` is a value of `b`.
    pub(crate) fn val_subtype(&self, a: ValType, b: ValType) -> bool {
        match (a.as_ref_type(), b.as_ref_type()) {
            (Some(a), Some(b)) => {
                (b.is_nullable() || !a.is_nullable()) && self.heap_subtype(a.heap_type(), b.heap_type())
            }
            (None, None) => a == b,
            _ => false,
        }
    }

    /// Whether every reference to `a` is a reference to `b`.
    pub(crate) fn heap_subtype(&self, a: HeapType, b: HeapType) -> bool {
        use HeapType as H;
        let kind = |c: ConcreteType| self.entries.get(c.0 as usize).map(|e| e.kind);
        match (a, b) {
            _ if a == b => true,
            (H::Concrete(a), H::Concrete(b)) => self.is_subtype(a.0, b.0),
            (H::Concrete(a), H::Func) => kind(a) == Some(Kind::Func),
            (H::Concrete(a), H::Struct) => kind(a) == Some(Kind::Struct),
            (H::Concrete(a), H::Array) => kind(a) == Some(Kind::Array),
            (H::Concrete(a), H::Eq | H::Any) => matches!(kind(a), Some(Kind::Struct | Kind::Array)),
            (H::NoFunc, H::Concrete(b)) => kind(b) == Some(Kind::Func),
            (H::None, H::Concrete(b)) => matches!(kind(b), Some(Kind::Struct | Kind::Array)),
            (H::NoFunc, H::Func) | (H::NoExtern, H::Extern) | (H::NoExn, H::Exn) => true,
            (H::None, H::I31 | H::Struct | H::Array | H::Eq | H::Any) => true,
            (H::I31 | H::Struct | H::Array, H::Eq | H::Any) | (H::Eq, H::Any) => true,
            _ => false,
        }
    }

    /// The hierarchy heap type `h` belongs to.
    pub(crate) fn hierarchy(&self, h: HeapType) -> Hierarchy {
        match h {
            HeapType::Func | HeapType::NoFunc => Hierarchy::Func,
            HeapType::Extern | HeapType::NoExtern => Hierarchy::Extern,
            HeapType::Exn | HeapType::NoExn => Hierarchy::Exn,
            HeapType::Concrete(c) if self.entries.get(c.0 as usize).is_some_and(|e| e.kind == Kind::Func) => {
                Hierarchy::Func
            }
            _ => Hierarchy::Any,
        }
    }

    fn handle(&self, heap: &Heap, first: u32) -> Option<u32> {
        match heap {
            Heap::Canon(c) => Some(*c),
            Heap::Local(l) => Some(first + l),
            Heap::Abstract { .. } => None,
        }
    }

    /// A function type's parameter or result, with the group's handles resolved.
    fn val_type(&self, s: &Storage, first: u32) -> Result<ValType> {
        Ok(match s {
            Storage::I32 => ValType::I32,
            Storage::I64 => ValType::I64,
            Storage::F32 => ValType::F32,
            Storage::F64 => ValType::F64,
            Storage::V128 => ValType::V128,
            Storage::I8 | Storage::I16 => {
                return Err(crate::Error::msg("internal error: a packed type outside a field"));
            }
            Storage::Ref { nullable, heap } => {
                let heap = match heap {
                    Heap::Abstract { shared: false, ty } => {
                        abstract_heap(*ty).ok_or_else(|| unsupported("continuation"))?
                    }
                    Heap::Abstract { shared: true, .. } => return Err(unsupported("shared")),
                    Heap::Canon(c) => HeapType::Concrete(ConcreteType(*c)),
                    Heap::Local(l) => HeapType::Concrete(ConcreteType(first + l)),
                };
                ValType::from(RefType::new(*nullable, heap))
            }
        })
    }
}

/// The heap type of an abstract heap type of the decoder (`None` for the stack-switching
/// proposal's continuation types, which are not supported).
pub(crate) fn abstract_heap(ty: AbstractHeapType) -> Option<HeapType> {
    use AbstractHeapType as A;
    Some(match ty {
        A::Func => HeapType::Func,
        A::NoFunc => HeapType::NoFunc,
        A::Extern => HeapType::Extern,
        A::NoExtern => HeapType::NoExtern,
        A::Exn => HeapType::Exn,
        A::NoExn => HeapType::NoExn,
        A::Any => HeapType::Any,
        A::Eq => HeapType::Eq,
        A::I31 => HeapType::I31,
        A::Struct => HeapType::Struct,
        A::Array => HeapType::Array,
        A::None => HeapType::None,
        A::Cont | A::NoCont => return None,
    })
}

fn unsupported(what: &str) -> crate::Error {
    ErrorKind::Unsupported(format!("references to {what} types in function signatures")).into()
}

/// The key form of a value type.
pub(crate) fn storage(t: ValType) -> Storage {
    let Some(r) = t.as_ref_type() else {
        return match t {
            ValType::I32 => Storage::I32,
            ValType::I64 => Storage::I64,
            ValType::F32 => Storage::F32,
            ValType::F64 => Storage::F64,
            _ => Storage::V128,
        };
    };
    let abstract_ = |ty| Heap::Abstract { shared: false, ty };
    let heap = match r.heap_type() {
        HeapType::Func => abstract_(AbstractHeapType::Func),
        HeapType::NoFunc => abstract_(AbstractHeapType::NoFunc),
        HeapType::Extern => abstract_(AbstractHeapType::Extern),
        HeapType::NoExtern => abstract_(AbstractHeapType::NoExtern),
        HeapType::Exn => abstract_(AbstractHeapType::Exn),
        HeapType::NoExn => abstract_(AbstractHeapType::NoExn),
        HeapType::Any => abstract_(AbstractHeapType::Any),
        HeapType::Eq => abstract_(AbstractHeapType::Eq),
        HeapType::I31 => abstract_(AbstractHeapType::I31),
        HeapType::Struct => abstract_(AbstractHeapType::Struct),
        HeapType::Array => abstract_(AbstractHeapType::Array),
        HeapType::None => abstract_(AbstractHeapType::None),
        HeapType::Concrete(c) => Heap::Canon(c.0),
    };
    Storage::Ref { nullable: r.is_nullable(), heap }
}
