//! Spec-script (`.wast`) runner.
//!
//! A `.wast` script is the format of the official WebAssembly spec tests: a list of directives
//! that define and instantiate modules, call their exports and assert on the outcome (results,
//! traps, validation or link errors). This module runs such scripts against wasmguard's public
//! API only — it is a client of the runtime like any other — and counts every directive as one
//! pass or one failure, so that a failing directive never stops the rest of the script.
//!
//! Before each script the `spectest` host module the spec tests import from is defined:
//! `print*` functions (which print nothing), the globals `global_i32`, `global_i64`,
//! `global_f32` and `global_f64` (all 666 or 666.6), the table `table` (funcref, 10..20) and
//! the memory `memory` (1..2 pages).
//!
//! ```
//! let report = wasmguard::wast::run_wast_str(
//!     "add.wast",
//!     r#"(module (func (export "add") (param i32 i32) (result i32)
//!            local.get 0 local.get 1 i32.add))
//!        (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))"#,
//! )?;
//! assert_eq!((report.passed, report.failed), (2, 0));
//! # Ok::<(), wasmguard::Error>(())
//! ```

use std::any::Any;
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{F32, F64, Id};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

use crate::exec::state::ExternRef;
use crate::{
    AnyRef, Config, Engine, Error, Global, GlobalType, Instance, Linker, Memory, MemoryType, Module, Mutability,
    RefType, SharedMemory, Store, Table, TableType, TrapCode, Val, ValType,
};

/// Outcome of one script: how many directives passed and failed, and why each failure failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WastReport {
    /// Number of directives that behaved as the script expects.
    pub passed: usize,
    /// Number of directives that did not.
    pub failed: usize,
    /// One message per failed directive, `"line:col: message"` (1-based) in script order.
    pub failures: Vec<String>,
}

impl WastReport {
    /// Whether every directive of the script passed.
    pub fn is_success(&self) -> bool {
        self.failed == 0
    }
}

/// Runs a `.wast` script given as text; `name` is used in error messages.
///
/// Every directive counts as one pass or one failure (a module that should compile and
/// instantiate counts too); failures are collected in the report and never stop the script.
///
/// # Errors
///
/// Only if the script itself cannot be lexed or parsed (or, which would be a bug, the `spectest`
/// host module cannot be set up). Failing directives are reported in the [`WastReport`].
pub fn run_wast_str(name: &str, text: &str) -> Result<WastReport, Error> {
    run_wast_str_with(&Config::default(), name, text)
}

/// As [`run_wast_str`], with modules compiled under `config` (for example
/// [`Config::wasm2`] for the WebAssembly 2.0 suite, which asserts that later features are
/// invalid).
///
/// # Errors
///
/// As [`run_wast_str`], and if `config` is rejected by [`Engine::new`].
pub fn run_wast_str_with(config: &Config, name: &str, text: &str) -> Result<WastReport, Error> {
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = ParseBuffer::new_with_lexer(lexer).map_err(|e| script_error(name, text, e))?;
    let script = parser::parse::<Wast<'_>>(&buffer).map_err(|e| script_error(name, text, e))?;

    let mut runner = Runner::new(config)?;
    let mut report = WastReport::default();
    for directive in script.directives {
        let (line, col) = directive.span().linecol_in(text);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| runner.run(directive)))
            .unwrap_or_else(|payload| Err(format!("panicked: {}", panic_message(&*payload))));
        match outcome {
            Ok(()) => report.passed += 1,
            Err(message) => {
                report.failed += 1;
                report.failures.push(format!("{}:{}: {message}", line + 1, col + 1));
            }
        }
    }
    Ok(report)
}

/// Reads the `.wast` script at `path` and runs it with [`run_wast_str`].
///
/// # Errors
///
/// If the file cannot be read, or as [`run_wast_str`].
pub fn run_wast_file(path: &Path) -> Result<WastReport, Error> {
    run_wast_file_with(&Config::default(), path)
}

