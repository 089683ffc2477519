//! `conformance.rs`: test support that reaches every spec'd endpoint's typed
//! method and types through one table keyed by its [`Endpoint`] descriptor,
//! so tests cover new endpoints without new code.

use proc_macro2::{Ident, Span};
use quote::quote;

use crate::load::LoadedSpec;
use crate::names::{static_ident, type_ident};
use crate::spec::{HandleKind, ResponseFormat};
use crate::tokens::format;
use crate::validate::handle_of;

pub(crate) fn conformance_file(specs: &[LoadedSpec]) -> String {
    let cases = specs.iter().flat_map(|loaded| {
        let spec = &loaded.spec;
        let group = Ident::new(&spec.group, Span::call_site());
        spec.endpoints.iter().map(move |e| {
            let name = Ident::new(&e.name, Span::call_site());
            let endpoint = static_ident(e);
            let handle = handle_of(e).expect("validated");
            let field = match handle {
                HandleKind::Provider => quote!(handles.provider),
                HandleKind::Suite => quote!(handles.suite),
                HandleKind::Corp => quote!(handles.corp),
            };
            let target = if spec.flat {
                field
            } else {
                let accessor = Ident::new(spec.accessor_name(), Span::call_site());
                quote!(#field.#accessor())
            };
            let ty = |schema: &Option<crate::spec::SpecSchema>| match schema {
                Some(s) => {
                    let t = type_ident(s);
                    quote!(::wecom_openwork::api::#group::types::#t)
                }
                None => quote!(()),
            };
            let (query_ty, request_ty) = (ty(&e.query), ty(&e.request));
            let response_ty = ty(&Some(e.response.clone()));
            let mut lets = Vec::new();
            let mut args = Vec::new();
            // A call-shaped method's `_with` twin takes its input by value.
            let by_value = e.returns_call() && (e.query.is_some() || e.request.is_some());
            let name = if by_value { quote::format_ident!("{}_with", e.name) } else { name };
            for (var, schema) in [("query", &e.query), ("request", &e.request)] {
                if schema.is_some() {
                    let ident = Ident::new(var, Span::call_site());
                    lets.push(quote!(let #ident = decode(#ident, #var)?;));
                    args.push(if by_value { quote!(#ident) } else { quote!(&#ident) });
                }
            }
            if e.upload.is_some() {
                args.push(quote!(example_file()));
            }
            if e.token == crate::spec::TokenKind::Registration {
                args.insert(0, quote!(&handles.registration_token));
            }
            let query_param = if e.query.is_some() { quote!(query) } else { quote!(_query) };
            let request_param = if e.request.is_some() { quote!(request) } else { quote!(_request) };
            let encode = match e.response_format {
                ResponseFormat::Json => quote!(encode),
                ResponseFormat::JsonOrBinary => quote!(encode_payload),
                ResponseFormat::Download => quote!(encode_download),
            };
            let awaited = (e.response_format == ResponseFormat::Download).then(|| quote!(.await));
            quote! {
                Case {
                    endpoint: &::wecom_openwork::api::#group::endpoints::#endpoint,
                    call: |handles, #query_param, #request_param| Box::pin(async move {
                        #(#lets)*
                        #encode(#target.#name(#(#args),*).await)#awaited
                    }),
                    roundtrip_response: roundtrip::<#response_ty>,
                    debug: debug::<#query_ty, #request_ty, #response_ty>,
                },
            }
        })
    });
    let tokens = quote! {
        /// The handles the calls go through (each case picks the one its
        /// endpoint hangs on).
        #[allow(dead_code)]
        pub struct Handles {
            /// For provider-token calls.
            pub provider: ::wecom_openwork::Provider,
            /// For suite-token calls.
            pub suite: ::wecom_openwork::Suite,
            /// For corp-token calls.
            pub corp: ::wecom_openwork::Corp,
            /// The one-time token registration calls carry.
            pub registration_token: String,
        }

        /// What a typed call answered, encoded back to JSON.
        #[allow(dead_code)]
        pub type Reply<'a> = ::std::pin::Pin<Box<dyn ::std::future::Future<Output = Result<::serde_json::Value, String>> + 'a>>;

        /// One spec'd endpoint, its typed method and its types.
        #[allow(dead_code)]
        pub struct Case {
            /// The endpoint.
            pub endpoint: &'static ::wecom_openwork::Endpoint,
            /// Calls the typed method with the query and request (JSON)
            /// decoded into its types; the reply encoded back to JSON.
            pub call: for<'a> fn(&'a Handles, Option<::serde_json::Value>, Option<::serde_json::Value>) -> Reply<'a>,
            /// Decodes a reply into its type and encodes it back, to show
            /// that nothing is lost.
            pub roundtrip_response: fn(::serde_json::Value) -> Result<::serde_json::Value, String>,
            /// The `Debug` text of the query, request and reply decoded into
            /// their types (what is absent is skipped).
            pub debug: fn(Option<::serde_json::Value>, Option<::serde_json::Value>, ::serde_json::Value) -> Result<String, String>,
        }

        /// Every spec'd endpoint, in the order of [`wecom_openwork::ENDPOINTS`].
        #[allow(dead_code)]
        pub static CASES: &[Case] = &[#(#cases)*];

        /// The case of `endpoint`.
        #[allow(dead_code)]
        pub fn case(endpoint: &::wecom_openwork::Endpoint) -> Option<&'static Case> {
            CASES.iter().find(|case| case.endpoint == endpoint)
        }

        fn decode<T: ::serde::de::DeserializeOwned>(value: Option<::serde_json::Value>, what: &str) -> Result<T, String> {
            let value = value.ok_or_else(|| format!("no example {what}"))?;
            ::serde_json::from_value(value).map_err(|e| format!("{what}: {e}"))
        }

        fn encode<R: ::serde::Serialize>(reply: Result<R, ::wecom_openwork::Error>) -> Result<::serde_json::Value, String> {
            ::serde_json::to_value(reply.map_err(|e| e.to_string())?).map_err(|e| e.to_string())
        }

        #[allow(dead_code)]
        fn encode_payload<R: ::serde::Serialize>(
            reply: Result<::wecom_openwork::Payload<R>, ::wecom_openwork::Error>,
        ) -> Result<::serde_json::Value, String> {
            match reply.map_err(|e| e.to_string())? {
                ::wecom_openwork::Payload::Json(json) => ::serde_json::to_value(json).map_err(|e| e.to_string()),
                ::wecom_openwork::Payload::Binary { .. } => Err("binary reply".to_owned()),
            }
        }

        /// The file every upload case sends: small, within every limit.
        #[allow(dead_code)]
        pub fn example_file() -> ::wecom_openwork::UploadFile {
            ::wecom_openwork::UploadFile::new("example.txt", "text/plain", &b"an example file"[..])
        }

        /// A download, read to its end: its headers as JSON.
        #[allow(dead_code)]
        async fn encode_download(
            reply: Result<::wecom_openwork::Download, ::wecom_openwork::Error>,
        ) -> Result<::serde_json::Value, String> {
            let download = reply.map_err(|e| e.to_string())?;
            let content_type = download.content_type().to_owned();
            let file_name = download.file_name().map(str::to_owned);
            let bytes = download.bytes(1 << 20).await.map_err(|e| e.to_string())?;
            Ok(::serde_json::json!({ "content_type": content_type, "file_name": file_name, "size": bytes.len() }))
        }

        fn roundtrip<R: ::serde::de::DeserializeOwned + ::serde::Serialize>(value: ::serde_json::Value) -> Result<::serde_json::Value, String> {
            let typed: R = ::serde_json::from_value(value).map_err(|e| e.to_string())?;
            ::serde_json::to_value(&typed).map_err(|e| e.to_string())
        }

        fn debug<Q, B, R>(query: Option<::serde_json::Value>, request: Option<::serde_json::Value>, response: ::serde_json::Value) -> Result<String, String>
        where
            Q: ::serde::de::DeserializeOwned + ::std::fmt::Debug,
            B: ::serde::de::DeserializeOwned + ::std::fmt::Debug,
            R: ::serde::de::DeserializeOwned + ::std::fmt::Debug,
        {
            let mut text = String::new();
            if query.is_some() {
                text += &format!("{:?}\n", decode::<Q>(query, "query")?);
            }
            if request.is_some() {
                text += &format!("{:?}\n", decode::<B>(request, "request")?);
            }
            text += &format!("{:?}", decode::<R>(Some(response), "response")?);
            Ok(text)
        }
    };
    format(tokens, "spec/ (test support)")
}
