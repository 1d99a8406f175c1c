//! Turns an `execute` fuzz input into the `.wasm` module the target ran:
//! `cargo run --example smith_to_wasm -- INPUT OUTPUT.wasm`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = &args[..] else { panic!("usage: smith_to_wasm INPUT OUTPUT.wasm") };
    let data = std::fs::read(input).expect("read input");
    let module = wasmguard_fuzz::smith_module(&mut arbitrary::Unstructured::new(&data)).expect("a module");
    std::fs::write(output, module.to_bytes()).expect("write output");
}
