use wasmguard::GuestType;

// The guest layout is: a at 0, b at 8, size 16, align 8.
#[derive(GuestType)]
#[repr(C)]
#[guest(size = 12, align = 4)]
struct Header {
    a: u8,
    #[guest(offset = 4)]
    b: u64,
}

fn main() {}
