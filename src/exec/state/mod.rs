//! The state of a store as the executor reads and writes it: every function, memory, table,
//! global and instance of the store, by index ([`StoreInner`]), and the limits on them. The
//! public handles (`Func`, `Memory`, ...) and `Store<T>` wrap this state one layer up.

mod budget;
mod exn;
mod externref;
mod func;
pub(crate) mod gc;
mod global;
mod instance;
mod memory;
mod table;

pub(crate) use budget::{CopyBudget, charge};
pub(crate) use exn::{ExnObject, Exns};
pub use externref::ExternRef;
pub(crate) use func::FuncEntity;
pub(crate) use global::GlobalEntity;
pub(crate) use instance::InstanceEntity;
pub(crate) use memory::MemoryEntity;
pub(crate) use table::{TableEntity, table_copy};

use super::Stack;

/// The index in the store's extern references that the slot `bits` names, if it names one.
#[inline]
pub(crate) fn externref_index(bits: u64) -> Option<usize> {
    (bits & 3 == 2).then_some((bits >> 2) as usize)
}
use crate::engine::Engine;

/// Limits on what the wasm code of one store may allocate, so a hostile module cannot
/// exhaust the host. Checked on instantiation and on every `memory.grow` / `table.grow`,
/// and (the copy budget) on every copy the typed accessors make during a host call.
///
/// Set them with [`Store::set_limits`](crate::Store::set_limits); change single fields
/// with struct update syntax, so code keeps compiling when fields are added:
///
/// ```
/// use wasmguard::{Engine, Store, StoreLimits};
/// let mut store = Store::new(&Engine::default(), ());
/// store.set_limits(StoreLimits { memory_size_bytes: 16 << 20, host_copy_bytes: 1 << 20, ..StoreLimits::default() });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Largest size of any one linear memory, in bytes.
    pub memory_size_bytes: u64,
    /// Largest number of elements of any one table.
    pub table_elements: u32,
    /// Largest number of instances in the store.
    pub instances: usize,
    /// Largest number of memories in the store.
    pub memories: usize,
    /// Largest number of tables in the store.
    pub tables: usize,
    /// The copy budget of one host call, in bytes: how much the typed accessors
    /// ([`WasmPtr::read`](crate::WasmPtr::read) / [`write`](crate::WasmPtr::write),
    /// [`WasmSlice::read_to_vec`](crate::WasmSlice::read_to_vec) /
    /// [`write_from`](crate::WasmSlice::write_from), [`MemoryView::read`](crate::MemoryView::read),
    /// [`MemoryViewMut::read`](crate::MemoryViewMut::read) / [`write`](crate::MemoryViewMut::write))
    /// may copy in and out of guest memory, together, during one call of a host function.
    /// So a guest-chosen length cannot make a host function allocate or loop without bound:
    /// going over is [`AccessError::CopyBudgetExceeded`](crate::AccessError::CopyBudgetExceeded),
    /// which `?` in a host function turns into an error that ends the guest's call.
    ///
    /// A copy of `n` values of a type `T` costs `n` times the larger of `T`'s guest and
    /// host sizes, and at least `n` (so a slice of a zero-sized type counts its elements).
    /// Borrowing costs nothing: [`MemoryView::bytes`](crate::MemoryView::bytes), the
    /// strings of [`WasmPtr::read_utf8`](crate::WasmPtr::read_utf8) /
    /// [`read_cstr`](crate::WasmPtr::read_cstr) and the guards of
    /// [`MemoryViewMut::borrow`](crate::MemoryViewMut::borrow) copy nothing and allocate
    /// nothing. The budget starts afresh on every entry to a host function (a host function
    /// called from wasm called by a host function has its own); views taken outside host
    /// calls, the raw [`Memory::read`](crate::Memory::read) / [`Memory::write`](crate::Memory::write)
    /// and [`SharedMemoryView`](crate::SharedMemoryView)s (which belong to no store) are not
    /// limited by it.
    pub host_copy_bytes: u64,
    /// Largest number of exception objects alive at once. An exception that wasm catches
    /// with `catch` or `catch_all` is freed when caught; one that an `exnref` was made of
    /// (`catch_ref`, `catch_all_ref`) or that escaped to the host stays as long as the
    /// store (the collector reclaims GC objects, not exceptions). A `throw` beyond the
    /// limit ends the call with a [`Limit`](crate::ErrorKind::Limit) error.
    pub exceptions: usize,
    /// Largest number of bytes the store's GC objects (structs and arrays) may take
    /// together, counting a small per-object overhead. An allocation that would go over it
    /// collects garbage first, and traps with
    /// [`GcHeapExhausted`](crate::TrapCode::GcHeapExhausted) if that does not make room.
    pub gc_heap_bytes: u64,
}

