//! `dispatch.rs`: every spec'd endpoint's typed method reachable by its
//! [`Endpoint`](crate::spec::Endpoint) descriptor with JSON in and JSON out
//! (`wecom_openwork::api::call_json`, used by `wecom-openwork call`), and
//! the keys of each reply the spec marks `x-sensitive`, for redaction, and
//! the endpoint's types reached from JSON (a reply re-encoded, the `Debug`
//! text of decoded values), which the endpoint tests drive.
//!
//! The one per-endpoint table the generator makes: one entry and one arm per
//! endpoint, which decode the JSON into the endpoint's types and call its
//! method on the right handle. What does not vary by endpoint (the handles,
//! input, reply, error and the arms' helpers) is handwritten, in the
//! runtime's `src/json_calls.rs`.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::load::LoadedSpec;
use crate::names::type_ident;
use crate::spec::{AdditionalProperties, HandleKind, ResponseFormat, SpecSchema, TokenKind};
use crate::tokens::format;
use crate::validate::{handle_of, resolve, Index};

/// The keys the spec marks `x-sensitive` anywhere in `schema` (through
/// `$ref`s, lists, maps and union variants), found once per definition.
fn sensitive_keys(
    index: &Index<'_>,
    file: &str,
    schema: &SpecSchema,
    seen: &mut BTreeSet<(String, String)>,
    out: &mut BTreeSet<String>,
) {
    if schema.reference.is_some() {
        if let Some((owner, name, def)) = resolve(index, file, schema) {
            if seen.insert((owner.to_owned(), name.to_owned())) {
                sensitive_keys(index, owner, def, seen, out);
            }
        }
        return;
    }
    for (key, property) in schema.properties.iter().flatten() {
        if property.sensitive {
            out.insert(key.clone());
        }
        sensitive_keys(index, file, property, seen, out);
    }
    if let Some(items) = &schema.items {
        sensitive_keys(index, file, items, seen, out);
    }
    if let Some(AdditionalProperties::Schema(extra)) = &schema.additional_properties {
        sensitive_keys(index, file, extra, seen, out);
    }
    for variant in schema.variants.iter().flat_map(|v| v.values()) {
        sensitive_keys(index, file, variant, seen, out);
    }
}

