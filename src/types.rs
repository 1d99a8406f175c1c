//! Type descriptions of WebAssembly entities: values, functions, globals, tables and memories.

use std::fmt;
use std::sync::Arc;

/// The type of a WebAssembly value.
///
/// `FuncRef` and `ExternRef` are the WebAssembly 2.0 names of `(ref null func)` and
/// `(ref null extern)`; every other reference type of 3.0 (non-nullable ones, the bottom
/// types, typed function references) is a [`ValType::Ref`]. Each type has one spelling:
/// [`ValType::from`] a [`RefType`] gives `FuncRef` or `ExternRef` where it can, and
/// equality treats `Ref(RefType::FUNCREF)` and `FuncRef` as the same type.
#[derive(Debug, Clone, Copy)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 128-bit vector.
    V128,
    /// Nullable function reference: `(ref null func)`.
    FuncRef,
    /// Nullable host reference: `(ref null extern)`.
    ExternRef,
    /// Any other reference type.
    Ref(RefType),
}

impl ValType {
    /// `funcref` (wasmtime's name).
    pub const FUNCREF: ValType = ValType::FuncRef;
    /// `externref` (wasmtime's name).
    pub const EXTERNREF: ValType = ValType::ExternRef;
    /// `exnref`, that is `(ref null exn)`.
    pub const EXNREF: ValType = ValType::Ref(RefType::EXNREF);
    /// `anyref`, that is `(ref null any)`.
    pub const ANYREF: ValType = ValType::Ref(RefType::ANYREF);

    /// True for reference types.
    pub fn is_ref(self) -> bool {
        self.as_ref_type().is_some()
    }

