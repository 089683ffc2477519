//! The callback server: WeCom's pushes to the provider's system-event URL and
//! to each suite's command and data URLs, verified, decrypted, decoded into
//! [`Event`]s and passed through middleware to handlers.
//!
//! ```no_run
//! # async fn run(app: wecom_openwork::Application) {
//! use wecom_openwork::events::ChangeContactCreateUser;
//! use wecom_openwork::server::{CallbackUrl, Reply};
//!
//! let server = app
//!     .server()
//!     .with(|callback, next| async move {
//!         tracing::info!(kind = callback.event.kind(), "callback");
//!         next.run(callback).await
//!     })
//!     .on::<ChangeContactCreateUser, _, _>(|user, callback| async move {
//!         // store the new member…
//!         Ok(Reply::Success)
//!     });
//! let response = server
//!     .serve(&CallbackUrl::Command("wwsuite".into()), "POST", "msg_signature=...&timestamp=...&nonce=...", b"<xml>...</xml>")
//!     .await;
//! # }
//! ```
//!
//! Built-in handlers (each replaceable with [`CallbackServer::on`]):
//! `suite_ticket` stores the ticket; `create_auth` and `reset_permanent_code`
//! acknowledge at once and exchange the auth code for the permanent code in
//! the background (awaited by [`CallbackServer::drain`]); `cancel_auth`
//! forgets the corp's token and permanent code.

#[cfg(feature = "axum")]
mod axum_adapter;
mod builtins;
mod chain;
pub mod events;
mod install;
mod lifecycle;
#[cfg(feature = "axum")]
mod listener;
mod message;
mod replay;

use builtins::{authorization_event, store_suite_ticket};
use chain::{boxed, Chain, MiddlewareFn};
pub use chain::{HandlerError, HandlerResult, Next};
pub use install::{InstallRedirect, Installed};
#[cfg(feature = "axum")]
pub use listener::{MetricsText, Stopped};
pub use message::{Callback, CallbackResponse, CallbackUrl, Reply};
pub use replay::{Admission, Claim, PushId, ReplayWindow, DEFAULT_MAX_REPLAY_ENTRIES};

pub use lifecycle::{
    AuthorizationFailure, AuthorizationStatus, AuthorizedCorp, CancelledCorp, ChangedCorp, HookError,
    AUTH_CODE_LIFETIME, WHAT_TO_DO_WHEN_LOST,
};

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::app::Application;
use crate::crypto::{reply_json, reply_xml, CryptoError, EnvelopeFormat, MsgCrypt};
use crate::events::{fields_of, Event, TypedEvent};
use crate::ids::{CorpId, SuiteId};

use lifecycle::{hook, Lifecycle};

/// Largest callback body accepted by default.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// How far a push's `timestamp` may be from now by default: WeCom retries a
/// push within seconds, so an older one is a replayed capture.
pub const DEFAULT_TIMESTAMP_WINDOW: Duration = Duration::from_secs(300);

/// How long a handled push is remembered by default, so WeCom's retries of
/// it (3, each after a 5 s timeout) are acknowledged without a second run.
pub const DEFAULT_REPLAY_WINDOW: Duration = Duration::from_secs(300);

/// The callback server of an [`Application`]; see the module docs. Cheap to
/// clone; clones share their background tasks and replay cache.
#[derive(Clone)]
pub struct CallbackServer {
    app: Application,
    /// Middleware and handlers, built once (not per push).
    chain: Arc<Chain>,
    /// Each URL's crypt, made once from the configuration.
    crypts: Arc<Crypts>,
    max_body: usize,
    timestamp_window: Option<Duration>,
    replay: Option<Arc<ReplayWindow>>,
    check_data_receive_id: bool,
    lifecycle: Arc<Lifecycle>,
}

impl fmt::Debug for CallbackServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackServer")
            .field("middleware", &self.chain.middleware.len())
            .field("handlers", &self.chain.handlers.keys().collect::<Vec<_>>())
            .field("max_body", &self.max_body)
            .field("timestamp_window", &self.timestamp_window)
            .finish_non_exhaustive()
    }
}

