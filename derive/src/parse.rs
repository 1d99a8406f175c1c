//! Validation of the derive input: turns a [`syn::DeriveInput`] into a [`Input`] that
//! the layout and code generation can trust, or into `syn::Error`s with a span and a
//! message that says what to do instead.
//!
//! Everything the derive refuses is refused here: a struct without `#[repr(C)]`,
//! `repr(packed)` / `repr(transparent)`, unions, enums with fields or without an integer
//! repr, generic parameters and lifetimes, and field types that cannot live in guest
//! memory (`usize`/`isize`, references, raw pointers, function pointers, `String`,
//! `Vec`...). Field types are otherwise only required to implement `GuestType`, which the
//! compiler checks on the generated code.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DataEnum, DataStruct, DeriveInput, Fields, GenericArgument, GenericParam, Ident, LitInt, Member,
    PathArguments, Type, Visibility,
};

/// A validated derive input.
pub(crate) enum Input {
    /// A `#[repr(C)]` struct.
    Struct(StructDef),
    /// A field-less enum with an integer repr.
    Enum(EnumDef),
    /// An enum with fields and `#[repr(C, <int>)]`: a C tagged union.
    Tagged(TaggedDef),
}

/// How a struct spells its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `struct S { a: A }`
    Named,
    /// `struct S(A);`
    Tuple,
    /// `struct S;`
    Unit,
}

/// A `#[repr(C)]` struct accepted by the derive.
pub(crate) struct StructDef {
    /// The struct's name.
    pub(crate) ident: Ident,
    /// The struct's visibility (given to the generated `<Name>GuestFields` too).
    pub(crate) vis: Visibility,
    /// Named, tuple or unit.
    pub(crate) shape: Shape,
    /// The fields, in declaration (and so layout) order.
    pub(crate) fields: Vec<FieldDef>,
    /// `N` of `#[repr(align(N))]`, if any: the guest alignment is raised to it.
    pub(crate) repr_align: Option<u32>,
    /// Layout assertions from `#[guest(size = .., align = ..)]`.
    pub(crate) expect: Expectations,
}

/// A field of a [`StructDef`].
pub(crate) struct FieldDef {
    /// `self.<member>`: the name, or the index of a tuple field.
    pub(crate) member: Member,
    /// The field's visibility (given to its `Field` in `<Name>GuestFields`).
    pub(crate) vis: Visibility,
    /// The field's type, which must implement `GuestType`.
    pub(crate) ty: Type,
    /// Layout assertion from `#[guest(offset = ..)]`.
    pub(crate) expect_offset: Option<Expected>,
}

/// A field-less enum accepted by the derive.
pub(crate) struct EnumDef {
    /// The enum's name.
    pub(crate) ident: Ident,
    /// The integer type of `#[repr(..)]`.
    pub(crate) repr: IntRepr,
    /// The variants, in declaration order.
    pub(crate) variants: Vec<Ident>,
    /// Layout assertions from `#[guest(size = .., align = ..)]`.
    pub(crate) expect: Expectations,
}

/// An enum with fields, `#[repr(C, u8)]` (or another integer): laid out as the C struct
/// `{ tag; union { struct variant_0 { fields.. }; .. } }`, which is also what Rust gives
/// that repr.
pub(crate) struct TaggedDef {
    /// The enum's name.
    pub(crate) ident: Ident,
    /// The integer type of the tag.
    pub(crate) repr: IntRepr,
    /// The variants, in declaration order.
    pub(crate) variants: Vec<VariantDef>,
    /// Layout assertions from `#[guest(size = .., align = ..)]`.
    pub(crate) expect: Expectations,
}

/// A variant of a [`TaggedDef`].
pub(crate) struct VariantDef {
    /// The variant's name.
    pub(crate) ident: Ident,
    /// Named, tuple or unit.
    pub(crate) shape: Shape,
    /// The fields, laid out as a `#[repr(C)]` struct inside the union. A field's
    /// `#[guest(offset = N)]` is checked against its offset from the start of the enum.
    pub(crate) fields: Vec<FieldDef>,
    /// `= expr`, if written.
    pub(crate) discriminant: Option<syn::Expr>,
}

