//! The callback server: WeCom's pushes to the provider's system-event URL and
//! to each suite's command and data URLs, verified, decrypted, decoded into
//! [`Event`]s and passed through middleware to handlers.
//!
//! ```no_run
//! # async fn run(app: wecom_openwork::Application) {
//! use wecom_openwork::server::{CallbackUrl, Reply};
//!
//! let server = app
//!     .server()
//!     .with(|callback, next| async move {
//!         tracing::info!(kind = callback.event.kind(), "callback");
//!         next.run(callback).await
//!     })
//!     .on("change_contact.create_user", |callback| async move {
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
pub mod events;
mod lifecycle;
mod replay;

pub use lifecycle::{
    AuthorizationFailure, AuthorizationStatus, AuthorizedCorp, CancelledCorp, ChangedCorp, HookError,
    AUTH_CODE_LIFETIME, WHAT_TO_DO_WHEN_LOST,
};

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::app::Application;
use crate::crypto::{parse_envelope, reply_json, reply_xml, CryptoError, EnvelopeFormat, MsgCrypt};
use crate::events::{fields_of, Event};
use crate::future::BoxFuture;
use crate::ids::{CorpId, SuiteId};

use lifecycle::{hook, ArrivedCode, Lifecycle, Origin};
use replay::ReplayCache;

/// Largest callback body accepted by default.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// How far a push's `timestamp` may be from now by default: WeCom retries a
/// push within seconds, so an older one is a replayed capture.
pub const DEFAULT_TIMESTAMP_WINDOW: Duration = Duration::from_secs(300);

/// How long a handled push is remembered by default, so WeCom's retries of
/// it (3, each after a 5 s timeout) are acknowledged without a second run.
pub const DEFAULT_REPLAY_WINDOW: Duration = Duration::from_secs(300);

/// Which callback URL a request came to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallbackUrl {
    /// The provider's system-event URL (系统事件接收URL): receive id = the
    /// provider's corp id.
    System,
    /// A suite's command URL (指令回调URL): receive id = the suite id.
    Command(SuiteId),
    /// A suite's data URL (数据回调URL): receive id = the authorizing corp.
    Data(SuiteId),
}

impl CallbackUrl {
    fn suite(&self) -> Option<&SuiteId> {
        match self {
            CallbackUrl::System => None,
            CallbackUrl::Command(s) | CallbackUrl::Data(s) => Some(s),
        }
    }
}

/// A verified, decrypted callback, as middleware and handlers see it. Its
/// `Debug` shows the kind, the URL and the field names with their values,
/// except those that carry a secret (tickets, auth codes), and never the
/// decrypted message.
#[derive(Clone)]
pub struct Callback {
    /// The decoded event.
    pub event: Event,
    /// Every element of the message (text trimmed), for fields the event
    /// type does not (yet) declare.
    pub fields: Map<String, Value>,
    /// The URL it came to.
    pub url: CallbackUrl,
    /// The receive id it was encrypted for.
    pub receive_id: String,
    /// The decrypted message, as sent.
    pub message: String,
    /// The application, for handlers that call WeCom or the store.
    pub app: Application,
}

/// Fields whose values are credentials: never printed.
fn is_secret_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["ticket", "authcode", "code", "secret", "token", "password", "encrypt"].iter().any(|s| lower.contains(s))
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: BTreeMap<&str, &dyn fmt::Debug> = self
            .fields
            .iter()
            .map(|(name, value)| {
                let shown: &dyn fmt::Debug = if is_secret_field(name) { &"<redacted>" } else { value };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("Callback")
            .field("kind", &self.event.kind())
            .field("url", &self.url)
            .field("receive_id", &self.receive_id)
            .field("fields", &fields)
            .finish_non_exhaustive()
    }
}

impl Callback {
    /// The text of element `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str).map(str::trim)
    }
}

/// What to answer WeCom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The bare word `success` (command callbacks must get exactly this).
    Success,
    /// A passive reply message (data callbacks), sent encrypted.
    Message(String),
}

