use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C)]
struct Borrowed {
    data: &'static [u8; 4],
}

fn main() {}
