//! Typed host access to GC objects: [`EqRef`], [`StructRef`] and [`ArrayRef`], got from an
//! [`AnyRef`] with [`AnyRef::as_eq`], [`AnyRef::as_struct`] / [`AnyRef::as_array`].
//!
//! Both are rooted: while one (or a clone) lives, its object survives every collection, so
//! a reference kept across calls cannot dangle. Fields and elements are read and written as
//! [`Val`]s, checked against the object's type (packed `i8`/`i16` ones as `i32`s). The
//! bytes of an `(array i8)` can be borrowed as `&[u8]` / `&mut [u8]` with no copy: the
//! slice borrows the store, so no wasm call (and so no collection) can run while it lives.

use super::value::{AnyRef, Val};
use crate::engine::layout::{Field, FieldKind, GcLayout};
use crate::error::{Error, Result};
use crate::exec::state::StoreInner;
use crate::exec::state::gc::{pack, unpack};
use crate::store::{AsContext, AsContextMut};

/// A rooted reference to a struct object of a store's GC heap.
///
/// ```
/// use wasmguard::{Engine, Linker, Module, Store, Val};
/// # fn main() -> wasmguard::Result<()> {
/// let engine = Engine::default();
/// let wat = r#"(module
///     (type $point (struct (field $x (mut i32)) (field $y i8)))
///     (func (export "make") (result (ref $point)) (struct.new $point (i32.const 3) (i32.const -1)))
///     (func (export "x") (param (ref $point)) (result i32) (struct.get $point $x (local.get 0))))"#;
/// let module = Module::new(&engine, wat)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
/// let mut out = [Val::I32(0)];
/// instance.get_func(&mut store, "make").unwrap().call(&mut store, &[], &mut out)?;
/// let Val::AnyRef(Some(r)) = &out[0] else { unreachable!() };
/// let point = r.as_struct().unwrap();
/// assert_eq!(point.field(&store, 0)?.i32(), Some(3));
/// assert_eq!(point.field(&store, 1)?.i32(), Some(255), "packed fields read zero-extended");
/// point.set_field(&mut store, 0, Val::I32(42))?;
/// instance.get_func(&mut store, "x").unwrap().call(&mut store, &[out[0].clone()], &mut out)?;
/// assert_eq!(out[0].i32(), Some(42));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructRef(pub(crate) AnyRef);

/// A rooted reference to an array object of a store's GC heap.
///
/// ```
/// use wasmguard::{Engine, Linker, Module, Store, Val};
/// # fn main() -> wasmguard::Result<()> {
/// let engine = Engine::default();
/// let wat = r#"(module
///     (type $bytes (array (mut i8)))
///     (func (export "make") (result (ref $bytes)) (array.new $bytes (i32.const 7) (i32.const 4))))"#;
/// let module = Module::new(&engine, wat)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
/// let mut out = [Val::I32(0)];
/// instance.get_func(&mut store, "make").unwrap().call(&mut store, &[], &mut out)?;
/// let Val::AnyRef(Some(r)) = &out[0] else { unreachable!() };
/// let array = r.as_array().unwrap();
/// assert_eq!(array.len(&store)?, 4);
/// array.bytes_mut(&mut store)?.copy_from_slice(b"wasm");
/// assert_eq!(array.bytes(&store)?, b"wasm");
/// assert_eq!(array.get(&store, 1)?.i32(), Some(i32::from(b'a')));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArrayRef(pub(crate) AnyRef);

/// A reference of the `eq` hierarchy: an [`I31`](crate::I31), a struct or an array (what
/// `ref.eq` compares), got from an [`AnyRef`] with [`AnyRef::as_eq`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EqRef(pub(crate) AnyRef);

impl EqRef {
    /// The `i31` value, if this is one.
    pub fn as_i31(&self) -> Option<crate::I31> {
        self.0.as_i31()
    }

    /// This reference as a struct, if it is one.
    pub fn as_struct(&self) -> Option<StructRef> {
        self.0.as_struct()
    }

    /// This reference as an array, if it is one.
    pub fn as_array(&self) -> Option<ArrayRef> {
        self.0.as_array()
    }
}