/// An integer type usable as an enum's repr.
#[derive(Clone, Debug)]
pub(crate) struct IntRepr {
    /// The repr type as written (`u8`, `i32`...).
    pub(crate) ty: Ident,
    /// The unsigned type of the same width, used to read and report raw values.
    pub(crate) unsigned: Ident,
}

/// Layout assertions written by the user with `#[guest(..)]` on the type.
#[derive(Default)]
pub(crate) struct Expectations {
    /// `#[guest(size = N)]`.
    pub(crate) size: Option<Expected>,
    /// `#[guest(align = N)]`.
    pub(crate) align: Option<Expected>,
    /// `#[guest(arbitrary)]`: also derive `arbitrary::Arbitrary` (with the runtime's
    /// `fuzzing` feature).
    pub(crate) arbitrary: bool,
}

/// A number the user expects the computed layout to have, with the span to blame.
#[derive(Clone, Copy)]
pub(crate) struct Expected {
    /// The expected value in bytes.
    pub(crate) value: u32,
    /// Where it was written.
    pub(crate) span: Span,
}

/// Collects several errors so that one compile reports all of them.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    /// Records an error at `span`.
    fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push_error(syn::Error::new(span, message));
    }

    /// Records an error spanning all of `tokens` (a whole type, not only its first token).
    fn push_spanned(&mut self, tokens: impl quote::ToTokens, message: impl std::fmt::Display) {
        self.push_error(syn::Error::new_spanned(tokens, message));
    }

    /// Records an already built error.
    fn push_error(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// `Err` with every recorded error, or `Ok(value)` if there was none. A missing
    /// `value` always comes with a recorded error; should it not, the error is at `span`.
    fn finish<T>(self, value: Option<T>, span: Span) -> syn::Result<T> {
        match (self.0, value) {
            (Some(error), _) => Err(error),
            (None, Some(value)) => Ok(value),
            (None, None) => Err(syn::Error::new(span, "#[derive(GuestType)] cannot derive this type")),
        }
    }
}

/// Validates the input of `#[derive(GuestType)]`.
///
/// # Errors
///
/// Every reason the type cannot be given a guest layout, each with the span of the
/// offending item.
pub(crate) fn parse(input: &DeriveInput) -> syn::Result<Input> {
    let mut errors = Errors::default();
    check_generics(input, &mut errors);
    let repr = parse_repr(&input.attrs, &mut errors);
    let expect = parse_type_attrs(&input.attrs, &mut errors);
    let def = match &input.data {
        Data::Struct(data) => Some(Input::Struct(parse_struct(input, data, &repr, expect, &mut errors))),
        Data::Enum(data)
            if data.variants.iter().any(|v| !matches!(v.fields, Fields::Unit)) || (repr.c && repr.int.is_some()) =>
        {
            parse_tagged(input, data, &repr, expect, &mut errors).map(Input::Tagged)
        }
        Data::Enum(data) => parse_enum(input, data, &repr, expect, &mut errors).map(Input::Enum),
        Data::Union(data) => {
            errors.push(
                data.union_token.span,
                "unions are not supported by #[derive(GuestType)]: which field is live cannot \
                 be known from guest bytes; use a #[repr(C)] struct, or a field-less enum as a tag \
                 next to a byte array",
            );
            None
        }
    };
    errors.finish(def, input.ident.span())
}

/// Refuses generic parameters and lifetimes.
fn check_generics(input: &DeriveInput, errors: &mut Errors) {
    for param in &input.generics.params {
        match param {
            GenericParam::Lifetime(lt) => errors.push(
                lt.span(),
                "lifetimes are not supported by #[derive(GuestType)]: a value read from guest \
                 memory is a copy that borrows nothing; use WasmPtr<T> for guest pointers",
            ),
            GenericParam::Type(_) | GenericParam::Const(_) => errors.push_spanned(
                param,
                "generic guest types are not supported by #[derive(GuestType)]; use concrete \
                 types",
            ),
        }
    }
}

