//! [`Linker`]: named definitions (host functions and store objects) that resolve a
//! module's imports by `module::name`.

use std::collections::HashMap;
use std::sync::Arc;

use super::func::{Func, IntoFunc, dynamic_host_func};
use super::instance::{Instance, instantiate};
use super::value::{Extern, Val};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::runtime::module::Module;
use crate::store::AsContextMut;
use crate::store::HostFunc;
use crate::types::{ExternType, FuncType};

enum Definition<T> {
    Extern(Extern),
    Host(FuncType, Arc<HostFunc<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(e.clone()),
            Definition::Host(t, h) => Definition::Host(t.clone(), h.clone()),
        }
    }
}

/// Resolves imports by name. Host functions defined with [`Linker::func_wrap`] are not
/// tied to a store, so one linker serves many stores.
///
/// ```
/// use wasmguard::{Caller, Engine, Linker, Module, Store};
/// # fn main() -> wasmguard::Result<()> {
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (import "env" "double" (func $double (param i32) (result i32)))
///     (func (export "run") (param i32) (result i32) (call $double (local.get 0))))"#)?;
/// let mut linker = Linker::new(&engine);
/// linker.func_wrap("env", "double", |x: i32| x * 2)?;
/// let mut store = Store::new(&engine, ());
/// let instance = linker.instantiate(&mut store, &module)?;
/// let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
/// assert_eq!(run.call(&mut store, 21)?, 42);
/// # Ok(()) }
/// ```
pub struct Linker<T> {
    engine: Engine,
    defs: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker").field("definitions", &self.defs.len()).finish()
    }
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker { engine: self.engine.clone(), defs: self.defs.clone(), allow_shadowing: self.allow_shadowing }
    }
}

impl<T> Linker<T> {
    /// An empty linker.
    pub fn new(engine: &Engine) -> Self {
        Linker { engine: engine.clone(), defs: HashMap::new(), allow_shadowing: false }
    }

    /// Whether a later definition of the same name replaces an earlier one (default: an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<&mut Self> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.defs.contains_key(&key) {
            return Err(Error::link(format!("`{module}::{name}` is already defined")));
        }
        self.defs.insert(key, def);
        Ok(self)
    }

    /// The engine the linker's definitions belong to.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The host functions defined in the linker (with [`Linker::func_wrap`] or
    /// [`Linker::func_new`]) as `(module, name, type)`, ordered by module and name.
    pub fn host_funcs(&self) -> Vec<(String, String, FuncType)> {
        let mut funcs: Vec<_> = self
            .defs
            .iter()
            .filter_map(|((module, name), def)| match def {
                Definition::Host(ty, _) => Some((module.clone(), name.clone(), ty.clone())),
                Definition::Extern(_) => None,
            })
            .collect();
        funcs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        funcs
    }

    /// True if `module::name` is defined.
    pub fn is_defined(&self, module: &str, name: &str) -> bool {
        self.defs.contains_key(&(module.to_string(), name.to_string()))
    }

    /// Defines a host function from a Rust closure (see [`Func::wrap`] for the shapes).
    ///
    /// # Errors
    ///
    /// If the name is already defined and shadowing is off.
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self> {
        let (ty, host) = func.into_host_func();
        self.insert(module, name, Definition::Host(ty, host))
    }

    /// Defines a dynamically typed host function.
    ///
    /// # Errors
    ///
    /// If the name is already defined and shadowing is off.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(crate::Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self>
    where
        T: 'static,
    {
        let host = dynamic_host_func(ty.clone(), func);
        self.insert(module, name, Definition::Host(ty, host))
    }

    /// Defines `module::name` as an object of `store`.
    ///
    /// # Errors
    ///
    /// If the name is already defined and shadowing is off.
    pub fn define(
        &mut self,
        _store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::Extern(item.into()))
    }

    /// Defines every export of `instance` under the module name `module`.
    ///
    /// # Errors
    ///
    /// If a name is already defined and shadowing is off.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for export in instance.exports(&mut store) {
            let name = export.name().to_string();
            self.insert(module, &name, Definition::Extern(export.into_extern()))?;
        }
        Ok(self)
    }

    /// The definition of `module::name` as an object of `store`.
    pub fn get(&self, mut store: impl AsContextMut<Data = T>, module: &str, name: &str) -> Option<Extern> {
        let def = self.defs.get(&(module.to_string(), name.to_string()))?;
        Some(match def {
            Definition::Extern(e) => e.clone(),
            Definition::Host(ty, host) => Extern::Func(Func::from_host(store.as_context_mut().0, ty, host.clone())),
        })
    }

    /// Resolves the imports of `module` and instantiates it.
    ///
    /// # Errors
    ///
    /// A link error naming the first import that is undefined or of the wrong type, or any
    /// error of [`Instance::new`].
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>, module: &Module) -> Result<Instance> {
        if !Engine::same(&self.engine, module.engine()) {
            return Err(Error::link("linker and module belong to different engines"));
        }
        let ctx = store.as_context_mut();
        let mut imports = Vec::with_capacity(module.inner.imports.len());
        for (m, n, ty) in module.imports() {
            let def = self
                .defs
                .get(&(m.to_string(), n.to_string()))
                .ok_or_else(|| Error::link(format!("unknown import: `{m}::{n}` has not been defined")))?;
            let item = match def {
                Definition::Extern(e) => e.clone(),
                Definition::Host(fty, host) => {
                    if let ExternType::Func(want) = &ty
                        && want != fty
                    {
                        return Err(Error::link(format!(
                            "incompatible import type for `{m}::{n}`: expected {want}, found {fty}"
                        )));
                    }
                    Extern::Func(Func::from_host(ctx.0, fty, host.clone()))
                }
            };
            imports.push(item);
        }
        instantiate(ctx.0, module, &imports)
    }
}
