//! The HTTP side of a call: URL and token, request, limits, retries, the
//! errcode envelope, and decoding.

mod classify;
mod decode;
mod download;
mod endpoint;
mod paging;
mod rate_limits;
mod retry;
mod send;
mod token_source;
mod transport;
mod untyped;
mod upload;

pub use download::Download;
pub use endpoint::{Endpoint, HttpMethod, ResponseFormat, TokenKind, UploadRule};
pub use paging::{cursor_pages, CursorPage};
pub use retry::RetryPolicy;
pub use token_source::{AccessToken, BoxFuture, StaticTokens, TokenScope, TokenSource};
pub use transport::{Transport, TransportError, TransportRequest, TransportResponse};
pub use untyped::UntypedClient;
pub use upload::UploadFile;

use classify::{classify, Call, Next, SoFar};
// `decode_download` is unused in a build without a download endpoint's group.
#[allow(unused_imports)]
pub(crate) use decode::decode_download;
pub(crate) use decode::{decode_json, decode_payload, Decode, Reply};
use rate_limits::{LimitKey, Limited};
use upload::Multipart;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use crate::clock::{Clock, SystemClock};
use crate::error::{EndpointName, Error};
use crate::ids::AppKind;
use crate::ids::SuiteId;
use crate::urls::BrowserUrls;

/// WeCom's API host.
pub const DEFAULT_BASE_URI: &str = "https://qyapi.weixin.qq.com";
/// Default limit on one attempt's duration, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default limit on a reply's size. WeCom's JSON replies are small; the largest
/// bodies are QR-code images.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// A body that is either JSON or binary content, for endpoints whose spec
/// says `response_format: json_or_binary`.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload<T> {
    /// WeCom answered JSON (with `errcode` 0).
    Json(T),
    /// WeCom answered with other content, e.g. a PNG image.
    Binary {
        /// The `Content-Type` header, empty when absent.
        content_type: String,
        /// The body.
        bytes: Bytes,
    },
}

/// Performs spec'd calls: puts the right token on the URL, applies the limits
/// and the retry policy, checks the `errcode` envelope and decodes the typed
/// reply. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Where requests go instead of `http`, when one was set.
    transport: Option<Arc<dyn Transport>>,
    /// Endpoints WeCom rate-limited lately, per caller, until the pause ends.
    limited: Mutex<HashMap<LimitKey, Limited>>,
    base_uri: String,
    timeout: Duration,
    max_response_bytes: usize,
    retry: RetryPolicy,
    throw: bool,
    clock: Arc<dyn Clock>,
    tokens: Arc<dyn TokenSource>,
    /// What each declared suite is, for refusing calls its kind may not make.
    app_kinds: HashMap<SuiteId, AppKind>,
    /// Where the links the handles build send browsers.
    browser: BrowserUrls,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_uri", &self.inner.base_uri)
            .field("timeout", &self.inner.timeout)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .field("retry", &self.inner.retry)
            .field("throw", &self.inner.throw)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]; every setting has a default.
#[must_use]
pub struct ClientBuilder {
    base_uri: String,
    timeout: Duration,
    max_response_bytes: usize,
    retry: RetryPolicy,
    throw: bool,
    clock: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
    transport: Option<Arc<dyn Transport>>,
    app_kinds: HashMap<SuiteId, AppKind>,
    browser: BrowserUrls,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_uri: DEFAULT_BASE_URI.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            throw: true,
            clock: Arc::new(SystemClock),
            http: None,
            transport: None,
            app_kinds: HashMap::new(),
            browser: BrowserUrls::default(),
        }
    }
}

impl ClientBuilder {
    /// The API host (and optional path prefix), e.g. an emulator's
    /// `http://127.0.0.1:8080`. Default: [`DEFAULT_BASE_URI`].
    pub fn base_uri(mut self, base_uri: impl Into<String>) -> Self {
        self.base_uri = base_uri.into();
        self
    }

    /// Limit on one attempt's duration. Default: [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Limit on a reply's size. Default: [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Back-off for retryable failures. Default: [`RetryPolicy::default`].
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Whether a non-success HTTP status is an error ([`Error::Status`]).
    /// Default: on. Off, the body is decoded whatever the status.
    pub fn throw(mut self, throw: bool) -> Self {
        self.throw = throw;
        self
    }

