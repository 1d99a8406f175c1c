use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C, packed)]
struct Packed {
    a: u8,
    b: u32,
}

#[derive(GuestType)]
#[repr(transparent)]
struct Transparent {
    a: u32,
}

fn main() {}
