//! Contacts with state: a member created through `user/create` can be read
//! back, updated and deleted, per corp (the corp of the calling token). A
//! corp in which nothing was created gets the endpoints' samples.

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::routes::{json_reply, wecom_error};
use super::state::{Shared, TokenOwner};
use crate::api::user::endpoints as user;
use crate::http::Endpoint;

/// The corp a corp token was issued for (`suite_id/corp_id`).
fn corp_of(caller: Option<&TokenOwner>) -> Option<String> {
    caller.and_then(|c| c.owner.rsplit_once('/')).map(|(_, corp)| corp.to_owned())
}

/// The answer of a member endpoint whose answer depends on state.
pub(super) fn answer(
    shared: &Shared,
    endpoint: &Endpoint,
    params: &Map<String, Value>,
    caller: Option<&TokenOwner>,
) -> Option<Response> {
    let is = |known: &Endpoint| std::ptr::eq(endpoint, known);
    if !(is(&user::CREATE) || is(&user::GET) || is(&user::UPDATE) || is(&user::DELETE)) {
        return None;
    }
    let corp = corp_of(caller)?;
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
