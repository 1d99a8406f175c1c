//! Fuzzing host functions against hostile guests (the `fuzzing` feature).
//!
//! A host function reads what the guest passes: pointers, lengths, counts, flags, and the
//! guest memory they point at. [`HostCallHarness`] calls one function of a [`Linker`] the
//! way a hostile guest would, from a fuzzer's input:
//!
//! - arguments drawn towards the edges: pointers just inside and just past the end of
//!   memory, lengths that wrap when added to a pointer (`u32::MAX - k`), huge counts
//!   (powers of two), small values (descriptors, flags), and pointers at or next to an
//!   earlier argument, so in and out regions overlap;
//! - guest memory of a drawn size filled, at those pointers and elsewhere, with bytes of
//!   the input: invalid `bool` and enum bytes, lengths and pointers inside structs;
//!
//! and checks after the call, whatever it returned: that the host allocated at most
//! [`HarnessConfig::allocation_budget`] bytes more than it held before (with
//! [`CountingAllocator`] as the program's global allocator), and that the store is still
//! usable (its instance runs, its memory is readable and has not shrunk). A breach is a
//! [`Violation`]; a panic is left to propagate, so the fuzzer reports it with its input.
//!
//! `arbitrary::Arbitrary` is implemented for [`WasmPtr`] and [`WasmSlice`] (the other
//! guest types, integers, floats, `bool` and arrays, have it from `arbitrary`), and
//! `#[derive(GuestType)]` derives it for guest structs and enums with
//! `#[guest(arbitrary)]`. The crate's own WASI functions are fuzzed this way by the `wasi`
//! target in `fuzz/`.
//!
//! ```
//! use wasmguard::fuzzing::{HostCallHarness, arbitrary::Unstructured};
//! use wasmguard::{Caller, Engine, Linker, WasmSlice};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::default();
//! let mut linker = Linker::<()>::new(&engine);
//! // Sums the bytes of a guest buffer: a hostile length must be an error, not a panic.
//! linker.func_wrap("env", "sum", |mut caller: Caller<'_, ()>, buf: WasmSlice<u8>| -> wasmguard::Result<u32> {
//!     let memory = caller.memory().ok_or_else(|| wasmguard::Error::msg("no memory"))?;
//!     let view = memory.view(&caller);
//!     Ok(buf.read_to_vec(&view)?.iter().map(|&b| u32::from(b)).sum())
//! })?;
//! let harness = HostCallHarness::new(&linker, "env", "sum")?;
//! // In a fuzz target, the bytes are the fuzzer's input.
//! for input in [&b"\x01\x02\x03\x04\x05\x06\x07\x08"[..], &[0xff; 64], &[]] {
//!     let report = harness.run((), &mut Unstructured::new(input))?;
//!     println!("{:?} -> {:?}", report.args, report.result);
//! }
//! # Ok(()) }
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use arbitrary;
use arbitrary::{Arbitrary, Unstructured};

use crate::access::{Memory32, Memory64, WasmPtr, WasmSlice};
use crate::error::{Error, Result};
use crate::exec::state::StoreLimits;
use crate::runtime::linker::Linker;
use crate::runtime::module::Module;
use crate::runtime::value::Val;
use crate::store::Store;
use crate::types::{FuncType, ValType};

impl<'a, T> Arbitrary<'a> for WasmPtr<T, Memory32> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(WasmPtr::new(u.arbitrary()?))
    }
}

impl<'a, T> Arbitrary<'a> for WasmPtr<T, Memory64> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(WasmPtr::new64(u.arbitrary()?))
    }
}

impl<'a, T> Arbitrary<'a> for WasmSlice<T, Memory32> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(WasmSlice::new(u.arbitrary()?, u.arbitrary()?))
    }
}

impl<'a, T> Arbitrary<'a> for WasmSlice<T, Memory64> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(WasmSlice::new(u.arbitrary()?, u.arbitrary()?))
    }
}

/// Bytes the program holds from the global allocator now, and the most it held since the
/// last [`CountingAllocator::reset_peak`].
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// A global allocator that counts the bytes it hands out (current and peak), over the
/// system allocator, so that a harness can bound what a host function allocates:
///
/// ```
/// #[global_allocator]
/// static ALLOCATOR: wasmguard::fuzzing::CountingAllocator = wasmguard::fuzzing::CountingAllocator;
/// # fn main() {}
/// ```
///
/// Counting is two atomic operations per allocation. The counts are the program's (one
/// global allocator per program), so they are exact only while one thread allocates:
/// fuzz targets run one input at a time.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator;

