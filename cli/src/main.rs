//! The `wasmguard` command-line tool.
//!
//! - `wasmguard wast FILE...` runs `.wast` spec scripts and reports passed/failed directives.
//! - `wasmguard run [--dir HOST[::GUEST]]... [--env K=V]... FILE [ARGS...]` runs a WASI command
//!   (a module exporting `_start`, built for `wasm32-wasip1` or `wasm32-wasi`): `ARGS` are its
//!   arguments, and the exit status is the program's `proc_exit` status (0 if `_start` returns).
//!   A trap prints the trap and the wasm backtrace and exits with 134 (as an abort would).
//! - `wasmguard run [--dir ..] [--env ..] --invoke NAME FILE [ARGS...]` instantiates the module
//!   (text or binary) and calls one of its exported functions with `ARGS` parsed by its
//!   parameter types, printing each result on its own line. A module with neither `_start`
//!   nor `--invoke` is an error naming its exported functions.
//! - For untrusted code, `run` takes `--fuel N`, `--max-memory BYTES` and `--timeout SECONDS`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wasmguard::wasi::{self, WasiCtx, WasiCtxBuilder};
use wasmguard::{Config, Engine, Error, ExternType, Linker, Module, Store, StoreLimits, Val, ValType};

/// The exit status after a trap: what a shell reports for a process killed by `SIGABRT`.
const TRAP_EXIT_STATUS: u8 = 134;

/// A WebAssembly runtime with safe, typed access to guest memory.
#[derive(Parser)]
#[command(name = "wasmguard", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run `.wast` spec scripts and report how many directives passed and failed.
    Wast {
        /// Print every failure under its file.
        #[arg(short, long)]
        verbose: bool,
        #[command(flatten)]
        features: Features,
        /// The scripts to run.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run a WASI command, or call one exported function of a module with `--invoke`.
    Run {
        #[command(flatten)]
        features: Features,
        /// Give the program the host directory HOST, named GUEST inside (default: HOST).
        #[arg(long = "dir", value_name = "HOST[::GUEST]")]
        dirs: Vec<String>,
        /// Set an environment variable of the program.
        #[arg(long = "env", value_name = "K=V")]
        envs: Vec<String>,
        /// The exported function to call (default: `_start`, if exported).
        #[arg(long, value_name = "NAME")]
        invoke: Option<String>,
        #[command(flatten)]
        limits: Limits,
        /// The module, `.wasm` (binary) or `.wat` (text).
        file: PathBuf,
        /// The program's arguments; with `--invoke`, the function's arguments, parsed by its
        /// parameter types (`-1`, `0x10`, `1.5`, `nan`, `-inf`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Bounds for untrusted code.
#[derive(clap::Args)]
struct Limits {
    /// Run with N units of fuel (one per wasm instruction); running out is a trap.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// The largest size of any one linear memory, in bytes (suffixes K, M, G: powers of
    /// 1024); a `memory.grow` past it fails, a larger initial size fails instantiation.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    max_memory: Option<u64>,
    /// Stop the program after this many seconds of wall-clock time (exit status 124, as
    /// `timeout(1)`): the tool exits, so it bounds the time even of a program that waits.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
}

/// The exit status after `--timeout` expires (the one `timeout(1)` uses).
const TIMEOUT_EXIT_STATUS: i32 = 124;

/// Parses a byte count with an optional `K`, `M` or `G` suffix (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.trim().to_ascii_uppercase() {
        t if t.ends_with('K') => (t[..t.len() - 1].to_string(), 10),
        t if t.ends_with('M') => (t[..t.len() - 1].to_string(), 20),
        t if t.ends_with('G') => (t[..t.len() - 1].to_string(), 30),
        t => (t, 0),
    };
    let n: u64 =
        digits.trim().parse().map_err(|_| format!("{text:?} is not a byte count (e.g. 65536, 64K, 256M, 4G)"))?;
    n.checked_mul(1 << shift).ok_or_else(|| format!("{text:?} is too large"))
}

impl Limits {
    /// Applies the fuel switch to the engine configuration.
    fn configure(&self, config: &mut Config) {
        if self.fuel.is_some() {
            config.consume_fuel(true);
        }
    }

