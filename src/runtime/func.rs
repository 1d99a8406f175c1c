//! Functions: [`Func`] (wasm or host), [`TypedFunc`], host closures ([`IntoFunc`]) and the
//! [`Caller`] a host function receives.

use std::marker::PhantomData;
use std::sync::Arc;

use super::memory::Memory;
use super::v128::V128;
use super::value::{Extern, Val};
use crate::error::{Error, Result};
use crate::exec::call_func;
use crate::exec::state::{FuncEntity, InstanceEntity, Stored};
use crate::store::{AsContext, AsContextMut, Caller, HostFunc, Store};
use crate::types::{FuncType, ValType};

/// A WebAssembly function (defined in wasm or by the host): a handle, used together with
/// the store that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Func(pub(crate) Stored);

impl Func {
    /// Wraps a Rust closure as a host function. Parameters and results are inferred from
    /// the closure: an optional first [`Caller`], then `i32`, `u32`, `i64`, `u64`, `f32`,
    /// `f64` (or any [`WasmTy`]); the result is a value, a tuple, `()`, or a
    /// `Result<_, wasmguard::Error>` (an `Err` traps the guest and reaches the caller).
    ///
    /// ```
    /// use wasmguard::{Caller, Engine, Func, Store};
    /// # fn main() -> wasmguard::Result<()> {
    /// let mut store = Store::new(&Engine::default(), 10_i32);
    /// let add = Func::wrap(&mut store, |caller: Caller<'_, i32>, x: i32| x + *caller.data());
    /// assert_eq!(add.typed::<i32, i32>(&store)?.call(&mut store, 5)?, 15);
    /// # Ok(()) }
    /// ```
    pub fn wrap<T, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let (ty, host) = func.into_host_func();
        Func::from_host(store.as_context_mut().0, &ty, host)
    }

    /// A host function of an explicit type, taking and returning dynamically typed [`Val`]s.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let host = dynamic_host_func(ty.clone(), func);
        Func::from_host(store.as_context_mut().0, &ty, host)
    }

    pub(crate) fn from_host<T>(store: &mut Store<T>, ty: &FuncType, host: Arc<HostFunc<T>>) -> Func {
        let type_id = store.inner.engine.intern_type(ty);
        let host_index = store.host_funcs.len() as u32;
        store.host_funcs.push(host);
        store.inner.funcs.push(FuncEntity::Host {
            type_id,
            host: host_index,
            num_params: ty.params().map(ValType::slot_count).sum::<usize>() as u32,
            num_results: ty.results().map(ValType::slot_count).sum::<usize>() as u32,
        });
        Func(store.inner.stored(store.inner.funcs.len() - 1))
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let inner = &store.as_context().0.inner;
        let id = inner.funcs[inner.index(self.0)].type_id();
        inner.engine.resolve_type(id)
    }

    /// Calls the function with dynamically typed arguments; results go to `results`.
    ///
    /// # Errors
    ///
    /// A type mismatch of arguments or results (count or types), or the call trapping
    /// (see [`Error::trap_code`]) or a host function failing.
    pub fn call(&self, mut store: impl AsContextMut, params: &[Val], results: &mut [Val]) -> Result<()> {
        let ctx = store.as_context_mut();
        let store = &mut *ctx.0;
        let ty = self.ty(&*store);
        if params.len() != ty.params().len() || results.len() != ty.results().len() {
            return Err(Error::type_mismatch(format!(
                "function {ty} called with {} arguments and {} results",
                params.len(),
                results.len()
            )));
        }
        let param_slots: usize = ty.params().map(ValType::slot_count).sum();
        let result_slots: usize = ty.results().map(ValType::slot_count).sum();
        let mut slots = vec![0u64; param_slots.max(result_slots)];
        let mut at = 0;
        for (i, (p, t)) in params.iter().zip(ty.params()).enumerate() {
            if !p.matches(&store.inner, t) {
                let got = p.describe(&store.inner);
                return Err(Error::type_mismatch(format!("argument {i} must be {t}, got {got}")));
            }
            at += p.to_slots(&mut store.inner, &mut slots[at..])?;
        }
        let index = store.inner.index(self.0);
        call_func(store, index, &mut slots)?;
        let mut at = 0;
        for (i, t) in ty.results().enumerate() {
            results[i] = Val::from_slots(&slots[at..], t, &store.inner);
            at += t.slot_count();
        }
        Ok(())
    }

    /// A statically typed view of this function.
    ///
    /// # Errors
    ///
    /// If `Params` / `Results` do not match the function's type.
    pub fn typed<Params: WasmTyList, Results: WasmTyList>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        let ty = self.ty(store);
        let (mut p, mut r) = (Vec::new(), Vec::new());
        Params::val_types(&mut p);
        Results::val_types(&mut r);
        if p != ty.params_slice() || r != ty.results_slice() {
            return Err(Error::type_mismatch(format!(
                "function {ty} used as {}",
                FuncType::new(p.iter().copied(), r.iter().copied())
            )));
        }
        Ok(TypedFunc { func: *self, _marker: PhantomData })
    }
}

