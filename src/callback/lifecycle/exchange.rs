//! One journal driven to its end: the auth code exchanged under a lease
//! (renewed while held), its permanent code written into the journal, the
//! authorization stored at its version, `on_authorized` delivered. Store
//! failures are retried with back-off, never taken for the end.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::api::authorization::types::GetPermanentCodeV2Request;
use crate::app::Application;
use crate::clock::unix_ms;
use crate::credentials::{Authorization, Stored, Versioned};
use crate::error::Error;
use crate::ids::CorpId;
use crate::store::{keys, renewing};

use super::journal::{self, Entry, PendingExchange, Stage};
use super::{AuthorizationFailure, Lifecycle, CONTENDED_TRIES, WHAT_TO_DO_WHEN_LOST};

/// `errcode` of an auth code WeCom no longer accepts (used, expired, unknown).
const CODE_NOT_ACCEPTED: i64 = 40078;
/// First and longest pause between exchange attempts (and between tries of
/// a failing store).
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);
/// How often an instance waiting for another's lease looks again.
const LEASE_WAIT: Duration = Duration::from_millis(200);
/// How long a permanent code in hand is kept trying to be written while the
/// store fails: it cannot be had from WeCom again.
const KEEP_CODE_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long a journal keeps being tried while the store fails; the sweep
/// resumes it after that.
const STORE_GRACE: Duration = Duration::from_secs(3600);

/// What one step left to do.
enum Step {
    /// Settled, here or elsewhere.
    Done,
    /// Try again after the back-off.
    Again,
    /// Another instance holds the lease: look again shortly.
    Wait,
    /// Go on at once (the journal moved on).
    Now,
}

impl Lifecycle {
    /// Drives journal `key` to its end; store failures are retried.
    ///
    /// WeCom's refusals and the store's failures back off separately: an
    /// outage of the store does not lengthen the wait before the next
    /// exchange attempt once it is over.
    pub(crate) async fn run(self: &Arc<Self>, app: &Application, key: &str) {
        let mut pause = FIRST_PAUSE;
        let mut store_pause = FIRST_PAUSE;
        let mut failing_since: Option<u64> = None;
        loop {
            let step = self.step(app, key).await;
            if step.is_ok() {
                failing_since = None;
                store_pause = FIRST_PAUSE;
            }
            match step {
                Ok(Step::Done) => return,
                Ok(Step::Now) => continue,
                Ok(Step::Wait) => app.clock().sleep(LEASE_WAIT).await,
                Ok(Step::Again) => {
                    app.clock().sleep(pause).await;
                    pause = (pause * 2).min(LONGEST_PAUSE);
                }
                Err(e) => {
                    let now = unix_ms(app.clock().now());
                    let since = *failing_since.get_or_insert(now);
                    if now.saturating_sub(since) > STORE_GRACE.as_millis() as u64 {
                        tracing::error!(key, error = %e, "an authorization exchange stopped after an hour of store failures; the next sweep resumes it");
                        return;
                    }
                    tracing::error!(key, error = %e, "the store failed during an authorization exchange; trying again");
                    app.clock().sleep(store_pause).await;
                    store_pause = (store_pause * 2).min(LONGEST_PAUSE);
                }
            }
        }
    }

    async fn step(self: &Arc<Self>, app: &Application, key: &str) -> Result<Step, Error> {
        let Some(entry) = journal::read(app, key).await? else { return Ok(Step::Done) };
        match &entry.pending.stage {
            Stage::Done { .. } | Stage::Failed { .. } => Ok(Step::Done),
            Stage::Exchanged { .. } => self.finish(app, key, entry).await.map(|()| Step::Done),
            Stage::Pending => {
                let lease_key = keys::refresh_lease(key);
                let ttl = Duration::from_secs(app.config().tokens.refresh_lease);
                let Some(lease) = app.store().try_lease(&lease_key, ttl).await? else {
                    return Ok(Step::Wait);
                };
                let attempt = self.attempt(app, key);
                let step = renewing(app.store().as_ref(), &lease_key, &lease, ttl, attempt).await;
                if let Err(e) = app.store().release(&lease_key, &lease).await {
                    tracing::warn!(error = %e, "could not release an exchange lease; it expires by itself");
                }
                step
            }
        }
    }