/// A handler's failure: the server answers HTTP 500 so WeCom retries later.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;
/// What middleware and handlers return.
pub type HandlerResult = Result<Reply, HandlerError>;

type HandlerFn = dyn Fn(Callback) -> BoxFuture<'static, HandlerResult> + Send + Sync;
type MiddlewareFn = dyn Fn(Callback, Next) -> BoxFuture<'static, HandlerResult> + Send + Sync;

/// The rest of the chain, handed to middleware.
pub struct Next {
    chain: Arc<Chain>,
    index: usize,
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").field("index", &self.index).finish()
    }
}

struct Chain {
    middleware: Vec<Arc<MiddlewareFn>>,
    handlers: BTreeMap<String, Arc<HandlerFn>>,
}

impl Next {
    /// Passes the callback on: to the next middleware, or to the handler of
    /// its kind (plain `success` when there is none).
    pub async fn run(self, callback: Callback) -> HandlerResult {
        match self.chain.middleware.get(self.index) {
            Some(middleware) => {
                let next = Next { chain: self.chain.clone(), index: self.index + 1 };
                middleware(callback, next).await
            }
            None => match self.chain.handlers.get(callback.event.kind()) {
                Some(handler) => handler(callback).await,
                None => Ok(Reply::Success),
            },
        }
    }
}

/// The HTTP answer, framework-free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

impl CallbackResponse {
    fn text(status: u16, body: impl Into<String>) -> Self {
        CallbackResponse { status, content_type: "text/plain; charset=utf-8", body: body.into() }
    }

    fn refused(status: u16, what: &str) -> Self {
        tracing::warn!(status, reason = what, "callback refused");
        CallbackResponse::text(status, what)
    }
}

/// The callback server of an [`Application`]; see the module docs. Cheap to
/// clone; clones share their background tasks and replay cache.
#[derive(Clone)]
pub struct CallbackServer {
    app: Application,
    middleware: Vec<Arc<MiddlewareFn>>,
    handlers: BTreeMap<String, Arc<HandlerFn>>,
    max_body: usize,
    timestamp_window: Option<Duration>,
    replay: Option<Arc<ReplayCache>>,
    check_data_receive_id: bool,
    lifecycle: Arc<Lifecycle>,
}

impl fmt::Debug for CallbackServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackServer")
            .field("middleware", &self.middleware.len())
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .field("max_body", &self.max_body)
            .field("timestamp_window", &self.timestamp_window)
            .finish_non_exhaustive()
    }
}

