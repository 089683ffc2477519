//! How the emulator answers in WeCom's shape: a JSON body, and WeCom's
//! `{"errcode", "errmsg"}` error.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub(super) fn json_reply(value: &Value) -> Response {
    json_text(value.to_string())
}

/// WeCom's errcode for a parameter it cannot use (a missing one, an id the
/// corp does not have, a value out of range).
pub(super) const INVALID_PARAMETER: i64 = 40058;

/// A success: `errcode` 0, `errmsg` "ok", and `members`.
pub(super) fn ok_with(members: impl IntoIterator<Item = (&'static str, Value)>) -> Response {
    let mut reply = serde_json::Map::new();
    reply.insert("errcode".into(), 0.into());
    reply.insert("errmsg".into(), "ok".into());
    reply.extend(members.into_iter().map(|(key, value)| (key.to_owned(), value)));
    json_reply(&Value::Object(reply))
}

/// A file handed over with WeCom's headers: its type, and its name as RFC
/// 6266 writes it (an ASCII name for old readers, the UTF-8 name beside it).
pub(super) fn file_reply(file_name: &str, content_type: &str, bytes: axum::body::Bytes) -> Response {
    let mut response = Response::new(axum::body::Body::from(bytes));
    let headers = response.headers_mut();
    let ascii: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let values =
        [(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// The endpoint's documented sample, as it is.
pub(super) fn sample(endpoint: &crate::http::Endpoint) -> Response {
    json_text(super::samples::sample(endpoint).example_response.to_owned())
}

/// The members of the endpoint's documented sample, for a handler to fill
/// in (none if the sample is not an object).
pub(super) fn sample_members(endpoint: &crate::http::Endpoint) -> serde_json::Map<String, Value> {
    match serde_json::from_str(super::samples::sample(endpoint).example_response) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// The endpoint's documented sample with `patch` applied to its members
/// (an empty object if the sample is not one).
pub(super) fn sample_with(
    endpoint: &crate::http::Endpoint,
    patch: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> Response {
    let mut reply = sample_members(endpoint);
    patch(&mut reply);
    json_reply(&Value::Object(reply))
}

pub(super) fn json_text(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"));
    response
}

tokio::task_local! {
    /// The address of the client being answered, for `from ip` in errors.
    pub(super) static PEER: std::net::IpAddr;
}

/// WeCom's error: `errmsg` is the text, then `, hint: [...], from ip: ...,
/// more info at https://open.work.weixin.qq.com/devtool/query?e=N`, the way
/// WeCom writes it (the hint is a fresh random id, as WeCom's are).
pub(super) fn wecom_error(code: i64, message: &str) -> Response {
    let seconds =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let hex: String = std::iter::repeat_with(|| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .take(32)
        .collect();
    let hint = format!("{seconds}_{}_{hex}", fastrand::u16(1..1000));
    let ip = PEER.try_with(|ip| ip.to_string()).unwrap_or_else(|_| "127.0.0.1".to_owned());
    let errmsg = format!(
        "{message}, hint: [{hint}], from ip: {ip}, more info at https://open.work.weixin.qq.com/devtool/query?e={code}"
    );
    json_reply(&serde_json::json!({ "errcode": code, "errmsg": errmsg }))
}