impl CountingAllocator {
    /// Bytes allocated and not yet freed.
    pub fn current() -> usize {
        CURRENT.load(Ordering::Relaxed)
    }

    /// The largest [`current`](Self::current) since the last [`reset_peak`](Self::reset_peak).
    pub fn peak() -> usize {
        PEAK.load(Ordering::Relaxed)
    }

    /// Starts a new peak from the current count.
    pub fn reset_peak() {
        PEAK.store(CURRENT.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Whether this is the program's global allocator (an allocation moves the count).
    pub fn is_installed() -> bool {
        let before = Self::current();
        let probe = std::hint::black_box(vec![0u8; 64]);
        let installed = Self::current() != before;
        drop(probe);
        installed
    }

    fn add(size: usize) {
        let now = CURRENT.fetch_add(size, Ordering::Relaxed).wrapping_add(size);
        PEAK.fetch_max(now, Ordering::Relaxed);
    }

    fn sub(size: usize) {
        CURRENT.fetch_sub(size, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees (and the caller's obligations) carry over; the counting touches
// only atomics and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            Self::add(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            Self::add(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see the impl): `ptr` came from this allocator, that is
        // from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        Self::sub(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            Self::add(new_size);
            Self::sub(layout.size());
        }
        new
    }
}

/// The bounds a [`HostCallHarness`] calls within and checks.
#[derive(Debug, Clone, Copy)]
pub struct HarnessConfig {
    /// The guest memory has 1 to this many 64 KiB pages (drawn).
    pub max_memory_pages: u32,
    /// The store's copy budget per host call ([`StoreLimits::host_copy_bytes`]).
    pub copy_budget: u64,
    /// How many bytes more than before the call the program may hold at the peak of the
    /// call (checked when [`CountingAllocator`] is the global allocator).
    pub allocation_budget: usize,
    /// The store's limit on memory growth ([`StoreLimits::memory_size_bytes`]).
    pub memory_limit: u64,
}

impl Default for HarnessConfig {
    /// Two pages at most, a copy budget of 1 MiB, an allocation budget of 16 MiB and
    /// memories of at most 64 MiB.
    fn default() -> Self {
        HarnessConfig { max_memory_pages: 2, copy_budget: 1 << 20, allocation_budget: 16 << 20, memory_limit: 64 << 20 }
    }
}

/// What a [`HostCallHarness::run`] did: the arguments it drew and what the call returned
/// (an error, such as a trap or a host error, is a fine outcome for a hostile call).
#[derive(Debug)]
pub struct Report {
    /// The arguments the function was called with.
    pub args: Vec<Val>,
    /// Its results, or the error the call ended with.
    pub result: Result<Vec<Val>>,
    /// The most bytes the program held during the call beyond what it held before, if
    /// [`CountingAllocator`] is the global allocator.
    pub allocated: Option<usize>,
}

/// A check a [`HostCallHarness`] found broken.
#[derive(Debug, thiserror::Error)]
pub enum Violation {
    /// The host allocated more than [`HarnessConfig::allocation_budget`] during the call.
    #[error("`{func}` allocated {allocated} bytes during one call (budget {budget}) with arguments {args:?}")]
    AllocationOverBudget {
        /// The function, `module::name`.
        func: String,
        /// The bytes held at the peak beyond what was held before the call.
        allocated: usize,
        /// The budget.
        budget: usize,
        /// The arguments of the call.
        args: Vec<Val>,
    },
    /// After the call, the store could not run its instance or read its memory.
    #[error("the store is unusable after calling `{func}` with arguments {args:?}: {error}")]
    StoreUnusable {
        /// The function, `module::name`.
        func: String,
        /// The arguments of the call.
        args: Vec<Val>,
        /// What failed.
        error: Error,
    },
    /// The harness could not set the call up (instantiating its guest module failed).
    #[error("setting up the call of `{func}` failed: {error}")]
    Setup {
        /// The function, `module::name`.
        func: String,
        /// What failed.
        error: Error,
    },
}

/// Calls one host function of a [`Linker`] as a hostile guest would (see the
/// [module](self) documentation).
///
/// Each [`run`](Self::run) gets a fresh [`Store`] with the given host state and
/// instantiates, through the linker, a small guest module that imports the function,
/// exports its memory as `memory` (the name WASI and most host APIs look for) and calls
/// the function with the drawn arguments.
pub struct HostCallHarness<T> {
    linker: Linker<T>,
    module: Module,
    ty: FuncType,
    func: String,
    config: HarnessConfig,
}

impl<T> std::fmt::Debug for HostCallHarness<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostCallHarness").field("func", &self.func).field("ty", &self.ty).finish()
    }
}

impl<T: 'static> HostCallHarness<T> {
    /// A harness for the host function `module::name` of `linker`, with the default
    /// [`HarnessConfig`].
    ///
    /// # Errors
    ///
    /// If `linker` defines no host function of that name.
    pub fn new(linker: &Linker<T>, module: &str, name: &str) -> Result<Self> {
        let ty = linker
            .host_funcs()
            .into_iter()
            .find(|(m, n, _)| m == module && n == name)
            .map(|(_, _, ty)| ty)
            .ok_or_else(|| Error::link(format!("`{module}::{name}` is not a host function of the linker")))?;
        let params: String = ty.params().map(|t| format!(" {t}")).collect();
        let results: String = ty.results().map(|t| format!(" {t}")).collect();
        let gets: String = (0..ty.params().len()).map(|i| format!(" (local.get {i})")).collect();
        let text = format!(
            r#"(module
                (import "{module}" "{name}" (func $f (param{params}) (result{results})))
                (memory (export "memory") 1)
                (func (export "call") (param{params}) (result{results}) (call $f{gets}))
                (func (export "alive") (result i32) (i32.add (i32.load (i32.const 0)) (memory.size))))"#,
            module = escape(module),
            name = escape(name),
        );
        let module_obj = Module::new(linker.engine(), text)?;
        Ok(HostCallHarness {
            linker: linker.clone(),
            module: module_obj,
            ty,
            func: format!("{module}::{name}"),
            config: HarnessConfig::default(),
        })
    }

    /// One harness per host function of `linker`, ordered by name (so that a fuzzer's
    /// choice among them is the same from run to run).
    ///
    /// # Errors
    ///
    /// As [`HostCallHarness::new`].
    pub fn for_each_host_func(linker: &Linker<T>) -> Result<Vec<Self>> {
        linker.host_funcs().into_iter().map(|(module, name, _)| Self::new(linker, &module, &name)).collect()
    }

    /// The same harness with `config`.
    pub fn with_config(mut self, config: HarnessConfig) -> Self {
        self.config = config;
        self
    }

    /// The function, `module::name`.
    pub fn func(&self) -> &str {
        &self.func
    }

    /// The function's type.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// Draws a memory size, arguments and memory contents from `u`, calls the function in
    /// a fresh store with host state `data`, and checks the allocation budget and that the
    /// store is still usable. An input too short for all the draws uses zeros for the rest.
    ///
    /// # Errors
    ///
    /// The [`Violation`] found.
    pub fn run(&self, data: T, u: &mut Unstructured<'_>) -> Result<Report, Violation> {
        let setup = |error| Violation::Setup { func: self.func.clone(), error };
        let mut store = Store::new(self.linker.engine(), data);
        store.set_limits(StoreLimits {
            memory_size_bytes: self.config.memory_limit,
            host_copy_bytes: self.config.copy_budget,
            ..StoreLimits::default()
        });
        let instance = self.linker.instantiate(&mut store, &self.module).map_err(setup)?;
        let memory = instance.get_memory(&mut store, "memory").ok_or_else(|| setup(Error::msg("no memory")))?;
        let pages = u.int_in_range(1..=self.config.max_memory_pages.max(1)).unwrap_or(1);
        memory.grow(&mut store, u64::from(pages - 1)).map_err(setup)?;
        let len = u32::try_from(memory.data_size(&store)).unwrap_or(u32::MAX);

        let mut args = Vec::with_capacity(self.ty.params().len());
        for ty in self.ty.params() {
            let prev: Vec<u64> = args.iter().filter_map(val_bits).collect();
            args.push(hostile_val(u, ty, len, &prev).unwrap_or_else(|_| Val::default_for(ty)));
        }
        let targets: Vec<u64> = args.iter().filter_map(val_bits).filter(|&v| v < u64::from(len)).collect();
        fill_memory(u, memory.data_mut(&mut store), &targets);

        let call = instance.get_func(&mut store, "call").ok_or_else(|| setup(Error::msg("no `call` export")))?;
        let mut results: Vec<Val> = self.ty.results().map(Val::default_for).collect();
        let counting = CountingAllocator::is_installed();
        let before = CountingAllocator::current();
        CountingAllocator::reset_peak();
        let result = call.call(&mut store, &args, &mut results).map(|()| results);
        let allocated = counting.then(|| CountingAllocator::peak().saturating_sub(before));
        if let Some(allocated) = allocated
            && allocated > self.config.allocation_budget
        {
            return Err(Violation::AllocationOverBudget {
                func: self.func.clone(),
                allocated,
                budget: self.config.allocation_budget,
                args,
            });
        }

        let unusable = |error| Violation::StoreUnusable { func: self.func.clone(), args: args.clone(), error };
        let alive = instance.get_typed_func::<(), i32>(&mut store, "alive").map_err(unusable)?;
        alive.call(&mut store, ()).map_err(unusable)?;
        if memory.data_size(&store) < len as usize {
            return Err(unusable(Error::msg("the memory shrank")));
        }
        let mut last = [0u8];
        memory.read(&store, len as usize - 1, &mut last).map_err(|e| unusable(Error::msg(e.to_string())))?;
        Ok(Report { args, result, allocated })
    }
}

