//! The life of an authorization, so that none is ever lost: an auth code is
//! written to the store before `success` is answered, exchanged with
//! back-off until it works or its ten minutes run out (store failures are
//! retried too, and a permanent code in hand is kept until it is stored),
//! resumed by whichever instance sweeps, and reported through typed hooks
//! that run at least once.
//!
//! The journal of one exchange goes `pending` → (the permanent code written
//! into it) `exchanged` → (the authorization stored) `done`, or `failed`
//! with the reason ([`journal`]). Authorizations and cancels share one
//! version space ([`versions`]): a cancel removes what is older than it,
//! whatever order the pushes arrive in.
//!
//! The hooks and the background work belong to the [`Application`]: every
//! server taken from it shares them, so a hook set on one runs for work
//! another finished. Where no hook is set, the work stays marked for a
//! server that has one.

mod exchange;
pub(crate) mod journal;
mod sweep;
mod versions;

use std::any::Any;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::api::authorization::types::{CorpAuthInfo, GetAuthInfoRequest};
use crate::app::Application;
use crate::credentials::{Authorization, Stored, Versioned};
use crate::error::Error;
use crate::future::BoxFuture;
use crate::ids::{CorpId, SuiteId};
use crate::store::keys;
use crate::tasks::Background;

pub(crate) use journal::Origin;
use journal::Stage;
use versions::arrival_version;

/// How long WeCom accepts an auth code after the push.
pub const AUTH_CODE_LIFETIME: Duration = Duration::from_secs(600);

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

/// An auth code as a push (or the install page's redirect) brought it.
pub(crate) struct ArrivedCode<'a> {
    pub(crate) suite_id: SuiteId,
    pub(crate) auth_code: &'a str,
    pub(crate) origin: Origin,
    /// The corp, when the push names it.
    pub(crate) corp_id: Option<CorpId>,
    /// The install link's `State`.
    pub(crate) state: Option<String>,
    /// The push's `TimeStamp`; `None` for the redirect, which has none.
    pub(crate) pushed_at: Option<SystemTime>,
}

/// The hooks and background work of one application's callback servers.
pub(crate) struct Lifecycle {
    pub(crate) hooks: RwLock<Hooks>,
    pub(crate) background: Arc<Background>,
    /// What this process is working on (journal keys, deliveries), so that
    /// a sweep does not start it twice here.
    running: Mutex<HashSet<String>>,
    /// Woken whenever a journal in this process is done or failed, for
    /// [`Lifecycle::wait_settled`].
    settled: tokio::sync::Notify,
    /// The periodic sweep, once started.
    sweeper: Mutex<Option<tokio::task::JoinHandle<()>>>,
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

/// Marks a piece of work as running in this process until dropped (also
/// when its task is aborted).
pub(crate) struct Running {
    lifecycle: Arc<Lifecycle>,
    key: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.lifecycle.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.key);
    }
}

impl Lifecycle {
    fn new() -> Lifecycle {
        Lifecycle {
            hooks: RwLock::default(),
            background: Arc::new(Background::default()),
            running: Mutex::default(),
            settled: tokio::sync::Notify::new(),
            sweeper: Mutex::default(),
        }
    }

    /// The lifecycle of `app`, shared by every server taken from it.
    pub(crate) fn of(app: &Application) -> Arc<Lifecycle> {
        let slot =
            app.callback_state().get_or_init(|| Arc::new(Lifecycle::new()) as Arc<dyn Any + Send + Sync>);
        slot.clone().downcast::<Lifecycle>().unwrap_or_else(|_| Arc::new(Lifecycle::new()))
    }

