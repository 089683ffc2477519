//! `mod.rs`: one module per group, and the table of every endpoint.

use proc_macro2::{Ident, Span};
use quote::quote;

use super::naming::doc_lines;
use crate::load::LoadedSpec;
use crate::names::static_ident;
use crate::tokens::format;

/// The text of `mod.rs`.
pub(super) fn mod_file(specs: &[LoadedSpec]) -> String {
    let modules = specs.iter().map(|loaded| {
        let ident = Ident::new(&loaded.spec.group, Span::call_site());
        let file = format!("{}.rs", loaded.spec.group);
        let docs = doc_lines(&loaded.spec.summary);
        let source = format!(" Generated from `spec/{}`.", loaded.file);
        quote! {
            #(#[doc = #docs])*
            ///
            #[doc = #source]
            pub mod #ident {
                include!(#file);
            }
        }
    });
    let all = specs.iter().flat_map(|loaded| {
        let group = Ident::new(&loaded.spec.group, Span::call_site());
        loaded.spec.endpoints.iter().map(move |e| {
            let ident = static_ident(e);
            quote!(&#group::endpoints::#ident)
        })
    });
    let tokens = quote! {
        #(#modules)*

        /// Every spec'd endpoint: groups in spec-file order, endpoints in spec order.
        pub static ENDPOINTS: &[&crate::Endpoint] = &[#(#all),*];
    };
    format(tokens, "spec/")
}