    /// The reference type, for a reference type.
    pub fn as_ref_type(self) -> Option<RefType> {
        match self {
            ValType::FuncRef => Some(RefType::FUNCREF),
            ValType::ExternRef => Some(RefType::EXTERNREF),
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// How many 64-bit value-stack slots a value of this type occupies (two for `v128`).
    pub(crate) fn slot_count(self) -> usize {
        if matches!(self, ValType::V128) { 2 } else { 1 }
    }

    /// The single spelling of this type.
    fn canonical(self) -> ValType {
        match self {
            ValType::Ref(r) => ValType::from(r),
            other => other,
        }
    }
}

impl PartialEq for ValType {
    fn eq(&self, other: &ValType) -> bool {
        use ValType::*;
        match (self.canonical(), other.canonical()) {
            (I32, I32) | (I64, I64) | (F32, F32) | (F64, F64) | (V128, V128) => true,
            (FuncRef, FuncRef) | (ExternRef, ExternRef) => true,
            (Ref(a), Ref(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for ValType {}

impl std::hash::Hash for ValType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let c = self.canonical();
        std::mem::discriminant(&c).hash(state);
        if let ValType::Ref(r) = c {
            r.hash(state);
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.canonical() {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::FuncRef => f.write_str("funcref"),
            ValType::ExternRef => f.write_str("externref"),
            ValType::Ref(r) => write!(f, "{r}"),
        }
    }
}

/// A reference type: a heap type, and whether the reference may be null.
///
/// `funcref` is [`RefType::FUNCREF`], `externref` [`RefType::EXTERNREF`]; a typed function
/// reference `(ref $t)` has a [`HeapType::Concrete`] heap type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefType {
    nullable: bool,
    heap_type: HeapType,
}

#[allow(non_upper_case_globals)]
impl RefType {
    /// `funcref`, that is `(ref null func)`.
    pub const FUNCREF: RefType = RefType { nullable: true, heap_type: HeapType::Func };
    /// `externref`, that is `(ref null extern)`.
    pub const EXTERNREF: RefType = RefType { nullable: true, heap_type: HeapType::Extern };
    /// `exnref`, that is `(ref null exn)`.
    pub const EXNREF: RefType = RefType { nullable: true, heap_type: HeapType::Exn };
    /// `anyref`, that is `(ref null any)`.
    pub const ANYREF: RefType = RefType { nullable: true, heap_type: HeapType::Any };
    /// The WebAssembly 2.0 name of [`RefType::FUNCREF`].
    pub const FuncRef: RefType = RefType::FUNCREF;
    /// The WebAssembly 2.0 name of [`RefType::EXTERNREF`].
    pub const ExternRef: RefType = RefType::EXTERNREF;

    /// A reference type.
    pub const fn new(nullable: bool, heap_type: HeapType) -> RefType {
        RefType { nullable, heap_type }
    }

    /// True if `null` is a value of this type.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }

    /// The type of what is referenced.
    pub fn heap_type(&self) -> HeapType {
        self.heap_type
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.nullable, self.heap_type) {
            (true, HeapType::Func) => f.write_str("funcref"),
            (true, HeapType::Extern) => f.write_str("externref"),
            (true, HeapType::Exn) => f.write_str("exnref"),
            (true, HeapType::Any) => f.write_str("anyref"),
            (true, h) => write!(f, "(ref null {h})"),
            (false, h) => write!(f, "(ref {h})"),
        }
    }
}

/// What a reference refers to.
///
/// The abstract heap types of the four hierarchies of WebAssembly 3.0 (functions, host
/// references, exceptions, and the GC proposal's `any` objects), each with its bottom
/// type, and concrete (defined) types. The GC objects themselves are not supported yet:
/// a reference of the `any` hierarchy can only be null so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeapType {
    /// Any function: the top of the function references.
    Func,
    /// No function: the bottom of the function references (only `null` has it).
    NoFunc,
    /// Any host reference.
    Extern,
    /// No host reference: the bottom of the host references (only `null` has it).
    NoExtern,
    /// Any exception: the top of the exception references (`exnref`).
    Exn,
    /// No exception: the bottom of the exception references (only `null` has it).
    NoExn,
    /// Any GC object or `i31`: the top of the internal references (`anyref`).
    Any,
    /// References that can be compared with `ref.eq` (`eqref`).
    Eq,
    /// Unboxed 31-bit integers (`i31ref`).
    I31,
    /// Any struct (`structref`).
    Struct,
    /// Any array (`arrayref`).
    Array,
    /// No internal reference: the bottom of the `any` hierarchy (only `null` has it).
    None,
    /// A value of a defined type (a function, struct or array type), or of a subtype of it.
    Concrete(ConcreteType),
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            HeapType::Func => "func",
            HeapType::NoFunc => "nofunc",
            HeapType::Extern => "extern",
            HeapType::NoExtern => "noextern",
            HeapType::Exn => "exn",
            HeapType::NoExn => "noexn",
            HeapType::Any => "any",
            HeapType::Eq => "eq",
            HeapType::I31 => "i31",
            HeapType::Struct => "struct",
            HeapType::Array => "array",
            HeapType::None => "none",
            HeapType::Concrete(c) => return write!(f, "{c}"),
        };
        f.write_str(name)
    }
}

impl HeapType {
    /// True for the abstract heap types of function references (`func`, `nofunc`); a
    /// concrete type may be a function type too ([`Engine::func_type`](crate::Engine::func_type)
    /// says).
    pub fn is_func(&self) -> bool {
        matches!(self, HeapType::Func | HeapType::NoFunc)
    }

    /// True for the bottom types (`nofunc`, `noextern`, `noexn`, `none`), which only
    /// `null` has.
    pub fn is_bottom(&self) -> bool {
        matches!(self, HeapType::NoFunc | HeapType::NoExtern | HeapType::NoExn | HeapType::None)
    }
}

/// The hierarchy a heap type belongs to (the top of its subtype lattice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hierarchy {
    Func,
    Extern,
    Exn,
    Any,
}

