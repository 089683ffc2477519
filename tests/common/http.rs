//! JSON over plain HTTP, for tests that talk to the emulator the way a
//! client in another language would. Included with `#[path]` by tests that
//! do not use `mod common`.

#![allow(dead_code)]

use serde_json::Value;

/// `GET url`: the status and the body as JSON (a string when it is not JSON).
pub async fn get(url: &str) -> (u16, Value) {
    send(reqwest::Method::GET, url, None).await
}

/// `POST url` with `body` as JSON (no `Content-Type`, as a minimal client
/// sends it): the status and the answer as JSON.
pub async fn post(url: &str, body: &Value) -> (u16, Value) {
    send(reqwest::Method::POST, url, Some(body)).await
}

/// Any method, with an optional JSON body.
pub async fn send(method: reqwest::Method, url: &str, body: Option<&Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