/// What the `#[repr(..)]` attributes of the type say.
#[derive(Default)]
struct Repr {
    /// `repr(C)` is present.
    c: bool,
    /// `N` of `repr(align(N))`.
    align: Option<(u32, Span)>,
    /// An integer repr (`u8`, `i32`...), with its span.
    int: Option<Ident>,
    /// A repr was refused with its own error, so a missing `C` or integer repr is not
    /// reported again.
    refused: bool,
}

/// Parses every `#[repr(..)]`, refusing the reprs the derive does not support.
fn parse_repr(attrs: &[Attribute], errors: &mut Errors) -> Repr {
    let mut repr = Repr::default();
    let mut refusals = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let mut refuse = |ident: &Ident, message: String| refusals.push((ident.span(), message));
        let result = attr.parse_nested_meta(|meta| {
            let Some(ident) = meta.path.get_ident() else {
                return Err(meta.error("unrecognized repr"));
            };
            let name = ident.to_string();
            match name.as_str() {
                "C" => repr.c = true,
                "align" => {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let lit: LitInt = content.parse()?;
                    let value: u32 = lit.base10_parse()?;
                    repr.align = Some((value, lit.span()));
                }
                "packed" => {
                    if meta.input.peek(syn::token::Paren) {
                        let content;
                        syn::parenthesized!(content in meta.input);
                        let _: LitInt = content.parse()?;
                    }
                    refuse(
                        ident,
                        "#[repr(packed)] is not supported by #[derive(GuestType)]: the guest \
                         layout is the natural wasm32 C layout; remove `packed` (to match a packed \
                         guest struct, use byte arrays such as [u8; 4] for the unaligned fields)"
                            .to_owned(),
                    );
                }
                "transparent" => refuse(
                    ident,
                    "#[repr(transparent)] is not supported by #[derive(GuestType)]; use #[repr(C)]".to_owned(),
                ),
                "usize" | "isize" => refuse(
                    ident,
                    format!(
                        "#[repr({name})] is not supported by #[derive(GuestType)]: `{name}` has \
                         the host's size; use #[repr({})]: the guest is wasm32",
                        if name == "usize" { "u32" } else { "i32" }
                    ),
                ),
                "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" => {
                    repr.int = Some(ident.clone());
                }
                "u128" | "i128" => refuse(
                    ident,
                    format!(
                        "#[repr({name})] is not supported by #[derive(GuestType)]; use u8, u16, \
                         u32, u64 or their signed forms"
                    ),
                ),
                // `Rust` and anything new: the type will fail the `repr(C)` check.
                _ => {}
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push_error(error);
        }
    }
    repr.refused = !refusals.is_empty();
    for (span, message) in refusals {
        errors.push(span, message);
    }
    repr
}

/// Parses `#[guest(size = N, align = N)]` on the type.
fn parse_type_attrs(attrs: &[Attribute], errors: &mut Errors) -> Expectations {
    let mut expect = Expectations::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("guest")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("arbitrary") {
                if expect.arbitrary {
                    return Err(meta.error("duplicate #[guest] attribute"));
                }
                expect.arbitrary = true;
                return Ok(());
            }
            let slot = if meta.path.is_ident("size") {
                &mut expect.size
            } else if meta.path.is_ident("align") {
                &mut expect.align
            } else {
                return Err(meta.error(
                    "unknown #[guest] attribute: on a struct or enum, expected \
                     `size = N`, `align = N` or `arbitrary` (on a field: `offset = N`)",
                ));
            };
            if slot.is_some() {
                return Err(meta.error("duplicate #[guest] attribute"));
            }
            let lit: LitInt = meta.value()?.parse()?;
            let value: u32 = lit.base10_parse()?;
            if meta.path.is_ident("align") && !value.is_power_of_two() {
                return Err(syn::Error::new(lit.span(), "#[guest(align = N)]: N must be a power of two"));
            }
            *slot = Some(Expected { value, span: lit.span() });
            Ok(())
        });
        if let Err(error) = result {
            errors.push_error(error);
        }
    }
    expect
}