/// As [`run_wast_file`], with modules compiled under `config`.
///
/// # Errors
///
/// As [`run_wast_file`] and [`run_wast_str_with`].
pub fn run_wast_file_with(config: &Config, path: &Path) -> Result<WastReport, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::msg(format!("cannot read {}: {e}", path.display())))?;
    run_wast_str_with(config, &path.display().to_string(), &text)
}

/// A script-level parse error, rendered with file name, line and column.
fn script_error(name: &str, text: &str, mut err: wast::Error) -> Error {
    err.set_path(Path::new(name));
    err.set_text(text);
    Error::msg(err)
}

/// The text of a caught panic's payload.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string payload)")
}

/// Result of one directive: `Err` carries the failure message.
type Outcome = Result<(), String>;

/// Why executing an action (invoke, get, instantiate) did not produce values.
enum ExecError {
    /// The action could not be set up: missing instance or export, bad arguments, a module that
    /// does not compile. Never what an assertion expects.
    Setup(String),
    /// The runtime returned an error while running it (a trap, a link error).
    Run(Error),
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::Setup(message) => f.write_str(message),
            ExecError::Run(err) => write!(f, "{err}"),
        }
    }
}

/// The state of one running script.
struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recently instantiated module, the target of unnamed actions.
    current: Option<Instance>,
    /// Instances by their `$id`.
    instances: HashMap<String, Instance>,
    /// Compiled `(module definition ...)` modules by `$id`.
    definitions: HashMap<String, Module>,
    /// The most recent `(module definition ...)`, for `(module instance)` without a module name.
    last_definition: Option<Module>,
}

impl Runner {
    /// A fresh engine, store and linker with the `spectest` module defined.
    fn new(config: &Config) -> Result<Self, Error> {
        let engine = Engine::new(config)?;
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        define_spectest(&mut linker, &mut store)?;
        Ok(Runner {
            engine,
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
        })
    }

