use wasmguard::GuestType;

#[derive(GuestType)]
#[repr(u8)]
enum Shape {
    Circle(u32),
    Square { side: u32 },
    Empty,
}

fn main() {}
