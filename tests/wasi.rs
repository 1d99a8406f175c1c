//! WASI preview1: the C and Rust programs of `tests/wasi/` run through the library with the
//! same standard output and exit status as natively (`tests/wasi/expected/`, recorded by
//! `tests/wasi/build.sh`; `cli/tests/cli.rs` runs them through the `wasmguard` CLI); and hostile
//! guest input (escaping paths, bad pointers, bad descriptors, bad enum values) gets an
//! errno, never a host file outside the sandbox and never a panic.

use std::path::{Path, PathBuf};

use wasmguard::wasi::{self, Errno, OutputBuffer, WasiCtx, WasiCtxBuilder};
use wasmguard::{Engine, Linker, Module, Store, Val};

fn wasi_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi")
}

#[path = "wasi/fixtures.rs"]
mod fixtures;
use fixtures::{ENV, cases, expected, fixture};

/// Runs a command module through the library: (stdout, exit status, stderr), the status
/// being 134 for a trap as in the CLI.
fn run_in_process(wasm: &Path, args: &[String], preopen: &Path) -> (String, i32, String) {
    let engine = Engine::default();
    let module = Module::new(&engine, std::fs::read(wasm).expect("wasm")).expect("module");
    let (stdout, stderr) = (OutputBuffer::new(), OutputBuffer::new());
    let ctx = WasiCtxBuilder::new()
        .arg(wasm.file_name().unwrap().to_string_lossy())
        .args(args)
        .envs(ENV)
        .preopened_dir(preopen, "data")
        .expect("preopen")
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build();
    let mut linker = Linker::new(&engine);
    wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx).unwrap();
    wasi::add_stubs_for_unknown_imports(&mut linker, &module).unwrap();
    let mut store = Store::new(&engine, ctx);
    let instance = linker.instantiate(&mut store, &module).expect("instantiate");
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start").expect("_start");
    let status = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(e) => match wasi::exit_code(&e) {
            Some(code) => code as i32,
            None => {
                assert!(e.trap_code().is_some(), "not a trap: {e:#}");
                134
            }
        },
    };
    (stdout.contents_string(), status, stderr.contents_string())
}

#[test]
fn programs_match_native_runs() {
    let mut failures = Vec::new();
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        fixture(dir.path(), &case.fixture);
        let wasm = wasi_dir().join("wasm").join(format!("{}.wasm", case.name));
        let (stdout, status, stderr) = run_in_process(&wasm, &case.args, &dir.path().join("data"));
        let (want_stdout, want_status) = expected(&case.name);
        if stdout != want_stdout || status != want_status {
            failures.push(format!(
                "{}: status {status} (want {want_status})\n--- stdout\n{stdout}--- want\n{want_stdout}--- stderr\n{stderr}",
                case.name
            ));
        }
        // Nothing escaped: the files outside `data/` are untouched, nothing was created there.
        let mut outside: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        outside.sort();
        let want: &[&str] = if case.fixture == "hostile" { &["data", "link", "victim"] } else { &["data"] };
        assert_eq!(outside, want, "{}", case.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn panic_and_abort_report_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), "plain");
    let (_, status, stderr) = run_in_process(&wasi_dir().join("wasm/panic.wasm"), &[], &dir.path().join("data"));
    assert_eq!(status, 134);
    assert!(stderr.contains("panicked") && stderr.contains("index out of bounds"), "{stderr}");
}

// ---- Hostile guest input, through a harness module that forwards to the WASI imports ----