    /// Runs one directive.
    fn run(&mut self, directive: WastDirective<'_>) -> Outcome {
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let compiled = self.compile(&mut module)?;
                let instance = self
                    .linker
                    .instantiate(&mut self.store, &compiled)
                    .map_err(|e| format!("instantiation failed: {e}"))?;
                self.set_current(name, instance);
                Ok(())
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let compiled = self.compile(&mut module)?;
                if let Some(name) = name {
                    self.definitions.insert(name, compiled.clone());
                }
                self.last_definition = Some(compiled);
                Ok(())
            }
            WastDirective::ModuleInstance { instance, module, .. } => {
                let compiled = match module {
                    Some(id) => self.definitions.get(id.name()),
                    None => self.last_definition.as_ref(),
                }
                .ok_or_else(|| format!("unknown module definition {}", id_text(module)))?;
                let new_instance = self
                    .linker
                    .instantiate(&mut self.store, compiled)
                    .map_err(|e| format!("instantiation failed: {e}"))?;
                self.set_current(instance.map(|id| id.name().to_string()), new_instance);
                Ok(())
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.linker
                    .instance(&mut self.store, name, instance)
                    .map_err(|e| format!("register {name:?} failed: {e}"))?;
                Ok(())
            }
            WastDirective::Invoke(invoke) => {
                self.invoke(&invoke).map(drop).map_err(|e| format!("invoke {:?} failed: {e}", invoke.name))
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let values = self.execute(exec).map_err(|e| format!("expected a return, got error: {e}"))?;
                check_results(&values, &results)
            }
            WastDirective::AssertTrap { exec, message, .. } => expect_trap_result(self.execute(exec), message),
            WastDirective::AssertExhaustion { call, message, .. } => expect_trap_result(self.invoke(&call), message),
            WastDirective::AssertException { exec, .. } => match self.execute(exec) {
                Ok(values) => Err(format!("expected an exception, got {}", describe_vals(&values))),
                Err(ExecError::Setup(setup)) => Err(setup),
                Err(ExecError::Run(err)) if err.exception().is_some() => Ok(()),
                Err(ExecError::Run(err)) => Err(format!("expected an exception, got error: {err}")),
            },
            WastDirective::AssertInvalid { module, message, .. } => {
                self.expect_compile_error("invalid", module, message)
            }
            WastDirective::AssertMalformed { module, message, .. } => {
                self.expect_compile_error("malformed", module, message)
            }
            WastDirective::AssertUnlinkable { module, message, .. } => self.expect_unlinkable(module, message),
            other => Err(format!("unsupported directive: {}", directive_name(&other))),
        }
    }

    /// Makes `instance` the current one, and records it under `name` if it has one.
    fn set_current(&mut self, name: Option<String>, instance: Instance) {
        if let Some(name) = name {
            self.instances.insert(name, instance);
        }
        self.current = Some(instance);
    }

    /// The instance named `id`, or the current one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<Instance, String> {
        match id {
            Some(id) => {
                self.instances.get(id.name()).copied().ok_or_else(|| format!("unknown instance ${}", id.name()))
            }
            None => self.current.ok_or_else(|| "no module instantiated yet".to_string()),
        }
    }

    /// Encodes and compiles a module of the script.
    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module, String> {
        let bytes = module.encode().map_err(|e| format!("module text does not parse: {}", e.message()))?;
        Module::new(&self.engine, &bytes).map_err(|e| format!("module does not compile: {e}"))
    }

    /// Runs an action and returns the values it produced.
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>, ExecError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module).map_err(ExecError::Setup)?;
                let global = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| ExecError::Setup(format!("no exported global {global:?}")))?;
                Ok(vec![global.get(&self.store)])
            }
            WastExecute::Wat(mut wat) => {
                let bytes = wat
                    .encode()
                    .map_err(|e| ExecError::Setup(format!("module text does not parse: {}", e.message())))?;
                let module = Module::new(&self.engine, &bytes)
                    .map_err(|e| ExecError::Setup(format!("module does not compile: {e}")))?;
                self.linker.instantiate(&mut self.store, &module).map_err(ExecError::Run)?;
                Ok(Vec::new())
            }
        }
    }

    /// Calls an exported function with the script's arguments.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, ExecError> {
        let instance = self.instance(invoke.module).map_err(ExecError::Setup)?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| ExecError::Setup(format!("no exported function {:?}", invoke.name)))?;
        let ty = func.ty(&self.store);
        if ty.params().len() != invoke.args.len() {
            return Err(ExecError::Setup(format!(
                "{:?} takes {} arguments, the script passes {}",
                invoke.name,
                ty.params().len(),
                invoke.args.len()
            )));
        }
        let args = invoke.args.iter().map(arg_to_val).collect::<Result<Vec<_>, _>>().map_err(ExecError::Setup)?;
        let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
        func.call(&mut self.store, &args, &mut results).map_err(ExecError::Run)?;
        Ok(results)
    }

    /// `assert_invalid` / `assert_malformed`: the module must be rejected, in any way.
    fn expect_compile_error(&self, kind: &str, mut module: QuoteWat<'_>, message: &str) -> Outcome {
        // A text module the text parser rejects counts as rejected.
        let Ok(bytes) = module.encode() else {
            return Ok(());
        };
        match Module::new(&self.engine, &bytes) {
            Ok(_) => Err(format!("expected the module to be {kind} ({message:?}), but it compiled")),
            Err(_) => Ok(()),
        }
    }

    /// `assert_unlinkable`: the module must compile, and instantiating it must fail.
    fn expect_unlinkable(&mut self, mut module: Wat<'_>, message: &str) -> Outcome {
        let bytes = module.encode().map_err(|e| format!("module text does not parse: {}", e.message()))?;
        let module = Module::new(&self.engine, &bytes).map_err(|e| format!("module does not compile: {e}"))?;
        match self.linker.instantiate(&mut self.store, &module) {
            Ok(_) => Err(format!("expected a link error ({message:?}), but it instantiated")),
            Err(e) if e.is_link() => Ok(()),
            Err(e) => Err(format!("expected a link error ({message:?}), got: {e}")),
        }
    }
}

