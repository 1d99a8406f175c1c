//! `#[derive(GuestType)]` for wasmguard guest structs and enums.
