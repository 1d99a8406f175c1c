use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C)]
struct Named {
    name: String,
}

fn main() {}