/// The integer bits of an integer argument (what may be a pointer or a length).
fn val_bits(v: &Val) -> Option<u64> {
    match *v {
        Val::I32(x) => Some(u64::from(x as u32)),
        Val::I64(x) => Some(x as u64),
        _ => None,
    }
}

/// A value of type `ty` drawn towards the edges of a memory of `len` bytes and next to
/// the earlier arguments `prev`.
fn hostile_val(u: &mut Unstructured<'_>, ty: ValType, len: u32, prev: &[u64]) -> arbitrary::Result<Val> {
    Ok(match ty {
        ValType::I32 => Val::I32(hostile_u32(u, len, prev)? as i32),
        ValType::I64 => Val::I64(match u.int_in_range(0..=3)? {
            0 => u64::MAX - u64::from(u.int_in_range(0..=16u32)?),
            1 => 1 << u.int_in_range(32..=63)?,
            2 => u.arbitrary()?,
            _ => u64::from(hostile_u32(u, len, prev)?),
        } as i64),
        ValType::F32 => Val::F32(u.arbitrary()?),
        ValType::F64 => Val::F64(u.arbitrary()?),
        ValType::V128 => Val::V128(u.arbitrary()?),
        // Null references: a host function of a non-nullable type gets one too, and its
        // call is refused before the function runs.
        ValType::FuncRef | ValType::ExternRef | ValType::Ref(_) => Val::default_for(ty),
    })
}

