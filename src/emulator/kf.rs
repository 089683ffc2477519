//! 微信客服 with state, per corp (the corp of the calling token): service
//! accounts made with `kf/account/add`, and what customers write to them.
//! A customer's message is kept, a callback token is issued for it and
//! `kf_msg_or_event` is pushed; `kf/sync_msg` then reads the messages over
//! its cursor, and `kf/send_msg` answers on an account the corp has. A corp
//! that never added an account gets the endpoints' samples, and so does a
//! sample's made-up id (see [`Call::unknown_id`]).

use std::time::{Duration, SystemTime};

use axum::response::Response;
use serde_json::{json, Value};

use super::handler::{Call, Table};
use super::push::{self, PushError, PushTarget};
use super::records::{KfAccount, KfState, PushRecord};
use super::reply::{ok_with, wecom_error, INVALID_PARAMETER};
use super::state::{random_code, unix_now, Shared};
use crate::api::kf::endpoints as kf;

/// How long the `Token` of a `kf_msg_or_event` push lets `sync_msg` read:
/// 10 minutes, as the official page says.
pub const KF_TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// The most messages one `sync_msg` returns, and its default.
const SYNC_LIMIT: usize = 1000;

/// WeCom's errcode for an `open_kfid` the corp does not have.
const INVALID_OPEN_KFID: i64 = 95000;
/// WeCom's errcode for a `sync_msg` token that is not (or no longer) valid.
const INVALID_MSG_TOKEN: i64 = 95007;

/// Cursors the emulator issues: this prefix, then how many of the corp's
/// messages lie before it.
const CURSOR_PREFIX: &str = "emu-kf-cursor-";
/// Account ids (`open_kfid`) the emulator issues start so.
const ACCOUNT_PREFIX: &str = "wkemu";
/// Callback tokens the emulator issues start so.
const TOKEN_PREFIX: &str = "ENCemu";

/// The kf endpoints whose answer depends on state, each with its handler.
pub(super) static HANDLERS: Table = &[
    (&kf::ADD_ACCOUNT, add_account),
    (&kf::DEL_ACCOUNT, del_account),
    (&kf::UPDATE_ACCOUNT, update_account),
    (&kf::LIST_ACCOUNTS, list_accounts),
    (&kf::SYNC_MSG, sync_msg),
    (&kf::SEND_MSG, send_msg),
];

/// The answer to an account the corp does not have (see [`Call::unknown_id`]).
fn unknown_account(c: &Call<'_>, open_kfid: &str) -> Option<Response> {
    c.unknown_id(open_kfid, ACCOUNT_PREFIX, || wecom_error(INVALID_OPEN_KFID, "invalid open_kfid"))
}

fn add_account(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let open_kfid = format!("{ACCOUNT_PREFIX}{}", random_code(26));
    let account = KfAccount { name: c.text("name"), media_id: c.text("media_id") };
    c.shared.state().kf.entry(corp.to_owned()).or_default().accounts.insert(open_kfid.clone(), account);
    Some(ok_with([("open_kfid", open_kfid.into())]))
}

fn del_account(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let accounts = &mut state.kf.get_mut(corp)?.accounts;
    let open_kfid = c.text("open_kfid");
    if accounts.remove(&open_kfid).is_none() {
        return unknown_account(c, &open_kfid);
    }
    Some(ok_with([]))
}

fn update_account(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let open_kfid = c.text("open_kfid");
    let Some(account) = state.kf.get_mut(corp)?.accounts.get_mut(&open_kfid) else {
        return unknown_account(c, &open_kfid);
    };
    if let Some(name) = c.params.get("name").and_then(Value::as_str) {
        account.name = name.to_owned();
    }
    if let Some(media_id) = c.params.get("media_id").and_then(Value::as_str) {
        account.media_id = media_id.to_owned();
    }
    Some(ok_with([]))
}

fn list_accounts(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let accounts = &state.kf.get(corp)?.accounts;
    let offset = c.params.get("offset").and_then(Value::as_u64).unwrap_or(0);
    let limit = c.params.get("limit").and_then(Value::as_u64).unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Some(wecom_error(INVALID_PARAMETER, "invalid limit: 1-100"));
    }
    let page: Vec<Value> = accounts
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(100))
        .map(|(open_kfid, account)| {
            json!({"open_kfid": open_kfid, "name": account.name, "avatar": "", "manage_privilege": true})
        })
        .collect();
    Some(ok_with([("account_list", page.into())]))
}

