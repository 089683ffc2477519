//! The `Endpoint` static of each endpoint: what the runtime, the emulator
//! and the CLI know about a call without its types; and what only the
//! emulator needs (its sample reply, required members, legacy paths).

use proc_macro2::TokenStream;
use quote::quote;

use crate::names::static_ident;
use crate::spec::{AppKind, Endpoint, HttpMethod, ResponseFormat, TokenKind};
use crate::validate::{resolve, Index};

/// Top-level members the request body or query must carry.
pub(super) fn required_members(index: &Index<'_>, file: &str, e: &Endpoint) -> Vec<String> {
    let mut out = Vec::new();
    for schema in [&e.query, &e.request].into_iter().flatten() {
        let Some((owner, _, def)) = resolve(index, file, schema) else { continue };
        for key in def.required.iter().flatten() {
            let prop = def.properties.as_ref().and_then(|p| p.get(key));
            match prop.filter(|p| p.flatten).and_then(|p| resolve(index, owner, p)) {
                // A flattened union's members sit beside the others: its tag is required.
                Some((_, _, union)) => out.extend(union.tag.clone()),
                None => out.push(key.clone()),
            }
        }
    }
    out
}

/// The emulator's entry for one endpoint: its descriptor and its
/// `EndpointSample` (compiled only with the `emulator` feature).
pub(super) fn emulator_sample(group: &str, e: &Endpoint, required: &[String]) -> TokenStream {
    let group = proc_macro2::Ident::new(group, proc_macro2::Span::call_site());
    let ident = static_ident(e);
    let legacy_paths = &e.legacy_paths;
    let example = serde_json::to_string(&e.example.response).expect("JSON values always serialize");
    quote! {
        (&#group::endpoints::#ident, crate::emulator::EndpointSample {
            legacy_paths: &[#(#legacy_paths),*],
            required: &[#(#required),*],
            example_response: #example,
        })
    }
}

/// The descriptor static of one endpoint.
pub(super) fn endpoint_static(group: &str, e: &Endpoint) -> TokenStream {
    let ident = static_ident(e);
    let name = &e.name;
    let summary = &e.summary;
    let doc = &e.doc;
    let path = &e.path;
    let method = match e.method {
        HttpMethod::Get => quote!(crate::HttpMethod::Get),
        HttpMethod::Post => quote!(crate::HttpMethod::Post),
    };
    let token = match e.token {
        TokenKind::Provider => quote!(crate::TokenKind::Provider),
        TokenKind::Suite => quote!(crate::TokenKind::Suite),
        TokenKind::Corp => quote!(crate::TokenKind::Corp),
        TokenKind::Registration => quote!(crate::TokenKind::Registration),
        TokenKind::None => quote!(crate::TokenKind::None),
    };
    let token_param = match e.token_param_name() {
        Some(p) => quote!(Some(#p)),
        None => quote!(None),
    };
    let format = match e.response_format {
        ResponseFormat::Json => quote!(crate::ResponseFormat::Json),
        ResponseFormat::JsonOrBinary => quote!(crate::ResponseFormat::JsonOrBinary),
        ResponseFormat::Download => quote!(crate::ResponseFormat::Download),
    };
    let upload = match &e.upload {
        Some(u) => {
            let field = &u.field;
            let (min, max) = (u.min_bytes, u.max_bytes);
            let limit_by = match &u.limit_by {
                Some(param) => quote!(Some(#param)),
                None => quote!(None),
            };
            let limits = u.limits.iter().map(|(value, limit)| quote!((#value, #limit)));
            quote!(Some(crate::UploadRule {
                field: #field,
                min_bytes: #min,
                max_bytes: #max,
                limit_by: #limit_by,
                limits: &[#(#limits),*],
            }))
        }
        None => quote!(None),
    };
    let retry_safe = e.is_retry_safe();
    let app_kinds = e.allowed_app_kinds().into_iter().map(|kind| match kind {
        AppKind::ThirdParty => quote!(crate::AppKind::ThirdParty),
        AppKind::Customized => quote!(crate::AppKind::Customized),
    });
    let line = format!(" `{} {}`: {}", e.method.as_str(), e.path, e.summary);
    quote! {
        #[doc = #line]
        pub static #ident: crate::Endpoint = crate::Endpoint {
            group: #group,
            name: #name,
            summary: #summary,
            doc: #doc,
            method: #method,
            path: #path,
            token: #token,
            token_param: #token_param,
            response_format: #format,
            upload: #upload,
            retry_safe: #retry_safe,
            app_kinds: &[#(#app_kinds),*],
        };
    }
}
