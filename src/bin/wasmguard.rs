//! The `wasmguard` command-line tool.
//!
//! - `wasmguard wast FILE...` runs `.wast` spec scripts and reports passed/failed directives.
//! - `wasmguard run FILE --invoke NAME [ARGS...]` instantiates a module (text or binary) and calls
//!   one of its exported functions, printing each result on its own line. Without `--invoke` it
//!   calls `_start` if the module exports it, and otherwise only instantiates the module.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wasmguard::{Engine, Linker, Module, Store, Val, ValType};

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
        /// The scripts to run.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Instantiate a module and call one of its exported functions.
    Run {
        /// The module, `.wasm` (binary) or `.wat` (text).
        file: PathBuf,
        /// The exported function to call (default: `_start`, if exported).
        #[arg(long, value_name = "NAME")]
        invoke: Option<String>,
        /// Arguments, parsed by the function's parameter types (`-1`, `0x10`, `1.5`, `nan`, `-inf`).
        #[arg(allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Wast { verbose, files } => run_wast(&files, verbose),
        Command::Run { file, invoke, args } => run_module(&file, invoke.as_deref(), &args),
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::FAILURE
    })
}

/// `wasmguard wast`: one summary line per file, then the totals.
fn run_wast(files: &[PathBuf], verbose: bool) -> Result<ExitCode, String> {
    let (mut passed, mut failed, mut broken) = (0, 0, 0);
    for file in files {
        match wasmguard::wast::run_wast_file(file) {
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

/// `wasmguard run`: instantiate, call, print the results.
fn run_module(file: &Path, invoke: Option<&str>, args: &[String]) -> Result<ExitCode, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, &bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    let linker = Linker::new(&engine);
    let instance =
        linker.instantiate(&mut store, &module).map_err(|e| format!("cannot instantiate {}: {e:#}", file.display()))?;

    let name = match invoke {
        Some(name) => name,
        None if instance.get_func(&mut store, "_start").is_some() => "_start",
        None if args.is_empty() => return Ok(ExitCode::SUCCESS),
        None => return Err("arguments given without --invoke".to_string()),
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
    func.call(&mut store, &params, &mut results).map_err(|e| format!("{e:#}"))?;
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
        ValType::V128 => {
            let v = parse_int(text, 0, i128::MAX)?;
            Val::V128(v as u128)
        }
        ValType::FuncRef | ValType::ExternRef => {
            if text != "null" {
                return Err(format!("only `null` can be passed as a {ty}"));
            }
            if ty == ValType::FuncRef { Val::FuncRef(None) } else { Val::ExternRef(None) }
        }
    })
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

/// Formats a result: integers signed decimal, floats with `Display`, references `null` / `ref`.
fn format_val(value: &Val) -> String {
    match value {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(v) => format!("0x{v:032x}"),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
        Val::FuncRef(Some(_)) | Val::ExternRef(Some(_)) => "ref".to_string(),
    }
}
