//! The guest layout of a derived type, as constant items in the generated code.
//!
//! Field sizes are only known to the compiler (`<F as GuestType>::SIZE` of a nested
//! struct, an array, a `WasmPtr`...), so the layout is not computed here: this module
//! emits `const` items that compute it during compilation with
//! `::wasmguard::__private::layout_offsets` (the wasm32 C layout), plus
//! `const _: () = ::core::assert!(..)` layout assertions, so that a wrong layout is a compile
//! error rather than wrong bytes. The items live inside the derive's `const _: () = { .. }`
//! block; [`Names`] gives the code generator the expressions that refer to them.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Member};

use crate::parse::{EnumDef, Expectations, StructDef, TaggedDef};

/// Expressions that refer to the layout constants emitted by [`struct_layout`] and
/// [`enum_layout`].
pub(crate) struct Names;

impl Names {
    /// `u32`: the guest size in bytes.
    pub(crate) fn size() -> Ident {
        format_ident!("__WASMGUARD_SIZE")
    }

    /// `u32`: the guest alignment in bytes.
    pub(crate) fn align() -> Ident {
        format_ident!("__WASMGUARD_ALIGN")
    }

    /// `bool`: whether the struct has padding bytes (between fields or at the end).
    pub(crate) fn has_padding() -> Ident {
        format_ident!("__WASMGUARD_HAS_PADDING")
    }

    /// `[u32; N]`: the offset of each field.
    pub(crate) fn offsets() -> Ident {
        format_ident!("__WASMGUARD_OFFSETS")
    }

    /// `[u32; N]`: the offset one past the last byte of each field.
    fn ends() -> Ident {
        format_ident!("__WASMGUARD_ENDS")
    }

    /// `u32`: the offset of the union of a tagged enum (the tag is at 0).
    pub(crate) fn payload_offset() -> Ident {
        format_ident!("__WASMGUARD_PAYLOAD_OFFSET")
    }

    /// `usize` range: the bytes of the tag of a tagged enum.
    pub(crate) fn tag_range() -> TokenStream {
        quote!(0..__WASMGUARD_TAG_SIZE as usize)
    }

