//! [`Engine`] and its [`Config`]: settings shared by every module and store made from it.

use std::sync::{Arc, Mutex};

use wasmparser::WasmFeatures;

use crate::error::Result;
pub(crate) mod layout;
pub(crate) mod registry;

use crate::types::{ConcreteType, FuncType, HeapType, Hierarchy, ValType};
use registry::{SubType, TypeRegistry};

/// Settings of an [`Engine`].
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) consume_fuel: bool,
    pub(crate) max_call_depth: u32,
    pub(crate) max_stack_slots: usize,
    pub(crate) simd: bool,
    pub(crate) multi_memory: bool,
    pub(crate) memory64: bool,
    pub(crate) threads: bool,
    pub(crate) reference_types: bool,
    pub(crate) extended_const: bool,
    pub(crate) tail_call: bool,
    pub(crate) function_references: bool,
    pub(crate) custom_page_sizes: bool,
    pub(crate) exceptions: bool,
    pub(crate) relaxed_simd: bool,
    pub(crate) wide_arithmetic: bool,
    pub(crate) gc: bool,
    pub(crate) reserve_memories: bool,
    pub(crate) lazy_translation: bool,
    pub(crate) parallel_compilation: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            consume_fuel: false,
            max_call_depth: 250_000,
            max_stack_slots: 1 << 22,
            simd: true,
            multi_memory: true,
            memory64: true,
            threads: true,
            reference_types: true,
            extended_const: true,
            tail_call: true,
            function_references: true,
            custom_page_sizes: false,
            exceptions: true,
            relaxed_simd: true,
            wide_arithmetic: false,
            gc: true,
            reserve_memories: false,
            lazy_translation: true,
            parallel_compilation: true,
        }
    }
}

impl Config {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether execution consumes fuel (see [`Store::set_fuel`](crate::Store::set_fuel)).
    /// Off by default. With fuel on, every wasm instruction costs one unit and running out
    /// traps with [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel), so untrusted code always ends.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// The largest number of nested wasm calls before a `call stack exhausted` trap
    /// (default 250,000). Calls do not use the host's native stack, so this does not
    /// depend on the host thread's stack size.
    pub fn max_call_depth(&mut self, depth: u32) -> &mut Self {
        self.max_call_depth = depth.max(1);
        self
    }

    /// The largest size of the value stack, in 8-byte slots (default 4 Mi slots, 32 MiB).
    /// Exceeding it is a `call stack exhausted` trap.
    pub fn max_stack_slots(&mut self, slots: usize) -> &mut Self {
        self.max_stack_slots = slots.max(1024);
        self
    }

    /// Whether modules may use the 128-bit SIMD instructions and the `v128` type (on by
    /// default; part of WebAssembly 2.0).
    pub fn wasm_simd(&mut self, enable: bool) -> &mut Self {
        self.simd = enable;
        self
    }

    /// Whether functions are translated when they are first called (on by default) or
    /// all of them by [`Module::new`](crate::Module::new).
    ///
    /// Either way `Module::new` decodes and validates the whole module, so a malformed,
    /// invalid or unsupported module fails there, with the same error. Lazily, a module
    /// is ready sooner and functions that never run cost no translation; the first call
    /// of each function translates it, once for every instance of the module in every
    /// store and thread. What translation alone can refuse (a function too large for the
    /// interpreter's encoding, far past what compilers emit) then shows up as an error of
    /// that call instead of `Module::new`'s.
    pub fn lazy_translation(&mut self, enable: bool) -> &mut Self {
        self.lazy_translation = enable;
        self
    }

    /// Whether [`Module::new`](crate::Module::new) may spread the validation (and, with
    /// [`lazy_translation`](Config::lazy_translation) off, the translation) of a large
    /// module's functions over several threads (on by default).
    ///
    /// It starts at most one thread per core, and one per 64 KiB of code; a small module
    /// is compiled on the calling thread alone. The result and the error of an invalid
    /// module are the same either way: the first invalid function's, in module order.
    pub fn parallel_compilation(&mut self, enable: bool) -> &mut Self {
        self.parallel_compilation = enable;
        self
    }

