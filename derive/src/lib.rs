//! `#[derive(GuestType)]` for wasmguard guest structs and enums.
//!
//! Use it through the runtime, which re-exports it at the same path as the trait:
//! `use wasmguard::GuestType;`. See [`macro@GuestType`] for what it supports.
//!
//! The crate is split by stage: `parse` validates the input and owns every error
//! message, `layout` emits the compile-time guest layout and its assertions, `codegen`
//! emits the impls, `arbitrary` the optional `Arbitrary` impl. The generated code is safe and refers to the runtime only through
//! `::wasmguard::__private`.

mod arbitrary;
mod codegen;
mod layout;
mod parse;

use proc_macro::TokenStream;

/// Derives `wasmguard::GuestType`: the value's guest (wasm32) layout, and reading and
/// writing it as little-endian bytes in guest memory.
///
/// # Structs
///
/// A struct must be `#[repr(C)]` (named, tuple or unit). Its guest layout is the wasm32 C
/// layout of its fields, each of which must implement `GuestType` (integers, floats,
/// `bool`, arrays, `WasmPtr<T>`, other derived types): each field at the next offset
/// aligned to its `ALIGN`, the size rounded up to the largest alignment. It does not
/// depend on the host's layout. `#[repr(C, align(N))]` raises the alignment to `N`.
///
/// Reading decodes field by field and ignores padding bytes; writing zeroes the padding.
/// The derive also emits `<Name>GuestFields`, one `Field` per field with the field's name
/// and visibility, so that `ptr.project(|f| f.x)` turns a `WasmPtr<Name>` into a
/// `WasmPtr` to field `x`.
///
/// ```
/// use wasmguard::GuestType;
///
/// #[derive(GuestType, Debug, PartialEq)]
/// #[repr(C)]
/// #[guest(size = 24, align = 8)] // optional: checked at compile time
/// struct Header {
///     tag: u8,
///     #[guest(offset = 8)] // optional: checked at compile time
///     len: u64,
///     flags: u16,
/// }
///
/// assert_eq!((Header::SIZE, Header::ALIGN), (24, 8));
/// let header = Header { tag: 1, len: 2, flags: 3 };
/// let mut bytes = [0xAA; 24];
/// header.write_to(&mut bytes);
/// assert_eq!(bytes[1..8], [0; 7]); // padding is zeroed
/// assert_eq!(Header::read_from(&bytes), Ok(header));
/// ```
///
/// A layout assertion that does not hold is a compile error:
///
/// ```compile_fail,E0080
/// #[derive(wasmguard::GuestType)]
/// #[repr(C)]
/// #[guest(size = 12)] // the guest size is 16
/// struct Header { tag: u8, len: u64 }
/// ```
///
/// # Enums
///
/// A field-less enum with an integer repr (`u8`, `u16`, `u32`, `u64` or signed) is stored
/// as that integer. Reading an unknown discriminant is an `AccessError::InvalidValue`,
/// never an invalid Rust value.
///
/// ```
/// use wasmguard::{AccessError, GuestType};
///
/// #[derive(GuestType, Debug, PartialEq)]
/// #[repr(u16)]
/// enum Kind {
///     File = 1,
///     Dir = 2,
/// }
///
/// assert_eq!(Kind::read_from(&[2, 0]), Ok(Kind::Dir));
/// assert_eq!(
///     Kind::read_from(&[3, 0]),
///     Err(AccessError::InvalidValue { type_name: "Kind", value: 3 })
/// );
/// ```
///
/// # Tagged unions
///
/// An enum with fields and `#[repr(C, u8)]` (or `u16`, `u32`, ... for the tag) is a C
/// tagged union: the tag, then a union of one `#[repr(C)]` struct per variant, at the
/// next offset aligned to the largest variant alignment — the layout Rust itself gives
/// that repr, and that of C's `struct { uint8_t tag; union { .. } u; }`. Discriminants
/// are the language's (written, or the previous plus one). Reading an unknown tag is an
/// `AccessError::InvalidValue`; reading reads only the live variant's fields; writing
/// zeroes the padding and the unused part of the union. A variant field's
/// `#[guest(offset = N)]` is checked from the start of the enum.
///
/// ```
/// use wasmguard::{AccessError, GuestType};
///
/// #[derive(GuestType, Debug, PartialEq)]
/// #[repr(C, u8)]
/// #[guest(size = 16, align = 8)]
/// enum Wait {
///     Clock { #[guest(offset = 8)] timeout: u64 },
///     Fd(#[guest(offset = 8)] u32),
/// }
///
/// let mut bytes = [0u8; 16];
/// Wait::Fd(3).write_to(&mut bytes);
/// assert_eq!(bytes[..12], [1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]);
/// assert_eq!(Wait::read_from(&bytes), Ok(Wait::Fd(3)));
/// bytes[0] = 9;
/// assert_eq!(Wait::read_from(&bytes), Err(AccessError::InvalidValue { type_name: "Wait", value: 9 }));
/// ```
///
/// # Fuzzing
///
/// `#[guest(arbitrary)]` on the type also derives `arbitrary::Arbitrary` (each field drawn
/// with its own impl, an enum's variant drawn among its variants), for fuzz targets that
/// need valid values of guest types. It needs the runtime's `fuzzing` feature (without
/// it, the attribute is a compile error that says so); see `wasmguard::fuzzing`.
///
/// # Refused
///
/// With an error that says what to use instead: structs without `#[repr(C)]`,
/// `repr(packed)` and `repr(transparent)`, unions, enums with fields without
/// `#[repr(C, <int>)]`, field-less enums without an integer repr, generic parameters and lifetimes, and fields of host-only types:
/// `usize`/`isize` (use `u32`/`i32`), references, raw pointers and `Box` (use
/// `WasmPtr<T>`), `String`/`Vec` (a `WasmPtr<T>` and a length), function pointers.
///
/// ```compile_fail
/// #[derive(wasmguard::GuestType)]
/// #[repr(C)]
/// struct Buffer { len: usize } // error: use u32: the guest is wasm32
/// ```
#[proc_macro_derive(GuestType, attributes(guest))]
pub fn derive_guest_type(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    parse::parse(&input)
        .map(|def| {
            let mut tokens = codegen::expand(&def);
            tokens.extend(arbitrary::expand(&def));
            tokens
        })
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
