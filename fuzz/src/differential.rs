//! Differential execution: one wasm-smith module run in wasmguard and in wasmi, with the
//! same arguments, the same dummy imports and the same resource limits. Everything
//! observable must agree: whether instantiation succeeds, each call's results or trap
//! (and its kind), exported globals and memories after every call, and exported tables.
//!
//! Deliberate differences, which end the comparison instead of failing it:
//! - fuel: the two engines charge different amounts per instruction, so once either runs
//!   out, the two runs have stopped at different points;
//! - stack exhaustion: call depth and value-stack limits differ between the engines.
//!
//! Known wasmi 2.0.0 bug, excluded: `select(a, x, eqz(x))` — a `select` whose condition is
//! `i32.eqz`/`i64.eqz` of the same local as its second operand — returns `a` when `x` is
//! non-zero (it must return `x`). wasm-smith emits exactly this to guard divisors when
//! `disallow_traps` is on, so this target leaves that option off, and a disagreement in a
//! module that contains the pattern is not reported (see [`has_wasmi_select_bug`]).
//! `tests/fuzz_regressions.rs` checks that wasmguard gets the pattern right.
//!
//! NaNs: the module canonicalizes every NaN a float operation produces (wasm-smith's
//! `canonicalize_nans`), which removes the only nondeterminism the spec allows; float
//! results are still compared as "both NaN" rather than bit for bit.

use arbitrary::{Result, Unstructured};

/// Fuel for the start function and for each exported call, in each engine.
const FUEL: u64 = 50_000;
/// Memory and table limits, the same in both stores.
const MEMORY_BYTES: usize = 16 * 65_536;
const TABLE_ELEMENTS: usize = 10_000;

/// What a value looks like to the comparison: references only by null-ness (function
/// identity differs between engines), floats by bits with all NaNs equal.
#[derive(Debug, Clone, Copy)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    Ref { null: bool },
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (*self, *other) {
            (I32(a), I32(b)) => a == b,
            (I64(a), I64(b)) => a == b,
            (F32(a), F32(b)) => a == b || (f32::from_bits(a).is_nan() && f32::from_bits(b).is_nan()),
            (F64(a), F64(b)) => a == b || (f64::from_bits(a).is_nan() && f64::from_bits(b).is_nan()),
            (V128(a), V128(b)) => a == b,
            (Ref { null: a }, Ref { null: b }) => a == b,
            _ => false,
        }
    }
}

/// A trap, in terms both engines report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trap {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallToNull,
    BadSignature,
    IntegerOverflow,
    IntegerDivisionByZero,
    BadConversionToInteger,
    /// Stack exhaustion or fuel: engine-specific limits, which end the comparison.
    Limit,
    /// An error that is not a trap code (comparable only as "failed").
    Other,
}

/// The outcome of instantiation or of one call.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Vec<Value>),
    Trap(Trap),
}

impl Outcome {
    fn hit_limit(&self) -> bool {
        matches!(self, Outcome::Trap(Trap::Limit))
    }
}

/// The state visible through exports after a step, each kind sorted by export name (the
/// engines list exports in different orders).
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    globals: Vec<(String, Value)>,
    memories: Vec<(String, Vec<u8>)>,
    tables: Vec<(String, Vec<bool>)>,
}