impl From<EqRef> for AnyRef {
    fn from(r: EqRef) -> AnyRef {
        r.0
    }
}

impl AnyRef {
    /// This reference as an `eqref`, unless it is a host reference.
    pub fn as_eq(&self) -> Option<EqRef> {
        (!self.is_host()).then(|| EqRef(self.clone()))
    }

    /// This reference as a struct, if it is one.
    pub fn as_struct(&self) -> Option<StructRef> {
        self.is_struct().then(|| StructRef(self.clone()))
    }

    /// This reference as an array, if it is one.
    pub fn as_array(&self) -> Option<ArrayRef> {
        self.is_array().then(|| ArrayRef(self.clone()))
    }
}

impl From<StructRef> for AnyRef {
    fn from(r: StructRef) -> AnyRef {
        r.0
    }
}

impl From<ArrayRef> for AnyRef {
    fn from(r: ArrayRef) -> AnyRef {
        r.0
    }
}

fn stale() -> Error {
    Error::msg("GC reference of another store")
}

/// The slot encoding of `r` in `inner`, if it is a live object of it.
fn bits(r: &AnyRef, inner: &StoreInner) -> Result<u64> {
    let bits = r.object_bits(inner).ok_or_else(stale)?;
    inner.gc.type_of(bits).ok_or_else(stale)?;
    Ok(bits)
}

/// A field's value, from its slots.
fn read(inner: &StoreInner, f: &Field, lo: u64, hi: u64) -> Val {
    match f.kind {
        FieldKind::I8 | FieldKind::I16 => Val::I32(unpack(f.kind, lo, false) as u32 as i32),
        _ => Val::from_slots(&[lo, hi], f.val, inner),
    }
}

/// The slots of `val` for field `f`, checked against its type.
fn write(inner: &mut StoreInner, f: &Field, val: &Val) -> Result<[u64; 2]> {
    if !f.mutable {
        return Err(Error::msg("the field is immutable"));
    }
    if !val.matches(inner, f.val) {
        return Err(Error::type_mismatch(format!("field of type {} given {}", f.val, val.describe(inner))));
    }
    let mut slots = [0u64; 2];
    val.to_slots(inner, &mut slots)?;
    slots[0] = pack(f.kind, slots[0]);
    Ok(slots)
}

impl StructRef {
    fn field_layout(inner: &StoreInner, bits: u64, index: usize) -> Result<Field> {
        let ty = inner.gc.type_of(bits).ok_or_else(stale)?;
        match &ty.layout {
            GcLayout::Struct { fields, .. } => fields
                .get(index)
                .copied()
                .ok_or_else(|| Error::msg(format!("no field {index} in a struct of {} fields", fields.len()))),
            GcLayout::Array { .. } => Err(stale()),
        }
    }

    /// The number of fields.
    ///
    /// # Errors
    ///
    /// If the reference belongs to another store.
    pub fn field_count(&self, store: impl AsContext) -> Result<usize> {
        let inner = &store.as_context().0.inner;
        match &inner.gc.type_of(bits(&self.0, inner)?).ok_or_else(stale)?.layout {
            GcLayout::Struct { fields, .. } => Ok(fields.len()),
            GcLayout::Array { .. } => Err(stale()),
        }
    }

    /// Field `index`'s value (a packed one zero-extended to an `i32`).
    ///
    /// # Errors
    ///
    /// If there is no such field, or the reference belongs to another store.
    pub fn field(&self, store: impl AsContext, index: usize) -> Result<Val> {
        let inner = &store.as_context().0.inner;
        let b = bits(&self.0, inner)?;
        let f = Self::field_layout(inner, b, index)?;
        let slots = inner.gc.struct_fields(b).map_err(Error::trap)?;
        let at = f.slot as usize;
        Ok(read(inner, &f, slots[at], slots.get(at + 1).copied().unwrap_or(0)))
    }

