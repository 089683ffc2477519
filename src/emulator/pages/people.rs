//! Whom the pages offer: the corps the emulator knows and their members and
//! departments. Members are those created through `user/create`; a corp
//! (or set of corps) with none gets WeCom's sample members, zhangsan and
//! lisi, in department 1.

use std::collections::BTreeSet;

use serde_json::Value;

use super::html::{is_id, Params, Refusal};
use crate::emulator::state::State;

/// The corp always offered, so a corp choice is never empty.
pub(super) const DEFAULT_CORP: &str = "wwemucorp000001";
/// The sample members offered when no member was created.
const SAMPLE_MEMBERS: &[(&str, &str)] = &[("zhangsan", "张三 / Zhang San"), ("lisi", "李四 / Li Si")];
/// The department always offered.
const ROOT_DEPARTMENT: i64 = 1;

/// The corps the emulator knows: those that authorized any suite, those
/// with created members, and [`DEFAULT_CORP`]; sorted.
pub(super) fn known_corps(state: &State) -> Vec<String> {
    let mut corps: BTreeSet<String> = state.permanent_codes.values().map(|key| key.corp.clone()).collect();
    corps.extend(state.members.keys().cloned());
    corps.insert(DEFAULT_CORP.to_owned());
    corps.into_iter().collect()
}

/// Every known corp and the members of them all, as the install and login
/// pages offer them.
pub(super) fn everyone(state: &State) -> (Vec<String>, Vec<(String, String)>) {
    let corps = known_corps(state);
    let users = members(state, &corps);
    (corps, users)
}

/// The corps that authorized `suite_id` and have not cancelled; sorted.
pub(super) fn authorized_corps(state: &State, suite_id: &str) -> Vec<String> {
    let corps: BTreeSet<String> = state
        .permanent_codes
        .values()
        .filter(|key| key.suite == suite_id)
        .map(|key| key.corp.clone())
        .collect();
    corps.into_iter().collect()
}

/// The members of `corps` as (userid, label), sorted by userid: the created
/// ones, else the samples.
pub(super) fn members(state: &State, corps: &[String]) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = corps
        .iter()
        .filter_map(|corp| state.members.get(corp))
        .flat_map(|members| members.iter())
        .map(|(userid, member)| {
            let name = member.get("name").and_then(Value::as_str).unwrap_or(userid);
            (userid.clone(), format!("{name} ({userid})"))
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    if found.is_empty() {
        found =
            SAMPLE_MEMBERS.iter().map(|(id, name)| ((*id).to_owned(), format!("{name} ({id})"))).collect();
    }
    found
}

/// The departments of `corps`: 1, and those their created members are in.
pub(super) fn departments(state: &State, corps: &[String]) -> Vec<i64> {
    let mut found: BTreeSet<i64> = corps
        .iter()
        .filter_map(|corp| state.members.get(corp))
        .flat_map(|members| members.values())
        .filter_map(|member| member.get("department").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    found.insert(ROOT_DEPARTMENT);
    found.into_iter().collect()
}

/// The corp chosen on a form: `new_corp_id` when given (a well-formed id),
/// else `corp_id`, which must be one of `offered` (40013 otherwise).
pub(super) fn chosen_corp(params: &Params, offered: &[String], allow_new: bool) -> Result<String, Refusal> {
    let invalid = || Refusal::new(40013, "不合法的corpid / invalid corp id");
    if allow_new {
        if let Some(new) = params.get("new_corp_id").map(str::trim).filter(|c| !c.is_empty()) {
            return if is_id(new) { Ok(new.to_owned()) } else { Err(invalid()) };
        }
    }
    match params.get("corp_id") {
        Some(corp) if offered.iter().any(|c| c == corp) => Ok(corp.to_owned()),
        _ => Err(invalid()),
    }
}

/// The member chosen on a form: `userid`, one of `offered` or `preset`
/// (60111 otherwise).
pub(super) fn chosen_member(
    params: &Params,
    offered: &[(String, String)],
    preset: Option<&str>,
) -> Result<String, Refusal> {
    match params.get("userid") {
        Some(userid) if offered.iter().any(|(id, _)| id == userid) || preset == Some(userid) => {
            Ok(userid.to_owned())
        }
        _ => Err(Refusal::new(60111, "成员不存在 / no such member (userid)")),
    }
}

/// The member options with `preset` added when it is not among them.
pub(super) fn with_preset(mut offered: Vec<(String, String)>, preset: Option<&str>) -> Vec<(String, String)> {
    if let Some(preset) = preset.filter(|p| !offered.iter().any(|(id, _)| id == p)) {
        offered.insert(0, (preset.to_owned(), preset.to_owned()));
    }
    offered
}
