//! Typed Rust SDK for WeCom (企业微信) third-party service providers.
//!
//! The API surface is generated from the YAML specs in `spec/` (one module per
//! group under [`api`]); the runtime here does the HTTP, the tokens, the
//! store and the callbacks. An [`Application`] hands out three cheap handles,
//! each bound once to its token scope:
//!
//! - [`Provider`] (`app.provider()`): provider-token calls and groups
//!   (`get_register_code`, `corpid_to_opencorpid`, …), and its `access_token()`;
//! - [`Suite`] (`app.suite(suite_id)`): the install flow (`get_pre_auth_code`,
//!   `get_permanent_code`, …), `oauth()`, its `access_token()` and `ticket()`;
//! - [`Corp`] (`app.corp(suite_id, corp_id)`): the authorizing corp's calls,
//!   one accessor per group (`jsapi()`, `oauth()`, …), its `access_token()`
//!   and `permanent_code()`.
//!
//! ```no_run
//! use wecom_openwork::{Application, Config};
//!
//! # async fn run(config: Config) -> Result<(), wecom_openwork::Error> {
//! let app = Application::new(config)?;
//! let suite = app.suite("wwddddccc7775555aaa");
//! let pre = suite.get_pre_auth_code().await?;
//! let info = suite.get_permanent_code("AUTH_CODE").await?;
//! let corp = app.corp("wwddddccc7775555aaa", "wwcorp");
//! let wx_config = corp.jsapi().config("https://isv.example.com/page", &["scanQRCode"]).await?;
//! let token = corp.access_token().get().await?;
//! // EasyWeChat's names (app.provider_access_token(), app.suite_ticket(id),
//! // app.authorizer_access_token(corp, code, suite)) come with
//! // `use wecom_openwork::compat::EasyWeChat;`.
//! # Ok(()) }
//! ```
//!
//! The same handles come from a bare [`Client`] with tokens of your own
//! ([`StaticTokens`], or any [`TokenSource`]): `client.suite(suite_id)`.
//!
//! # Features
//!
//! The ISV core is always compiled: the provider, suite and authorization
//! calls, OAuth, JS-SDK tickets, 代开发 permissions and downstream tokens.
//! Every other group is behind the cargo feature named after it (`corp.user()`
//! needs `user`, `corp.external_contact()` needs `externalcontact`), and
//! `all-apis` turns them all on, so a build compiles only the groups it
//! calls. Besides those: `axum` (the callback server's adapter and
//! listener), `redis` (the shared store), `prometheus`, `json-calls`
//! ([`api::call_json`]), `emulator` (a local WeCom, with every group) and
//! `cli` (the command-line tool).
//!
//! Replies follow WeCom's envelope rule: `errcode` absent or 0 is success, any
//! other is [`Error::Api`]. Decoding is forward compatible: unknown fields are
//! ignored, every reply field is optional, and documented value sets are not
//! closed enums.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod app;
pub mod callback;
pub mod clock;
pub mod compat;
pub mod config;
mod credentials;
pub mod crypto;
#[cfg(feature = "emulator")]
pub mod emulator;
mod error;
mod future;
mod http;
mod ids;
#[cfg(feature = "json-calls")]
mod json_calls;
pub mod metrics;
mod redact;
mod secret;
pub mod store;
mod tasks;
pub mod urls;
mod xml;

pub use app::{
    AccessTokenHandle, Account, Application, ApplicationBuilder, Call, Corp, CorpOAuthUser,
    CorpOAuthUserDetail, PermanentCodeHandle, Provider, Suite, TicketHandle,
};
/// The callback server, under the name EasyWeChat users know (`app.server()`).
pub use callback as server;
pub use callback::events;
pub use config::Config;
pub use credentials::Authorization;
pub use error::{
    EndpointName, Error, AUTHORIZATION_GONE_CODES, IP_NOT_ALLOWED_CODE, RATE_LIMIT_CODES, RETRYABLE_CODES,
    TOKEN_INVALID_CODES,
};
pub use future::BoxFuture;
pub use http::{
    cursor_pages, AccessToken, Client, ClientBuilder, CursorPage, Download, Endpoint, HttpMethod, Payload,
    ResponseFormat, RetryPolicy, StaticTokens, TokenKind, TokenScope, TokenSource, Transport, TransportError,
    TransportRequest, TransportResponse, UntypedClient, UploadFile, UploadRule, DEFAULT_BASE_URI,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT,
};
pub use ids::{AppKind, CorpId, OpenCorpId, OpenUserId, SuiteId};
pub use secret::Secret;

/// The generated API: one module per spec group, each with its `types`, its
/// `endpoints` descriptors, and methods on [`Provider`], [`Suite`] and [`Corp`].
///
/// Generated at build time from `spec/`; the committed copy in `generated/`
/// is the same text, for reading and review.
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/mod.rs"));

    /// Any spec'd endpoint called by its descriptor with JSON in and JSON
    /// out, through the same typed method as above: [`call_json`] decodes
    /// the JSON into the endpoint's query and request types (refusing a
    /// wrong field type before anything is sent), calls the method on the
    /// handle it hangs on and encodes the typed reply back to JSON;
    /// [`dispatch::redact`] hides the reply's tokens, tickets, codes and
    /// secrets. What `wecom-openwork call` runs.
    ///
    /// Generated from `spec/` (one arm per endpoint); the committed copy
    /// is `generated/dispatch.rs`. Feature `json-calls` (the CLI has it):
    /// an application calling typed methods does not compile it.
    #[cfg(feature = "json-calls")]
    pub mod dispatch {
        include!(concat!(env!("OUT_DIR"), "/dispatch.rs"));
    }

    #[cfg(feature = "json-calls")]
    pub use dispatch::call_json;
}

pub use api::ENDPOINTS;

/// The OpenAPI 3.1 document of every endpoint in [`ENDPOINTS`], as JSON text:
/// paths with their query parameters, JSON bodies (or `multipart/form-data`
/// for uploads), replies, examples and token (security scheme), and one
/// component schema per spec definition, named `{group}.{Name}`.
///
/// Generated from `spec/` with the rest of the API; the committed copy is
/// `generated/openapi.json`, and `wecom-openwork openapi` prints it. It is
/// made from this SDK's specs, not published by WeCom.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// The README's examples compile (they run as doctests).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
