//! A local WeCom for tests and demos, built from the same specs as the client.
//!
//! It routes every spec'd endpoint and checks that each call carries exactly
//! its token kind, valid and unexpired (with WeCom's error codes), and the
//! request fields the spec requires. Tokens are random, expire on the
//! emulator's clock and come back unchanged while valid. The install flow is
//! stateful: pre-auth codes, an emulated admin who authorizes a corp, the
//! encrypted `create_auth` push to the suite's command URL, single-use auth
//! codes, permanent codes, corp tokens; `cancel_auth` and `change_auth` too.
//! Suite tickets are pushed on demand and every 10 minutes of emulator time.
//! Registered suites have a kind: a call the kind may not make is answered
//! with 48002, and a 代开发 suite's corps get their tokens from `gettoken`.
//! Faults can be injected per path; every request is recorded. The same
//! controls are served over HTTP under `/__emulator/` (see [`admin`]).
//!
//! Codes the emulator did not issue (a sample's `auth_code_value`, say) get
//! the endpoint's documented sample, so every endpoint answers out of the box.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let emulator = wecom_openwork::emulator::Emulator::start().await?;
//! println!("WeCom at {}", emulator.base_uri());
//! # Ok(())
//! # }
//! ```

pub mod admin;
mod push;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::clock::{Clock, ManualClock};
use crate::credentials::AppKind;
use crate::http::{Endpoint, HttpMethod, ResponseFormat, TokenKind};
use crate::tasks::Background;
use crate::ENDPOINTS;

pub use push::PushRecord;

/// The token query names WeCom knows; a call must carry exactly its own.
const TOKEN_PARAMS: &[&str] = &["provider_access_token", "suite_access_token", "access_token"];
/// Lifetime of every token the emulator issues.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);
/// How often suite tickets are pushed, and how long one stays valid.
pub const TICKET_INTERVAL: Duration = Duration::from_secs(600);
const TICKET_VALIDITY: Duration = Duration::from_secs(1800);
const PRE_AUTH_CODE_LIFETIME: Duration = Duration::from_secs(1200);
const AUTH_CODE_LIFETIME: Duration = Duration::from_secs(600);

/// A 1×1 PNG, served where WeCom answers with an image.
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01,
    0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The provider and suites the emulator knows. Empty, it accepts any
/// credentials; filled, it checks them and pushes to the suites' URLs.
/// `Debug` shows ids and URLs, never a secret, token or AES key.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmulatorConfig {
    /// The provider's corp id (checked by `get_provider_token` when set).
    pub provider_corp_id: Option<String>,
    /// The provider secret (checked when set).
    pub provider_secret: Option<String>,
    /// Registered suites.
    pub suites: Vec<EmulatedSuite>,
}

/// A suite registered with the emulator.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatedSuite {
    /// The suite id.
    pub suite_id: String,
    /// Its secret (checked by `get_suite_token`).
    pub suite_secret: String,
    /// The callback token.
    pub token: String,
    /// The callback EncodingAESKey.
    pub aes_key: String,
    /// Where command events (tickets, authorizations) are pushed.
    #[serde(default)]
    pub command_url: Option<String>,
    /// A third-party app (the default) or a 代开发 template. Calls its kind
    /// may not make are answered with 48002; a customized suite's corps get
    /// their tokens from `gettoken`, a third-party suite's from
    /// `get_corp_token`.
    #[serde(default)]
    pub kind: AppKind,
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("provider_corp_id", &self.provider_corp_id)
            .field("provider_secret", &self.provider_secret.as_ref().map(|_| "<redacted>"))
            .field("suites", &self.suites)
            .finish()
    }
}

