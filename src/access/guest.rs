//! [`GuestType`]: values that live in guest memory, with their wasm32 layout, read from and
//! written to little-endian bytes with validation.

use std::marker::PhantomData;

use crate::linear::AccessError;

/// A value that lives in guest linear memory.
///
/// The layout is the guest's (wasm32 C ABI, little-endian), independent of the host:
/// `SIZE` bytes, aligned to `ALIGN` in the guest. Reading validates (a `bool` must be 0 or
/// 1, an enum must hold a known discriminant), so a value read from the guest is always a
/// valid Rust value or an [`AccessError`].
///
/// Implemented for the integers, `f32`, `f64`, `bool`, arrays `[T; N]` and
/// [`WasmPtr`](crate::access::WasmPtr); derive it for `#[repr(C)]` structs and field-less
/// enums with `#[derive(GuestType)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot live in guest memory",
    label = "not a guest type",
    note = "derive it with `#[derive(GuestType)]` on a `#[repr(C)]` struct or a field-less enum with an integer repr, or use a guest type (integers, floats, bool, arrays, WasmPtr)"
)]
pub trait GuestType: Sized {
    /// Size in guest memory, in bytes (a multiple of `ALIGN`).
    const SIZE: u32;
    /// Alignment in guest memory, in bytes (a power of two).
    const ALIGN: u32;

    /// Decodes a value from exactly `SIZE` bytes.
    ///
    /// # Errors
    ///
    /// [`AccessError::InvalidValue`] if the bytes are not a valid value of the type.
    ///
    /// # Panics
    ///
    /// May panic if `bytes.len() != SIZE`: callers (the accessors of this crate and
    /// derived implementations) always pass exactly `SIZE` bytes.
    fn read_from(bytes: &[u8]) -> Result<Self, AccessError>;

    /// Encodes the value into exactly `SIZE` bytes, padding zeroed.
    ///
    /// # Panics
    ///
    /// May panic if `bytes.len() != SIZE` (see [`GuestType::read_from`]).
    fn write_to(&self, bytes: &mut [u8]);

    /// The value's `SIZE` guest bytes (little-endian, padding zeroed), for packing guest
    /// records into a host buffer that is then copied into guest memory in one piece:
    /// such as WASI directory entries, a header followed by a name, possibly truncated.
    fn to_guest_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0; Self::SIZE as usize];
        self.write_to(&mut bytes);
        bytes
    }

    /// Decodes `bytes.len() / SIZE` values, appending them to `out`. Primitive types
    /// override this with a bulk copy.
    ///
    /// # Errors
    ///
    /// As [`GuestType::read_from`], for the first invalid element.
    fn read_many(bytes: &[u8], out: &mut Vec<Self>) -> Result<(), AccessError> {
        if Self::SIZE == 0 {
            return Ok(());
        }
        for chunk in bytes.chunks_exact(Self::SIZE as usize) {
            out.push(Self::read_from(chunk)?);
        }
        Ok(())
    }

    /// Encodes `values` into `bytes` (exactly `values.len() * SIZE` bytes).
    fn write_many(values: &[Self], bytes: &mut [u8]) {
        if Self::SIZE == 0 {
            return;
        }
        for (v, chunk) in values.iter().zip(bytes.chunks_exact_mut(Self::SIZE as usize)) {
            v.write_to(chunk);
        }
    }
}

/// What copying `count` values of `T` costs against a host call's copy budget: `count`
/// times the larger of the guest and host sizes, and at least `count` (zero-sized values
/// cost one each, so a slice of them cannot loop without bound either).
#[inline]
pub(crate) fn copy_cost<T: GuestType>(count: u64) -> u64 {
    let each = u64::from(T::SIZE).max(std::mem::size_of::<T>() as u64).max(1);
    count.saturating_mul(each)
}

