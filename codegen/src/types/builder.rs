//! Constructors and setters for the types users build (requests and queries).

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::syntax::{is_id_type, is_string, json_key, option_inner, type_words};
use crate::spec::SpecSchema;

/// `new` with the required fields, and a setter per optional one.
pub(super) fn builder(s: &syn::ItemStruct, schema: &SpecSchema, unions: &BTreeSet<String>) -> TokenStream {
    let name = &s.ident;
    let required: BTreeSet<&str> = schema.required.iter().flatten().map(String::as_str).collect();
    let props = schema.properties.clone().unwrap_or_default();
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut param_docs = Vec::new();
    let mut setters = Vec::new();
    for field in &s.fields {
        let Some(ident) = &field.ident else { continue };
        let key = json_key(field).unwrap_or_default();
        let description = props.get(&key).and_then(|p| p.description.clone()).unwrap_or_default();
        let first_line = description.lines().next().unwrap_or_default().to_owned();
        let ty = &field.ty;
        if required.contains(key.as_str()) {
            if is_string(ty) {
                params.push(quote!(#ident: impl Into<String>));
                inits.push(quote!(#ident: #ident.into()));
            } else if !type_words(ty, unions).is_empty() || is_id_type(ty) {
                params.push(quote!(#ident: impl Into<#ty>));
                inits.push(quote!(#ident: #ident.into()));
            } else {
                params.push(quote!(#ident: #ty));
                inits.push(quote!(#ident));
            }
            param_docs.push(format!(" - `{ident}`: {first_line}"));
            continue;
        }
        let docs: Vec<String> = description.lines().map(|l| format!(" {l}").trim_end().to_owned()).collect();
        match option_inner(ty) {
            Some(inner) => {
                inits.push(quote!(#ident: None));
                setters.push(quote! {
                    #(#[doc = #docs])*
                    pub fn #ident(mut self, value: impl Into<#inner>) -> Self {
                        self.#ident = Some(value.into());
                        self
                    }
                });
            }
            None => {
                inits.push(quote!(#ident: Default::default()));
                setters.push(quote! {
                    #(#[doc = #docs])*
                    pub fn #ident(mut self, value: #ty) -> Self {
                        self.#ident = value;
                        self
                    }
                });
            }
        }
    }
    let mut new_docs = vec![format!(" A `{name}` with its required fields; the setters add the others.")];
    if !param_docs.is_empty() {
        new_docs.push(String::new());
        new_docs.extend(param_docs);
    }
    let allow = (params.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    quote! {
        impl #name {
            #(#[doc = #new_docs])*
            #allow
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }
            #(#setters)*
        }
    }
}