    pub(crate) fn hooks(&self) -> Hooks {
        self.hooks.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Sets hooks (under the write lock).
    pub(crate) fn set_hooks(&self, set: impl FnOnce(&mut Hooks)) {
        set(&mut self.hooks.write().unwrap_or_else(PoisonError::into_inner));
    }

    /// Claims `key` as running here; `None` if it already is.
    fn claim(self: &Arc<Self>, key: String) -> Option<Running> {
        let fresh = self.running.lock().unwrap_or_else(PoisonError::into_inner).insert(key.clone());
        fresh.then(|| Running { lifecycle: self.clone(), key })
    }

    /// Runs `work` in the background as `key`, unless it already runs here.
    /// Returns whether it was started.
    fn spawn_once(
        self: &Arc<Self>,
        key: String,
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> bool {
        let Some(running) = self.claim(key) else { return false };
        self.background.spawn(async move {
            work.await;
            drop(running);
        });
        true
    }

    /// Drives journal `key` to its end in the background (unless it is
    /// being driven here already). Returns whether it was started.
    pub(crate) fn start(self: &Arc<Self>, app: &Application, key: String) -> bool {
        let (lifecycle, app, journal) = (self.clone(), app.clone(), key.clone());
        self.spawn_once(format!("journal:{key}"), async move { lifecycle.run(&app, &journal).await })
    }

    /// Writes an auth code's journal (unless one exists) and starts its
    /// exchange. Returns once the code is durable. A push for a journal that
    /// its redirect started gives the authorization its version.
    pub(crate) async fn accept(
        self: &Arc<Self>,
        app: &Application,
        code: ArrivedCode<'_>,
    ) -> Result<String, Error> {
        let key = journal::key(&code.suite_id, code.auth_code);
        let version = match code.pushed_at {
            Some(at) => Some(arrival_version(app, &code.suite_id, at).await?),
            None => None,
        };
        let now = crate::clock::unix_ms(app.clock().now());
        let pending = journal::PendingExchange {
            suite_id: code.suite_id.clone(),
            auth_code: code.auth_code.to_owned(),
            origin: code.origin,
            corp_id: code.corp_id,
            state: code.state,
            received_at: now,
            updated_at: now,
            version,
            attempts: 0,
            uncertain: false,
            last_error: None,
            stage: Stage::Pending,
        };
        // Journaled already (WeCom's retry, the redirect and the push
        // racing): its exchange runs; a push still owes it its version.
        if !journal::create(app, &key, &pending).await? {
            if let Some(version) = version {
                self.confirm(app, &key, version).await?;
            }
        }
        self.start(app, key.clone());
        Ok(key)
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
            match journal::read(app, key).await?.map(|e| (e.pending.suite_id, e.pending.stage)) {
                Some((suite_id, Stage::Done { corp_id, .. })) => {
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

    /// `cancel_auth`: the corp is forgotten if the cancel is newer than what
    /// is stored, and `on_cancelled` runs until it succeeds: its failure
    /// fails the push (WeCom retries it), and a crash before it leaves the
    /// cancel marked for the next sweep.
    pub(crate) async fn cancel(
        self: &Arc<Self>,
        app: &Application,
        suite_id: SuiteId,
        corp_id: CorpId,
        cancelled_at: SystemTime,
    ) -> Result<(), Error> {
        let version = arrival_version(app, &suite_id, cancelled_at).await?;
        let tokens = app.tokens();
        for _ in 0..CONTENDED_TRIES {
            let current = tokens.stored_authorization(&suite_id, &corp_id).await?;
            let awaiting = match &current {
                Some(Versioned { value: Stored::Authorized(_), version: v }) if *v >= version => {
                    tracing::info!(suite = %suite_id, corp = %corp_id, "cancel_auth older than the stored authorization: kept");
                    return Ok(());
                }
                Some(Versioned { value: Stored::Cancelled(c), version: v }) if *v >= version => {
                    if c.awaiting_on_cancelled {
                        self.deliver_cancelled(
                            app,
                            &suite_id,
                            &corp_id,
                            Versioned { value: c.clone(), version: *v },
                        )
                        .await?;
                    }
                    return Ok(());
                }
                Some(Versioned { value: Stored::Authorized(_), .. }) => true,
                Some(Versioned { value: Stored::Cancelled(c), .. }) => c.awaiting_on_cancelled,
                None => false,
            };
            let cancellation = crate::credentials::Cancellation {
                cancelled_at: crate::clock::unix_ms(cancelled_at),
                awaiting_on_cancelled: awaiting,
            };
            let tombstone = Stored::Cancelled(cancellation.clone());
            let expected = current.as_ref().map(|c| c.version);
            if tokens.replace_authorization(&suite_id, &corp_id, expected, &tombstone, version).await? {
                tracing::info!(suite = %suite_id, corp = %corp_id, "the corp cancelled its authorization");
                if awaiting {
                    self.deliver_cancelled(
                        app,
                        &suite_id,
                        &corp_id,
                        Versioned { value: cancellation, version },
                    )
                    .await?;
                }
                return Ok(());
            }
        }
        Err(contended(app, "cancel_auth"))
    }

    /// Runs `on_cancelled` for a cancel marked for it, then unmarks it. With
    /// no hook set here, it stays marked for a server that has one.
    pub(crate) async fn deliver_cancelled(
        &self,
        app: &Application,
        suite_id: &SuiteId,
        corp_id: &CorpId,
        cancel: Versioned<crate::credentials::Cancellation>,
    ) -> Result<(), Error> {
        let Some(hook) = self.hooks().cancelled else { return Ok(()) };
        let cancelled_at = UNIX_EPOCH + Duration::from_millis(cancel.value.cancelled_at);
        hook(CancelledCorp { suite_id: suite_id.clone(), corp_id: corp_id.clone(), cancelled_at })
            .await
            .map_err(|e| Error::InvalidRequest(format!("on_cancelled failed: {e}")))?;
        let delivered = crate::credentials::Cancellation { awaiting_on_cancelled: false, ..cancel.value };
        let tokens = app.tokens();
        // Only this very cancel is unmarked: anything written since wins.
        let tombstone = Stored::Cancelled(delivered);
        tokens
            .replace_authorization(suite_id, corp_id, Some(cancel.version), &tombstone, cancel.version)
            .await?;
        Ok(())
    }

    /// Refreshes the authorization with `get_auth_info`, runs
    /// `on_authorized`, and unmarks it. With no hook set here it stays
    /// marked for a server that has one; a failure leaves it marked for the
    /// next sweep.
    pub(crate) async fn deliver_authorized(
        &self,
        app: &Application,
        stored: Versioned<Authorization>,
        state: Option<String>,
    ) {
        let Some(hook) = self.hooks().authorized else { return };
        let Versioned { value: mut authorization, version } = stored;
        let auth_info = match refresh_from_auth_info(app, &mut authorization).await {
            Ok(info) => Some(info),
            Err(e) => {
                tracing::warn!(suite = %authorization.suite_id, corp = %authorization.corp_id, error = %e, "get_auth_info failed; on_authorized gets no auth info");
                None
            }
        };
        // The refresh may have taken long (a rate-limit pause): the hook runs
        // only for what is still stored, not for a code a cancel or a reset
        // replaced meanwhile (its own flow reports that).
        let still = app.tokens().stored_authorization(&authorization.suite_id, &authorization.corp_id).await;
        match still {
            Ok(Some(Versioned { value: Stored::Authorized(current), version: v }))
                if v == version && current.permanent_code == authorization.permanent_code => {}
            Ok(_) => {
                tracing::info!(suite = %authorization.suite_id, corp = %authorization.corp_id, "the authorization was replaced before on_authorized ran; its successor reports it");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not check the authorization before on_authorized; it runs with the next sweep");
                return;
            }
        }
        let corp = AuthorizedCorp { authorization: authorization.clone(), auth_info, state };
        if let Err(e) = hook(corp).await {
            tracing::error!(suite = %authorization.suite_id, corp = %authorization.corp_id, error = %e, "on_authorized failed; it runs again with the next sweep");
            return;
        }
        authorization.awaiting_on_authorized = false;
        let (suite_id, corp_id) = (authorization.suite_id.clone(), authorization.corp_id.clone());
        let value = Stored::Authorized(authorization);
        match app.tokens().replace_authorization(&suite_id, &corp_id, Some(version), &value, version).await {
            Ok(true) => {}
            // Replaced meanwhile: the newer record's own flow reports it.
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "could not mark on_authorized as delivered; it may run again")
            }
        }
    }

    /// Starts delivering `on_authorized` in the background, once here.
    pub(crate) fn start_delivery(
        self: &Arc<Self>,
        app: &Application,
        stored: Versioned<Authorization>,
        state: Option<String>,
    ) -> bool {
        let key = format!("authorized:{}:{}:{}", stored.value.suite_id, stored.value.corp_id, stored.version);
        let (lifecycle, app) = (self.clone(), app.clone());
        self.spawn_once(key, async move { lifecycle.deliver_authorized(&app, stored, state).await })
    }

    /// `change_auth`: refreshes the stored authorization from WeCom and runs
    /// `on_changed`.
    pub(crate) async fn change(
        &self,
        app: &Application,
        suite_id: SuiteId,
        corp_id: CorpId,
    ) -> Result<(), Error> {
        let tokens = app.tokens();
        let Some(Versioned { value: Stored::Authorized(mut authorization), version }) =
            tokens.stored_authorization(&suite_id, &corp_id).await?
        else {
            tracing::warn!(suite = %suite_id, corp = %corp_id, "change_auth for a corp with no stored authorization");
            return Ok(());
        };
        let auth_info = refresh_from_auth_info(app, &mut authorization).await?;
        let value = Stored::Authorized(authorization.clone());
        if !tokens.replace_authorization(&suite_id, &corp_id, Some(version), &value, version).await? {
            tracing::info!(suite = %suite_id, corp = %corp_id, "the authorization changed while change_auth refreshed it; the newer one stays");
            return Ok(());
        }
        if let Some(hook) = self.hooks().changed {
            hook(ChangedCorp { authorization, auth_info })
                .await
                .map_err(|e| Error::InvalidRequest(format!("on_changed failed: {e}")))?;
        }
        Ok(())
    }

    /// Waits at most `limit` for the background work, then stops what is
    /// left (it resumes from the store with the next sweep, on any
    /// instance), and the periodic sweep. Returns whether everything ended
    /// within the limit.
    pub(crate) async fn shutdown(&self, limit: Duration) -> bool {
        if let Some(sweeper) = self.sweeper.lock().unwrap_or_else(PoisonError::into_inner).take() {
            sweeper.abort();
        }
        let finished = tokio::time::timeout(limit, self.background.drain()).await.is_ok();
        if !finished {
            self.background.abort_all();
        }
        finished
    }
}

/// How often a compare-and-set that keeps losing is tried again.
const CONTENDED_TRIES: usize = 16;

fn contended(app: &Application, operation: &'static str) -> Error {
    crate::store::store_error(
        &app.store().describe(),
        operation,
        "the record kept changing; WeCom will retry",
    )
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
    let info = app.suite(authorization.suite_id.clone()).get_auth_info_with(request).await?;
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
    pub app_kind: crate::ids::AppKind,
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
        let Some(entry) = journal::read(app, &key).await? else { continue };
        let pending = entry.pending;
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

/// Forgets the failed exchanges of `suite_id`: those of `corp_id`, or every
/// one (also those whose corp was never known) when `corp_id` is `None`.
pub(crate) async fn forget_failures(
    app: &Application,
    suite_id: &SuiteId,
    corp_id: Option<&CorpId>,
) -> Result<usize, Error> {
    let mut forgotten = 0;
    for key in app.store().record_keys(&format!("{}{suite_id}:", keys::PENDING_PREFIX)).await? {
        let Some(entry) = journal::read(app, &key).await? else { continue };
        let ours = corp_id.is_none_or(|c| entry.pending.corp_id.as_ref() == Some(c));
        if matches!(entry.pending.stage, Stage::Failed { .. }) && ours {
            forgotten +=
                usize::from(app.store().delete_record(&key, Some(entry.version.saturating_add(1))).await?);
        }
    }
    Ok(forgotten)
}
