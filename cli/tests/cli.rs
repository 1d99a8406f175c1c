//! The `wasmguard` command-line tool: the WASI programs of the library's `tests/wasi/` run
//! through the binary with the same standard output and exit status as natively
//! (`tests/wasi/expected/`), and `run --invoke` prints the results of an exported function.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The library's WASI fixtures, shared with its `tests/wasi.rs`.
fn wasi_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/wasi")
}

/// One line of `tests/wasi/cases.txt`.
struct Case {
    name: String,
    fixture: String,
    args: Vec<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(wasi_dir().join("cases.txt")).expect("cases.txt");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut fields = line.split('|').map(str::to_owned);
            let name = fields.next().expect("name");
            let fixture = fields.next().expect("fixture");
            Case { name, fixture, args: fields.collect() }
        })
        .collect()
}

const ENV: [(&str, &str); 3] = [("GREETING", "hello world"), ("EMPTY", ""), ("TOUR_VAR", "tour")];

/// The fixture of a run (kept in sync with `fixture` in build.sh): `root/data/...`, plus
/// symbolic links leading outside for `hostile`.
fn fixture(root: &Path, kind: &str) {
    std::fs::create_dir_all(root.join("data/sub/deeper")).unwrap();
    std::fs::write(root.join("data/in.txt"), "hello file\nsecond line\n").unwrap();
    std::fs::write(root.join("data/sub/nested.txt"), "nested\n").unwrap();
    if kind == "hostile" {
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink("/etc", root.join("data/etc_link")).unwrap();
            symlink("chain2", root.join("data/chain1")).unwrap();
            symlink("..", root.join("data/chain2")).unwrap();
            symlink("loop2", root.join("data/loop1")).unwrap();
            symlink("loop1", root.join("data/loop2")).unwrap();
            symlink("victim", root.join("link")).unwrap();
        }
        std::fs::write(root.join("victim"), "secret\n").unwrap();
    }
}

fn expected(name: &str) -> (String, i32) {
    let dir = wasi_dir().join("expected");
    let stdout = std::fs::read_to_string(dir.join(format!("{name}.stdout"))).expect("expected stdout");
    let status = std::fs::read_to_string(dir.join(format!("{name}.status"))).expect("expected status");
    (stdout, status.trim().parse().expect("a status"))
}

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
