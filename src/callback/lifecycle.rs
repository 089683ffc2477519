//! The life of an authorization, so that none is ever lost: an auth code is
//! written to the store before `success` is answered, exchanged with
//! back-off until it works or its ten minutes run out, resumed by any
//! instance after a restart, and reported through typed hooks that run at
//! least once.
//!
//! The pending record is the journal of one exchange: `pending` → (the
//! permanent code written into it) `exchanged` → (the authorization stored)
//! `done`, or `failed` with the reason. Each step is written before the next
//! starts, so a crash anywhere resumes from the last written step.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::api::authorization::types::{CorpAuthInfo, GetAuthInfoRequest, GetPermanentCodeV2Request};
use crate::app::Application;
use crate::clock::unix_ms;
use crate::credentials::Authorization;
use crate::error::Error;
use crate::future::BoxFuture;
use crate::ids::{CorpId, SuiteId};
use crate::store::{keys, Record};
use crate::tasks::Background;

/// How long WeCom accepts an auth code after the push.
pub const AUTH_CODE_LIFETIME: Duration = Duration::from_secs(600);
/// `errcode` of an auth code WeCom no longer accepts (used, expired, unknown).
const CODE_NOT_ACCEPTED: i64 = 40078;
/// First and longest pause between exchange attempts.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);
/// How long a finished journal entry is kept, so that WeCom's late retries of
/// the same push find it and do nothing.
const DONE_KEPT: Duration = Duration::from_secs(24 * 3600);

/// What `on_authorized` receives: the stored authorization and, when WeCom
/// answered `get_auth_info`, the corp's full authorization info.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuthorizedCorp {
    /// The stored authorization (the permanent code is in it; `Debug` hides it).
    pub authorization: Authorization,
    /// `get_auth_info`'s reply, when it could be had.
    pub auth_info: Option<CorpAuthInfo>,
    /// The `State` the install link carried, if any.
    pub state: Option<String>,
}

/// What `on_cancelled` receives.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CancelledCorp {
    /// The suite.
    pub suite_id: SuiteId,
    /// The corp that cancelled.
    pub corp_id: CorpId,
    /// When it cancelled (the push's `TimeStamp`).
    pub cancelled_at: SystemTime,
}

/// What `on_changed` receives: the authorization after `change_auth`, with
/// WeCom's current authorization info.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ChangedCorp {
    /// The stored authorization, refreshed.
    pub authorization: Authorization,
    /// `get_auth_info`'s reply.
    pub auth_info: CorpAuthInfo,
}

/// What `on_authorization_failed` receives: an auth code that can no longer
/// be exchanged. The corp is **not** authorized on the ISV's side.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuthorizationFailure {
    /// The suite.
    pub suite_id: SuiteId,
    /// The corp, when the push named it (`reset_permanent_code` does,
    /// `create_auth` does not).
    pub corp_id: Option<CorpId>,
    /// When WeCom pushed the code.
    pub received_at: SystemTime,
    /// What went wrong last.
    pub reason: String,
    /// What to do about it.
    pub what_to_do: &'static str,
}

/// What to do when a code is lost: WeCom pushes no second one.
pub const WHAT_TO_DO_WHEN_LOST: &str = "the permanent code could not be obtained and WeCom will not push \
     this auth code again: reset the corp's permanent code in the provider admin console (服务商管理后台, \
     which pushes reset_permanent_code), or ask the corp's admin to authorize the app again";

/// A hook's failure: it is run again later (at least once in all).
pub type HookError = Box<dyn std::error::Error + Send + Sync>;
type Hook<T> = Arc<dyn Fn(T) -> BoxFuture<'static, Result<(), HookError>> + Send + Sync>;

/// The lifecycle hooks; each defaults to none.
#[derive(Default, Clone)]
pub(crate) struct Hooks {
    pub(crate) authorized: Option<Hook<AuthorizedCorp>>,
    pub(crate) cancelled: Option<Hook<CancelledCorp>>,
    pub(crate) changed: Option<Hook<ChangedCorp>>,
    pub(crate) failed: Option<Hook<AuthorizationFailure>>,
}

/// Builds a hook from a closure.
pub(crate) fn hook<T, F, Fut>(f: F) -> Hook<T>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), HookError>> + Send + 'static,
{
    Arc::new(move |value| Box::pin(f(value)))
}