/// Reads the corp's messages after `cursor` (from the oldest without one),
/// only `open_kfid`'s when given, at most `limit`. A token, when given,
/// must be one a push handed out within [`KF_TOKEN_LIFETIME`].
fn sync_msg(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let now = c.shared.now();
    let state = c.shared.state();
    let kf = state.kf.get(corp)?;
    let token = c.text("token");
    if !token.is_empty() && kf.tokens.get(&token).is_none_or(|expires| now >= *expires) {
        return c.unknown_id(&token, TOKEN_PREFIX, || wecom_error(INVALID_MSG_TOKEN, "invalid msg token"));
    }
    let cursor = c.text("cursor");
    let start = if cursor.is_empty() {
        0
    } else {
        match cursor.strip_prefix(CURSOR_PREFIX).and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n <= kf.messages.len() => n,
            _ => {
                return c
                    .unknown_id(&cursor, CURSOR_PREFIX, || wecom_error(INVALID_PARAMETER, "invalid cursor"))
            }
        }
    };
    let limit = match c.params.get("limit").and_then(Value::as_u64) {
        None | Some(0) => SYNC_LIMIT,
        Some(n) => usize::try_from(n).unwrap_or(SYNC_LIMIT).min(SYNC_LIMIT),
    };
    let account = c.text("open_kfid");
    let wanted = |message: &Value| account.is_empty() || message["open_kfid"] == account.as_str();
    let mut list = Vec::new();
    let mut next = start;
    for (at, message) in kf.messages.iter().enumerate().skip(start) {
        if list.len() == limit {
            break;
        }
        next = at + 1;
        if wanted(message) {
            list.push(message.clone());
        }
    }
    if list.len() < limit {
        // Nothing more of this account: the next read starts after them all.
        next = kf.messages.len();
    }
    let has_more = kf.messages[next..].iter().any(wanted);
    Some(ok_with([
        ("next_cursor", format!("{CURSOR_PREFIX}{next}").into()),
        ("has_more", i32::from(has_more).into()),
        ("msg_list", list.into()),
    ]))
}

/// Accepts a message on an account the corp has; WeCom delivers it later.
fn send_msg(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let kf = state.kf.get(corp)?;
    let open_kfid = c.text("open_kfid");
    if !kf.accounts.contains_key(&open_kfid) {
        return unknown_account(c, &open_kfid);
    }
    let msgid = Some(c.text("msgid")).filter(|id| !id.is_empty()).unwrap_or_else(|| random_code(24));
    Some(ok_with([("msgid", msgid.into())]))
}

/// A customer (`external_userid`) writes `text` to account `open_kfid` of
/// `corp_id`: the message is kept for `sync_msg`, a token is issued for it
/// and `kf_msg_or_event` is pushed to the suite's data URL with that token.
pub(super) async fn customer_writes(
    shared: &Shared,
    suite_id: &str,
    corp_id: &str,
    open_kfid: &str,
    external_userid: &str,
    text: &str,
) -> Result<PushRecord, PushError> {
    let token = format!("{TOKEN_PREFIX}{}", random_code(40));
    let (now, send_time) = (shared.now(), unix_now(shared));
    {
        let mut state = shared.state();
        let kf: &mut KfState = match state.kf.get_mut(corp_id) {
            Some(kf) if kf.accounts.contains_key(open_kfid) => kf,
            _ => {
                return Err(PushError::UnknownKfAccount {
                    corp_id: corp_id.to_owned(),
                    open_kfid: open_kfid.to_owned(),
                })
            }
        };
        kf.messages.push(json!({
            "msgid": format!("emu-kf-msg-{}", kf.messages.len() + 1),
            "open_kfid": open_kfid,
            "external_userid": external_userid,
            "send_time": send_time,
            "origin": 3,
            "msgtype": "text",
            "text": {"content": text},
        }));
        kf.tokens.retain(|_, expires| now < *expires);
        kf.tokens.insert(token.clone(), now.checked_add(KF_TOKEN_LIFETIME).unwrap_or(SystemTime::UNIX_EPOCH));
    }
    let xml = format!(
        "<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><CreateTime>{}</CreateTime>\
         <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>\
         <Token><![CDATA[{token}]]></Token></xml>",
        send_time
    );
    push::event(shared, suite_id, corp_id, &xml, PushTarget::Data).await
}