/// `(name, params, has_result)` of the imports the harness forwards.
const IMPORTS: &[(&str, &str)] = &[
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("path_create_directory", "i32 i32 i32"),
    ("path_remove_directory", "i32 i32 i32"),
    ("path_unlink_file", "i32 i32 i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("fd_close", "i32"),
    ("fd_renumber", "i32 i32"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("poll_oneoff", "i32 i32 i32 i32"),
    ("args_get", "i32 i32"),
    ("random_get", "i32 i32"),
    ("clock_time_get", "i32 i64 i32"),
    ("sock_accept", "i32 i32 i32"),
];

struct Harness {
    store: Store<WasiCtx>,
    instance: wasmguard::Instance,
    memory: wasmguard::Memory,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fixture(dir.path(), "hostile");
        let mut wat = String::from("(module\n");
        for (name, params) in IMPORTS {
            wat += &format!(
                "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {params}) (result i32)))\n"
            );
        }
        wat += "(import \"wasi_snapshot_preview1\" \"made_up\" (func $made_up (param i32) (result i32)))\n";
        wat += "(import \"wasi_unstable\" \"odd\" (func $odd (result i64)))\n";
        wat += "(memory (export \"memory\") 1)\n";
        for (name, params) in IMPORTS {
            let gets: String = (0..params.split(' ').count()).map(|i| format!("local.get {i} ")).collect();
            wat += &format!("(func (export \"{name}\") (param {params}) (result i32) {gets} call ${name})\n");
        }
        wat += "(func (export \"made_up\") (param i32) (result i32) local.get 0 call $made_up)\n";
        wat += "(func (export \"odd\") (result i64) call $odd))\n";
        let engine = Engine::default();
        let module = Module::new(&engine, &wat).expect("harness");
        let ctx = WasiCtxBuilder::new()
            .args(["harness", "arg"])
            .preopened_dir(dir.path().join("data"), "data")
            .expect("preopen")
            .build();
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx).unwrap();
        wasi::add_stubs_for_unknown_imports(&mut linker, &module).unwrap();
        let mut store = Store::new(&engine, ctx);
        let instance = linker.instantiate(&mut store, &module).expect("instantiate");
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Harness { store, instance, memory, _dir: dir }
    }

    fn call(&mut self, name: &str, args: &[Val]) -> i32 {
        let func = self.instance.get_func(&mut self.store, name).expect(name);
        let mut results = [Val::I32(0)];
        func.call(&mut self.store, args, &mut results).expect(name);
        match results[0] {
            Val::I32(v) => v,
            _ => unreachable!(),
        }
    }

    fn write(&mut self, at: u32, bytes: &[u8]) {
        self.memory.write(&mut self.store, at as usize, bytes).unwrap();
    }

    /// `path_open(3, follow, path, oflags, ..)` with the path's bytes at 0x100; the errno.
    fn open(&mut self, path: &[u8], oflags: i32) -> i32 {
        self.write(0x100, path);
        let i = Val::I32;
        let len = path.len() as i32;
        let args = [i(3), i(1), i(0x100), i(len), i(oflags), Val::I64(!0), Val::I64(!0), i(0), i(0x80)];
        self.call("path_open", &args)
    }

    fn path_op(&mut self, name: &str, path: &[u8]) -> i32 {
        self.write(0x100, path);
        self.call(name, &[Val::I32(3), Val::I32(0x100), Val::I32(path.len() as i32)])
    }
}

fn errno(e: Errno) -> i32 {
    i32::from(e.0)
}

