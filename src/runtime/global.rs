//! Globals: [`Global`] (the handle) and the store-side entity.

use super::value::Val;
use crate::error::{Error, Result};
use crate::exec::state::{GlobalEntity, StoreInner, Stored};
use crate::store::{AsContext, AsContextMut};
use crate::types::{GlobalType, Mutability, ValType};

/// A WebAssembly global: a handle, used together with the store that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Global(pub(crate) Stored);

impl Global {
    /// Creates a global of type `ty` holding `val`.
    ///
    /// # Errors
    ///
    /// If `val` does not have the global's value type.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let inner = &mut store.as_context_mut().0.inner;
        check_val(inner, &val, ty.content())?;
        let mut bits = [0u64; 2];
        val.to_slots(inner, &mut bits)?;
        Ok(Global::new_in(inner, ty, u128::from(bits[0]) | (u128::from(bits[1]) << 64)))
    }

    pub(crate) fn new_in(inner: &mut StoreInner, ty: GlobalType, value: u128) -> Global {
        inner.globals.push(GlobalEntity { ty, value: value as u64, value_hi: (value >> 64) as u64 });
        Global(inner.stored(inner.globals.len() - 1))
    }

    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let inner = &store.as_context().0.inner;
        inner.globals[inner.index(self.0)].ty
    }

    /// The current value.
    pub fn get(&self, store: impl AsContext) -> Val {
        let inner = &store.as_context().0.inner;
        let g = &inner.globals[inner.index(self.0)];
        Val::from_slots(&[g.value, g.value_hi], g.ty.content(), inner)
    }

    /// Sets the value.
    ///
    /// # Errors
    ///
    /// If the global is immutable or `val` has the wrong type.
    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let inner = &mut store.as_context_mut().0.inner;
        let i = inner.index(self.0);
        let ty = inner.globals[i].ty;
        if ty.mutability() != Mutability::Var {
            return Err(Error::msg("cannot set an immutable global"));
        }
        check_val(inner, &val, ty.content())?;
        let mut bits = [0u64; 2];
        val.to_slots(inner, &mut bits)?;
        inner.globals[i].value = bits[0];
        inner.globals[i].value_hi = bits[1];
        Ok(())
    }
}

/// Checks that `val` can be stored in a global of type `ty`.
fn check_val(inner: &StoreInner, val: &Val, ty: ValType) -> Result<()> {
    if val.matches(inner, ty) {
        return Ok(());
    }
    Err(Error::type_mismatch(format!("global of type {ty} given {}", val.describe(inner))))
}
