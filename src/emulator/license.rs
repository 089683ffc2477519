//! The license flow (接口调用许可), with state: an order is created unpaid,
//! paid through the emulator's control (`Emulator::pay_license_order`, or
//! `POST /__emulator/license/pay`), then lists one active code per account
//! bought; a code is activated for one member, and the active info reads
//! back what happened. Codes and orders the emulator did not issue get the
//! endpoint's sample, so every endpoint still answers out of the box.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use serde_json::{json, Value};

use super::handler::{Call, Table};
use super::records::{Activation, LicenseOrder};
use super::reply::{json_reply, wecom_error, INVALID_PARAMETER};
use super::state::{random_code, Shared};
use crate::api::license::endpoints as license;

/// Order ids and active codes the emulator issues carry these prefixes.
const ORDER_PREFIX: &str = "emu-order-";
const CODE_PREFIX: &str = "emu-code-";

fn secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn number(value: Option<&Value>) -> u64 {
    value.and_then(Value::as_u64).unwrap_or(0)
}

/// The license endpoints whose answer depends on state, each with its
/// handler (`None` for orders and codes the emulator did not issue).
pub(super) static HANDLERS: Table = &[
    (&license::CREATE_NEW_ORDER, create_new_order),
    (&license::GET_ORDER, get_order),
    (&license::LIST_ORDER_ACCOUNT, list_order_account),
    (&license::ACTIVE_ACCOUNT, active_account),
    (&license::GET_ACTIVE_INFO_BY_CODE, active_info_by_code),
    (&license::GET_ACTIVE_INFO_BY_USER, active_info_by_user),
];

/// The `order_id` asked for, when the emulator issued it (else the sample).
fn issued_order_id(c: &Call<'_>) -> Option<String> {
    Some(c.text("order_id")).filter(|id| id.starts_with(ORDER_PREFIX))
}

/// The `active_code` asked for, when the emulator issued it (else the sample).
fn issued_code(c: &Call<'_>) -> Option<String> {
    Some(c.text("active_code")).filter(|code| code.starts_with(CODE_PREFIX))
}

fn create_new_order(c: &Call<'_>) -> Option<Response> {
    let counts = c.params.get("account_count");
    let order = LicenseOrder {
        corpid: c.text("corpid"),
        base_count: number(counts.and_then(|n| n.get("base_count"))),
        external_contact_count: number(counts.and_then(|n| n.get("external_contact_count"))),
        months: number(c.params.get("account_duration").and_then(|d| d.get("months"))),
        created: c.shared.now(),
        paid: None,
        accounts: Vec::new(),
    };
    if order.base_count + order.external_contact_count == 0 {
        return Some(wecom_error(INVALID_PARAMETER, "account_count must buy at least one account"));
    }
    let order_id = format!("{ORDER_PREFIX}{}", random_code(16));
    c.shared.state().license_orders.insert(order_id.clone(), order);
    Some(json_reply(&json!({"errcode": 0, "errmsg": "ok", "order_id": order_id})))
}

fn get_order(c: &Call<'_>) -> Option<Response> {
    let order_id = issued_order_id(c)?;
    let state = c.shared.state();
    let Some(order) = state.license_orders.get(&order_id) else {
        return Some(wecom_error(INVALID_PARAMETER, "invalid order_id"));
    };
    let mut reply = json!({"errcode": 0, "errmsg": "ok", "order": {
        "order_id": order_id,
        "order_type": 1,
        "order_status": if order.paid.is_some() { 1 } else { 0 },
        "corpid": order.corpid,
        "account_count": {"base_count": order.base_count, "external_contact_count": order.external_contact_count},
        "account_duration": {"months": order.months},
        "create_time": secs(order.created),
    }});
    if let Some(paid) = order.paid {
        reply["order"]["pay_time"] = json!(secs(paid));
    }
    Some(json_reply(&reply))
}

