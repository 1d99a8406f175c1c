//! The translated functions of a module, translated on first call or all at once.
//!
//! A [`Code`] table has one slot per defined function, shared by every instance of the
//! module in every store and thread. Handlers read a slot with one load and enter the
//! function it points at. With lazy translation, a slot starts out pointing at its
//! function's *stub*: a function of two ops, [`LAZY`](super::threaded::LAZY) and the
//! sentinel, with the real function's parameters and results. Entering the stub runs the
//! `LAZY` op, which translates the function (the body was validated when the module was
//! compiled), publishes it in the slot and runs it in the frame the call made. Two
//! threads may translate the same function at once: the first to publish wins, and the
//! other drops its copy and runs the winner's.

use std::ops::Range;
use std::sync::atomic::{AtomicPtr, Ordering};

use wasmparser::{BinaryReader, FunctionBody};

use super::ir::CompiledFunc;
use super::lower::verify::verify;
use super::threaded::{LAZY, Op, SENTINEL};
use super::translate::translate_function;
use crate::error::{Error, Result};
use crate::module::ModuleInner;

/// The functions a module defines (see the module docs).
pub(crate) struct Code {
    /// Function `i`: its stub (lazy translation, until translated) or its translation
    /// (a leaked `Box`, freed by `drop`).
    slots: Box<[AtomicPtr<CompiledFunc>]>,
    /// The stubs, one per function (lazy translation only). A `Vec`, not a `Box`, so
    /// that moving the table keeps the slots' pointers into it valid.
    stubs: Vec<CompiledFunc>,
    /// A copy of the module's code and each function's body in it (lazy translation only).
    source: Option<Source>,
}

struct Source {
    /// The module's bytes from its first function body to the end of its last one.
    code: Box<[u8]>,
    /// Where `code` starts in the module's bytes.
    base: usize,
    /// Each function's body, as a range of the module's bytes.
    bodies: Box<[Range<usize>]>,
    fuel: bool,
}

// Slots hold pointers to functions that handlers on any thread may run.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<CompiledFunc>();
};

impl Code {
    /// A table of functions translated already.
    pub(crate) fn translated(funcs: Vec<CompiledFunc>) -> Code {
        let slots = funcs.into_iter().map(|f| AtomicPtr::new(Box::into_raw(Box::new(f)))).collect();
        Code { slots, stubs: Vec::new(), source: None }
    }

    /// A table of functions translated on first call: function `i` of `module` (after its
    /// imports) has its body at `bodies[i]` in `binary`, validated already. The table
    /// keeps a copy of the bodies.
    ///
    /// # Errors
    ///
    /// An internal error if a stub fails verification (a bug).
    pub(crate) fn lazy(module: &ModuleInner, binary: &[u8], bodies: Vec<Range<usize>>, fuel: bool) -> Result<Code> {
        let mut stubs = Vec::with_capacity(bodies.len());
        for (i, body) in bodies.iter().enumerate() {
            let func_index = module.num_imported_funcs + i as u32;
            let ty = module.func_type(func_index);
            let slots = |ts: &[crate::types::ValType]| ts.iter().map(|t| t.slot_count() as u32).sum::<u32>();
            let (num_params, num_results) = (slots(ty.params_slice()), slots(ty.results_slice()));
            let ops =
                [Op { h: LAZY.v[0], a: i as u32, b: 0, c: 0, d: 0 }, Op { h: SENTINEL.v[0], a: 0, b: 0, c: 0, d: 0 }];
            let frame_slots = num_params.max(num_results);
            verify(&ops, &[LAZY, SENTINEL], frame_slots)
                .map_err(|e| Error::msg(format!("internal error: stub of function {func_index}: {e}")))?;
            stubs.push(CompiledFunc {
                func_index,
                code: Box::new([]),
                offsets: Box::new([]),
                body_offset: u32::try_from(body.start).unwrap_or(u32::MAX),
                ops: Box::new(ops),
                num_params,
                num_locals: num_params,
                num_results,
                frame_slots,
                indirect_sites: Box::new([]),
                handlers: Box::new([]),
                consts: Box::new([]),
            });
        }
        let slots = stubs.iter().map(|s| AtomicPtr::new(std::ptr::from_ref(s).cast_mut())).collect();
        // Bodies are consecutive, in order, in the code section.
        let base = bodies.first().map_or(0, |b| b.start);
        let end = bodies.last().map_or(0, |b| b.end);
        let code = binary.get(base..end).ok_or_else(|| Error::msg("internal error: function bodies out of range"))?;
        let source = Source { code: code.into(), base, bodies: bodies.into(), fuel };
        Ok(Code { slots, stubs, source: Some(source) })
    }

    /// How many functions there are.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The slots, for handlers that read them directly (see [`Code::get`]).
    pub(crate) fn slots(&self) -> *const AtomicPtr<CompiledFunc> {
        self.slots.as_ptr()
    }