impl CallbackServer {
    pub(crate) fn new(app: Application) -> Self {
        let lifecycle = Lifecycle::of(&app);
        let crypts = Arc::new(Crypts::of(app.config()));
        let mut server = CallbackServer {
            app,
            chain: Arc::new(Chain { middleware: Vec::new(), handlers: BTreeMap::new() }),
            crypts,
            max_body: DEFAULT_MAX_BODY,
            timestamp_window: Some(DEFAULT_TIMESTAMP_WINDOW),
            replay: Some(Arc::new(ReplayWindow::new(DEFAULT_REPLAY_WINDOW, DEFAULT_MAX_REPLAY_ENTRIES))),
            check_data_receive_id: true,
            lifecycle: lifecycle.clone(),
        };
        let chain = Arc::make_mut(&mut server.chain);
        chain.handlers.insert("suite_ticket".into(), boxed(store_suite_ticket));
        for kind in ["create_auth", "reset_permanent_code", "cancel_auth", "change_auth"] {
            let lifecycle = lifecycle.clone();
            chain
                .handlers
                .insert(kind.into(), boxed(move |callback| authorization_event(callback, lifecycle.clone())));
        }
        server
    }

    /// Runs `hook` once the permanent code and the corp's authorization are
    /// stored (`create_auth`, `reset_permanent_code`, an install's
    /// redirect). It runs at least once: a crash before it finished, or its
    /// own error, makes the next sweep (see [`CallbackServer::resume`]) run
    /// it again.
    ///
    /// Hooks belong to the application: every server taken from it runs
    /// them, whichever finished the work. An authorization finished by a
    /// process with no hook set stays marked until a process with one
    /// sweeps.
    #[must_use]
    pub fn on_authorized<F, Fut>(self, hook_fn: F) -> Self
    where
        F: Fn(AuthorizedCorp) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HookError>> + Send + 'static,
    {
        self.lifecycle.set_hooks(|hooks| hooks.authorized = Some(hook(hook_fn)));
        self
    }

    /// Runs `hook` after `cancel_auth` forgot a corp (a cancel older than the
    /// stored authorization forgets nothing and runs nothing). It runs at
    /// least once: its failure fails the push, which WeCom retries, and a
    /// crash before it finished leaves the cancel marked for the next sweep.
    #[must_use]
    pub fn on_cancelled<F, Fut>(self, hook_fn: F) -> Self
    where
        F: Fn(CancelledCorp) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HookError>> + Send + 'static,
    {
        self.lifecycle.set_hooks(|hooks| hooks.cancelled = Some(hook(hook_fn)));
        self
    }

    /// Runs `hook` after `change_auth` refreshed the stored authorization
    /// from `get_auth_info`.
    #[must_use]
    pub fn on_changed<F, Fut>(self, hook_fn: F) -> Self
    where
        F: Fn(ChangedCorp) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HookError>> + Send + 'static,
    {
        self.lifecycle.set_hooks(|hooks| hooks.changed = Some(hook(hook_fn)));
        self
    }

    /// Runs `hook` when an auth code can no longer be exchanged (expired, or
    /// refused by WeCom). The failure is also kept in the store
    /// (`authorizations list` shows it as `failed`).
    #[must_use]
    pub fn on_authorization_failed<F, Fut>(self, hook_fn: F) -> Self
    where
        F: Fn(AuthorizationFailure) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HookError>> + Send + 'static,
    {
        self.lifecycle.set_hooks(|hooks| hooks.failed = Some(hook(hook_fn)));
        self
    }

    /// Resumes what any instance left unfinished: auth codes not yet
    /// exchanged (a lease makes one instance exchange each), and
    /// `on_authorized` / `on_cancelled` hooks not yet delivered (where this
    /// application has them). Call it at startup, after setting the hooks.
    /// It also starts the periodic sweep: every 30 s, whichever instance
    /// holds the sweep's lease resumes the exchanges nobody advanced for two
    /// minutes and the undelivered hooks, and drops journals past their
    /// keeping time (a day once done; 30 days, and 1000 per suite, once
    /// failed). Returns how much it resumed now; [`CallbackServer::drain`]
    /// awaits it.
    pub async fn resume(&self) -> Result<usize, crate::Error> {
        self.lifecycle.resume(&self.app).await
    }