impl std::fmt::Debug for EmulatedSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedSuite")
            .field("suite_id", &self.suite_id)
            .field("command_url", &self.command_url)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl EmulatorConfig {
    /// The emulator side of an SDK configuration: the same provider and
    /// suites, pushing to `callback_base` + `/callback/command/{suite_id}`
    /// (the callback server's router) when given.
    pub fn from_config(config: &crate::Config, callback_base: Option<&str>) -> Self {
        EmulatorConfig {
            provider_corp_id: Some(config.corp_id.to_string()),
            provider_secret: Some(config.provider_secret.expose().to_owned()),
            suites: config
                .suites
                .iter()
                .map(|s| EmulatedSuite {
                    suite_id: s.suite_id.to_string(),
                    suite_secret: s.suite_secret.expose().to_owned(),
                    token: s.token.expose().to_owned(),
                    aes_key: s.aes_key.expose().to_owned(),
                    command_url: callback_base
                        .map(|b| format!("{}/callback/command/{}", b.trim_end_matches('/'), s.suite_id)),
                    kind: s.kind,
                })
                .collect(),
        }
    }

    fn suite(&self, suite_id: &str) -> Option<&EmulatedSuite> {
        self.suites.iter().find(|s| s.suite_id == suite_id)
    }

    /// The kind of a registered suite.
    fn kind_of(&self, suite_id: &str) -> Option<AppKind> {
        self.suite(suite_id).map(|s| s.kind)
    }
}

/// One request as the emulator received it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Query parameters in order, decoded.
    pub query: Vec<(String, String)>,
    /// The JSON body, if there was one and it parsed.
    pub body: Option<Value>,
}

impl RecordedRequest {
    /// Values of query parameter `name`, in order.
    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The access token the request carried, whatever its query name.
    pub fn token(&self) -> Option<&str> {
        self.query.iter().find(|(k, _)| TOKEN_PARAMS.contains(&k.as_str())).map(|(_, v)| v.as_str())
    }
}

/// A fault the emulator answers with instead of the real reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// A WeCom error: `{"errcode": code, "errmsg": …}` with HTTP 200.
    Errcode(i64),
    /// An HTTP status with a short text body.
    HttpStatus(u16),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Break the connection instead of answering.
    Drop,
    /// Answer with this JSON body (HTTP 200), e.g. a token reply without
    /// `expires_in`.
    Json(Value),
}

/// Who a token was issued to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenOwner {
    /// Its kind.
    pub kind: TokenKind,
    /// The provider corp id, the suite id, or `suite_id/corp_id` (`/corp_id`
    /// for a 代开发 token got with a secret the emulator did not issue).
    pub owner: String,
}

struct Issued {
    owner: TokenOwner,
    expires_at: SystemTime,
}

struct AuthCode {
    suite_id: String,
    corp_id: String,
    expires_at: SystemTime,
    used: bool,
}

#[derive(Default)]
struct State {
    requests: Vec<RecordedRequest>,
    faults: Vec<(Option<String>, usize, Fault)>,
    issued: HashMap<String, Issued>,
    current: HashMap<TokenOwner, String>,
    /// Tickets pushed per suite, newest last, with their push time.
    tickets: HashMap<String, Vec<(String, SystemTime)>>,
    last_ticket_push: HashMap<String, SystemTime>,
    pre_auth_codes: HashMap<String, (String, SystemTime)>,
    auth_codes: HashMap<String, AuthCode>,
    /// Permanent code → (suite, corp); removed when the corp cancels.
    permanent_codes: HashMap<String, (String, String)>,
    pushes: Vec<PushRecord>,
}

pub(crate) struct Shared {
    config: EmulatorConfig,
    clock: ManualClock,
    state: Mutex<State>,
    http: reqwest::Client,
    pending: Background,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }
}

fn random_code(len: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric).take(len).collect()
}