#[test]
fn hostile_paths_are_refused() {
    let mut h = Harness::new();
    for path in [&b"../x"[..], b"sub/../../x", b"/etc/passwd", b"etc_link/passwd", b"chain1/x", b"chain2", b"..", b"/"]
    {
        assert_eq!(h.open(path, 0), errno(Errno::NOTCAPABLE), "{}", String::from_utf8_lossy(path));
    }
    assert_eq!(h.open(b"loop1", 0), errno(Errno::LOOP));
    assert_eq!(h.open(b"in.txt\0../../x", 0), errno(Errno::INVAL));
    assert_eq!(h.open(b"in\xff.txt", 0), errno(Errno::ILSEQ));
    assert_eq!(h.open(b"", 0), errno(Errno::NOENT));
    // Creating outside is refused, and nothing appears there.
    assert_eq!(h.open(b"../created", 1), errno(Errno::NOTCAPABLE));
    assert_eq!(h.open(b"etc_link/created", 1), errno(Errno::NOTCAPABLE));
    assert_eq!(h.path_op("path_create_directory", b"../evil"), errno(Errno::NOTCAPABLE));
    assert_eq!(h.path_op("path_remove_directory", b"../victim"), errno(Errno::NOTCAPABLE));
    assert_eq!(h.path_op("path_unlink_file", b"../victim"), errno(Errno::NOTCAPABLE));
    assert_eq!(h.path_op("path_unlink_file", b"/etc/passwd"), errno(Errno::NOTCAPABLE));
    // rename(data/in.txt -> ../stolen)
    h.write(0x100, b"in.txt");
    h.write(0x200, b"../stolen");
    let rename = [3, 0x100, 6, 3, 0x200, 9].map(Val::I32);
    assert_eq!(h.call("path_rename", &rename), errno(Errno::NOTCAPABLE));
    // readlink of a link outside, and of a link inside whose target is absolute.
    h.write(0x100, b"../link");
    let readlink = [3, 0x100, 7, 0x300, 64, 0x3F0].map(Val::I32);
    assert_eq!(h.call("path_readlink", &readlink), errno(Errno::NOTCAPABLE));
    // Inside is fine.
    assert_eq!(h.open(b"in.txt", 0), 0);
    assert_eq!(h.open(b"sub/../in.txt", 0), 0);
    assert_eq!(h.path_op("path_create_directory", b"made"), 0);
    let dir = h._dir.path().to_owned();
    assert!(dir.join("data/made").is_dir());
    assert!(dir.join("victim").exists() && !dir.join("evil").exists() && !dir.join("stolen").exists());
    assert!(!dir.join("created").exists());
}