/// `assert_trap` / `assert_exhaustion`: the action must fail with the expected trap.
fn expect_trap_result(result: Result<Vec<Val>, ExecError>, message: &str) -> Outcome {
    match result {
        Ok(values) => Err(format!("expected trap {message:?}, got {}", describe_vals(&values))),
        Err(ExecError::Setup(setup)) => Err(setup),
        Err(ExecError::Run(err)) if trap_matches(&err, message) => Ok(()),
        Err(ExecError::Run(err)) => Err(format!("expected trap {message:?}, got error: {err}")),
    }
}

/// Whether `err` is the trap the spec describes as `expected`.
///
/// The error's text must contain the spec's message (a trailing number, as in
/// "uninitialized element 2", is optional), or its trap code must map to it.
fn trap_matches(err: &Error, expected: &str) -> bool {
    let text = err.to_string();
    let base = expected.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ');
    if text.contains(expected) || (!base.is_empty() && text.contains(base)) {
        return true;
    }
    err.trap_code().is_some_and(|code| code_matches(code, base))
}

/// Whether `code` is the trap the spec describes by `message`.
fn code_matches(code: TrapCode, message: &str) -> bool {
    let prefixes: &[&str] = match code {
        TrapCode::UnreachableCodeReached => &["unreachable"],
        TrapCode::MemoryOutOfBounds => &["out of bounds memory access"],
        TrapCode::TableOutOfBounds => &["out of bounds table access", "undefined element"],
        TrapCode::IndirectCallToNull => &["uninitialized element"],
        TrapCode::BadSignature => &["indirect call type mismatch"],
        TrapCode::IntegerOverflow => &["integer overflow"],
        TrapCode::IntegerDivisionByZero => &["integer divide by zero"],
        TrapCode::BadConversionToInteger => &["invalid conversion to integer"],
        TrapCode::StackOverflow => &["call stack exhausted"],
        TrapCode::UnalignedAtomic => &["unaligned atomic"],
        TrapCode::AtomicWaitOnUnsharedMemory => &["expected shared memory"],
        TrapCode::NullFunctionReference => &["null function reference"],
        TrapCode::NullReference => &["null reference"],
        TrapCode::NullI31Reference => &["null i31 reference"],
        TrapCode::CastFailure => &["cast failure"],
        TrapCode::NullStructReference => &["null structure reference"],
        TrapCode::NullArrayReference => &["null array reference"],
        TrapCode::ArrayOutOfBounds => &["out of bounds array access"],
        _ => &[],
    };
    prefixes.iter().any(|prefix| message.starts_with(prefix))
}

/// Converts an `invoke` argument to a value.
fn arg_to_val(arg: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(arg) = arg else {
        return Err("component-model arguments are not supported".to_string());
    };
    Ok(match arg {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(heap) => null_of(heap),
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(*n))),
        WastArgCore::RefHost(n) => Val::AnyRef(Some(AnyRef::from_extern(&ExternRef::new(*n)))),
    })
}

/// The null reference of a heap type's hierarchy (a concrete type is taken for a function
/// type: only those are referenced from the scripts' arguments and results).
fn null_of(heap: &HeapType<'_>) -> Val {
    use AbstractHeapType as A;
    match heap {
        HeapType::Abstract { ty: A::Func | A::NoFunc, .. } | HeapType::Concrete(_) | HeapType::Exact(_) => {
            Val::FuncRef(None)
        }
        HeapType::Abstract { ty: A::Extern | A::NoExtern, .. } => Val::ExternRef(None),
        HeapType::Abstract { ty: A::Exn | A::NoExn, .. } => Val::ExnRef(None),
        HeapType::Abstract { .. } => Val::AnyRef(None),
    }
}

/// Whether `value` is the null of `heap`'s hierarchy (of any, without a heap type).
fn null_matches(heap: Option<&HeapType<'_>>, value: &Val) -> bool {
    value.is_null() && heap.is_none_or(|h| std::mem::discriminant(&null_of(h)) == std::mem::discriminant(value))
}

