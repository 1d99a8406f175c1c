use wasmguard::GuestType;

// Enums with fields are C tagged unions: they need `#[repr(C, u8)]`, not `#[repr(u8)]`.
#[derive(GuestType)]
#[repr(u8)]
enum Shape {
    Circle(u32),
    Square { side: u32 },
    Empty,
}

fn main() {}