/// Parses `#[guest(offset = N)]` on a field.
fn parse_field_attrs(attrs: &[Attribute], errors: &mut Errors) -> Option<Expected> {
    let mut offset = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("guest")) {
        let result = attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("offset") {
                return Err(meta.error(
                    "unknown #[guest] attribute: on a field, expected `offset = N` \
                     (on the struct: `size = N`, `align = N`, `arbitrary`)",
                ));
            }
            if offset.is_some() {
                return Err(meta.error("duplicate #[guest] attribute"));
            }
            let lit: LitInt = meta.value()?.parse()?;
            offset = Some(Expected { value: lit.base10_parse()?, span: lit.span() });
            Ok(())
        });
        if let Err(error) = result {
            errors.push_error(error);
        }
    }
    offset
}

/// Validates a struct.
fn parse_struct(
    input: &DeriveInput,
    data: &DataStruct,
    repr: &Repr,
    expect: Expectations,
    errors: &mut Errors,
) -> StructDef {
    if !repr.c && !repr.refused {
        errors.push(
            input.ident.span(),
            "#[derive(GuestType)] needs #[repr(C)] on structs: add #[repr(C)] so the guest \
             layout is well defined",
        );
    }
    if let Some(int) = &repr.int {
        errors.push(int.span(), "an integer repr is for enums; a guest struct takes #[repr(C)]");
    }
    let repr_align = repr.align.map(|(value, span)| {
        if !value.is_power_of_two() {
            errors.push(span, "#[repr(align(N))]: N must be a power of two");
        }
        value
    });
    let shape = shape_of(&data.fields);
    let fields = parse_fields(&data.fields, errors);
    StructDef { ident: input.ident.clone(), vis: input.vis.clone(), shape, fields, repr_align, expect }
}

/// How `fields` are spelled.
fn shape_of(fields: &Fields) -> Shape {
    match fields {
        Fields::Named(_) => Shape::Named,
        Fields::Unnamed(_) => Shape::Tuple,
        Fields::Unit => Shape::Unit,
    }
}

/// Validates the fields of a struct or of an enum variant.
fn parse_fields(fields: &Fields, errors: &mut Errors) -> Vec<FieldDef> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            check_field_type(&field.ty, errors);
            let member = match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(syn::Index { index: index as u32, span: field.ty.span() }),
            };
            FieldDef {
                member,
                vis: field.vis.clone(),
                ty: field.ty.clone(),
                expect_offset: parse_field_attrs(&field.attrs, errors),
            }
        })
        .collect()
}

/// The unsigned integer of the same width as the repr `int`.
fn int_repr(int: &Ident) -> IntRepr {
    let unsigned = match int.to_string().as_str() {
        "u8" | "i8" => "u8",
        "u16" | "i16" => "u16",
        "u32" | "i32" => "u32",
        _ => "u64",
    };
    IntRepr { ty: int.clone(), unsigned: Ident::new(unsigned, int.span()) }
}

