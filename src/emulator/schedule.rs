//! Calendars and schedules with state, per corp (the corp of the calling
//! token): a calendar made with `oa/calendar/add` holds schedules made with
//! `oa/schedule/add`, which are read, overwritten by `update`, given or
//! relieved of attendees, listed per calendar and cancelled (`del` keeps a
//! cancelled schedule readable, with `status` 1, as WeCom does). A corp
//! that never made a calendar gets the endpoints' samples. An id the corp
//! does not have is refused with 40058 (invalid parameter), unless it is a
//! documented sample's made-up one (see [`Call::unknown_id`]).

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::handler::{Call, Table};
use super::records::ScheduleState;
use super::reply::{ok_with, wecom_error, INVALID_PARAMETER};
use super::state::random_code;
use crate::api::schedule::endpoints as schedule;

/// WeCom's errcode for `op_mode` 1 or 2 on a schedule that does not repeat
/// (更新重复日程).
const NOT_REPEATING: i64 = 90485;
/// `status` of a cancelled schedule.
const CANCELLED: i64 = 1;

/// The calendar and schedule endpoints whose answer depends on state.
pub(super) static HANDLERS: Table = &[
    (&schedule::ADD_CALENDAR, add_calendar),
    (&schedule::UPDATE_CALENDAR, update_calendar),
    (&schedule::GET_CALENDAR, get_calendar),
    (&schedule::DEL_CALENDAR, del_calendar),
    (&schedule::ADD, add),
    (&schedule::UPDATE, update),
    (&schedule::GET, get),
    (&schedule::GET_BY_CALENDAR, get_by_calendar),
    (&schedule::ADD_ATTENDEES, |c| change_attendees(c, true)),
    (&schedule::DEL_ATTENDEES, |c| change_attendees(c, false)),
    (&schedule::DEL, del),
];

fn invalid(what: &str) -> Response {
    wecom_error(INVALID_PARAMETER, &format!("invalid {what}"))
}

/// Calendar ids the emulator issues start so.
const CALENDAR_PREFIX: &str = "wcemu";
/// Schedule ids the emulator issues start so.
const SCHEDULE_PREFIX: &str = "emu-sch-";

/// The answer to a calendar the corp does not have (see [`Call::unknown_id`]).
fn unknown_calendar(c: &Call<'_>, cal_id: &str) -> Option<Response> {
    c.unknown_id(cal_id, CALENDAR_PREFIX, || invalid(&format!("cal_id {cal_id}")))
}

/// The answer to a schedule the corp does not have (see [`Call::unknown_id`]).
fn unknown_schedule(c: &Call<'_>, schedule_id: &str) -> Option<Response> {
    c.unknown_id(schedule_id, SCHEDULE_PREFIX, || invalid(&format!("schedule_id {schedule_id}")))
}

/// The object member `key` of the call (`calendar`, `schedule`), or empty.
fn object(c: &Call<'_>, key: &str) -> Map<String, Value> {
    c.params.get(key).and_then(Value::as_object).cloned().unwrap_or_default()
}

