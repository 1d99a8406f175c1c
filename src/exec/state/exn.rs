//! Exception objects: what `throw` creates, what an `exnref` names, and what escapes to
//! the host as an uncaught exception.

use crate::error::{Error, Result};

/// One exception: its tag and the slots of its payload.
#[derive(Debug, Default)]
pub(crate) struct ExnObject {
    /// The store index of its tag.
    pub(crate) tag: u32,
    /// The payload, encoded as the tag's parameter types say (two slots per `v128`).
    pub(crate) payload: Vec<u64>,
    /// Whether a reference to it may exist (an `exnref` was made of it, or it escaped to
    /// the host): then it lives as long as the store, as exceptions are not collected.
    pub(crate) referenced: bool,
    live: bool,
}

/// The exception objects of a store. An exception that wasm catches without a reference
/// (`catch`, `catch_all`) is freed right away, so throwing and catching in a loop runs in
/// constant space; the others stay, bounded by [`StoreLimits::exceptions`](super::StoreLimits).
#[derive(Debug, Default)]
pub(crate) struct Exns {
    objects: Vec<ExnObject>,
    free: Vec<u32>,
    live: usize,
}

impl Exns {
    /// A new exception of tag `tag` with `payload`, if fewer than `max` are alive.
    pub(crate) fn alloc(&mut self, tag: u32, payload: &[u64], max: usize) -> Result<u32> {
        if self.live >= max {
            return Err(Error::limit(format!("more than {max} live exceptions in the store")));
        }
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                let id = u32::try_from(self.objects.len())
                    .ok()
                    .filter(|&id| id < u32::MAX - 1)
                    .ok_or_else(|| Error::limit("too many exceptions in the store"))?;
                self.objects.push(ExnObject::default());
                id
            }
        };
        let o = &mut self.objects[id as usize];
        o.tag = tag;
        o.payload.clear();
        o.payload.extend_from_slice(payload);
        o.referenced = false;
        o.live = true;
        self.live += 1;
        Ok(id)
    }

    /// Exception `id`, if it is alive.
    pub(crate) fn get(&self, id: u32) -> Option<&ExnObject> {
        self.objects.get(id as usize).filter(|o| o.live)
    }

    /// The payloads of the live exceptions (roots of the GC heap).
    pub(crate) fn payloads(&self) -> impl Iterator<Item = &[u64]> {
        self.objects.iter().filter(|o| o.live).map(|o| &o.payload[..])
    }

    /// Notes that a reference to exception `id` may now exist.
    pub(crate) fn mark_referenced(&mut self, id: u32) {
        if let Some(o) = self.objects.get_mut(id as usize) {
            o.referenced = true;
        }
    }

    /// Frees exception `id` if nothing can refer to it any more.
    pub(crate) fn release(&mut self, id: u32) {
        if let Some(o) = self.objects.get_mut(id as usize)
            && o.live
            && !o.referenced
        {
            o.live = false;
            self.live -= 1;
            self.free.push(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_exceptions_are_reused_and_referenced_ones_kept() {
        let mut exns = Exns::default();
        let a = exns.alloc(3, &[1, 2], 2).unwrap();
        exns.release(a);
        let b = exns.alloc(4, &[5], 2).unwrap();
        assert_eq!(a, b);
        assert_eq!(exns.get(b).map(|o| (o.tag, o.payload.clone())), Some((4, vec![5])));
        exns.mark_referenced(b);
        exns.release(b);
        assert!(exns.get(b).is_some());
        let _c = exns.alloc(0, &[], 2).unwrap();
        assert!(exns.alloc(0, &[], 2).is_err(), "the limit holds");
    }
}
