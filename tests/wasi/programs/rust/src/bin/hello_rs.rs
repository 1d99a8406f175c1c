//! Hello world from Rust's std.
fn main() {
    println!("Hello from Rust!");
    eprintln!("(this goes to stderr)");
}