/// A running emulator on a loopback port. Stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Emulator {
    /// Starts on a free loopback port, with its own clock at the current
    /// time and no registered provider or suites (any credentials pass).
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::start_with_clock(ManualClock::starting_now()).await
    }

    /// Starts on a free loopback port, on `clock` (share it with the
    /// application so both see the same time).
    pub async fn start_with_clock(clock: ManualClock) -> std::io::Result<Emulator> {
        Emulator::bind(SocketAddr::from(([127, 0, 0, 1], 0)), clock, EmulatorConfig::default()).await
    }

    /// Starts on `addr` (port 0 picks a free one) with `config`.
    pub async fn bind(
        addr: SocketAddr,
        clock: ManualClock,
        config: EmulatorConfig,
    ) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            config,
            clock,
            state: Mutex::new(State::default()),
            http,
            pending: Background::default(),
        });
        let router = admin::router(shared.clone()).fallback({
            let shared = shared.clone();
            move |method: Method, uri: Uri, body: Bytes| {
                let shared = shared.clone();
                async move { handle(&shared, method, uri, body).await }
            }
        });
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "emulator stopped");
            }
        });
        Ok(Emulator { addr, shared, shutdown: Some(tx) })
    }

    /// The base URI to give a client, e.g. `http://127.0.0.1:41234`.
    pub fn base_uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &ManualClock {
        &self.shared.clock
    }

    /// Moves the emulator's clock forward: tokens and codes expire on it, and
    /// suites with a command URL get a new ticket when 10 minutes have passed
    /// since the last (await [`Emulator::settle`] for those pushes).
    pub fn advance(&self, by: Duration) {
        advance(&self.shared, by);
    }

    /// Waits for the pushes started so far.
    pub async fn settle(&self) {
        settle(&self.shared).await;
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// How many requests went to `path`.
    pub fn calls(&self, path: &str) -> usize {
        self.shared.state().requests.iter().filter(|r| r.path == path).count()
    }

    /// Requests per path.
    pub fn stats(&self) -> HashMap<String, usize> {
        stats(&self.shared)
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.state().requests.clear();
    }

    /// Answers the next `times` calls to `path` (every path when `None`) with
    /// `fault`. Faults queue in the order injected.
    pub fn inject(&self, path: Option<&str>, times: usize, fault: Fault) {
        self.shared.state().faults.push((path.map(str::to_owned), times, fault));
    }

    /// Who `token` was issued to, if the emulator issued it.
    pub fn token_owner(&self, token: &str) -> Option<TokenOwner> {
        self.shared.state().issued.get(token).map(|i| i.owner.clone())
    }

    /// Makes `token` invalid at once, as WeCom may do before its expiry.
    pub fn revoke_token(&self, token: &str) {
        let mut state = self.shared.state();
        if let Some(issued) = state.issued.remove(token) {
            state.current.remove(&issued.owner);
        }
    }

    /// Every callback push made so far.
    pub fn pushes(&self) -> Vec<PushRecord> {
        self.shared.state().pushes.clone()
    }

    /// Pushes a new suite ticket to the suite's command URL now.
    pub async fn push_suite_ticket(&self, suite_id: &str) -> Result<PushRecord, String> {
        push::suite_ticket(&self.shared, suite_id).await
    }

    /// An emulated admin of `corp_id` authorizes the suite: an auth code is
    /// issued and pushed in `create_auth`. Returns the auth code.
    pub async fn authorize_corp(&self, suite_id: &str, corp_id: &str) -> Result<String, String> {
        push::authorize(&self.shared, suite_id, corp_id).await
    }

    /// The corp cancels its authorization: its permanent code and tokens stop
    /// working and `cancel_auth` is pushed.
    pub async fn cancel_authorization(&self, suite_id: &str, corp_id: &str) -> Result<PushRecord, String> {
        push::cancel(&self.shared, suite_id, corp_id).await
    }

    /// The corp changes its authorization (visible range, permissions):
    /// `change_auth` is pushed.
    pub async fn change_authorization(&self, suite_id: &str, corp_id: &str) -> Result<PushRecord, String> {
        push::change(&self.shared, suite_id, corp_id).await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub(crate) fn advance(shared: &Arc<Shared>, by: Duration) {
    shared.clock.advance(by);
    let now = shared.now();
    let due: Vec<String> = {
        let state = shared.state();
        shared
            .config
            .suites
            .iter()
            .filter(|s| s.command_url.is_some())
            .filter(|s| {
                state
                    .last_ticket_push
                    .get(&s.suite_id)
                    .is_none_or(|at| now.duration_since(*at).unwrap_or_default() >= TICKET_INTERVAL)
            })
            .map(|s| s.suite_id.clone())
            .collect()
    };
    for suite_id in due {
        let shared_for_task = shared.clone();
        shared.pending.spawn(async move {
            if let Err(e) = push::suite_ticket(&shared_for_task, &suite_id).await {
                tracing::warn!(suite = %suite_id, error = %e, "scheduled suite_ticket push failed");
            }
        });
    }
}

pub(crate) async fn settle(shared: &Shared) {
    shared.pending.drain().await;
}

pub(crate) fn stats(shared: &Shared) -> HashMap<String, usize> {
    let mut calls = HashMap::new();
    for request in &shared.state().requests {
        *calls.entry(request.path.clone()).or_insert(0) += 1;
    }
    calls
}

pub(crate) fn inject(shared: &Shared, path: Option<String>, times: usize, fault: Fault) {
    shared.state().faults.push((path, times, fault));
}

fn json_reply(value: &Value) -> Response {
    json_text(value.to_string())
}

fn json_text(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"));
    response
}

fn wecom_error(code: i64, message: &str) -> Response {
    json_reply(&serde_json::json!({ "errcode": code, "errmsg": message }))
}

async fn handle(shared: &Shared, method: Method, uri: Uri, body: Bytes) -> Response {
    let query = uri.query().map(crate::urls::parse_query).unwrap_or_default();
    let json_body = if body.is_empty() { None } else { serde_json::from_slice(&body).ok() };
    let request = RecordedRequest {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        query,
        body: json_body,
    };
    let fault = {
        let mut state = shared.state();
        state.requests.push(request.clone());
        take_fault(&mut state.faults, &request.path)
    };
    match fault {
        Some(Fault::Errcode(code)) => return wecom_error(code, "injected by the emulator"),
        Some(Fault::HttpStatus(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, "injected by the emulator").into_response();
        }
        Some(Fault::Drop) => {
            let broken = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by the emulator"))
            });
            return Response::new(Body::from_stream(broken));
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::Json(body)) => return json_reply(&body),
        None => {}
    }
    answer(shared, &request, !body.is_empty())
}