/// A function with a static Rust signature, checked once by [`Func::typed`].
#[derive(Debug)]
pub struct TypedFunc<Params, Results> {
    func: Func,
    _marker: PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<Params: WasmTyList, Results: WasmTyList> TypedFunc<Params, Results> {
    /// The untyped function.
    pub fn func(&self) -> Func {
        self.func
    }

    /// Calls the function.
    ///
    /// # Errors
    ///
    /// If the call traps (see [`Error::trap_code`]) or a host function fails.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let ctx = store.as_context_mut();
        let store = &mut *ctx.0;
        let n = Params::num_slots().max(Results::num_slots());
        let mut buf = [0u64; 16];
        let mut heap;
        let slots: &mut [u64] = if n <= buf.len() {
            &mut buf[..n]
        } else {
            heap = vec![0u64; n];
            &mut heap
        };
        params.into_slots(slots);
        let index = store.inner.index(self.func.0);
        call_func(store, index, slots)?;
        Ok(Results::from_slots(slots))
    }
}

impl<T> Caller<'_, T> {
    fn instance_entity(&self) -> Option<&InstanceEntity> {
        self.store.inner.instances.get(self.instance? as usize)
    }

    /// The calling instance's memory 0, exported or not.
    pub fn memory(&self) -> Option<Memory> {
        self.memory_at(0)
    }

    /// The calling instance's memory `index` (multi-memory), exported or not; `None` for a
    /// shared memory (see [`shared_memory_at`](Self::shared_memory_at)).
    pub fn memory_at(&self, index: u32) -> Option<Memory> {
        let m = *self.instance_entity()?.memories.get(index as usize)?;
        if self.store.inner.memories[m as usize].shared.is_some() {
            return None;
        }
        Some(Memory(self.store.inner.stored(m as usize)))
    }

    /// The calling instance's memory `index` if it is a shared memory (threads), exported
    /// or not. Host code reaches it by atomic copy-in/copy-out only
    /// ([`SharedMemory::view`](crate::SharedMemory::view)).
    pub fn shared_memory_at(&self, index: u32) -> Option<crate::SharedMemory> {
        let m = *self.instance_entity()?.memories.get(index as usize)?;
        self.store.inner.memories[m as usize].shared.clone()
    }

    /// An export of the calling instance.
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        self.instance_entity()?.export(&self.store.inner, name)
    }
}

/// A Rust type that crosses the wasm boundary as one or more wasm values.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross the wasm boundary",
    label = "not a wasm value type",
    note = "parameters and results of typed calls and host functions are `i32`, `u32`, `i64`, `u64`, `f32`, `f64`, `V128`, `WasmPtr<T, M>` or `WasmSlice<T, M>` (a `usize` or `bool` is not: convert it explicitly)"
)]
pub trait WasmTy: Send + Sized + 'static {
    /// The wasm value types it occupies, in order.
    fn val_types() -> &'static [ValType];
    /// Decodes from exactly `val_types().len()` slots.
    #[doc(hidden)]
    fn from_slots(slots: &[u64]) -> Self;
    /// Encodes into exactly `val_types().len()` slots.
    #[doc(hidden)]
    fn into_slots(self, slots: &mut [u64]);
    /// Number of 64-bit slots the value occupies (two per `v128`).
    #[doc(hidden)]
    fn num_slots() -> usize {
        Self::val_types().iter().map(|t| t.slot_count()).sum()
    }
}

macro_rules! wasm_ty {
    ($t:ty, $vt:ident, |$s:ident| $from:expr, |$v:ident| $into:expr) => {
        impl WasmTy for $t {
            fn val_types() -> &'static [ValType] {
                &[ValType::$vt]
            }
            fn from_slots(slots: &[u64]) -> Self {
                let $s = slots[0];
                $from
            }
            fn into_slots(self, slots: &mut [u64]) {
                let $v = self;
                slots[0] = $into;
            }
        }
    };
}