    /// The clock retries wait on. Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Use this reqwest client (proxy, TLS settings, connection pool) instead
    /// of a default one. The timeout set here still applies per attempt.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Send every request through `transport` instead of the network (see
    /// [`Transport`]). The timeout, retries and limits set here still apply.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Declares what `suite_id` is: calls through its [`crate::Suite`] and [`crate::Corp`]
    /// handles to endpoints its kind may not make (see
    /// [`Endpoint::app_kinds`]) are refused before they are sent, with
    /// [`Error::AppKindNotAllowed`]. Calls for undeclared suites are not
    /// checked. An [`crate::Application`] declares every configured suite.
    pub fn app_kind(mut self, suite_id: impl Into<SuiteId>, kind: AppKind) -> Self {
        self.app_kinds.insert(suite_id.into(), kind);
        self
    }

    /// Where the install, OAuth and login links built by the handles send
    /// browsers. Default: WeCom's pages.
    pub fn browser_urls(mut self, urls: BrowserUrls) -> Self {
        self.browser = urls;
        self
    }

    /// Builds the client; `tokens` supplies every token a call needs.
    pub fn build(self, tokens: impl TokenSource + 'static) -> Result<Client, Error> {
        self.build_shared(Arc::new(tokens))
    }

    /// Like [`ClientBuilder::build`], with a token source shared elsewhere.
    pub fn build_shared(self, tokens: Arc<dyn TokenSource>) -> Result<Client, Error> {
        let base_uri = self.base_uri.trim_end_matches('/').to_owned();
        let scheme_ok = base_uri.starts_with("https://") || base_uri.starts_with("http://");
        if !scheme_ok || base_uri.contains(['?', '#']) || base_uri.chars().any(char::is_whitespace) {
            return Err(Error::Config(format!(
                "http.base_uri: must be an http(s) URL without query or fragment, got {base_uri:?}"
            )));
        }
        if self.timeout.is_zero() {
            return Err(Error::Config("http.timeout: must be greater than zero".into()));
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.timeout)
                .build()
                .map_err(|e| Error::Config(format!("cannot build the HTTP client: {}", e.without_url())))?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                transport: self.transport,
                limited: Mutex::new(HashMap::new()),
                base_uri,
                timeout: self.timeout,
                max_response_bytes: self.max_response_bytes,
                retry: self.retry,
                throw: self.throw,
                clock: self.clock,
                tokens,
                app_kinds: self.app_kinds,
                browser: self.browser,
            }),
        })
    }
}

/// What a call sends as its body.
enum RequestBody {
    None,
    Json(Vec<u8>),
    Multipart(Multipart),
}

impl RequestBody {
    /// The JSON body, if that is what it is.
    fn json(&self) -> Option<&[u8]> {
        match self {
            RequestBody::Json(bytes) => Some(bytes),
            _ => None,
        }
    }
}

/// Downloads at most this large are read whole, to tell WeCom's JSON error
/// from the file.
const SMALL_DOWNLOAD: u64 = 64 * 1024;

/// Where one call goes: a spec'd [`Endpoint`] or an untyped path.
#[derive(Debug, Clone)]
pub(crate) struct Target<'a> {
    pub(crate) name: EndpointName,
    pub(crate) method: HttpMethod,
    pub(crate) path: &'a str,
    pub(crate) token_param: Option<&'a str>,
    pub(crate) retry_safe: bool,
    /// Whether the reply is a file handed over as it arrives.
    pub(crate) download: bool,
    /// For a file WeCom links to (not an endpoint): the cookie the link
    /// wants. `path` is then the link itself, a whole URL, and no token goes
    /// with it.
    pub(crate) link_cookie: Option<&'a str>,
}

impl Target<'static> {
    pub(crate) fn of(endpoint: &'static Endpoint) -> Self {
        Target {
            name: EndpointName::Borrowed(endpoint.name),
            method: endpoint.method,
            path: endpoint.path,
            token_param: endpoint.token_param,
            retry_safe: endpoint.retry_safe,
            download: endpoint.response_format == ResponseFormat::Download,
            link_cookie: None,
        }
    }
}

