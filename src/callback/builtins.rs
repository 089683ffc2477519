//! The built-in handlers: the suite ticket is stored; the authorization
//! events go to the lifecycle (journaled exchange, ordered cancels, hooks).
//! Each can be replaced with [`super::CallbackServer::on`].

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::chain::{HandlerError, HandlerResult};
use super::lifecycle::{ArrivedCode, Lifecycle, Origin};
use super::message::{Callback, Reply};
use crate::events::Event;
use crate::ids::{CorpId, SuiteId};

/// `suite_ticket`: store it, for the suite it names, if that suite is ours.
pub(crate) async fn store_suite_ticket(callback: Callback) -> HandlerResult {
    let Event::SuiteTicket(event) = &callback.event else {
        tracing::warn!("a suite_ticket push that did not decode; ignored");
        return Ok(Reply::Success);
    };
    let (Some(suite_id), Some(ticket)) = (event.suite_id.as_deref(), event.suite_ticket.as_deref()) else {
        tracing::warn!("suite_ticket push without SuiteId or SuiteTicket");
        return Ok(Reply::Success);
    };
    let suite_id = SuiteId::new(suite_id);
    if callback.app.config().suite(&suite_id).is_none() {
        tracing::warn!(suite = %suite_id, "suite_ticket for a suite not in the configuration; ignored");
        return Ok(Reply::Success);
    }
    let pushed_at = push_time(event.time_stamp, &callback)?;
    callback.app.suite(suite_id).ticket().set_pushed_at(ticket.trim(), pushed_at).await?;
    Ok(Reply::Success)
}

/// The suite a command event is about: its `SuiteId`, else the URL's.
fn event_suite(suite_id: Option<&str>, callback: &Callback) -> Option<SuiteId> {
    suite_id.map(SuiteId::new).or_else(|| callback.url.suite().cloned())
}

/// A push's `TimeStamp` as a time. Negative, or more than a day ahead of
/// our clock, it is absurd: an error (so WeCom retries), never a panic, and
/// never a cancel that outranks every authorization.
fn push_time(timestamp: Option<i64>, callback: &Callback) -> Result<std::time::SystemTime, HandlerError> {
    let now = callback.app.clock().now();
    let Some(ts) = timestamp else { return Ok(now) };
    let latest = now.checked_add(Duration::from_secs(24 * 3600)).unwrap_or(now);
    u64::try_from(ts)
        .ok()
        .and_then(|ts| UNIX_EPOCH.checked_add(Duration::from_secs(ts)))
        .filter(|at| *at <= latest)
        .ok_or_else(|| format!("TimeStamp {ts} is not a plausible time").into())
}

/// The ISV's own part of a `State` its install link signed (see
/// [`crate::crypto::install_state`]); a state it did not sign, as it came.
fn own_state(callback: &Callback, suite_id: &SuiteId, state: &str) -> String {
    let secret = callback.app.config().suite(suite_id).map(|s| s.suite_secret.expose().to_owned());
    secret
        .and_then(|secret| crate::crypto::install_state::open(&secret, suite_id.as_str(), state))
        .map_or_else(|| state.to_owned(), |(own, _)| own)
}

/// The authorization events: `create_auth` and `reset_permanent_code`
/// journal the auth code durably before `success` and exchange it in the
/// background; `cancel_auth` forgets the corp if the cancel is newer than
/// its authorization; `change_auth` refreshes the stored authorization.
pub(crate) async fn authorization_event(callback: Callback, lifecycle: Arc<Lifecycle>) -> HandlerResult {
    let app = callback.app.clone();
    match &callback.event {
        Event::CreateAuth(event) => {
            let (Some(suite_id), Some(code)) =
                (event_suite(event.suite_id.as_deref(), &callback), event.auth_code.as_deref())
            else {
                tracing::warn!("create_auth without SuiteId or AuthCode");
                return Ok(Reply::Success);
            };
            let at = push_time(event.time_stamp, &callback)?;
            let state = event.state.as_deref().map(|s| own_state(&callback, &suite_id, s));
            let code = ArrivedCode {
                suite_id,
                auth_code: code,
                origin: Origin::CreateAuth,
                corp_id: None,
                state: state.filter(|s| !s.is_empty()),
                pushed_at: Some(at),
            };
            lifecycle.accept(&app, code).await?;
        }
        Event::ResetPermanentCode(event) => {
            let (Some(suite_id), Some(code)) =
                (event_suite(event.suite_id.as_deref(), &callback), event.auth_code.as_deref())
            else {
                tracing::warn!("reset_permanent_code without SuiteId or AuthCode");
                return Ok(Reply::Success);
            };
            let at = push_time(event.time_stamp, &callback)?;
            let corp = callback.field("AuthCorpId").map(CorpId::new);
            let code = ArrivedCode {
                suite_id,
                auth_code: code,
                origin: Origin::ResetPermanentCode,
                corp_id: corp,
                state: None,
                pushed_at: Some(at),
            };
            lifecycle.accept(&app, code).await?;
        }
        Event::CancelAuth(event) => {
            let (Some(suite_id), Some(corp_id)) =
                (event_suite(event.suite_id.as_deref(), &callback), event.auth_corp_id.as_deref())
            else {
                tracing::warn!("cancel_auth without SuiteId or AuthCorpId");
                return Ok(Reply::Success);
            };
            let at = push_time(event.time_stamp, &callback)?;
            lifecycle.cancel(&app, suite_id, CorpId::new(corp_id), at).await?;
        }
        Event::ChangeAuth(event) => {
            let (Some(suite_id), Some(corp_id)) =
                (event_suite(event.suite_id.as_deref(), &callback), event.auth_corp_id.as_deref())
            else {
                tracing::warn!("change_auth without SuiteId or AuthCorpId");
                return Ok(Reply::Success);
            };
            lifecycle.change(&app, suite_id, CorpId::new(corp_id)).await?;
        }
        other => {
            tracing::warn!(kind = other.kind(), "an authorization event that did not decode; acknowledged")
        }
    }
    Ok(Reply::Success)
}