/// `assert_return`: compares every result with its expectation.
fn check_results(actual: &[Val], expected: &[WastRet<'_>]) -> Outcome {
    if actual.len() != expected.len() {
        return Err(format!("expected {} results, got {}: {}", expected.len(), actual.len(), describe_vals(actual)));
    }
    for (i, (value, expected)) in actual.iter().zip(expected).enumerate() {
        let WastRet::Core(expected) = expected else {
            return Err("component-model results are not supported".to_string());
        };
        if !val_matches(value, expected) {
            return Err(format!("result {i}: expected {}, got {}", describe_ret(expected), describe_val(value)));
        }
    }
    Ok(())
}

/// Whether `value` matches the expected result pattern.
fn val_matches(value: &Val, expected: &WastRetCore<'_>) -> bool {
    match (expected, value) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => f32_matches(e, *a),
        (WastRetCore::F64(e), Val::F64(a)) => f64_matches(e, *a),
        (WastRetCore::V128(e), Val::V128(a)) => v128_matches(e, *a),
        (WastRetCore::RefNull(heap), v) => null_matches(heap.as_ref(), v),
        (WastRetCore::RefExtern(None), Val::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(n)), Val::ExternRef(Some(r))) => r.data().downcast_ref::<u32>() == Some(n),
        (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
        (WastRetCore::RefAny, Val::AnyRef(Some(_))) => true,
        (WastRetCore::RefEq, Val::AnyRef(Some(a))) => !a.is_host(),
        (WastRetCore::RefI31, Val::AnyRef(Some(a))) => a.is_i31(),
        (WastRetCore::RefStruct, Val::AnyRef(Some(a))) => a.is_struct(),
        (WastRetCore::RefArray, Val::AnyRef(Some(a))) => a.is_array(),
        (WastRetCore::RefHost(n), Val::AnyRef(Some(a))) => {
            a.is_host() && a.to_extern().data().downcast_ref::<u32>() == Some(n)
        }
        (WastRetCore::Either(cases), _) => cases.iter().any(|case| val_matches(value, case)),
        _ => false,
    }
}

/// Sign bit cleared, exponent all ones, only the top fraction bit set.
const F32_CANONICAL_NAN: u32 = 0x7fc0_0000;
const F64_CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

fn f32_matches(expected: &NanPattern<F32>, bits: u32) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == F32_CANONICAL_NAN,
        NanPattern::ArithmeticNan => bits & F32_CANONICAL_NAN == F32_CANONICAL_NAN,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(expected: &NanPattern<F64>, bits: u64) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == F64_CANONICAL_NAN,
        NanPattern::ArithmeticNan => bits & F64_CANONICAL_NAN == F64_CANONICAL_NAN,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Lane `i` of width `bits` of a v128 (lane 0 in the lowest bits), zero-extended.
fn lane(v: u128, bits: u32, i: usize) -> u128 {
    let shift = bits as usize * i;
    (v >> shift) & (u128::MAX >> (128 - bits))
}

fn v128_matches(expected: &V128Pattern, v: u128) -> bool {
    // The `as` casts below keep exactly a lane's bits, reinterpreted as the lane's type.
    match expected {
        V128Pattern::I8x16(lanes) => lanes.iter().enumerate().all(|(i, e)| lane(v, 8, i) as u8 as i8 == *e),
        V128Pattern::I16x8(lanes) => lanes.iter().enumerate().all(|(i, e)| lane(v, 16, i) as u16 as i16 == *e),
        V128Pattern::I32x4(lanes) => lanes.iter().enumerate().all(|(i, e)| lane(v, 32, i) as u32 as i32 == *e),
        V128Pattern::I64x2(lanes) => lanes.iter().enumerate().all(|(i, e)| lane(v, 64, i) as u64 as i64 == *e),
        V128Pattern::F32x4(lanes) => lanes.iter().enumerate().all(|(i, e)| f32_matches(e, lane(v, 32, i) as u32)),
        V128Pattern::F64x2(lanes) => lanes.iter().enumerate().all(|(i, e)| f64_matches(e, lane(v, 64, i) as u64)),
    }
}

fn describe_vals(values: &[Val]) -> String {
    let items: Vec<String> = values.iter().map(describe_val).collect();
    format!("[{}]", items.join(", "))
}