/// Which token a call carries.
#[derive(Clone, Copy)]
pub(crate) enum TokenUse<'a> {
    /// None at all.
    Without,
    /// The token source's token of this scope, invalidated and refetched once
    /// if WeCom calls it invalid.
    Scope(&'a TokenScope),
    /// This very token (the token runtime's own fetches).
    Given(&'a AccessToken),
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for `base_uri` with the default settings.
    pub fn new(base_uri: impl Into<String>, tokens: impl TokenSource + 'static) -> Result<Client, Error> {
        Client::builder().base_uri(base_uri).build(tokens)
    }

    /// The API host calls go to.
    pub fn base_uri(&self) -> &str {
        &self.inner.base_uri
    }

    /// The token source calls take their tokens from.
    pub fn token_source(&self) -> Arc<dyn TokenSource> {
        self.inner.tokens.clone()
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The declared kind of `suite_id` (see [`ClientBuilder::app_kind`]).
    pub fn app_kind_of(&self, suite_id: &SuiteId) -> Option<AppKind> {
        self.inner.app_kinds.get(suite_id).copied()
    }

    /// Where the links built by the handles send browsers (see
    /// [`ClientBuilder::browser_urls`]).
    pub fn browser_urls(&self) -> &BrowserUrls {
        &self.inner.browser
    }

    /// Performs a spec'd call; `decode` makes the reply what the endpoint
    /// answers: [`decode_json`], [`decode_payload`] or [`decode_download`].
    pub(crate) async fn call<Q, B, T: Send>(
        &self,
        endpoint: &'static Endpoint,
        scope: Option<TokenScope>,
        query: Option<&Q>,
        body: Option<&B>,
        decode: Decode<T>,
    ) -> Result<T, Error>
    where
        Q: Serialize + ?Sized,
        B: Serialize + ?Sized,
    {
        let tokens = scope.as_ref().map_or(TokenUse::Without, TokenUse::Scope);
        self.run(Target::of(endpoint), tokens, query, body, decode).await
    }

    /// Fetches a file WeCom links to instead of answering with it (a link
    /// and the cookie it wants, as 微盘's `file_download` gives): a GET
    /// without a token, retried like one, the file handed over as it
    /// arrives. `name` names it in errors and logs; the link, which works
    /// for anyone holding the cookie, appears in neither.
    // Only 微盘 hands files over by link so far.
    #[cfg(feature = "wedrive")]
    pub(crate) async fn linked_file(
        &self,
        name: &'static str,
        url: &str,
        cookie: &str,
    ) -> Result<Download, Error> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::InvalidRequest(format!("{name}: the link is not an http(s) URL")));
        }
        let target = Target {
            name: EndpointName::Borrowed(name),
            method: HttpMethod::Get,
            path: url,
            token_param: None,
            retry_safe: true,
            download: true,
            link_cookie: Some(cookie),
        };
        self.run_body(target, TokenUse::Without, Vec::new(), RequestBody::None, decode_download).await
    }

    /// Performs a spec'd call whose request is already encoded (what a
    /// generated call does once its request is set): the generic part of a
    /// call stays this small.
    pub(crate) async fn call_encoded<T: Send>(
        &self,
        endpoint: &'static Endpoint,
        scope: Option<TokenScope>,
        query: Vec<(String, String)>,
        body: Option<Vec<u8>>,
        decode: Decode<T>,
    ) -> Result<T, Error> {
        let tokens = scope.as_ref().map_or(TokenUse::Without, TokenUse::Scope);
        let body = body.map_or(RequestBody::None, RequestBody::Json);
        self.run_body(Target::of(endpoint), tokens, query, body, decode).await
    }

    /// Performs a spec'd call with a token the caller holds; an empty one is
    /// refused before sending.
    pub(crate) async fn call_with_token<Q, B, R>(
        &self,
        endpoint: &'static Endpoint,
        access_token: &str,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<R, Error>
    where
        Q: Serialize + ?Sized,
        B: Serialize + ?Sized,
        R: DeserializeOwned + Send,
    {
        if access_token.trim().is_empty() {
            return Err(Error::InvalidRequest(format!("{}: the access_token is empty", endpoint.name)));
        }
        let token = AccessToken::new(access_token);
        self.run(Target::of(endpoint), TokenUse::Given(&token), query, body, decode_json).await
    }

    /// Performs a spec'd upload: `file` as `multipart/form-data`, after
    /// checking its size against what WeCom accepts.
    pub(crate) async fn call_upload<Q, R>(
        &self,
        endpoint: &'static Endpoint,
        scope: Option<TokenScope>,
        query: Option<&Q>,
        file: UploadFile,
    ) -> Result<R, Error>
    where
        Q: Serialize + ?Sized,
        R: DeserializeOwned + Send,
    {
        let target = Target::of(endpoint);
        let query = query.map(query_pairs).transpose()?.unwrap_or_default();
        let rule = endpoint
            .upload
            .ok_or_else(|| Error::InvalidRequest(format!("{}: not an upload endpoint", endpoint.name)))?;
        let max = rule.max_for(&query);
        if file.len() < rule.min_bytes || file.len() > max {
            return Err(Error::UploadSize {
                endpoint: target.name,
                size: file.len(),
                min: rule.min_bytes,
                max,
            });
        }
        let body = RequestBody::Multipart(Multipart::new(rule.field, &file)?);
        let tokens = scope.as_ref().map_or(TokenUse::Without, TokenUse::Scope);
        self.run_body(target, tokens, query, body, decode_json).await
    }

    /// The call loop: token, attempt, envelope; then one refetch on an
    /// invalid token, back-off on retryable failures, one pause on a rate
    /// limit (see [`RetryPolicy`]), and "authorization gone" for a corp WeCom
    /// no longer knows.
    pub(crate) async fn run<Q, B, T: Send>(
        &self,
        target: Target<'_>,
        tokens: TokenUse<'_>,
        query: Option<&Q>,
        body: Option<&B>,
        decode: Decode<T>,
    ) -> Result<T, Error>
    where
        Q: Serialize + ?Sized,
        B: Serialize + ?Sized,
    {
        let query = query.map(query_pairs).transpose()?.unwrap_or_default();
        let body = body.map(|b| body_bytes(&target.name, b)).transpose()?;
        let body = body.map_or(RequestBody::None, RequestBody::Json);
        self.run_body(target, tokens, query, body, decode).await
    }

    /// [`Client::run`] with the query and body already encoded. Only this
    /// shim is generic: the loop is compiled once, not once per reply type
    /// (it was a fifth of the crate's machine code, copied per endpoint).
    async fn run_body<T: Send>(
        &self,
        target: Target<'_>,
        tokens: TokenUse<'_>,
        query: Vec<(String, String)>,
        body: RequestBody,
        decode: Decode<T>,
    ) -> Result<T, Error> {
        let mut decoded = None;
        let mut accept = |target: &Target<'_>, reply: Reply| decode(target, reply).map(|v| decoded = Some(v));
        self.run_loop(target, tokens, query, body, &mut accept).await?;
        decoded.ok_or_else(|| Error::InvalidRequest("the call loop ended without a reply".into()))
    }

    /// The call loop itself; `accept` decodes a reply (an error it returns
    /// is classified like any other).
    async fn run_loop(
        &self,
        target: Target<'_>,
        tokens: TokenUse<'_>,
        query: Vec<(String, String)>,
        body: RequestBody,
        accept: &mut (dyn FnMut(&Target<'_>, Reply) -> Result<(), Error> + Send),
    ) -> Result<(), Error> {
        let (suite, corp) = match tokens {
            TokenUse::Scope(TokenScope::Suite(s)) => (Some(s.as_str()), None),
            TokenUse::Scope(TokenScope::Corp { suite_id, corp_id }) => {
                (Some(suite_id.as_str()), Some(corp_id.as_str()))
            }
            _ => (None, None),
        };
        let span = tracing::debug_span!(
            "wecom.call",
            endpoint = %target.name,
            suite = suite,
            corp = corp,
            attempt = tracing::field::Empty,
        );
        let policy = &self.inner.retry;
        let (scoped_token, corp_scope) = match tokens {
            TokenUse::Scope(TokenScope::Corp { .. }) => (true, true),
            TokenUse::Scope(_) => (true, false),
            TokenUse::Given(_) | TokenUse::Without => (false, false),
        };
        let scoped_token = scoped_token && target.token_param.is_some();
        let call = Call { scoped_token, corp_scope, retry_safe: target.retry_safe };
        async {
            let mut attempt = 0u32;
            let mut so_far = SoFar::default();
            let mut limit_key = None;
            loop {
                if let Some(error) = self.known_limit(&target, tokens, body.json(), &mut limit_key, attempt) {
                    tracing::debug!(error = %error, "rate-limited lately; not calling");
                    return Err(error);
                }
                attempt += 1;
                tracing::Span::current().record("attempt", attempt);
                let token = match (tokens, target.token_param) {
                    (_, None) | (TokenUse::Without, _) => None,
                    (TokenUse::Given(token), _) => Some(token.clone()),
                    (TokenUse::Scope(scope), _) => Some(self.inner.tokens.token(scope).await?),
                };
                let outcome = match self.send(&target, token.as_ref(), &query, &body).await {
                    Ok(reply) => accept(&target, reply),
                    Err(e) => Err(e),
                };
                let mut error = match outcome {
                    Ok(()) => return Ok(()),
                    Err(error) => error,
                };
                if let Error::Api { code, .. } = &error {
                    crate::metrics::api_error(target.name.as_ref(), *code);
                }
                error.set_attempts(attempt);
                let next = classify(&error, call, so_far, policy, fastrand::f64());
                so_far = so_far.after(next);
                match next {
                    Next::Refetch => {
                        if let (TokenUse::Scope(scope), Some(token)) = (tokens, token.as_ref()) {
                            tracing::debug!(code = error.code(), "token rejected; refetching it once");
                            self.inner.tokens.invalidate(scope, token).await;
                        }
                    }
                    Next::Gone => {
                        let (TokenUse::Scope(scope @ TokenScope::Corp { suite_id, corp_id }), Some(token)) =
                            (tokens, token.as_ref())
                        else {
                            return Err(error);
                        };
                        tracing::warn!(code = error.code(), "authorization gone; dropping the corp's token");
                        self.inner.tokens.invalidate(scope, token).await;
                        let gone = error.into_authorization_gone(suite_id, corp_id);
                        self.inner.tokens.authorization_gone(scope, &gone).await;
                        return Err(gone);
                    }
                    Next::Pause(pause) => {
                        self.remember_limit(&target, tokens, body.json(), &mut limit_key, &error, pause);
                        tracing::warn!(
                            code = error.code(),
                            ?pause,
                            "rate-limited by WeCom; pausing once before trying again"
                        );
                        self.inner.clock.sleep(pause).await;
                    }
                    Next::RateLimited(pause) => {
                        self.remember_limit(&target, tokens, body.json(), &mut limit_key, &error, pause);
                        tracing::warn!(code = error.code(), retry_after = ?pause, "rate-limited by WeCom");
                        return Err(error.into_rate_limited(pause));
                    }
                    Next::BackOff(wait) => {
                        tracing::debug!(?wait, error = %error, "retrying after back-off");
                        self.inner.clock.sleep(wait).await;
                    }
                    Next::Fail => return Err(error),
                }
            }
        }
        .instrument(span)
        .await
    }
}

/// A JSON body, encoded.
pub(crate) fn body_bytes<B: Serialize + ?Sized>(endpoint: &EndpointName, body: &B) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body)
        .map_err(|e| Error::InvalidRequest(format!("{endpoint}: cannot encode the body: {e}")))
}

/// Query parameters as name/value pairs; `None` fields are left out.
pub(crate) fn query_pairs<Q: Serialize + ?Sized>(query: &Q) -> Result<Vec<(String, String)>, Error> {
    let value = serde_json::to_value(query)
        .map_err(|e| Error::InvalidRequest(format!("cannot encode the query: {e}")))?;
    pairs_of(value)
}

/// [`query_pairs`] past the one generic step.
fn pairs_of(value: serde_json::Value) -> Result<Vec<(String, String)>, Error> {
    let map = match value {
        serde_json::Value::Object(map) => map,
        serde_json::Value::Null => return Ok(Vec::new()),
        _ => return Err(Error::InvalidRequest("query parameters must form an object".into())),
    };
    let mut pairs = Vec::with_capacity(map.len());
    for (key, value) in map {
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => continue,
            other => {
                return Err(Error::InvalidRequest(format!(
                    "query parameter `{key}` is not a scalar: {other}"
                )))
            }
        };
        pairs.push((key, text));
    }
    Ok(pairs)
}