/// Which push started an exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Origin {
    CreateAuth,
    ResetPermanentCode,
    /// The install page's redirect to the ISV's `redirect_uri`.
    InstallRedirect,
}

/// Where an exchange stands.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Stage {
    Pending,
    Exchanged {
        #[serde(rename = "authorized_corp_id")]
        corp_id: CorpId,
        permanent_code: String,
        corp_name: Option<String>,
    },
    Done {
        #[serde(rename = "authorized_corp_id")]
        corp_id: CorpId,
    },
    Failed {
        reason: String,
    },
}

/// The stage's corp under the name journals written before it had its own
/// (`corp_id`, written twice with the push's own `corp_id`, the stage's
/// last) is given its own name, so those journals still read.
fn upgrade_journal(value: &mut serde_json::Value) {
    let Some(map) = value.as_object_mut() else { return };
    let settled = matches!(map.get("status").and_then(|s| s.as_str()), Some("exchanged" | "done"));
    if settled && !map.contains_key("authorized_corp_id") {
        if let Some(corp) = map.get("corp_id").cloned() {
            map.insert("authorized_corp_id".into(), corp);
        }
    }
}

/// The journal of one auth code's exchange, as stored.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct PendingExchange {
    pub(crate) suite_id: SuiteId,
    auth_code: String,
    pub(crate) origin: Origin,
    pub(crate) corp_id: Option<CorpId>,
    pub(crate) state: Option<String>,
    /// When it arrived, by our clock, in ms since the epoch: its ten
    /// minutes count from here.
    pub(crate) received_at: u64,
    /// The push's `TimeStamp` (WeCom's clock), in ms: the version of the
    /// authorization it leads to, which a cancel must be newer than.
    pub(crate) pushed_at: u64,
    pub(crate) attempts: u32,
    /// Whether the last attempt may have reached WeCom without an answer.
    uncertain: bool,
    pub(crate) last_error: Option<String>,
    #[serde(flatten)]
    pub(crate) stage: Stage,
}

impl fmt::Debug for PendingExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingExchange")
            .field("suite_id", &self.suite_id)
            .field("origin", &self.origin)
            .field("corp_id", &self.corp_id)
            .field("received_at", &self.received_at)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl PendingExchange {
    fn expires_at(&self) -> u64 {
        self.received_at.saturating_add(AUTH_CODE_LIFETIME.as_millis() as u64)
    }
}

/// The store key of an auth code's journal: the code itself never goes into
/// a key, only a digest of it.
fn pending_key(suite_id: &SuiteId, auth_code: &str) -> String {
    let digest = Sha1::digest(auth_code.as_bytes());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("{}{suite_id}:{hex}", keys::PENDING_PREFIX)
}

/// An auth code as a push brought it.
pub(crate) struct ArrivedCode<'a> {
    pub(crate) suite_id: SuiteId,
    pub(crate) auth_code: &'a str,
    pub(crate) origin: Origin,
    /// The corp, when the push names it.
    pub(crate) corp_id: Option<CorpId>,
    /// The install link's `State`.
    pub(crate) state: Option<String>,
    /// The push's `TimeStamp`.
    pub(crate) pushed_at: SystemTime,
}

/// The callback server's lifecycle part: hooks and the background work.
pub(crate) struct Lifecycle {
    pub(crate) hooks: RwLock<Hooks>,
    pub(crate) background: Arc<Background>,
    /// Woken whenever a journal in this process is done or failed, for
    /// [`Lifecycle::wait_settled`].
    settled: tokio::sync::Notify,
}

/// How often a waiter re-reads a journal that another instance may settle.
const OTHER_INSTANCE_POLL: Duration = Duration::from_millis(250);

/// How a journal ended, for a waiter.
pub(crate) enum Settled {
    /// The authorization is stored.
    Authorized(Authorization),
    /// The code could not be exchanged: the reason.
    Failed(String),
    /// Not settled within the wait.
    StillPending,
}

impl Lifecycle {
    pub(crate) fn new() -> Arc<Lifecycle> {
        Arc::new(Lifecycle {
            hooks: RwLock::default(),
            background: Arc::new(Background::default()),
            settled: tokio::sync::Notify::new(),
        })
    }