impl Default for StoreLimits {
    /// Generous defaults: 4 GiB per memory (the whole 32-bit space), 10 million table
    /// elements, 10,000 instances, memories and tables, a copy budget of 256 MiB per
    /// host call, a million live exceptions and a GC heap of 1 GiB.
    fn default() -> Self {
        StoreLimits {
            memory_size_bytes: 1 << 32,
            table_elements: 10_000_000,
            instances: 10_000,
            memories: 10_000,
            tables: 10_000,
            host_copy_bytes: 256 << 20,
            exceptions: 1_000_000,
            gc_heap_bytes: 1 << 30,
        }
    }
}

/// The part of a store that does not depend on the host state type.
#[derive(Debug)]
pub(crate) struct StoreInner {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    pub(crate) funcs: Vec<FuncEntity>,
    pub(crate) memories: Vec<MemoryEntity>,
    pub(crate) tables: Vec<TableEntity>,
    pub(crate) globals: Vec<GlobalEntity>,
    pub(crate) instances: Vec<InstanceEntity>,
    /// Exception tags: the canonical id of each one's type. A tag's identity is its index.
    pub(crate) tags: Vec<u32>,
    pub(crate) externrefs: Vec<ExternRef>,
    /// Exception objects.
    pub(crate) exns: Exns,
    /// Struct and array objects.
    pub(crate) gc: gc::GcHeap,
    pub(crate) fuel: u64,
    pub(crate) limits: StoreLimits,
    /// Index + 1 of each interned extern reference, by the address of its value.
    pub(crate) externref_ids: std::collections::HashMap<usize, u64>,
    /// The copy budget of the running host call.
    pub(crate) copy_budget: CopyBudget,
    /// A value stack kept for reuse between calls.
    pub(crate) stack: Option<Stack>,
}

/// A handle's link to the store that owns the object, plus its index there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Stored {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

impl StoreInner {
    /// Checks that `s` belongs to this store and returns its index.
    ///
    /// # Panics
    ///
    /// If the handle belongs to another store: that is a bug in the embedder.
    pub(crate) fn index(&self, s: Stored) -> usize {
        assert_eq!(s.store_id, self.id, "wasmguard: object used with a store that does not own it");
        s.index as usize
    }

    pub(crate) fn owns(&self, s: Stored) -> bool {
        s.store_id == self.id
    }

    pub(crate) fn stored(&self, index: usize) -> Stored {
        Stored { store_id: self.id, index: index as u32 }
    }

    /// Collects the garbage of the GC heap. The roots are `live` (the values of the running
    /// activation), the pinned values of suspended ones, the host's roots, and every
    /// global, table element, element segment and exception payload of the store.
    pub(crate) fn collect_garbage(&mut self, live: &[u64]) {
        let StoreInner { gc, globals, tables, instances, exns, .. } = self;
        let globals = globals.iter().map(|g| std::slice::from_ref(&g.value));
        let tables = tables.iter().map(|t| &t.elems[..]);
        let elems = instances.iter().flat_map(|i| i.elems.iter().map(|e| &e[..]));
        gc.collect(std::iter::once(live).chain(globals).chain(tables).chain(elems).chain(exns.payloads()));
    }

    /// Makes room for an allocation of `cost` bytes in the GC heap, collecting garbage if
    /// it is time to (`live`: the values of the running activation).
    ///
    /// # Errors
    ///
    /// [`TrapCode::GcHeapExhausted`](crate::TrapCode::GcHeapExhausted) if the heap cannot
    /// hold it within the store's limit.
    #[inline]
    pub(crate) fn gc_reserve(&mut self, cost: usize, live: &[u64]) -> Result<(), crate::TrapCode> {
        let limit = self.limits.gc_heap_bytes;
        if self.gc.wants_collection(cost, limit) {
            self.collect_garbage(live);
            if (self.gc.bytes().saturating_add(cost)) as u64 > limit {
                return Err(crate::TrapCode::GcHeapExhausted);
            }
        }
        Ok(())
    }

    /// Registers an extern reference and returns its slot encoding, `(index << 2) | 2`: in
    /// the `any` hierarchy (after `any.convert_extern`, which changes no bits) it is apart
    /// from `i31`s (low bit 1) and GC objects (low bits 0).
    pub(crate) fn intern_externref(&mut self, r: &ExternRef) -> u64 {
        // The store keeps every interned value alive, so its address identifies it.
        let key = r.addr();
        if let Some(&id) = self.externref_ids.get(&key) {
            return id;
        }
        let id = ((self.externrefs.len() as u64) << 2) | 2;
        self.externrefs.push(r.clone());
        self.externref_ids.insert(key, id);
        id
    }
}