    /// Adds middleware: `|callback, next| async move { next.run(callback).await }`.
    /// The first added runs first (outermost); handlers run last.
    #[must_use]
    pub fn with<F, Fut>(mut self, middleware: F) -> Self
    where
        F: Fn(Callback, Next) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        let middleware: Arc<MiddlewareFn> =
            Arc::new(move |callback, next| Box::pin(middleware(callback, next)));
        Arc::make_mut(&mut self.chain).middleware.push(middleware);
        self
    }

    /// Sets the handler of one kind of event, given the typed event:
    /// `server.on::<events::ChangeContactCreateUser, _, _>(|user, callback| async move { … })`.
    /// It replaces the built-in handler of that kind, if there is one
    /// (`suite_ticket`, `create_auth`, `reset_permanent_code`, `cancel_auth`,
    /// `change_auth`). A push of that kind that did not decode
    /// is acknowledged, and middleware still sees it raw.
    #[must_use]
    pub fn on<E, F, Fut>(self, handler: F) -> Self
    where
        E: TypedEvent,
        F: Fn(E, Callback) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.on_kind(E::KIND, move |callback: Callback| {
            let handler = handler.clone();
            async move {
                match E::from_event(&callback.event).cloned() {
                    Some(event) => handler(event, callback).await,
                    None => Ok(Reply::Success),
                }
            }
        })
    }

    /// Sets the handler of a kind named by its string (see [`Event::kind`]),
    /// for kinds the specs do not list yet (`unknown`, or a kind WeCom added):
    /// the handler gets the raw [`Callback`].
    #[must_use]
    pub fn on_kind<F, Fut>(mut self, kind: &str, handler: F) -> Self
    where
        F: Fn(Callback) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        Arc::make_mut(&mut self.chain).handlers.insert(kind.to_owned(), boxed(handler));
        self
    }

    /// Largest body accepted (default 1 MiB); larger ones get HTTP 413.
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Refuse pushes whose `timestamp` is further than `window` from now
    /// (default [`DEFAULT_TIMESTAMP_WINDOW`], 5 minutes; `None` turns the
    /// check off). URL verification (GET) is not checked: it changes nothing.
    #[must_use]
    pub fn timestamp_window(mut self, window: impl Into<Option<Duration>>) -> Self {
        self.timestamp_window = window.into();
        self
    }

    /// Acknowledge, without handling again, a push already handled within
    /// `window`, recognised by its [`PushId`] (the URL, the receive id and
    /// the decrypted message). A push is remembered only once it was
    /// handled, so WeCom's retry of a push whose handler failed is handled.
    /// Default [`DEFAULT_REPLAY_WINDOW`], holding at most
    /// [`DEFAULT_MAX_REPLAY_ENTRIES`]; `None` turns it off.
    #[must_use]
    pub fn replay_cache(mut self, window: impl Into<Option<Duration>>) -> Self {
        self.replay = window.into().map(|w| Arc::new(ReplayWindow::new(w, DEFAULT_MAX_REPLAY_ENTRIES)));
        self
    }

    /// Whether a data callback must be for a corp that authorized the suite
    /// (a stored permanent code) or the provider itself. On by default;
    /// turning it off still verifies the signature and the decryption.
    #[must_use]
    pub fn check_data_receive_id(mut self, check: bool) -> Self {
        self.check_data_receive_id = check;
        self
    }

    /// Waits for the background work callbacks started (permanent-code
    /// exchanges, hooks). See [`CallbackServer::shutdown`] for a bounded wait.
    pub async fn drain(&self) {
        self.lifecycle.background.drain().await;
    }

    /// Waits at most `limit` for the background work, then stops what is
    /// left, and the periodic sweep. What was stopped is in the store and
    /// resumes with the next sweep on any instance (or `resume()` at the
    /// next start). Returns whether everything finished within `limit`.
    pub async fn shutdown(&self, limit: Duration) -> bool {
        self.lifecycle.shutdown(limit).await
    }

    /// The crypt of a URL and the receive ids it accepts without a lookup.
    fn crypt_for(&self, url: &CallbackUrl) -> Result<&MsgCrypt, Refusal> {
        let made = match url {
            CallbackUrl::System => &self.crypts.system,
            CallbackUrl::Command(suite_id) | CallbackUrl::Data(suite_id) => {
                self.crypts.suites.get(suite_id).ok_or(Refusal::Http(404, "unknown suite"))?
            }
        };
        made.as_ref().map_err(|_| Refusal::Http(500, "misconfigured callback key"))
    }

    /// Whether `receive_id` may send to `url`; the store's error when it
    /// could not be told (a data push for a corp needs the store).
    async fn receive_id_allowed(
        &self,
        url: &CallbackUrl,
        receive_id: &str,
        verify: bool,
    ) -> Result<bool, crate::Error> {
        let provider = self.app.config().corp_id.as_str();
        if receive_id == provider {
            return Ok(true);
        }
        Ok(match url {
            CallbackUrl::System => false,
            CallbackUrl::Command(suite) => receive_id == suite.as_str(),
            CallbackUrl::Data(suite) if verify => receive_id == suite.as_str(),
            CallbackUrl::Data(suite) => {
                !self.check_data_receive_id
                    || self.app.tokens().permanent_code(suite, &CorpId::new(receive_id)).await?.is_some()
            }
        })
    }

    /// Handles one request: `method` (`GET` to verify the URL, `POST` for a
    /// push), the raw query string and the body. Every request is counted
    /// (see [`crate::metrics`]); a refused one is logged at WARN with why
    /// and which URL, never its body.
    pub async fn serve(&self, url: &CallbackUrl, method: &str, query: &str, body: &[u8]) -> CallbackResponse {
        let started = std::time::Instant::now();
        let (response, kind, outcome) = match self.answer(url, method, query, body).await {
            Ok(handled) => handled,
            Err(refusal) => {
                let (response, outcome) = refusal.answer(url);
                (response, "unknown", outcome)
            }
        };
        crate::metrics::push(url.kind(), kind, outcome, started.elapsed());
        response
    }

    /// [`CallbackServer::serve`]'s work: the answer, the event's kind and the
    /// outcome; or why the request was refused.
    async fn answer(
        &self,
        url: &CallbackUrl,
        method: &str,
        query: &str,
        body: &[u8],
    ) -> Result<(CallbackResponse, &'static str, &'static str), Refusal> {
        if body.len() > self.max_body {
            return Err(Refusal::Http(413, "body too large"));
        }
        let params = crate::urls::parse_query(query);
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let (Some(signature), Some(timestamp), Some(nonce)) =
            (param("msg_signature"), param("timestamp"), param("nonce"))
        else {
            return Err(Refusal::Http(400, "msg_signature, timestamp and nonce are required"));
        };
        if let (Some(window), "POST") = (self.timestamp_window, method) {
            let now = self.app.clock().now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            let fresh = timestamp.parse::<u64>().is_ok_and(|ts| now.abs_diff(ts) <= window.as_secs());
            if !fresh {
                return Err(Refusal::Http(403, "timestamp outside the accepted window"));
            }
        }
        let crypt = self.crypt_for(url)?;
        match method {
            "GET" => {
                let echostr = param("echostr").ok_or(Refusal::Http(400, "echostr is required"))?;
                let opened = crypt.open_any(signature, timestamp, nonce, echostr).map_err(Refusal::Crypto)?;
                match self.receive_id_allowed(url, &opened.receive_id, true).await {
                    Ok(true) => Ok((CallbackResponse::text(200, opened.message), "verify_url", "verified")),
                    Ok(false) => {
                        Err(Refusal::Crypto(CryptoError::ValidateReceiveId { got: opened.receive_id }))
                    }
                    Err(e) => Err(Refusal::Store(e)),
                }
            }
            "POST" => self.push(url, crypt, signature, timestamp, nonce, body).await,
            _ => Err(Refusal::Http(405, "GET or POST")),
        }
    }

    async fn push(
        &self,
        url: &CallbackUrl,
        crypt: &MsgCrypt,
        signature: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
    ) -> Result<(CallbackResponse, &'static str, &'static str), Refusal> {
        // The signature is checked before the body is read past its ciphertext.
        let envelope = crypt.open_body_any(signature, timestamp, nonce, body).map_err(Refusal::Crypto)?;
        let opened = envelope.opened;
        match self.receive_id_allowed(url, &opened.receive_id, false).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(Refusal::Crypto(CryptoError::ValidateReceiveId { got: opened.receive_id }))
            }
            Err(e) => return Err(Refusal::Store(e)),
        }
        let fields = fields_of(&opened.message).map_err(Refusal::Crypto)?;
        let event = Event::from_field_map(&fields);
        let kind = event.kind();
        let id = PushId::of(url, &opened.receive_id, &opened.message);
        let claim = match &self.replay {
            Some(replay) => match replay.begin(id, self.app.clock().now()).await {
                Admission::Handled => {
                    tracing::debug!(kind, url = ?url, "a push handled already (WeCom's retry, or a replay) acknowledged without handling it again");
                    crate::metrics::replay_hit(url.kind());
                    return Ok((CallbackResponse::text(200, "success"), kind, "replayed"));
                }
                Admission::Run(claim) => Some(claim),
            },
            None => None,
        };
        let callback = Callback {
            event,
            fields,
            url: url.clone(),
            receive_id: opened.receive_id.clone(),
            message: opened.message,
            app: self.app.clone(),
        };
        let next = Next { chain: self.chain.clone(), index: 0 };
        let result = next.run(callback).await;
        if let (Some(claim), Ok(_)) = (claim, &result) {
            claim.done(self.app.clock().now());
        }
        match result {
            Ok(Reply::Success) => Ok((CallbackResponse::text(200, "success"), kind, "success")),
            Ok(Reply::Message(message)) => {
                let reply_crypt = crypt.clone().with_receive_id(&opened.receive_id);
                let sealed = reply_crypt.encrypt(&message, timestamp, nonce).map_err(Refusal::Crypto)?;
                let response = match envelope.format {
                    EnvelopeFormat::Xml => CallbackResponse {
                        status: 200,
                        content_type: "application/xml; charset=utf-8",
                        body: reply_xml(&sealed, timestamp, nonce),
                    },
                    EnvelopeFormat::Json => CallbackResponse {
                        status: 200,
                        content_type: "application/json; charset=utf-8",
                        body: reply_json(&sealed, timestamp, nonce),
                    },
                };
                Ok((response, kind, "reply"))
            }
            Err(e) => {
                tracing::error!(kind, url = ?url, error = %e, "callback handler failed; WeCom will retry");
                Ok((CallbackResponse::text(500, "handler failed"), kind, "handler_failed"))
            }
        }
    }
}

