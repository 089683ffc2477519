//! `mod.rs`: one module per group (behind its feature unless core), and
//! the table of every endpoint.

use proc_macro2::{Ident, Span};
use quote::quote;

use super::descriptor::{emulator_sample, required_members};
use super::naming::doc_lines;
use crate::features::{cfg, gate};
use crate::load::LoadedSpec;
use crate::names::static_ident;
use crate::tokens::format;
use crate::validate::Index;

/// The text of `mod.rs`.
pub(super) fn mod_file(specs: &[LoadedSpec], index: &Index<'_>) -> String {
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
    let samples = specs.iter().flat_map(|loaded| {
        let cfg = cfg(&loaded.spec);
        loaded.spec.endpoints.iter().map(move |e| {
            let sample = emulator_sample(&loaded.spec.group, e, &required_members(index, &loaded.file, e));
            quote!(#cfg #sample)
        })
    });
    let tokens = quote! {
        #(#modules)*

        /// Every spec'd endpoint this build has (the core, and the groups
        /// whose features are on): groups in spec-file order, endpoints in spec order.
        pub static ENDPOINTS: &[&crate::Endpoint] = &[#(#all),*];

        /// What only the emulator knows of each endpoint (its sample reply,
        /// required members, legacy paths), in the order of [`ENDPOINTS`]:
        /// compiled with the `emulator` feature alone, so a client's binary
        /// carries none of it.
        #[cfg(feature = "emulator")]
        pub(crate) static EMULATOR_SAMPLES: &[(&crate::Endpoint, crate::emulator::EndpointSample)] = &[#(#samples),*];
    };
    format(tokens, "spec/")
}