    /// The journal key of an arrived code, for [`Lifecycle::wait_settled`].
    pub(crate) fn key_of(code: &ArrivedCode<'_>) -> String {
        pending_key(&code.suite_id, code.auth_code)
    }

    /// Waits (at most `limit`, in real time) until journal `key` is done or
    /// failed, by this instance or another: a waiter in this process is
    /// woken at once, another instance's result is seen within
    /// [`OTHER_INSTANCE_POLL`].
    pub(crate) async fn wait_settled(
        &self,
        app: &Application,
        key: &str,
        limit: Duration,
    ) -> Result<Settled, Error> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match read(app, key).await?.map(|p| (p.suite_id, p.stage)) {
                Some((suite_id, Stage::Done { corp_id })) => {
                    let corp = app.corp(suite_id, corp_id);
                    return Ok(match corp.permanent_code().authorization().await? {
                        Some(authorization) => Settled::Authorized(authorization),
                        None => Settled::Failed("the corp cancelled right after authorizing".into()),
                    });
                }
                Some((_, Stage::Failed { reason })) => return Ok(Settled::Failed(reason)),
                Some(_) => {}
                None => return Ok(Settled::Failed("the auth code's journal is gone".into())),
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(Settled::StillPending);
            }
            let poll =
                OTHER_INSTANCE_POLL.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    fn hooks(&self) -> Hooks {
        self.hooks.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Writes an auth code's journal (unless WeCom re-sent a push already
    /// journaled) and starts its exchange. Returns once the code is durable.
    pub(crate) async fn accept(
        self: &Arc<Self>,
        app: &Application,
        code: ArrivedCode<'_>,
    ) -> Result<(), Error> {
        let key = Lifecycle::key_of(&code);
        self.journal(app, code).await?;
        self.start(app, key);
        Ok(())
    }

    /// Writes an auth code's journal unless one exists; answers whether it
    /// wrote it.
    pub(crate) async fn journal(&self, app: &Application, code: ArrivedCode<'_>) -> Result<bool, Error> {
        let key = Lifecycle::key_of(&code);
        if app.store().get_record(&key).await?.is_some() {
            return Ok(false);
        }
        let pending = PendingExchange {
            suite_id: code.suite_id,
            auth_code: code.auth_code.to_owned(),
            origin: code.origin,
            corp_id: code.corp_id,
            state: code.state,
            received_at: unix_ms(app.clock().now()),
            pushed_at: unix_ms(code.pushed_at),
            attempts: 0,
            uncertain: false,
            last_error: None,
            stage: Stage::Pending,
        };
        write(app, &key, &pending).await?;
        Ok(true)
    }

    /// Drives journal `key` to its end in the background.
    pub(crate) fn start(self: &Arc<Self>, app: &Application, key: String) {
        let lifecycle = self.clone();
        let app = app.clone();
        self.background.spawn(async move { lifecycle.run(&app, &key).await });
    }

    /// Resumes every unfinished exchange and every undelivered
    /// `on_authorized`, and forgets finished journals older than a day.
    pub(crate) async fn resume(self: &Arc<Self>, app: &Application) -> Result<usize, Error> {
        let mut resumed = 0;
        for key in app.store().record_keys(keys::PENDING_PREFIX).await? {
            let Some(pending) = read(app, &key).await? else { continue };
            match pending.stage {
                Stage::Pending | Stage::Exchanged { .. } => {
                    resumed += 1;
                    let (lifecycle, app) = (self.clone(), app.clone());
                    self.background.spawn(async move { lifecycle.run(&app, &key).await });
                }
                Stage::Done { .. } => {
                    let age = unix_ms(app.clock().now()).saturating_sub(pending.received_at);
                    if age > DONE_KEPT.as_millis() as u64 {
                        app.store().delete_record(&key, Some(pending.received_at.saturating_add(1))).await?;
                    }
                }
                Stage::Failed { .. } => {}
            }
        }
        for authorization in app.authorizations().await? {
            if authorization.awaiting_on_authorized {
                resumed += 1;
                let (lifecycle, app) = (self.clone(), app.clone());
                self.background
                    .spawn(async move { lifecycle.deliver_authorized(&app, authorization, None).await });
            }
        }
        Ok(resumed)
    }

    /// Drives one journal to its end.
    async fn run(&self, app: &Application, key: &str) {
        if let Err(e) = self.try_run(app, key).await {
            // Only a store failure gets here: the journal is intact and the
            // next resume carries on.
            tracing::error!(error = %e, "an authorization exchange stopped; it resumes with the next `resume()`");
        }
    }

    async fn try_run(&self, app: &Application, key: &str) -> Result<(), Error> {
        let lease_key = keys::refresh_lease(key);
        let lease_ttl = Duration::from_secs(app.config().tokens.refresh_lease);
        let mut pause = FIRST_PAUSE;
        loop {
            let Some(mut pending) = read(app, key).await? else { return Ok(()) };
            match &pending.stage {
                Stage::Pending => {}
                Stage::Exchanged { .. } => return self.finish(app, key, pending).await,
                Stage::Done { .. } | Stage::Failed { .. } => return Ok(()),
            }
            let Some(lease) = app.store().try_lease(&lease_key, lease_ttl).await? else {
                // Another instance is exchanging it (and is the one to say
                // when it expired).
                app.clock().sleep(Duration::from_millis(200)).await;
                continue;
            };
            let result = if unix_ms(app.clock().now()) >= pending.expires_at() {
                Ok(Attempt::Failed(format!(
                    "the auth code expired before it could be exchanged (last error: {})",
                    pending.last_error.as_deref().unwrap_or("none")
                )))
            } else {
                self.attempt(app, key, &mut pending).await
            };
            // A failure is written while the lease is held, so that no other
            // instance tries the code in between.
            let result = match result {
                Ok(Attempt::Failed(reason)) => {
                    self.fail(app, key, pending.clone(), reason).await.map(|()| Attempt::Settled)
                }
                other => other,
            };
            if let Err(e) = app.store().release(&lease_key, &lease).await {
                tracing::warn!(error = %e, "could not release an exchange lease; it expires by itself");
            }
            match result? {
                Attempt::Exchanged => return self.finish(app, key, pending).await,
                Attempt::Again => {
                    app.clock().sleep(pause).await;
                    pause = (pause * 2).min(LONGEST_PAUSE);
                }
                // A failure was written above, under the lease.
                Attempt::Failed(_) | Attempt::Settled => return Ok(()),
            }
        }
    }

    /// One exchange attempt, under the lease; its outcome is journaled.
    async fn attempt(
        &self,
        app: &Application,
        key: &str,
        pending: &mut PendingExchange,
    ) -> Result<Attempt, Error> {
        // Re-read under the lease: another instance may have finished.
        match read(app, key).await? {
            Some(current) if current.stage == Stage::Pending => *pending = current,
            _ => return Ok(Attempt::Settled),
        }
        let request = GetPermanentCodeV2Request { auth_code: pending.auth_code.clone() };
        let reply = app.suite(pending.suite_id.clone()).get_permanent_code_v2(&request).await;
        pending.attempts += 1;
        let outcome = match reply {
            Ok(info) => {
                let corp = info.auth_corp_info.as_ref().and_then(|c| c.corpid.clone());
                match (corp, info.permanent_code.filter(|c| !c.is_empty())) {
                    (Some(corp), Some(code)) => {
                        pending.stage = Stage::Exchanged {
                            corp_id: CorpId::new(corp),
                            permanent_code: code,
                            corp_name: info.auth_corp_info.and_then(|c| c.corp_name),
                        };
                        Attempt::Exchanged
                    }
                    _ => {
                        pending.last_error = Some("WeCom's reply had no corpid or permanent_code".into());
                        Attempt::Again
                    }
                }
            }
            Err(e) if e.code() == Some(CODE_NOT_ACCEPTED) => {
                let reason = if pending.uncertain {
                    format!("WeCom no longer accepts the auth code ({e}); an earlier attempt whose reply was lost probably used it")
                } else {
                    format!("WeCom does not accept the auth code ({e})")
                };
                Attempt::Failed(reason)
            }
            Err(e) => {
                pending.uncertain |= matches!(
                    e,
                    Error::Timeout { .. }
                        | Error::Transport { .. }
                        | Error::Status { .. }
                        | Error::Api { code: -1, .. }
                );
                tracing::warn!(suite = %pending.suite_id, attempt = pending.attempts, error = %e, "exchanging an auth code failed; trying again");
                pending.last_error = Some(e.to_string());
                Attempt::Again
            }
        };
        write(app, key, pending).await?;
        Ok(outcome)
    }

    /// Stores the authorization from a journal whose code was exchanged,
    /// closes the journal, and delivers `on_authorized`.
    async fn finish(&self, app: &Application, key: &str, mut pending: PendingExchange) -> Result<(), Error> {
        let Stage::Exchanged { corp_id, permanent_code, corp_name } = pending.stage.clone() else {
            return Ok(());
        };
        let mut authorization = Authorization::new(
            pending.suite_id.clone(),
            corp_id.clone(),
            permanent_code,
            UNIX_EPOCH + Duration::from_millis(pending.pushed_at),
        );
        if let Some(name) = corp_name {
            authorization = authorization.with_corp_name(name);
        }
        authorization.app_kind = app.config().suite(&pending.suite_id).map(|s| s.kind).unwrap_or_default();
        authorization.awaiting_on_authorized = true;
        let stored = app.save_authorization(&authorization).await?;
        pending.stage = Stage::Done { corp_id: corp_id.clone() };
        write(app, key, &pending).await?;
        self.settled.notify_waiters();
        if stored {
            let state = pending.state.clone();
            self.deliver_authorized(app, authorization, state).await;
        } else {
            // A newer authorization (or cancel) is stored: its own flow reports it.
            tracing::info!(suite = %pending.suite_id, corp = %corp_id, "a newer authorization or cancel is stored already");
        }
        Ok(())
    }

    /// Refreshes the authorization with `get_auth_info`, runs
    /// `on_authorized`, and marks it delivered; a failure leaves it marked
    /// for the next `resume()`.
    pub(crate) async fn deliver_authorized(
        &self,
        app: &Application,
        mut authorization: Authorization,
        state: Option<String>,
    ) {
        let auth_info = match refresh_from_auth_info(app, &mut authorization).await {
            Ok(info) => Some(info),
            Err(e) => {
                tracing::warn!(suite = %authorization.suite_id, corp = %authorization.corp_id, error = %e, "get_auth_info failed; on_authorized gets no auth info");
                None
            }
        };
        if let Some(hook) = self.hooks().authorized {
            let corp = AuthorizedCorp { authorization: authorization.clone(), auth_info, state };
            if let Err(e) = hook(corp).await {
                tracing::error!(suite = %authorization.suite_id, corp = %authorization.corp_id, error = %e, "on_authorized failed; it runs again with the next `resume()`");
                let _ = app.save_authorization(&authorization).await;
                return;
            }
        }
        authorization.awaiting_on_authorized = false;
        if let Err(e) = app.save_authorization(&authorization).await {
            tracing::error!(error = %e, "could not mark on_authorized as delivered; it may run again");
        }
    }

    async fn fail(
        &self,
        app: &Application,
        key: &str,
        mut pending: PendingExchange,
        reason: String,
    ) -> Result<(), Error> {
        tracing::error!(suite = %pending.suite_id, corp = ?pending.corp_id, reason = %reason, "an authorization could not be completed: {WHAT_TO_DO_WHEN_LOST}");
        pending.stage = Stage::Failed { reason: reason.clone() };
        write(app, key, &pending).await?;
        self.settled.notify_waiters();
        if let Some(hook) = self.hooks().failed {
            let failure = AuthorizationFailure {
                suite_id: pending.suite_id.clone(),
                corp_id: pending.corp_id.clone(),
                received_at: UNIX_EPOCH + Duration::from_millis(pending.received_at),
                reason,
                what_to_do: WHAT_TO_DO_WHEN_LOST,
            };
            if let Err(e) = hook(failure).await {
                tracing::error!(error = %e, "on_authorization_failed failed; the failure stays recorded in the store");
            }
        }
        Ok(())
    }

    /// `cancel_auth`: forgets the corp if the cancel is newer than its
    /// authorization, then runs `on_cancelled`.
    pub(crate) async fn cancel(
        &self,
        app: &Application,
        suite_id: SuiteId,
        corp_id: CorpId,
        cancelled_at: SystemTime,
    ) -> Result<(), Error> {
        if !app.forget_corp_cancelled_at(suite_id.clone(), corp_id.clone(), cancelled_at).await? {
            tracing::info!(suite = %suite_id, corp = %corp_id, "cancel_auth older than the stored authorization (or none stored): kept");
            return Ok(());
        }
        if let Some(hook) = self.hooks().cancelled {
            hook(CancelledCorp { suite_id, corp_id, cancelled_at })
                .await
                .map_err(|e| Error::InvalidRequest(format!("on_cancelled failed: {e}")))?;
        }
        Ok(())
    }

    /// `change_auth`: refreshes the stored authorization from WeCom and runs
    /// `on_changed`.
    pub(crate) async fn change(
        &self,
        app: &Application,
        suite_id: SuiteId,
        corp_id: CorpId,
    ) -> Result<(), Error> {
        let Some(mut authorization) = app.authorization_record(suite_id.clone(), corp_id.clone()).await?
        else {
            tracing::warn!(suite = %suite_id, corp = %corp_id, "change_auth for a corp with no stored authorization");
            return Ok(());
        };
        let auth_info = refresh_from_auth_info(app, &mut authorization).await?;
        app.save_authorization(&authorization).await?;
        if let Some(hook) = self.hooks().changed {
            hook(ChangedCorp { authorization, auth_info })
                .await
                .map_err(|e| Error::InvalidRequest(format!("on_changed failed: {e}")))?;
        }
        Ok(())
    }
}

/// The outcome of one attempt.
enum Attempt {
    Exchanged,
    Failed(String),
    Again,
    /// Another instance finished it.
    Settled,
}

/// Fills the corp name, agent and edition from `get_auth_info`.
async fn refresh_from_auth_info(
    app: &Application,
    authorization: &mut Authorization,
) -> Result<CorpAuthInfo, Error> {
    let request = GetAuthInfoRequest {
        auth_corpid: authorization.corp_id.to_string(),
        permanent_code: authorization.permanent_code.expose().to_owned(),
    };
    let info = app.suite(authorization.suite_id.clone()).get_auth_info(&request).await?;
    if let Some(name) = info.auth_corp_info.as_ref().and_then(|c| c.corp_name.clone()) {
        authorization.corp_name = Some(name);
    }
    if let Some(agent) = info.auth_info.as_ref().and_then(|a| a.agent.first()).and_then(|a| a.agentid) {
        authorization.agent_id = Some(agent);
    }
    let edition = info.edition_info.as_ref().and_then(|e| e.agent.first());
    if let Some(edition) = edition.and_then(|e| e.edition_name.clone().or_else(|| e.edition_id.clone())) {
        authorization.edition = Some(edition);
    }
    Ok(info)
}

async fn read(app: &Application, key: &str) -> Result<Option<PendingExchange>, Error> {
    let Some(record) = app.store().get_record(key).await? else { return Ok(None) };
    match parse_journal(&record.value) {
        Ok(pending) => Ok(Some(pending)),
        Err(e) => {
            tracing::error!(key, error = %e, "an unreadable exchange journal; left as it is");
            Ok(None)
        }
    }
}

fn parse_journal(text: &str) -> Result<PendingExchange, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_str(text)?;
    upgrade_journal(&mut value);
    serde_json::from_value(value)
}