/// Validates an enum with fields (a tagged union). `None` only if an error was recorded.
fn parse_tagged(
    input: &DeriveInput,
    data: &DataEnum,
    repr: &Repr,
    expect: Expectations,
    errors: &mut Errors,
) -> Option<TaggedDef> {
    if let Some((_, span)) = repr.align {
        errors.push(span, "#[repr(align(N))] on enums is not supported by #[derive(GuestType)]");
    }
    let int = match (&repr.int, repr.c) {
        (Some(int), true) => Some(int.clone()),
        _ if repr.refused => None,
        (Some(int), false) => {
            errors.push(
                int.span(),
                format!(
                    "enums with fields need #[repr(C, {int})] for #[derive(GuestType)]: the guest \
                     layout is the C tagged union `struct {{ {int} tag; union {{ .. }} }}`; \
                     #[repr({int})] alone gives each variant its own layout"
                ),
            );
            None
        }
        (None, _) => {
            errors.push(
                input.ident.span(),
                "#[derive(GuestType)] needs #[repr(C, u8)] (or another integer tag: u16, u32...) \
                 on enums with fields: the guest layout is the C tagged union \
                 `struct { u8 tag; union { .. } }`",
            );
            None
        }
    };
    if data.variants.is_empty() {
        errors.push(input.ident.span(), "an enum without variants has no guest values; add a variant");
    }
    let mut variants = Vec::new();
    for variant in &data.variants {
        for attr in variant.attrs.iter().filter(|a| a.path().is_ident("guest")) {
            errors.push_spanned(
                attr,
                "#[guest] attributes are not supported on enum variants (on a variant's field: \
                 `offset = N`, from the start of the enum)",
            );
        }
        variants.push(VariantDef {
            ident: variant.ident.clone(),
            shape: shape_of(&variant.fields),
            fields: parse_fields(&variant.fields, errors),
            discriminant: variant.discriminant.as_ref().map(|(_, expr)| expr.clone()),
        });
    }
    let int = int?;
    Some(TaggedDef { ident: input.ident.clone(), repr: int_repr(&int), variants, expect })
}

/// Validates an enum. `None` only if an error was recorded.
fn parse_enum(
    input: &DeriveInput,
    data: &DataEnum,
    repr: &Repr,
    expect: Expectations,
    errors: &mut Errors,
) -> Option<EnumDef> {
    for variant in &data.variants {
        for attr in variant.attrs.iter().filter(|a| a.path().is_ident("guest")) {
            errors.push_spanned(attr, "#[guest] attributes are not supported on enum variants");
        }
    }
    if let Some((_, span)) = repr.align {
        errors.push(span, "#[repr(align(N))] on enums is not supported by #[derive(GuestType)]");
    }
    let Some(int) = &repr.int else {
        if repr.refused {
            return None;
        }
        errors.push(
            input.ident.span(),
            "#[derive(GuestType)] needs an integer repr on enums: add #[repr(u8)], #[repr(u16)] \
             or #[repr(u32)] (or a signed one) so the guest size is well defined",
        );
        return None;
    };
    Some(EnumDef {
        ident: input.ident.clone(),
        repr: int_repr(int),
        variants: data.variants.iter().map(|v| v.ident.clone()).collect(),
        expect,
    })
}

