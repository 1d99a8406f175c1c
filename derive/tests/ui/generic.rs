use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C)]
struct Wrapper<T> {
    value: T,
}

#[derive(GuestType)]
#[repr(C)]
struct Bytes<const N: usize> {
    bytes: [u8; N],
}

fn main() {}
