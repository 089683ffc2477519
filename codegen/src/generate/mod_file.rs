//! `mod.rs`: one module per group (behind its feature unless core), and
//! the table of every endpoint.

use proc_macro2::{Ident, Span};
use quote::quote;

use super::naming::doc_lines;
use crate::features::{cfg, gate};
use crate::load::LoadedSpec;
use crate::names::static_ident;
use crate::tokens::format;

/// The text of `mod.rs`.
pub(super) fn mod_file(specs: &[LoadedSpec]) -> String {
    let modules = specs.iter().map(|loaded| {
        let gate = gate(&loaded.spec);
        let ident = Ident::new(&loaded.spec.group, Span::call_site());
        let file = format!("{}.rs", loaded.spec.group);
        let docs = doc_lines(&loaded.spec.summary);
        let source = format!(" Generated from `spec/{}`.", loaded.file);
        quote! {
            #(#[doc = #docs])*
            ///
            #[doc = #source]
            #gate
            pub mod #ident {
                include!(#file);
            }
        }
    });
    let all = specs.iter().flat_map(|loaded| {
        let group = Ident::new(&loaded.spec.group, Span::call_site());
        let cfg = cfg(&loaded.spec);
        loaded.spec.endpoints.iter().map(move |e| {
            let ident = static_ident(e);
            quote!(#cfg &#group::endpoints::#ident)
        })
    });
    let tokens = quote! {
        #(#modules)*

        /// Every spec'd endpoint this build has (the core, and the groups
        /// whose features are on): groups in spec-file order, endpoints in spec order.
        pub static ENDPOINTS: &[&crate::Endpoint] = &[#(#all),*];
    };
    format(tokens, "spec/")
}
