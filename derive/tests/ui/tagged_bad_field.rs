use wasmguard::GuestType;

// Variant fields obey the same rules as struct fields.
#[derive(GuestType)]
#[repr(C, u8)]
enum Message {
    Text(String),
    Len(usize),
}

fn main() {}
