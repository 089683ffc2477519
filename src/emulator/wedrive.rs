//! 微盘 with state, per corp (the corp of the calling token): spaces made
//! with `wedrive/space_create`, files uploaded into them, listed, described
//! and downloaded. `file_download` answers with a link on the emulator and
//! a cookie; a GET of the link with that cookie hands the file over, as
//! WeCom's download host does. A corp that never made a space gets the
//! endpoints' samples, and so does a sample's made-up id (see
//! [`Call::unknown_id`]).

use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path, State as AxumState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use super::handler::{Call, Table};
use super::records::{DriveFile, DriveLink, DriveSpace};
use super::reply::{json_reply, wecom_error};
use super::state::{random_code, unix_now, RecordedRequest, Shared};
use crate::api::wedrive::endpoints as wedrive;

/// Where the emulator serves the files `file_download` links to.
pub(super) const DOWNLOAD_PATH: &str = "/__wedrive/download/{link}";

/// How long a download link works: 2 hours, as the official page says.
const LINK_LIFETIME: Duration = Duration::from_secs(2 * 3600);

/// The largest file `file_upload` takes, before base64: 10 MB.
const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// The cookie a download link wants.
const COOKIE_NAME: &str = "wedrive_ticket";

/// WeCom's errcode for a parameter it cannot use (an unknown space, file or
/// folder id; content that is not base64).
const INVALID_PARAMETER: i64 = 40058;
/// WeCom's errcode for a file larger than an upload takes.
const INVALID_FILE_SIZE: i64 = 40006;

/// The wedrive endpoints whose answer depends on state, each with its handler.
pub(super) static HANDLERS: Table = &[
    (&wedrive::SPACE_CREATE, space_create),
    (&wedrive::SPACE_INFO, space_info),
    (&wedrive::SPACE_RENAME, space_rename),
    (&wedrive::SPACE_DISMISS, space_dismiss),
    (&wedrive::FILE_UPLOAD, file_upload),
    (&wedrive::FILE_LIST, file_list),
    (&wedrive::FILE_INFO, file_info),
    (&wedrive::FILE_DELETE, file_delete),
    (&wedrive::FILE_DOWNLOAD, file_download),
];

fn ok(mut members: serde_json::Map<String, Value>) -> Response {
    members.insert("errcode".into(), 0.into());
    members.insert("errmsg".into(), "ok".into());
    json_reply(&Value::Object(members))
}

fn invalid(what: &str) -> Response {
    wecom_error(INVALID_PARAMETER, &format!("invalid {what}"))
}

/// Space ids the emulator issues start so (a space's id is also its root
/// folder's).
const SPACE_PREFIX: &str = "s.emu-";
/// File ids the emulator issues start so.
const FILE_PREFIX: &str = "f.emu-";

/// The answer to a space, folder or file id the corp does not have (see
/// [`Call::unknown_id`]).
fn unknown(c: &Call<'_>, id: &str, what: &str) -> Option<Response> {
    let prefix = if id.starts_with(SPACE_PREFIX) { SPACE_PREFIX } else { FILE_PREFIX };
    c.unknown_id(id, prefix, || invalid(what))
}

fn space_create(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let spaceid = format!("{SPACE_PREFIX}{}", random_code(24));
    let space = DriveSpace { name: c.text("space_name") };
    c.shared.state().wedrive.entry(corp.to_owned()).or_default().spaces.insert(spaceid.clone(), space);
    Some(ok(json!({"spaceid": spaceid}).as_object().cloned().unwrap_or_default()))
}

fn space_info(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let drive = state.wedrive.get(corp)?;
    let spaceid = c.text("spaceid");
    let Some(space) = drive.spaces.get(&spaceid) else { return unknown(c, &spaceid, "spaceid") };
    let info = json!({"spaceid": spaceid, "space_name": space.name});
    Some(ok([("space_info".to_owned(), info)].into_iter().collect()))
}

fn space_rename(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let spaceid = c.text("spaceid");
    let Some(space) = state.wedrive.get_mut(corp)?.spaces.get_mut(&spaceid) else {
        return unknown(c, &spaceid, "spaceid");
    };
    space.name = c.text("space_name");
    Some(ok(serde_json::Map::new()))
}

/// Dismisses a space and everything in it.
fn space_dismiss(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let drive = state.wedrive.get_mut(corp)?;
    let spaceid = c.text("spaceid");
    if drive.spaces.remove(&spaceid).is_none() {
        return unknown(c, &spaceid, "spaceid");
    }
    drive.files.retain(|_, file| file.spaceid != spaceid);
    Some(ok(serde_json::Map::new()))
}

/// Keeps a file given as base64 in a space's folder (the space id is its
/// root folder's id).
fn file_upload(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let now = unix_now(c.shared);
    let mut state = c.shared.state();
    let drive = state.wedrive.get_mut(corp)?;
    let (spaceid, fatherid) = (c.text("spaceid"), c.text("fatherid"));
    if !drive.spaces.contains_key(&spaceid) {
        return unknown(c, &spaceid, "spaceid");
    }
    let in_space = |f: &DriveFile| f.spaceid == spaceid && f.is_folder();
    if fatherid != spaceid && drive.files.get(&fatherid).is_none_or(|f| !in_space(f)) {
        return unknown(c, &fatherid, "fatherid");
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(c.text("file_base64_content")) else {
        return Some(invalid("file_base64_content: not base64"));
    };
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Some(wecom_error(INVALID_FILE_SIZE, "invalid file size: more than 10 MB"));
    }
    let fileid = format!("{FILE_PREFIX}{}", random_code(24));
    let file = DriveFile {
        spaceid,
        fatherid,
        name: c.text("file_name"),
        file_type: DriveFile::FILE,
        bytes: bytes.into(),
        created: now,
    };
    drive.files.insert(fileid.clone(), file);
    Some(ok([("fileid".to_owned(), Value::from(fileid))].into_iter().collect()))
}