/// A defined type, as its engine knows it: the handle of its canonical form.
///
/// Types are compared iso-recursively (as WebAssembly 3.0 says): two modules that define
/// the same recursive type group get the same handles, so equal handles mean equivalent
/// types. A handle belongs to one [`Engine`](crate::Engine):
/// [`Engine::func_type`](crate::Engine::func_type) gives the signature back, and
/// [`Engine::concrete_type`](crate::Engine::concrete_type) the handle of a host-made
/// [`FuncType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConcreteType(pub(crate) u32);

impl fmt::Display for ConcreteType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "$type{}", self.0)
    }
}

impl From<RefType> for ValType {
    fn from(r: RefType) -> ValType {
        match r {
            RefType::FUNCREF => ValType::FuncRef,
            RefType::EXTERNREF => ValType::ExternRef,
            other => ValType::Ref(other),
        }
    }
}

/// A function signature: parameter and result types.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    /// Parameters followed by results.
    types: Arc<[ValType]>,
    num_params: usize,
}

impl FuncType {
    /// A function type with the given parameters and results.
    pub fn new(params: impl IntoIterator<Item = ValType>, results: impl IntoIterator<Item = ValType>) -> Self {
        let mut types: Vec<ValType> = params.into_iter().collect();
        let num_params = types.len();
        types.extend(results);
        FuncType { types: types.into(), num_params }
    }

    /// The parameter types.
    pub fn params(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.params_slice().iter().copied()
    }

    /// The result types.
    pub fn results(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.results_slice().iter().copied()
    }

    /// The parameter types as a slice.
    pub fn params_slice(&self) -> &[ValType] {
        &self.types[..self.num_params]
    }

    /// The result types as a slice.
    pub fn results_slice(&self) -> &[ValType] {
        &self.types[self.num_params..]
    }
}

impl fmt::Debug for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        if self.num_params > 0 {
            f.write_str(" (param")?;
            for p in self.params() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if self.types.len() > self.num_params {
            f.write_str(" (result")?;
            for r in self.results() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// Whether a global can be changed after instantiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable (`global.set` allowed).
    Var,
}

/// The type of a global: value type and mutability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
}

impl GlobalType {
    /// A global type.
    pub fn new(content: ValType, mutability: Mutability) -> Self {
        GlobalType { content, mutability }
    }

    /// The type of the global's value.
    pub fn content(&self) -> ValType {
        self.content
    }

    /// Whether the global is mutable.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }
}

/// The type of a table: element type and limits in elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableType {
    element: RefType,
    minimum: u32,
    maximum: Option<u32>,
    table64: bool,
}

impl TableType {
    /// A table type with `minimum` elements and an optional maximum.
    pub fn new(element: RefType, minimum: u32, maximum: Option<u32>) -> Self {
        TableType { element, minimum, maximum, table64: false }
    }

    /// The same limits for a 64-bit table (`table64`, part of memory64): wasm code indexes it
    /// with `i64`s. Its sizes stay within `u32` (as [`StoreLimits`](crate::StoreLimits) keeps
    /// every table far smaller).
    pub fn new64(element: RefType, minimum: u32, maximum: Option<u32>) -> Self {
        TableType { element, minimum, maximum, table64: true }
    }

    /// True for a 64-bit table.
    pub fn is_64(&self) -> bool {
        self.table64
    }

    /// The element type.
    pub fn element(&self) -> RefType {
        self.element
    }

    /// The minimum size in elements.
    pub fn minimum(&self) -> u32 {
        self.minimum
    }

    /// The maximum size in elements, if any.
    pub fn maximum(&self) -> Option<u32> {
        self.maximum
    }
}

/// The size of a WebAssembly page in bytes.
pub const WASM_PAGE_SIZE: u64 = 65_536;

/// The largest number of pages a 32-bit memory can have (4 GiB).
pub const MAX_PAGES_32: u64 = 65_536;

/// The type of a linear memory: limits in pages (64 KiB each, or of the size the
/// custom-page-sizes proposal lets a memory declare: [`MemoryType::with_page_size_log2`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryType {
    minimum: u64,
    maximum: Option<u64>,
    memory64: bool,
    shared: bool,
    page_size_log2: u8,
}