#[test]
fn hostile_pointers_lengths_and_values_get_errnos() {
    let mut h = Harness::new();
    let i = Val::I32;
    // A path out of bounds, or wrapping around the address space.
    assert_eq!(h.call("path_unlink_file", &[i(3), i(-16), i(64)]), errno(Errno::FAULT));
    assert_eq!(h.call("path_unlink_file", &[i(3), i(0x100), i(-1)]), errno(Errno::FAULT));
    // A huge iovec count, iovecs pointing out of bounds, results out of bounds.
    assert_eq!(h.call("fd_write", &[i(1), i(0), i(0x2000_0000), i(0x10)]), errno(Errno::FAULT));
    h.write(0, &[0xF0, 0xFF, 0xFF, 0xFF, 0x20, 0, 0, 0]);
    assert_eq!(h.call("fd_write", &[i(1), i(0), i(1), i(0x10)]), errno(Errno::FAULT));
    h.write(0, &[0x40, 0, 0, 0, 4, 0, 0, 0]);
    assert_eq!(h.call("fd_write", &[i(1), i(0), i(1), i(-2)]), errno(Errno::FAULT));
    assert_eq!(h.call("fd_write", &[i(1), i(0), i(1), i(0x10)]), 0);
    // Bad descriptors.
    for fd in [99, -1, 0x7FFF_FFFF] {
        assert_eq!(h.call("fd_write", &[i(fd), i(0), i(1), i(0x10)]), errno(Errno::BADF));
        assert_eq!(h.call("fd_close", &[i(fd)]), errno(Errno::BADF));
        assert_eq!(h.call("fd_prestat_get", &[i(fd), i(0x10)]), errno(Errno::BADF));
    }
    assert_eq!(h.call("fd_read", &[i(1), i(0), i(1), i(0x10)]), errno(Errno::BADF));
    assert_eq!(h.call("fd_prestat_get", &[i(1), i(0x10)]), errno(Errno::BADF));
    // Renumbering onto or from a preopen is refused; the preopen stays usable.
    assert_eq!(h.call("fd_renumber", &[i(1), i(3)]), errno(Errno::NOTSUP));
    assert_eq!(h.call("fd_renumber", &[i(3), i(1)]), errno(Errno::NOTSUP));
    assert_eq!(h.call("fd_renumber", &[i(1), i(77)]), errno(Errno::BADF));
    assert_eq!(h.open(b"in.txt", 0), 0);
    // Invalid enum values: whence, clock id, subscription tag.
    let fd = h.memory.view(&h.store).bytes(0x80, 1).unwrap()[0] as i32;
    assert_eq!(h.call("fd_seek", &[i(fd), Val::I64(0), i(3), i(0x10)]), errno(Errno::INVAL));
    assert_eq!(h.call("fd_seek", &[i(fd), Val::I64(0), i(0x102), i(0x10)]), errno(Errno::INVAL));
    assert_eq!(h.call("fd_seek", &[i(fd), Val::I64(-1), i(0), i(0x10)]), errno(Errno::INVAL));
    assert_eq!(h.call("fd_seek", &[i(1), Val::I64(0), i(0), i(0x10)]), errno(Errno::SPIPE));
    assert_eq!(h.call("clock_time_get", &[i(9), Val::I64(0), i(0x10)]), errno(Errno::INVAL));
    let mut sub = [0u8; 48];
    sub[8] = 7; // no such subscription type
    h.write(0x400, &sub);
    assert_eq!(h.call("poll_oneoff", &[i(0x400), i(0x500), i(1), i(0x10)]), errno(Errno::INVAL));
    assert_eq!(h.call("poll_oneoff", &[i(0x400), i(0x500), i(0), i(0x10)]), errno(Errno::INVAL));
    assert_eq!(h.call("poll_oneoff", &[i(0x400), i(0x500), i(0x4000_0000), i(0x10)]), errno(Errno::FAULT));
    // Out-of-bounds outputs.
    assert_eq!(h.call("args_get", &[i(-4), i(0x100)]), errno(Errno::FAULT));
    assert_eq!(h.call("random_get", &[i(0xFFF0), i(0x20)]), errno(Errno::FAULT));
    assert_eq!(h.call("random_get", &[i(0x100), i(0x20)]), 0);
    // Unimplemented functions: NOSYS, and a trap for a signature without an errno.
    assert_eq!(h.call("sock_accept", &[i(3), i(0), i(0x10)]), errno(Errno::NOSYS));
    assert_eq!(h.call("made_up", &[i(0)]), errno(Errno::NOSYS));
    let odd = h.instance.get_func(&mut h.store, "odd").unwrap();
    let error = odd.call(&mut h.store, &[], &mut [Val::I64(0)]).unwrap_err();
    assert!(error.to_string().contains("wasi_unstable::odd"), "{error}");
}

#[test]
fn readdir_truncates_to_the_buffer() {
    let mut h = Harness::new();
    let i = Val::I32;
    // A 30-byte buffer holds the first 24-byte header and 6 bytes of the next header.
    assert_eq!(h.call("fd_readdir", &[i(3), i(0x600), i(30), Val::I64(0), i(0x10)]), 0);
    let view = h.memory.view(&h.store);
    let used = u32::from_le_bytes(view.bytes(0x10, 4).unwrap().try_into().unwrap());
    assert_eq!(used, 30);
    // A big buffer: `.`, `..`, then the entries sorted, names after their headers.
    assert_eq!(h.call("fd_readdir", &[i(3), i(0x600), i(4096), Val::I64(0), i(0x10)]), 0);
    let view = h.memory.view(&h.store);
    let used = u32::from_le_bytes(view.bytes(0x10, 4).unwrap().try_into().unwrap()) as u64;
    let bytes = view.bytes(0x600, used).unwrap();
    let text = String::from_utf8_lossy(bytes);
    for name in ["chain1", "etc_link", "in.txt", "loop2", "sub"] {
        assert!(text.contains(name), "{text:?}");
    }
    // Starting past the end: nothing.
    assert_eq!(h.call("fd_readdir", &[i(3), i(0x600), i(4096), Val::I64(1000), i(0x10)]), 0);
    let view = h.memory.view(&h.store);
    assert_eq!(view.bytes(0x10, 4).unwrap(), [0, 0, 0, 0]);
}
