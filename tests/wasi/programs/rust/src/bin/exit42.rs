//! Exits with status 42 through `std::process::exit`.
fn main() {
    println!("exiting with 42");
    std::process::exit(42);
}