    /// Whether every (unshared) memory must reserve address space up to its maximum,
    /// capped by the store's [`StoreLimits`](crate::StoreLimits) memory limit, when it is
    /// created (off by default). Growth within the reservation never moves a memory, so
    /// its [`data_ptr`](crate::Memory::data_ptr) stays the same, and a reservation that
    /// cannot be made is an error when the memory is created.
    ///
    /// Off, memories reserve the same way up to 4 GiB (every 32-bit memory), on Linux, and
    /// fall back to a plain allocation if the address space is exhausted; a larger
    /// memory64 moves once it grows past 4 GiB. Shared memories are always reserved up to
    /// their maximum. Reserved pages cost nothing until touched: the system hands them out
    /// zeroed, so growth neither copies nor zero-fills.
    pub fn reserve_memories(&mut self, enable: bool) -> &mut Self {
        self.reserve_memories = enable;
        self
    }

    /// Whether a module may define or import more than one memory (on by default; part of
    /// WebAssembly 3.0). Off, such modules are invalid, as WebAssembly 2.0 says.
    pub fn wasm_multi_memory(&mut self, enable: bool) -> &mut Self {
        self.multi_memory = enable;
        self
    }

    /// Whether modules may declare 64-bit memories (`i64` addresses; on by default; part of
    /// WebAssembly 3.0).
    pub fn wasm_memory64(&mut self, enable: bool) -> &mut Self {
        self.memory64 = enable;
        self
    }

    /// Whether modules may declare shared memories and use the atomic instructions of the
    /// threads proposal (on by default).
    ///
    /// `memory.atomic.wait32/64` on a shared memory blocks the calling thread until another
    /// thread notifies it or its timeout (if any) expires; fuel is not consumed while it
    /// sleeps, so a guest that waits without a timeout on a value nobody changes sleeps
    /// forever. Embedders running untrusted code that must always finish turn threads off,
    /// or notify from the host ([`SharedMemory::atomic_notify`](crate::SharedMemory::atomic_notify)).
    pub fn wasm_threads(&mut self, enable: bool) -> &mut Self {
        self.threads = enable;
        self
    }

    /// Whether modules may use reference types (several tables, `externref`, typed
    /// `select`, the `table.*` instructions; on by default, part of WebAssembly 2.0). Off,
    /// a module is held to the 1.0 rules for tables: scripts written before reference
    /// types (the threads proposal's) assert that.
    pub fn wasm_reference_types(&mut self, enable: bool) -> &mut Self {
        self.reference_types = enable;
        self
    }

    /// Whether constant expressions (global initialisers, segment offsets, element items)
    /// may use `i32/i64.add`, `sub` and `mul` (the extended-const proposal; on by default,
    /// part of WebAssembly 3.0). Off, they hold one constant or one `global.get`, as in 2.0.
    pub fn wasm_extended_const(&mut self, enable: bool) -> &mut Self {
        self.extended_const = enable;
        self
    }

    /// Whether functions may end in a tail call: `return_call` and `return_call_indirect`
    /// (the tail-call proposal; on by default, part of WebAssembly 3.0). A tail call
    /// replaces the caller's frame with the callee's, so a chain of them, however long,
    /// runs in constant stack space.
    pub fn wasm_tail_call(&mut self, enable: bool) -> &mut Self {
        self.tail_call = enable;
        self
    }

    /// Whether modules may use typed function references and the 3.0 type system (on by
    /// default, part of WebAssembly 3.0): reference types such as `(ref $t)` and
    /// `(ref null func)`, non-nullable locals, `call_ref`, `return_call_ref`,
    /// `ref.as_non_null`, `br_on_null`, `br_on_non_null`, and recursive type groups with
    /// `sub`/`final` declarations, compared iso-recursively across modules. Struct and array
    /// types may be declared (they take part in type equivalence) but not yet used by
    /// instructions: the GC instructions are refused as unsupported.
    pub fn wasm_function_references(&mut self, enable: bool) -> &mut Self {
        self.function_references = enable;
        self
    }

    /// Whether memories may declare a page size of 1 byte instead of 64 KiB (the
    /// custom-page-sizes proposal; off by default, as it is not part of WebAssembly 3.0).
    /// `memory.size` and `memory.grow` then count single bytes, and a memory can be as small
    /// as an embedded target needs. See [`MemoryType::with_page_size_log2`](crate::MemoryType::with_page_size_log2).
    pub fn wasm_custom_page_sizes(&mut self, enable: bool) -> &mut Self {
        self.custom_page_sizes = enable;
        self
    }

