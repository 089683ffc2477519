//! Small readings of the syn tree typify makes: names, JSON keys, docs and
//! the shapes of field types.

use std::collections::BTreeSet;

use quote::quote;

pub(super) fn self_name(imp: &syn::ItemImpl) -> Option<String> {
    match imp.self_ty.as_ref() {
        syn::Type::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

pub(super) fn doc_text(attr: &syn::Attribute) -> Option<String> {
    if !attr.path().is_ident("doc") {
        return None;
    }
    match &attr.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

/// The structs among `items`, by name.
pub(super) fn struct_names(items: &[syn::Item]) -> BTreeSet<String> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect()
}

pub(super) fn find_struct<'f>(items: &'f mut [syn::Item], name: &str) -> Option<&'f mut syn::ItemStruct> {
    items.iter_mut().find_map(|item| match item {
        syn::Item::Struct(s) if s.ident == name => Some(s),
        _ => None,
    })
}

/// The JSON key a typify field reads: its `rename`, or its own name.
pub(super) fn json_key(field: &syn::Field) -> Option<String> {
    let mut key = field.ident.as_ref().map(|i| i.to_string());
    for attr in &field.attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                key = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    key
}

/// The words of a type that name generated structs.
pub(super) fn type_words<'n>(ty: &syn::Type, names: &'n BTreeSet<String>) -> Vec<&'n String> {
    let text = quote!(#ty).to_string();
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').filter_map(|w| names.get(w)).collect()
}

/// The `Option<T>` of a field type, as `T`.
pub(super) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

/// Whether `ty` is one of the id newtypes of [`crate::spec::ID_FORMATS`].
pub(super) fn is_id_type(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| crate::spec::ID_FORMATS.iter().any(|(_, t)| s.ident == t)))
}

/// Whether `ty` is a plain `String`.
pub(super) fn is_string(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "String" && s.arguments.is_none()))
}