    /// Function `index` (below [`Code::len`]) as it stands: its stub or its translation,
    /// either of which lives as long as the table.
    #[inline(always)]
    pub(crate) fn get(&self, index: u32) -> *const CompiledFunc {
        // Acquire: pairs with the release of the publication in `translate`.
        self.slots[index as usize].load(Ordering::Acquire)
    }

    /// Function `index` translated: translates it first if that has not happened yet.
    /// The result lives as long as the table.
    ///
    /// # Errors
    ///
    /// What translation reports (a limit, such as a function too large to translate; the
    /// body itself was validated when the module was compiled).
    pub(crate) fn translate(&self, index: u32, module: &ModuleInner) -> Result<&CompiledFunc> {
        let current = self.get(index);
        let Some(source) = &self.source else {
            // SAFETY: slots point at functions the table owns (see `get`).
            return Ok(unsafe { &*current });
        };
        if !self.is_stub(index, current) {
            // SAFETY: as above.
            return Ok(unsafe { &*current });
        }
        let range = source.bodies[index as usize].clone();
        let start = range.start;
        let body = FunctionBody::new(BinaryReader::new(
            &source.code[start - source.base..range.end - source.base],
            start as u64,
        ));
        let func_index = module.num_imported_funcs + index;
        let translated = Box::into_raw(Box::new(translate_function(module, func_index, &body, None, source.fuel)?));
        let slot = &self.slots[index as usize];
        let winner = match slot.compare_exchange(current.cast_mut(), translated, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => translated,
            Err(other) => {
                // Another thread published its translation first: run that one.
                // SAFETY: `translated` came from `Box::into_raw` above and was not published.
                drop(unsafe { Box::from_raw(translated) });
                other
            }
        };
        // SAFETY: a published translation lives until the table is dropped.
        Ok(unsafe { &*winner })
    }

    /// Whether `f` is the stub of function `index`.
    fn is_stub(&self, index: u32, f: *const CompiledFunc) -> bool {
        self.stubs.get(index as usize).is_some_and(|s| std::ptr::eq(s, f))
    }

    /// Every function translated (translating those that are not yet), in order.
    ///
    /// # Errors
    ///
    /// As [`Code::translate`].
    #[cfg(test)]
    pub(crate) fn all(&self, module: &ModuleInner) -> Result<Vec<&CompiledFunc>> {
        (0..self.len() as u32).map(|i| self.translate(i, module)).collect()
    }
}

impl Code {
    /// How many functions are translated.
    fn num_translated(&self) -> usize {
        (0..self.len() as u32).filter(|&i| !self.is_stub(i, self.get(i))).count()
    }
}

impl Drop for Code {
    fn drop(&mut self) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let f = *slot.get_mut();
            if !self.stubs.get(i).is_some_and(|s| std::ptr::eq(s, f)) {
                // SAFETY: a slot that does not point at its stub holds a translation
                // leaked from a `Box` (by `translated` or `translate`), freed only here.
                drop(unsafe { Box::from_raw(f) });
            }
        }
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Code").field("functions", &self.len()).field("translated", &self.num_translated()).finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Engine, Instance, Module, Store};

    const WAT: &str = r#"(module
        (func $a (export "a") (result i32) (call $b))
        (func $b (result i32) (i32.const 2))
        (func $c (export "c") (result i32) (i32.const 3)))"#;

    #[test]
    fn functions_are_translated_on_first_call_once() {
        let engine = Engine::default();
        let module = Module::new(&engine, WAT).unwrap();
        assert_eq!(module.code.num_translated(), 0);
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        assert_eq!(module.code.num_translated(), 0);
        let a = instance.get_typed_func::<(), i32>(&mut store, "a").unwrap();
        assert_eq!(a.call(&mut store, ()).unwrap(), 2);
        // `a` and the `b` it calls; not `c`.
        assert_eq!(module.code.num_translated(), 2);
        let first = module.code.get(0);
        assert_eq!(a.call(&mut store, ()).unwrap(), 2);
        assert_eq!(module.code.get(0), first, "translated again");
        // Another store shares the translations.
        let mut other = Store::new(&engine, ());
        let instance = Instance::new(&mut other, &module, &[]).unwrap();
        assert_eq!(instance.get_typed_func::<(), i32>(&mut other, "a").unwrap().call(&mut other, ()).unwrap(), 2);
        assert_eq!(module.code.num_translated(), 2);
        assert_eq!(module.code.get(0), first);
    }

    #[test]
    fn eager_translation_translates_everything_in_module_new() {
        let mut config = Config::new();
        config.lazy_translation(false);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, WAT).unwrap();
        assert_eq!(module.code.num_translated(), 3);
        assert!(format!("{module:?}").contains("translated: 3"));
    }
}
