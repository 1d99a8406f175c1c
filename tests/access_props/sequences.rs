//! Random operation sequences on a memory and its model, side by side.

use std::ops::Range;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::TestCaseResult;
use wasmguard::{AccessError, Engine, Memory, MemoryType, Store, WASM_PAGE_SIZE, WasmPtr, WasmSlice};

use crate::model::*;

macro_rules! dispatch {
    ($($name:ident $test:ident: $t:ty),* $(,)?) => {
        /// One of the guest types under test.
        #[derive(Debug, Clone, Copy)]
        pub(crate) enum Ty { $($name),* }

        /// Values of one guest type.
        #[derive(Debug, Clone)]
        pub(crate) enum Vals { $($name(Vec<$t>)),* }

        fn any_ty() -> BoxedStrategy<Ty> {
            prop::sample::select(vec![$(Ty::$name),*]).boxed()
        }

        fn any_vals(len: Range<usize>) -> BoxedStrategy<Vals> {
            Union::new(vec![$(vec(<$t as Model>::arb(), len.clone()).prop_map(Vals::$name).boxed()),*])
                .boxed()
        }

        impl Sim {
            fn ptr_read_ty(&mut self, ty: Ty, addr: u32, via_mut: bool) -> TestCaseResult {
                match ty { $(Ty::$name => self.ptr_read::<$t>(addr, via_mut)),* }
            }

            fn ptr_add_ty(&mut self, ty: Ty, addr: u32, count: u32) -> TestCaseResult {
                match ty { $(Ty::$name => ptr_add::<$t>(addr, count)),* }
            }

            fn slice_read_ty(&mut self, ty: Ty, addr: u32, len: u32, via_mut: bool) -> TestCaseResult {
                match ty { $(Ty::$name => self.slice_read::<$t>(addr, len, via_mut)),* }
            }

            fn slice_get_ty(&mut self, ty: Ty, addr: u32, len: u32, index: u32) -> TestCaseResult {
                match ty { $(Ty::$name => slice_get::<$t>(addr, len, index)),* }
            }

            fn ptr_write_vals(&mut self, vals: &Vals, addr: u32) -> TestCaseResult {
                match vals { $(Vals::$name(v) => match v.first() {
                    Some(v) => self.ptr_write::<$t>(addr, v),
                    None => Ok(()),
                }),* }
            }

            fn slice_write_vals(&mut self, vals: &Vals, addr: u32, len_delta: i8) -> TestCaseResult {
                match vals { $(Vals::$name(v) => self.slice_write::<$t>(addr, v, len_delta)),* }
            }
        }
    };
}

with_guest_types!(dispatch);

#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// `Memory::grow` by this many pages.
    Grow(u64),
    /// `Memory::read`.
    MemRead(Addr, u32),
    /// `Memory::write`.
    MemWrite(Addr, Vec<u8>),
    /// `MemoryView::read`.
    ViewRead(Addr, u32),
    /// `MemoryView::bytes`.
    ViewBytes(Addr, Len),
    /// `MemoryViewMut::read`.
    MutRead(Addr, u32),
    /// `MemoryViewMut::bytes`.
    MutBytes(Addr, Len),
    /// `MemoryViewMut::write`.
    MutWrite(Addr, Vec<u8>),
    /// `MemoryViewMut::write` through `Memory::view_and_data_mut`, counting in the host state.
    ViewAndData(Addr, Vec<u8>),
    /// `WasmPtr::read` through a `MemoryView` (or a `MemoryViewMut` if true).
    PtrRead(Ty, Addr, bool),
    /// `WasmPtr::write` of the first value.
    PtrWrite(Vals, Addr),
    /// `WasmPtr::add`.
    PtrAdd(Ty, Addr, u32),
    /// `WasmSlice::read_to_vec` through a `MemoryView` (or a `MemoryViewMut` if true).
    SliceRead(Ty, Addr, Len, bool),
    /// `WasmSlice::write_from` to a slice of `values.len() + delta` elements.
    SliceWrite(Vals, Addr, i8),
    /// `WasmSlice::get`.
    SliceGet(Ty, Addr, Len, u32),
    /// Writes text (with `Memory::write`) and remembers where.
    WriteText(Addr, Vec<u8>),
    /// `WasmPtr::<u8>::read_utf8`.
    Utf8(Addr, Len),
    /// `WasmPtr::<u8>::read_cstr`.
    Cstr(Addr, Len),
}