fn describe_val(value: &Val) -> String {
    match value {
        Val::I32(v) => format!("i32 {v}"),
        Val::I64(v) => format!("i64 {v}"),
        Val::F32(bits) => format!("f32 {} (0x{bits:08x})", f32::from_bits(*bits)),
        Val::F64(bits) => format!("f64 {} (0x{bits:016x})", f64::from_bits(*bits)),
        Val::V128(v) => format!("v128 0x{v:032x}"),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(r)) => match r.data().downcast_ref::<u32>() {
            Some(n) => format!("ref.extern {n}"),
            None => "ref.extern (host value)".to_string(),
        },
        Val::ExnRef(None) => "ref.null exn".to_string(),
        Val::ExnRef(Some(_)) => "ref.exn".to_string(),
        Val::AnyRef(None) => "ref.null any".to_string(),
        Val::AnyRef(Some(a)) => match a.as_i31() {
            Some(v) => format!("ref.i31 {}", v.get_u32()),
            None if a.is_struct() => "ref.struct".to_string(),
            None if a.is_array() => "ref.array".to_string(),
            None => "ref.host".to_string(),
        },
    }
}

fn describe_nan_pattern<T>(pattern: &NanPattern<T>, ty: &str, show: impl Fn(&T) -> String) -> String {
    match pattern {
        NanPattern::CanonicalNan => format!("{ty} nan:canonical"),
        NanPattern::ArithmeticNan => format!("{ty} nan:arithmetic"),
        NanPattern::Value(v) => format!("{ty} {}", show(v)),
    }
}

fn describe_ret(expected: &WastRetCore<'_>) -> String {
    match expected {
        WastRetCore::I32(v) => format!("i32 {v}"),
        WastRetCore::I64(v) => format!("i64 {v}"),
        WastRetCore::F32(p) => {
            describe_nan_pattern(p, "f32", |v| format!("{} (0x{:08x})", f32::from_bits(v.bits), v.bits))
        }
        WastRetCore::F64(p) => {
            describe_nan_pattern(p, "f64", |v| format!("{} (0x{:016x})", f64::from_bits(v.bits), v.bits))
        }
        WastRetCore::V128(p) => format!("v128 {p:?}"),
        WastRetCore::RefNull(_) => "ref.null".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::Either(cases) => {
            let items: Vec<String> = cases.iter().map(describe_ret).collect();
            format!("either({})", items.join(" | "))
        }
        other => format!("{other:?} (unsupported)"),
    }
}

/// The id's text for messages, or `(none)`.
fn id_text(id: Option<Id<'_>>) -> String {
    id.map_or_else(|| "(none)".to_string(), |id| format!("${}", id.name()))
}

/// The keyword of a directive, for "unsupported directive" messages.
fn directive_name(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// Defines the `spectest` host module the spec tests import from.
fn define_spectest(linker: &mut Linker<()>, store: &mut Store<()>) -> Result<(), Error> {
    linker.func_wrap("spectest", "print", || {})?;
    linker.func_wrap("spectest", "print_i32", |_: i32| {})?;
    linker.func_wrap("spectest", "print_i64", |_: i64| {})?;
    linker.func_wrap("spectest", "print_f32", |_: f32| {})?;
    linker.func_wrap("spectest", "print_f64", |_: f64| {})?;
    linker.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})?;
    linker.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})?;

    let globals = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6_f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6_f64.to_bits())),
    ];
    for (name, ty, value) in globals {
        let global = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), value)?;
        linker.define(&mut *store, "spectest", name, global)?;
    }

    let table = Table::new(&mut *store, TableType::new(RefType::FuncRef, 10, Some(20)), Val::FuncRef(None))?;
    linker.define(&mut *store, "spectest", "table", table)?;
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define(&mut *store, "spectest", "memory", memory)?;
    let engine = store.engine().clone();
    if engine.config().threads_enabled() {
        let shared = SharedMemory::new(&engine, MemoryType::shared(1, 2))?;
        linker.define(&mut *store, "spectest", "shared_memory", shared)?;
    }
    Ok(())
}
