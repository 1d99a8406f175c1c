//! The `wasi` target: every host function of the crate's WASI preview1 implementation,
//! called by [`HostCallHarness`] as a hostile guest would, with a fresh sandbox directory
//! per input (a file, a subdirectory, and standard streams in memory).
//!
//! The harness checks that no call allocates more than its budget beyond what the program
//! held before it (the target installs [`CountingAllocator`](wasmguard::fuzzing::CountingAllocator)
//! as its global allocator) and that the store is still usable after it; a panic anywhere
//! is a crash. Waits in `poll_oneoff` are bounded to a millisecond.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Unstructured;
use wasmguard::fuzzing::{HarnessConfig, HostCallHarness};
use wasmguard::wasi::{self, InputBuffer, OutputBuffer, WasiCtx, WasiCtxBuilder};
use wasmguard::{Engine, Linker};

/// The store's host state.
pub struct Host {
    wasi: WasiCtx,
}

/// One harness per WASI function, ordered by name.
fn harnesses() -> &'static [HostCallHarness<Host>] {
    static HARNESSES: OnceLock<Vec<HostCallHarness<Host>>> = OnceLock::new();
    HARNESSES.get_or_init(|| {
        let engine = Engine::default();
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker, |host: &mut Host| &mut host.wasi).expect("WASI functions");
        let config = HarnessConfig { max_memory_pages: 2, ..HarnessConfig::default() };
        HostCallHarness::for_each_host_func(&linker)
            .expect("a harness per function")
            .into_iter()
            .map(|h| h.with_config(config))
            .collect()
    })
}

/// The sandbox directory of this process, emptied and refilled for every input.
fn sandbox() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmguard-fuzz-wasi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).expect("sandbox directory");
    std::fs::write(dir.join("file.txt"), b"the contents of a file\n").expect("sandbox file");
    std::fs::write(dir.join("sub/empty"), b"").expect("sandbox file");
    dir
}

/// Runs one input: the function is the first draw.
///
/// # Panics
///
/// On a violation of the harness's checks (that is the crash the fuzzer reports).
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(harness) = u.choose(harnesses()) else { return };
    let dir = sandbox();
    let wasi = WasiCtxBuilder::new()
        .args(["prog", "--flag", "ä"])
        .env("HOME", "/")
        .stdin(InputBuffer::new(&b"standard input\n"[..]))
        .stdout(OutputBuffer::new())
        .stderr(OutputBuffer::new())
        .preopened_dir(&dir, "/")
        .expect("preopen")
        .max_sleep(Duration::from_millis(1))
        .build();
    if let Err(violation) = harness.run(Host { wasi }, &mut u) {
        panic!("{violation}");
    }
}
