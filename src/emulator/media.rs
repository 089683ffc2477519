//! Media with state: an uploaded file (`multipart/form-data`, as WeCom reads
//! it) is kept and can be downloaded again by its `media_id`, with WeCom's
//! headers. Which endpoints upload and download comes from their
//! descriptors ([`Endpoint::upload`], [`ResponseFormat::Download`]), so new
//! spec'd ones need no code here.

use std::time::UNIX_EPOCH;

use axum::body::Bytes;
use axum::response::Response;
use serde_json::{Map, Value};

use super::records::{RecordedUpload, StoredMedia};
use super::reply::{file_reply, sample_with, wecom_error};
use super::state::{random_code, Shared};
use crate::http::{Endpoint, ResponseFormat};

/// The media id of the documented samples; downloading it gives a small
/// sample file, so the sample call works as documented.
pub const SAMPLE_MEDIA_ID: &str = "MEDIA_ID";
const SAMPLE_FILE: &[u8] = b"a sample file kept by the emulator\n";

/// The first part of a `multipart/form-data` body; `None` when the body is
/// not one. The part's bytes share the body's memory.
pub(super) fn parse(content_type: &str, body: &Bytes) -> Option<RecordedUpload> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"'))?;
    let delimiter = format!("--{boundary}");
    let start = find(body, delimiter.as_bytes(), 0)? + delimiter.len();
    let head_start = start + 2; // CRLF after the delimiter
    let head_end = find(body, b"\r\n\r\n", head_start)?;
    let head = std::str::from_utf8(body.get(head_start..head_end)?).ok()?;
    let content_start = head_end + 4;
    let content_end = find(body, format!("\r\n{delimiter}").as_bytes(), content_start)?;
    let mut upload = RecordedUpload {
        field: String::new(),
        file_name: String::new(),
        file_length: None,
        content_type: String::new(),
        size: (content_end - content_start) as u64,
        bytes: body.slice(content_start..content_end),
    };
    for line in head.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else { continue };
        if name.trim().eq_ignore_ascii_case("content-type") {
            upload.content_type = value.trim().to_owned();
        }
        if name.trim().eq_ignore_ascii_case("content-disposition") {
            for param in value.split(';').filter_map(|p| p.split_once('=')) {
                let (key, value) = (param.0.trim(), param.1.trim().trim_matches('"'));
                match key {
                    "name" => upload.field = value.to_owned(),
                    "filename" => upload.file_name = value.to_owned(),
                    "filelength" => upload.file_length = value.parse().ok(),
                    _ => {}
                }
            }
        }
    }
    Some(upload)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// The answer of an upload: WeCom's checks of the file, then the sample
/// reply with a new `media_id` (and `url`) for the kept file.
pub(super) fn upload(
    shared: &Shared,
    endpoint: &Endpoint,
    params: &Map<String, Value>,
    upload: Option<&RecordedUpload>,
) -> Response {
    let Some(rule) = endpoint.upload else {
        return wecom_error(41005, "media data missing");
    };
    let Some(file) = upload.filter(|u| u.field == rule.field) else {
        return wecom_error(41005, &format!("media data missing: no `{}` part", rule.field));
    };
    let kind = rule.limit_by.and_then(|param| params.get(param)).and_then(Value::as_str).map(str::to_owned);
    if rule.limit_by.is_some() && !rule.limits.iter().any(|(v, _)| Some(*v) == kind.as_deref()) {
        return wecom_error(40004, "invalid media type");
    }
    if file.size == 0 {
        return wecom_error(44001, "empty media data");
    }
    let query: Vec<(String, String)> =
        kind.iter().filter_map(|k| Some((rule.limit_by?.to_owned(), k.clone()))).collect();
    if file.size < rule.min_bytes || file.size > rule.max_for(&query) {
        return wecom_error(40006, "invalid file size");
    }
    let media_id = format!("emu-media-{}", random_code(40));
    let created_at = shared.now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let stored = StoredMedia {
        file_name: file.file_name.clone(),
        content_type: file.content_type.clone(),
        bytes: file.bytes.clone(),
    };
    shared.state().media.insert(media_id.clone(), stored);
    sample_with(endpoint, |map| {
        for (key, value) in map.iter_mut() {
            *value = match (key.as_str(), &*value) {
                ("media_id", _) => Value::from(media_id.clone()),
                ("type", _) => Value::from(kind.clone().unwrap_or_default()),
                ("created_at", Value::String(_)) => Value::from(created_at.to_string()),
                ("created_at", _) => Value::from(created_at),
                ("url", _) => Value::from(format!("https://wework.qpic.cn/emulator/{media_id}/0")),
                _ => continue,
            };
        }
    })
}

/// The answer of a download: the kept file with WeCom's headers, or 40007.
pub(super) fn download(
    shared: &Shared,
    endpoint: &Endpoint,
    params: &Map<String, Value>,
) -> Option<Response> {
    if endpoint.response_format != ResponseFormat::Download {
        return None;
    }
    let media_id = params.get("media_id").and_then(Value::as_str).unwrap_or_default();
    let (file_name, content_type, bytes) = match shared.state().media.get(media_id) {
        Some(m) => (m.file_name.clone(), m.content_type.clone(), m.bytes.clone()),
        None if media_id == SAMPLE_MEDIA_ID => {
            ("sample.txt".to_owned(), "text/plain".to_owned(), Bytes::from_static(SAMPLE_FILE))
        }
        None => return Some(wecom_error(40007, "invalid media_id")),
    };
    Some(file_reply(&file_name, &content_type, bytes))
}