    /// Applies the fuel and memory limits to the store, and starts the wall-clock timer.
    fn apply<T>(&self, store: &mut Store<T>) -> Result<(), String> {
        if let Some(fuel) = self.fuel {
            store.set_fuel(fuel).map_err(|e| e.to_string())?;
        }
        if let Some(bytes) = self.max_memory {
            store.set_limits(StoreLimits { memory_size_bytes: bytes, ..store.limits() });
        }
        if let Some(seconds) = self.timeout {
            let limit = std::time::Duration::try_from_secs_f64(seconds)
                .map_err(|_| format!("--timeout {seconds}: expected a number of seconds"))?;
            std::thread::spawn(move || {
                std::thread::sleep(limit);
                eprintln!("error: timed out after {seconds} s (--timeout)");
                std::process::exit(TIMEOUT_EXIT_STATUS);
            });
        }
        Ok(())
    }
}

/// WebAssembly feature switches, shared by the subcommands.
#[derive(clap::Args)]
struct Features {
    /// Turn a WebAssembly feature on or off: `simd`, `reference-types`, `multi-memory`,
    /// `memory64`, `threads`, `extended-const`, `tail-call`, `function-references`,
    /// `custom-page-sizes`, `exceptions`, `relaxed-simd`, `wide-arithmetic`, `gc` (`=y` or `=n`),
    /// or `wasm2` for exactly the WebAssembly 2.0 features. All features but
    /// `custom-page-sizes` and `wide-arithmetic` are on unless turned off.
    #[arg(short = 'W', long = "wasm", value_name = "FEATURE[=y|n]")]
    switches: Vec<String>,
}

impl Features {
    /// The engine configuration these switches describe, applied in order.
    fn config(&self) -> Result<Config, String> {
        let mut config = Config::new();
        for switch in &self.switches {
            let (name, value) = switch.split_once('=').unwrap_or((switch, "y"));
            let on = match value {
                "y" | "yes" | "true" | "on" => true,
                "n" | "no" | "false" | "off" => false,
                _ => return Err(format!("-W {switch}: expected FEATURE=y or FEATURE=n")),
            };
            match name {
                "simd" => config.wasm_simd(on),
                "multi-memory" => config.wasm_multi_memory(on),
                "extended-const" => config.wasm_extended_const(on),
                "tail-call" => config.wasm_tail_call(on),
                "function-references" => config.wasm_function_references(on),
                "custom-page-sizes" => config.wasm_custom_page_sizes(on),
                "exceptions" => config.wasm_exceptions(on),
                "relaxed-simd" => config.wasm_relaxed_simd(on),
                "wide-arithmetic" => config.wasm_wide_arithmetic(on),
                "gc" => config.wasm_gc(on),
                "memory64" => config.wasm_memory64(on),
                "threads" => config.wasm_threads(on),
                "reference-types" => config.wasm_reference_types(on),
                "wasm2" if on => config.wasm2(),
                _ => {
                    return Err(format!(
                        "-W {switch}: unknown feature {name:?} (expected simd, reference-types, multi-memory, memory64, threads, extended-const, tail-call, function-references, custom-page-sizes, exceptions, relaxed-simd, wide-arithmetic, gc or wasm2)"
                    ));
                }
            };
        }
        Ok(config)
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Wast { verbose, features, files } => features.config().and_then(|c| run_wast(&c, &files, verbose)),
        Command::Run { features, dirs, envs, invoke, limits, file, args } => {
            features.config().and_then(|mut config| {
                limits.configure(&mut config);
                wasi_ctx(&file, &dirs, &envs, invoke.is_none().then_some(args.as_slice()))
                    .and_then(|ctx| run_module(&config, &limits, &file, ctx, invoke.as_deref(), &args))
            })
        }
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::FAILURE
    })
}

