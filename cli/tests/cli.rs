//! The `wasmguard` command-line tool: the WASI programs of the library's `tests/wasi/` run
//! through the binary with the same standard output and exit status as natively
//! (`tests/wasi/expected/`), and `run --invoke` prints the results of an exported function.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The library's WASI fixtures, shared with its `tests/wasi.rs`.
fn wasi_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/wasi")
}

#[path = "../../tests/wasi/fixtures.rs"]
mod fixtures;
use fixtures::{ENV, cases, expected, fixture};

/// Runs the `wasmguard` binary.
fn cli(args: &[&str], cwd: &Path) -> (String, i32, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_wasmguard")).args(args).current_dir(cwd).output().expect("run wasmguard");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_runs_programs_like_natively() {
    for case in cases() {
        if !["hello", "args_env", "copy", "exit3", "abort", "exit42", "escape"].contains(&case.name.as_str()) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        fixture(dir.path(), &case.fixture);
        let wasm = wasi_dir().join("wasm").join(format!("{}.wasm", case.name));
        let preopen = format!("{}::data", dir.path().join("data").display());
        let mut args = vec!["run".to_owned(), "--dir".to_owned(), preopen];
        for (k, v) in ENV {
            args.extend(["--env".to_owned(), format!("{k}={v}")]);
        }
        args.push(wasm.display().to_string());
        args.extend(case.args.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (stdout, status, stderr) = cli(&args, dir.path());
        let (want_stdout, want_status) = expected(&case.name);
        assert_eq!((stdout.as_str(), status), (want_stdout.as_str(), want_status), "{}: stderr {stderr}", case.name);
        if case.name == "abort" {
            // The trap and the wasm backtrace, with names from the name section.
            assert!(stderr.contains("unreachable") && stderr.contains("wasm backtrace:"), "{stderr}");
            assert!(stderr.contains("abort") && stderr.contains("main"), "{stderr}");
        }
    }
}

#[test]
fn cli_invoke_still_prints_results() {
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("add.wat");
    std::fs::write(
        &wat,
        r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#,
    )
    .unwrap();
    let (stdout, status, _) = cli(&["run", wat.to_str().unwrap(), "--invoke", "add", "2", "-5"], dir.path());
    assert_eq!((stdout.as_str(), status), ("-3\n", 0));
    let (stdout, status, _) = cli(&["run", "--invoke", "add", wat.to_str().unwrap(), "40", "2"], dir.path());
    assert_eq!((stdout.as_str(), status), ("42\n", 0));
}

/// Bounds for untrusted code: fuel, a memory limit, a wall-clock timeout; and a module with
/// nothing to run is an error, not a silent success.
#[test]
fn cli_bounds_untrusted_code() {
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("m.wat");
    std::fs::write(
        &wat,
        r#"(module (memory (export "memory") 1)
             (func (export "spin") (loop $l (br $l)))
             (func (export "grow") (result i32) (memory.grow (i32.const 100))))"#,
    )
    .unwrap();
    let m = wat.to_str().unwrap();
    let (_, status, stderr) = cli(&["run", m], dir.path());
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("no `_start`") && stderr.contains("spin, grow"), "{stderr}");

    let (_, status, stderr) = cli(&["run", "--fuel", "10000", "--invoke", "spin", m], dir.path());
    assert_ne!(status, 0);
    assert!(stderr.contains("fuel"), "{stderr}");

    let (stdout, status, _) = cli(&["run", "--invoke", "grow", m], dir.path());
    assert_eq!((stdout.as_str(), status), ("1\n", 0));
    let (stdout, status, _) = cli(&["run", "--max-memory", "1M", "--invoke", "grow", m], dir.path());
    assert_eq!((stdout.as_str(), status), ("-1\n", 0), "100 pages exceed 1 MiB");

    let (_, status, stderr) = cli(&["run", "--timeout", "0.3", "--invoke", "spin", m], dir.path());
    assert_eq!(status, 124, "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");

    let (_, status, stderr) = cli(&["run", "--max-memory", "lots", "--invoke", "grow", m], dir.path());
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("not a byte count"), "{stderr}");
}
