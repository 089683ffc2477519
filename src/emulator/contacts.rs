//! Contacts with state: a member created through `user/create` can be read
//! back, updated and deleted, per corp (the corp of the calling token). A
//! corp in which nothing was created gets the endpoints' samples.

use std::collections::HashMap;

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::handler::{Call, Table};
use super::reply::{json_reply, wecom_error, INVALID_PARAMETER};
use crate::api::user::endpoints as user;

/// The member endpoints whose answer depends on state, each with its
/// handler (`None` for a corp that never created a member).
pub(super) static HANDLERS: Table = &[
    (&user::CREATE, create),
    (&user::GET, get),
    (&user::UPDATE, update),
    (&user::DELETE, delete),
    (&user::LIST_ID, list_id),
];

/// One corp's members, by userid, as they were sent.
type Members = HashMap<String, Map<String, Value>>;

fn create(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let userid = c.text("userid");
    let mut state = c.shared.state();
    let members = state.members.entry(corp.to_owned()).or_default();
    if members.contains_key(&userid) {
        return Some(wecom_error(60102, "userid existed"));
    }
    members.insert(userid, c.params.clone());
    Some(json_reply(&json!({"errcode": 0, "errmsg": "created"})))
}

/// Runs `act` on the caller's corp's members and the `userid` asked for,
/// which is among them: the preamble of reading, updating and deleting one.
/// `None` (the sample) for a corp that never created a member; 40003 for a
/// userid it does not have.
fn with_member(c: &Call<'_>, act: impl FnOnce(&mut Members, String) -> Response) -> Option<Response> {
    let corp = c.corp()?;
    let userid = c.text("userid");
    let mut state = c.shared.state();
    let members = state.members.get_mut(corp)?;
    if !members.contains_key(&userid) {
        return Some(wecom_error(40003, "invalid userid"));
    }
    Some(act(members, userid))
}

fn get(c: &Call<'_>) -> Option<Response> {
    with_member(c, |members, userid| {
        let mut reply = members[&userid].clone();
        reply.insert("errcode".into(), json!(0));
        reply.insert("errmsg".into(), json!("ok"));
        json_reply(&Value::Object(reply))
    })
}

fn update(c: &Call<'_>) -> Option<Response> {
    with_member(c, |members, userid| {
        if let Some(member) = members.get_mut(&userid) {
            member.extend(c.params.iter().map(|(key, value)| (key.clone(), value.clone())));
        }
        json_reply(&json!({"errcode": 0, "errmsg": "updated"}))
    })
}

fn delete(c: &Call<'_>) -> Option<Response> {
    with_member(c, |members, userid| {
        members.remove(&userid);
        json_reply(&json!({"errcode": 0, "errmsg": "deleted"}))
    })
}

/// `list_id` over the members created in the caller's corp, `limit` at a
/// time: the cursor is where the next page starts; the last page has none.
fn list_id(c: &Call<'_>) -> Option<Response> {
    let (corp, params) = (c.corp()?, c.params);
    let state = c.shared.state();
    let members = state.members.get(corp)?;
    let mut userids: Vec<&String> = members.keys().collect();
    userids.sort();
    let start: usize = match params.get("cursor").and_then(Value::as_str).filter(|c| !c.is_empty()) {
        None => 0,
        // A cursor the emulator did not issue (a sample's) gets the sample.
        Some(cursor) => match cursor.strip_prefix("emu-cursor-") {
            None => return None,
            Some(n) => match n.parse() {
                Ok(start) if start <= userids.len() => start,
                _ => return Some(wecom_error(INVALID_PARAMETER, "invalid cursor")),
            },
        },
    };
    let limit = params.get("limit").and_then(Value::as_u64).filter(|l| *l > 0).unwrap_or(10_000) as usize;
    let end = start.saturating_add(limit).min(userids.len());
    let dept_user: Vec<Value> = userids[start..end]
        .iter()
        .flat_map(|userid| {
            let departments =
                members[*userid].get("department").and_then(Value::as_array).cloned().unwrap_or_default();
            departments.into_iter().map(move |d| json!({"open_userid": userid, "department": d}))
        })
        .collect();
    let next_cursor = if end < userids.len() { format!("emu-cursor-{end}") } else { String::new() };
    Some(json_reply(
        &json!({"errcode": 0, "errmsg": "ok", "next_cursor": next_cursor, "dept_user": dept_user}),
    ))
}
