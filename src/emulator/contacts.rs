//! Contacts with state: a member created through `user/create` can be read
//! back, updated and deleted, per corp (the corp of the calling token). A
//! corp in which nothing was created gets the endpoints' samples.

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::reply::{json_reply, wecom_error};
use super::state::{Shared, TokenOwner};
use crate::api::user::endpoints as user;
use crate::http::Endpoint;

/// The answer of a member endpoint whose answer depends on state.
pub(super) fn answer(
    shared: &Shared,
    endpoint: &Endpoint,
    params: &Map<String, Value>,
    caller: Option<&TokenOwner>,
) -> Option<Response> {
    let is = |known: &Endpoint| std::ptr::eq(endpoint, known);
    if is(&user::LIST_ID) {
        return list_id(shared, params, caller);
    }
    if !(is(&user::CREATE) || is(&user::GET) || is(&user::UPDATE) || is(&user::DELETE)) {
        return None;
    }
    let corp = caller?.suite_and_corp()?.1.to_owned();
    let userid = params.get("userid").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut state = shared.state();
    // A corp that never created a member gets the samples.
    if !is(&user::CREATE) && !state.members.contains_key(&corp) {
        return None;
    }
    let members = state.members.entry(corp).or_default();
    if is(&user::CREATE) {
        if members.contains_key(&userid) {
            return Some(wecom_error(60102, "userid existed"));
        }
        members.insert(userid, params.clone());
        return Some(json_reply(&json!({"errcode": 0, "errmsg": "created"})));
    }
    let Some(member) = members.get_mut(&userid) else {
        return Some(wecom_error(40003, "invalid userid"));
    };
    if is(&user::GET) {
        let mut reply = member.clone();
        reply.insert("errcode".into(), json!(0));
        reply.insert("errmsg".into(), json!("ok"));
        return Some(json_reply(&Value::Object(reply)));
    }
    if is(&user::UPDATE) {
        for (key, value) in params {
            member.insert(key.clone(), value.clone());
        }
        return Some(json_reply(&json!({"errcode": 0, "errmsg": "updated"})));
    }
    members.remove(&userid);
    Some(json_reply(&json!({"errcode": 0, "errmsg": "deleted"})))
}

/// `list_id` over the members created in the caller's corp, `limit` at a
/// time: the cursor is where the next page starts; the last page has none.
fn list_id(shared: &Shared, params: &Map<String, Value>, caller: Option<&TokenOwner>) -> Option<Response> {
    let corp = caller?.suite_and_corp()?.1.to_owned();
    let state = shared.state();
    let members = state.members.get(&corp)?;
    let mut userids: Vec<&String> = members.keys().collect();
    userids.sort();
    let start: usize = match params.get("cursor").and_then(Value::as_str).filter(|c| !c.is_empty()) {
        None => 0,
        // A cursor the emulator did not issue (a sample's) gets the sample.
        Some(cursor) => match cursor.strip_prefix("emu-cursor-") {
            None => return None,
            Some(n) => match n.parse() {
                Ok(start) if start <= userids.len() => start,
                _ => return Some(wecom_error(40058, "invalid cursor")),
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
