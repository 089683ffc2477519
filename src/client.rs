//! The HTTP side of a call: URL and token, request, limits, envelope, decoding.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::endpoint::{Endpoint, HttpMethod};
use crate::error::{body_excerpt, hint_of, Error};
use crate::handle::{Corp, Provider, Suite};
use crate::ids::{CorpId, SuiteId};
use crate::token::{TokenScope, TokenSource};

/// WeCom's API host.
pub const DEFAULT_BASE_URI: &str = "https://qyapi.weixin.qq.com";
/// Default limit on one call's duration, connection included.
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

/// Performs spec'd calls: puts the right token on the URL, applies the limits,
/// checks the `errcode` envelope and decodes the typed reply. Cheap to clone;
/// clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_uri: String,
    timeout: Duration,
    max_response_bytes: usize,
    tokens: Arc<dyn TokenSource>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_uri", &self.inner.base_uri)
            .field("timeout", &self.inner.timeout)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]; every limit has a default.
#[must_use]
pub struct ClientBuilder {
    base_uri: String,
    timeout: Duration,
    max_response_bytes: usize,
    http: Option<reqwest::Client>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_uri: DEFAULT_BASE_URI.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            http: None,
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

    /// Limit on one call's duration. Default: [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Limit on a reply's size. Default: [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Use this reqwest client (proxy, TLS settings, connection pool) instead
    /// of a default one. The timeout set here still applies per call.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
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
        if !scheme_ok || base_uri.contains(['?', '#']) || base_uri.chars().any(char::is_whitespace)
        {
            return Err(Error::Config(format!(
                "base_uri must be an http(s) URL without query or fragment, got {base_uri:?}"
            )));
        }
        if self.timeout.is_zero() {
            return Err(Error::Config("timeout must be greater than zero".into()));
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.timeout)
                .build()
                .map_err(|e| {
                    Error::Config(format!("cannot build the HTTP client: {}", e.without_url()))
                })?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_uri,
                timeout: self.timeout,
                max_response_bytes: self.max_response_bytes,
                tokens,
            }),
        })
    }
}

/// The `errcode`/`errmsg` pair every WeCom reply may carry.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

/// A raw reply: content type and body.
struct Reply {
    content_type: String,
    body: Bytes,
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for `base_uri` with the default limits.
    pub fn new(
        base_uri: impl Into<String>,
        tokens: impl TokenSource + 'static,
    ) -> Result<Client, Error> {
        Client::builder().base_uri(base_uri).build(tokens)
    }

    /// The API host calls go to.
    pub fn base_uri(&self) -> &str {
        &self.inner.base_uri
    }

    /// The handle for provider-level calls (provider token).
    pub fn provider(&self) -> Provider {
        Provider::new(self.clone())
    }

    /// The handle for one suite's calls (suite token): suite, authorization
    /// and third-party OAuth methods.
    pub fn suite(&self, suite_id: impl Into<SuiteId>) -> Suite {
        Suite::new(self.clone(), suite_id.into())
    }

    /// The handle for one authorizing corp's calls through a suite (corp token).
    pub fn corp(&self, suite_id: impl Into<SuiteId>, corp_id: impl Into<CorpId>) -> Corp {
        Corp::new(self.clone(), suite_id.into(), corp_id.into())
    }

    /// Performs a call whose reply is JSON and decodes it into `R`.
    pub(crate) async fn call<Q, B, R>(
        &self,
        endpoint: &'static Endpoint,
        scope: Option<TokenScope>,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<R, Error>
    where
        Q: Serialize + ?Sized,
        B: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let reply = self.execute(endpoint, scope, query, body).await?;
        decode_json(endpoint, &reply.body)
    }

    /// Performs a call whose reply is JSON or binary content.
    pub(crate) async fn call_payload<Q, B, R>(
        &self,
        endpoint: &'static Endpoint,
        scope: Option<TokenScope>,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<Payload<R>, Error>
    where
        Q: Serialize + ?Sized,
        B: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let reply = self.execute(endpoint, scope, query, body).await?;
        let looks_json = reply.content_type.contains("json")
            || reply.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if looks_json {
            decode_json(endpoint, &reply.body).map(Payload::Json)
        } else {
            Ok(Payload::Binary {
                content_type: reply.content_type,
                bytes: reply.body,
            })
        }
    }

