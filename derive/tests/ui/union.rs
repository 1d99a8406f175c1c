use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(C)]
union Value {
    int: u32,
    float: f32,
}

fn main() {}
