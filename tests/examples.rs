//! Builds and runs every program in `examples/` through cargo, checking that it succeeds and prints what it should.

use std::process::Command;

/// Runs `cargo run --quiet --example name` (in release if this test is) and returns stdout.
fn run_example(name: &str) -> String {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(["run", "--quiet", "--example", name]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let output = cmd.output().unwrap_or_else(|e| panic!("could not run cargo for example `{name}`: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example `{name}` failed with {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Checks that `stdout` contains every line of `expected`, in order.
fn assert_lines(name: &str, stdout: &str, expected: &[&str]) {
    let mut lines = stdout.lines();
    for want in expected {
        assert!(lines.any(|l| l.contains(want)), "example `{name}`: no line with `{want}` (in order) in:\n{stdout}");
    }
}

#[test]
fn hello() {
    let out = run_example("hello");
    assert_eq!(out, "Hello, wasmguard!\n");
}

#[test]
fn memory_new() {
    let out = run_example("memory_new");
    assert_lines(
        "memory_new",
        &out,
        &["unbounded memory: 1 page(s), 65536 bytes", "bounded memory: 1 page(s), maximum Some(3)", "refused:"],
    );
}

#[test]
fn memory_ty() {
    let out = run_example("memory_ty");
    assert_lines(
        "memory_ty",
        &out,
        &[
            "minimum 1, maximum None",
            "minimum 2, maximum Some(5)",
            "after growing by one page: minimum 3, maximum Some(5)",
        ],
    );
}

#[test]
fn memory_grow() {
    let out = run_example("memory_grow");
    assert_lines("memory_grow", &out, &["grew from 1 to 3 pages", "could not grow:", "wasm memory.grow: 1 -> 2 pages"]);
}

#[test]
fn memory_import() {
    let out = run_example("memory_import");
    assert_lines("memory_import", &out, &["the guest wrote [0, 1, 4, 9, 16, 25, 36, 49]"]);
}

#[test]
fn memory_data_unchecked() {
    let out = run_example("memory_data_unchecked");
    assert_lines(
        "memory_data_unchecked",
        &out,
        &["host sum of bytes 0..100: 4950", "guest sum of bytes 0..100: 4950", "safe API: [1, 2, 3, 4]"],
    );
}

#[test]
fn guest_struct() {
    let out = run_example("guest_struct");
    assert_lines(
        "guest_struct",
        &out,
        &[
            "the guest computed 116 from the host's Bounds",
            "Bounds { area: 90.0, far: Point { x: 17, y: 9 }, square: false }",
            "padding zeroed: [0, 0, 0, 0, 0, 0, 0]",
            "hostile pointer refused: out of bounds memory access: 24 bytes at address 0xfffffff0",
        ],
    );
}

#[test]
fn strings() {
    let out = run_example("strings");
    assert_lines(
        "strings",
        &out,
        &[
            "guest said: hello from the guest",
            "guest said: café au lait",
            "guest said: 👋 Hello, guest, from the host!",
            "in 6 bytes: 👋 H",
            "bad_utf8: invalid UTF-8 in guest string of 12 bytes at address 0x60",
            "unterminated: no NUL terminator within 16 bytes at address 0x80",
            "hostile_buffer: out of bounds memory access",
        ],
    );
}

#[test]
fn safe_memory() {
    let out = run_example("safe_memory");
    assert_lines(
        "safe_memory",
        &out,
        &[
            "read back: hello",
            "string read: guest string!",
            "guards: GUEST",
            "grown by wasm to 3 pages; new page reads 0x2a",
            "aliasing &u8 / &mut u8: Err(BorrowConflict { address: 256, len: 1 })",
            "overlapping mutable slices: Err(BorrowConflict { address: 258, len: 4 })",
            "out-of-bounds pointer: Err(OutOfBounds { address: 4294967294, len: 4, memory_size: 196608 })",
        ],
    );
}

#[test]
fn bench_coremark() {
    let out = run_example("bench_coremark");
    assert_lines(
        "bench_coremark",
        &out,
        &["iterations       : 10", "validation       : CRCs match the 2K performance run", "CoreMark (wasmguard):"],
    );
}

#[test]
fn wasi_capture() {
    let out = run_example("wasi_capture");
    assert_lines("wasi_capture", &out, &["captured stdout: argc=3", "exit status: 7"]);
}

#[test]
fn typed_refs() {
    let out = run_example("typed_refs");
    assert_lines(
        "typed_refs",
        &out,
        &[
            "$binop is (func (param i32 i32) (result i32))",
            "apply(6, 7) with add = 13",
            "apply(6, 7) with mul = 42",
            "apply(6, 7) with a host sub = -1",
            "refused: type mismatch: global of type (ref $type0) given a function of type (func (param i32) (result i32))",
            "refused: type mismatch: global of type (ref $type0) given a null funcref",
        ],
    );
}

#[test]
fn exceptions() {
    let out = run_example("exceptions");
    assert_lines(
        "exceptions",
        &out,
        &[
            "parse(\"12345\") = 12345",
            "parse(\"12x45\") failed: parse_error at offset 2",
            "parse(\"\") failed: parse_error at offset 0",
            "lookup_or(1, -1) = 100",
            "lookup_or(2, -1) = 200",
            "lookup_or(3, -1) = -1",
        ],
    );
}

#[test]
fn every_example_is_tested() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_suffix(".rs").map(str::to_owned))
        .collect();
    found.sort();
    let tested = [
        "bench_coremark",
        "exceptions",
        "guest_struct",
        "hello",
        "memory_data_unchecked",
        "memory_grow",
        "memory_import",
        "memory_new",
        "memory_ty",
        "safe_memory",
        "shared_memory_host",
        "shared_memory_threads",
        "strings",
        "typed_refs",
        "wasi_capture",
    ];
    for name in &found {
        assert!(tested.contains(&name.as_str()), "examples/{name}.rs has no test in tests/examples.rs");
    }
}

#[test]
fn shared_memory_threads() {
    let out = run_example("shared_memory_threads");
    assert_lines(
        "shared_memory_threads",
        &out,
        &["consumer received 1000 numbers, sum 499500 (expected 499500)", "last number in the mailbox: 999, flag: 0"],
    );
}

#[test]
fn shared_memory_host() {
    let out = run_example("shared_memory_host");
    assert_lines("shared_memory_host", &out, &["consumer read 5 messages, payload sum 1000", "grew from 1 to 2 pages"]);
}
