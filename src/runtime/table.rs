//! Tables: [`Table`] (the handle) and the store-side entity.

use super::value::Val;
use crate::error::{Error, Result};
use crate::exec::state::{StoreInner, Stored, TableEntity};
use crate::store::{AsContext, AsContextMut};
use crate::types::{TableType, ValType};

/// A WebAssembly table: a handle, used together with the store that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table(pub(crate) Stored);

impl Table {
    /// Creates a table of `ty.minimum()` elements, each `init`.
    ///
    /// # Errors
    ///
    /// If `init` has the wrong type or the table exceeds the store's limits.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let inner = &mut store.as_context_mut().0.inner;
        let init = ref_slot(inner, ValType::from(ty.element()), &init)?;
        Table::new_in(inner, ty, init)
    }

    pub(crate) fn new_in(inner: &mut StoreInner, ty: TableType, init: u64) -> Result<Table> {
        if inner.tables.len() >= inner.limits.tables {
            return Err(Error::limit("too many tables in the store"));
        }
        let entity = TableEntity::new(ty, init, &inner.limits)?;
        inner.tables.push(entity);
        Ok(Table(inner.stored(inner.tables.len() - 1)))
    }

    pub(crate) fn entity<'a>(&self, inner: &'a StoreInner) -> &'a TableEntity {
        &inner.tables[inner.index(self.0)]
    }

    /// The table's type; its minimum is the current size.
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let e = self.entity(&store.as_context().0.inner);
        if e.ty.is_64() {
            TableType::new64(e.ty.element(), e.size(), e.ty.maximum())
        } else {
            TableType::new(e.ty.element(), e.size(), e.ty.maximum())
        }
    }

    /// The current number of elements.
    pub fn size(&self, store: impl AsContext) -> u32 {
        self.entity(&store.as_context().0.inner).size()
    }

    /// The element at `index`, or `None` if out of bounds.
    pub fn get(&self, mut store: impl AsContextMut, index: u32) -> Option<Val> {
        let inner = &store.as_context_mut().0.inner;
        let e = self.entity(inner);
        let bits = e.get(index).ok()?;
        Some(Val::from_slot(bits, ValType::from(e.ty.element()), inner))
    }

    /// Sets the element at `index`.
    ///
    /// # Errors
    ///
    /// If `index` is out of bounds or `val` has the wrong type.
    pub fn set(&self, mut store: impl AsContextMut, index: u32, val: Val) -> Result<()> {
        let inner = &mut store.as_context_mut().0.inner;
        let ty = ValType::from(self.entity(inner).ty.element());
        let bits = ref_slot(inner, ty, &val)?;
        let i = inner.index(self.0);
        inner.tables[i].set(index, bits).map_err(Error::trap)
    }

    /// Grows the table by `delta` elements set to `init`; returns the previous size.
    ///
    /// # Errors
    ///
    /// If `init` has the wrong type, or the table cannot grow that much.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u32, init: Val) -> Result<u32> {
        let inner = &mut store.as_context_mut().0.inner;
        let ty = ValType::from(self.entity(inner).ty.element());
        let bits = ref_slot(inner, ty, &init)?;
        let limits = inner.limits;
        let i = inner.index(self.0);
        inner.tables[i]
            .grow(delta, bits, &limits)
            .ok_or_else(|| Error::limit(format!("failed to grow table by {delta} elements")))
    }
}

/// Encodes a reference value of type `ty`.
pub(crate) fn ref_slot(inner: &mut StoreInner, ty: ValType, val: &Val) -> Result<u64> {
    if !val.matches(inner, ty) {
        return Err(Error::type_mismatch(format!("expected a {ty} value, got {}", val.describe(inner))));
    }
    val.to_slot(inner)
}
