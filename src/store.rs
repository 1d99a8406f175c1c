//! [`Store`]: owns every runtime object (functions, memories, tables, globals, instances)
//! and the host state `T`; the [`Caller`] a host function receives; and the context
//! traits that let the same methods take a store or a caller.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::state::{StoreInner, StoreLimits};

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

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
                tags: Vec::new(),
                externrefs: Vec::new(),
                fuel: 0,
                limits: StoreLimits::default(),
                externref_ids: Default::default(),
                exns: Default::default(),
                gc: Default::default(),
                copy_budget: Default::default(),
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

    /// Collects the garbage of the store's GC heap now: frees every struct and array that
    /// no global, table, element segment, exception, rooted host reference
    /// ([`AnyRef`](crate::AnyRef), [`StructRef`](crate::StructRef), ...) or suspended wasm
    /// call can reach. (Collections also run on their own as wasm allocates.)
    pub fn gc(&mut self) {
        self.inner.collect_garbage(&[]);
    }

    /// How many bytes the GC objects of the store take, by the count that
    /// [`StoreLimits::gc_heap_bytes`] bounds (a small overhead per object included).
    pub fn gc_heap_bytes(&self) -> usize {
        self.inner.gc.bytes()
    }

    /// How many garbage collections the store has run.
    pub fn gc_collections(&self) -> u64 {
        self.inner.gc.collections
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

/// A host function after type erasure: reads its parameters from the slots and writes
/// its results back into them.
pub(crate) type HostFunc<T> = dyn Fn(Caller<'_, T>, &mut [u64]) -> Result<()> + Send + Sync + 'static;

/// The calling context a host function receives: the store (host state included) and
/// the calling instance.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) instance: Option<u32>,
}

impl<T> std::fmt::Debug for Caller<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller").field("instance", &self.instance).finish_non_exhaustive()
    }
}

impl<'a, T> Caller<'a, T> {
    /// The host state.
    pub fn data(&self) -> &T {
        self.store.data()
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// Collects the garbage of the store's GC heap now ([`Store::gc`]); the values of the
    /// wasm calls this host function is nested in stay alive.
    pub fn gc(&mut self) {
        self.store.gc();
    }

    /// The engine.
    pub fn engine(&self) -> &crate::Engine {
        self.store.engine()
    }

    /// Bytes the typed accessors may still copy in and out of guest memory during this
    /// host call (see [`StoreLimits::host_copy_bytes`]).
    pub fn copy_budget_remaining(&self) -> u64 {
        self.store.inner.copy_budget.remaining_bytes().unwrap_or(u64::MAX)
    }

    /// Fuel remaining, as [`Store::get_fuel`].
    ///
    /// # Errors
    ///
    /// If fuel is not enabled.
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.get_fuel()
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store)
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}

impl<'a, T> From<&'a Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a Caller<'_, T>) -> Self {
        StoreContext(c.store)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContext(c.store)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContextMut(c.store)
    }
}

impl<T> crate::exec::Host for Store<T> {
    type Func = Arc<HostFunc<T>>;

    fn inner(&mut self) -> &mut StoreInner {
        &mut self.inner
    }

    fn host_func(&self, index: u32) -> Self::Func {
        self.host_funcs[index as usize].clone()
    }

    fn call_host(&mut self, func: &Self::Func, instance: Option<u32>, slots: &mut [u64]) -> Result<()> {
        // Every host call starts with a full copy budget, and leaves its caller's as it was.
        let saved = self.inner.copy_budget.enter(self.inner.limits.host_copy_bytes);
        let result = func(Caller { store: self, instance }, slots);
        self.inner.copy_budget.leave(saved);
        result
    }
}
