use wasmguard::GuestType;

#[derive(GuestType)]
enum Color {
    Red,
    Green,
}

#[derive(GuestType)]
#[repr(C)]
enum Level {
    Low,
    High,
}

#[derive(GuestType)]
#[repr(usize)]
enum Index {
    First,
}

fn main() {}
