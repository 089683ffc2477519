//! 微盘 with state, per corp (the corp of the calling token): spaces made
//! with `wedrive/space_create`, files uploaded into their root, listed,
//! described and downloaded. `file_download` answers with a link on the
//! emulator and a cookie; a GET of the link with that cookie hands the file
//! over, as WeCom's download host does (the router sends such a GET here,
//! recorded and open to injected faults like any request). A corp that never
//! made a space gets the endpoints' samples, and so does a sample's made-up
//! id (see [`Call::unknown_id`]). The emulator keeps no folders.

use std::time::{Duration, SystemTime};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use super::handler::{Call, Table};
use super::records::{DriveFile, DriveLink, DriveSpace};
use super::reply::{file_reply, ok_with, wecom_error, INVALID_PARAMETER};
use super::state::{random_code, unix_now, Shared};
use crate::api::wedrive::endpoints as wedrive;

/// Where the emulator serves the files `file_download` links to: this,
/// then the link's id.
pub(super) const DOWNLOAD_PREFIX: &str = "/__wedrive/download/";

/// How long a download link works: 2 hours, as the official page says.
const LINK_LIFETIME: Duration = Duration::from_secs(2 * 3600);

/// The largest file `file_upload` takes, before base64: 10 MB.
const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// The cookie a download link wants.
const COOKIE_NAME: &str = "wedrive_ticket";

/// WeCom's errcode for a file larger than an upload takes.
const INVALID_FILE_SIZE: i64 = 40006;

/// `file_type` of a file (folders are 1; the emulator keeps none).
const FILE_TYPE: u8 = 2;

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

fn invalid(what: &str) -> Response {
    wecom_error(INVALID_PARAMETER, &format!("invalid {what}"))
}

/// Space ids the emulator issues start so (a space's id is also its root's).
const SPACE_PREFIX: &str = "s.emu-";
/// File ids the emulator issues start so.
const FILE_PREFIX: &str = "f.emu-";

/// The answer to a space or file id the corp does not have (see
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
    Some(ok_with([("spaceid", spaceid.into())]))
}

fn space_info(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let drive = state.wedrive.get(corp)?;
    let spaceid = c.text("spaceid");
    let Some(space) = drive.spaces.get(&spaceid) else { return unknown(c, &spaceid, "spaceid") };
    let info = json!({"spaceid": spaceid, "space_name": space.name});
    Some(ok_with([("space_info", info)]))
}

fn space_rename(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let spaceid = c.text("spaceid");
    let Some(space) = state.wedrive.get_mut(corp)?.spaces.get_mut(&spaceid) else {
        return unknown(c, &spaceid, "spaceid");
    };
    space.name = c.text("space_name");
    Some(ok_with([]))
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
    Some(ok_with([]))
}

/// Keeps a file given as base64 in a space's root (`fatherid` the space id).
fn file_upload(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let now = unix_now(c.shared);
    let mut state = c.shared.state();
    let drive = state.wedrive.get_mut(corp)?;
    let (spaceid, fatherid) = (c.text("spaceid"), c.text("fatherid"));
    if !drive.spaces.contains_key(&spaceid) {
        return unknown(c, &spaceid, "spaceid");
    }
    if fatherid != spaceid {
        return unknown(c, &fatherid, "fatherid");
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(c.text("file_base64_content")) else {
        return Some(invalid("file_base64_content: not base64"));
    };
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Some(wecom_error(INVALID_FILE_SIZE, "invalid file size: more than 10 MB"));
    }
    let fileid = format!("{FILE_PREFIX}{}", random_code(24));
    let file = DriveFile { spaceid, fatherid, name: c.text("file_name"), bytes: bytes.into(), created: now };
    drive.files.insert(fileid.clone(), file);
    Some(ok_with([("fileid", fileid.into())]))
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
        "file_type": FILE_TYPE,
        "file_status": 1,
        "sha": crate::crypto::hex(&Sha1::digest(&file.bytes)),
    })
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
    Some(ok_with([
        ("has_more", (next < files.len()).into()),
        ("next_start", next.into()),
        ("file_list", json!({"item": page})),
    ]))
}

fn file_info(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let drive = state.wedrive.get(corp)?;
    let fileid = c.text("fileid");
    let Some(file) = drive.files.get(&fileid) else { return unknown(c, &fileid, "fileid") };
    Some(ok_with([("file_info", describe(&fileid, file))]))
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
    Some(ok_with([]))
}

/// A link to the file on the emulator and the cookie it wants, valid 2 hours.
fn file_download(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let now = c.shared.now();
    let mut state = c.shared.state();
    let drive = state.wedrive.get_mut(corp)?;
    let fileid = c.text("fileid");
    if !drive.files.contains_key(&fileid) {
        return unknown(c, &fileid, "fileid");
    }
    let (link, cookie) = (random_code(32), random_code(40));
    let expires = now.checked_add(LINK_LIFETIME).unwrap_or(SystemTime::UNIX_EPOCH);
    drive.links.retain(|_, l| now < l.expires);
    drive.links.insert(link.clone(), DriveLink { fileid, cookie: cookie.clone(), expires });
    Some(ok_with([
        ("download_url", format!("{}{DOWNLOAD_PREFIX}{link}", c.shared.base_uri).into()),
        ("cookie_name", COOKIE_NAME.into()),
        ("cookie_value", cookie.into()),
    ]))
}

/// The answer to a request for a download link (`link`, its id): the file,
/// for a `GET` that carries the link's cookie before the link expires; 403
/// otherwise, 404 for a link the emulator never gave, 405 for another method.
pub(super) fn serve_download(shared: &Shared, method: &str, link: &str, headers: &HeaderMap) -> Response {
    if method != "GET" {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let now = shared.now();
    let state = shared.state();
    let found = state.wedrive.values().find_map(|drive| Some((drive, drive.links.get(link)?)));
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
    match drive.files.get(&link.fileid) {
        Some(file) => file_reply(&file.name, "application/octet-stream", file.bytes.clone()),
        None => (StatusCode::NOT_FOUND, "the file was deleted").into_response(),
    }
}