impl Snapshot {
    fn sort(&mut self) {
        self.globals.sort_by(|a, b| a.0.cmp(&b.0));
        self.memories.sort_by(|a, b| a.0.cmp(&b.0));
        self.tables.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

/// One engine's record of a run: the instantiation outcome, then each call's outcome and
/// the state after it.
#[derive(Debug, Default)]
pub struct Trace {
    pub instantiate: Option<Outcome>,
    pub steps: Vec<(String, Outcome, Option<Snapshot>)>,
}

/// A call to make: export name and arguments.
#[derive(Debug, Clone)]
pub struct Call {
    pub name: String,
    pub args: Vec<Value>,
}

/// The module the `differential` target generates from `u`: [`crate::smith_module`]'s
/// features, so without exception handling, which wasmi lacks.
pub fn smith_module(u: &mut Unstructured<'_>) -> Result<wasm_smith::Module> {
    crate::smith_module_with(u, |c| {
        c.canonicalize_nans = true;
        c.export_everything = true;
        c.disallow_traps = false;
    })
}

/// How much of a run was compared: the calls before the first engine-specific limit, and
/// how many of those trapped in both engines.
#[derive(Debug, Default, Clone, Copy)]
pub struct Compared {
    pub instantiated: bool,
    pub calls: usize,
    pub traps: usize,
    pub stopped_at_limit: bool,
}

/// Generates a module from `u`, runs it in both engines and panics on any disagreement.
pub fn check(u: &mut Unstructured<'_>) -> Result<Compared> {
    let module = smith_module(u)?;
    let wasm = module.to_bytes();
    let ours = wasmguard_side::compile(&wasm);
    let theirs = wasmi_side::compile(&wasm);
    let (ours, theirs) = match (ours, theirs) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), Err(_)) => panic!("both engines reject a wasm-smith module: {e}"),
        (a, b) => panic!(
            "validation disagrees: wasmguard {:?}, wasmi {:?}",
            a.err().map(|e| e.to_string()),
            b.err().map(|e| e.to_string())
        ),
    };
    // The calls: every exported function, in export order, with arguments drawn from `u`
    // (null references); a few rounds so that state carried between calls is exercised.
    let mut calls = Vec::new();
    let rounds = u.int_in_range(1..=2)?;
    for _ in 0..rounds {
        for (name, params) in ours.exported_funcs() {
            let mut args = Vec::new();
            for ty in params {
                args.push(match ty {
                    wasmguard::ValType::I32 => Value::I32(u.arbitrary()?),
                    wasmguard::ValType::I64 => Value::I64(u.arbitrary()?),
                    wasmguard::ValType::F32 => Value::F32(u.arbitrary()?),
                    wasmguard::ValType::F64 => Value::F64(u.arbitrary()?),
                    wasmguard::ValType::V128 => Value::V128(u.arbitrary()?),
                    wasmguard::ValType::FuncRef | wasmguard::ValType::ExternRef | wasmguard::ValType::Ref(_) => {
                        Value::Ref { null: true }
                    }
                });
            }
            calls.push(Call { name, args });
        }
    }
    let a = ours.run(&calls);
    let b = theirs.run(&calls);
    match compare(&a, &b) {
        Ok(compared) => Ok(compared),
        Err(_) if has_wasmi_select_bug(&wasm) => Ok(Compared::default()),
        Err(what) => {
            let text = wasmprinter::print_bytes(&wasm).unwrap_or_else(|e| format!("(unprintable: {e})"));
            panic!("wasmguard and wasmi disagree: {what}\n{text}");
        }
    }
}

/// Compares two traces up to the first engine-specific limit; the error describes the
/// first disagreement.
pub fn compare(a: &Trace, b: &Trace) -> std::result::Result<Compared, String> {
    let mut compared = Compared::default();
    let (ia, ib) = (a.instantiate.as_ref().expect("ran"), b.instantiate.as_ref().expect("ran"));
    if ia.hit_limit() || ib.hit_limit() {
        compared.stopped_at_limit = true;
        return Ok(compared);
    }
    match (ia, ib) {
        (Outcome::Ok(_), Outcome::Ok(_)) => {}
        (Outcome::Trap(x), Outcome::Trap(y)) => {
            if x != y && *x != Trap::Other && *y != Trap::Other {
                return Err(format!("instantiation traps differ: wasmguard {x:?}, wasmi {y:?}"));
            }
            return Ok(compared);
        }
        _ => return Err(format!("instantiation: wasmguard {ia:?}, wasmi {ib:?}")),
    }
    compared.instantiated = true;
    for ((name, oa, sa), (_, ob, sb)) in a.steps.iter().zip(&b.steps) {
        if oa.hit_limit() || ob.hit_limit() {
            compared.stopped_at_limit = true;
            return Ok(compared);
        }
        let same = match (oa, ob) {
            (Outcome::Trap(x), Outcome::Trap(y)) => x == y || *x == Trap::Other || *y == Trap::Other,
            _ => oa == ob,
        };
        if !same {
            return Err(format!("call {name:?}: wasmguard {oa:?}, wasmi {ob:?}"));
        }
        if sa != sb {
            let (sa, sb) = (sa.as_ref().expect("snapshot"), sb.as_ref().expect("snapshot"));
            if sa.globals != sb.globals {
                return Err(format!("after {name:?}, globals: wasmguard {:?}, wasmi {:?}", sa.globals, sb.globals));
            }
            for ((n, x), (_, y)) in sa.memories.iter().zip(&sb.memories) {
                if x.len() != y.len() {
                    return Err(format!("after {name:?}, memory {n:?} size: wasmguard {}, wasmi {}", x.len(), y.len()));
                }
                if let Some(i) = x.iter().zip(y).position(|(p, q)| p != q) {
                    return Err(format!(
                        "after {name:?}, memory {n:?} byte {i:#x}: wasmguard {:#x}, wasmi {:#x}",
                        x[i], y[i]
                    ));
                }
            }
            return Err(format!("after {name:?}, tables: wasmguard {:?}, wasmi {:?}", sa.tables, sb.tables));
        }
        compared.calls += 1;
        compared.traps += usize::from(matches!(oa, Outcome::Trap(_)));
    }
    Ok(compared)
}