    /// Whether modules may use exception handling (on by default, part of WebAssembly 3.0):
    /// tags ([`Tag`](crate::Tag), [`TagType`](crate::TagType)), `throw`, `throw_ref`,
    /// `try_table` and `exnref` values ([`ExnRef`](crate::ExnRef)). An exception that no
    /// `try_table` catches ends the call with an error whose
    /// [`exception`](crate::Error::exception) is the exception; a host function throws one to
    /// wasm by returning an [`ExnRef`](crate::ExnRef) as its error.
    pub fn wasm_exceptions(&mut self, enable: bool) -> &mut Self {
        self.exceptions = enable;
        self
    }

    /// Whether modules may use the relaxed SIMD instructions (on by default, part of
    /// WebAssembly 3.0). The specification lets each of them give one of several results;
    /// wasmguard always gives the same one on every host (the README lists which), so runs
    /// stay reproducible.
    pub fn wasm_relaxed_simd(&mut self, enable: bool) -> &mut Self {
        self.relaxed_simd = enable;
        self
    }

    /// Whether modules may use the 128-bit arithmetic of the wide-arithmetic proposal
    /// (`i64.add128`, `i64.sub128`, `i64.mul_wide_s`, `i64.mul_wide_u`; off by default, as it
    /// is not part of WebAssembly 3.0).
    pub fn wasm_wide_arithmetic(&mut self, enable: bool) -> &mut Self {
        self.wide_arithmetic = enable;
        self
    }

    /// Whether modules may use garbage collection (on by default, part of WebAssembly 3.0):
    /// struct and array types and instructions, `i31` references, casts, and the
    /// recursive type groups and declared subtypes of the GC type system. It needs typed
    /// function references ([`wasm_function_references`](Self::wasm_function_references)):
    /// without them it is off whatever this says.
    ///
    /// GC objects live in their store's heap, which a tracing collector reclaims (cycles
    /// included) and [`StoreLimits::gc_heap_bytes`](crate::StoreLimits::gc_heap_bytes) bounds.
    pub fn wasm_gc(&mut self, enable: bool) -> &mut Self {
        self.gc = enable;
        self
    }

    /// Only the features of WebAssembly 2.0: SIMD and reference types on; multi-memory,
    /// memory64, threads, extended constant expressions, tail calls, typed function
    /// references, garbage collection, exception handling and relaxed SIMD off.
    pub fn wasm2(&mut self) -> &mut Self {
        self.wasm_simd(true)
            .wasm_reference_types(true)
            .wasm_multi_memory(false)
            .wasm_memory64(false)
            .wasm_threads(false)
            .wasm_extended_const(false)
            .wasm_tail_call(false)
            .wasm_function_references(false)
            .wasm_custom_page_sizes(false)
            .wasm_exceptions(false)
            .wasm_relaxed_simd(false)
            .wasm_wide_arithmetic(false)
            .wasm_gc(false)
    }

    /// Whether the threads proposal is on ([`Config::wasm_threads`]).
    pub fn threads_enabled(&self) -> bool {
        self.threads
    }

    /// The features the validator accepts under this configuration.
    pub(crate) fn wasm_features(&self) -> WasmFeatures {
        let mut features = WasmFeatures::WASM2;
        features.set(WasmFeatures::SIMD, self.simd);
        features.set(WasmFeatures::MULTI_MEMORY, self.multi_memory);
        features.set(WasmFeatures::MEMORY64, self.memory64);
        features.set(WasmFeatures::THREADS, self.threads);
        features.set(WasmFeatures::REFERENCE_TYPES, self.reference_types);
        features.set(WasmFeatures::EXTENDED_CONST, self.extended_const);
        features.set(WasmFeatures::TAIL_CALL, self.tail_call);
        features.set(WasmFeatures::FUNCTION_REFERENCES, self.function_references);
        features.set(WasmFeatures::GC, self.function_references && self.gc);
        features.set(WasmFeatures::CUSTOM_PAGE_SIZES, self.custom_page_sizes);
        features.set(WasmFeatures::EXCEPTIONS, self.exceptions);
        features.set(WasmFeatures::RELAXED_SIMD, self.relaxed_simd && self.simd);
        features.set(WasmFeatures::WIDE_ARITHMETIC, self.wide_arithmetic);
        features
    }
}

