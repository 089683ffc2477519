//! A local WeCom for tests and demos, built from the same specs as the client.
//!
//! It routes every spec'd endpoint, checks that each call carries exactly its
//! token kind, issues random tokens that expire on its own clock (and are
//! returned unchanged when re-fetched while valid, as WeCom does), answers
//! other endpoints with their documented sample, injects faults on request,
//! and records every request for assertions.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let emulator = wecom_openwork::emulator::Emulator::start().await?;
//! println!("WeCom at {}", emulator.base_uri());
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::clock::{Clock, ManualClock};
use crate::endpoint::{Endpoint, HttpMethod, ResponseFormat, TokenKind};
use crate::ENDPOINTS;

/// The token query names WeCom knows; a call must carry exactly its own.
const TOKEN_PARAMS: &[&str] = &["provider_access_token", "suite_access_token", "access_token"];
/// Lifetime of every token the emulator issues, in seconds.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);

/// A 1×1 PNG, served where WeCom answers with an image.
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01,
    0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// One request as the emulator received it.
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// A WeCom error: `{"errcode": code, "errmsg": …}` with HTTP 200.
    Errcode(i64),
    /// An HTTP status with a short text body.
    HttpStatus(u16),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Break the connection instead of answering.
    Drop,
}

/// Who a token was issued to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenOwner {
    /// Its kind.
    pub kind: TokenKind,
    /// The provider corp id, the suite id, or `suite_id/corp_id`.
    pub owner: String,
}

struct Issued {
    owner: TokenOwner,
    expires_at: SystemTime,
}

#[derive(Default)]
struct State {
    requests: Vec<RecordedRequest>,
    /// Faults by path (`None`: any path), each with its remaining count.
    faults: Vec<(Option<String>, usize, Fault)>,
    issued: HashMap<String, Issued>,
    current: HashMap<TokenOwner, String>,
}

struct Shared {
    clock: ManualClock,
    state: Mutex<State>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running emulator on a loopback port. Stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Emulator {
    /// Starts on a free loopback port, with its own clock at the current time.
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::start_with_clock(ManualClock::starting_now()).await
    }

    /// Starts on a free loopback port, on `clock` (share it with the client's
    /// application so both see the same time).
    pub async fn start_with_clock(clock: ManualClock) -> std::io::Result<Emulator> {
        Emulator::bind(SocketAddr::from(([127, 0, 0, 1], 0)), clock).await
    }

    /// Starts on `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, clock: ManualClock) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared { clock, state: Mutex::new(State::default()) });
        let app = axum::Router::new().fallback({
            let shared = shared.clone();
            move |method: Method, uri: Uri, body: Bytes| {
                let shared = shared.clone();
                async move { handle(&shared, method, uri, body).await }
            }
        });
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
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

    /// Moves the emulator's clock forward (tokens expire on it).
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// How many requests went to `path`.
    pub fn calls(&self, path: &str) -> usize {
        self.shared.state().requests.iter().filter(|r| r.path == path).count()
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
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn json_reply(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"));
    response
}

fn wecom_error(code: i64, message: &str) -> Response {
    let body = serde_json::json!({ "errcode": code, "errmsg": message }).to_string();
    json_reply(StatusCode::OK, body)
}

fn decode_component(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

async fn handle(shared: &Shared, method: Method, uri: Uri, body: Bytes) -> Response {
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode_component(k), decode_component(v))
                })
                .collect()
        })
        .unwrap_or_default();
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
    if endpoint.method == HttpMethod::Post
        && (!has_body || request.body.as_ref().is_none_or(|b| !b.is_object()))
    {
        return wecom_error(47001, "data format error: the body must be a JSON object");
    }
    if let Some(reply) = issue_token(shared, endpoint, request, caller.as_ref()) {
        return reply;
    }
    let wants_image = endpoint.response_format == ResponseFormat::JsonOrBinary
        && request.body.as_ref().and_then(|b| b.get("result_type")).and_then(Value::as_i64) != Some(2);
    if wants_image {
        let mut response = Bytes::from_static(PNG_1X1).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
        return response;
    }
    json_reply(StatusCode::OK, endpoint.example_response.to_owned())
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
    let Some(token) = carried else {
        return Ok(None);
    };
    let now = shared.clock.now();
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

/// The token endpoints: a random token per owner, the same one while valid.
fn issue_token(
    shared: &Shared,
    endpoint: &Endpoint,
    request: &RecordedRequest,
    caller: Option<&TokenOwner>,
) -> Option<Response> {
    let body = request.body.as_ref()?;
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (owner, field) = match (endpoint.group, endpoint.name) {
        ("provider", "get_provider_token") => {
            (TokenOwner { kind: TokenKind::Provider, owner: text("corpid") }, "provider_access_token")
        }
        ("suite", "get_suite_token") => {
            if text("suite_ticket").is_empty() {
                return Some(wecom_error(40085, "invalid suite_ticket"));
            }
            (TokenOwner { kind: TokenKind::Suite, owner: text("suite_id") }, "suite_access_token")
        }
        ("authorization", "get_corp_token") => {
            let suite = caller.map(|c| c.owner.clone()).unwrap_or_default();
            let owner = format!("{suite}/{}", text("auth_corpid"));
            (TokenOwner { kind: TokenKind::Corp, owner }, "access_token")
        }
        _ => return None,
    };
    if owner.owner.is_empty() || owner.owner.ends_with('/') {
        return Some(wecom_error(40013, "invalid corpid or suite_id"));
    }
    let now = shared.clock.now();
    let mut state = shared.state();
    let valid = state
        .current
        .get(&owner)
        .and_then(|t| state.issued.get(t).map(|i| (t.clone(), i.expires_at)))
        .filter(|(_, expires)| *expires > now);
    let (token, expires_at) = match valid {
        Some(found) => found,
        None => {
            let token: String = std::iter::repeat_with(fastrand::alphanumeric).take(64).collect();
            let expires_at = now + TOKEN_LIFETIME;
            state.issued.insert(token.clone(), Issued { owner: owner.clone(), expires_at });
            state.current.insert(owner, token.clone());
            (token, expires_at)
        }
    };
    let remaining = expires_at.duration_since(now).unwrap_or_default().as_secs();
    let reply = serde_json::json!({ "errcode": 0, "errmsg": "ok", field: token, "expires_in": remaining });
    Some(json_reply(StatusCode::OK, reply.to_string()))
}
