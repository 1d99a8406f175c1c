use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C)]
#[guest(offset = 4)]
struct OnStruct {
    a: u32,
}

#[derive(GuestType)]
#[repr(C)]
struct OnField {
    #[guest(size = 4)]
    a: u32,
}

#[derive(GuestType)]
#[repr(C)]
#[guest(align = 3)]
struct NotPowerOfTwo {
    a: u32,
}

fn main() {}