    async fn execute<Q, B>(
        &self,
        endpoint: &'static Endpoint,
        scope: Option<TokenScope>,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<Reply, Error>
    where
        Q: Serialize + ?Sized,
        B: Serialize + ?Sized,
    {
        let span = tracing::debug_span!(
            "wecom.call",
            endpoint = endpoint.name,
            path = endpoint.path,
            scope = scope.as_ref().map(tracing::field::display),
        );
        async move {
            let inner = &self.inner;
            let url = format!("{}{}", inner.base_uri, endpoint.path);
            let method = match endpoint.method {
                HttpMethod::Get => reqwest::Method::GET,
                HttpMethod::Post => reqwest::Method::POST,
            };
            let mut request = inner.http.request(method, url).timeout(inner.timeout);
            if let (Some(param), Some(scope)) = (endpoint.token_param, scope.as_ref()) {
                let token = inner.tokens.token(scope).await?;
                request = request.query(&[(param, token.secret())]);
            }
            if let Some(query) = query {
                request = request.query(&query_pairs(query)?);
            }
            if let Some(body) = body {
                let json = serde_json::to_vec(body).map_err(|e| {
                    Error::InvalidRequest(format!("{}: cannot encode the body: {e}", endpoint.name))
                })?;
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(json);
            }
            let response = request
                .send()
                .await
                .map_err(|e| transport(endpoint, inner.timeout, e))?;
            let status = response.status();
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body =
                read_limited(endpoint, response, inner.max_response_bytes, inner.timeout).await?;
            if !status.is_success() {
                tracing::debug!(status = status.as_u16(), "non-success status");
                return Err(Error::Status {
                    endpoint: endpoint.name,
                    status: status.as_u16(),
                    body: body_excerpt(&body),
                });
            }
            Ok(Reply { content_type, body })
        }
        .instrument(span)
        .await
    }
}

fn transport(endpoint: &'static Endpoint, timeout: Duration, error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::Timeout {
            endpoint: endpoint.name,
            timeout,
        }
    } else {
        Error::Transport {
            endpoint: endpoint.name,
            source: error.without_url(),
        }
    }
}

/// Reads the body, refusing to hold more than `limit` bytes.
async fn read_limited(
    endpoint: &'static Endpoint,
    mut response: reqwest::Response,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Error> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(Error::TooLarge {
            endpoint: endpoint.name,
            limit,
        });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(endpoint, timeout, e))?
    {
        if body.len() + chunk.len() > limit {
            return Err(Error::TooLarge {
                endpoint: endpoint.name,
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The envelope rule: `errcode` absent or 0 is success; anything else is
/// [`Error::Api`]. Then the body decodes into `R`, ignoring unknown fields.
fn decode_json<R: DeserializeOwned>(endpoint: &'static Endpoint, body: &[u8]) -> Result<R, Error> {
    let decode_error = |source| Error::Decode {
        endpoint: endpoint.name,
        source,
        body: body_excerpt(body),
    };
    let envelope: Envelope = serde_json::from_slice(body).map_err(decode_error)?;
    match envelope.errcode {
        None | Some(0) => serde_json::from_slice(body).map_err(decode_error),
        Some(code) => {
            let message = envelope.errmsg.unwrap_or_default();
            tracing::debug!(code, "WeCom error");
            Err(Error::Api {
                endpoint: endpoint.name,
                code,
                hint: hint_of(&message),
                message,
            })
        }
    }
}

/// Query parameters as name/value pairs; `None` fields are left out.
fn query_pairs<Q: Serialize + ?Sized>(query: &Q) -> Result<Vec<(String, String)>, Error> {
    let value = serde_json::to_value(query)
        .map_err(|e| Error::InvalidRequest(format!("cannot encode the query: {e}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(Error::InvalidRequest(
            "query parameters must form an object".into(),
        ));
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
