use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C)]
struct View<'a> {
    bytes: &'a [u8],
}

fn main() {}