/// A handler helper that hands over the typed event with the callback.
macro_rules! typed_handler {
    ($(#[$doc:meta])* $method:ident, $kind:literal, $variant:ident) => {
        $(#[$doc])*
        #[must_use]
        pub fn $method<F, Fut>(self, handler: F) -> Self
        where
            F: Fn(crate::events::$variant, Callback) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = HandlerResult> + Send + 'static,
        {
            let handler = Arc::new(handler);
            self.on($kind, move |callback: Callback| {
                let handler = handler.clone();
                async move {
                    match &callback.event {
                        Event::$variant(event) => {
                            let event = event.clone();
                            handler(event, callback).await
                        }
                        // Its kind matched but it did not decode: leave it to `on`.
                        _ => Ok(Reply::Success),
                    }
                }
            })
        }
    };
}

fn boxed<F, Fut>(handler: F) -> Arc<HandlerFn>
where
    F: Fn(Callback) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    Arc::new(move |callback| Box::pin(handler(callback)))
}

impl CallbackServer {
    pub(crate) fn new(app: Application) -> Self {
        let lifecycle = Lifecycle::new();
        let mut server = CallbackServer {
            app,
            middleware: Vec::new(),
            handlers: BTreeMap::new(),
            max_body: DEFAULT_MAX_BODY,
            timestamp_window: Some(DEFAULT_TIMESTAMP_WINDOW),
            replay: Some(Arc::new(ReplayCache::new(DEFAULT_REPLAY_WINDOW))),
            check_data_receive_id: true,
            lifecycle: lifecycle.clone(),
        };
        server.handlers.insert("suite_ticket".into(), boxed(store_suite_ticket));
        for kind in ["create_auth", "reset_permanent_code", "cancel_auth", "change_auth"] {
            let lifecycle = lifecycle.clone();
            server
                .handlers
                .insert(kind.into(), boxed(move |callback| authorization_event(callback, lifecycle.clone())));
        }
        server
    }

    /// Runs `hook` once the permanent code and the corp's authorization are
    /// stored (`create_auth`, `reset_permanent_code`). It runs at least
    /// once: a crash before it finished, or its own error, makes the next
    /// [`CallbackServer::resume`] run it again.
    #[must_use]
    pub fn on_authorized<F, Fut>(self, hook_fn: F) -> Self
    where
        F: Fn(AuthorizedCorp) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HookError>> + Send + 'static,
    {
        self.lifecycle.hooks.write().unwrap_or_else(std::sync::PoisonError::into_inner).authorized =
            Some(hook(hook_fn));
        self
    }

    /// Runs `hook` after `cancel_auth` forgot a corp (a cancel older than the
    /// stored authorization forgets nothing and runs nothing).
    #[must_use]
    pub fn on_cancelled<F, Fut>(self, hook_fn: F) -> Self
    where
        F: Fn(CancelledCorp) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HookError>> + Send + 'static,
    {
        self.lifecycle.hooks.write().unwrap_or_else(std::sync::PoisonError::into_inner).cancelled =
            Some(hook(hook_fn));
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
        self.lifecycle.hooks.write().unwrap_or_else(std::sync::PoisonError::into_inner).changed =
            Some(hook(hook_fn));
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
        self.lifecycle.hooks.write().unwrap_or_else(std::sync::PoisonError::into_inner).failed =
            Some(hook(hook_fn));
        self
    }

    /// Resumes what a previous run left unfinished: auth codes not yet
    /// exchanged (whichever instance received them; a lease makes one
    /// instance exchange each) and `on_authorized` hooks not yet delivered.
    /// Call it at startup, after setting the hooks. Returns how many it
    /// resumed; [`CallbackServer::drain`] awaits them.
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
        self.middleware.push(Arc::new(move |callback, next| Box::pin(middleware(callback, next))));
        self
    }

    /// Sets the handler of one kind of event (see [`Event::kind`]), replacing
    /// the built-in one if there is one: `suite_ticket`, `create_auth`,
    /// `change_contact.create_user`, `text`, `event.subscribe`, `unknown`, …
    #[must_use]
    pub fn on<F, Fut>(mut self, kind: &str, handler: F) -> Self
    where
        F: Fn(Callback) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.handlers.insert(kind.to_owned(), boxed(handler));
        self
    }

    typed_handler!(
        /// Replaces the built-in `suite_ticket` handler (which stores the
        /// ticket) with one given the typed event.
        on_suite_ticket, "suite_ticket", SuiteTicket
    );
    typed_handler!(
        /// Replaces the built-in `create_auth` handler (which exchanges and
        /// stores the permanent code). Answer within WeCom's 1 s budget.
        on_create_auth, "create_auth", CreateAuth
    );
    typed_handler!(
        /// Sets the `change_auth` handler (none by default).
        on_change_auth, "change_auth", ChangeAuth
    );
    typed_handler!(
        /// Replaces the built-in `cancel_auth` handler (which forgets the corp).
        on_cancel_auth, "cancel_auth", CancelAuth
    );
    typed_handler!(
        /// Replaces the built-in `reset_permanent_code` handler (which
        /// re-exchanges the code).
        on_reset_permanent_code, "reset_permanent_code", ResetPermanentCode
    );

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
    /// `window`, recognised by the event's identity (`MsgId`; else
    /// `FromUserName` and `CreateTime`; else the suite, `InfoType`,
    /// `TimeStamp` and the corp or auth code it is about). A push is
    /// remembered only once it was handled, so WeCom's retry of a push whose
    /// handler failed is handled. Default [`DEFAULT_REPLAY_WINDOW`]; `None`
    /// turns it off.
    #[must_use]
    pub fn replay_cache(mut self, window: impl Into<Option<Duration>>) -> Self {
        self.replay = window.into().map(|w| Arc::new(ReplayCache::new(w)));
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
    /// exchanges). Call it before shutting down.
    pub async fn drain(&self) {
        self.lifecycle.background.drain().await;
    }

    /// The crypt of a URL and the receive ids it accepts without a lookup.
    fn crypt_for(&self, url: &CallbackUrl) -> Result<MsgCrypt, CallbackResponse> {
        let config = self.app.config();
        let provider = config.corp_id.as_str();
        let crypt = match url {
            CallbackUrl::System => MsgCrypt::new(config.token.expose(), config.aes_key.expose(), provider),
            CallbackUrl::Command(suite_id) | CallbackUrl::Data(suite_id) => {
                let suite =
                    config.suite(suite_id).ok_or_else(|| CallbackResponse::refused(404, "unknown suite"))?;
                MsgCrypt::new(suite.token.expose(), suite.aes_key.expose(), suite_id.as_str())
                    .map(|c| c.allow_receive_ids([provider]))
            }
        };
        crypt.map_err(|e| CallbackResponse::refused(500, &format!("misconfigured callback key: {e}")))
    }

    /// Whether `receive_id` may send to `url`.
    async fn receive_id_allowed(&self, url: &CallbackUrl, receive_id: &str, verify: bool) -> bool {
        let provider = self.app.config().corp_id.as_str();
        if receive_id == provider {
            return true;
        }
        match url {
            CallbackUrl::System => false,
            CallbackUrl::Command(suite) => receive_id == suite.as_str(),
            CallbackUrl::Data(suite) if verify => receive_id == suite.as_str(),
            CallbackUrl::Data(suite) => {
                !self.check_data_receive_id
                    || matches!(
                        self.app.permanent_code(suite.clone(), CorpId::new(receive_id)).await,
                        Ok(Some(_))
                    )
            }
        }
    }

    /// Handles one request: `method` (`GET` to verify the URL, `POST` for a
    /// push), the raw query string and the body.
    pub async fn serve(&self, url: &CallbackUrl, method: &str, query: &str, body: &[u8]) -> CallbackResponse {
        if body.len() > self.max_body {
            return CallbackResponse::refused(413, "body too large");
        }
        let params: BTreeMap<String, String> = crate::urls::parse_query(query).into_iter().collect();
        let param = |name: &str| params.get(name).map(String::as_str);
        let (Some(signature), Some(timestamp), Some(nonce)) =
            (param("msg_signature"), param("timestamp"), param("nonce"))
        else {
            return CallbackResponse::refused(400, "msg_signature, timestamp and nonce are required");
        };
        if let (Some(window), "POST") = (self.timestamp_window, method) {
            let now = self.app.clock().now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            let fresh = timestamp.parse::<u64>().is_ok_and(|ts| now.abs_diff(ts) <= window.as_secs());
            if !fresh {
                return CallbackResponse::refused(403, "timestamp outside the accepted window");
            }
        }
        let crypt = match self.crypt_for(url) {
            Ok(crypt) => crypt,
            Err(response) => return response,
        };
        match method {
            "GET" => {
                let Some(echostr) = param("echostr") else {
                    return CallbackResponse::refused(400, "echostr is required");
                };
                match crypt.open_any(signature, timestamp, nonce, echostr) {
                    Ok(opened) if self.receive_id_allowed(url, &opened.receive_id, true).await => {
                        CallbackResponse::text(200, opened.message)
                    }
                    Ok(_) => crypto_refused(&CryptoError::ValidateReceiveId { got: String::new() }),
                    Err(e) => crypto_refused(&e),
                }
            }
            "POST" => self.push(url, &crypt, signature, timestamp, nonce, body).await,
            _ => CallbackResponse::refused(405, "GET or POST"),
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
    ) -> CallbackResponse {
        let envelope = match parse_envelope(body) {
            Ok(envelope) => envelope,
            Err(e) => return crypto_refused(&e),
        };
        let opened = match crypt.open_any(signature, timestamp, nonce, &envelope.encrypt) {
            Ok(opened) => opened,
            Err(e) => return crypto_refused(&e),
        };
        if !self.receive_id_allowed(url, &opened.receive_id, false).await {
            return crypto_refused(&CryptoError::ValidateReceiveId { got: opened.receive_id });
        }
        let fields = match fields_of(&opened.message) {
            Ok(fields) => fields,
            Err(e) => return crypto_refused(&e),
        };
        let identity = format!("{url:?}:{}:{}", opened.receive_id, replay::identity(&fields));
        if let Some(replay) = &self.replay {
            if replay.seen(&identity, self.app.clock().now()) {
                tracing::info!("a push handled already (WeCom's retry, or a replay) acknowledged without handling it again");
                return CallbackResponse::text(200, "success");
            }
        }
        let callback = Callback {
            event: Event::from_fields(fields.clone()),
            fields,
            url: url.clone(),
            receive_id: opened.receive_id.clone(),
            message: opened.message,
            app: self.app.clone(),
        };
        let span = tracing::info_span!("wecom.callback", kind = callback.event.kind(), url = ?url);
        let chain = Arc::new(Chain { middleware: self.middleware.clone(), handlers: self.handlers.clone() });
        let result = tracing::Instrument::instrument(Next { chain, index: 0 }.run(callback), span).await;
        if let (Some(replay), Ok(_)) = (&self.replay, &result) {
            replay.remember(identity, self.app.clock().now());
        }
        match result {
            Ok(Reply::Success) => CallbackResponse::text(200, "success"),
            Ok(Reply::Message(message)) => {
                let reply_crypt = crypt.clone().with_receive_id(&opened.receive_id);
                match reply_crypt.encrypt(&message, timestamp, nonce) {
                    Ok(sealed) => match envelope.format {
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
                    },
                    Err(e) => crypto_refused(&e),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "callback handler failed; WeCom will retry");
                CallbackResponse::text(500, "handler failed")
            }
        }
    }
}

fn crypto_refused(error: &CryptoError) -> CallbackResponse {
    tracing::warn!(code = error.code(), error = %error, "callback refused");
    CallbackResponse::text(400, format!("{}", error.code()))
}

// ------------------------------------------------------------ built-in handlers

/// `suite_ticket`: store it, for the suite it names, if that suite is ours.
async fn store_suite_ticket(callback: Callback) -> HandlerResult {
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
    callback.app.suite_ticket(suite_id).set_ticket_pushed_at(ticket.trim(), pushed_at).await?;
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

/// The authorization events: `create_auth` and `reset_permanent_code`
/// journal the auth code durably before `success` and exchange it in the
/// background; `cancel_auth` forgets the corp if the cancel is newer than
/// its authorization; `change_auth` refreshes the stored authorization.
async fn authorization_event(callback: Callback, lifecycle: Arc<Lifecycle>) -> HandlerResult {
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
            let code = ArrivedCode {
                suite_id,
                auth_code: code,
                origin: Origin::CreateAuth,
                corp_id: None,
                state: event.state.clone(),
                pushed_at: at,
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
                pushed_at: at,
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
        let failures = lifecycle::forget_failures(self, &suite_id, &corp_id).await?;
        Ok(self.forget_corp(suite_id, corp_id).await? || failures > 0)
    }

    /// The callback server, with the built-in handlers.
    pub fn server(&self) -> CallbackServer {
        CallbackServer::new(self.clone())
    }
}
