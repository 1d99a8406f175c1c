//! Code generation: the `GuestType` (and for structs `GuestStruct`) impls and the
//! `<Name>GuestFields` struct of a validated [`Input`].
//!
//! The generated code is entirely safe, refers to the runtime only through
//! `::wasmguard::__private::..`, and keeps its helper items inside a
//! `const _: () = { .. };` block so that nothing but `<Name>GuestFields` is added to the
//! user's namespace. Values are read and written field by field, little-endian, through
//! each field type's own `GuestType` impl, so the host's layout never matters.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, Member};

use crate::layout::{self, Names};
use crate::parse::{EnumDef, Input, Shape, StructDef, TaggedDef};

/// The code derived for `input`.
pub(crate) fn expand(input: &Input) -> TokenStream {
    match input {
        Input::Struct(def) => expand_struct(def),
        Input::Enum(def) => expand_enum(def),
        Input::Tagged(def) => expand_tagged(def),
    }
}

/// The name of the field-offsets struct of `ident`: `<ident>GuestFields`.
pub(crate) fn fields_ident(ident: &Ident) -> Ident {
    format_ident!("{}GuestFields", ident, span = ident.span())
}

/// `GuestType` and `GuestStruct` for a `#[repr(C)]` struct, and its `<Name>GuestFields`.
fn expand_struct(def: &StructDef) -> TokenStream {
    let ident = &def.ident;
    let fields_ident = fields_ident(ident);
    let layout = layout::struct_layout(def);
    let (size, align, has_padding, offsets) = (Names::size(), Names::align(), Names::has_padding(), Names::offsets());
    let read_item = format_ident!("read_from");
    let write_item = format_ident!("write_to");

    let reads = def.fields.iter().enumerate().map(|(index, field)| {
        let read = layout::guest_type_item(&field.ty, &read_item);
        let range = Names::field_range(index);
        quote!(#read(&bytes[#range])?)
    });
    let value = construct(&quote!(Self), def.shape, &def.fields, reads);
    let writes = def.fields.iter().enumerate().map(|(index, field)| {
        let write = layout::guest_type_item(&field.ty, &write_item);
        let member = &field.member;
        let range = Names::field_range(index);
        quote!(#write(&self.#member, &mut bytes[#range]);)
    });
    let (read_fn, write_fn) = if def.fields.is_empty() {
        (
            quote! {
                #[inline]
                fn read_from(
                    _bytes: &[u8],
                ) -> ::wasmguard::__private::Result<Self, ::wasmguard::__private::AccessError> {
                    ::wasmguard::__private::Result::Ok(#value)
                }
            },
            quote! {
                #[inline]
                fn write_to(&self, _bytes: &mut [u8]) {}
            },
        )
    } else {
        (
            quote! {
                #[inline]
                fn read_from(
                    bytes: &[u8],
                ) -> ::wasmguard::__private::Result<Self, ::wasmguard::__private::AccessError> {
                    let bytes = &bytes[..#size as usize];
                    ::wasmguard::__private::Result::Ok(#value)
                }
            },
            quote! {
                #[inline]
                fn write_to(&self, bytes: &mut [u8]) {
                    let bytes = &mut bytes[..#size as usize];
                    if #has_padding {
                        bytes.fill(0);
                    }
                    #(#writes)*
                }
            },
        )
    };
    let field_values =
        def.fields.iter().enumerate().map(|(index, _)| quote!(::wasmguard::__private::Field::new(#offsets[#index])));
    let fields_value = construct(&quote!(#fields_ident), def.shape, &def.fields, field_values);
    let fields_struct = fields_struct(def, &fields_ident);

    quote! {
        #fields_struct

        #[doc(hidden)]
        const _: () = {
            #layout

            #[automatically_derived]
            impl ::wasmguard::__private::GuestType for #ident {
                const SIZE: u32 = #size;
                const ALIGN: u32 = #align;
                #read_fn
                #write_fn
            }

            #[automatically_derived]
            impl ::wasmguard::__private::GuestStruct for #ident {
                type Fields = #fields_ident;
                const FIELDS: #fields_ident = #fields_value;
            }
        };
    }
}

/// `Path { a: .., b: .. }`, `Path(.., ..)` or `Path` from one expression per field, where
/// `path` is `Self` or the `<Name>GuestFields` type.
pub(crate) fn construct(
    path: &TokenStream,
    shape: Shape,
    fields: &[crate::parse::FieldDef],
    values: impl Iterator<Item = TokenStream>,
) -> TokenStream {
    match shape {
        Shape::Named => {
            let members = fields.iter().map(|f| &f.member);
            quote!(#path { #(#members: #values),* })
        }
        Shape::Tuple => quote!(#path(#(#values),*)),
        Shape::Unit => quote!(#path),
    }
}

/// `<Name>GuestFields`: one `Field<Name, F>` per field, of the same name (or index)
/// and visibility as the field.
fn fields_struct(def: &StructDef, fields_ident: &Ident) -> TokenStream {
    let ident = &def.ident;
    let vis = &def.vis;
    let doc = format!(
        "Guest field offsets of [`{ident}`], derived by `#[derive(GuestType)]`: \
         `ptr.project(|f| f.field)` turns a `WasmPtr<{ident}>` into a pointer to a field."
    );
    let fields = def.fields.iter().map(|field| {
        let vis = &field.vis;
        let ty = &field.ty;
        let doc = match &field.member {
            Member::Named(name) => format!("Offset of field `{name}`."),
            Member::Unnamed(index) => format!("Offset of field `{}`.", index.index),
        };
        let member = match &field.member {
            Member::Named(name) => quote!(#name:),
            Member::Unnamed(_) => TokenStream::new(),
        };
        quote! {
            #[doc = #doc]
            #vis #member ::wasmguard::__private::Field<#ident, #ty>
        }
    });
    let body = match def.shape {
        Shape::Named => quote!({ #(#fields),* }),
        Shape::Tuple => quote!((#(#fields),*);),
        Shape::Unit => quote!(;),
    };
    quote! {
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #[allow(dead_code)]
        #vis struct #fields_ident #body
    }
}

/// `GuestType` for a field-less enum: the repr integer, validated on read.
fn expand_enum(def: &EnumDef) -> TokenStream {
    let ident = &def.ident;
    let name = ident.to_string();
    let layout = layout::enum_layout(def);
    let (size, align) = (Names::size(), Names::align());
    let repr = &def.repr.ty;
    let unsigned = &def.repr.unsigned;
    let consts: Vec<_> = (0..def.variants.len()).map(|i| format_ident!("__WASMGUARD_DISCRIMINANT_{}", i)).collect();
    let variants = &def.variants;
    // The raw value as the unsigned integer of the same width: what the guest stores,
    // and what an error reports.
    let discriminants = variants.iter().map(|variant| {
        if repr == unsigned {
            quote!(#ident::#variant as #unsigned)
        } else {
            quote!(#ident::#variant as #repr as #unsigned)
        }
    });

    quote! {
        #[doc(hidden)]
        const _: () = {
            #layout
            #(const #consts: #unsigned = #discriminants;)*

            #[automatically_derived]
            impl ::wasmguard::__private::GuestType for #ident {
                const SIZE: u32 = #size;
                const ALIGN: u32 = #align;

                #[inline]
                fn read_from(
                    bytes: &[u8],
                ) -> ::wasmguard::__private::Result<Self, ::wasmguard::__private::AccessError> {
                    match <#unsigned as ::wasmguard::__private::GuestType>::read_from(bytes)? {
                        #(#consts => ::wasmguard::__private::Result::Ok(Self::#variants),)*
                        value => ::wasmguard::__private::Result::Err(
                            ::wasmguard::__private::AccessError::InvalidValue {
                                type_name: #name,
                                value: <::core::primitive::u64 as ::core::convert::From<#unsigned>>::from(
                                    value,
                                ),
                            },
                        ),
                    }
                }

                #[inline]
                fn write_to(&self, bytes: &mut [u8]) {
                    let value: #unsigned = match *self {
                        #(Self::#variants => #consts,)*
                    };
                    <#unsigned as ::wasmguard::__private::GuestType>::write_to(&value, bytes);
                }
            }
        };
    }
}

/// `GuestType` for an enum with fields: a C tagged union. Reading validates the tag (an
/// unknown one is `AccessError::InvalidValue`) and reads only the live variant's fields;
/// writing zeroes every byte first (padding and the unused part of the union).
fn expand_tagged(def: &TaggedDef) -> TokenStream {
    let ident = &def.ident;
    let name = ident.to_string();
    let layout = layout::tagged_layout(def);
    let (size, align) = (Names::size(), Names::align());
    let repr = &def.repr.ty;
    let unsigned = &def.repr.unsigned;
    let tag_range = Names::tag_range();
    let read_item = format_ident!("read_from");
    let write_item = format_ident!("write_to");
    let consts: Vec<_> = (0..def.variants.len()).map(|i| format_ident!("__WASMGUARD_DISCRIMINANT_{}", i)).collect();
    // Discriminants as the language assigns them: the written one, or the previous plus one.
    let mut discriminants = Vec::new();
    for (i, variant) in def.variants.iter().enumerate() {
        let value = match (&variant.discriminant, i) {
            (Some(expr), _) => quote!((#expr) as #repr as #unsigned),
            (None, 0) => quote!(0),
            (None, _) => {
                let previous = &consts[i - 1];
                quote!(#previous.wrapping_add(1))
            }
        };
        discriminants.push(value);
    }
    let mut read_arms = Vec::new();
    let mut write_arms = Vec::new();
    for (v, variant) in def.variants.iter().enumerate() {
        let vident = &variant.ident;
        let tag = &consts[v];
        let path = quote!(Self::#vident);
        let reads = variant.fields.iter().enumerate().map(|(index, field)| {
            let read = layout::guest_type_item(&field.ty, &read_item);
            let range = Names::variant_field_range(v, index);
            quote!(#read(&bytes[#range])?)
        });
        let value = construct(&path, variant.shape, &variant.fields, reads);
        read_arms.push(quote!(#tag => ::wasmguard::__private::Result::Ok(#value),));
        let bindings: Vec<_> = (0..variant.fields.len()).map(|i| format_ident!("__wasmguard_field_{}", i)).collect();
        let pattern = match variant.shape {
            Shape::Named => {
                let members = variant.fields.iter().map(|f| &f.member);
                quote!(#path { #(#members: #bindings),* })
            }
            Shape::Tuple => quote!(#path(#(#bindings),*)),
            Shape::Unit => quote!(#path),
        };
        let writes = variant.fields.iter().enumerate().map(|(index, field)| {
            let write = layout::guest_type_item(&field.ty, &write_item);
            let range = Names::variant_field_range(v, index);
            let binding = &bindings[index];
            quote!(#write(#binding, &mut bytes[#range]);)
        });
        write_arms.push(quote! {
            #pattern => {
                <#unsigned as ::wasmguard::__private::GuestType>::write_to(&#tag, &mut bytes[#tag_range]);
                #(#writes)*
            }
        });
    }

    quote! {
        #[doc(hidden)]
        const _: () = {
            #layout
            #(const #consts: #unsigned = #discriminants;)*

            #[automatically_derived]
            impl ::wasmguard::__private::GuestType for #ident {
                const SIZE: u32 = #size;
                const ALIGN: u32 = #align;

                #[inline]
                fn read_from(
                    bytes: &[u8],
                ) -> ::wasmguard::__private::Result<Self, ::wasmguard::__private::AccessError> {
                    let bytes = &bytes[..#size as usize];
                    #[allow(unreachable_patterns)]
                    match <#unsigned as ::wasmguard::__private::GuestType>::read_from(&bytes[#tag_range])? {
                        #(#read_arms)*
                        value => ::wasmguard::__private::Result::Err(
                            ::wasmguard::__private::AccessError::InvalidValue {
                                type_name: #name,
                                value: <::core::primitive::u64 as ::core::convert::From<#unsigned>>::from(
                                    value,
                                ),
                            },
                        ),
                    }
                }

                #[inline]
                fn write_to(&self, bytes: &mut [u8]) {
                    let bytes = &mut bytes[..#size as usize];
                    bytes.fill(0);
                    match self {
                        #(#write_arms)*
                    }
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn expansion(src: &str) -> String {
        let input: syn::DeriveInput = syn::parse_str(src).expect("valid Rust");
        let out = expand(&parse(&input).expect("accepted"));
        // The output is valid items.
        syn::parse2::<syn::File>(out.clone()).expect("expansion parses as items");
        out.to_string()
    }

    fn assert_safe_and_absolute(out: &str) {
        assert!(!out.contains("unsafe"), "{out}");
        // Every path into the runtime is absolute and goes through `__private`.
        for (i, _) in out.match_indices("wasmguard ::") {
            assert!(out[..i].ends_with(":: "), "relative path at {i}: {}", &out[i.saturating_sub(40)..]);
            assert!(out[i..].starts_with("wasmguard :: __private ::"), "{out}");
        }
    }

    #[test]
    fn struct_expansion_is_safe_and_absolute() {
        for src in [
            "#[repr(C)] pub struct Point { pub x: u8, pub y: u64, z: u16 }",
            "#[repr(C)] pub(crate) struct Pair(pub u32, [u8; 3]);",
            "#[repr(C)] struct Unit;",
            "#[repr(C)] struct Empty {}",
        ] {
            assert_safe_and_absolute(&expansion(src));
        }
    }

    #[test]
    fn enum_expansion_is_safe_and_absolute() {
        let out = expansion("#[repr(i8)] enum E { A = -1, B }");
        assert_safe_and_absolute(&out);
        assert!(out.contains("E :: A as i8 as u8"), "{out}");
        assert!(out.contains("type_name : \"E\""), "{out}");
    }

    #[test]
    fn tagged_expansion_is_safe_and_absolute() {
        let out = expansion("#[repr(C, u8)] enum E { A(u32), B { x: u64 } = 4, C }");
        assert_safe_and_absolute(&out);
        assert!(
            out.contains("__WASMGUARD_DISCRIMINANT_2 : u8 = __WASMGUARD_DISCRIMINANT_1 . wrapping_add (1)"),
            "{out}"
        );
        assert!(out.contains("type_name : \"E\""), "{out}");
    }

    #[test]
    fn fields_struct_mirrors_names_and_visibility() {
        let out = expansion("#[repr(C)] pub struct P { pub x: u8, y: u64 }");
        assert!(out.contains("pub struct PGuestFields"), "{out}");
        assert!(out.contains("\"] pub x : :: wasmguard :: __private :: Field < P , u8 >"), "{out}");
        assert!(out.contains("\"] y : :: wasmguard :: __private :: Field < P , u64 >"), "{out}");
        let out = expansion("#[repr(C)] struct T(pub u8, u16);");
        assert!(out.contains("struct TGuestFields (# [doc = \"Offset of field `0`.\"] pub :: wasmguard"), "{out}");
    }
}