    /// One exchange attempt, under the lease; its outcome is journaled.
    async fn attempt(self: &Arc<Self>, app: &Application, key: &str) -> Result<Step, Error> {
        // Re-read under the lease: another instance may have moved it on.
        let Some(entry) = journal::read(app, key).await? else { return Ok(Step::Done) };
        if entry.pending.stage != Stage::Pending {
            return Ok(Step::Now);
        }
        let now = unix_ms(app.clock().now());
        if now >= entry.pending.expires_at() {
            let reason = format!(
                "the auth code expired before it could be exchanged (last error: {})",
                entry.pending.last_error.as_deref().unwrap_or("none")
            );
            return self.fail(app, key, entry, reason).await.map(|()| Step::Done);
        }
        let request = GetPermanentCodeV2Request::new(entry.pending.auth_code.clone());
        let reply = app.suite(entry.pending.suite_id.clone()).get_permanent_code_v2_with(request).await;
        let mut next = entry.pending.clone();
        next.attempts += 1;
        match reply {
            Ok(info) => {
                let corp = info.auth_corp_info.as_ref().and_then(|c| c.corpid.clone());
                match (corp, info.permanent_code.filter(|c| !c.is_empty())) {
                    (Some(corp), Some(code)) => {
                        next.stage = Stage::Exchanged {
                            corp_id: CorpId::new(corp),
                            permanent_code: code,
                            corp_name: info.auth_corp_info.and_then(|c| c.corp_name),
                        };
                        next.last_error = None;
                        let entry = self.keep_code(app, key, entry, next).await?;
                        return self.finish(app, key, entry).await.map(|()| Step::Done);
                    }
                    _ => next.last_error = Some("WeCom's reply had no corpid or permanent_code".into()),
                }
            }
            Err(e) if e.code() == Some(CODE_NOT_ACCEPTED) => {
                let reason = if entry.pending.uncertain {
                    format!("WeCom no longer accepts the auth code ({e}); an earlier attempt whose reply was lost probably used it")
                } else {
                    format!("WeCom does not accept the auth code ({e})")
                };
                return self.fail(app, key, entry, reason).await.map(|()| Step::Done);
            }
            Err(e) => {
                next.uncertain |= matches!(
                    e,
                    Error::Timeout { .. }
                        | Error::Transport { request_sent: true, .. }
                        | Error::Status { .. }
                        | Error::Api { code: -1, .. }
                );
                tracing::warn!(suite = %next.suite_id, attempt = next.attempts, error = %e, "exchanging an auth code failed; trying again");
                next.last_error = Some(e.to_string());
            }
        }
        Ok(match journal::advance(app, key, &entry, next).await? {
            Some(_) => Step::Again,
            None => Step::Now,
        })
    }

    /// Writes the permanent code WeCom just gave into the journal, trying
    /// until it is written: WeCom gives it once. A journal moved on meanwhile
    /// (another instance was faster, or wrongly gave up) is written over
    /// with the code, unless it already holds one.
    async fn keep_code(
        &self,
        app: &Application,
        key: &str,
        read: Entry,
        next: PendingExchange,
    ) -> Result<Entry, Error> {
        let Stage::Exchanged { .. } = &next.stage else { return Ok(read) };
        let started = unix_ms(app.clock().now());
        let mut current = Some(read);
        let mut pause = FIRST_PAUSE;
        loop {
            let outcome = match &current {
                Some(entry) => match &entry.pending.stage {
                    // The journal holds the code already (WeCom gives one per auth code).
                    Stage::Exchanged { .. } | Stage::Done { .. } => return Ok(entry.clone()),
                    _ => {
                        let mut written = entry.pending.clone();
                        written.stage = next.stage.clone();
                        written.attempts = next.attempts.max(written.attempts);
                        written.last_error = None;
                        journal::advance(app, key, entry, written).await
                    }
                },
                None => journal::create(app, key, &next)
                    .await
                    .map(|ok| ok.then(|| Entry { pending: next.clone(), version: 1 })),
            };
            match outcome {
                Ok(Some(entry)) => return Ok(entry),
                Ok(None) => current = journal::read(app, key).await.unwrap_or(current),
                Err(e) => {
                    let held = Duration::from_millis(unix_ms(app.clock().now()).saturating_sub(started));
                    if held > KEEP_CODE_FOR {
                        tracing::error!(suite = %next.suite_id, error = %e, "a permanent code could not be written for a day and is lost: {WHAT_TO_DO_WHEN_LOST}");
                        return Err(e);
                    }
                    tracing::error!(suite = %next.suite_id, error = %e, "could not write the permanent code WeCom gave; it is kept in memory and written again");
                    app.clock().sleep(pause).await;
                    pause = (pause * 2).min(LONGEST_PAUSE);
                    if let Ok(fresh) = journal::read(app, key).await {
                        current = fresh;
                    }
                }
            }
        }
    }