fn op() -> impl Strategy<Value = Op> {
    let small = 0u32..=80;
    let bytes = || vec(any::<u8>(), 0..48);
    prop_oneof![
        2 => (0u64..=3).prop_map(Op::Grow),
        2 => (addr(), small.clone()).prop_map(|(a, n)| Op::MemRead(a, n)),
        3 => (addr(), bytes()).prop_map(|(a, b)| Op::MemWrite(a, b)),
        2 => (addr(), small.clone()).prop_map(|(a, n)| Op::ViewRead(a, n)),
        2 => (addr(), len()).prop_map(|(a, n)| Op::ViewBytes(a, n)),
        2 => (addr(), small).prop_map(|(a, n)| Op::MutRead(a, n)),
        2 => (addr(), len()).prop_map(|(a, n)| Op::MutBytes(a, n)),
        3 => (addr(), bytes()).prop_map(|(a, b)| Op::MutWrite(a, b)),
        1 => (addr(), bytes()).prop_map(|(a, b)| Op::ViewAndData(a, b)),
        6 => (any_ty(), addr(), any::<bool>()).prop_map(|(t, a, m)| Op::PtrRead(t, a, m)),
        6 => (any_vals(1..2), addr()).prop_map(|(v, a)| Op::PtrWrite(v, a)),
        1 => (any_ty(), addr(), prop_oneof![0u32..16, any::<u32>()])
            .prop_map(|(t, a, n)| Op::PtrAdd(t, a, n)),
        3 => (any_ty(), addr(), len(), any::<bool>())
            .prop_map(|(t, a, n, m)| Op::SliceRead(t, a, n, m)),
        3 => (any_vals(0..8), addr(), prop_oneof![8 => Just(0i8), 1 => Just(-1i8), 1 => Just(1i8)])
            .prop_map(|(v, a, d)| Op::SliceWrite(v, a, d)),
        1 => (any_ty(), addr(), len(), prop_oneof![0u32..16, any::<u32>()])
            .prop_map(|(t, a, n, i)| Op::SliceGet(t, a, n, i)),
        3 => (addr(), text()).prop_map(|(a, t)| Op::WriteText(a, t)),
        3 => (addr(), len()).prop_map(|(a, n)| Op::Utf8(a, n)),
        3 => (addr(), len()).prop_map(|(a, n)| Op::Cstr(a, n)),
    ]
}

// ---------------------------------------------------------------------------------------------
// The simulation: a memory and its model, side by side
// ---------------------------------------------------------------------------------------------

pub(crate) struct Sim {
    /// The host state counts writes made through `view_and_data_mut`.
    pub(crate) store: Store<u64>,
    pub(crate) memory: Memory,
    pub(crate) model: Vec<u8>,
    pub(crate) max_pages: u64,
    /// Writes through `view_and_data_mut` the model has seen.
    pub(crate) writes: u64,
    /// Where the last text was written.
    pub(crate) mark: u32,
}

impl Sim {
    pub(crate) fn new(pages: u32, max_pages: u32) -> Sim {
        let mut store = Store::new(&Engine::default(), 0);
        let memory = Memory::new(&mut store, MemoryType::new(pages, Some(max_pages))).expect("small memory");
        Sim {
            store,
            memory,
            model: vec![0; pages as usize * WASM_PAGE_SIZE as usize],
            max_pages: u64::from(max_pages),
            writes: 0,
            mark: 0,
        }
    }

    fn size(&self) -> usize {
        self.model.len()
    }

    pub(crate) fn at(&self, a: Addr) -> u32 {
        a.at(self.size(), self.mark)
    }

    /// The model's bytes, or the error the accessors must return.
    fn expect_bytes(&self, address: u32, len: u64) -> Result<&[u8], AccessError> {
        Ok(&self.model[model_range(u64::from(address), len, self.size())?])
    }

    /// Memory equals the model around `[address, address + len)`.
    fn check_window(&self, address: u32, len: usize) -> TestCaseResult {
        let size = self.size();
        let start = (address as usize).saturating_sub(16).min(size);
        let end = (address as usize).saturating_add(len).saturating_add(16).min(size);
        let data = &self.memory.data(&self.store)[start..end];
        let diff = first_diff(data, &self.model[start..end]);
        prop_assert!(diff.is_none(), "memory differs from the model at {:#x}", start + diff.unwrap_or(0));
        Ok(())
    }

