//! Wasm exceptions seen from the host: making one ([`ExnRef::new`]) to throw from a host
//! function, and reading the tag and payload of one that escaped a call.

use super::tag::Tag;
use super::value::Val;
use crate::error::{Error, ExnRef, Result};
use crate::store::{AsContext, AsContextMut};

impl ExnRef {
    /// A new exception of `tag` carrying `values`, to throw from a host function: return
    /// it as the function's error (`Err(exn.into())`), and the wasm code that called the
    /// function can catch it.
    ///
    /// The store keeps the exception as long as it lives (exceptions are not collected), within
    /// [`StoreLimits::exceptions`](crate::StoreLimits::exceptions).
    ///
    /// # Errors
    ///
    /// If the values do not match the tag's type, the tag belongs to another store, or the
    /// store holds as many exceptions as its limits allow.
    ///
    /// ```
    /// use wasmguard::{Engine, ExnRef, Store, Tag, TagType, Val, ValType};
    /// # fn main() -> wasmguard::Result<()> {
    /// let mut store = Store::new(&Engine::default(), ());
    /// let tag = Tag::new(&mut store, &TagType::new([ValType::I32]))?;
    /// let exn = ExnRef::new(&mut store, tag, &[Val::I32(7)])?;
    /// assert_eq!(exn.tag(&store), tag);
    /// assert_eq!(exn.values(&store)[0].i32(), Some(7));
    /// assert!(ExnRef::new(&mut store, tag, &[Val::I64(7)]).is_err());
    /// # Ok(()) }
    /// ```
    pub fn new(mut store: impl AsContextMut, tag: Tag, values: &[Val]) -> Result<ExnRef> {
        let inner = &mut store.as_context_mut().0.inner;
        if !inner.owns(tag.0) {
            return Err(Error::type_mismatch("the tag belongs to another store"));
        }
        let ty = inner.engine.resolve_type(inner.tags[tag.0.index as usize]);
        let params = ty.params_slice();
        if values.len() != params.len() {
            return Err(Error::type_mismatch(format!(
                "the tag's exceptions carry {} values, not {}",
                params.len(),
                values.len()
            )));
        }
        let mut payload = vec![0u64; params.iter().map(|t| t.slot_count()).sum()];
        let mut at = 0;
        for (k, (v, &t)) in values.iter().zip(params).enumerate() {
            if !v.matches(inner, t) {
                return Err(Error::type_mismatch(format!("value {k} is {}, the tag takes {t}", v.describe(inner))));
            }
            at += v.to_slots(inner, &mut payload[at..])?;
        }
        let max = inner.limits.exceptions;
        let index = inner.exns.alloc(tag.0.index, &payload, max)?;
        // The host holds a reference to it from now on.
        inner.exns.mark_referenced(index);
        Ok(ExnRef { store_id: inner.id, index })
    }

    /// The exception's tag.
    ///
    /// # Panics
    ///
    /// If the exception belongs to another store (a bug in the embedder).
    pub fn tag(&self, store: impl AsContext) -> Tag {
        let inner = &store.as_context().0.inner;
        Tag(inner.stored(self.object(inner).tag as usize))
    }

    /// The values the exception carries, as its tag's type says.
    ///
    /// # Panics
    ///
    /// If the exception belongs to another store (a bug in the embedder).
    pub fn values(&self, store: impl AsContext) -> Vec<Val> {
        let inner = &store.as_context().0.inner;
        let exn = self.object(inner);
        let ty = inner.engine.resolve_type(inner.tags[exn.tag as usize]);
        let mut at = 0;
        ty.params()
            .map(|t| {
                let v = Val::from_slots(&exn.payload[at..], t, inner);
                at += t.slot_count();
                v
            })
            .collect()
    }

    fn object<'s>(&self, inner: &'s crate::exec::state::StoreInner) -> &'s crate::exec::state::ExnObject {
        assert_eq!(self.store_id, inner.id, "wasmguard: exception used with a store that does not own it");
        // A reference the host holds is never freed.
        inner.exns.get(self.index).expect("wasmguard: a held exception was freed")
    }
}
