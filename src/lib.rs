//! Typed Rust SDK for WeCom (企业微信) third-party service providers.
//!
//! The API surface is generated from the YAML specs in `spec/` (one module per
//! group under [`api`]); the runtime here does the HTTP, the tokens and the
//! envelope. Methods hang on three cheap handles, one per token scope:
//!
//! - [`Provider`] (`client.provider()`): provider-token calls such as
//!   `get_register_code`, `corpid_to_opencorpid`;
//! - [`Suite`] (`client.suite(suite_id)`): suite-token calls: suite token, the
//!   authorization flow (`get_pre_auth_code`, `get_permanent_code`, …) and
//!   third-party OAuth;
//! - [`Corp`] (`client.corp(suite_id, corp_id)`): calls with an authorizing
//!   corp's access token.
//!
//! ```no_run
//! use wecom_openwork::{api::authorization::types::GetPermanentCodeRequest, Client, StaticTokens};
//!
//! # async fn run() -> Result<(), wecom_openwork::Error> {
//! let tokens = StaticTokens::new().suite("wwddddccc7775555aaa", "SUITE_ACCESS_TOKEN");
//! let client = Client::new(wecom_openwork::DEFAULT_BASE_URI, tokens)?;
//! let suite = client.suite("wwddddccc7775555aaa");
//! let pre = suite.get_pre_auth_code().await?;
//! println!("pre-auth code expires in {:?} s", pre.expires_in);
//! let request = GetPermanentCodeRequest::new("AUTH_CODE");
//! let info = suite.get_permanent_code(&request).await?;
//! println!("{:?} authorized", info.auth_corp_info.and_then(|c| c.corp_name));
//! # Ok(())
//! # }
//! ```
//!
//! Replies follow WeCom's envelope rule: `errcode` absent or 0 is success, any
//! other is [`Error::Api`]. Decoding is forward compatible: unknown fields are
//! ignored, every reply field is optional, and documented value sets are not
//! closed enums.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod app;
pub mod callback;
pub mod clock;
pub mod config;
mod credentials;
pub mod crypto;
#[cfg(feature = "emulator")]
pub mod emulator;
mod error;
mod future;
mod http;
mod ids;
mod secret;
pub mod store;
mod tasks;
pub mod urls;
mod xml;

pub use app::{
    AccessTokenHandle, Account, Application, ApplicationBuilder, Corp, CorpOAuth, CorpOAuthUser,
    CorpOAuthUserDetail, OAuth, PermanentCodeHandle, Provider, Suite, TicketHandle,
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
    AccessToken, Client, ClientBuilder, Endpoint, HttpMethod, Payload, ResponseFormat, RetryPolicy,
    StaticTokens, TokenKind, TokenScope, TokenSource, UntypedClient, DEFAULT_BASE_URI,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT,
};
pub use ids::{AppKind, CorpId, SuiteId};
pub use secret::Secret;

/// The generated API: one module per spec group, each with its `types`, its
/// `endpoints` descriptors, and methods on [`Provider`], [`Suite`] and [`Corp`].
///
/// Generated at build time from `spec/`; the committed copy in `generated/`
/// is the same text, for reading and review.
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/mod.rs"));
}

pub use api::ENDPOINTS;

/// The README's examples compile (they run as doctests).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
