//! The runtime layout of struct and array types ([`GcType`]): what the collector and the
//! GC instructions need to know about a canonical type, computed once when its group is
//! registered and shared by every module and store of the engine.

use super::registry::{Composite, Storage};
use crate::types::ValType;

/// How one field or array element is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    I8,
    I16,
    /// `i32` or `f32`.
    B32,
    /// `i64` or `f64`.
    B64,
    V128,
    /// A reference (in the slot encoding).
    Ref,
}

impl FieldKind {
    fn of(s: &Storage) -> FieldKind {
        match s {
            Storage::I8 => FieldKind::I8,
            Storage::I16 => FieldKind::I16,
            Storage::I32 | Storage::F32 => FieldKind::B32,
            Storage::I64 | Storage::F64 => FieldKind::B64,
            Storage::V128 => FieldKind::V128,
            Storage::Ref { .. } => FieldKind::Ref,
        }
    }

    /// Bytes an array element of this kind takes.
    pub(crate) fn bytes(self) -> usize {
        match self {
            FieldKind::I8 => 1,
            FieldKind::I16 => 2,
            FieldKind::B32 => 4,
            FieldKind::B64 | FieldKind::Ref => 8,
            FieldKind::V128 => 16,
        }
    }

    /// Stack slots a value of this kind takes.
    pub(crate) fn slots(self) -> usize {
        if self == FieldKind::V128 { 2 } else { 1 }
    }
}

/// A struct field or array element: its kind, its first slot in a struct, whether it is
/// mutable, and the type of its value as the host sees it (`i32` for a packed one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) kind: FieldKind,
    pub(crate) slot: u32,
    pub(crate) mutable: bool,
    pub(crate) val: ValType,
}

/// What a struct or array type's objects look like.
#[derive(Debug)]
pub(crate) enum GcLayout {
    /// Fields in order; each takes one slot (two for `v128`) of the object's slots.
    Struct { fields: Box<[Field]>, slots: u32, refs: Box<[u32]> },
    /// Elements of one kind, stored as little-endian bytes.
    Array { elem: FieldKind, field: Field },
}

/// A struct or array type as the runtime sees it.
#[derive(Debug)]
pub(crate) struct GcType {
    /// The handles of its supertypes from the root of its chain down to itself
    /// (`supers[depth] == id`): `t <: s` exactly when `supers.get(depth(s)) == Some(&s)`.
    pub(crate) supers: Box<[u32]>,
    pub(crate) layout: GcLayout,
}

impl GcType {
    /// The runtime type of the struct or array type `composite` with supertype chain
    /// `supers` (its own handle last) (`None` for a function type).
    /// `val` gives the host's type of a field's storage.
    pub(crate) fn new(supers: Box<[u32]>, composite: &Composite, val: &dyn Fn(&Storage) -> ValType) -> Option<GcType> {
        let layout = match composite {
            Composite::Func { .. } => return None,
            Composite::Struct(fields) => {
                let mut slot = 0u32;
                let mut refs = Vec::new();
                let fields = fields
                    .iter()
                    .map(|(s, mutable)| {
                        let kind = FieldKind::of(s);
                        let f = Field { kind, slot, mutable: *mutable, val: val(s) };
                        if kind == FieldKind::Ref {
                            refs.push(slot);
                        }
                        slot += kind.slots() as u32;
                        f
                    })
                    .collect();
                GcLayout::Struct { fields, slots: slot, refs: refs.into() }
            }
            Composite::Array(s, mutable) => {
                let elem = FieldKind::of(s);
                GcLayout::Array { elem, field: Field { kind: elem, slot: 0, mutable: *mutable, val: val(s) } }
            }
        };
        Some(GcType { supers, layout })
    }

    /// Whether this type is `sup` or a subtype of it (`sup_depth`: the length of `sup`'s
    /// supertype chain, minus one).
    #[inline]
    pub(crate) fn is_subtype_of(&self, sup: u32, sup_depth: usize) -> bool {
        self.supers.get(sup_depth) == Some(&sup)
    }

    /// Whether this is an array type.
    pub(crate) fn is_array(&self) -> bool {
        matches!(self.layout, GcLayout::Array { .. })
    }
}
