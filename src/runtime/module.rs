//! [`Module`]: a decoded, validated and translated WebAssembly module — the declarations
//! read by `module` and the function bodies translated by `exec`.

use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::{Code, translate_bodies, validate_bodies};
use crate::module::ModuleInner;
use crate::types::ExternType;

/// A compiled WebAssembly module, ready to be instantiated any number of times.
///
/// Cheap to clone (shared).
///
/// ```
/// # fn main() -> wasmguard::Result<()> {
/// let engine = wasmguard::Engine::default();
/// let module = wasmguard::Module::new(&engine, r#"(module (func (export "f") (result i32) i32.const 7))"#)?;
/// assert_eq!(module.exports().next().map(|(name, _)| name), Some("f"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Module {
    /// What the module declares.
    pub(crate) inner: Arc<ModuleInner>,
    /// Its defined functions, translated now or on first call.
    pub(crate) code: Arc<Code>,
}

impl Module {
    /// Compiles a module from the binary format or the text format (`.wat`).
    ///
    /// The whole module is decoded and validated here. Its functions are translated on
    /// their first call by default, once for all the module's instances, in every store and
    /// thread; [`Config::lazy_translation`](crate::Config::lazy_translation) translates
    /// them here instead. Lazily, the module keeps a copy of its function bodies for that. A large
    /// module's functions are validated (and, eagerly, translated) on several threads, one
    /// per core at most; see [`Config::parallel_compilation`](crate::Config::parallel_compilation).
    ///
    /// # Errors
    ///
    /// Returns an error carrying the decoder's message if the input is malformed (text or
    /// binary) or invalid, and [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) naming
    /// the feature if the module uses a proposal wasmguard does not implement yet.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        let binary = wat::parse_bytes(bytes).map_err(Error::compile)?;
        Module::from_binary(engine, &binary)
    }

    /// Compiles a module from the binary format only.
    ///
    /// # Errors
    ///
    /// As [`Module::new`].
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        let config = engine.config();
        let mut bodies = Vec::new();
        let inner = match crate::module::parse(engine, binary, &mut bodies) {
            Ok(inner) => inner,
            Err(e) => {
                // An invalid body read before the error comes first in the binary.
                validate_bodies(config, &bodies)?;
                return Err(e);
            }
        };
        let code = if config.lazy_translation {
            validate_bodies(config, &bodies)?;
            let ranges = bodies.iter().map(|f| {
                let r = f.body.range();
                r.start as usize..r.end as usize
            });
            Code::lazy(&inner, binary, ranges.collect(), config.consume_fuel)?
        } else {
            Code::translated(translate_bodies(&inner, &bodies, config.consume_fuel)?)
        };
        Ok(Module { inner: Arc::new(inner), code: Arc::new(code) })
    }

    /// Every defined function, translated (those not translated yet now).
    #[cfg(test)]
    pub(crate) fn translated_funcs(&self) -> Vec<&crate::exec::ir::CompiledFunc> {
        self.code.all(&self.inner).unwrap()
    }

    /// The engine this module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's name from its name section, if any.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// The imports, in order: `(module, name, type)`.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = (&str, &str, ExternType)> + '_ {
        self.inner.imports.iter().map(|imp| (imp.module.as_str(), imp.name.as_str(), self.inner.import_type(&imp.kind)))
    }

    /// The exports, in order: `(name, type)`.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = (&str, ExternType)> + '_ {
        self.inner.exports.iter().map(|e| (e.name.as_str(), self.inner.extern_type(e.kind, e.index)))
    }
}