/// Each callback URL's crypt, made from the configuration once.
struct Crypts {
    system: Result<MsgCrypt, CryptoError>,
    suites: std::collections::HashMap<SuiteId, Result<MsgCrypt, CryptoError>>,
}

impl Crypts {
    fn of(config: &crate::Config) -> Crypts {
        let provider = config.corp_id.as_str();
        let system = MsgCrypt::new(config.token.expose(), config.aes_key.expose(), provider);
        let suites = config
            .suites
            .iter()
            .map(|suite| {
                let crypt =
                    MsgCrypt::new(suite.token.expose(), suite.aes_key.expose(), suite.suite_id.as_str())
                        .map(|c| c.allow_receive_ids([provider]));
                (suite.suite_id.clone(), crypt)
            })
            .collect();
        Crypts { system, suites }
    }
}

/// Why a request was not handled.
enum Refusal {
    /// An HTTP answer of ours: status and reason.
    Http(u16, &'static str),
    /// WeCom's crypto rules (signature, decryption, receive id, parsing).
    Crypto(CryptoError),
    /// The store could not tell whether the push may be taken.
    Store(crate::Error),
}

impl Refusal {
    /// The answer, logged (never the body), and the outcome to count.
    fn answer(self, url: &CallbackUrl) -> (CallbackResponse, &'static str) {
        match self {
            Refusal::Http(status, reason) => {
                tracing::warn!(status, reason, url = ?url, "callback refused");
                let outcome = match status {
                    403 => "refused_timestamp",
                    404 => "refused_unknown_suite",
                    413 => "refused_too_large",
                    500 => "misconfigured",
                    _ => "refused_request",
                };
                (CallbackResponse::text(status, reason), outcome)
            }
            Refusal::Crypto(error) => {
                tracing::warn!(code = error.code(), error = %error, url = ?url, "callback refused");
                let outcome = match error {
                    CryptoError::ValidateSignature => "refused_signature",
                    CryptoError::ValidateReceiveId { .. } => "refused_receive_id",
                    _ => "refused_crypto",
                };
                (CallbackResponse::text(400, error.code().to_string()), outcome)
            }
            // A 503, so WeCom retries it: never a refusal it would not retry.
            Refusal::Store(error) => {
                tracing::error!(error = %error, url = ?url, "the store failed while checking a push; answered 503 so that WeCom retries");
                (CallbackResponse::text(503, "store unavailable"), "store_unavailable")
            }
        }
    }
}

impl Application {
    /// Every authorization in the store with where it stands: `authorized`,
    /// `pending` (an auth code being exchanged) or `failed`. Secrets are not
    /// in it.
    pub async fn authorization_statuses(&self) -> Result<Vec<AuthorizationStatus>, crate::Error> {
        lifecycle::statuses(self).await
    }

    /// Forgets a corp: its authorization, its token, and its failed
    /// exchanges. Returns whether anything was there.
    pub async fn forget_authorization(
        &self,
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
    ) -> Result<bool, crate::Error> {
        let (suite_id, corp_id) = (suite_id.into(), corp_id.into());
        let failures = lifecycle::forget_failures(self, &suite_id, Some(&corp_id)).await?;
        Ok(self.tokens().forget_corp(&suite_id, &corp_id, None).await? || failures > 0)
    }

    /// Forgets every failed exchange of a suite, also those whose corp was
    /// never known (a `create_auth` that could not be exchanged, a forged
    /// redirect). Returns how many went.
    pub async fn forget_failed_exchanges(&self, suite_id: impl Into<SuiteId>) -> Result<usize, crate::Error> {
        lifecycle::forget_failures(self, &suite_id.into(), None).await
    }

    /// The callback server, with the built-in handlers.
    pub fn server(&self) -> CallbackServer {
        CallbackServer::new(self.clone())
    }
}