pub(crate) fn dispatch_file(specs: &[LoadedSpec]) -> String {
    let index: Index<'_> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    let mut callables = Vec::new();
    let mut arms = Vec::new();
    for loaded in specs {
        let spec = &loaded.spec;
        let group = Ident::new(&spec.group, Span::call_site());
        let cfg = crate::features::cfg(spec);
        for e in &spec.endpoints {
            let name = Ident::new(&e.name, Span::call_site());
            let endpoint = crate::names::static_ident(e);
            let handle = handle_of(e).expect("validated: every endpoint has a handle");
            let (scope, take) = match handle {
                HandleKind::Provider => (quote!(Scope::Provider), quote!(&handles.provider)),
                HandleKind::Suite => (quote!(Scope::Suite), quote!(suite(handles)?)),
                HandleKind::Corp => (quote!(Scope::Corp), quote!(corp(handles)?)),
            };
            let target = if spec.flat {
                quote!(handle)
            } else {
                let accessor = Ident::new(spec.accessor_name(), Span::call_site());
                quote!(handle.#accessor())
            };
            let type_path = |schema: &SpecSchema| {
                let t = type_ident(schema);
                quote!(crate::api::#group::types::#t)
            };
            let type_name = |schema: &Option<SpecSchema>| match schema {
                Some(s) => {
                    let t = type_ident(s).to_string();
                    quote!(Some(#t))
                }
                None => quote!(None),
            };
            let mut keys = BTreeSet::new();
            sensitive_keys(&index, &loaded.file, &e.response, &mut BTreeSet::new(), &mut keys);
            let keys = keys.iter();
            let (query_name, request_name) = (type_name(&e.query), type_name(&e.request));
            let reply_name = type_ident(&e.response).to_string();
            let type_or_unit = |schema: &Option<SpecSchema>| match schema {
                Some(s) => type_path(s),
                None => quote!(()),
            };
            let (query_ty, request_ty) = (type_or_unit(&e.query), type_or_unit(&e.request));
            let reply_ty = type_path(&e.response);
            callables.push(quote! {
                #cfg
                Callable {
                    endpoint: &crate::api::#group::endpoints::#endpoint,
                    scope: #scope,
                    query: #query_name,
                    request: #request_name,
                    reply: #reply_name,
                    sensitive: &[#(#keys),*],
                    reencode_reply: reencode::<#reply_ty>,
                    debug_text: debug_text::<#query_ty, #request_ty, #reply_ty>,
                },
            });

            let mut lets: Vec<TokenStream> = Vec::new();
            let mut args: Vec<TokenStream> = Vec::new();
            if e.token == TokenKind::Registration {
                lets.push(quote!(let token = registration_token(input.token)?;));
                args.push(quote!(token.expose()));
            }
            // A call-shaped method's `_with` twin takes its input by value.
            let by_value = e.returns_call() && (e.query.is_some() || e.request.is_some());
            let pass = |input: TokenStream| if by_value { input } else { quote!(&#input) };
            if let Some(schema) = &e.query {
                let ty = type_path(schema);
                lets.push(quote!(let query: #ty = decode(input.query, "query")?;));
                args.push(pass(quote!(query)));
            }
            if let Some(schema) = &e.request {
                let ty = type_path(schema);
                lets.push(quote!(let request: #ty = decode(input.request, "request")?;));
                args.push(pass(quote!(request)));
            }
            if e.upload.is_some() {
                lets.push(quote!(let file = upload_file(input.file)?;));
                args.push(quote!(file));
            }
            let wrap = match e.response_format {
                ResponseFormat::Json => quote!(json),
                ResponseFormat::JsonOrBinary => quote!(payload),
                ResponseFormat::Download => quote!(download),
            };
            let (group_text, name_text) = (&spec.group, &e.name);
            let method = if by_value { format_ident!("{}_with", e.name) } else { name.clone() };
            arms.push(quote! {
                #cfg
                (#group_text, #name_text) => {
                    let handle = #take;
                    #(#lets)*
                    let reply = #target.#method(#(#args),*).await;
                    #wrap(reply)
                }
            });
        }
    }
    let tokens = quote! {
        use ::serde_json::Value;

        pub use crate::json_calls::{CallError, CallInput, CallReply, Callable, Handles, Scope};
        #[allow(unused_imports)]
        use crate::json_calls::{corp, debug_text, decode, download, json, payload, redact_value, reencode, registration_token, suite, upload_file};

        /// Every spec'd endpoint, in the order of [`crate::ENDPOINTS`].
        pub static CALLABLES: &[Callable] = &[#(#callables)*];

        /// How [`call_json`] calls `endpoint`; `None` for a descriptor that is
        /// not spec'd.
        pub fn callable(endpoint: &crate::Endpoint) -> Option<&'static Callable> {
            CALLABLES.iter().find(|c| c.endpoint == endpoint)
        }

        /// The spec'd endpoint named `group.method`, as `wecom-openwork
        /// endpoints` lists them (`user.get`, `provider.get_register_code`).
        pub fn find(name: &str) -> Option<&'static Callable> {
            let (group, method) = name.split_once('.')?;
            CALLABLES.iter().find(|c| c.endpoint.group == group && c.endpoint.name == method)
        }

        /// Calls the spec'd `endpoint` on its handle in `handles`, with
        /// `input` decoded into its query and request types first (a wrong
        /// field type is [`CallError::Input`] and nothing is sent), and
        /// answers the typed reply encoded back to JSON (or the binary or
        /// download of an endpoint that answers one).
        ///
        /// The same typed method as the generated API's: same token, same
        /// checks, same retries. The JSON is not redacted; [`redact`] does it.
        ///
        /// ```no_run
        /// # async fn run(app: wecom_openwork::Application) -> Result<(), Box<dyn std::error::Error>> {
        /// use wecom_openwork::api::dispatch::{call_json, find, CallInput, CallReply, Handles};
        /// let user_get = find("user.get").ok_or("not spec'd")?;
        /// let handles = Handles::of(&app, Some("wwsuite"), Some("wwcorp"));
        /// let input = CallInput { query: Some(serde_json::json!({"userid": "zhangsan"})), ..CallInput::default() };
        /// if let CallReply::Json(user) = call_json(&handles, user_get.endpoint, input).await? {
        ///     println!("{user}");
        /// }
        /// # Ok(()) }
        /// ```
        pub async fn call_json(handles: &Handles, endpoint: &crate::Endpoint, input: CallInput) -> Result<CallReply, CallError> {
            let Some(callable) = callable(endpoint) else {
                return Err(CallError::Input(format!("{}.{} is not a spec'd endpoint", endpoint.group, endpoint.name)));
            };
            let refused = |what: &str| Err(CallError::Input(format!("{}.{} takes no {what}", endpoint.group, endpoint.name)));
            if input.query.is_some() && callable.query.is_none() {
                return refused("query");
            }
            if input.request.is_some() && callable.request.is_none() {
                return refused("request body");
            }
            if input.file.is_some() && endpoint.upload.is_none() {
                return refused("file");
            }
            if input.token.is_some() && endpoint.token != crate::TokenKind::Registration {
                return refused("registration token");
            }
            match (endpoint.group, endpoint.name) {
                #(#arms)*
                _ => Err(CallError::Input(format!("{}.{} has no typed method", endpoint.group, endpoint.name))),
            }
        }

        /// Replaces with `"<redacted>"`, anywhere in `reply` (a reply of
        /// `endpoint`), every string, number or boolean whose key the spec
        /// marks `x-sensitive` in the reply ([`Callable::sensitive`]) or
        /// whose key names a secret (a token, ticket, code, secret, key or
        /// password: the rule error messages redact bodies by).
        pub fn redact(endpoint: &crate::Endpoint, reply: &mut Value) {
            let sensitive = callable(endpoint).map_or(&[][..], |c| c.sensitive);
            redact_value(sensitive, reply);
        }
    };
    format(tokens, "spec/")
}
