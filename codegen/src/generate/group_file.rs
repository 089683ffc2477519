//! One group's file: its `types`, its `endpoints`, and its calls on each handle.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::descriptor::endpoint_static;
use super::method::{method, Constructors};
use super::naming::{calls_ident, doc_lines, handle_ident, lowercase_first};
use super::paging::{cursor_page_impl, cursor_paging, pages_method, CursorPaging};
use crate::names::static_ident;
use crate::spec::{Endpoint, HandleKind, SpecFile};
use crate::tokens::format;
use crate::validate::{handle_of, Index};

/// The text of `<group>.rs` for the spec `file`.
pub(super) fn group_file(
    file: &str,
    spec: &SpecFile,
    types: TokenStream,
    index: &Index<'_>,
    examples: &BTreeMap<(String, HandleKind), String>,
    constructors: &Constructors,
) -> String {
    let endpoint_statics = spec.endpoints.iter().map(|e| endpoint_static(&spec.group, e));
    let all = spec.endpoints.iter().map(static_ident);
    // Worked out once: the method and the reply's `CursorPage` impl both use it.
    let paging: BTreeMap<&str, CursorPaging> = spec
        .endpoints
        .iter()
        .filter_map(|e| Some((e.name.as_str(), cursor_paging(index, file, e)?)))
        .collect();
    let mut by_handle: BTreeMap<HandleKind, Vec<&Endpoint>> = BTreeMap::new();
    for endpoint in &spec.endpoints {
        let handle = handle_of(endpoint).expect("validated: every endpoint has a handle");
        by_handle.entry(handle).or_default().push(endpoint);
    }
    let calls = by_handle.into_iter().map(|(handle, endpoints)| {
        let h = handle_ident(handle);
        if spec.flat {
            let methods =
                endpoints.iter().map(|e| method(index, file, e, quote!(self), quote!('_), constructors));
            return quote! { impl crate::#h { #(#methods)* } };
        }
        let methods: Vec<TokenStream> = endpoints
            .iter()
            .map(|e| {
                let call = method(index, file, e, quote!(self.handle), quote!('a), constructors);
                let pages = paging.get(e.name.as_str()).map(|paging| pages_method(e, paging));
                quote!(#call #pages)
            })
            .collect();
        let calls = calls_ident(spec, handle);
        let accessor = Ident::new(spec.accessor_name(), Span::call_site());
        let handle_name = handle_ident(handle).to_string();
        let mut struct_docs = doc_lines(&format!(
            "The `{group}` calls made through a [`{handle_name}`](crate::{handle_name}): {summary}\n\n\
             Get one with [`{handle_name}::{accessor}`](crate::{handle_name}::{accessor}); it borrows the \
             handle, so it costs nothing to make.",
            group = spec.group,
            summary = lowercase_first(&spec.summary),
        ));
        struct_docs.push(String::new());
        struct_docs.extend(doc_lines(&examples[&(file.to_owned(), handle)]));
        let accessor_docs = doc_lines(&format!(
            "The `{group}` calls: {summary}\n\nSee [`{calls}`] for the calls and an example.",
            group = spec.group,
            summary = lowercase_first(&spec.summary),
        ));
        let handle_doc = format!(" The [`{handle_name}`](crate::{handle_name}) the calls go through.");
        quote! {
            #(#[doc = #struct_docs])*
            #[derive(Clone, Copy, Debug)]
            pub struct #calls<'a> {
                handle: &'a crate::#h,
            }

            impl<'a> #calls<'a> {
                #[doc = #handle_doc]
                pub fn handle(&self) -> &'a crate::#h {
                    self.handle
                }

                #(#methods)*
            }

            impl crate::#h {
                #(#[doc = #accessor_docs])*
                pub fn #accessor(&self) -> #calls<'_> {
                    #calls { handle: self }
                }
            }
        }
    });
    let mut paged = BTreeSet::new();
    let page_impls: Vec<TokenStream> = spec
        .endpoints
        .iter()
        .filter(|_| !spec.flat)
        .filter_map(|e| paging.get(e.name.as_str()))
        .filter(|paging| paging.local_reply && paged.insert(paging.reply.to_string()))
        .map(cursor_page_impl)
        .collect();
    let tokens = quote! {
        /// Request and response types of this group.
        pub mod types {
            #types

            #(#page_impls)*
        }

        /// Descriptors of this group's endpoints, as the runtime and the CLI see them.
        pub mod endpoints {
            #(#endpoint_statics)*

            /// Every endpoint of this group, in spec order.
            pub static ALL: &[&crate::Endpoint] = &[#(&#all),*];
        }

        #(#calls)*
    };
    format(tokens, &format!("spec/{file}"))
}
