//! Grows a linear memory from 0 to 256 MiB one 64 KiB page at a time (`memory.grow 1`, 4096
//! times, writing a byte into each new page) in the engine named by the argument,
//! `wasmguard` or `wasmi`, and exits. `benches/startup.sh` runs it under `/usr/bin/time` to
//! compare wall time and peak RSS: `cargo run --release -p wasmguard-benches --example grow -- wasmguard`.

/// `grow(n)`: `n` times `memory.grow 1`, storing the page number into the first byte of
/// each new page; returns the final size in pages (or -1 if a grow failed).
const GROW_WAT: &str = r#"(module
  (memory (export "memory") 0)
  (func (export "grow") (param $n i32) (result i32) (local $page i32)
    (loop $l
      (local.set $page (memory.grow (i32.const 1)))
      (if (i32.eq (local.get $page) (i32.const -1)) (then (return (i32.const -1))))
      (i32.store8 (i32.shl (local.get $page) (i32.const 16)) (local.get $page))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (memory.size)))"#;

/// 256 MiB in 64 KiB pages.
const PAGES: u32 = 4096;

fn main() {
    let engine = std::env::args().nth(1).unwrap_or_default();
    let wasm = wat::parse_str(GROW_WAT).expect("wat");
    let pages = match engine.as_str() {
        "wasmguard" => {
            let engine = wasmguard::Engine::default();
            let module = wasmguard::Module::new(&engine, &wasm).expect("wasmguard: compile");
            let mut store = wasmguard::Store::new(&engine, ());
            let instance = wasmguard::Linker::new(&engine).instantiate(&mut store, &module).expect("instantiate");
            let grow = instance.get_typed_func::<u32, i32>(&mut store, "grow").expect("grow");
            grow.call(&mut store, PAGES).expect("grow")
        }
        "wasmi" => {
            let engine = wasmi::Engine::default();
            let module = wasmi::Module::new(&engine, &wasm).expect("wasmi: compile");
            let mut store = wasmi::Store::new(&engine, ());
            let instance = wasmi::Linker::new(&engine).instantiate_and_start(&mut store, &module).expect("instantiate");
            let grow = instance.get_typed_func::<u32, i32>(&store, "grow").expect("grow");
            grow.call(&mut store, PAGES).expect("grow")
        }
        other => {
            eprintln!("usage: grow wasmguard|wasmi (got {other:?})");
            std::process::exit(2);
        }
    };
    assert_eq!(pages, PAGES as i32, "{engine}: the memory did not grow to {PAGES} pages");
}
