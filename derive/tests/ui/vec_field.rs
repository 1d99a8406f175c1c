use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C)]
struct Items {
    items: Vec<u32>,
}

fn main() {}
