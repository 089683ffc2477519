//! The emulator's controls over HTTP, for tests and scripts in any language.
//! Bodies are JSON (no `Content-Type` needed); a bad request is answered
//! 400 with `{"error": …}`. Answers that push include what was pushed, so a
//! caller learns tickets and codes without running a callback server. The
//! OpenAPI 3.1 document of them all is served at `GET /__emulator/openapi.json`
//! ([`OPENAPI_JSON`]).
//!
//! | request | what it does |
//! |---|---|
//! | `GET /__emulator/stats` | `{"calls": {path: n}, "requests": n, "pushes": n, "now": unix_seconds}` |
//! | `GET /__emulator/requests` | every request received, oldest first |
//! | `GET /__emulator/violations` | the calls that broke the SDK's own rules (recorded when not strict) |
//! | `GET /__emulator/pushes` | every push attempt and its answer |
//! | `POST /__emulator/faults` | `{"path": "/cgi-bin/…" or null, "times": n, "fault": {"errcode": -1} or {"http_status": 503} or {"delay": {"secs": 1, "nanos": 0}} or "drop" or {"json": {…the reply…}}}` |
//! | `DELETE /__emulator/faults` | clears the injected faults; `{"cleared": n}` |
//! | `POST /__emulator/clock/advance` | `{"seconds": 600}`: moves the clock, pushes the tickets due; `{"now": …, "tickets": [{"suite_id", "ticket", "timestamp"}]}` |
//! | `POST /__emulator/suite_ticket` | `{"suite_id": …}`: pushes a ticket now; the push and `"ticket"` |
//! | `POST /__emulator/authorize` | `{"suite_id": …, "corp_id": …}`: a corp authorizes; the push and `"auth_code"` |
//! | `POST /__emulator/cancel` | `{"suite_id": …, "corp_id": …}`: a corp cancels; the push |
//! | `POST /__emulator/change_auth` | `{"suite_id": …, "corp_id": …}`: a corp changes its authorization; the push |
//! | `POST /__emulator/reset_permanent_code` | `{"suite_id": …, "corp_id": …}`: a new permanent code, the old one invalid; the push, `"auth_code"` and `"permanent_code"` |
//! | `POST /__emulator/events` | `{"suite_id": …, "corp_id": …, "xml": "<xml>…</xml>", "url": "data" or "command"}`: pushes any event; the push |
//! | `POST /__emulator/license/pay` | `{"order_id": …}`: pays a license order |
//! | `POST /__emulator/oauth_code` | `{suite_id, corp_id, userid}` → `{code, expires_in}`: the code an OAuth redirect would hand over; once, 5 minutes |
//! | `POST /__emulator/reset` | forgets requests, pushes, faults and everything issued; keeps the configuration |
//! | `GET /__emulator/openapi.json` | the OpenAPI 3.1 document of these routes |

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::push::{PushError, PushTarget};
use super::{advance, clear_faults, inject, reset, settle, stats, unix_now, Fault, Shared};

