//! The second pass over a group's types, once every group is typified:
//! spec field order, docs, derives, and the impls users need.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::builder::{builder, Constructor};
use super::redacted::{redacted_debug, sensitive_fields};
use super::syntax::{doc_text, find_struct, json_key};
use super::typify::GroupTypes;
use crate::spec::SpecSchema;

/// What the second pass needs to know about the whole API.
pub(crate) struct Finish<'a> {
    /// Types users build (reachable from a request or query), by (file, name).
    pub built: &'a BTreeSet<(String, String)>,
    /// The request and query types themselves, by (file, name).
    pub inputs: &'a BTreeSet<(String, String)>,
    /// Doc lines naming the calls that use each root type, by name.
    pub roots: BTreeMap<String, Vec<String>>,
}

/// The `types` module of one group, in its final shape, and how each type
/// users build is constructed, by name.
pub(crate) fn finish(group: GroupTypes, finish: &Finish<'_>) -> (TokenStream, BTreeMap<String, Constructor>) {
    let GroupTypes { file, mut items, imports, schemas, unions, .. } = group;
    for (name, schema) in &schemas {
        if let Some(item) = find_struct(&mut items, name) {
            shape_struct(item, schema);
        }
    }
    let mut out = Vec::new();
    let mut constructors = BTreeMap::new();
    for mut item in items {
        let syn::Item::Struct(s) = &mut item else {
            out.push(quote!(#item));
            continue;
        };
        let name = s.ident.to_string();
        let schema = schemas.get(&name);
        if let Some(lines) = finish.roots.get(&name) {
            let mut at = s.attrs.iter().rposition(|a| doc_text(a).is_some()).map_or(0, |i| i + 1);
            for line in lines {
                s.attrs.insert(at, syn::parse_quote!(#[doc = ""]));
                s.attrs.insert(at + 1, syn::parse_quote!(#[doc = #line]));
                at += 2;
            }
        }
        tidy_docs(s);
        canonical_derives(s);
        s.attrs.push(syn::parse_quote!(#[non_exhaustive]));
        let sensitive = schema.map(sensitive_fields).unwrap_or_default();
        let mut extra = Vec::new();
        if !sensitive.is_empty() {
            remove_derive(s, "Debug");
            extra.push(redacted_debug(s, &sensitive));
        }
        let key = (file.clone(), name.clone());
        if finish.built.contains(&key) {
            if let Some(schema) = schema {
                // A derived `Default` would leave a `const` field empty.
                if schema.properties.iter().flat_map(|p| p.values()).any(|p| p.constant.is_some()) {
                    remove_derive(s, "Default");
                }
                let (tokens, constructor) = builder(s, schema, &unions, finish.inputs.contains(&key));
                extra.push(tokens);
                constructors.insert(name, constructor);
            }
        }
        out.push(quote!(#item));
        out.extend(extra);
    }
    let uses = imports.iter().map(|(name, (_, group))| {
        let name = format_ident!("{name}");
        let group = format_ident!("{group}");
        quote!(pub use super::super::#group::types::#name;)
    });
    let tokens = quote! {
        #(#uses)*
        #(#out)*
    };
    (tokens, constructors)
}

/// Fields in spec order with the required ones first, each documented, with
/// its aliases.
fn shape_struct(item: &mut syn::ItemStruct, schema: &SpecSchema) {
    let syn::Fields::Named(fields) = &mut item.fields else {
        return;
    };
    let Some(props) = schema.properties.as_ref() else {
        return;
    };
    let required: BTreeSet<&str> = schema.required.iter().flatten().map(String::as_str).collect();
    let rank = |field: &syn::Field| {
        let key = json_key(field).unwrap_or_default();
        let position = props.get_index_of(&key).unwrap_or(usize::MAX);
        (!required.contains(key.as_str()), position)
    };
    let mut list: Vec<syn::Field> = std::mem::take(&mut fields.named).into_iter().collect();
    list.sort_by_key(rank);
    for field in &mut list {
        let Some(key) = json_key(field) else { continue };
        let Some(prop) = props.get(&key) else { continue };
        if !field.attrs.iter().any(|a| doc_text(a).is_some()) {
            if let Some(text) = &prop.description {
                let text = format!(" {text}");
                field.attrs.insert(0, syn::parse_quote!(#[doc = #text]));
            }
        }
        if prop.flatten {
            field.attrs.retain(|a| !a.path().is_ident("serde"));
            field.attrs.push(syn::parse_quote!(#[serde(flatten)]));
        }
        if let Some(id_type) = prop.id_type() {
            let ty = &field.ty;
            let text = quote!(#ty)
                .to_string()
                .replace(":: std :: string :: String", "String")
                .replace("String", &format!("crate :: {id_type}"));
            if let Ok(typed) = syn::parse_str::<syn::Type>(&text) {
                field.ty = typed;
            }
        }
        let aliases: Vec<&String> = prop.aliases.iter().flatten().collect();
        if !aliases.is_empty() {
            // Into the field's `#[serde(...)]`, when it has one.
            match field.attrs.iter_mut().find(|a| a.path().is_ident("serde")) {
                Some(attr) => {
                    if let syn::Meta::List(list) = &mut attr.meta {
                        let tokens = &list.tokens;
                        list.tokens = quote!(#(alias = #aliases,)* #tokens);
                    }
                }
                None => field.attrs.push(syn::parse_quote!(#[serde(#(alias = #aliases),*)])),
            }
        }
    }
    fields.named = list.into_iter().collect();
}

/// One `///` line per line of text, with the usual leading space.
fn tidy_docs(s: &mut syn::ItemStruct) {
    fn split(attrs: &mut Vec<syn::Attribute>) {
        let mut out = Vec::with_capacity(attrs.len());
        for attr in attrs.drain(..) {
            match doc_text(&attr) {
                Some(text) => {
                    for line in text.split('\n') {
                        let line = if line.is_empty() || line.starts_with(' ') {
                            line.to_owned()
                        } else {
                            format!(" {line}")
                        };
                        out.push(syn::parse_quote!(#[doc = #line]));
                    }
                }
                None => out.push(attr),
            }
        }
        *attrs = out;
    }
    split(&mut s.attrs);
    for field in s.fields.iter_mut() {
        split(&mut field.attrs);
    }
}

/// The derives every generated type uses, in one order: what typify chose
/// (plus `Default` when every field is optional).
const DERIVE_ORDER: &[&str] =
    &["Clone", "Debug", "Default", "PartialEq", "::serde::Deserialize", "::serde::Serialize"];

/// One `#[derive]` with the derives of [`DERIVE_ORDER`] the struct had, in that order.
fn canonical_derives(s: &mut syn::ItemStruct) {
    let mut present = BTreeSet::new();
    s.attrs.retain(|attr| {
        if !attr.path().is_ident("derive") {
            return true;
        }
        let _ = attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            let text = quote!(#path).to_string().replace(' ', "");
            present.insert(text.trim_start_matches("::").to_owned());
            Ok(())
        });
        false
    });
    let derives: Vec<TokenStream> = DERIVE_ORDER
        .iter()
        .filter(|d| present.contains(d.trim_start_matches("::")))
        .map(|d| d.parse().expect("a path"))
        .collect();
    let at = s.attrs.iter().rposition(|a| doc_text(a).is_some()).map_or(0, |i| i + 1);
    s.attrs.insert(at, syn::parse_quote!(#[derive(#(#derives),*)]));
}

fn remove_derive(s: &mut syn::ItemStruct, name: &str) {
    for attr in &mut s.attrs {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let mut kept: Vec<syn::Path> = Vec::new();
        let _ = attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident(name) {
                kept.push(meta.path.clone());
            }
            Ok(())
        });
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
}