    /// Sets field `index` (a packed one to the low bits of an `i32`).
    ///
    /// # Errors
    ///
    /// If there is no such field, it is immutable, `val` is not of its type, or the reference
    /// belongs to another store.
    pub fn set_field(&self, mut store: impl AsContextMut, index: usize, val: Val) -> Result<()> {
        let inner = &mut store.as_context_mut().0.inner;
        let b = bits(&self.0, inner)?;
        let f = Self::field_layout(inner, b, index)?;
        let v = write(inner, &f, &val)?;
        let slots = inner.gc.struct_fields_mut(b).map_err(Error::trap)?;
        let at = f.slot as usize;
        slots[at] = v[0];
        if f.kind == FieldKind::V128 {
            slots[at + 1] = v[1];
        }
        Ok(())
    }
}

impl ArrayRef {
    fn elem(inner: &StoreInner, bits: u64) -> Result<Field> {
        match inner.gc.type_of(bits).ok_or_else(stale)?.layout {
            GcLayout::Array { field, .. } => Ok(field),
            GcLayout::Struct { .. } => Err(stale()),
        }
    }

    /// The number of elements.
    ///
    /// # Errors
    ///
    /// If the reference belongs to another store.
    pub fn len(&self, store: impl AsContext) -> Result<u32> {
        let inner = &store.as_context().0.inner;
        inner.gc.array_len(bits(&self.0, inner)?).map_err(Error::trap)
    }

    /// Whether the array has no element.
    ///
    /// # Errors
    ///
    /// If the reference belongs to another store.
    pub fn is_empty(&self, store: impl AsContext) -> Result<bool> {
        Ok(self.len(store)? == 0)
    }

    /// Element `index`'s value (a packed one zero-extended to an `i32`).
    ///
    /// # Errors
    ///
    /// An [`ArrayOutOfBounds`](crate::TrapCode::ArrayOutOfBounds) trap past the end; if the
    /// reference belongs to another store.
    pub fn get(&self, store: impl AsContext, index: u32) -> Result<Val> {
        let inner = &store.as_context().0.inner;
        let b = bits(&self.0, inner)?;
        let f = Self::elem(inner, b)?;
        let [lo, hi] = inner.gc.array_get(b, index, false).map_err(Error::trap)?;
        Ok(read(inner, &f, lo, hi))
    }

    /// Sets element `index`.
    ///
    /// # Errors
    ///
    /// An [`ArrayOutOfBounds`](crate::TrapCode::ArrayOutOfBounds) trap past the end; if the
    /// array is immutable, `val` is not of its element type, or the reference belongs to
    /// another store.
    pub fn set(&self, mut store: impl AsContextMut, index: u32, val: Val) -> Result<()> {
        let inner = &mut store.as_context_mut().0.inner;
        let b = bits(&self.0, inner)?;
        let f = Self::elem(inner, b)?;
        let v = write(inner, &f, &val)?;
        inner.gc.array_set(b, index, v).map_err(Error::trap)
    }

    /// The bytes of an `(array i8)` or `(array (mut i8))`, borrowed from the store: no
    /// copy, and no wasm can run (nor the collector) while the slice lives.
    ///
    /// # Errors
    ///
    /// If the elements are not `i8`s; if the reference belongs to another store.
    pub fn bytes<'a, S: AsContext + ?Sized>(&self, store: &'a S) -> Result<&'a [u8]> {
        let inner = &store.as_context().0.inner;
        let b = bits(&self.0, inner)?;
        match inner.gc.array_bytes(b).map_err(Error::trap)? {
            (FieldKind::I8, bytes) => Ok(bytes),
            _ => Err(Error::type_mismatch("the array's elements are not i8")),
        }
    }

    /// The bytes of an `(array (mut i8))`, borrowed mutably from the store, as
    /// [`bytes`](Self::bytes).
    ///
    /// # Errors
    ///
    /// If the elements are not mutable `i8`s; if the reference belongs to another store.
    pub fn bytes_mut<'a, S: AsContextMut + ?Sized>(&self, store: &'a mut S) -> Result<&'a mut [u8]> {
        let inner = &mut store.as_context_mut().0.inner;
        let b = bits(&self.0, inner)?;
        if !Self::elem(inner, b)?.mutable {
            return Err(Error::msg("the array is immutable"));
        }
        match inner.gc.array_bytes_mut(b).map_err(Error::trap)? {
            (FieldKind::I8, bytes) => Ok(bytes),
            _ => Err(Error::type_mismatch("the array's elements are not i8")),
        }
    }
}
