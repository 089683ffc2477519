//! Constructors and setters for the types users build (requests and queries).

use std::collections::BTreeSet;

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde_json::Value;

use super::syntax::{is_id_type, is_string, json_key, option_inner, type_words};
use crate::spec::SpecSchema;

/// How a call's request type is made: `new`'s parameters (their types as
/// seen from outside the `types` module), and the names to pass them on by
/// (the generated one-line call takes the same ones).
#[derive(Clone, Default)]
pub(crate) struct Constructor {
    pub(crate) params: Vec<TokenStream>,
    pub(crate) args: Vec<Ident>,
}

/// Names of the standard library a field type may use unqualified.
const STD_TYPES: &[&str] = &["String", "Vec", "Option", "Box", "HashMap", "BTreeMap"];

/// `ty` with each of the group's own types (a one-word path other than
/// [`STD_TYPES`]) written as `types::Name`.
fn from_outside(ty: &syn::Type) -> syn::Type {
    let mut ty = ty.clone();
    qualify(&mut ty);
    ty
}

fn qualify(ty: &mut syn::Type) {
    let syn::Type::Path(p) = ty else { return };
    for segment in p.path.segments.iter_mut() {
        if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
            for arg in args.args.iter_mut() {
                if let syn::GenericArgument::Type(inner) = arg {
                    qualify(inner);
                }
            }
        }
    }
    let own = p.qself.is_none()
        && p.path.leading_colon.is_none()
        && p.path.segments.len() == 1
        && p.path.segments[0].ident.to_string().starts_with(|c: char| c.is_ascii_uppercase())
        && !STD_TYPES.iter().any(|t| p.path.segments[0].ident == t);
    if own {
        p.path.segments.insert(0, syn::parse_quote!(types));
    }
}

/// The Rust expression of a `const` value for a field of type `ty` (validation
/// has made it a string or an integer of the property's type).
fn const_value(value: &Value, ty: &syn::Type) -> TokenStream {
    match value {
        Value::String(s) if is_string(ty) => quote!(#s.to_owned()),
        Value::String(s) => quote!(#s.into()),
        other => match syn::parse_str::<syn::Expr>(&other.to_string()) {
            Ok(literal) => quote!(#literal),
            Err(_) => quote!(Default::default()),
        },
    }
}

/// `new` with the required fields, and a setter per optional one. For a
/// call's own request type (`input`), the setters are repeated on
/// `crate::Call`, so a call's optional fields are set where it is made. A
/// `const` field is neither: `new` fills in its one value.
pub(super) fn builder(
    s: &syn::ItemStruct,
    schema: &SpecSchema,
    unions: &BTreeSet<String>,
    input: bool,
) -> (TokenStream, Constructor) {
    let name = &s.ident;
    let required: BTreeSet<&str> = schema.required.iter().flatten().map(String::as_str).collect();
    let props = schema.properties.clone().unwrap_or_default();
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut param_docs = Vec::new();
    let mut setters = Vec::new();
    let mut call_setters = Vec::new();
    let mut args = Vec::new();
    let mut outside = Vec::new();
    let mut const_docs = Vec::new();
    for field in &s.fields {
        let Some(ident) = &field.ident else { continue };
        let key = json_key(field).unwrap_or_default();
        let description = props.get(&key).and_then(|p| p.description.clone()).unwrap_or_default();
        let first_line = description.lines().next().unwrap_or_default().to_owned();
        let ty = &field.ty;
        if let Some(constant) = props.get(&key).and_then(|p| p.constant.as_ref()) {
            let value = match option_inner(ty) {
                Some(inner) => {
                    let value = const_value(constant, inner);
                    quote!(Some(#value))
                }
                None => const_value(constant, ty),
            };
            inits.push(quote!(#ident: #value));
            const_docs.push(format!(" - `{ident}`: always `{constant}`, the one value the protocol allows."));
            continue;
        }
        if required.contains(key.as_str()) {
            let seen = from_outside(ty);
            if is_string(ty) {
                params.push(quote!(#ident: impl Into<String>));
                outside.push(quote!(#ident: impl Into<String>));
                inits.push(quote!(#ident: #ident.into()));
            } else if !type_words(ty, unions).is_empty() || is_id_type(ty) {
                params.push(quote!(#ident: impl Into<#ty>));
                outside.push(quote!(#ident: impl Into<#seen>));
                inits.push(quote!(#ident: #ident.into()));
            } else {
                params.push(quote!(#ident: #ty));
                outside.push(quote!(#ident: #seen));
                inits.push(quote!(#ident));
            }
            param_docs.push(format!(" - `{ident}`: {first_line}"));
            args.push(ident.clone());
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
                call_setters.push(quote! {
                    #(#[doc = #docs])*
                    pub fn #ident(self, value: impl Into<#inner>) -> Self {
                        crate::app::map_request(self, |r| r.#ident(value))
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
                call_setters.push(quote! {
                    #(#[doc = #docs])*
                    pub fn #ident(self, value: #ty) -> Self {
                        crate::app::map_request(self, |r| r.#ident(value))
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
    if !const_docs.is_empty() {
        new_docs.push(String::new());
        new_docs.push(" Fixed, so not parameters:".to_owned());
        new_docs.extend(const_docs.iter().cloned());
    }
    // With nothing to pass, `Default` is `new` (it keeps the fixed values).
    let default = (params.is_empty() && !const_docs.is_empty()).then(|| {
        quote! {
            impl Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    });
    let allow = (params.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let on_call = (input && !call_setters.is_empty()).then(|| {
        quote! {
            impl<T> crate::Call<'_, #name, T> {
                #(#call_setters)*
            }
        }
    });
    let tokens = quote! {
        impl #name {
            #(#[doc = #new_docs])*
            #allow
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }
            #(#setters)*
        }
        #default
        #on_call
    };
    (tokens, Constructor { params: outside, args })
}
