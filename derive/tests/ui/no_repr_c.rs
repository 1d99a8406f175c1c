use wasmguard::GuestType;

#[derive(GuestType)]
struct Point {
    x: u32,
    y: u32,
}

fn main() {}
