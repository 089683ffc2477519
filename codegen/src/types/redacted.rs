//! A `Debug` that prints `<redacted>` for `x-sensitive` fields, so secrets
//! stay out of logs.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::syntax::{json_key, option_inner};
use crate::spec::SpecSchema;

/// The JSON keys of the properties marked `x-sensitive`.
pub(super) fn sensitive_fields(schema: &SpecSchema) -> BTreeSet<String> {
    schema.properties.iter().flatten().filter(|(_, p)| p.sensitive).map(|(k, _)| k.clone()).collect()
}

/// `Debug` that prints `<redacted>` for the sensitive fields.
pub(super) fn redacted_debug(s: &syn::ItemStruct, sensitive: &BTreeSet<String>) -> TokenStream {
    let name = &s.ident;
    let title = name.to_string();
    let fields = s.fields.iter().filter_map(|field| {
        let ident = field.ident.as_ref()?;
        let label = ident.to_string();
        let secret = json_key(field).is_some_and(|k| sensitive.contains(&k));
        Some(match (secret, option_inner(&field.ty).is_some()) {
            (false, _) => quote!(.field(#label, &self.#ident)),
            (true, true) => quote!(.field(#label, &self.#ident.as_ref().map(|_| "<redacted>"))),
            (true, false) => quote!(.field(#label, &"<redacted>")),
        })
    });
    quote! {
        impl ::std::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#title) #(#fields)* .finish()
            }
        }
    }
}
