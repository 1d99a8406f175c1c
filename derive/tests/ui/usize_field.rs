use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C)]
struct Buffer {
    len: usize,
    delta: isize,
}

fn main() {}