fn text_of(object: &Map<String, Value>, key: &str) -> String {
    object.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The string list member `key` of the call.
fn ids(c: &Call<'_>, key: &str) -> Vec<String> {
    let list = c.params.get(key).and_then(Value::as_array);
    list.map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

fn add_calendar(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut calendar = object(c, "calendar");
    let cal_id = format!("{CALENDAR_PREFIX}{}", random_code(27));
    calendar.remove("set_as_default");
    calendar.insert("cal_id".into(), cal_id.clone().into());
    c.shared.state().schedules.entry(corp.to_owned()).or_default().calendars.insert(cal_id.clone(), calendar);
    Some(ok_with([("cal_id", cal_id.into())]))
}

/// Sets the calendar members given (the id, admins and kind stay).
fn update_calendar(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let given = object(c, "calendar");
    let cal_id = text_of(&given, "cal_id");
    let Some(calendar) = state.schedules.get_mut(corp)?.calendars.get_mut(&cal_id) else {
        return unknown_calendar(c, &cal_id);
    };
    for (key, value) in given {
        if !matches!(key.as_str(), "cal_id" | "admins" | "is_corp_calendar" | "is_public") {
            calendar.insert(key, value);
        }
    }
    Some(ok_with([]))
}

fn get_calendar(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let calendars = &state.schedules.get(corp)?.calendars;
    let wanted = ids(c, "cal_id_list");
    if let Some(unknown) = wanted.iter().find(|id| !calendars.contains_key(*id)) {
        return unknown_calendar(c, unknown);
    }
    let list: Vec<Value> =
        wanted.iter().filter_map(|id| calendars.get(id)).cloned().map(Value::Object).collect();
    Some(ok_with([("calendar_list", Value::Array(list))]))
}

/// Deletes a calendar and the schedules on it.
fn del_calendar(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let kept = state.schedules.get_mut(corp)?;
    let cal_id = c.text("cal_id");
    if kept.calendars.remove(&cal_id).is_none() {
        return unknown_calendar(c, &cal_id);
    }
    kept.schedules.retain(|_, s| text_of(s, "cal_id") != cal_id);
    Some(ok_with([]))
}

/// Attendees as a schedule keeps them: each with its answer (0: none yet).
fn attendees(list: Option<&Value>) -> Vec<Value> {
    let list = list.and_then(Value::as_array).cloned().unwrap_or_default();
    list.into_iter()
        .filter_map(|a| a.get("userid").and_then(Value::as_str).map(str::to_owned))
        .map(|userid| json!({"userid": userid, "response_status": 0}))
        .collect()
}

fn is_repeating(schedule: &Map<String, Value>) -> bool {
    schedule.get("reminders").and_then(|r| r.get("is_repeat")).and_then(Value::as_i64) == Some(1)
}

fn add(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let kept = state.schedules.get_mut(corp)?;
    let mut given = object(c, "schedule");
    let cal_id = text_of(&given, "cal_id");
    if !kept.calendars.contains_key(&cal_id) {
        return unknown_calendar(c, &cal_id);
    }
    let schedule_id = format!("{SCHEDULE_PREFIX}{}", random_code(24));
    let listed = attendees(given.get("attendees"));
    given.insert("attendees".into(), listed.into());
    given.insert("schedule_id".into(), schedule_id.clone().into());
    given.insert("status".into(), 0.into());
    kept.sequence += 1;
    given.insert("sequence".into(), kept.sequence.into());
    kept.schedules.insert(schedule_id.clone(), given);
    Some(ok_with([("schedule_id", schedule_id.into())]))
}

/// Overwrites a schedule with what is given (its calendar stays, and its
/// attendees with `skip_attendees` 1). `op_mode` 1 or 2 on a repeating
/// schedule splits off a new one, whose id is answered.
fn update(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let kept = state.schedules.get_mut(corp)?;
    let mut given = object(c, "schedule");
    let schedule_id = text_of(&given, "schedule_id");
    let Some(old) = kept.schedules.get(&schedule_id) else { return unknown_schedule(c, &schedule_id) };
    let op_mode = c.params.get("op_mode").and_then(Value::as_i64).unwrap_or(0);
    if op_mode != 0 && !is_repeating(old) {
        return Some(wecom_error(NOT_REPEATING, "the schedule does not repeat"));
    }
    let keep_attendees = c.params.get("skip_attendees").and_then(Value::as_i64) == Some(1);
    let listed = if keep_attendees {
        old.get("attendees").cloned()
    } else {
        Some(attendees(given.get("attendees")).into())
    };
    given.insert("attendees".into(), listed.unwrap_or_else(|| json!([])));
    given.insert("cal_id".into(), old.get("cal_id").cloned().unwrap_or_default());
    given.insert("status".into(), 0.into());
    let id = if op_mode == 0 { schedule_id } else { format!("{SCHEDULE_PREFIX}{}", random_code(24)) };
    given.insert("schedule_id".into(), id.clone().into());
    kept.sequence += 1;
    given.insert("sequence".into(), kept.sequence.into());
    kept.schedules.insert(id.clone(), given);
    Some(ok_with([("schedule_id", id.into())]))
}

fn get(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let schedules = &state.schedules.get(corp)?.schedules;
    let wanted = ids(c, "schedule_id_list");
    if let Some(unknown) = wanted.iter().find(|id| !schedules.contains_key(*id)) {
        return unknown_schedule(c, unknown);
    }
    let list: Vec<Value> =
        wanted.iter().filter_map(|id| schedules.get(id)).cloned().map(Value::Object).collect();
    Some(ok_with([("schedule_list", Value::Array(list))]))
}

/// A calendar's schedules in the order they were made, `limit` (1-1000,
/// default 500) from `offset`.
fn get_by_calendar(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let state = c.shared.state();
    let kept = state.schedules.get(corp)?;
    let cal_id = c.text("cal_id");
    if !kept.calendars.contains_key(&cal_id) {
        return unknown_calendar(c, &cal_id);
    }
    let offset = c.params.get("offset").and_then(Value::as_u64).unwrap_or(0);
    let limit = c.params.get("limit").and_then(Value::as_u64).unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Some(invalid("limit: 1-1000"));
    }
    let mut on_calendar: Vec<&Map<String, Value>> =
        kept.schedules.values().filter(|s| text_of(s, "cal_id") == cal_id).collect();
    on_calendar.sort_by_key(|s| s.get("sequence").and_then(Value::as_u64));
    let page: Vec<Value> = on_calendar
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(500))
        .cloned()
        .map(Value::Object)
        .collect();
    Some(ok_with([("schedule_list", Value::Array(page))]))
}

/// Adds (`adding`) or removes attendees of a schedule.
fn change_attendees(c: &Call<'_>, adding: bool) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let kept: &mut ScheduleState = state.schedules.get_mut(corp)?;
    let schedule_id = c.text("schedule_id");
    let Some(schedule) = kept.schedules.get_mut(&schedule_id) else {
        return unknown_schedule(c, &schedule_id);
    };
    let changed = attendees(c.params.get("attendees"));
    let mut list = schedule.get("attendees").and_then(Value::as_array).cloned().unwrap_or_default();
    let same = |a: &Value, b: &Value| a.get("userid") == b.get("userid");
    if adding {
        for attendee in changed {
            if !list.iter().any(|known| same(known, &attendee)) {
                list.push(attendee);
            }
        }
    } else {
        list.retain(|known| !changed.iter().any(|gone| same(known, gone)));
    }
    schedule.insert("attendees".into(), list.into());
    Some(ok_with([]))
}

/// Cancels a schedule: it stays readable, with `status` 1.
fn del(c: &Call<'_>) -> Option<Response> {
    let corp = c.corp()?;
    let mut state = c.shared.state();
    let schedule_id = c.text("schedule_id");
    let Some(schedule) = state.schedules.get_mut(corp)?.schedules.get_mut(&schedule_id) else {
        return unknown_schedule(c, &schedule_id);
    };
    schedule.insert("status".into(), CANCELLED.into());
    Some(ok_with([]))
}