wasm_ty!(i32, I32, |s| s as u32 as i32, |v| u64::from(v as u32));
wasm_ty!(u32, I32, |s| s as u32, |v| u64::from(v));
wasm_ty!(i64, I64, |s| s as i64, |v| v as u64);
wasm_ty!(u64, I64, |s| s, |v| v);
wasm_ty!(f32, F32, |s| f32::from_bits(s as u32), |v| u64::from(v.to_bits()));
wasm_ty!(f64, F64, |s| f64::from_bits(s), |v| v.to_bits());

impl WasmTy for V128 {
    fn val_types() -> &'static [ValType] {
        &[ValType::V128]
    }
    fn from_slots(slots: &[u64]) -> Self {
        V128::from_bits(u128::from(slots[0]) | (u128::from(slots[1]) << 64))
    }
    fn into_slots(self, slots: &mut [u64]) {
        let bits = self.to_bits();
        slots[0] = bits as u64;
        slots[1] = (bits >> 64) as u64;
    }
    fn num_slots() -> usize {
        2
    }
}

/// A list of [`WasmTy`] values: `()`, a single value, or a tuple. Used for typed
/// parameters and results.
pub trait WasmTyList: Send + Sized + 'static {
    /// Appends the wasm value types of the list.
    fn val_types(out: &mut Vec<ValType>);
    /// Number of slots the list occupies.
    fn num_slots() -> usize;
    /// Decodes from the first `num_slots()` slots.
    #[doc(hidden)]
    fn from_slots(slots: &[u64]) -> Self;
    /// Encodes into the first `num_slots()` slots.
    #[doc(hidden)]
    fn into_slots(self, slots: &mut [u64]);
}

impl<A: WasmTy> WasmTyList for A {
    fn val_types(out: &mut Vec<ValType>) {
        out.extend_from_slice(A::val_types());
    }
    fn num_slots() -> usize {
        <A as WasmTy>::num_slots()
    }
    fn from_slots(slots: &[u64]) -> Self {
        A::from_slots(&slots[..<A as WasmTy>::num_slots()])
    }
    fn into_slots(self, slots: &mut [u64]) {
        let n = <A as WasmTy>::num_slots();
        A::into_slots(self, &mut slots[..n]);
    }
}

macro_rules! tuple_list {
    ($($a:ident)*) => {
        impl<$($a: WasmTy),*> WasmTyList for ($($a,)*) {
            fn val_types(_out: &mut Vec<ValType>) {
                $( _out.extend_from_slice($a::val_types()); )*
            }
            fn num_slots() -> usize {
                0 $( + <$a as WasmTy>::num_slots() )*
            }
            #[allow(non_snake_case, unused_assignments, unused_mut, clippy::unused_unit)]
            fn from_slots(_slots: &[u64]) -> Self {
                let mut _at = 0;
                $( let n = <$a as WasmTy>::num_slots(); let $a = $a::from_slots(&_slots[_at.._at + n]); _at += n; )*
                ($($a,)*)
            }
            #[allow(non_snake_case, unused_assignments, unused_mut)]
            fn into_slots(self, _slots: &mut [u64]) {
                let ($($a,)*) = self;
                let mut _at = 0;
                $( let n = <$a as WasmTy>::num_slots(); $a.into_slots(&mut _slots[_at.._at + n]); _at += n; )*
            }
        }
    };
}

tuple_list!();
tuple_list!(A1);
tuple_list!(A1 A2);
tuple_list!(A1 A2 A3);
tuple_list!(A1 A2 A3 A4);
tuple_list!(A1 A2 A3 A4 A5);
tuple_list!(A1 A2 A3 A4 A5 A6);
tuple_list!(A1 A2 A3 A4 A5 A6 A7);
tuple_list!(A1 A2 A3 A4 A5 A6 A7 A8);
tuple_list!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
tuple_list!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
tuple_list!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
tuple_list!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);

/// What a host closure may return: values (a [`WasmTyList`]), or a `Result` of them whose
/// error converts into [`Error`] (returning `Err` traps the guest with that error).
#[diagnostic::on_unimplemented(
    message = "a host function cannot return `{Self}`",
    label = "not a wasm result",
    note = "a host closure returns `()`, a wasm value, a tuple of them, or `Result<_, E>` of those where `E: Into<wasmguard::Error>`"
)]
pub trait WasmRet {
    /// The values returned to wasm.
    type Values: WasmTyList;
    /// Converts into the values or the error that traps the guest.
    #[doc(hidden)]
    fn into_result(self) -> Result<Self::Values>;
}

