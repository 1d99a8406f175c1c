use wasmguard::GuestType;

// A tagged union needs an integer tag type.
#[derive(GuestType)]
#[repr(C)]
enum Event {
    Clock(u64),
    Fd { fd: u32 },
}

fn main() {}