    /// `usize` range: the bytes of field `index` of variant `variant` of a tagged enum,
    /// within the enum.
    pub(crate) fn variant_field_range(variant: usize, index: usize) -> TokenStream {
        let offsets = format_ident!("__WASMGUARD_V{}_OFFSETS", variant);
        let ends = format_ident!("__WASMGUARD_V{}_ENDS", variant);
        quote!(#offsets[#index] as usize..#ends[#index] as usize)
    }

    /// `usize` range: the bytes of field `index` within the struct.
    pub(crate) fn field_range(index: usize) -> TokenStream {
        let offsets = Self::offsets();
        let ends = Self::ends();
        quote!(#offsets[#index] as usize..#ends[#index] as usize)
    }
}

/// `<ty as GuestType>::<item>`, spanned at the type so that a field type without
/// `GuestType` is reported on the field.
pub(crate) fn guest_type_item(ty: &syn::Type, item: &Ident) -> TokenStream {
    quote_spanned!(ty.span()=> <#ty as ::wasmguard::__private::GuestType>::#item)
}

/// The layout constants and assertions of a struct.
pub(crate) fn struct_layout(def: &StructDef) -> TokenStream {
    let name = def.ident.to_string();
    let count = def.fields.len();
    let size_item = format_ident!("SIZE");
    let align_item = format_ident!("ALIGN");
    let field_sizes: Vec<_> = def.fields.iter().map(|f| guest_type_item(&f.ty, &size_item)).collect();
    let field_aligns: Vec<_> = def.fields.iter().map(|f| guest_type_item(&f.ty, &align_item)).collect();
    let repr_align = def.repr_align.unwrap_or(1);
    let (size, align, has_padding, offsets, ends) =
        (Names::size(), Names::align(), Names::has_padding(), Names::offsets(), Names::ends());

    let misaligned = format!(
        "wasmguard: a field of `{name}` is not aligned in the guest layout \
         (a field type's GuestType::ALIGN is wrong)"
    );
    let overlap = format!(
        "wasmguard: fields of `{name}` overlap in the guest layout \
         (a field type's GuestType::SIZE or ALIGN is wrong)"
    );
    let not_pow2 = format!(
        "wasmguard: the guest alignment of `{name}` is not a power of two \
         (a field type's GuestType::ALIGN is wrong)"
    );
    let not_multiple = format!("wasmguard: the guest size of `{name}` is not a multiple of its alignment");
    let offset_checks = def.fields.iter().enumerate().filter_map(|(index, field)| {
        let expected = field.expect_offset?;
        let value = expected.value;
        let field_name = match &field.member {
            Member::Named(ident) => ident.to_string(),
            Member::Unnamed(index) => index.index.to_string(),
        };
        let message = format!(
            "#[guest(offset = {value})] does not hold: field `{field_name}` of `{name}` is at \
             another offset in the wasm32 C layout (the actual offset is the array size \
             found in the next error)"
        );
        Some(assertion(expected.span, quote!(#offsets[#index]), value, &message))
    });
    let offset_checks: Vec<_> = offset_checks.collect();
    let user_checks = expectations(&def.expect, &name, "its fields");

    quote! {
        const __WASMGUARD_FIELD_SIZES: [u32; #count] = [#(#field_sizes),*];
        const __WASMGUARD_FIELD_ALIGNS: [u32; #count] = [#(#field_aligns),*];
        const __WASMGUARD_LAYOUT: ([u32; #count], u32, u32) = ::wasmguard::__private::layout_offsets([
            #((#field_sizes, #field_aligns)),*
        ]);
        const #offsets: [u32; #count] = __WASMGUARD_LAYOUT.0;
        const #ends: [u32; #count] = {
            let mut ends = [0u32; #count];
            let mut i = 0;
            while i < #count {
                ends[i] = #offsets[i] + __WASMGUARD_FIELD_SIZES[i];
                i += 1;
            }
            ends
        };
        const #align: u32 = if __WASMGUARD_LAYOUT.2 > #repr_align {
            __WASMGUARD_LAYOUT.2
        } else {
            #repr_align
        };
        const #size: u32 = __WASMGUARD_LAYOUT.1.div_ceil(#align) * #align;
        const #has_padding: bool = {
            let mut sum = 0u32;
            let mut i = 0;
            while i < #count {
                sum += __WASMGUARD_FIELD_SIZES[i];
                i += 1;
            }
            sum != #size
        };
        const _: () = ::core::assert!(#align.is_power_of_two(), #not_pow2);
        const _: () = ::core::assert!(#size.is_multiple_of(#align), #not_multiple);
        const _: () = {
            let mut i = 0;
            while i < #count {
                ::core::assert!(#offsets[i].is_multiple_of(__WASMGUARD_FIELD_ALIGNS[i]), #misaligned);
                let next = if i + 1 < #count { #offsets[i + 1] } else { #size };
                ::core::assert!(#ends[i] <= next, #overlap);
                i += 1;
            }
        };
        #(#offset_checks)*
        #user_checks
    }
}

/// The layout constants and assertions of a field-less enum: those of its repr.
pub(crate) fn enum_layout(def: &EnumDef) -> TokenStream {
    let name = def.ident.to_string();
    let repr = &def.repr.ty;
    let (size, align) = (Names::size(), Names::align());
    let user_checks = expectations(&def.expect, &name, &format!("its repr `{repr}`"));
    quote! {
        const #size: u32 = <#repr as ::wasmguard::__private::GuestType>::SIZE;
        const #align: u32 = <#repr as ::wasmguard::__private::GuestType>::ALIGN;
        #user_checks
    }
}

/// The layout constants and assertions of a tagged enum: the C struct
/// `{ tag; union { struct { variant 0 fields }; ... } }`.
///
/// Per variant `i`, `__WASMGUARD_V{i}_OFFSETS` / `_ENDS` hold its fields' byte ranges from
/// the start of the enum (the union's offset included).
pub(crate) fn tagged_layout(def: &TaggedDef) -> TokenStream {
    let name = def.ident.to_string();
    let repr = &def.repr.ty;
    let (size, align, payload) = (Names::size(), Names::align(), Names::payload_offset());
    let size_item = format_ident!("SIZE");
    let align_item = format_ident!("ALIGN");
    let mut items = TokenStream::new();
    let mut variant_layouts = Vec::new();
    for (v, variant) in def.variants.iter().enumerate() {
        let count = variant.fields.len();
        let sizes: Vec<_> = variant.fields.iter().map(|f| guest_type_item(&f.ty, &size_item)).collect();
        let aligns: Vec<_> = variant.fields.iter().map(|f| guest_type_item(&f.ty, &align_item)).collect();
        let layout = format_ident!("__WASMGUARD_V{}_LAYOUT", v);
        let offsets = format_ident!("__WASMGUARD_V{}_OFFSETS", v);
        let ends = format_ident!("__WASMGUARD_V{}_ENDS", v);
        items.extend(quote! {
            const #layout: ([u32; #count], u32, u32) = ::wasmguard::__private::layout_offsets([
                #((#sizes, #aligns)),*
            ]);
            const #offsets: [u32; #count] = {
                let mut offsets = #layout.0;
                let mut i = 0;
                while i < #count {
                    offsets[i] += #payload;
                    i += 1;
                }
                offsets
            };
            const #ends: [u32; #count] = {
                let sizes: [u32; #count] = [#(#sizes),*];
                let mut ends = [0u32; #count];
                let mut i = 0;
                while i < #count {
                    ends[i] = #offsets[i] + sizes[i];
                    i += 1;
                }
                ends
            };
        });
        for (index, field) in variant.fields.iter().enumerate() {
            let Some(expected) = field.expect_offset else { continue };
            let value = expected.value;
            let field_name = match &field.member {
                Member::Named(ident) => ident.to_string(),
                Member::Unnamed(index) => index.index.to_string(),
            };
            let message = format!(
                "#[guest(offset = {value})] does not hold: field `{field_name}` of variant `{}` of \
                 `{name}` is at another offset from the start of the enum in the C tagged-union \
                 layout (the actual offset is the array size found in the next error)",
                variant.ident
            );
            items.extend(assertion(expected.span, quote!(#offsets[#index]), value, &message));
        }
        variant_layouts.push(layout);
    }
    let user_checks = expectations(&def.expect, &name, "its tag and variants");
    quote! {
        const __WASMGUARD_TAG_SIZE: u32 = <#repr as ::wasmguard::__private::GuestType>::SIZE;
        const __WASMGUARD_TAG_ALIGN: u32 = <#repr as ::wasmguard::__private::GuestType>::ALIGN;
        /// The union's size (before rounding) and alignment: the largest of the variants'.
        const __WASMGUARD_UNION: (u32, u32) = {
            let variants: &[(u32, u32)] = &[#((#variant_layouts.1, #variant_layouts.2)),*];
            let (mut size, mut align) = (0u32, 1u32);
            let mut i = 0;
            while i < variants.len() {
                if variants[i].0 > size {
                    size = variants[i].0;
                }
                if variants[i].1 > align {
                    align = variants[i].1;
                }
                i += 1;
            }
            (size.div_ceil(align) * align, align)
        };
        const #payload: u32 = __WASMGUARD_TAG_SIZE.div_ceil(__WASMGUARD_UNION.1) * __WASMGUARD_UNION.1;
        const #align: u32 = if __WASMGUARD_UNION.1 > __WASMGUARD_TAG_ALIGN {
            __WASMGUARD_UNION.1
        } else {
            __WASMGUARD_TAG_ALIGN
        };
        const #size: u32 = (#payload + __WASMGUARD_UNION.0).div_ceil(#align) * #align;
        #items
        #user_checks
    }
}

/// Assertions for `#[guest(size = .., align = ..)]`.
fn expectations(expect: &Expectations, name: &str, source: &str) -> TokenStream {
    let mut checks = TokenStream::new();
    for (key, what, expected, actual) in
        [("size", "size", expect.size, Names::size()), ("align", "alignment", expect.align, Names::align())]
    {
        if let Some(expected) = expected {
            let value = expected.value;
            let message = format!(
                "#[guest({key} = {value})] does not hold: the guest {what} of `{name}` computed \
                 from {source} differs (wasm32 C layout; the actual {what} is the array size \
                 found in the next error)"
            );
            checks.extend(assertion(expected.span, quote!(#actual), value, &message));
        }
    }
    checks
}

/// Asserts at compile time that `actual == expected`, reported at `span` (the number the
/// user wrote): a failed `assert!` with `message`, then a type mismatch between arrays of
/// the two lengths, which makes rustc print the actual value.
fn assertion(span: Span, actual: TokenStream, expected: u32, message: &str) -> TokenStream {
    let expected_len = expected as usize;
    quote_spanned! {span=>
        const _: () = ::core::assert!(#actual == #expected, #message);
        const _: [(); #expected_len] = [(); (#actual) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Input, parse};

    fn layout_of(src: &str) -> String {
        let input: syn::DeriveInput = syn::parse_str(src).expect("valid Rust");
        match parse(&input).expect("accepted") {
            Input::Struct(def) => struct_layout(&def).to_string(),
            Input::Enum(def) => enum_layout(&def).to_string(),
            Input::Tagged(def) => tagged_layout(&def).to_string(),
        }
    }

    #[test]
    fn struct_layout_uses_field_guest_types() {
        let out = layout_of("#[repr(C)] struct S { a: u8, b: Inner }");
        assert!(out.contains("< u8 as :: wasmguard :: __private :: GuestType > :: SIZE"));
        assert!(out.contains("< Inner as :: wasmguard :: __private :: GuestType > :: ALIGN"));
        assert!(out.contains(":: wasmguard :: __private :: layout_offsets"));
    }

    #[test]
    fn user_expectations_become_assertions() {
        let out = layout_of("#[repr(C)] #[guest(size = 16, align = 8)] struct S { #[guest(offset = 8)] b: u64 }");
        assert!(out.contains("__WASMGUARD_SIZE == 16u32"), "{out}");
        assert!(out.contains("__WASMGUARD_ALIGN == 8u32"), "{out}");
        assert!(out.contains("__WASMGUARD_OFFSETS [0usize] == 8u32"), "{out}");
        assert!(out.contains("#[guest(offset = 8)] does not hold"), "{out}");
    }

    #[test]
    fn repr_align_raises_the_alignment() {
        let out = layout_of("#[repr(C, align(16))] struct S { a: u8 }");
        assert!(out.contains("__WASMGUARD_LAYOUT . 2 > 16u32"), "{out}");
    }

    #[test]
    fn enum_layout_is_the_repr() {
        let out = layout_of("#[repr(u16)] #[guest(size = 2)] enum E { A }");
        assert!(out.contains("< u16 as :: wasmguard :: __private :: GuestType > :: SIZE"));
        assert!(out.contains("__WASMGUARD_SIZE == 2u32"), "{out}");
    }
}