/// `wasmguard wast`: one summary line per file, then the totals.
fn run_wast(config: &Config, files: &[PathBuf], verbose: bool) -> Result<ExitCode, String> {
    let (mut passed, mut failed, mut broken) = (0, 0, 0);
    for file in files {
        match wasmguard::wast::run_wast_file_with(config, file) {
            Ok(report) => {
                println!("{}: {} passed, {} failed", file.display(), report.passed, report.failed);
                if verbose {
                    for failure in &report.failures {
                        println!("    {failure}");
                    }
                }
                passed += report.passed;
                failed += report.failed;
            }
            Err(err) => {
                broken += 1;
                eprintln!("error: {err}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if broken > 0 {
        println!("{broken} file(s) could not be run");
    }
    Ok(if failed == 0 && broken == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The WASI context of `wasmguard run`: the standard streams are the tool's, the program's
/// arguments are `FILE ARGS...` (`program_args`, only for a command run without
/// `--invoke`).
fn wasi_ctx(file: &Path, dirs: &[String], envs: &[String], program_args: Option<&[String]>) -> Result<WasiCtx, String> {
    let mut builder = WasiCtxBuilder::new().inherit_stdio();
    if let Some(args) = program_args {
        builder = builder.arg(file.to_string_lossy()).args(args);
    }
    for var in envs {
        let (key, value) = var.split_once('=').ok_or_else(|| format!("--env {var:?}: expected K=V"))?;
        builder = builder.env(key, value);
    }
    for dir in dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        builder = builder.preopened_dir(host, guest).map_err(|e| format!("--dir {dir:?}: {e}"))?;
    }
    Ok(builder.build())
}

/// The process exit status for the error a run ended with: the program's `proc_exit`
/// status (modulo 256, as the OS keeps it), or [`TRAP_EXIT_STATUS`] after printing the
/// error and its wasm backtrace.
fn exit_status(error: &Error) -> ExitCode {
    if let Some(code) = wasi::exit_code(error) {
        return ExitCode::from((code & 0xff) as u8);
    }
    eprintln!("error: {error:#}");
    ExitCode::from(TRAP_EXIT_STATUS)
}

/// `wasmguard run`: instantiate with WASI, then run `_start` or call the `--invoke`d
/// function and print its results.
fn run_module(
    config: &Config,
    limits: &Limits,
    file: &Path,
    ctx: WasiCtx,
    invoke: Option<&str>,
    args: &[String],
) -> Result<ExitCode, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let engine = Engine::new(config).map_err(|e| e.to_string())?;
    let mut store = Store::new(&engine, ctx);
    limits.apply(&mut store)?;
    let module = Module::new(&engine, &bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut linker = Linker::new(&engine);
    wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx).map_err(|e| e.to_string())?;
    wasi::add_stubs_for_unknown_imports(&mut linker, &module).map_err(|e| e.to_string())?;
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(instance) => instance,
        // A start function may run the whole program.
        Err(e) if e.wasm_backtrace().is_some() || wasi::exit_code(&e).is_some() => return Ok(exit_status(&e)),
        Err(e) => return Err(format!("cannot instantiate {}: {e:#}", file.display())),
    };

    let name = match invoke {
        Some(name) => {
            if let Some(init) = instance.get_func(&mut store, "_initialize")
                && let Err(e) = init.call(&mut store, &[], &mut [])
            {
                return Ok(exit_status(&e));
            }
            name
        }
        None if instance.get_func(&mut store, "_start").is_some() => {
            let start = instance.get_func(&mut store, "_start").ok_or("no _start")?;
            return Ok(match start.call(&mut store, &[], &mut []) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => exit_status(&e),
            });
        }
        None => {
            let funcs: Vec<&str> =
                module.exports().filter(|(_, ty)| matches!(ty, ExternType::Func(_))).map(|(name, _)| name).collect();
            let exports = if funcs.is_empty() { "none".to_string() } else { funcs.join(", ") };
            return Err(format!(
                "{} exports no `_start` function to run: pass --invoke NAME to call one of its exported functions ({exports})",
                file.display()
            ));
        }
    };
    let func = match instance.get_export(&mut store, name) {
        Some(export) => export.into_func().ok_or_else(|| format!("export {name:?} is not a function"))?,
        None => return Err(format!("{} has no export named {name:?}", file.display())),
    };
    let ty = func.ty(&store);
    if ty.params().len() != args.len() {
        return Err(format!("{name} takes {} argument(s) {ty}, {} given", ty.params().len(), args.len()));
    }
    let params = ty
        .params()
        .zip(args)
        .enumerate()
        .map(|(i, (param, arg))| parse_arg(arg, param).map_err(|e| format!("argument {} ({arg:?}): {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
    if let Err(e) = func.call(&mut store, &params, &mut results) {
        if wasi::exit_code(&e).is_some() {
            return Ok(exit_status(&e));
        }
        return Err(format!("{e:#}"));
    }
    for value in &results {
        println!("{}", format_val(value));
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses a command-line argument as a value of type `ty`.
fn parse_arg(text: &str, ty: ValType) -> Result<Val, String> {
    Ok(match ty {
        ValType::I32 => {
            let v = parse_int(text, i128::from(i32::MIN), i128::from(u32::MAX))?;
            // Keeps the low 32 bits: 0xffffffff is -1. In range by the check above.
            Val::I32(v as u32 as i32)
        }
        ValType::I64 => {
            let v = parse_int(text, i128::from(i64::MIN), i128::from(u64::MAX))?;
            Val::I64(v as u64 as i64)
        }
        ValType::F32 => Val::F32(parse_float::<f32>(text)?.to_bits()),
        ValType::F64 => Val::F64(parse_float::<f64>(text)?.to_bits()),
        ValType::V128 => Val::V128(parse_v128(text)?),
        ValType::FuncRef | ValType::ExternRef | ValType::Ref(_) => {
            if text != "null" || !ty.as_ref_type().is_some_and(|r| r.is_nullable()) {
                return Err(format!("only `null` can be passed as a {ty}, and only if it is nullable"));
            }
            Val::default_for(ty)
        }
    })
}

/// Parses a `v128`: `0x` and up to 32 hex digits (lane 0 in the lowest bits), or a lane shape
/// and its lanes, lane 0 first: `i8x16:`, `i16x8:`, `i32x4:`, `i64x2:` (integers, signed or
/// unsigned, decimal or `0x` hex), `f32x4:`, `f64x2:` (floats as for `f32` / `f64`), with the
/// lanes separated by commas, e.g. `i32x4:1,-2,0xff,4` or `f64x2:1.5,nan`.
fn parse_v128(text: &str) -> Result<u128, String> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        if hex.is_empty() || hex.starts_with(['+', '-']) {
            return Err("not a v128: expected hex digits after 0x".to_string());
        }
        return u128::from_str_radix(hex, 16).map_err(|_| "not a v128: at most 32 hex digits".to_string());
    }
    let Some((shape, lanes)) = text.split_once(':') else {
        return Err("not a v128: expected 0x<hex> or <shape>:<lanes>, e.g. i32x4:1,2,3,4".to_string());
    };
    let (bits, count): (u32, usize) = match shape {
        "i8x16" => (8, 16),
        "i16x8" => (16, 8),
        "i32x4" | "f32x4" => (32, 4),
        "i64x2" | "f64x2" => (64, 2),
        _ => return Err(format!("unknown v128 lane shape `{shape}`")),
    };
    let lanes: Vec<&str> = lanes.split(',').map(str::trim).collect();
    if lanes.len() != count {
        return Err(format!("{shape} needs {count} lanes, got {}", lanes.len()));
    }
    let mut value = 0u128;
    for (i, lane) in lanes.iter().enumerate() {
        let bits_of_lane: u128 = match shape {
            "f32x4" => u128::from(parse_float::<f32>(lane)?.to_bits()),
            "f64x2" => u128::from(parse_float::<f64>(lane)?.to_bits()),
            _ => {
                let min = -(1i128 << (bits - 1));
                let max = (1i128 << bits) - 1;
                let v = parse_int(lane, min, max).map_err(|e| format!("lane {i}: {e}"))?;
                // Two's complement in the lane's width: in range by the check above.
                (v as u128) & ((1u128 << bits) - 1)
            }
        };
        value |= bits_of_lane << (bits * i as u32);
    }
    Ok(value)
}

/// Parses a decimal or `0x` hexadecimal integer, optionally negative, within `min..=max`.
fn parse_int(text: &str, min: i128, max: i128) -> Result<i128, String> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.starts_with(['+', '-']) {
        return Err("not an integer".to_string());
    }
    let magnitude = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => i128::from_str_radix(hex, 16),
        None => digits.parse::<i128>(),
    }
    .map_err(|_| "not an integer".to_string())?;
    let value = if negative { -magnitude } else { magnitude };
    if value < min || value > max {
        return Err("integer out of range".to_string());
    }
    Ok(value)
}

/// Parses a decimal float, `nan`, `inf` or `-inf`.
fn parse_float<F: std::str::FromStr>(text: &str) -> Result<F, String> {
    text.parse::<F>().map_err(|_| "not a number".to_string())
}

/// Formats a result: integers signed decimal, floats with `Display`, `v128` as `0x` and 32 hex
/// digits (lane 0 in the lowest bits), references `null` / `ref`.
fn format_val(value: &Val) -> String {
    match value {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(v) => format!("0x{v:032x}"),
        v if v.is_null() => "null".to_string(),
        _ => "ref".to_string(),
    }
}
