//! A local WeCom for tests and demos, built from the same specs as the client.
//!
//! This first version routes every spec'd endpoint, checks that each call
//! carries exactly its token kind, answers with the endpoint's documented
//! sample, and records every request for assertions. (Stateful tokens, the
//! install flow, time control and fault injection build on it.)
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let emulator = wecom_openwork::emulator::Emulator::start().await?;
//! println!("WeCom at {}", emulator.base_uri());
//! # Ok(())
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use crate::endpoint::{Endpoint, HttpMethod, ResponseFormat};
use crate::ENDPOINTS;

/// The token query names WeCom knows; a call must carry exactly its own.
const TOKEN_PARAMS: &[&str] = &[
    "provider_access_token",
    "suite_access_token",
    "access_token",
];

/// A 1×1 PNG, served where WeCom answers with an image.
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
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
    pub body: Option<serde_json::Value>,
}

impl RecordedRequest {
    /// Values of query parameter `name`, in order.
    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A running emulator on a loopback port. Stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Emulator {
    /// Starts on a free loopback port.
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let app = axum::Router::new().fallback({
            let state = state.clone();
            move |method: Method, uri: Uri, body: Bytes| {
                let state = state.clone();
                async move { handle(&state, method, uri, body) }
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
        Ok(Emulator {
            addr,
            state,
            shutdown: Some(tx),
        })
    }

    /// The base URI to give a client, e.g. `http://127.0.0.1:41234`.
    pub fn base_uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests went to `path`.
    pub fn calls(&self, path: &str) -> usize {
        let requests = self
            .state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        requests.iter().filter(|r| r.path == path).count()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
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
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}

fn wecom_error(code: i64, message: &str) -> Response {
    let body = serde_json::json!({ "errcode": code, "errmsg": message }).to_string();
    json_reply(StatusCode::OK, body)
}

fn handle(state: &State, method: Method, uri: Uri, body: Bytes) -> Response {
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
    let json_body = if body.is_empty() {
        None
    } else {
        serde_json::from_slice(&body).ok()
    };
    let record = RecordedRequest {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        query,
        body: json_body,
    };
    let reply = answer(&record, !body.is_empty());
    state
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(record);
    reply
}

fn decode_component(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

fn answer(request: &RecordedRequest, has_body: bool) -> Response {
    let Some(endpoint) = ENDPOINTS.iter().find(|e| e.path == request.path) else {
        return (StatusCode::NOT_FOUND, "emulator: no such endpoint").into_response();
    };
    let expected_method = match endpoint.method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
    };
    if request.method != expected_method.as_str() {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "emulator: wrong HTTP method",
        )
            .into_response();
    }
    if let Err(reply) = check_token(endpoint, request) {
        return *reply;
    }
    if endpoint.method == HttpMethod::Post
        && (!has_body || request.body.as_ref().is_none_or(|b| !b.is_object()))
    {
        return wecom_error(47001, "data format error: the body must be a JSON object");
    }
    let wants_image = endpoint.response_format == ResponseFormat::JsonOrBinary
        && request
            .body
            .as_ref()
            .and_then(|b| b.get("result_type"))
            .and_then(|v| v.as_i64())
            != Some(2);
    if wants_image {
        let mut response = Bytes::from_static(PNG_1X1).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
        return response;
    }
    json_reply(StatusCode::OK, endpoint.example_response.to_owned())
}

/// Exactly the endpoint's token parameter, once and non-empty; no other token.
fn check_token(endpoint: &Endpoint, request: &RecordedRequest) -> Result<(), Box<Response>> {
    for name in TOKEN_PARAMS {
        let values = request.query_values(name);
        let expected = endpoint.token_param == Some(*name);
        match (expected, values.as_slice()) {
            (true, [value]) if !value.is_empty() => {}
            (true, []) => {
                let code = if *name == "suite_access_token" {
                    41022
                } else {
                    41001
                };
                return Err(Box::new(wecom_error(code, &format!("{name} missing"))));
            }
            (true, _) => return Err(Box::new(wecom_error(40014, &format!("invalid {name}")))),
            (false, []) => {}
            (false, _) => {
                let message = format!("unexpected {name} on this endpoint");
                return Err(Box::new(wecom_error(40014, &message)));
            }
        }
    }
    Ok(())
}