    /// The whole memory equals the model, and its size agrees everywhere.
    fn check_all(&self) -> TestCaseResult {
        let data = self.memory.data(&self.store);
        prop_assert_eq!(data.len(), self.size());
        prop_assert_eq!(self.memory.data_size(&self.store), self.size());
        let pages = self.size() as u64 / WASM_PAGE_SIZE;
        prop_assert_eq!(self.memory.size(&self.store), pages);
        prop_assert_eq!(self.memory.ty(&self.store).minimum(), pages);
        prop_assert_eq!(self.memory.ty(&self.store).maximum(), Some(self.max_pages));
        prop_assert_eq!(self.memory.view(&self.store).len(), self.size());
        prop_assert_eq!(*self.store.data(), self.writes);
        let diff = first_diff(data, &self.model);
        prop_assert!(diff.is_none(), "memory differs from the model at {diff:#x?}");
        Ok(())
    }

    /// Applies a write of `buf` at `address` to the model if it is in bounds, and checks
    /// the accessor's result against it.
    fn model_write(&mut self, what: &str, address: u32, buf: &[u8], actual: Result<(), AccessError>) -> TestCaseResult {
        let expected =
            model_range(u64::from(address), buf.len() as u64, self.size()).map(|r| self.model[r].copy_from_slice(buf));
        check(what, &actual, &expected, |_, _| true)?;
        self.check_window(address, buf.len())
    }

    pub(crate) fn apply(&mut self, op: &Op) -> TestCaseResult {
        match op {
            Op::Grow(delta) => {
                let old = self.size() as u64 / WASM_PAGE_SIZE;
                let result = self.memory.grow(&mut self.store, *delta);
                if old + delta <= self.max_pages {
                    prop_assert_eq!(result.ok(), Some(old));
                    let new_len = self.size() + *delta as usize * WASM_PAGE_SIZE as usize;
                    self.model.resize(new_len, 0);
                } else {
                    prop_assert!(result.is_err(), "grew past the maximum");
                }
                self.check_all()?;
            }
            Op::MemRead(a, n) => {
                let address = self.at(*a);
                let mut buf = vec![0xEE; *n as usize];
                let actual = self.memory.read(&self.store, address as usize, &mut buf);
                self.check_read("Memory::read", address, &buf, actual)?;
            }
            Op::MemWrite(a, bytes) => {
                let address = self.at(*a);
                let actual = self.memory.write(&mut self.store, address as usize, bytes);
                self.model_write("Memory::write", address, bytes, actual)?;
            }
            Op::ViewRead(a, n) => {
                let address = self.at(*a);
                let mut buf = vec![0xEE; *n as usize];
                let actual = self.memory.view(&self.store).read(u64::from(address), &mut buf);
                self.check_read("MemoryView::read", address, &buf, actual)?;
            }
            Op::ViewBytes(a, n) => {
                let (address, len) = (self.at(*a), u64::from(n.get(self.size())));
                let view = self.memory.view(&self.store);
                let actual = view.bytes(u64::from(address), len);
                check("MemoryView::bytes", &actual, &self.expect_bytes(address, len), |a, b| a == b)?;
            }
            Op::MutRead(a, n) => {
                let address = self.at(*a);
                let mut buf = vec![0xEE; *n as usize];
                let actual = self.memory.view_mut(&mut self.store).read(u64::from(address), &mut buf);
                self.check_read("MemoryViewMut::read", address, &buf, actual)?;
            }
            Op::MutBytes(a, n) => {
                let (address, len) = (self.at(*a), u64::from(n.get(self.size())));
                let mut view = self.memory.view_mut(&mut self.store);
                let actual = view.bytes(u64::from(address), len).map(<[u8]>::to_vec);
                let expected = self.expect_bytes(address, len).map(<[u8]>::to_vec);
                check("MemoryViewMut::bytes", &actual, &expected, |a, b| a == b)?;
            }
            Op::MutWrite(a, bytes) => {
                let address = self.at(*a);
                let actual = self.memory.view_mut(&mut self.store).write(u64::from(address), bytes);
                self.model_write("MemoryViewMut::write", address, bytes, actual)?;
            }
            Op::ViewAndData(a, bytes) => {
                let address = self.at(*a);
                let (mut view, writes) = self.memory.view_and_data_mut(&mut self.store);
                let actual = view.write(u64::from(address), bytes);
                *writes += 1;
                self.writes += 1;
                self.model_write("view_and_data_mut write", address, bytes, actual)?;
            }
            Op::PtrRead(ty, a, via_mut) => {
                let address = self.at(*a);
                self.ptr_read_ty(*ty, address, *via_mut)?;
            }
            Op::PtrWrite(vals, a) => {
                let address = self.at(*a);
                self.ptr_write_vals(vals, address)?;
            }
            Op::PtrAdd(ty, a, count) => {
                let address = self.at(*a);
                self.ptr_add_ty(*ty, address, *count)?;
            }
            Op::SliceRead(ty, a, n, via_mut) => {
                let (address, len) = (self.at(*a), n.get(self.size()));
                self.slice_read_ty(*ty, address, len, *via_mut)?;
            }
            Op::SliceWrite(vals, a, delta) => {
                let address = self.at(*a);
                self.slice_write_vals(vals, address, *delta)?;
            }
            Op::SliceGet(ty, a, n, index) => {
                let (address, len) = (self.at(*a), n.get(self.size()));
                self.slice_get_ty(*ty, address, len, *index)?;
            }
            Op::WriteText(a, text) => {
                let address = self.at(*a);
                let actual = self.memory.write(&mut self.store, address as usize, text);
                if actual.is_ok() {
                    self.mark = address;
                }
                self.model_write("Memory::write (text)", address, text, actual)?;
            }
            Op::Utf8(a, n) => {
                let (address, len) = (self.at(*a), n.get(self.size()));
                let view = self.memory.view(&self.store);
                let actual = WasmPtr::<u8>::new(address).read_utf8(&view, len);
                let expected = self.expect_bytes(address, u64::from(len)).and_then(|b| {
                    std::str::from_utf8(b)
                        .map_err(|_| AccessError::InvalidUtf8 { address: u64::from(address), len: u64::from(len) })
                });
                check("read_utf8", &actual, &expected, |a, b| a == b)?;
            }
            Op::Cstr(a, n) => {
                let (address, max_len) = (self.at(*a), n.get(self.size()));
                let view = self.memory.view(&self.store);
                let actual = WasmPtr::<u8>::new(address).read_cstr(&view, max_len);
                let expected = self.expect_cstr(address, max_len);
                match (&actual, &expected) {
                    // Past the end: the length reported is the implementation's choice.
                    (
                        Err(AccessError::OutOfBounds { address: x, .. }),
                        Err(AccessError::OutOfBounds { address: y, .. }),
                    ) => prop_assert_eq!(x, y),
                    _ => check("read_cstr", &actual, &expected, |a, b| a == b)?,
                }
            }
        }
        Ok(())
    }

