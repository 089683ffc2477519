//! How the emulator answers in WeCom's shape: a JSON body, and WeCom's
//! `{"errcode", "errmsg"}` error.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub(super) fn json_reply(value: &Value) -> Response {
    json_text(value.to_string())
}

pub(super) fn json_text(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"));
    response
}

pub(super) fn wecom_error(code: i64, message: &str) -> Response {
    json_reply(&serde_json::json!({ "errcode": code, "errmsg": message }))
}
