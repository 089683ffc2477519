//! Tags with state, per corp (the corp of the calling token): a tag created
//! through `tag/create` can be renamed, filled with members and departments,
//! read back, listed and deleted. A corp without tags (none created, or the
//! last one deleted) gets the endpoints' samples.

use std::collections::BTreeMap;

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::records::Tag;
use super::reply::{json_reply, wecom_error};
use super::state::{Shared, State, TokenOwner};
use crate::api::tag::endpoints as tag;
use crate::http::Endpoint;

/// An integer parameter, whether it came in JSON or in the query.
fn integer(params: &Map<String, Value>, key: &str) -> Option<i64> {
    match params.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The answer of a tag endpoint whose answer depends on state.
pub(super) fn answer(
    shared: &Shared,
    endpoint: &Endpoint,
    params: &Map<String, Value>,
    caller: Option<&TokenOwner>,
) -> Option<Response> {
    let is = |known: &Endpoint| std::ptr::eq(endpoint, known);
    let known = [
        &tag::CREATE,
        &tag::UPDATE,
        &tag::DELETE,
        &tag::GET,
        &tag::ADD_USERS,
        &tag::DELETE_USERS,
        &tag::LIST,
    ];
    if !known.iter().any(|k| is(k)) {
        return None;
    }
    let corp = caller?.suite_and_corp()?.1.to_owned();
    let mut state = shared.state();
    if !is(&tag::CREATE) && !state.tags.contains_key(&corp) {
        return None;
    }
    let State { tags: all_tags, members, last_tag_id, .. } = &mut *state;
    let members = members.get(&corp);
    let tags: &mut BTreeMap<i64, Tag> = all_tags.entry(corp.clone()).or_default();
    let name = params.get("tagname").and_then(Value::as_str).unwrap_or_default().to_owned();
    if is(&tag::CREATE) {
        if tags.values().any(|t| t.name == name) {
            return Some(wecom_error(40071, "invalid tag name: the name is taken"));
        }
        let id = match integer(params, "tagid") {
            Some(id) if tags.contains_key(&id) => return Some(wecom_error(40068, "invalid tagid: taken")),
            Some(id) => id,
            None => *last_tag_id + 1,
        };
        *last_tag_id = (*last_tag_id).max(id);
        tags.insert(id, Tag { name, ..Tag::default() });
        return Some(json_reply(&json!({"errcode": 0, "errmsg": "created", "tagid": id})));
    }
    if is(&tag::LIST) {
        let list: Vec<Value> = tags.iter().map(|(id, t)| json!({"tagid": id, "tagname": t.name})).collect();
        return Some(json_reply(&json!({"errcode": 0, "errmsg": "ok", "taglist": list})));
    }
    let id = integer(params, "tagid").unwrap_or_default();
    if is(&tag::UPDATE) && tags.iter().any(|(other, t)| *other != id && t.name == name) {
        return Some(wecom_error(40071, "invalid tag name: the name is taken"));
    }
    let Some(found) = tags.get_mut(&id) else {
        return Some(wecom_error(40068, "invalid tagid"));
    };
    if is(&tag::UPDATE) {
        found.name = name;
        return Some(json_reply(&json!({"errcode": 0, "errmsg": "updated"})));
    }
    if is(&tag::GET) {
        let users: Vec<Value> = found.users.iter().map(|u| json!({"userid": u, "name": u})).collect();
        return Some(json_reply(&json!({
            "errcode": 0, "errmsg": "ok", "tagname": found.name, "userlist": users, "partylist": found.parties,
        })));
    }
    if is(&tag::DELETE) {
        tags.remove(&id);
        if tags.is_empty() {
            // Without tags the corp is back to the samples.
            all_tags.remove(&corp);
        }
        return Some(json_reply(&json!({"errcode": 0, "errmsg": "deleted"})));
    }
    // Adding or removing members: ids the corp does not have are reported.
    let adding = is(&tag::ADD_USERS);
    let users: Vec<String> = params
        .get("userlist")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let parties: Vec<i64> = params
        .get("partylist")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    if users.is_empty() && parties.is_empty() {
        return Some(wecom_error(40031, "invalid user list: userlist and partylist are both empty"));
    }
    let (valid, invalid): (Vec<String>, Vec<String>) =
        users.into_iter().partition(|u| members.is_some_and(|m| m.contains_key(u)));
    if valid.is_empty() && parties.is_empty() {
        return Some(wecom_error(40070, "all the listed users are invalid"));
    }
    for user in valid {
        if adding {
            found.users.insert(user);
        } else {
            found.users.remove(&user);
        }
    }
    for party in parties {
        if adding {
            found.parties.insert(party);
        } else {
            found.parties.remove(&party);
        }
    }
    let mut reply = json!({"errcode": 0, "errmsg": if adding { "ok" } else { "deleted" }});
    if !invalid.is_empty() {
        reply["invalidlist"] = Value::from(invalid.join("|"));
    }
    Some(json_reply(&reply))
}