    fn check_read(&self, what: &str, address: u32, buf: &[u8], actual: Result<(), AccessError>) -> TestCaseResult {
        let expected = self.expect_bytes(address, buf.len() as u64);
        let actual = actual.map(|()| buf);
        check(what, &actual, &expected, |a, b| a == b)?;
        if actual.is_err() {
            prop_assert!(buf.iter().all(|&b| b == 0xEE), "{what}: a failed read changed the buffer");
        }
        Ok(())
    }

    /// A NUL-terminated string of at most `max_len` bytes before the NUL.
    fn expect_cstr(&self, address: u32, max_len: u32) -> Result<&str, AccessError> {
        let size = self.size();
        let start = address as usize;
        if start > size {
            return Err(AccessError::OutOfBounds { address: u64::from(address), len: 1, memory_size: size as u64 });
        }
        let end = size.min(start.saturating_add(max_len as usize).saturating_add(1));
        let window = &self.model[start..end];
        let n = window
            .iter()
            .position(|&b| b == 0)
            .ok_or(AccessError::Unterminated { address: u64::from(address), max_len: u64::from(max_len) })?;
        std::str::from_utf8(&window[..n])
            .map_err(|_| AccessError::InvalidUtf8 { address: u64::from(address), len: n as u64 })
    }

    fn expect_value<T: Model>(&self, address: u32) -> Result<T, AccessError> {
        T::decode(self.expect_bytes(address, u64::from(T::SIZE))?)
    }

    fn ptr_read<T: Model>(&mut self, address: u32, via_mut: bool) -> TestCaseResult {
        let ptr = WasmPtr::<T>::new(address);
        let actual = if via_mut {
            ptr.read(&self.memory.view_mut(&mut self.store))
        } else {
            ptr.read(&self.memory.view(&self.store))
        };
        check("WasmPtr::read", &actual, &self.expect_value::<T>(address), T::same)
    }

    fn ptr_write<T: Model>(&mut self, address: u32, value: &T) -> TestCaseResult {
        let actual = WasmPtr::<T>::new(address).write(&mut self.memory.view_mut(&mut self.store), value.clone());
        let mut encoded = vec![0; T::SIZE as usize];
        value.encode(&mut encoded);
        self.model_write("WasmPtr::write", address, &encoded, actual.clone())?;
        if actual.is_ok() {
            // What was written reads back.
            let back = WasmPtr::<T>::new(address).read(&self.memory.view(&self.store));
            check("read after write", &back, &Ok(value.clone()), T::same)?;
        }
        Ok(())
    }