/// The OpenAPI 3.1 document of the control routes, served at
/// `GET /__emulator/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("control_openapi.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    #[serde(default)]
    path: Option<String>,
    times: usize,
    fault: Fault,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    seconds: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteRequest {
    suite_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderRequest {
    order_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpRequest {
    suite_id: String,
    corp_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventRequest {
    suite_id: String,
    #[serde(default)]
    corp_id: String,
    xml: String,
    #[serde(default)]
    url: PushTarget,
}

type Control = State<Arc<Shared>>;

fn failed(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

fn push_failed(error: PushError) -> Response {
    failed(error.to_string())
}

/// The JSON body as `T`, or why not (for a 400 answer).
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("bad request body: {e}"))
}

/// `value` as a JSON object with `extra`'s members added.
fn with<T: Serialize>(value: &T, extra: &[(&str, Value)]) -> Response {
    let mut answer = serde_json::to_value(value).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut answer {
        for (key, member) in extra {
            map.insert((*key).to_owned(), member.clone());
        }
    }
    Json(answer).into_response()
}

async fn get_stats(State(shared): Control) -> Response {
    let calls = stats(&shared);
    let (requests, pushes) = {
        let state = shared.state();
        (state.requests.len(), state.pushes.len())
    };
    Json(json!({ "calls": calls, "requests": requests, "pushes": pushes, "now": unix_now(&shared) }))
        .into_response()
}

async fn get_requests(State(shared): Control) -> Response {
    Json(shared.state().requests.clone()).into_response()
}

async fn get_violations(State(shared): Control) -> Response {
    Json(shared.state().violations.clone()).into_response()
}

async fn get_pushes(State(shared): Control) -> Response {
    Json(shared.state().pushes.clone()).into_response()
}

async fn post_fault(State(shared): Control, body: Bytes) -> Response {
    match parse::<FaultRequest>(&body) {
        Ok(request) => {
            inject(&shared, request.path, request.times, request.fault);
            Json(json!({ "ok": true })).into_response()
        }
        Err(e) => failed(e),
    }
}

async fn delete_faults(State(shared): Control) -> Response {
    Json(json!({ "cleared": clear_faults(&shared) })).into_response()
}

async fn post_advance(State(shared): Control, body: Bytes) -> Response {
    let request = match parse::<AdvanceRequest>(&body) {
        Ok(request) => request,
        Err(e) => return failed(e),
    };
    let Some(tickets) = advance(&shared, Duration::from_secs(request.seconds)) else {
        return failed(format!("advancing {} seconds overflows the clock", request.seconds));
    };
    settle(&shared).await;
    Json(json!({ "now": unix_now(&shared), "tickets": tickets })).into_response()
}

async fn post_suite_ticket(State(shared): Control, body: Bytes) -> Response {
    let request = match parse::<SuiteRequest>(&body) {
        Ok(request) => request,
        Err(e) => return failed(e),
    };
    match super::push::suite_ticket(&shared, &request.suite_id).await {
        Ok((ticket, record)) => with(&record, &[("ticket", Value::from(ticket))]),
        Err(e) => push_failed(e),
    }
}

async fn post_authorize(State(shared): Control, body: Bytes) -> Response {
    let request = match parse::<CorpRequest>(&body) {
        Ok(request) => request,
        Err(e) => return failed(e),
    };
    match super::push::authorize(&shared, &request.suite_id, &request.corp_id, "").await {
        Ok((code, record)) => with(&record, &[("auth_code", Value::from(code))]),
        Err(e) => push_failed(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OAuthCodeRequest {
    suite_id: String,
    corp_id: String,
    userid: String,
}

async fn post_oauth_code(State(shared): Control, body: Bytes) -> Response {
    let request = match parse::<OAuthCodeRequest>(&body) {
        Ok(request) => request,
        Err(e) => return failed(e),
    };
    match super::oauth::issue_code(&shared, &request.suite_id, &request.corp_id, &request.userid) {
        Ok(code) => Json(json!({ "code": code, "expires_in": super::oauth::OAUTH_CODE_LIFETIME.as_secs() }))
            .into_response(),
        Err(e) => failed(e),
    }
}

async fn post_cancel(State(shared): Control, body: Bytes) -> Response {
    let request = match parse::<CorpRequest>(&body) {
        Ok(request) => request,
        Err(e) => return failed(e),
    };
    match super::push::cancel(&shared, &request.suite_id, &request.corp_id).await {
        Ok(record) => with(&record, &[]),
        Err(e) => push_failed(e),
    }
}

async fn post_change_auth(State(shared): Control, body: Bytes) -> Response {
    let request = match parse::<CorpRequest>(&body) {
        Ok(request) => request,
        Err(e) => return failed(e),
    };
    match super::push::change(&shared, &request.suite_id, &request.corp_id).await {
        Ok(record) => with(&record, &[]),
        Err(e) => push_failed(e),
    }
}

async fn post_reset_permanent_code(State(shared): Control, body: Bytes) -> Response {
    let request = match parse::<CorpRequest>(&body) {
        Ok(request) => request,
        Err(e) => return failed(e),
    };
    match super::push::reset_permanent_code(&shared, &request.suite_id, &request.corp_id).await {
        Ok(reset) => with(&reset, &[]),
        Err(e) => push_failed(e),
    }
}

async fn post_event(State(shared): Control, body: Bytes) -> Response {
    let request = match parse::<EventRequest>(&body) {
        Ok(request) => request,
        Err(e) => return failed(e),
    };
    match super::push::event(&shared, &request.suite_id, &request.corp_id, &request.xml, request.url).await {
        Ok(record) => with(&record, &[]),
        Err(e) => push_failed(e),
    }
}

async fn post_license_pay(State(shared): Control, body: Bytes) -> Response {
    let request = match parse::<OrderRequest>(&body) {
        Ok(request) => request,
        Err(e) => return failed(e),
    };
    match super::license::pay(&shared, &request.order_id) {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => failed(e),
    }
}

async fn post_reset(State(shared): Control) -> Response {
    reset(&shared).await;
    Json(json!({ "ok": true, "now": unix_now(&shared) })).into_response()
}

async fn get_openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

/// Every control route: method, path, handler.
fn table() -> Vec<(&'static str, &'static str, MethodRouter<Arc<Shared>>)> {
    vec![
        ("GET", "/__emulator/stats", get(get_stats)),
        ("GET", "/__emulator/requests", get(get_requests)),
        ("GET", "/__emulator/violations", get(get_violations)),
        ("GET", "/__emulator/pushes", get(get_pushes)),
        ("POST", "/__emulator/faults", post(post_fault)),
        ("DELETE", "/__emulator/faults", delete(delete_faults)),
        ("POST", "/__emulator/clock/advance", post(post_advance)),
        ("POST", "/__emulator/suite_ticket", post(post_suite_ticket)),
        ("POST", "/__emulator/authorize", post(post_authorize)),
        ("POST", "/__emulator/oauth_code", post(post_oauth_code)),
        ("POST", "/__emulator/cancel", post(post_cancel)),
        ("POST", "/__emulator/change_auth", post(post_change_auth)),
        ("POST", "/__emulator/reset_permanent_code", post(post_reset_permanent_code)),
        ("POST", "/__emulator/events", post(post_event)),
        ("POST", "/__emulator/license/pay", post(post_license_pay)),
        ("POST", "/__emulator/reset", post(post_reset)),
        ("GET", "/__emulator/openapi.json", get(get_openapi)),
    ]
}

/// Every control route the emulator serves, as (method, path).
pub fn routes() -> Vec<(&'static str, &'static str)> {
    table().into_iter().map(|(method, path, _)| (method, path)).collect()
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    table()
        .into_iter()
        .fold(Router::new(), |router, (_, path, handler)| router.route(path, handler))
        .with_state(shared)
}