fn hostile_u32(u: &mut Unstructured<'_>, len: u32, prev: &[u64]) -> arbitrary::Result<u32> {
    let small = |u: &mut Unstructured<'_>| u.int_in_range(0..=16u32);
    Ok(match u.int_in_range(0..=10)? {
        // Descriptors, clock ids, enum values and flags; small counts.
        0 | 1 => u.int_in_range(0..=8)?,
        2 => u.int_in_range(0..=64)?,
        // Just inside the end of memory, and just past it.
        3 => len.wrapping_sub(small(u)?),
        4 => len.wrapping_add(small(u)?),
        // Lengths that wrap around when added to a pointer.
        5 => u32::MAX - small(u)?,
        // Huge counts.
        6 => 1 << u.int_in_range(8..=31)?,
        // At or next to an earlier argument: overlapping regions.
        7 if !prev.is_empty() => {
            let at = prev[u.choose_index(prev.len())?] as u32;
            at.wrapping_add(small(u)?).wrapping_sub(8)
        }
        // Anywhere inside, and anywhere inside aligned for any guest type.
        8 => u.int_in_range(0..=len.saturating_sub(1))?,
        9 => u.int_in_range(0..=len.saturating_sub(1))? & !7,
        _ => u.arbitrary()?,
    })
}

/// Copies runs of the input's bytes into `memory`: at the pointer arguments `targets`, at
/// its end, and at drawn places.
fn fill_memory(u: &mut Unstructured<'_>, memory: &mut [u8], targets: &[u64]) {
    let Ok(regions) = u.int_in_range(0..=8u32) else { return };
    for _ in 0..regions {
        let Ok(at) = (match u.int_in_range(0..=2u8) {
            Ok(0) if !targets.is_empty() => u.choose(targets).map(|&t| t as usize),
            Ok(1) => u.int_in_range(0..=64usize).map(|k| memory.len().saturating_sub(k)),
            _ => u.int_in_range(0..=memory.len().saturating_sub(1)),
        }) else {
            return;
        };
        let Ok(n) = u.int_in_range(1..=512usize) else { return };
        let Some(dst) = memory.get_mut(at..) else { continue };
        let n = n.min(dst.len());
        match u.bytes(n) {
            Ok(bytes) => dst[..n].copy_from_slice(bytes),
            Err(_) => return,
        }
    }
}

/// A name as the text of a wat string (printable ASCII kept, anything else escaped).
fn escape(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ' {
                (b as char).to_string()
            } else {
                format!("\\{b:02x}")
            }
        })
        .collect()
}
