//! Tagged unions (`x-tag`) become enums made here: typify has no word for them.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::names::{member_ident, variant_ident};
use crate::spec::{SpecSchema, UnionContent};

/// The enum of a tagged union (`x-tag`): one variant per tag value, its
/// content under a key named after the value (`keyed`) or beside the tag
/// (`inline`); and `From` each variant's content, where that is unambiguous.
pub(super) fn union_items(name: &str, def: &SpecSchema, defs: &BTreeMap<String, SpecSchema>) -> TokenStream {
    let ident = format_ident!("{name}");
    let tag = def.tag.as_deref().unwrap_or_default();
    let keyed = def.content == Some(UnionContent::Keyed);
    let variants = def.variants.clone().unwrap_or_default();
    let mut counts = BTreeMap::new();
    for variant in variants.values() {
        *counts.entry(variant.ref_name().unwrap_or_default().to_owned()).or_insert(0) += 1;
    }
    let mut arms = Vec::new();
    let mut froms = Vec::new();
    for (value, variant) in &variants {
        let content_name = variant.ref_name().unwrap_or_default();
        let content = format_ident!("{content_name}");
        let described = variant.description.clone().or_else(|| defs.get(content_name)?.description.clone());
        let docs = doc_lines_of(described.as_deref().unwrap_or_default());
        let v = variant_ident(value);
        let (arm, build) = if keyed {
            let field = member_ident(value);
            let field_doc = format!(" The `{value}` member.");
            (
                quote! {
                    #(#[doc = #docs])*
                    #[serde(rename = #value)]
                    #v {
                        #[doc = #field_doc]
                        #field: #content,
                    },
                },
                quote!(#ident::#v { #field: content }),
            )
        } else {
            (
                quote! {
                    #(#[doc = #docs])*
                    #[serde(rename = #value)]
                    #v(#content),
                },
                quote!(#ident::#v(content)),
            )
        };
        arms.push(arm);
        if counts.get(content_name) == Some(&1) {
            let doc = format!(" A `{value}` {name}.");
            froms.push(quote! {
                impl ::std::convert::From<#content> for #ident {
                    #[doc = #doc]
                    fn from(content: #content) -> Self {
                        #build
                    }
                }
            });
        }
    }
    let mut docs = doc_lines_of(def.description.as_deref().unwrap_or_default());
    docs.push(String::new());
    docs.push(format!(" The member `{tag}` says which variant it is."));
    quote! {
        #(#[doc = #docs])*
        #[derive(Clone, Debug, PartialEq, ::serde::Deserialize, ::serde::Serialize)]
        #[serde(tag = #tag)]
        #[non_exhaustive]
        // Built once per call and sent: boxing the larger kinds would only
        // make them harder to write.
        #[allow(clippy::large_enum_variant)]
        pub enum #ident {
            #(#arms)*
        }
        #(#froms)*
    }
}

/// One doc line per line of text, with the usual leading space.
fn doc_lines_of(text: &str) -> Vec<String> {
    text.trim_end().lines().map(|l| if l.is_empty() { String::new() } else { format!(" {l}") }).collect()
}