async fn write(app: &Application, key: &str, pending: &PendingExchange) -> Result<(), Error> {
    let value = serde_json::to_string(pending)
        .map_err(|e| crate::store::store_error(&app.store().describe(), "put_record", e))?;
    app.store().put_record(key, &Record { value, version: pending.received_at }).await.map(|_| ())
}

/// Where one corp's authorization of one suite stands, as listed by
/// `wecom-openwork authorizations list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuthorizationStatus {
    /// The suite.
    pub suite_id: SuiteId,
    /// The corp; unknown for a `create_auth` not exchanged yet.
    pub corp_id: Option<CorpId>,
    /// `authorized`, `pending` (an auth code being exchanged) or `failed`
    /// (an auth code that could not be exchanged).
    pub status: &'static str,
    /// When it was authorized, or when WeCom pushed the auth code, in
    /// milliseconds since the Unix epoch.
    pub at: u64,
    /// Third-party app or 代开发.
    pub app_kind: crate::credentials::AppKind,
    /// The corp's name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corp_name: Option<String>,
    /// Why it failed, for `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Every authorization, pending exchange and failed exchange in the store.
pub(crate) async fn statuses(app: &Application) -> Result<Vec<AuthorizationStatus>, Error> {
    let mut all: Vec<AuthorizationStatus> = app
        .authorizations()
        .await?
        .into_iter()
        .map(|a| AuthorizationStatus {
            suite_id: a.suite_id,
            corp_id: Some(a.corp_id),
            status: "authorized",
            at: a.authorized_at,
            app_kind: a.app_kind,
            corp_name: a.corp_name,
            reason: None,
        })
        .collect();
    for key in app.store().record_keys(keys::PENDING_PREFIX).await? {
        let Some(pending) = read(app, &key).await? else { continue };
        let (status, reason, corp) = match pending.stage {
            Stage::Pending => ("pending", pending.last_error, pending.corp_id),
            Stage::Exchanged { corp_id, .. } => ("pending", None, Some(corp_id)),
            Stage::Failed { reason } => ("failed", Some(reason), pending.corp_id),
            Stage::Done { .. } => continue,
        };
        let app_kind = app.config().suite(&pending.suite_id).map(|s| s.kind).unwrap_or_default();
        all.push(AuthorizationStatus {
            suite_id: pending.suite_id,
            corp_id: corp,
            status,
            at: pending.received_at,
            app_kind,
            corp_name: None,
            reason,
        });
    }
    Ok(all)
}