/// True if some function body has `local.get x` (or `local.tee x`), `local.get x`,
/// `i32.eqz`/`i64.eqz`, `select`: the shape wasmi 2.0.0 miscompiles.
pub fn has_wasmi_select_bug(wasm: &[u8]) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(Payload::CodeSectionEntry(body)) = payload else { continue };
        let Ok(reader) = body.get_operators_reader() else { continue };
        let ops: Vec<Operator<'_>> = reader.into_iter().map_while(|op| op.ok()).collect();
        for w in ops.windows(4) {
            let first = match w[0] {
                Operator::LocalGet { local_index } | Operator::LocalTee { local_index } => Some(local_index),
                _ => None,
            };
            if let (Some(a), Operator::LocalGet { local_index: b }, Operator::I32Eqz | Operator::I64Eqz) =
                (first, &w[1], &w[2])
                && a == *b
                && matches!(w[3], Operator::Select | Operator::TypedSelect { .. })
            {
                return true;
            }
        }
    }
    false
}

mod wasmguard_side {
    use super::*;
    use wasmguard::{Engine, Extern, Func, Instance, Module, Store, StoreLimits, TrapCode, Val, ValType};

    pub struct Prepared {
        engine: Engine,
        module: Module,
    }

    pub fn compile(wasm: &[u8]) -> wasmguard::Result<Prepared> {
        let engine = Engine::new(
            wasmguard::Config::new()
                .consume_fuel(true)
                .max_call_depth(1_000)
                .wasm_custom_page_sizes(true)
                .wasm_wide_arithmetic(true),
        )?;
        let module = Module::new(&engine, wasm)?;
        Ok(Prepared { engine, module })
    }

    fn value(v: &Val) -> Value {
        match v {
            Val::I32(x) => Value::I32(*x),
            Val::I64(x) => Value::I64(*x),
            Val::F32(x) => Value::F32(*x),
            Val::F64(x) => Value::F64(*x),
            Val::V128(x) => Value::V128(*x),
            // wasmi has neither exceptions nor GC references, so only nulls of those
            // could reach here; every reference compares by nullness.
            r => Value::Ref { null: r.is_null() },
        }
    }

    fn val(v: &Value, ty: ValType) -> Val {
        match *v {
            Value::I32(x) => Val::I32(x),
            Value::I64(x) => Val::I64(x),
            Value::F32(x) => Val::F32(x),
            Value::F64(x) => Val::F64(x),
            Value::V128(x) => Val::V128(x),
            Value::Ref { .. } => Val::default_for(ty),
        }
    }

    fn outcome(r: wasmguard::Result<Vec<Value>>) -> Outcome {
        match r {
            Ok(v) => Outcome::Ok(v),
            Err(e) => Outcome::Trap(match e.trap_code() {
                Some(TrapCode::UnreachableCodeReached) => Trap::Unreachable,
                Some(TrapCode::MemoryOutOfBounds) => Trap::MemoryOutOfBounds,
                Some(TrapCode::TableOutOfBounds) => Trap::TableOutOfBounds,
                Some(TrapCode::IndirectCallToNull) => Trap::IndirectCallToNull,
                Some(TrapCode::BadSignature) => Trap::BadSignature,
                Some(TrapCode::IntegerOverflow) => Trap::IntegerOverflow,
                Some(TrapCode::IntegerDivisionByZero) => Trap::IntegerDivisionByZero,
                Some(TrapCode::BadConversionToInteger) => Trap::BadConversionToInteger,
                Some(TrapCode::StackOverflow | TrapCode::OutOfFuel) => Trap::Limit,
                _ => Trap::Other,
            }),
        }
    }

