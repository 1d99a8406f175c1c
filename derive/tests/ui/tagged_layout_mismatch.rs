use wasmguard::GuestType;

// The union of `subscription_u` starts at 8 (its largest member is 8-aligned), not at 4.
#[derive(GuestType)]
#[repr(C, u8)]
#[guest(size = 40, align = 8)]
enum Subscription {
    Clock { id: u32, #[guest(offset = 4)] timeout: u64, precision: u64, flags: u16 },
    FdRead(u32),
}

fn main() {}