impl MemoryType {
    /// A 32-bit memory of `min_pages` pages, growable to `max_pages` (or to 4 GiB).
    pub fn new(min_pages: u32, max_pages: Option<u32>) -> Self {
        MemoryType {
            minimum: u64::from(min_pages),
            maximum: max_pages.map(u64::from),
            memory64: false,
            shared: false,
            page_size_log2: 16,
        }
    }

    /// A 64-bit memory (memory64 proposal) of `min_pages` pages, growable to `max_pages`
    /// (or to 2^48 pages, the most a 64-bit index can address). Wasm code addresses it with
    /// `i64`s; host code uses [`WasmPtr<T, Memory64>`](crate::access::WasmPtr) on its views.
    ///
    /// The limits are checked when a memory is created ([`Memory::new`](crate::Memory::new)),
    /// and the store's [`StoreLimits`](crate::StoreLimits) still cap how much is allocated.
    ///
    /// ```
    /// use wasmguard::{Engine, Memory, MemoryType, Store};
    /// # fn main() -> wasmguard::Result<()> {
    /// let mut store = Store::new(&Engine::default(), ());
    /// let memory = Memory::new(&mut store, MemoryType::new64(1, Some(1 << 40)))?;
    /// assert!(memory.ty(&store).is_64());
    /// assert_eq!(memory.grow(&mut store, 1)?, 1);
    /// # Ok(()) }
    /// ```
    pub fn new64(min_pages: u64, max_pages: Option<u64>) -> Self {
        MemoryType { minimum: min_pages, maximum: max_pages, memory64: true, shared: false, page_size_log2: 16 }
    }

    /// A shared 32-bit memory (threads proposal) of `min_pages` pages, growable to
    /// `max_pages`: shared memories always declare a maximum.
    pub fn shared(min_pages: u32, max_pages: u32) -> Self {
        MemoryType {
            minimum: u64::from(min_pages),
            maximum: Some(u64::from(max_pages)),
            memory64: false,
            shared: true,
            page_size_log2: 16,
        }
    }

    pub(crate) fn from_parts(minimum: u64, maximum: Option<u64>, memory64: bool, shared: bool) -> Self {
        MemoryType { minimum, maximum, memory64, shared, page_size_log2: 16 }
    }

    /// The same limits in pages of `2^log2` bytes (the custom-page-sizes proposal):
    /// WebAssembly allows 1-byte pages (`log2 = 0`) and the default 64 KiB (`16`); other
    /// sizes are refused when the memory is created. A memory of 1-byte pages grows and
    /// reports its size byte by byte; [`WasmPtr`](crate::access::WasmPtr) access is the same.
    ///
    /// ```
    /// use wasmguard::{Engine, Memory, MemoryType, Store};
    /// # fn main() -> wasmguard::Result<()> {
    /// let mut store = Store::new(&Engine::default(), ());
    /// let memory = Memory::new(&mut store, MemoryType::new(3, Some(10)).with_page_size_log2(0))?;
    /// assert_eq!((memory.size(&store), memory.data_size(&store)), (3, 3));
    /// assert_eq!(memory.grow(&mut store, 7)?, 3);
    /// assert!(memory.grow(&mut store, 1).is_err());
    /// # Ok(()) }
    /// ```
    pub fn with_page_size_log2(mut self, log2: u8) -> Self {
        self.page_size_log2 = log2;
        self
    }

    /// The base-2 logarithm of the page size (16 unless the type says otherwise).
    pub fn page_size_log2(&self) -> u8 {
        self.page_size_log2
    }

    /// The page size in bytes (64 KiB unless the type says otherwise).
    pub fn page_size(&self) -> u64 {
        1u64.checked_shl(u32::from(self.page_size_log2)).unwrap_or(0)
    }

    /// The minimum size in pages.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }

    /// The maximum size in pages, if the type declares one.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }

    /// True for a 64-bit memory (memory64 proposal).
    pub fn is_64(&self) -> bool {
        self.memory64
    }

    /// True for a shared memory (threads proposal).
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// The largest size in pages this memory may ever reach: its maximum, capped by the
    /// index type's address space.
    pub(crate) fn page_limit(&self) -> u64 {
        self.maximum.map_or(self.page_cap(), |m| m.min(self.page_cap()))
    }

    /// The most pages the index type can address: 4 GiB of a 32-bit memory, 2^64 bytes of a
    /// 64-bit one (one byte less, for 1-byte pages, which the index must still count).
    pub(crate) fn page_cap(&self) -> u64 {
        let bits: u32 = if self.memory64 { 64 } else { 32 };
        match u32::from(self.page_size_log2) {
            0 => u64::MAX >> (64 - bits),
            log2 => 1u64.checked_shl(bits.saturating_sub(log2)).unwrap_or(u64::MAX),
        }
    }
}

/// The type of an exception tag: the types of the values an exception of it carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// A tag type whose exceptions carry values of `params` (a function type with no
    /// results, as WebAssembly writes tag types).
    pub fn new(params: impl IntoIterator<Item = ValType>) -> TagType {
        TagType { ty: FuncType::new(params, []) }
    }

    pub(crate) fn from_func_type(ty: FuncType) -> TagType {
        TagType { ty }
    }

    /// The tag's function type: the payload as parameters, no results.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// The types of the values an exception of this tag carries.
    pub fn params(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.ty.params()
    }
}

/// The type of an external value: what an import expects or an export provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A global.
    Global(GlobalType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// An exception tag (the exception handling proposal).
    Tag(TagType),
}

/// A 31-bit integer, the value of an `i31ref` (the GC proposal's unboxed scalar). Made
/// from a 32-bit integer by dropping its top bit, as `ref.i31` does.
///
/// ```
/// use wasmguard::I31;
/// assert_eq!(I31::wrapping_u32(u32::MAX).get_u32(), 0x7fff_ffff);
/// assert_eq!(I31::wrapping_u32(u32::MAX).get_i32(), -1);
/// assert_eq!(I31::new_i32(1 << 30), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct I31(u32);

impl I31 {
    /// The low 31 bits of `value`.
    pub fn wrapping_u32(value: u32) -> I31 {
        I31(value & 0x7fff_ffff)
    }

    /// The low 31 bits of `value` (so values outside `-2^30 .. 2^30` wrap).
    pub fn wrapping_i32(value: i32) -> I31 {
        I31::wrapping_u32(value as u32)
    }

    /// `value` if it fits in 31 unsigned bits.
    pub fn new_u32(value: u32) -> Option<I31> {
        (value <= 0x7fff_ffff).then_some(I31(value))
    }

    /// `value` if it fits in 31 signed bits.
    pub fn new_i32(value: i32) -> Option<I31> {
        (-(1 << 30)..(1 << 30)).contains(&value).then(|| I31::wrapping_i32(value))
    }

    /// The value zero-extended (`i31.get_u`).
    pub fn get_u32(self) -> u32 {
        self.0
    }

    /// The value sign-extended (`i31.get_s`).
    pub fn get_i32(self) -> i32 {
        ((self.0 << 1) as i32) >> 1
    }

    /// The slot encoding of `ref.i31`: the value shifted left by one with the low bit set,
    /// so it is never 0 (null) and never an (aligned) object address.
    pub(crate) fn to_ref_bits(self) -> u64 {
        u64::from((self.0 << 1) | 1)
    }

    /// The `i31` a slot of the `any` hierarchy holds, if it holds one.
    pub(crate) fn from_ref_bits(bits: u64) -> Option<I31> {
        (bits & 1 == 1 && bits <= u64::from(u32::MAX)).then_some(I31((bits as u32) >> 1))
    }
}