    fn slice_read<T: Model>(&mut self, address: u32, len: u32, via_mut: bool) -> TestCaseResult {
        let slice = WasmSlice::new(WasmPtr::<T>::new(address), len);
        prop_assert_eq!(slice.len(), len);
        prop_assert_eq!(slice.is_empty(), len == 0);
        prop_assert_eq!(slice.len_bytes(), u64::from(len) * u64::from(T::SIZE));
        let actual = if via_mut {
            slice.read_to_vec(&self.memory.view_mut(&mut self.store))
        } else {
            slice.read_to_vec(&self.memory.view(&self.store))
        };
        let expected = self
            .expect_bytes(address, slice.len_bytes())
            .and_then(|bytes| bytes.chunks_exact(T::SIZE as usize).map(T::decode).collect());
        check("WasmSlice::read_to_vec", &actual, &expected, |a, b| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
        })
    }

    fn slice_write<T: Model>(&mut self, address: u32, values: &[T], len_delta: i8) -> TestCaseResult {
        let len = (values.len() as u32).saturating_add_signed(i32::from(len_delta));
        let slice = WasmSlice::new(WasmPtr::<T>::new(address), len);
        let actual = slice.write_from(&mut self.memory.view_mut(&mut self.store), values);
        if len as usize != values.len() {
            let expected = Err(AccessError::LengthMismatch { expected: u64::from(len), actual: values.len() as u64 });
            check("WasmSlice::write_from", &actual, &expected, |_, _| true)?;
            return self.check_window(address, values.len() * T::SIZE as usize);
        }
        let mut encoded = vec![0; values.len() * T::SIZE as usize];
        for (v, chunk) in values.iter().zip(encoded.chunks_exact_mut(T::SIZE as usize)) {
            v.encode(chunk);
        }
        self.model_write("WasmSlice::write_from", address, &encoded, actual)
    }
}

pub(crate) fn ptr_add<T: Model>(address: u32, count: u32) -> TestCaseResult {
    let actual = WasmPtr::<T>::new(address).add(count);
    let target = u64::from(address) + u64::from(count) * u64::from(T::SIZE);
    match u32::try_from(target) {
        Ok(t) => prop_assert_eq!(actual, Ok(WasmPtr::new(t))),
        Err(_) => {
            prop_assert!(matches!(actual, Err(AccessError::Overflow { .. })), "add past the address space: {actual:?}")
        }
    }
    Ok(())
}

pub(crate) fn slice_get<T: Model>(address: u32, len: u32, index: u32) -> TestCaseResult {
    let actual = WasmSlice::new(WasmPtr::<T>::new(address), len).get(index);
    let target = u64::from(address) + u64::from(index) * u64::from(T::SIZE);
    let expected = if index < len { u32::try_from(target).ok().map(WasmPtr::new) } else { None };
    prop_assert_eq!(actual, expected);
    Ok(())
}

pub(crate) fn memory_config() -> impl Strategy<Value = (u32, u32)> {
    (1u32..=4).prop_flat_map(|pages| (Just(pages), pages..=8))
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    /// Random operation sequences agree with the model, and nothing panics.
    #[test]
    fn operations_match_the_model(
        (pages, max_pages) in memory_config(),
        ops in vec(op(), 1..40),
    ) {
        let mut sim = Sim::new(pages, max_pages);
        for op in &ops {
            sim.apply(op)?;
        }
        sim.check_all()?;
    }

    /// Growth: within the maximum it adds zeroed pages and keeps the contents; past it,
    /// it fails and nothing changes.
    #[test]
    fn grow_keeps_contents_and_zeroes_new_pages(
        (pages, max_pages) in memory_config(),
        steps in vec((0u64..=9, addr(), vec(any::<u8>(), 1..32)), 1..12),
    ) {
        let mut sim = Sim::new(pages, max_pages);
        for (delta, a, bytes) in &steps {
            sim.apply(&Op::MemWrite(*a, bytes.clone()))?;
            sim.apply(&Op::Grow(*delta))?;
            // Beyond the maximum, even by a huge amount.
            let before = sim.memory.size(&sim.store);
            prop_assert!(sim.memory.grow(&mut sim.store, u64::MAX - delta).is_err());
            prop_assert_eq!(sim.memory.size(&sim.store), before);
        }
        sim.check_all()?;
    }
}
