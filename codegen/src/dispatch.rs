//! `dispatch.rs`: every spec'd endpoint's typed method reachable by its
//! [`Endpoint`](crate::spec::Endpoint) descriptor with JSON in and JSON out
//! (`wecom_openwork::api::call_json`, used by `wecom-openwork call`), and
//! the keys of each reply the spec marks `x-sensitive`, for redaction, and
//! the endpoint's types reached from JSON (a reply re-encoded, the `Debug`
//! text of decoded values), which the endpoint tests drive.
//!
//! The one per-endpoint table the generator makes: one entry and one arm per
//! endpoint, which decode the JSON into the endpoint's types and call its
//! method on the right handle.

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

        /// Which handle an endpoint's typed method hangs on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Scope {
            /// [`crate::Provider`] (`app.provider()`): provider-token calls,
            /// registration calls and the provider's own token fetches.
            Provider,
            /// [`crate::Suite`] (`app.suite(suite_id)`): suite-token calls.
            Suite,
            /// [`crate::Corp`] (`app.corp(suite_id, corp_id)`): the
            /// authorizing corp's calls.
            Corp,
        }

        /// How [`call_json`] calls one spec'd endpoint.
        #[derive(Debug, Clone, Copy)]
        pub struct Callable {
            /// The endpoint.
            pub endpoint: &'static crate::Endpoint,
            /// The handle its typed method hangs on.
            pub scope: Scope,
            /// The name of its query type, in its group's `types`, if it takes a query.
            pub query: Option<&'static str>,
            /// The name of its request (body) type, if it takes a body.
            pub request: Option<&'static str>,
            /// The name of its reply type.
            pub reply: &'static str,
            /// The keys the spec marks `x-sensitive` anywhere in its reply
            /// (tokens, tickets, permanent codes, secrets); [`redact`]
            /// replaces their values.
            pub sensitive: &'static [&'static str],
            /// Decodes a reply (JSON) into its type and encodes it back:
            /// what the typed reply keeps of it (`errcode`/`errmsg` and
            /// unknown fields are dropped), e.g. to check a stored sample.
            pub reencode_reply: fn(Value) -> Result<Value, ::serde_json::Error>,
            /// The `Debug` text of a query, request and reply (JSON) decoded
            /// into their types, one per line (an absent query or request is
            /// skipped): what a log of the typed values shows, secrets redacted.
            pub debug_text: fn(Option<Value>, Option<Value>, Value) -> Result<String, ::serde_json::Error>,
        }

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

        /// The handles [`call_json`] calls through: the provider's always; a
        /// suite's and a corp's for the endpoints that hang on them (a call
        /// whose handle is absent is refused before anything is sent).
        #[derive(Clone)]
        pub struct Handles {
            /// For provider-scope calls.
            pub provider: crate::Provider,
            /// For suite-scope calls.
            pub suite: Option<crate::Suite>,
            /// For corp-scope calls.
            pub corp: Option<crate::Corp>,
        }

        impl Handles {
            /// The handles of `app`: the provider's, `app.suite(suite)` when
            /// a suite is given, and `app.corp(suite, corp)` when both are.
            pub fn of(app: &crate::Application, suite: Option<&str>, corp: Option<&str>) -> Handles {
                Handles {
                    provider: app.provider(),
                    suite: suite.map(|s| app.suite(s)),
                    corp: suite.zip(corp).map(|(s, c)| app.corp(s, c)),
                }
            }
        }

        /// What [`call_json`] sends: JSON to decode into the endpoint's query
        /// and request types (absent is `{}`), and what some methods take
        /// besides. `Debug` never shows the token.
        #[derive(Default)]
        pub struct CallInput {
            /// The query parameters, for an endpoint with a query type.
            pub query: Option<Value>,
            /// The body, for an endpoint with a request type.
            pub request: Option<Value>,
            /// The file, for an upload endpoint (`Endpoint::upload`).
            pub file: Option<crate::UploadFile>,
            /// The registration's one-time token, for a
            /// [`crate::TokenKind::Registration`] endpoint.
            pub token: Option<crate::Secret>,
        }

        impl ::std::fmt::Debug for CallInput {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("CallInput")
                    .field("query", &self.query.is_some())
                    .field("request", &self.request.is_some())
                    .field("file", &self.file)
                    .field("token", &self.token)
                    .finish()
            }
        }

        /// What [`call_json`] answered.
        pub enum CallReply {
            /// The typed reply, encoded back to JSON (secrets included: see
            /// [`redact`]).
            Json(Value),
            /// A binary reply of a `json_or_binary` endpoint (a QR code image).
            Binary {
                /// The `Content-Type` header, empty when absent.
                content_type: String,
                /// The body.
                bytes: ::bytes::Bytes,
            },
            /// The file of a `download` endpoint, still arriving.
            Download(crate::Download),
        }

        /// Why [`call_json`] failed.
        #[derive(Debug)]
        pub enum CallError {
            /// Refused before anything was sent: the JSON did not decode into
            /// the endpoint's types (serde's message, with any value it quotes
            /// redacted), an input the endpoint does not take was given or one
            /// it needs was not, or the handle it hangs on is absent.
            Input(String),
            /// The call was made and failed (WeCom's `errcode`, transport, …).
            Call(crate::Error),
            /// The typed reply could not be encoded as JSON.
            Reply(String),
        }

        /// `errcode N: errmsg (hint: …)` for a WeCom error, the error's own
        /// text otherwise; never a token.
        impl ::std::fmt::Display for CallError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    CallError::Input(message) | CallError::Reply(message) => f.write_str(message),
                    CallError::Call(error) => {
                        let (code, message, hint) = match error {
                            crate::Error::Api { code, message, hint, .. }
                            | crate::Error::RateLimited { code, message, hint, .. } => (*code, message, hint.as_deref()),
                            crate::Error::IpNotAllowed { message, hint, .. } => (crate::IP_NOT_ALLOWED_CODE, message, hint.as_deref()),
                            crate::Error::AuthorizationGone { code, message, .. } => (*code, message, None),
                            other => return write!(f, "{other}"),
                        };
                        write!(f, "errcode {code}: {}", crate::redact::redact_secrets(message))?;
                        if let Some(hint) = hint {
                            write!(f, " (hint: {hint})")?;
                        }
                        if !matches!(error, crate::Error::Api { .. }) {
                            write!(f, "\n{error}")?;
                        }
                        Ok(())
                    }
                }
            }
        }

        impl ::std::error::Error for CallError {
            fn source(&self) -> Option<&(dyn ::std::error::Error + 'static)> {
                match self {
                    CallError::Call(error) => Some(error),
                    _ => None,
                }
            }
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

        fn redact_value(sensitive: &[&str], value: &mut Value) {
            match value {
                Value::Array(items) => items.iter_mut().for_each(|v| redact_value(sensitive, v)),
                Value::Object(members) => {
                    for (key, v) in members.iter_mut() {
                        if sensitive.contains(&key.as_str()) || secret_named(key) {
                            redact_scalars(v);
                        }
                        redact_value(sensitive, v);
                    }
                }
                _ => {}
            }
        }

        /// The member's strings, numbers and booleans (in lists too).
        fn redact_scalars(value: &mut Value) {
            match value {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => *value = Value::from("<redacted>"),
                Value::Array(items) => items.iter_mut().for_each(redact_scalars),
                _ => {}
            }
        }

        /// Whether `key` names a secret, by the rule of error messages'
        /// body excerpts.
        fn secret_named(key: &str) -> bool {
            let probe = ::serde_json::json!({ key: "" }).to_string();
            crate::redact::redact_secrets(&probe) != probe
        }

        fn suite(handles: &Handles) -> Result<&crate::Suite, CallError> {
            handles.suite.as_ref().ok_or_else(|| CallError::Input("a suite endpoint: no suite handle was given".to_owned()))
        }

        fn corp(handles: &Handles) -> Result<&crate::Corp, CallError> {
            handles.corp.as_ref().ok_or_else(|| CallError::Input("a corp endpoint: no corp handle was given".to_owned()))
        }

        fn decode<T: ::serde::de::DeserializeOwned>(value: Option<Value>, what: &str) -> Result<T, CallError> {
            let value = value.unwrap_or_else(|| Value::Object(::serde_json::Map::new()));
            ::serde_json::from_value(value)
                .map_err(|e| CallError::Input(format!("{what}: {}", crate::redact::redact_serde_error(e))))
        }

        fn reencode<R: ::serde::de::DeserializeOwned + ::serde::Serialize>(reply: Value) -> Result<Value, ::serde_json::Error> {
            ::serde_json::to_value(::serde_json::from_value::<R>(reply)?)
        }

        fn debug_text<Q, B, R>(query: Option<Value>, request: Option<Value>, reply: Value) -> Result<String, ::serde_json::Error>
        where
            Q: ::serde::de::DeserializeOwned + ::std::fmt::Debug,
            B: ::serde::de::DeserializeOwned + ::std::fmt::Debug,
            R: ::serde::de::DeserializeOwned + ::std::fmt::Debug,
        {
            let mut lines = Vec::new();
            if let Some(query) = query {
                lines.push(format!("{:?}", ::serde_json::from_value::<Q>(query)?));
            }
            if let Some(request) = request {
                lines.push(format!("{:?}", ::serde_json::from_value::<B>(request)?));
            }
            lines.push(format!("{:?}", ::serde_json::from_value::<R>(reply)?));
            Ok(lines.join("\n"))
        }

        #[allow(dead_code)]
        fn upload_file(file: Option<crate::UploadFile>) -> Result<crate::UploadFile, CallError> {
            file.ok_or_else(|| CallError::Input("an upload: no file was given".to_owned()))
        }

        #[allow(dead_code)]
        fn registration_token(token: Option<crate::Secret>) -> Result<crate::Secret, CallError> {
            token.ok_or_else(|| CallError::Input("a registration call: no registration token was given".to_owned()))
        }

        fn json<R: ::serde::Serialize>(reply: Result<R, crate::Error>) -> Result<CallReply, CallError> {
            let reply = reply.map_err(CallError::Call)?;
            ::serde_json::to_value(&reply).map(CallReply::Json).map_err(|e| CallError::Reply(e.to_string()))
        }

        #[allow(dead_code)]
        fn payload<R: ::serde::Serialize>(reply: Result<crate::Payload<R>, crate::Error>) -> Result<CallReply, CallError> {
            match reply.map_err(CallError::Call)? {
                crate::Payload::Json(reply) => json(Ok(reply)),
                crate::Payload::Binary { content_type, bytes } => Ok(CallReply::Binary { content_type, bytes }),
            }
        }

        #[allow(dead_code)]
        fn download(reply: Result<crate::Download, crate::Error>) -> Result<CallReply, CallError> {
            reply.map(CallReply::Download).map_err(CallError::Call)
        }
    };
    format(tokens, "spec/")
}
