//! Web login with state: a code handed over by the login page
//! (`/wwopen/sso/3rd_qrConnect`) names its corp, member and user type once,
//! within 5 minutes, through `get_login_info` (provider token). A used,
//! expired or made-up code is WeCom's 40029; the sample's own code gets the
//! sample, and so does any code the emulator did not issue while no suites
//! are registered.

use std::time::Duration;

use axum::response::Response;
use serde_json::{Map, Value};

use super::handler::{Call, Table};
use super::records::LoginCode;
use super::reply::{sample_with, wecom_error};
use super::state::{random_code, Shared};
use crate::api::provider::endpoints as provider;

/// How long a login code lives (WeCom: 5 minutes).
pub const LOGIN_CODE_LIFETIME: Duration = Duration::from_secs(300);
const CODE_PREFIX: &str = "emu-login-";
/// `usertype` of an admin who logs in (创建者).
pub(super) const ADMIN: i64 = 1;
/// `usertype` of a member who logs in (成员).
pub(super) const MEMBER: i64 = 5;

/// Issues a login code for `userid` of `corp_id` with WeCom's `usertype`.
pub(super) fn issue_code(shared: &Shared, corp_id: &str, userid: &str, usertype: i64) -> String {
    let code = format!("{CODE_PREFIX}{}", random_code(32));
    let entry = LoginCode {
        corp_id: corp_id.to_owned(),
        userid: userid.to_owned(),
        usertype,
        expires_at: shared.now() + LOGIN_CODE_LIFETIME,
        used: false,
    };
    shared.state().login_codes.insert(code.clone(), entry);
    code
}

/// The login endpoint, whose answer depends on state, with its handler.
pub(super) static HANDLERS: Table = &[(&provider::GET_LOGIN_INFO, login_info)];

/// The answer of `get_login_info` for a code the emulator issued; `None`
/// for the sample.
fn login_info(c: &Call<'_>) -> Option<Response> {
    let (shared, endpoint) = (c.shared, c.endpoint);
    let code = c.text("auth_code");
    let now = shared.now();
    let mut state = shared.state();
    let Some(entry) = state.login_codes.get_mut(&code) else {
        return shared.refuses_unknown(&code, Some(CODE_PREFIX)).then(|| wecom_error(40029, "invalid code"));
    };
    if entry.used || entry.expires_at <= now {
        return Some(wecom_error(40029, "invalid code"));
    }
    entry.used = true;
    let (corp_id, userid, usertype) = (entry.corp_id.clone(), entry.userid.clone(), entry.usertype);
    let name = state.members.get(&corp_id).and_then(|m| m.get(&userid)).and_then(|m| m.get("name")).cloned();
    drop(state);
    Some(sample_with(endpoint, |map| {
        map.insert("usertype".into(), Value::from(usertype));
        with_object(map, "user_info", |user| {
            user.insert("userid".into(), Value::from(userid.clone()));
            user.insert("open_userid".into(), Value::from(userid));
            if let Some(name) = name {
                user.insert("name".into(), name);
            }
        });
        with_object(map, "corp_info", |corp| {
            corp.insert("corpid".into(), Value::from(corp_id));
        });
        // Apps and contact rights come for admins only.
        if usertype == MEMBER {
            map.remove("agent");
            map.remove("auth_info");
        }
    }))
}

/// Applies `patch` to the object member `key` of `map` (a new object when
/// it is missing or not one).
fn with_object(map: &mut Map<String, Value>, key: &str, patch: impl FnOnce(&mut Map<String, Value>)) {
    let mut inner = match map.remove(key) {
        Some(Value::Object(inner)) => inner,
        _ => Map::new(),
    };
    patch(&mut inner);
    map.insert(key.to_owned(), Value::Object(inner));
}
