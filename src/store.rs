//! [`Store`]: owns every runtime object (functions, memories, tables, globals, instances)
//! and the host state `T`; plus the context traits that let the same methods take a
//! store or a [`Caller`](crate::Caller).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::Stack;
use crate::runtime::func::{FuncEntity, HostFunc};
use crate::runtime::global::GlobalEntity;
use crate::runtime::instance::InstanceEntity;
use crate::runtime::memory::MemoryEntity;
use crate::runtime::table::TableEntity;
use crate::runtime::value::ExternRef;

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// Limits on what the wasm code of one store may allocate, so a hostile module cannot
/// exhaust the host. Checked on instantiation and on every `memory.grow` / `table.grow`.
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
}

impl Default for StoreLimits {
    /// Generous defaults: 4 GiB per memory (the whole 32-bit space), 10 million table
    /// elements, 10,000 instances, memories and tables.
    fn default() -> Self {
        StoreLimits {
            memory_size_bytes: 1 << 32,
            table_elements: 10_000_000,
            instances: 10_000,
            memories: 10_000,
            tables: 10_000,
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
    pub(crate) externrefs: Vec<ExternRef>,
    pub(crate) fuel: u64,
    pub(crate) limits: StoreLimits,
    /// Index + 1 of each interned extern reference, by the address of its value.
    pub(crate) externref_ids: std::collections::HashMap<usize, u64>,
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

    /// Registers an extern reference and returns its slot encoding (index + 1).
    pub(crate) fn intern_externref(&mut self, r: &ExternRef) -> u64 {
        // The store keeps every interned value alive, so its address identifies it.
        let key = r.addr();
        if let Some(&id) = self.externref_ids.get(&key) {
            return id;
        }
        self.externrefs.push(r.clone());
        let id = self.externrefs.len() as u64;
        self.externref_ids.insert(key, id);
        id
    }
}

/// All WebAssembly objects of one embedding, plus the host's state `T`.
///
/// Every object (function, memory, instance...) belongs to one store and is used through
/// a small `Copy` handle together with that store. Growing a memory or calling wasm needs
/// `&mut Store`, so no safe borrow of guest memory can be alive across either.
pub struct Store<T> {
    pub(crate) inner: StoreInner,
    pub(crate) host_funcs: Vec<Arc<HostFunc<T>>>,
    data: T,
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("id", &self.inner.id).finish_non_exhaustive()
    }
}

impl<T> Store<T> {
    /// A new, empty store with host state `data`.
    pub fn new(engine: &Engine, data: T) -> Self {
        Store {
            inner: StoreInner {
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                engine: engine.clone(),
                funcs: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                instances: Vec::new(),
                externrefs: Vec::new(),
                fuel: 0,
                limits: StoreLimits::default(),
                externref_ids: Default::default(),
                stack: None,
            },
            host_funcs: Vec::new(),
            data,
        }
    }

    /// The engine of this store.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The host state.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// The runtime objects and the host state, borrowed separately.
    pub(crate) fn inner_and_data_mut(&mut self) -> (&mut StoreInner, &mut T) {
        (&mut self.inner, &mut self.data)
    }

    /// Consumes the store, returning the host state.
    pub fn into_data(self) -> T {
        self.data
    }

    /// Sets the limits on what wasm code in this store may allocate.
    pub fn set_limits(&mut self, limits: StoreLimits) {
        self.inner.limits = limits;
    }

    /// The current limits.
    pub fn limits(&self) -> StoreLimits {
        self.inner.limits
    }

    /// Sets (does not add) the fuel remaining for execution.
    ///
    /// # Errors
    ///
    /// Fails if the engine was not configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.check_fuel_enabled()?;
        self.inner.fuel = fuel;
        Ok(())
    }

    /// The fuel remaining.
    ///
    /// # Errors
    ///
    /// Fails if the engine was not configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn get_fuel(&self) -> Result<u64> {
        self.check_fuel_enabled()?;
        Ok(self.inner.fuel)
    }

    fn check_fuel_enabled(&self) -> Result<()> {
        if self.inner.engine.config().consume_fuel {
            Ok(())
        } else {
            Err(Error::msg("fuel is not enabled: use Config::consume_fuel(true)"))
        }
    }
}

/// A shared borrow of a store, as taken by methods that only read.
#[derive(Debug)]
pub struct StoreContext<'a, T>(pub(crate) &'a Store<T>);

/// An exclusive borrow of a store, as taken by methods that may change it.
#[derive(Debug)]
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut Store<T>);

/// Anything that gives shared access to a store: `&Store<T>`, `&Caller<'_, T>`, ...
pub trait AsContext {
    /// The host state type.
    type Data;
    /// Borrows the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Anything that gives exclusive access to a store: `&mut Store<T>`, `&mut Caller<'_, T>`, ...
pub trait AsContextMut: AsContext {
    /// Borrows the store exclusively.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self)
    }
}

impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self)
    }
}

impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        (**self).as_context_mut()
    }
}