    /// Stores the authorization from a journal whose code was exchanged,
    /// closes the journal, and delivers `on_authorized`.
    async fn finish(self: &Arc<Self>, app: &Application, key: &str, mut entry: Entry) -> Result<(), Error> {
        for _ in 0..CONTENDED_TRIES {
            let Stage::Exchanged { corp_id, permanent_code, corp_name } = entry.pending.stage.clone() else {
                return Ok(());
            };
            let pending = &entry.pending;
            let authorized_ms = pending.version.map_or(pending.received_at, |v| v / 1000 * 1000);
            let mut authorization = Authorization::new(
                pending.suite_id.clone(),
                corp_id.clone(),
                permanent_code.clone(),
                UNIX_EPOCH + Duration::from_millis(authorized_ms),
            );
            if let Some(name) = corp_name {
                authorization = authorization.with_corp_name(name);
            }
            authorization.app_kind =
                app.config().suite(&pending.suite_id).map(|s| s.kind).unwrap_or_default();
            authorization.awaiting_on_authorized = true;
            let stored = match pending.version {
                Some(version) => {
                    app.tokens().put_authorization(&authorization, version).await?.then_some(version)
                }
                None => provisional(app, &authorization).await?,
            };
            let mut done = entry.pending.clone();
            let keep = pending.version.is_none().then_some(permanent_code);
            done.stage = Stage::Done { corp_id: corp_id.clone(), permanent_code: keep };
            match journal::advance(app, key, &entry, done).await? {
                Some(_) => {
                    self.settled.notify_waiters();
                    match stored {
                        Some(version) => {
                            tracing::info!(suite = %authorization.suite_id, corp = %corp_id, "a corp authorized the suite");
                            let state = entry.pending.state.clone();
                            self.deliver_authorized(app, Versioned { value: authorization, version }, state)
                                .await;
                        }
                        // A newer authorization (or cancel) is stored: its own flow reports it.
                        None => {
                            tracing::info!(suite = %entry.pending.suite_id, corp = %corp_id, "a newer authorization or cancel is stored already")
                        }
                    }
                    return Ok(());
                }
                // Written meanwhile (a push gave it its version): again.
                None => match journal::read(app, key).await? {
                    Some(fresh) => entry = fresh,
                    None => return Ok(()),
                },
            }
        }
        Err(super::contended(app, "finish"))
    }

    /// A push's version for the authorization a redirect started: the
    /// journal takes it, and an authorization stored provisionally is
    /// stored again at it (unless something newer is stored).
    pub(crate) async fn confirm(&self, app: &Application, key: &str, version: u64) -> Result<(), Error> {
        for _ in 0..CONTENDED_TRIES {
            let Some(entry) = journal::read(app, key).await? else { return Ok(()) };
            if entry.pending.version.is_some() {
                return Ok(());
            }
            let mut next = entry.pending.clone();
            next.version = Some(version);
            if let Stage::Done { corp_id, permanent_code: Some(code) } = &entry.pending.stage {
                let tokens = app.tokens();
                let current = tokens.stored_authorization(&entry.pending.suite_id, corp_id).await?;
                let mut authorization = match current {
                    Some(Versioned { value: Stored::Authorized(a), .. })
                        if a.permanent_code.expose() == code =>
                    {
                        a
                    }
                    _ => {
                        let mut a = Authorization::new(
                            entry.pending.suite_id.clone(),
                            corp_id.clone(),
                            code.clone(),
                            UNIX_EPOCH + Duration::from_millis(version / 1000 * 1000),
                        );
                        a.app_kind =
                            app.config().suite(&entry.pending.suite_id).map(|s| s.kind).unwrap_or_default();
                        a.awaiting_on_authorized = true;
                        a
                    }
                };
                authorization.authorized_at = version / 1000 * 1000;
                tokens.put_authorization(&authorization, version).await?;
                next.stage = Stage::Done { corp_id: corp_id.clone(), permanent_code: None };
            }
            if journal::advance(app, key, &entry, next).await?.is_some() {
                return Ok(());
            }
        }
        Err(super::contended(app, "confirm"))
    }

    /// Records that a code can no longer be exchanged, and reports it.
    async fn fail(&self, app: &Application, key: &str, entry: Entry, reason: String) -> Result<(), Error> {
        let mut failed = entry.pending.clone();
        failed.stage = Stage::Failed { reason: reason.clone() };
        if journal::advance(app, key, &entry, failed).await?.is_none() {
            // Moved on meanwhile: whoever moved it reports.
            return Ok(());
        }
        tracing::error!(suite = %entry.pending.suite_id, corp = ?entry.pending.corp_id, reason = %reason, "an authorization could not be completed: {WHAT_TO_DO_WHEN_LOST}");
        self.settled.notify_waiters();
        if let Some(hook) = self.hooks().failed {
            let failure = AuthorizationFailure {
                suite_id: entry.pending.suite_id.clone(),
                corp_id: entry.pending.corp_id.clone(),
                received_at: UNIX_EPOCH + Duration::from_millis(entry.pending.received_at),
                reason,
                what_to_do: WHAT_TO_DO_WHEN_LOST,
            };
            if let Err(e) = hook(failure).await {
                tracing::error!(error = %e, "on_authorization_failed failed; the failure stays recorded in the store");
            }
        }
        Ok(())
    }
}

/// An authorization completed by its redirect before WeCom's push: stored
/// just above whatever the store holds (the install is happening now, so
/// it is newer than anything recorded), until the push gives its version.
async fn provisional(app: &Application, authorization: &Authorization) -> Result<Option<u64>, Error> {
    let tokens = app.tokens();
    let (suite_id, corp_id) = (&authorization.suite_id, &authorization.corp_id);
    for _ in 0..CONTENDED_TRIES {
        let current = tokens.stored_authorization(suite_id, corp_id).await?;
        let expected = current.as_ref().map(|c| c.version);
        let version = expected.map_or(1, |v| v.saturating_add(1));
        let value = Stored::Authorized(authorization.clone());
        if tokens.replace_authorization(suite_id, corp_id, expected, &value, version).await? {
            return Ok(Some(version));
        }
    }
    Err(super::contended(app, "provisional"))
}