/// Refuses field types that cannot live in guest memory, looking inside arrays and
/// generic arguments (`[usize; 4]`, `WasmPtr<&u8>`).
fn check_field_type(ty: &Type, errors: &mut Errors) {
    match ty {
        Type::Reference(r) => errors.push_spanned(
            r,
            "references cannot be read from guest memory: a guest pointer is a u32 guest \
             address; use WasmPtr<T>",
        ),
        Type::Ptr(p) => errors.push_spanned(
            p,
            "raw pointers are host addresses and cannot be read from guest memory: a guest \
             pointer is a u32 guest address; use WasmPtr<T>",
        ),
        Type::BareFn(f) => errors.push_spanned(
            f,
            "function pointers cannot be read from guest memory: a guest function pointer is a \
             u32 table index; use u32",
        ),
        Type::TraitObject(_) | Type::ImplTrait(_) => {
            errors.push_spanned(ty, "trait objects cannot be read from guest memory; use a concrete GuestType")
        }
        Type::Slice(s) => errors.push_spanned(
            s,
            "unsized slices cannot be fields of a guest type; use a fixed-size array [T; N], \
             or a WasmPtr<T> and a u32 length",
        ),
        Type::Array(a) => check_field_type(&a.elem, errors),
        Type::Paren(p) => check_field_type(&p.elem, errors),
        Type::Group(g) => check_field_type(&g.elem, errors),
        Type::Tuple(t) => t.elems.iter().for_each(|e| check_field_type(e, errors)),
        Type::Path(p) => {
            if let Some(qself) = &p.qself {
                check_field_type(&qself.ty, errors);
            }
            let Some(last) = p.path.segments.last() else {
                return;
            };
            if let Some(message) = host_only_type(&last.ident) {
                errors.push(last.ident.span(), message);
            }
            for segment in &p.path.segments {
                if let PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let GenericArgument::Type(inner) = arg {
                            check_field_type(inner, errors);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// Why a type named `ident` cannot live in guest memory, if it is a host-only type.
fn host_only_type(ident: &Ident) -> Option<String> {
    let name = ident.to_string();
    let message = match name.as_str() {
        "usize" => "`usize` is not a guest type: it has the host's size; use u32: the guest is \
                    wasm32"
            .to_owned(),
        "isize" => "`isize` is not a guest type: it has the host's size; use i32: the guest is \
                    wasm32"
            .to_owned(),
        "String" | "str" | "CString" | "CStr" | "OsString" | "OsStr" | "PathBuf" | "Path" => {
            format!(
                "`{name}` owns or borrows host memory and cannot be read from guest memory; \
                 store a WasmPtr<u8> and a u32 length (or a fixed-size [u8; N]) and read the \
                 string with WasmPtr::read_utf8"
            )
        }
        "Vec" | "VecDeque" | "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" => format!(
            "`{name}` owns host memory and cannot be read from guest memory; store a WasmPtr<T> \
             and a u32 length (or a fixed-size array [T; N])"
        ),
        "Box" | "Rc" | "Arc" | "Cell" | "RefCell" | "NonNull" => format!(
            "`{name}` is a host pointer or cell and cannot be read from guest memory; a guest \
             pointer is a u32 guest address: use WasmPtr<T>"
        ),
        _ => return None,
    };
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(src: &str) -> String {
        let input: DeriveInput = syn::parse_str(src).expect("valid Rust");
        match parse(&input) {
            Ok(_) => panic!("{src} was accepted"),
            Err(e) => e.into_iter().map(|e| e.to_string() + "\n").collect(),
        }
    }

    fn accepted(src: &str) -> Input {
        let input: DeriveInput = syn::parse_str(src).expect("valid Rust");
        match parse(&input) {
            Ok(input) => input,
            Err(e) => panic!("{src} was refused: {e}"),
        }
    }

    #[test]
    fn accepts_repr_c_structs_of_every_shape() {
        for (src, shape, n) in [
            ("#[repr(C)] struct S { a: u8, b: u64 }", Shape::Named, 2),
            ("#[repr(C)] struct S(u8, [u16; 3]);", Shape::Tuple, 2),
            ("#[repr(C)] struct S;", Shape::Unit, 0),
            ("#[repr(C, align(16))] struct S { p: WasmPtr<u32> }", Shape::Named, 1),
        ] {
            let Input::Struct(def) = accepted(src) else { panic!("not a struct") };
            assert_eq!(def.shape, shape);
            assert_eq!(def.fields.len(), n);
        }
    }

    #[test]
    fn reads_guest_attributes() {
        let Input::Struct(def) =
            accepted("#[repr(C)] #[guest(size = 16, align = 8)] struct S { a: u8, #[guest(offset = 8)] b: u64 }")
        else {
            panic!("not a struct")
        };
        assert_eq!(def.expect.size.map(|e| e.value), Some(16));
        assert_eq!(def.expect.align.map(|e| e.value), Some(8));
        assert!(def.fields[0].expect_offset.is_none());
        assert_eq!(def.fields[1].expect_offset.map(|e| e.value), Some(8));
    }

    #[test]
    fn accepts_field_less_enums_with_int_repr() {
        let Input::Enum(def) = accepted("#[repr(i16)] enum E { A = -1, B = 7, C }") else { panic!("not an enum") };
        assert_eq!(def.repr.ty, "i16");
        assert_eq!(def.repr.unsigned, "u16");
        assert_eq!(def.variants.len(), 3);
    }

    #[test]
    fn accepts_tagged_unions() {
        let Input::Tagged(def) =
            accepted("#[repr(C, u8)] enum E { A(u32), B { x: u64, #[guest(offset = 8)] y: u8 } = 5, C }")
        else {
            panic!("not a tagged union")
        };
        assert_eq!(def.repr.unsigned, "u8");
        assert_eq!(def.variants.len(), 3);
        assert_eq!(def.variants[1].shape, Shape::Named);
        assert!(def.variants[1].discriminant.is_some());
        assert_eq!(def.variants[1].fields[1].expect_offset.map(|e| e.value), Some(8));
        assert_eq!(def.variants[2].shape, Shape::Unit);
    }

    #[test]
    fn refusals_say_what_to_do() {
        for (src, needle) in [
            ("struct S { a: u8 }", "add #[repr(C)]"),
            ("#[repr(C)] struct S { a: usize }", "use u32"),
            ("#[repr(C)] struct S { a: [isize; 2] }", "use i32"),
            ("#[repr(C)] struct S { a: &'static u8 }", "use WasmPtr<T>"),
            ("#[repr(C)] struct S { a: *const u8 }", "use WasmPtr<T>"),
            ("#[repr(C)] struct S { a: String }", "WasmPtr<u8> and a u32 length"),
            ("#[repr(C)] struct S { a: Vec<u8> }", "WasmPtr<T>"),
            ("#[repr(C)] struct S { a: WasmPtr<usize> }", "use u32"),
            ("#[repr(C)] struct S { a: fn() }", "table index"),
            ("#[repr(C)] struct S<T> { a: T }", "use concrete types"),
            ("#[repr(C)] struct S<const N: usize> { a: [u8; N] }", "use concrete types"),
            ("#[repr(C)] struct S<'a> { a: &'a u8 }", "lifetimes are not supported"),
            ("#[repr(C, packed)] struct S { a: u8 }", "packed"),
            ("#[repr(transparent)] struct S { a: u8 }", "use #[repr(C)]"),
            ("#[repr(C, align(3))] struct S { a: u8 }", "power of two"),
            ("#[repr(C)] #[guest(size = 4, size = 4)] struct S { a: u32 }", "duplicate"),
            ("#[repr(C)] #[guest(align = 3)] struct S { a: u8 }", "power of two"),
            ("#[repr(C)] #[guest(offset = 3)] struct S { a: u8 }", "unknown #[guest]"),
            ("#[repr(C)] struct S { #[guest(size = 1)] a: u8 }", "unknown #[guest]"),
            ("#[repr(C)] union U { a: u8 }", "unions are not supported"),
            ("#[repr(u8)] enum E { A(u8) }", "need #[repr(C, u8)]"),
            ("#[repr(u8)] enum E { A { x: u8 } }", "need #[repr(C, u8)]"),
            ("enum E { A(u8) }", "needs #[repr(C, u8)]"),
            ("#[repr(C)] enum E { A(u8) }", "needs #[repr(C, u8)]"),
            ("#[repr(C, u8)] enum E { A(usize) }", "use u32"),
            ("#[repr(C, u8)] enum E { #[guest(offset = 1)] A(u8) }", "enum variants"),
            ("#[repr(C, u8, align(8))] enum E { A(u8) }", "align(N)"),
            ("#[repr(C, u8)] enum E {}", "without variants"),
            ("enum E { A }", "add #[repr(u8)]"),
            ("#[repr(C)] enum E { A }", "add #[repr(u8)]"),
            ("#[repr(usize)] enum E { A }", "use #[repr(u32)]"),
            ("#[repr(u128)] enum E { A }", "not supported"),
            ("#[repr(u8)] enum E { #[guest(offset = 1)] A }", "enum variants"),
        ] {
            let error = error_of(src);
            assert!(error.contains(needle), "{src}: {error:?} lacks {needle:?}");
        }
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let error = error_of("#[repr(C)] struct S { a: usize, b: String, c: &'static u8 }");
        assert_eq!(error.lines().count(), 3, "{error}");
    }
}
