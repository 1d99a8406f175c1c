use wasmguard::GuestType;

// The tag has the guest's size: `usize` is refused.
#[derive(GuestType)]
#[repr(C, usize)]
enum Value {
    Int(u32),
    Float(f32),
}

fn main() {}