/// One file as `file_list` and `file_info` describe it.
fn describe(fileid: &str, file: &DriveFile) -> Value {
    json!({
        "fileid": fileid,
        "file_name": file.name,
        "spaceid": file.spaceid,
        "fatherid": file.fatherid,
        "file_size": file.bytes.len(),
        "ctime": file.created,
        "mtime": file.created,
        "file_type": file.file_type,
        "file_status": 1,
        "sha": hex(&Sha1::digest(&file.bytes)),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The files of one folder, `limit` (1-1000) from `start`, in upload order.
fn file_list(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let drive = state.wedrive.get(corp)?;
    let (spaceid, fatherid) = (c.text("spaceid"), c.text("fatherid"));
    if !drive.spaces.contains_key(&spaceid) {
        return unknown(c, &spaceid, "spaceid");
    }
    let start = c.params.get("start").and_then(Value::as_u64).unwrap_or(0);
    let limit = c.params.get("limit").and_then(Value::as_u64).unwrap_or(1000);
    if !(1..=1000).contains(&limit) {
        return Some(invalid("limit: 1-1000"));
    }
    let mut files: Vec<(&String, &DriveFile)> =
        drive.files.iter().filter(|(_, f)| f.spaceid == spaceid && f.fatherid == fatherid).collect();
    files.sort_by_key(|(id, f)| (f.created, *id));
    let (start, limit) =
        (usize::try_from(start).unwrap_or(usize::MAX), usize::try_from(limit).unwrap_or(1000));
    let page: Vec<Value> = files.iter().skip(start).take(limit).map(|(id, f)| describe(id, f)).collect();
    let next = start.saturating_add(page.len());
    let mut members = serde_json::Map::new();
    members.insert("has_more".into(), Value::from(next < files.len()));
    members.insert("next_start".into(), Value::from(next));
    members.insert("file_list".into(), json!({"item": page}));
    Some(ok(members))
}

fn file_info(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let drive = state.wedrive.get(corp)?;
    let fileid = c.text("fileid");
    let Some(file) = drive.files.get(&fileid) else { return unknown(c, &fileid, "fileid") };
    Some(ok([("file_info".to_owned(), describe(&fileid, file))].into_iter().collect()))
}

fn file_delete(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let drive = state.wedrive.get_mut(corp)?;
    let ids: Vec<String> = c
        .params
        .get("fileid")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if ids.is_empty() {
        return Some(invalid("fileid"));
    }
    if let Some(missing) = ids.iter().find(|id| !drive.files.contains_key(*id)) {
        return unknown(c, missing, "fileid");
    }
    for id in ids {
        drive.files.remove(&id);
    }
    Some(ok(serde_json::Map::new()))
}

/// A link to the file on the emulator and the cookie it wants, valid 2 hours.
fn file_download(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let now = c.shared.now();
    let mut state = c.shared.state();
    let drive = state.wedrive.get_mut(corp)?;
    let fileid = c.text("fileid");
    match drive.files.get(&fileid) {
        None => return unknown(c, &fileid, "fileid"),
        Some(file) if file.is_folder() => return Some(invalid("fileid: a folder")),
        Some(_) => {}
    }
    let (link, cookie) = (random_code(32), random_code(40));
    let expires = now.checked_add(LINK_LIFETIME).unwrap_or(SystemTime::UNIX_EPOCH);
    drive.links.retain(|_, l| now < l.expires);
    drive.links.insert(link.clone(), DriveLink { fileid, cookie: cookie.clone(), expires });
    let url = format!("{}{}", c.shared.base_uri, DOWNLOAD_PATH.replace("{link}", &link));
    let mut members = serde_json::Map::new();
    members.insert("download_url".into(), url.into());
    members.insert("cookie_name".into(), COOKIE_NAME.into());
    members.insert("cookie_value".into(), cookie.into());
    Some(ok(members))
}

/// `GET` of a download link (recorded with the requests): the file, when
/// the request carries the link's cookie and the link has not expired; 403
/// otherwise, 404 for a link the emulator never gave.
pub(super) async fn serve_download(
    AxumState(shared): AxumState<std::sync::Arc<Shared>>,
    Path(link): Path<String>,
    headers: HeaderMap,
) -> Response {
    let now = shared.now();
    let mut state = shared.state();
    state.requests.push(RecordedRequest {
        method: "GET".into(),
        path: DOWNLOAD_PATH.replace("{link}", &link),
        query: Vec::new(),
        body: None,
        upload: None,
    });
    let found = state.wedrive.values().find_map(|drive| Some((drive, drive.links.get(&link)?)));
    let Some((drive, link)) = found else {
        return (StatusCode::NOT_FOUND, "no such download link").into_response();
    };
    let wanted = format!("{COOKIE_NAME}={}", link.cookie);
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    let carried = cookies.flat_map(|v| v.split(';')).any(|c| c.trim() == wanted);
    if !carried || now >= link.expires {
        return (StatusCode::FORBIDDEN, "the download link needs its cookie and expires after 2 hours")
            .into_response();
    }
    let Some(file) = drive.files.get(&link.fileid) else {
        return (StatusCode::NOT_FOUND, "the file was deleted").into_response();
    };
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        percent_encoding::utf8_percent_encode(&file.name, percent_encoding::NON_ALPHANUMERIC)
    );
    let mut response = Body::from(file.bytes.clone()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/octet-stream"));
    if let Ok(value) = header::HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
