//! The license flow (接口调用许可), with state: an order is created unpaid,
//! paid through the emulator's control (`Emulator::pay_license_order`, or
//! `POST /__emulator/license/pay`), then lists one active code per account
//! bought; a code is activated for one member, and the active info reads
//! back what happened. Codes and orders the emulator did not issue get the
//! endpoint's sample, so every endpoint still answers out of the box.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::records::{Activation, LicenseOrder};
use super::reply::{json_reply, wecom_error};
use super::state::{random_code, Shared};
use crate::api::license::endpoints as license;
use crate::http::Endpoint;

/// Order ids and active codes the emulator issues carry these prefixes.
const ORDER_PREFIX: &str = "emu-order-";
const CODE_PREFIX: &str = "emu-code-";

fn secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn text(params: &Map<String, Value>, key: &str) -> String {
    params.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn number(value: Option<&Value>) -> u64 {
    value.and_then(Value::as_u64).unwrap_or(0)
}

/// The answer of a license endpoint whose answer depends on state; `None`
/// for the rest (and for orders and codes the emulator did not issue).
pub(super) fn answer(shared: &Shared, endpoint: &Endpoint, params: &Map<String, Value>) -> Option<Response> {
    let is = |known: &Endpoint| std::ptr::eq(endpoint, known);
    if is(&license::CREATE_NEW_ORDER) {
        let counts = params.get("account_count");
        let order = LicenseOrder {
            corpid: text(params, "corpid"),
            base_count: number(counts.and_then(|c| c.get("base_count"))),
            external_contact_count: number(counts.and_then(|c| c.get("external_contact_count"))),
            months: number(params.get("account_duration").and_then(|d| d.get("months"))),
            created: shared.now(),
            paid: None,
            accounts: Vec::new(),
        };
        if order.base_count + order.external_contact_count == 0 {
            return Some(wecom_error(40058, "account_count must buy at least one account"));
        }
        let order_id = format!("{ORDER_PREFIX}{}", random_code(16));
        shared.state().license_orders.insert(order_id.clone(), order);
        return Some(json_reply(&json!({"errcode": 0, "errmsg": "ok", "order_id": order_id})));
    }
    let order_id = text(params, "order_id");
    if is(&license::GET_ORDER) && order_id.starts_with(ORDER_PREFIX) {
        let state = shared.state();
        let Some(order) = state.license_orders.get(&order_id) else {
            return Some(wecom_error(40058, "invalid order_id"));
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
        return Some(json_reply(&reply));
    }
    if is(&license::LIST_ORDER_ACCOUNT) && order_id.starts_with(ORDER_PREFIX) {
        let state = shared.state();
        let Some(order) = state.license_orders.get(&order_id) else {
            return Some(wecom_error(40058, "invalid order_id"));
        };
        // Accounts exist once the order is paid.
        let accounts: Vec<Value> =
            order.accounts.iter().map(|(code, kind)| json!({"active_code": code, "type": kind})).collect();
        return Some(json_reply(
            &json!({"errcode": 0, "errmsg": "ok", "has_more": 0, "account_list": accounts}),
        ));
    }
    let code = text(params, "active_code");
    if is(&license::ACTIVE_ACCOUNT) && code.starts_with(CODE_PREFIX) {
        let (corpid, userid) = (text(params, "corpid"), text(params, "userid"));
        let mut state = shared.state();
        let bought = state.license_orders.values().find_map(|o| {
            o.accounts.iter().find(|(c, _)| *c == code).map(|(_, kind)| (o.corpid.clone(), *kind, o.months))
        });
        let Some((order_corp, kind, months)) = bought else {
            return Some(wecom_error(40058, "invalid active_code"));
        };
        if order_corp != corpid {
            return Some(wecom_error(40058, "the active_code was bought for another corp"));
        }
        if state.activations.contains_key(&code) {
            return Some(wecom_error(40058, "the active_code is already active"));
        }
        let now = shared.now();
        let lifetime = Duration::from_secs(months.max(1) * 31 * 24 * 3600);
        state
            .activations
            .insert(code, Activation { corpid, userid, kind, active_time: now, expire_time: now + lifetime });
        return Some(json_reply(&json!({"errcode": 0, "errmsg": "ok"})));
    }
    if is(&license::GET_ACTIVE_INFO_BY_CODE) && code.starts_with(CODE_PREFIX) {
        let state = shared.state();
        return Some(match state.activations.get(&code) {
            Some(a) => json_reply(&json!({"errcode": 0, "errmsg": "ok", "active_info": {
                "active_code": code, "type": a.kind, "status": 2, "userid": a.userid,
                "active_time": secs(a.active_time), "expire_time": secs(a.expire_time),
            }})),
            None if state.license_orders.values().any(|o| o.accounts.iter().any(|(c, _)| *c == code)) => {
                json_reply(
                    &json!({"errcode": 0, "errmsg": "ok", "active_info": {"active_code": code, "status": 1}}),
                )
            }
            None => wecom_error(40058, "invalid active_code"),
        });
    }
    if is(&license::GET_ACTIVE_INFO_BY_USER) {
        let (corpid, userid) = (text(params, "corpid"), text(params, "userid"));
        let state = shared.state();
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
        return Some(json_reply(
            &json!({"errcode": 0, "errmsg": "ok", "active_status": status, "active_info_list": list}),
        ));
    }
    None
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