fn list_order_account(c: &Call<'_>) -> Option<Response> {
    let order_id = issued_order_id(c)?;
    let state = c.shared.state();
    let Some(order) = state.license_orders.get(&order_id) else {
        return Some(wecom_error(INVALID_PARAMETER, "invalid order_id"));
    };
    // Accounts exist once the order is paid.
    let accounts: Vec<Value> =
        order.accounts.iter().map(|(code, kind)| json!({"active_code": code, "type": kind})).collect();
    Some(json_reply(&json!({"errcode": 0, "errmsg": "ok", "has_more": 0, "account_list": accounts})))
}

fn active_account(c: &Call<'_>) -> Option<Response> {
    let code = issued_code(c)?;
    let (corpid, userid) = (c.text("corpid"), c.text("userid"));
    let mut state = c.shared.state();
    let bought = state.license_orders.values().find_map(|o| {
        o.accounts
            .iter()
            .find(|(bought, _)| *bought == code)
            .map(|(_, kind)| (o.corpid.clone(), *kind, o.months))
    });
    let Some((order_corp, kind, months)) = bought else {
        return Some(wecom_error(INVALID_PARAMETER, "invalid active_code"));
    };
    if order_corp != corpid {
        return Some(wecom_error(INVALID_PARAMETER, "the active_code was bought for another corp"));
    }
    if state.activations.contains_key(&code) {
        return Some(wecom_error(INVALID_PARAMETER, "the active_code is already active"));
    }
    let now = c.shared.now();
    let lifetime = Duration::from_secs(months.max(1) * 31 * 24 * 3600);
    state
        .activations
        .insert(code, Activation { corpid, userid, kind, active_time: now, expire_time: now + lifetime });
    Some(json_reply(&json!({"errcode": 0, "errmsg": "ok"})))
}

fn active_info_by_code(c: &Call<'_>) -> Option<Response> {
    let code = issued_code(c)?;
    let state = c.shared.state();
    Some(match state.activations.get(&code) {
        Some(a) => json_reply(&json!({"errcode": 0, "errmsg": "ok", "active_info": {
            "active_code": code, "type": a.kind, "status": 2, "userid": a.userid,
            "active_time": secs(a.active_time), "expire_time": secs(a.expire_time),
        }})),
        None if state
            .license_orders
            .values()
            .any(|o| o.accounts.iter().any(|(bought, _)| *bought == code)) =>
        {
            json_reply(
                &json!({"errcode": 0, "errmsg": "ok", "active_info": {"active_code": code, "status": 1}}),
            )
        }
        None => wecom_error(INVALID_PARAMETER, "invalid active_code"),
    })
}

fn active_info_by_user(c: &Call<'_>) -> Option<Response> {
    let (corpid, userid) = (c.text("corpid"), c.text("userid"));
    let state = c.shared.state();
    if state.license_orders.is_empty() {
        return None; // nothing was bought here: the sample
    }
    let list: Vec<Value> = state
        .activations
        .iter()
        .filter(|(_, a)| a.corpid == corpid && a.userid == userid)
        .map(|(code, a)| {
            json!({"active_code": code, "type": a.kind, "userid": a.userid,
            "active_time": secs(a.active_time), "expire_time": secs(a.expire_time)})
        })
        .collect();
    let status = if list.is_empty() { 0 } else { 1 };
    Some(json_reply(
        &json!({"errcode": 0, "errmsg": "ok", "active_status": status, "active_info_list": list}),
    ))
}

/// Pays an order: its accounts appear, one active code each.
pub(super) fn pay(shared: &Shared, order_id: &str) -> Result<(), String> {
    let now = shared.now();
    let mut state = shared.state();
    let order = state.license_orders.get_mut(order_id).ok_or_else(|| format!("no order {order_id}"))?;
    if order.paid.is_some() {
        return Err(format!("order {order_id} is paid already"));
    }
    order.paid = Some(now);
    let kinds = std::iter::repeat_n(1, order.base_count as usize)
        .chain(std::iter::repeat_n(2, order.external_contact_count as usize));
    order.accounts = kinds.map(|kind| (format!("{CODE_PREFIX}{}", random_code(24)), kind)).collect();
    Ok(())
}
