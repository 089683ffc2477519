//! The emulator's controls over HTTP, for scripts in any language:
//!
//! | request | what it does |
//! |---|---|
//! | `GET /__emulator/stats` | `{"calls": {path: n}, "requests": n, "pushes": n, "now": unix_seconds}` |
//! | `GET /__emulator/requests` | every request received, oldest first |
//! | `GET /__emulator/pushes` | every callback push and its answer |
//! | `POST /__emulator/faults` | `{"path": "/cgi-bin/…" or null, "times": n, "fault": {"errcode": -1} or {"http_status": 503} or {"delay": {"secs": 1, "nanos": 0}} or "drop" or {"json": {…the reply…}}}` |
//! | `POST /__emulator/clock/advance` | `{"seconds": 600}`: moves the clock (and pushes due tickets) |
//! | `POST /__emulator/suite_ticket` | `{"suite_id": …}`: pushes a ticket now |
//! | `POST /__emulator/authorize` | `{"suite_id": …, "corp_id": …}`: a corp authorizes; `{"auth_code": …}` |
//! | `POST /__emulator/cancel` | `{"suite_id": …, "corp_id": …}`: a corp cancels |

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{advance, inject, settle, stats, unix_now, Fault, Shared};

#[derive(Deserialize)]
struct FaultRequest {
    path: Option<String>,
    times: usize,
    fault: Fault,
}

#[derive(Deserialize)]
struct AdvanceRequest {
    seconds: u64,
}

#[derive(Deserialize)]
struct SuiteRequest {
    suite_id: String,
}

#[derive(Deserialize)]
struct OrderRequest {
    order_id: String,
}

#[derive(Deserialize)]
struct CorpRequest {
    suite_id: String,
    corp_id: String,
}

fn failed(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/__emulator/stats",
            get(|State(shared): State<Arc<Shared>>| async move {
                let calls = stats(&shared);
                let (requests, pushes) = {
                    let state = shared.state();
                    (state.requests.len(), state.pushes.len())
                };
                Json(json!({ "calls": calls, "requests": requests, "pushes": pushes, "now": unix_now(&shared) }))
            }),
        )
        .route(
            "/__emulator/requests",
            get(|State(shared): State<Arc<Shared>>| async move { Json(shared.state().requests.clone()) }),
        )
        .route(
            "/__emulator/pushes",
            get(|State(shared): State<Arc<Shared>>| async move { Json(shared.state().pushes.clone()) }),
        )
        .route(
            "/__emulator/faults",
            post(|State(shared): State<Arc<Shared>>, Json(request): Json<FaultRequest>| async move {
                inject(&shared, request.path, request.times, request.fault);
                Json(json!({ "ok": true }))
            }),
        )
        .route(
            "/__emulator/clock/advance",
            post(|State(shared): State<Arc<Shared>>, Json(request): Json<AdvanceRequest>| async move {
                advance(&shared, Duration::from_secs(request.seconds));
                settle(&shared).await;
                Json(json!({ "now": unix_now(&shared) }))
            }),
        )
        .route(
            "/__emulator/suite_ticket",
            post(|State(shared): State<Arc<Shared>>, Json(request): Json<SuiteRequest>| async move {
                match super::push::suite_ticket(&shared, &request.suite_id).await {
                    Ok(record) => Json(json!(record)).into_response(),
                    Err(e) => failed(e),
                }
            }),
        )
        .route(
            "/__emulator/authorize",
            post(|State(shared): State<Arc<Shared>>, Json(request): Json<CorpRequest>| async move {
                match super::push::authorize(&shared, &request.suite_id, &request.corp_id).await {
                    Ok(code) => Json(json!({ "auth_code": code })).into_response(),
                    Err(e) => failed(e),
                }
            }),
        )
        .route(
            "/__emulator/cancel",
            post(|State(shared): State<Arc<Shared>>, Json(request): Json<CorpRequest>| async move {
                match super::push::cancel(&shared, &request.suite_id, &request.corp_id).await {
                    Ok(record) => Json(json!(record)).into_response(),
                    Err(e) => failed(e),
                }
            }),
        )
        .route(
            "/__emulator/license/pay",
            post(|State(shared): State<Arc<Shared>>, Json(request): Json<OrderRequest>| async move {
                match super::license::pay(&shared, &request.order_id) {
                    Ok(()) => Json(json!({ "ok": true })).into_response(),
                    Err(e) => failed(e),
                }
            }),
        )
        .with_state(shared)
}