/// Global context for compilation and execution; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

#[derive(Debug, Default)]
struct EngineInner {
    config: Config,
    /// The canonical types: equivalent types get the same id, so `call_indirect` compares
    /// one integer when the types are the same.
    types: Mutex<TypeRegistry>,
}

impl Engine {
    /// An engine with the given configuration.
    ///
    /// # Errors
    ///
    /// None today; the signature leaves room for configurations that can be refused.
    pub fn new(config: &Config) -> Result<Engine> {
        Ok(Engine { inner: Arc::new(EngineInner { config: config.clone(), types: Mutex::default() }) })
    }

    /// This engine's configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// True if both handles refer to the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The handle of a function type made by the host: the type `(type (func ...))`
    /// declares, a final type without a supertype in a group of its own.
    ///
    /// ```
    /// use wasmguard::{Engine, ExternType, FuncType, HeapType, Module, ValType};
    /// # fn main() -> wasmguard::Result<()> {
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module (type $t (func (param i32))) (import "m" "g" (global (ref null $t))))"#)?;
    /// let Some((_, _, ExternType::Global(g))) = module.imports().next() else { unreachable!() };
    /// let ValType::Ref(r) = g.content() else { unreachable!() };
    /// // `$t` is the type the host makes from the same signature.
    /// let ty = FuncType::new([ValType::I32], []);
    /// assert_eq!(r.heap_type(), HeapType::Concrete(engine.concrete_type(&ty)));
    /// assert_eq!(engine.func_type(engine.concrete_type(&ty)), Some(ty));
    /// # Ok(()) }
    /// ```
    pub fn concrete_type(&self, ty: &FuncType) -> ConcreteType {
        ConcreteType(self.intern_type(ty))
    }

    /// The signature of a function type's handle (`None` for a handle of another engine's,
    /// or of a struct or array type).
    pub fn func_type(&self, ty: ConcreteType) -> Option<FuncType> {
        self.types().func_type(ty.0).cloned()
    }

    fn types(&self) -> std::sync::MutexGuard<'_, TypeRegistry> {
        self.inner.types.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The engine-wide id of a function type made by the host.
    pub(crate) fn intern_type(&self, ty: &FuncType) -> u32 {
        self.types().register_func(ty)
    }

    /// The id of the first type of a recursive type group (its types have consecutive ids).
    pub(crate) fn register_group(&self, group: Box<[SubType]>) -> Result<u32> {
        self.types().register(group)
    }

    /// The runtime layout of a struct or array type's id.
    pub(crate) fn gc_type(&self, id: u32) -> Option<std::sync::Arc<layout::GcType>> {
        self.types().gc_type(id)
    }

    /// The supertype chain of a type id, from its root down to itself (empty for an
    /// unknown id).
    pub(crate) fn supers(&self, id: u32) -> Box<[u32]> {
        self.types().supers(id).map(Box::from).unwrap_or_default()
    }

    /// The function type of an id.
    pub(crate) fn resolve_type(&self, id: u32) -> FuncType {
        self.types().func_type(id).cloned().unwrap_or_else(|| FuncType::new([], []))
    }

    /// Whether function type `sub` is `sup` or one of its declared subtypes.
    pub(crate) fn func_subtype(&self, sub: u32, sup: u32) -> bool {
        sub == sup || self.types().is_subtype(sub, sup)
    }

    /// The hierarchy heap type `h` belongs to.
    pub(crate) fn hierarchy(&self, h: HeapType) -> Hierarchy {
        match h {
            HeapType::Concrete(_) => self.types().hierarchy(h),
            HeapType::Func | HeapType::NoFunc => Hierarchy::Func,
            HeapType::Extern | HeapType::NoExtern => Hierarchy::Extern,
            HeapType::Exn | HeapType::NoExn => Hierarchy::Exn,
            _ => Hierarchy::Any,
        }
    }

    /// Whether every value of type `a` is one of type `b`.
    pub(crate) fn val_subtype(&self, a: ValType, b: ValType) -> bool {
        a == b || self.types().val_subtype(a, b)
    }
}