    fn snapshot(store: &mut Store<()>, instance: &Instance) -> Snapshot {
        let mut s = Snapshot { globals: Vec::new(), memories: Vec::new(), tables: Vec::new() };
        for export in instance.exports(&mut *store) {
            let name = export.name().to_string();
            match export.into_extern() {
                Extern::Global(g) => s.globals.push((name, value(&g.get(&*store)))),
                Extern::Memory(m) => s.memories.push((name, m.data(&*store).to_vec())),
                Extern::SharedMemory(m) => {
                    let view = m.view();
                    let bytes = view.read_to_vec(0, view.len() as u64).expect("the whole memory is in bounds");
                    s.memories.push((name, bytes));
                }
                Extern::Func(_) | Extern::Tag(_) => {}
                Extern::Table(t) => {
                    let cells = (0..t.size(&*store))
                        .map(|i| match t.get(&mut *store, i) {
                            Some(Val::FuncRef(f)) => f.is_none(),
                            Some(Val::ExternRef(r)) => r.is_none(),
                            _ => unreachable!("tables hold references"),
                        })
                        .collect();
                    s.tables.push((name, cells));
                }
            }
        }
        s.sort();
        s
    }

    impl Prepared {
        pub fn exported_funcs(&self) -> Vec<(String, Vec<ValType>)> {
            self.module
                .exports()
                .filter_map(|(name, ty)| match ty {
                    wasmguard::ExternType::Func(ft) => Some((name.to_string(), ft.params().collect())),
                    _ => None,
                })
                .collect()
        }

        pub fn run(&self, calls: &[Call]) -> Trace {
            let mut trace = Trace::default();
            let mut store = Store::new(&self.engine, ());
            store.set_limits(StoreLimits {
                memory_size_bytes: MEMORY_BYTES as u64,
                table_elements: TABLE_ELEMENTS as u32,
                ..StoreLimits::default()
            });
            let imports = match crate::dummy_imports(&mut store, &self.module) {
                Ok(imports) => imports,
                Err(_) => {
                    trace.instantiate = Some(Outcome::Trap(Trap::Other));
                    return trace;
                }
            };
            store.set_fuel(FUEL).expect("fuel is on");
            let instance = match Instance::new(&mut store, &self.module, &imports) {
                Ok(i) => i,
                Err(e) => {
                    trace.instantiate = Some(outcome(Err(e)));
                    return trace;
                }
            };
            trace.instantiate = Some(Outcome::Ok(Vec::new()));
            for call in calls {
                let func: Func = instance.get_func(&mut store, &call.name).expect("exported function");
                let ty = func.ty(&store);
                let params: Vec<Val> = call.args.iter().zip(ty.params()).map(|(v, t)| val(v, t)).collect();
                let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
                store.set_fuel(FUEL).expect("fuel is on");
                let r = func.call(&mut store, &params, &mut results).map(|()| results.iter().map(value).collect());
                let o = outcome(r);
                let stop = o.hit_limit();
                let snap = (!stop).then(|| snapshot(&mut store, &instance));
                trace.steps.push((call.name.clone(), o, snap));
                if stop {
                    break;
                }
            }
            trace
        }
    }
}

mod wasmi_side {
    use super::*;
    use wasmi::{
        Engine, Extern, ExternType, Func, Global, Instance, Memory, Module, Ref, Store, StoreLimits,
        StoreLimitsBuilder, Table, TrapCode, Val, ValType,
    };

    pub struct Prepared {
        engine: Engine,
        module: Module,
    }

    pub fn compile(wasm: &[u8]) -> Result<Prepared, wasmi::Error> {
        let mut config = wasmi::Config::default();
        config.consume_fuel(true).wasm_multi_memory(true).wasm_memory64(true).wasm_tail_call(true);
        config.wasm_custom_page_sizes(true).wasm_wide_arithmetic(true);
        let engine = Engine::new(&config);
        let module = Module::new(&engine, wasm)?;
        Ok(Prepared { engine, module })
    }

    fn value(v: &Val) -> Value {
        match v {
            Val::I32(x) => Value::I32(*x),
            Val::I64(x) => Value::I64(*x),
            Val::F32(x) => Value::F32(x.to_bits()),
            Val::F64(x) => Value::F64(x.to_bits()),
            Val::V128(x) => Value::V128(x.as_u128()),
            Val::FuncRef(f) => Value::Ref { null: f.is_null() },
            Val::ExternRef(r) => Value::Ref { null: r.is_null() },
        }
    }

    fn val(v: &Value, ty: &ValType) -> Val {
        match *v {
            Value::I32(x) => Val::I32(x),
            Value::I64(x) => Val::I64(x),
            Value::F32(x) => Val::F32(wasmi::F32::from_bits(x)),
            Value::F64(x) => Val::F64(wasmi::F64::from_bits(x)),
            Value::V128(x) => Val::V128(wasmi::V128::from(x)),
            Value::Ref { .. } => Val::default_for_ty(*ty),
        }
    }

