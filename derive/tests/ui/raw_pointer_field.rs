use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C)]
struct Raw {
    data: *const u8,
    len: u32,
}

fn main() {}
