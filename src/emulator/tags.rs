//! Tags with state, per corp (the corp of the calling token): a tag created
//! through `tag/create` can be renamed, filled with members and departments,
//! read back, listed and deleted. A corp without tags (none created, or the
//! last one deleted) gets the endpoints' samples.

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::handler::{Call, Table};
use super::records::Tag;
use super::reply::{json_reply, wecom_error};
use super::state::State;
use crate::api::tag::endpoints as tag;

/// An integer parameter, whether it came in JSON or in the query.
fn integer(params: &Map<String, Value>, key: &str) -> Option<i64> {
    match params.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The tag endpoints whose answer depends on state, each with its handler
/// (`None` for a corp without tags, except to create one).
pub(super) static HANDLERS: Table = &[
    (&tag::CREATE, create),
    (&tag::UPDATE, update),
    (&tag::DELETE, delete),
    (&tag::GET, get),
    (&tag::ADD_USERS, |c| change_members(c, true)),
    (&tag::DELETE_USERS, |c| change_members(c, false)),
    (&tag::LIST, list),
];

/// The `tagid` asked for (0 when missing, which no tag has).
fn tag_id(c: &Call<'_>) -> i64 {
    integer(c.params, "tagid").unwrap_or_default()
}

fn create(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let State { tags, last_tag_id, .. } = &mut *state;
    let tags = tags.entry(corp.to_owned()).or_default();
    let name = c.text("tagname");
    if tags.values().any(|t| t.name == name) {
        return Some(wecom_error(40071, "invalid tag name: the name is taken"));
    }
    let id = match integer(c.params, "tagid") {
        Some(id) if tags.contains_key(&id) => return Some(wecom_error(40068, "invalid tagid: taken")),
        Some(id) => id,
        None => *last_tag_id + 1,
    };
    *last_tag_id = (*last_tag_id).max(id);
    tags.insert(id, Tag { name, ..Tag::default() });
    Some(json_reply(&json!({"errcode": 0, "errmsg": "created", "tagid": id})))
}

fn list(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let tags = state.tags.get(corp)?;
    let list: Vec<Value> = tags.iter().map(|(id, t)| json!({"tagid": id, "tagname": t.name})).collect();
    Some(json_reply(&json!({"errcode": 0, "errmsg": "ok", "taglist": list})))
}

fn update(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let tags = state.tags.get_mut(corp)?;
    let (id, name) = (tag_id(c), c.text("tagname"));
    if tags.iter().any(|(other, t)| *other != id && t.name == name) {
        return Some(wecom_error(40071, "invalid tag name: the name is taken"));
    }
    let Some(found) = tags.get_mut(&id) else {
        return Some(wecom_error(40068, "invalid tagid"));
    };
    found.name = name;
    Some(json_reply(&json!({"errcode": 0, "errmsg": "updated"})))
}

fn get(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let tags = state.tags.get(corp)?;
    let Some(found) = tags.get(&tag_id(c)) else {
        return Some(wecom_error(40068, "invalid tagid"));
    };
    let users: Vec<Value> = found.users.iter().map(|u| json!({"userid": u, "name": u})).collect();
    Some(json_reply(&json!({
        "errcode": 0, "errmsg": "ok", "tagname": found.name, "userlist": users, "partylist": found.parties,
    })))
}

fn delete(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let tags = state.tags.get_mut(corp)?;
    if tags.remove(&tag_id(c)).is_none() {
        return Some(wecom_error(40068, "invalid tagid"));
    }
    if tags.is_empty() {
        // Without tags the corp is back to the samples.
        state.tags.remove(corp);
    }
    Some(json_reply(&json!({"errcode": 0, "errmsg": "deleted"})))
}

/// Adds (`adding`) or removes members and departments of a tag: ids the
/// corp does not have are reported.
fn change_members(c: &Call<'_>, adding: bool) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let State { tags, members, .. } = &mut *state;
    let tags = tags.get_mut(corp)?;
    let members = members.get(corp);
    let Some(found) = tags.get_mut(&tag_id(c)) else {
        return Some(wecom_error(40068, "invalid tagid"));
    };
    let users: Vec<String> = c
        .params
        .get("userlist")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let parties: Vec<i64> = c
        .params
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
