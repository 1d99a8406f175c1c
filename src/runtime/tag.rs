//! Exception tags ([`Tag`]): what a thrown exception is an instance of.

use crate::error::{Error, Result};
use crate::exec::state::{StoreInner, Stored};
use crate::store::{AsContext, AsContextMut};
use crate::types::TagType;

use super::value::Extern;

/// An exception tag: a handle, used together with the store that owns it.
///
/// Tags compare by identity: two tags of the same type are different tags, and a
/// `catch` matches only exceptions of its own tag (imported or defined, under any name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag(pub(crate) Stored);

impl Tag {
    /// A new tag of type `ty`.
    ///
    /// # Errors
    ///
    /// If the store already holds as many tags as its limits allow (the instance limit
    /// bounds them: each instance defines finitely many).
    ///
    /// ```
    /// use wasmguard::{Engine, Store, Tag, TagType, ValType};
    /// # fn main() -> wasmguard::Result<()> {
    /// let mut store = Store::new(&Engine::default(), ());
    /// let tag = Tag::new(&mut store, &TagType::new([ValType::I32]))?;
    /// assert_eq!(tag.ty(&store).params().collect::<Vec<_>>(), [ValType::I32]);
    /// assert_ne!(tag, Tag::new(&mut store, &TagType::new([ValType::I32]))?);
    /// # Ok(()) }
    /// ```
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        let inner = &mut store.as_context_mut().0.inner;
        let id = inner.engine.intern_type(ty.ty());
        Tag::new_in(inner, id)
    }

    pub(crate) fn new_in(inner: &mut StoreInner, type_id: u32) -> Result<Tag> {
        if u32::try_from(inner.tags.len()).is_err() {
            return Err(Error::limit("too many tags in the store"));
        }
        inner.tags.push(type_id);
        Ok(Tag(inner.stored(inner.tags.len() - 1)))
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        let inner = &store.as_context().0.inner;
        TagType::from_func_type(inner.engine.resolve_type(inner.tags[inner.index(self.0)]))
    }
}

impl From<Tag> for Extern {
    fn from(t: Tag) -> Extern {
        Extern::Tag(t)
    }
}
