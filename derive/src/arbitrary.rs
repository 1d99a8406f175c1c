//! `#[guest(arbitrary)]`: an `arbitrary::Arbitrary` impl beside `GuestType`, so that fuzz
//! targets can draw valid values of guest types (hostile *bytes* are the harness's job).
//!
//! The impl is passed through `::wasmguard::__private::derive_arbitrary!`, which emits it
//! when the runtime's `fuzzing` feature is on and a compile error saying so when it is
//! off. Each field is drawn with its own `Arbitrary` impl; an enum draws its variant.

use proc_macro2::TokenStream;
use quote::quote;

use crate::codegen::construct;
use crate::parse::{Input, VariantDef};

/// The `Arbitrary` impl of `input`, or nothing if it did not ask for one.
pub(crate) fn expand(input: &Input) -> TokenStream {
    let (ident, body) = match input {
        Input::Struct(def) if def.expect.arbitrary => {
            (&def.ident, construct(&quote!(Self), def.shape, &def.fields, draws(def.fields.len())))
        }
        Input::Enum(def) if def.expect.arbitrary => {
            let variants = def.variants.iter().map(|v| quote!(Self::#v));
            (&def.ident, choose(def.variants.len(), variants))
        }
        Input::Tagged(def) if def.expect.arbitrary => {
            let variants = def.variants.iter().map(|v: &VariantDef| {
                let ident = &v.ident;
                construct(&quote!(Self::#ident), v.shape, &v.fields, draws(v.fields.len()))
            });
            (&def.ident, choose(def.variants.len(), variants))
        }
        _ => return TokenStream::new(),
    };
    quote! {
        ::wasmguard::__private::derive_arbitrary! {
            #[automatically_derived]
            impl<'arbitrary> ::wasmguard::__private::arbitrary::Arbitrary<'arbitrary> for #ident {
                fn arbitrary(
                    u: &mut ::wasmguard::__private::arbitrary::Unstructured<'arbitrary>,
                ) -> ::wasmguard::__private::arbitrary::Result<Self> {
                    ::wasmguard::__private::Result::Ok(#body)
                }
            }
        }
    }
}

/// One `Arbitrary::arbitrary(u)?` per field.
fn draws(n: usize) -> impl Iterator<Item = TokenStream> {
    (0..n).map(|_| quote!(::wasmguard::__private::arbitrary::Arbitrary::arbitrary(u)?))
}

/// A `match` on a drawn index, one arm per variant (an enum has at least one: the parser
/// refuses empty ones).
fn choose(n: usize, variants: impl Iterator<Item = TokenStream>) -> TokenStream {
    let arms = variants.enumerate().map(|(i, v)| if i + 1 == n { quote!(_ => #v) } else { quote!(#i => #v) });
    quote! {
        match u.choose_index(#n)? {
            #(#arms,)*
        }
    }
}
