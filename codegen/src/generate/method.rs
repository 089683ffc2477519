//! The typed method of an endpoint, and the sentences its docs are made of.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::naming::doc_lines;
use crate::names::{static_ident, type_ident};
use crate::spec::{AppKind, Endpoint, ResponseFormat, TokenKind};
use crate::types::Constructor;
use crate::validate::{resolve, Index};

/// How each request or query type is made, by (file, name).
pub(crate) type Constructors = BTreeMap<(String, String), Constructor>;

/// Which token the call carries and where, for the method's docs.
pub(super) fn token_sentence(e: &Endpoint) -> String {
    let param = e.token_param_name();
    match (e.token, param) {
        (TokenKind::None, _) | (_, None) => "Carries no access token: this call obtains one.".into(),
        (TokenKind::Provider, Some(p)) => {
            format!("Token: the provider access token, as `{p}` on the URL.")
        }
        (TokenKind::Suite, Some(p)) => {
            format!("Token: the suite access token, as `{p}` on the URL.")
        }
        (TokenKind::Corp, Some(p)) => {
            format!("Token: the authorizing corp's access token, as `{p}` on the URL.")
        }
        (TokenKind::Registration, Some(p)) => format!(
            "Token: `access_token`, the registered corp's one-time token from the `register_corp` \
             callback or `get_register_info` (`contact_sync.access_token`), passed by the caller as `{p}` on the URL."
        ),
    }
}

/// Who may make the call, when not every app kind may.
pub(super) fn app_kinds_sentence(e: &Endpoint) -> Option<String> {
    let kinds = e.allowed_app_kinds();
    if kinds.len() == AppKind::ALL.len() {
        return None;
    }
    let names: Vec<&str> = kinds
        .iter()
        .map(|k| match k {
            AppKind::ThirdParty => "third-party apps",
            AppKind::Customized => "代开发 (customized) apps",
        })
        .collect();
    Some(format!(
        " Only for {}: through a suite configured as another kind, the call is refused before \
         it is sent ([`crate::Error::AppKindNotAllowed`]).",
        names.join(" and ")
    ))
}

/// One typed method: docs, then one call through `receiver` (the handle),
/// borrowing it for `lifetime`. A call with one request (a query or a body)
/// or none returns a [`Call`](crate) to await: its required fields are the
/// method's arguments, its optional ones setters on the call; `{name}_with`
/// takes a request built elsewhere. Uploads, registration-token calls and
/// calls with both a query and a body take their inputs whole.
pub(super) fn method(
    index: &Index<'_>,
    file: &str,
    e: &Endpoint,
    receiver: TokenStream,
    lifetime: TokenStream,
    constructors: &Constructors,
) -> TokenStream {
    let name = Ident::new(&e.name, Span::call_site());
    let endpoint = static_ident(e);
    let response = type_ident(&e.response);
    let mut docs = doc_lines(&e.summary);
    if let Some(description) = &e.description {
        docs.push(String::new());
        docs.extend(doc_lines(description));
    }
    docs.push(String::new());
    docs.push(format!(" Sends `{} {}`. {}", e.method.as_str(), e.path, token_sentence(e)));
    if let Some(sentence) = app_kinds_sentence(e) {
        docs.push(String::new());
        docs.push(sentence);
    }
    docs.push(String::new());
    docs.push(format!(" Official documentation: <{}>", e.doc));
    let mut params = Vec::new();
    if e.token == TokenKind::Registration {
        params.push(quote!(access_token: &str));
    }
    let query_arg = match &e.query {
        Some(schema) => {
            let ty = type_ident(schema);
            params.push(quote!(query: &types::#ty));
            quote!(Some(query))
        }
        None => quote!(None::<&()>),
    };
    let body_arg = match &e.request {
        Some(schema) => {
            let ty = type_ident(schema);
            params.push(quote!(request: &types::#ty));
            quote!(Some(request))
        }
        None => quote!(None::<&()>),
    };
    if let Some(upload) = &e.upload {
        params.push(quote!(file: crate::UploadFile));
        docs.push(String::new());
        docs.push(format!(
            " Sends `file` as `multipart/form-data` (field `{}`); a file of the wrong size is refused \
             before sending, with [`crate::Error::UploadSize`].",
            upload.field
        ));
        return quote! {
            #(#[doc = #docs])*
            pub async fn #name(&self, #(#params),*) -> Result<types::#response, crate::Error> {
                #receiver.call_upload(&endpoints::#endpoint, #query_arg, file).await
            }
        };
    }
    if e.token == TokenKind::Registration {
        return quote! {
            #(#[doc = #docs])*
            pub async fn #name(&self, #(#params),*) -> Result<types::#response, crate::Error> {
                #receiver.call_with_token(&endpoints::#endpoint, access_token, #query_arg, #body_arg).await
            }
        };
    }
    let (ret, decode) = match e.response_format {
        ResponseFormat::Download => {
            docs.push(String::new());
            docs.push(
                " Returns the file as a [`crate::Download`], read as it arrives; a JSON body in its \
                 place is WeCom's error."
                    .into(),
            );
            (quote!(crate::Download), quote!(decode_download))
        }
        ResponseFormat::Json => (quote!(types::#response), quote!(decode_json)),
        ResponseFormat::JsonOrBinary => {
            docs.push(String::new());
            docs.push(
                " Returns [`crate::Payload::Binary`] when WeCom answers with content other than JSON.".into(),
            );
            (quote!(crate::Payload<types::#response>), quote!(decode_payload))
        }
    };
    let (place, input) = match (&e.query, &e.request) {
        (Some(query), None) => (quote!(Query), Some((query, format_ident!("query")))),
        (None, Some(request)) => (quote!(Body), Some((request, format_ident!("request")))),
        (None, None) => (quote!(Nowhere), None),
        (Some(_), Some(_)) => {
            return quote! {
                #(#[doc = #docs])*
                pub async fn #name(&self, #(#params),*) -> Result<#ret, crate::Error> {
                    #receiver.call(&endpoints::#endpoint, #query_arg, #body_arg, crate::http::#decode).await
                }
            };
        }
    };
    let Some((schema, input_name)) = input else {
        return quote! {
            #(#[doc = #docs])*
            pub fn #name(&self) -> crate::Call<#lifetime, (), #ret> {
                #receiver.prepare(&endpoints::#endpoint, crate::app::Place::Nowhere, (), crate::http::#decode)
            }
        };
    };
    let ty = type_ident(schema);
    let with = format_ident!("{}_with", e.name);
    let constructor = resolve(index, file, schema)
        .and_then(|(owner, type_name, _)| constructors.get(&(owner.to_owned(), type_name.to_owned())))
        .cloned()
        .unwrap_or_default();
    let Constructor { params: args_in, args } = constructor;
    let allow = (args_in.len() > 6).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let with_docs =
        [format!(" [`Self::{}`] with a `{ty}` built elsewhere (kept, or made by other code).", e.name)];
    quote! {
        #(#[doc = #docs])*
        #allow
        pub fn #name(&self, #(#args_in),*) -> crate::Call<#lifetime, types::#ty, #ret> {
            self.#with(types::#ty::new(#(#args),*))
        }
        #(#[doc = #with_docs])*
        pub fn #with(&self, #input_name: types::#ty) -> crate::Call<#lifetime, types::#ty, #ret> {
            #receiver.prepare(&endpoints::#endpoint, crate::app::Place::#place, #input_name, crate::http::#decode)
        }
    }
}
