//! What any endpoint called with JSON goes through (`api::dispatch`,
//! feature `json-calls`): the handles, the input, the reply, the error, and
//! the helpers each generated arm calls. The per-endpoint part (the table
//! and one arm per endpoint) is generated into `api::dispatch` around it.

use serde_json::Value;

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
/// How [`call_json`](crate::api::dispatch::call_json) calls one spec'd endpoint.
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
    /// (tokens, tickets, permanent codes, secrets); [`redact`](crate::api::dispatch::redact)
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
/// The handles [`call_json`](crate::api::dispatch::call_json) calls through: the provider's always; a
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
/// What [`call_json`](crate::api::dispatch::call_json) sends: JSON to decode into the endpoint's query
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
/// What [`call_json`](crate::api::dispatch::call_json) answered.
pub enum CallReply {
    /// The typed reply, encoded back to JSON (secrets included: see
    /// [`redact`](crate::api::dispatch::redact)).
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
/// Why [`call_json`](crate::api::dispatch::call_json) failed.
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
                    | crate::Error::RateLimited { code, message, hint, .. } => {
                        (*code, message, hint.as_deref())
                    }
                    crate::Error::IpNotAllowed { message, hint, .. } => {
                        (crate::IP_NOT_ALLOWED_CODE, message, hint.as_deref())
                    }
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
/// Redacts, in place, the scalars under the `sensitive` keys and under any key that names a secret.
pub(crate) fn redact_value(sensitive: &[&str], value: &mut Value) {
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
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            *value = Value::from("<redacted>");
        }
        Value::Array(items) => items.iter_mut().for_each(redact_scalars),
        _ => {}
    }
}
/// Whether `key` names a secret, by the rule of error messages'
/// body excerpts.
fn secret_named(key: &str) -> bool {
    let probe = ::serde_json::json!({ key : "" }).to_string();
    crate::redact::redact_secrets(&probe) != probe
}
/// The suite handle a suite endpoint needs, or why it is absent.
pub(crate) fn suite(handles: &Handles) -> Result<&crate::Suite, CallError> {
    handles
        .suite
        .as_ref()
        .ok_or_else(|| CallError::Input("a suite endpoint: no suite handle was given".to_owned()))
}
/// The corp handle a corp endpoint needs, or why it is absent.
pub(crate) fn corp(handles: &Handles) -> Result<&crate::Corp, CallError> {
    handles
        .corp
        .as_ref()
        .ok_or_else(|| CallError::Input("a corp endpoint: no corp handle was given".to_owned()))
}
/// The JSON (absent is `{}`) as the endpoint's query or request type; a
/// refusal names `what` and quotes no value.
pub(crate) fn decode<T: ::serde::de::DeserializeOwned>(
    value: Option<Value>,
    what: &str,
) -> Result<T, CallError> {
    let value = value.unwrap_or_else(|| Value::Object(::serde_json::Map::new()));
    ::serde_json::from_value(value)
        .map_err(|e| CallError::Input(format!("{what}: {}", crate::redact::redact_serde_error(e))))
}
/// A reply decoded into `R` and encoded back ([`Callable::reencode_reply`]).
pub(crate) fn reencode<R: ::serde::de::DeserializeOwned + ::serde::Serialize>(
    reply: Value,
) -> Result<Value, ::serde_json::Error> {
    ::serde_json::to_value(::serde_json::from_value::<R>(reply)?)
}
/// The `Debug` text of the decoded values ([`Callable::debug_text`]).
pub(crate) fn debug_text<Q, B, R>(
    query: Option<Value>,
    request: Option<Value>,
    reply: Value,
) -> Result<String, ::serde_json::Error>
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
/// The file an upload endpoint needs.
#[allow(dead_code)]
pub(crate) fn upload_file(file: Option<crate::UploadFile>) -> Result<crate::UploadFile, CallError> {
    file.ok_or_else(|| CallError::Input("an upload: no file was given".to_owned()))
}
/// The one-time token a registration endpoint needs.
#[allow(dead_code)]
pub(crate) fn registration_token(token: Option<crate::Secret>) -> Result<crate::Secret, CallError> {
    token.ok_or_else(|| CallError::Input("a registration call: no registration token was given".to_owned()))
}
/// A typed reply as [`CallReply::Json`].
pub(crate) fn json<R: ::serde::Serialize>(reply: Result<R, crate::Error>) -> Result<CallReply, CallError> {
    let reply = reply.map_err(CallError::Call)?;
    ::serde_json::to_value(&reply).map(CallReply::Json).map_err(|e| CallError::Reply(e.to_string()))
}
/// A JSON-or-binary reply as [`CallReply::Json`] or [`CallReply::Binary`].
#[allow(dead_code)]
pub(crate) fn payload<R: ::serde::Serialize>(
    reply: Result<crate::Payload<R>, crate::Error>,
) -> Result<CallReply, CallError> {
    match reply.map_err(CallError::Call)? {
        crate::Payload::Json(reply) => json(Ok(reply)),
        crate::Payload::Binary { content_type, bytes } => Ok(CallReply::Binary { content_type, bytes }),
    }
}
/// A download as [`CallReply::Download`].
#[allow(dead_code)]
pub(crate) fn download(reply: Result<crate::Download, crate::Error>) -> Result<CallReply, CallError> {
    reply.map(CallReply::Download).map_err(CallError::Call)
}
