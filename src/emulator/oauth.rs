//! OAuth with state: a code issued for a member of an authorized corp
//! (`Emulator::oauth_code`, `POST /__emulator/oauth_code`) works once,
//! within 5 minutes, with the suite it was issued for — through the suite
//! token (`getuserinfo3rd`) or, for a 代开发 app, the corp token
//! (`auth/getuserinfo`) — and its `user_ticket` then reads that member's
//! details. A used, expired or foreign code is WeCom's 40029; a foreign or
//! unknown ticket is 84015 (成员票据无效) and an expired one 84014. The official
//! samples' own `CODE` and `USER_TICKET` get the samples; any other code the
//! emulator did not issue is refused once suites are registered.

use std::time::Duration;

use axum::response::Response;
use serde_json::{Map, Value};

use super::handler::{Call, Table};
use super::records::{OAuthCode, UserTicket};
use super::reply::{sample, sample_with, wecom_error};
use super::state::{random_code, Shared};
use crate::api::oauth::endpoints as oauth;
use crate::http::Endpoint;

/// How long a code lives (WeCom: 5 minutes).
pub const OAUTH_CODE_LIFETIME: Duration = Duration::from_secs(300);
/// How long a `user_ticket` lives.
const USER_TICKET_LIFETIME: Duration = Duration::from_secs(1800);
const CODE_PREFIX: &str = "emu-oauth-";
const TICKET_PREFIX: &str = "emu-ticket-";
/// The official samples' values, answered with the samples.
const SAMPLE_CODE: &str = "CODE";
const SAMPLE_TICKET: &str = "USER_TICKET";

/// Issues a code for `userid` of `corp_id` through `suite_id`, whose user
/// info carries a `user_ticket` (the control API's codes do).
pub(super) fn issue_code(
    shared: &Shared,
    suite_id: &str,
    corp_id: &str,
    userid: &str,
) -> Result<String, String> {
    issue_scoped_code(shared, suite_id, corp_id, userid, true)
}

/// Issues a code as the OAuth page does: with a `user_ticket` only for
/// `snsapi_privateinfo` (`with_ticket`), as WeCom gives it.
pub(super) fn issue_scoped_code(
    shared: &Shared,
    suite_id: &str,
    corp_id: &str,
    userid: &str,
    with_ticket: bool,
) -> Result<String, String> {
    if !shared.config.suites.is_empty() && shared.config.suite(suite_id).is_none() {
        return Err(format!("suite {suite_id} is not registered"));
    }
    if corp_id.is_empty() || userid.is_empty() {
        return Err("corp_id and userid are required".into());
    }
    let code = format!("{CODE_PREFIX}{}", random_code(32));
    let entry = OAuthCode {
        suite_id: suite_id.to_owned(),
        corp_id: corp_id.to_owned(),
        userid: userid.to_owned(),
        expires_at: shared.now() + OAUTH_CODE_LIFETIME,
        used: false,
        user_ticket: with_ticket,
    };
    shared.state().oauth_codes.insert(code.clone(), entry);
    Ok(code)
}

/// The OAuth endpoints whose answer depends on state, each with its
/// handler (`None` for the samples' own code and ticket).
pub(super) static HANDLERS: Table = &[
    (&oauth::GET_USER_INFO_3RD, user_info),
    (&oauth::GET_USER_INFO, user_info),
    (&oauth::GET_USER_DETAIL_3RD, user_detail),
    (&oauth::GET_USER_DETAIL, user_detail),
];

/// Sets `key` to `value` where the sample has that member.
fn replace(map: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    if let Some(member) = map.get_mut(key) {
        *member = value.into();
    }
}

fn refuse_unknown_code(shared: &Shared, code: &str) -> Option<Response> {
    shared.refuses_unknown(code, Some(CODE_PREFIX)).then(|| wecom_error(40029, "invalid code"))
}