macro_rules! guest_int {
    ($($t:ty),*) => {$(
        impl GuestType for $t {
            const SIZE: u32 = std::mem::size_of::<$t>() as u32;
            const ALIGN: u32 = std::mem::size_of::<$t>() as u32;

            #[inline]
            fn read_from(bytes: &[u8]) -> Result<Self, AccessError> {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                raw.copy_from_slice(bytes);
                Ok(<$t>::from_le_bytes(raw))
            }

            #[inline]
            fn write_to(&self, bytes: &mut [u8]) {
                bytes.copy_from_slice(&self.to_le_bytes());
            }

            fn read_many(bytes: &[u8], out: &mut Vec<Self>) -> Result<(), AccessError> {
                const N: usize = std::mem::size_of::<$t>();
                // One pass, no zero-fill first: compiles to a plain copy on little-endian hosts.
                out.extend(bytes.chunks_exact(N).map(|chunk| {
                    let mut raw = [0u8; N];
                    raw.copy_from_slice(chunk);
                    <$t>::from_le_bytes(raw)
                }));
                Ok(())
            }

            fn write_many(values: &[Self], bytes: &mut [u8]) {
                if cfg!(target_endian = "little") {
                    bytes.copy_from_slice(bytemuck::cast_slice(values));
                } else {
                    for (v, chunk) in values.iter().zip(bytes.chunks_exact_mut(std::mem::size_of::<$t>())) {
                        chunk.copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
    )*};
}

guest_int!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

impl GuestType for bool {
    const SIZE: u32 = 1;
    const ALIGN: u32 = 1;

    fn read_from(bytes: &[u8]) -> Result<Self, AccessError> {
        match bytes[0] {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(AccessError::InvalidValue { type_name: "bool", value: u64::from(v) }),
        }
    }

    fn write_to(&self, bytes: &mut [u8]) {
        bytes[0] = u8::from(*self);
    }
}

impl<T: GuestType, const N: usize> GuestType for [T; N] {
    const SIZE: u32 = T::SIZE * N as u32;
    const ALIGN: u32 = T::ALIGN;

    fn read_from(bytes: &[u8]) -> Result<Self, AccessError> {
        let mut out = Vec::with_capacity(N);
        for chunk in bytes.chunks_exact(T::SIZE.max(1) as usize).take(N) {
            out.push(T::read_from(chunk)?);
        }
        while out.len() < N {
            // Zero-sized elements.
            out.push(T::read_from(&[])?);
        }
        out.try_into().map_err(|_| AccessError::InvalidValue { type_name: "array", value: N as u64 })
    }

    fn write_to(&self, bytes: &mut [u8]) {
        if T::SIZE == 0 {
            return;
        }
        for (item, chunk) in self.iter().zip(bytes.chunks_exact_mut(T::SIZE as usize)) {
            item.write_to(chunk);
        }
    }
}

/// A typed field offset inside a guest struct `S`: produced by `#[derive(GuestType)]` and
/// used by [`WasmPtr::project`](crate::access::WasmPtr::project) to get a pointer to a field
/// without hand-written offsets.
pub struct Field<S, F> {
    offset: u32,
    _marker: PhantomData<fn(&S) -> &F>,
}

impl<S, F> Field<S, F> {
    /// A field at `offset` bytes from the start of `S`.
    ///
    /// Derived code calls this with offsets computed from the guest layout; a wrong
    /// offset cannot cause undefined behaviour (every access is bounds-checked), only
    /// wrong values.
    pub const fn new(offset: u32) -> Self {
        Field { offset, _marker: PhantomData }
    }

    /// The field's offset in bytes.
    pub const fn offset(&self) -> u32 {
        self.offset
    }
}

impl<S, F> Clone for Field<S, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, F> Copy for Field<S, F> {}

impl<S, F> std::fmt::Debug for Field<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Field(+{})", self.offset)
    }
}

/// A guest struct, as derived by `#[derive(GuestType)]`: gives typed [`Field`] offsets for
/// projection (tuple structs' fields are named `_0`, `_1`, ...).
pub trait GuestStruct: GuestType {
    /// A struct with one [`Field`] per field of `Self`, of the same names.
    type Fields;
    /// The field offsets.
    const FIELDS: Self::Fields;
}

/// Computes the wasm32 C layout of fields of the given (size, align) in order:
/// their offsets, the total size (rounded up to the alignment) and the alignment.
/// Used by derived code in constant evaluation.
#[doc(hidden)]
pub const fn layout_offsets<const N: usize>(fields: [(u32, u32); N]) -> ([u32; N], u32, u32) {
    let mut offsets = [0u32; N];
    let mut at = 0u32;
    let mut align = 1u32;
    let mut i = 0;
    while i < N {
        let (size, a) = fields[i];
        at = at.div_ceil(a) * a;
        offsets[i] = at;
        at += size;
        if a > align {
            align = a;
        }
        i += 1;
    }
    (offsets, at.div_ceil(align) * align, align)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: GuestType + PartialEq + std::fmt::Debug>(v: T) {
        let mut buf = vec![0u8; T::SIZE as usize];
        v.write_to(&mut buf);
        assert_eq!(T::read_from(&buf).unwrap(), v);
    }

    #[test]
    fn primitives_round_trip_little_endian() {
        round_trip(0x1234_5678u32);
        round_trip(-5i64);
        round_trip(1.5f64);
        round_trip(true);
        round_trip([1u16, 2, 3]);
        let mut buf = [0u8; 4];
        0x0102_0304u32.write_to(&mut buf);
        assert_eq!(buf, [4, 3, 2, 1]);
    }

    #[test]
    fn invalid_bool_is_an_error() {
        assert_eq!(bool::read_from(&[2]), Err(AccessError::InvalidValue { type_name: "bool", value: 2 }));
    }

    #[test]
    fn c_layout() {
        // struct { u8 a; u64 b; u16 c; } -> offsets 0, 8, 16; size 24; align 8
        assert_eq!(layout_offsets([(1, 1), (8, 8), (2, 2)]), ([0, 8, 16], 24, 8));
        assert_eq!(layout_offsets::<0>([]), ([], 0, 1));
    }
}
