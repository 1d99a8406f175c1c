//! CoreMark in wasmguard: `cargo run --release --example bench_coremark -- [ITERATIONS]`.
//!
//! Runs `ITERATIONS` (default 10) iterations of the CoreMark 2K performance run, compiled to
//! wasm from the crates.io `coremark` crate (`benches/wasm/coremark.wasm`, rebuilt by
//! `benches/wasm/build.sh`), checks the CRCs against CoreMark's reference values and prints
//! the score in iterations per second. `benches/callgrind.sh` runs it under callgrind to
//! count instructions; `cargo bench -p wasmguard-benches --bench engines` compares the score with wasmi's.

use std::time::Instant;

use wasmguard::{Engine, Linker, Module, Store};

const COREMARK_WASM: &[u8] = include_bytes!("../benches/wasm/coremark.wasm");

fn main() -> wasmguard::Result<()> {
    let iterations: u32 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|e| wasmguard::Error::msg(format!("bad iteration count `{arg}`: {e}")))?,
        None => 10,
    };
    let engine = Engine::default();
    let module = Module::new(&engine, COREMARK_WASM)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<u32, u32>(&mut store, "run")?;

    let start = Instant::now();
    let result = run.call(&mut store, iterations)?;
    let secs = start.elapsed().as_secs_f64();

    // Low 16 bits: crcfinal; high 16 bits: how many CRCs differ from the reference.
    let (crc, errors) = (result & 0xffff, result >> 16);
    println!("iterations       : {iterations}");
    println!("time (secs)      : {secs:.6}");
    println!("crcfinal         : {crc:#06x}");
    if errors != 0 {
        return Err(wasmguard::Error::msg(format!("CoreMark validation failed: {errors} CRC(s) differ")));
    }
    if iterations > 0 {
        println!("validation       : CRCs match the 2K performance run");
        println!("CoreMark (wasmguard): {:.1} iterations/s", f64::from(iterations) / secs);
    }
    Ok(())
}