impl<V: WasmTyList> WasmRet for V {
    type Values = V;
    fn into_result(self) -> Result<V> {
        Ok(self)
    }
}

impl<V: WasmTyList, E: Into<Error>> WasmRet for std::result::Result<V, E> {
    type Values = V;
    fn into_result(self) -> Result<V> {
        self.map_err(Into::into)
    }
}

/// A Rust closure usable as a host function (see [`Func::wrap`]).
#[diagnostic::on_unimplemented(
    message = "this closure cannot be a host function of a `Store<{T}>`",
    label = "not usable as a host function",
    note = "a host function is `Fn(Caller<'_, T>, params...) -> R` or `Fn(params...) -> R`, `Send + Sync + 'static`, with at most 12 parameters",
    note = "each parameter must be a `WasmTy` (`i32`, `u32`, `i64`, `u64`, `f32`, `f64`, `V128`, `WasmPtr<T>`, ...) and `R` a `WasmRet` (values, or `Result<values, E>` with `E: Into<wasmguard::Error>`)"
)]
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function type and the type-erased host function.
    #[doc(hidden)]
    fn into_host_func(self) -> (FuncType, Arc<HostFunc<T>>);
}

fn host_type<P: WasmTyList, R: WasmTyList>() -> FuncType {
    let (mut p, mut r) = (Vec::new(), Vec::new());
    P::val_types(&mut p);
    R::val_types(&mut r);
    FuncType::new(p, r)
}

macro_rules! into_func {
    ($($a:ident)*) => {
        impl<T, F, R, $($a),*> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: WasmRet,
            $($a: WasmTy,)*
        {
            fn into_host_func(self) -> (FuncType, Arc<HostFunc<T>>) {
                let ty = host_type::<($($a,)*), R::Values>();
                let host = move |_caller: Caller<'_, T>, slots: &mut [u64]| -> Result<()> {
                    #[allow(non_snake_case)]
                    let ($($a,)*) = <($($a,)*) as WasmTyList>::from_slots(slots);
                    let values = (self)($($a),*).into_result()?;
                    values.into_slots(slots);
                    Ok(())
                };
                (ty, Arc::new(host))
            }
        }

        impl<T, F, R, $($a),*> IntoFunc<T, (Caller<'static, T>, $($a,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            R: WasmRet,
            $($a: WasmTy,)*
        {
            fn into_host_func(self) -> (FuncType, Arc<HostFunc<T>>) {
                let ty = host_type::<($($a,)*), R::Values>();
                let host = move |caller: Caller<'_, T>, slots: &mut [u64]| -> Result<()> {
                    #[allow(non_snake_case)]
                    let ($($a,)*) = <($($a,)*) as WasmTyList>::from_slots(slots);
                    let values = (self)(caller, $($a),*).into_result()?;
                    values.into_slots(slots);
                    Ok(())
                };
                (ty, Arc::new(host))
            }
        }
    };
}

into_func!();
into_func!(A1);
into_func!(A1 A2);
into_func!(A1 A2 A3);
into_func!(A1 A2 A3 A4);
into_func!(A1 A2 A3 A4 A5);
into_func!(A1 A2 A3 A4 A5 A6);
into_func!(A1 A2 A3 A4 A5 A6 A7);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);

/// Type-erases a dynamically typed host function.
pub(crate) fn dynamic_host_func<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> Arc<HostFunc<T>> {
    Arc::new(move |caller: Caller<'_, T>, slots: &mut [u64]| -> Result<()> {
        let mut at = 0;
        let params: Vec<Val> = ty
            .params()
            .map(|t| {
                let v = Val::from_slots(&slots[at..], t, &caller.store.inner);
                at += t.slot_count();
                v
            })
            .collect();
        let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
        let store: &mut Store<T> = caller.store;
        let instance = caller.instance;
        func(Caller { store, instance }, &params, &mut results)?;
        let mut at = 0;
        for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
            if !r.matches(&store.inner, t) {
                let got = r.describe(&store.inner);
                return Err(Error::type_mismatch(format!("host function result {i} must be {t}, got {got}")));
            }
            at += r.to_slots(&mut store.inner, &mut slots[at..])?;
        }
        Ok(())
    })
}