fn take_fault(faults: &mut Vec<(Option<String>, usize, Fault)>, path: &str) -> Option<Fault> {
    let index = faults.iter().position(|(p, n, _)| *n > 0 && p.as_deref().is_none_or(|p| p == path))?;
    let entry = &mut faults[index];
    entry.1 -= 1;
    let fault = entry.2.clone();
    if entry.1 == 0 {
        faults.remove(index);
    }
    Some(fault)
}

fn answer(shared: &Shared, request: &RecordedRequest, has_body: bool) -> Response {
    let Some(endpoint) = ENDPOINTS.iter().find(|e| e.path == request.path) else {
        return (StatusCode::NOT_FOUND, "emulator: no such endpoint").into_response();
    };
    let expected_method = match endpoint.method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
    };
    if request.method != expected_method.as_str() {
        return (StatusCode::METHOD_NOT_ALLOWED, "emulator: wrong HTTP method").into_response();
    }
    let caller = match check_token(shared, endpoint, request) {
        Ok(caller) => caller,
        Err(reply) => return *reply,
    };
    if let Some(kind) = caller.as_ref().and_then(|c| caller_kind(shared, c)) {
        if !endpoint.allows(kind) {
            return wecom_error(
                48002,
                &format!("api forbidden: a {kind} app may not call {}", endpoint.path),
            );
        }
    }
    if endpoint.method == HttpMethod::Post
        && (!has_body || request.body.as_ref().is_none_or(|b| !b.is_object()))
    {
        return wecom_error(47001, "data format error: the body must be a JSON object");
    }
    let params = params_of(endpoint, request);
    if let Some(missing) = endpoint.required.iter().find(|name| params.get(**name).is_none_or(is_blank)) {
        return wecom_error(40058, &format!("invalid parameter: `{missing}` is required"));
    }
    if let Some(reply) = stateful(shared, endpoint, &params, caller.as_ref()) {
        return reply;
    }
    let wants_image = endpoint.response_format == ResponseFormat::JsonOrBinary
        && params.get("result_type").and_then(Value::as_i64) != Some(2);
    if wants_image {
        let mut response = Bytes::from_static(PNG_1X1).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
        return response;
    }
    json_text(endpoint.example_response.to_owned())
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The request's parameters: the JSON body of a POST, the query of a GET.
fn params_of(endpoint: &Endpoint, request: &RecordedRequest) -> serde_json::Map<String, Value> {
    match endpoint.method {
        HttpMethod::Post => request.body.as_ref().and_then(Value::as_object).cloned().unwrap_or_default(),
        HttpMethod::Get => request
            .query
            .iter()
            .filter(|(k, _)| !TOKEN_PARAMS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    }
}

/// The codes WeCom gives for a missing, invalid and expired token of a kind.
fn token_codes(kind: TokenKind) -> (i64, i64, i64) {
    match kind {
        TokenKind::Suite => (41022, 40082, 42009),
        _ => (41001, 40014, 42001),
    }
}

/// Exactly the endpoint's token parameter, once, issued for its kind and not
/// expired; no other token. Returns who the token belongs to.
fn check_token(
    shared: &Shared,
    endpoint: &Endpoint,
    request: &RecordedRequest,
) -> Result<Option<TokenOwner>, Box<Response>> {
    let (missing, invalid, expired) = token_codes(endpoint.token);
    let mut carried = None;
    for name in TOKEN_PARAMS {
        let values = request.query_values(name);
        let expected = endpoint.token_param == Some(*name);
        match (expected, values.as_slice()) {
            (true, [value]) if !value.is_empty() => carried = Some(value.to_string()),
            (true, []) => return Err(Box::new(wecom_error(missing, &format!("{name} missing")))),
            (true, _) => return Err(Box::new(wecom_error(invalid, &format!("invalid {name}")))),
            (false, []) => {}
            (false, _) => {
                let message = format!("unexpected {name} on this endpoint");
                return Err(Box::new(wecom_error(invalid, &message)));
            }
        }
    }
    let Some(token) = carried else { return Ok(None) };
    let now = shared.now();
    let state = shared.state();
    match state.issued.get(&token) {
        Some(issued) if issued.owner.kind != endpoint.token => {
            Err(Box::new(wecom_error(invalid, "invalid access token: issued for another kind")))
        }
        Some(issued) if issued.expires_at <= now => {
            Err(Box::new(wecom_error(expired, "access token expired")))
        }
        Some(issued) => Ok(Some(issued.owner.clone())),
        None => Err(Box::new(wecom_error(invalid, "invalid access token"))),
    }
}

/// The kind of the registered suite a token was issued for, if known.
fn caller_kind(shared: &Shared, caller: &TokenOwner) -> Option<AppKind> {
    let suite = match caller.kind {
        TokenKind::Suite => caller.owner.as_str(),
        TokenKind::Corp => caller.owner.split_once('/').map_or("", |(suite, _)| suite),
        _ => return None,
    };
    shared.config.kind_of(suite)
}

/// Endpoints whose answer depends on the emulator's state; `None` for the
/// rest (they get their sample).
fn stateful(
    shared: &Shared,
    endpoint: &Endpoint,
    params: &serde_json::Map<String, Value>,
    caller: Option<&TokenOwner>,
) -> Option<Response> {
    let text = |key: &str| params.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let suite_of_caller = caller.map(|c| c.owner.clone()).unwrap_or_default();
    match (endpoint.group, endpoint.name) {
        ("provider", "get_provider_token") => {
            let config = &shared.config;
            let corp_ok = config.provider_corp_id.as_ref().is_none_or(|c| *c == text("corpid"));
            let secret_ok = config.provider_secret.as_ref().is_none_or(|s| *s == text("provider_secret"));
            if !corp_ok {
                return Some(wecom_error(40013, "invalid corpid"));
            }
            if !secret_ok {
                return Some(wecom_error(40001, "invalid provider_secret"));
            }
            Some(issue_token(shared, TokenKind::Provider, text("corpid"), "provider_access_token"))
        }
        ("suite", "get_suite_token") => {
            let suite_id = text("suite_id");
            if let Some(suite) = shared.config.suite(&suite_id) {
                if suite.suite_secret != text("suite_secret") {
                    return Some(wecom_error(40080, "invalid suite_secret"));
                }
                if !ticket_valid(shared, &suite_id, &text("suite_ticket")) {
                    return Some(wecom_error(40085, "invalid suite_ticket"));
                }
            } else if !shared.config.suites.is_empty() {
                return Some(wecom_error(40083, "invalid suite_id"));
            }
            Some(issue_token(shared, TokenKind::Suite, suite_id, "suite_access_token"))
        }
        ("authorization", "get_pre_auth_code") => {
            let code = random_code(64);
            let expires = shared.now() + PRE_AUTH_CODE_LIFETIME;
            shared.state().pre_auth_codes.insert(code.clone(), (suite_of_caller, expires));
            let lifetime = PRE_AUTH_CODE_LIFETIME.as_secs();
            Some(json_reply(
                &serde_json::json!({"errcode": 0, "errmsg": "ok", "pre_auth_code": code, "expires_in": lifetime}),
            ))
        }
        ("authorization", "set_session_info") => {
            let code = text("pre_auth_code");
            let state = shared.state();
            match state.pre_auth_codes.get(&code) {
                Some((_, expires)) if *expires <= shared.now() => {
                    Some(wecom_error(42007, "pre_auth_code expired"))
                }
                // Issued and valid, or never issued (a sample's code): accepted.
                _ => None,
            }
        }
        ("authorization", "get_permanent_code" | "get_permanent_code_v2") => {
            permanent_code(shared, endpoint, &text("auth_code"), &suite_of_caller)
        }
        ("authorization", "get_corp_token") => {
            let (corp, code) = (text("auth_corpid"), text("permanent_code"));
            let known = shared.state().permanent_codes.get(&code).cloned();
            let issued_by_us = looks_issued(&code);
            match known {
                Some((suite, owner_corp)) if owner_corp == corp && suite == suite_of_caller => {}
                Some(_) => return Some(wecom_error(40084, "invalid permanent_code")),
                None if issued_by_us => return Some(wecom_error(40084, "invalid permanent_code")),
                None => {}
            }
            let owner = format!("{suite_of_caller}/{corp}");
            if corp.is_empty() {
                return Some(wecom_error(40013, "invalid corpid"));
            }
            Some(issue_token(shared, TokenKind::Corp, owner, "access_token"))
        }
        ("authorization", "get_customized_corp_token") => {
            customized_corp_token(shared, &text("corpid"), &text("corpsecret"))
        }
        _ => None,
    }
}

/// `gettoken` for a 代开发 app: the secret is a permanent code issued to a
/// customized suite for that corp, else 40001 (invalid secret). With no
/// suites registered, a secret the emulator did not issue (a sample's) is
/// accepted too, and the token's owner is `/corp_id`.
fn customized_corp_token(shared: &Shared, corp: &str, secret: &str) -> Option<Response> {
    if corp.is_empty() {
        return Some(wecom_error(40013, "invalid corpid"));
    }
    let known = shared.state().permanent_codes.get(secret).cloned();
    let owner = match known {
        Some((suite, owner_corp)) if owner_corp == corp => {
            if shared.config.kind_of(&suite) == Some(AppKind::ThirdParty) {
                // A third-party app's permanent code is not an app secret.
                return Some(wecom_error(40001, "invalid corpsecret"));
            }
            format!("{suite}/{corp}")
        }
        Some(_) => return Some(wecom_error(40001, "invalid corpsecret")),
        None if looks_issued(secret) || !shared.config.suites.is_empty() || secret.is_empty() => {
            return Some(wecom_error(40001, "invalid corpsecret"));
        }
        None => format!("/{corp}"),
    };
    Some(issue_token(shared, TokenKind::Corp, owner, "access_token"))
}

/// Permanent codes the emulator issues carry this prefix, so one it issued
/// and then revoked is told apart from a sample's made-up code.
const PERMANENT_CODE_PREFIX: &str = "emu-pc-";

fn looks_issued(code: &str) -> bool {
    code.starts_with(PERMANENT_CODE_PREFIX)
}

fn ticket_valid(shared: &Shared, suite_id: &str, ticket: &str) -> bool {
    let state = shared.state();
    match state.tickets.get(suite_id) {
        // Nothing was pushed for this suite: any non-empty ticket passes.
        None => !ticket.is_empty(),
        Some(pushed) => {
            let now = shared.now();
            pushed
                .iter()
                .any(|(t, at)| t == ticket && now.duration_since(*at).unwrap_or_default() < TICKET_VALIDITY)
        }
    }
}

fn permanent_code(shared: &Shared, endpoint: &Endpoint, auth_code: &str, suite: &str) -> Option<Response> {
    let now = shared.now();
    let mut state = shared.state();
    let entry = state.auth_codes.get_mut(auth_code)?;
    if entry.used || entry.expires_at <= now || entry.suite_id != suite {
        return Some(wecom_error(40078, "invalid auth_code"));
    }
    entry.used = true;
    let corp = entry.corp_id.clone();
    let existing =
        state.permanent_codes.iter().find(|(_, (s, c))| s == suite && *c == corp).map(|(k, _)| k.clone());
    let code = existing.unwrap_or_else(|| format!("{PERMANENT_CODE_PREFIX}{}", random_code(32)));
    state.permanent_codes.insert(code.clone(), (suite.to_owned(), corp.clone()));
    drop(state);
    let mut reply: Value =
        serde_json::from_str(endpoint.example_response).unwrap_or_else(|_| serde_json::json!({}));
    reply["permanent_code"] = Value::from(code);
    reply["auth_corp_info"]["corpid"] = Value::from(corp);
    reply["errcode"] = Value::from(0);
    if shared.config.kind_of(suite) == Some(AppKind::Customized) {
        // A 代开发 template gets no corp token here: the code is the app's
        // secret, for gettoken.
        if let Some(map) = reply.as_object_mut() {
            map.remove("access_token");
            map.remove("expires_in");
        }
    } else if reply.get("access_token").is_some() {
        reply["access_token"] = Value::from(random_code(64));
    }
    Some(json_reply(&reply))
}

/// The token endpoints: a random token per owner, the same one while valid.
fn issue_token(shared: &Shared, kind: TokenKind, owner: String, field: &str) -> Response {
    if owner.is_empty() {
        return wecom_error(40013, "invalid corpid or suite_id");
    }
    let owner = TokenOwner { kind, owner };
    let now = shared.now();
    let mut state = shared.state();
    let valid = state
        .current
        .get(&owner)
        .and_then(|t| state.issued.get(t).map(|i| (t.clone(), i.expires_at)))
        .filter(|(_, expires)| *expires > now);
    let (token, expires_at) = match valid {
        Some(found) => found,
        None => {
            let token = random_code(64);
            let expires_at = now + TOKEN_LIFETIME;
            state.issued.insert(token.clone(), Issued { owner: owner.clone(), expires_at });
            state.current.insert(owner, token.clone());
            (token, expires_at)
        }
    };
    // The remaining lifetime, rounded up: a token asked for again comes back
    // unchanged with what is left of its life, never with 0 while valid.
    let left = expires_at.duration_since(now).unwrap_or_default();
    let remaining = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    json_reply(&serde_json::json!({ "errcode": 0, "errmsg": "ok", field: token, "expires_in": remaining }))
}

/// Unix seconds of the emulator's clock.
fn unix_now(shared: &Shared) -> u64 {
    shared.now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}