/// Forgets the failed exchanges of `suite_id` for `corp_id` (after the ISV
/// dealt with them).
pub(crate) async fn forget_failures(
    app: &Application,
    suite_id: &SuiteId,
    corp_id: &CorpId,
) -> Result<usize, Error> {
    let mut forgotten = 0;
    for key in app.store().record_keys(&format!("{}{suite_id}:", keys::PENDING_PREFIX)).await? {
        let Some(pending) = read(app, &key).await? else { continue };
        if matches!(pending.stage, Stage::Failed { .. }) && pending.corp_id.as_ref() == Some(corp_id) {
            forgotten += usize::from(app.store().delete_record(&key, None).await?);
        }
    }
    Ok(forgotten)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(stage: Stage, corp_id: Option<&str>) -> PendingExchange {
        PendingExchange {
            suite_id: SuiteId::new("wwsuite"),
            auth_code: "code".into(),
            origin: Origin::ResetPermanentCode,
            corp_id: corp_id.map(CorpId::new),
            state: None,
            received_at: 1,
            pushed_at: 1,
            attempts: 1,
            uncertain: false,
            last_error: None,
            stage,
        }
    }

    /// Every stage reads back as written: an exchanged journal holds a
    /// permanent code that a restart must still find.
    #[test]
    fn every_stage_reads_back() {
        let corp = || CorpId::new("wwcorp");
        for (stage, push_corp) in [
            (Stage::Pending, Some("wwpushed")),
            (Stage::Exchanged { corp_id: corp(), permanent_code: "pc".into(), corp_name: None }, None),
            (
                Stage::Exchanged { corp_id: corp(), permanent_code: "pc".into(), corp_name: None },
                Some("wwpushed"),
            ),
            (Stage::Done { corp_id: corp() }, None),
            (Stage::Failed { reason: "r".into() }, Some("wwpushed")),
        ] {
            let written = journal(stage.clone(), push_corp);
            let text = serde_json::to_string(&written).expect("serializes");
            let read = parse_journal(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(read.stage == stage && read.corp_id == written.corp_id, "{text}");
        }
    }

    /// A journal written before the stage's corp had its own name carries
    /// `corp_id` twice; it still reads, with the stage's corp.
    #[test]
    fn an_older_journal_with_corp_id_twice_still_reads() {
        let text = r#"{"suite_id":"wwsuite","auth_code":"code","origin":"create_auth","corp_id":null,"state":null,"received_at":1,"pushed_at":1,"attempts":1,"uncertain":false,"last_error":null,"status":"exchanged","corp_id":"wwcorp","permanent_code":"pc","corp_name":null}"#;
        let read = parse_journal(text).expect("reads");
        assert!(
            matches!(read.stage, Stage::Exchanged { ref corp_id, ref permanent_code, .. } if corp_id.as_str() == "wwcorp" && permanent_code == "pc")
        );
    }
}
