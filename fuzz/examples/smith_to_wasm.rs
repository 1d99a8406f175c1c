//! Turns an `execute` or `differential` fuzz input into the `.wasm` module the target ran:
//! `cargo run --example smith_to_wasm -- [--differential] INPUT OUTPUT.wasm`.

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let differential = args.first().is_some_and(|a| a == "--differential");
    if differential {
        args.remove(0);
    }
    let [input, output] = &args[..] else { panic!("usage: smith_to_wasm [--differential] INPUT OUTPUT.wasm") };
    let data = std::fs::read(input).expect("read input");
    let mut u = arbitrary::Unstructured::new(&data);
    let module = if differential {
        wasmguard_fuzz::differential::smith_module(&mut u)
    } else {
        wasmguard_fuzz::smith_module_with_references(&mut u)
    };
    std::fs::write(output, module.expect("a module").to_bytes()).expect("write output");
}