    fn outcome(r: Result<Vec<Value>, wasmi::Error>) -> Outcome {
        match r {
            Ok(v) => Outcome::Ok(v),
            Err(e) => Outcome::Trap(match e.as_trap_code() {
                Some(TrapCode::UnreachableCodeReached) => Trap::Unreachable,
                Some(TrapCode::MemoryOutOfBounds) => Trap::MemoryOutOfBounds,
                Some(TrapCode::TableOutOfBounds) => Trap::TableOutOfBounds,
                Some(TrapCode::IndirectCallToNull) => Trap::IndirectCallToNull,
                Some(TrapCode::BadSignature) => Trap::BadSignature,
                Some(TrapCode::IntegerOverflow) => Trap::IntegerOverflow,
                Some(TrapCode::IntegerDivisionByZero) => Trap::IntegerDivisionByZero,
                Some(TrapCode::BadConversionToInteger) => Trap::BadConversionToInteger,
                Some(TrapCode::StackOverflow | TrapCode::OutOfFuel) => Trap::Limit,
                _ => Trap::Other,
            }),
        }
    }

    fn snapshot(store: &mut Store<StoreLimits>, instance: &Instance) -> Snapshot {
        let mut s = Snapshot { globals: Vec::new(), memories: Vec::new(), tables: Vec::new() };
        let exports: Vec<(String, Extern)> =
            instance.exports(&*store).map(|e| (e.name().to_string(), e.into_extern())).collect();
        for (name, ext) in exports {
            match ext {
                Extern::Global(g) => s.globals.push((name, value(&g.get(&*store)))),
                Extern::Memory(m) => s.memories.push((name, m.data(&*store).to_vec())),
                Extern::Table(t) => {
                    let cells = (0..t.size(&*store))
                        .map(|i| match t.get(&*store, i) {
                            Some(Ref::Func(f)) => f.is_null(),
                            Some(Ref::Extern(r)) => r.is_null(),
                            None => unreachable!("index within size"),
                        })
                        .collect();
                    s.tables.push((name, cells));
                }
                Extern::Func(_) => {}
            }
        }
        s.sort();
        s
    }

    fn dummy_imports(store: &mut Store<StoreLimits>, module: &Module) -> Result<Vec<Extern>, wasmi::Error> {
        let mut imports = Vec::new();
        for import in module.imports() {
            imports.push(match import.ty().clone() {
                ExternType::Func(ft) => {
                    let results: Vec<ValType> = ft.results().to_vec();
                    Func::new(&mut *store, ft, move |_, _, out| {
                        for (slot, t) in out.iter_mut().zip(&results) {
                            *slot = Val::default_for_ty(*t);
                        }
                        Ok(())
                    })
                    .into()
                }
                ExternType::Global(gt) => {
                    Global::new(&mut *store, Val::default_for_ty(gt.content()), gt.mutability()).into()
                }
                ExternType::Table(tt) => Table::new(&mut *store, tt, Ref::default_for_ty(tt.element()))?.into(),
                ExternType::Memory(mt) => Memory::new(&mut *store, mt)?.into(),
            });
        }
        Ok(imports)
    }

    impl Prepared {
        pub fn run(&self, calls: &[Call]) -> Trace {
            let mut trace = Trace::default();
            let limits = StoreLimitsBuilder::new().memory_size(MEMORY_BYTES).table_elements(TABLE_ELEMENTS).build();
            let mut store = Store::new(&self.engine, limits);
            store.limiter(|limits| limits);
            let imports = match dummy_imports(&mut store, &self.module) {
                Ok(imports) => imports,
                Err(_) => {
                    trace.instantiate = Some(Outcome::Trap(Trap::Other));
                    return trace;
                }
            };
            store.set_fuel(FUEL).expect("fuel is on");
            let instance = match Instance::new(&mut store, &self.module, &imports) {
                Ok(i) => i,
                Err(e) => {
                    trace.instantiate = Some(outcome(Err(e)));
                    return trace;
                }
            };
            trace.instantiate = Some(Outcome::Ok(Vec::new()));
            for call in calls {
                let func = instance.get_func(&store, &call.name).expect("exported function");
                let ty = func.ty(&store);
                let params: Vec<Val> = call.args.iter().zip(ty.params()).map(|(v, t)| val(v, t)).collect();
                let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for_ty(*t)).collect();
                store.set_fuel(FUEL).expect("fuel is on");
                let r = func.call(&mut store, &params, &mut results).map(|()| results.iter().map(value).collect());
                let o = outcome(r);
                let stop = o.hit_limit();
                let snap = (!stop).then(|| snapshot(&mut store, &instance));
                trace.steps.push((call.name.clone(), o, snap));
                if stop {
                    break;
                }
            }
            trace
        }
    }
}
