use wasmguard::GuestType;

// `Arbitrary` needs the runtime's `fuzzing` feature, which this crate does not enable.
#[derive(GuestType)]
#[repr(C)]
#[guest(arbitrary)]
struct Point {
    x: u32,
    y: u32,
}

fn main() {}
