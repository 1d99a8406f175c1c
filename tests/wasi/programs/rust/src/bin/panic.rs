//! Panics: with `panic = "abort"` (as on wasm32-wasip1), the process aborts.
fn main() {
    println!("about to panic");
    let items: Vec<u32> = std::env::args().skip(100).map(|a| a.len() as u32).collect();
    // Index out of bounds: a panic whose message goes to stderr.
    println!("{}", items[3]);
}