fn refuse_unknown_ticket(shared: &Shared, ticket: &str) -> Option<Response> {
    shared.refuses_unknown(ticket, Some(TICKET_PREFIX)).then(|| wecom_error(84015, "invalid user_ticket"))
}

/// A code's user info, through the suite token (`getuserinfo3rd`) or a
/// 代开发 app's corp token (`auth/getuserinfo`).
fn user_info(c: &Call<'_>) -> Option<Response> {
    let code = c.text("code");
    if c.caller.is_none() || code == SAMPLE_CODE {
        return None;
    }
    Some(code_user_info(c.shared, c.endpoint, &code, c.suite(), c.corp()))
}

/// A ticket's member details, through the suite token
/// (`getuserdetail3rd`) or a 代开发 app's corp token (`auth/getuserdetail`).
fn user_detail(c: &Call<'_>) -> Option<Response> {
    let ticket = c.text("user_ticket");
    if c.caller.is_none() || ticket == SAMPLE_TICKET {
        return None;
    }
    Some(ticket_user_detail(c.shared, c.endpoint, &ticket, c.suite(), c.corp()))
}

fn code_user_info(
    shared: &Shared,
    endpoint: &Endpoint,
    code: &str,
    suite: &str,
    corp: Option<&str>,
) -> Response {
    let now = shared.now();
    let mut state = shared.state();
    let Some(entry) = state.oauth_codes.get_mut(code) else {
        drop(state);
        return refuse_unknown_code(shared, code).unwrap_or_else(|| sample(endpoint));
    };
    let foreign = entry.suite_id != suite || corp.is_some_and(|c| c != entry.corp_id);
    if entry.used || entry.expires_at <= now || foreign {
        return wecom_error(40029, "invalid code");
    }
    entry.used = true;
    let (corp_id, userid) = (entry.corp_id.clone(), entry.userid.clone());
    let ticket = entry.user_ticket.then(|| format!("{TICKET_PREFIX}{}", random_code(32)));
    if let Some(ticket) = &ticket {
        let record = UserTicket {
            suite_id: suite.to_owned(),
            corp_id: corp_id.clone(),
            userid: userid.clone(),
            expires_at: now + USER_TICKET_LIFETIME,
        };
        state.user_tickets.insert(ticket.clone(), record);
    }
    drop(state);
    sample_with(endpoint, |map| {
        map.insert("userid".into(), Value::from(userid.clone()));
        match ticket {
            Some(ticket) => {
                map.insert("user_ticket".into(), Value::from(ticket));
                map.insert("expires_in".into(), Value::from(USER_TICKET_LIFETIME.as_secs()));
            }
            // snsapi_base: WeCom gives no ticket.
            None => {
                map.remove("user_ticket");
                map.remove("expires_in");
            }
        }
        replace(map, "corpid", corp_id);
        replace(map, "open_userid", userid);
    })
}

fn ticket_user_detail(
    shared: &Shared,
    endpoint: &Endpoint,
    ticket: &str,
    suite: &str,
    corp: Option<&str>,
) -> Response {
    let now = shared.now();
    let state = shared.state();
    let Some(entry) = state.user_tickets.get(ticket) else {
        drop(state);
        return refuse_unknown_ticket(shared, ticket).unwrap_or_else(|| sample(endpoint));
    };
    if entry.suite_id != suite || corp.is_some_and(|c| c != entry.corp_id) {
        return wecom_error(84015, "invalid user_ticket");
    }
    if entry.expires_at <= now {
        return wecom_error(84014, "user_ticket expired");
    }
    let (corp_id, userid) = (entry.corp_id.clone(), entry.userid.clone());
    // A member created in the emulator's contacts answers with its own name.
    let name = state.members.get(&corp_id).and_then(|m| m.get(&userid)).and_then(|m| m.get("name")).cloned();
    drop(state);
    sample_with(endpoint, |map| {
        map.insert("userid".into(), Value::from(userid));
        replace(map, "corpid", corp_id);
        if let Some(name) = name {
            replace(map, "name", name);
        }
    })
}
