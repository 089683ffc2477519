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
mod replay;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::api::authorization::types::{GetPermanentCodeV2Request, PermanentCodeInfoV2};
use crate::app::Application;
use crate::authorizations::Authorization;
use crate::crypto::{parse_envelope, reply_json, reply_xml, CryptoError, EnvelopeFormat, MsgCrypt};
use crate::events::{fields_of, Event};
use crate::ids::{CorpId, SuiteId};
use crate::token::BoxFuture;

use crate::tasks::Background;
use replay::ReplayCache;

/// Largest callback body accepted by default.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

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

/// A verified, decrypted callback, as middleware and handlers see it.
#[derive(Debug, Clone)]
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
    background: Arc<Background>,
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
        let mut server = CallbackServer {
            app,
            middleware: Vec::new(),
            handlers: BTreeMap::new(),
            max_body: DEFAULT_MAX_BODY,
            timestamp_window: None,
            replay: None,
            check_data_receive_id: true,
            background: Arc::new(Background::default()),
        };
        server.handlers.insert("suite_ticket".into(), boxed(store_suite_ticket));
        let background = server.background.clone();
        server.handlers.insert(
            "create_auth".into(),
            boxed(move |callback| exchange_auth_code(callback, background.clone())),
        );
        let background = server.background.clone();
        server.handlers.insert(
            "reset_permanent_code".into(),
            boxed(move |callback| exchange_auth_code(callback, background.clone())),
        );
        server.handlers.insert("cancel_auth".into(), boxed(forget_corp));
        server
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

    /// Refuse callbacks whose `timestamp` is further than `window` from now
    /// (off by default).
    #[must_use]
    pub fn timestamp_window(mut self, window: Duration) -> Self {
        self.timestamp_window = Some(window);
        self
    }

    /// Acknowledge, without handling again, a callback seen within `window`
    /// (same signature, timestamp and nonce). Off by default.
    #[must_use]
    pub fn replay_cache(mut self, window: Duration) -> Self {
        self.replay = Some(Arc::new(ReplayCache::new(window)));
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
        self.background.drain().await;
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
        if let Some(window) = self.timestamp_window {
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
        if let Some(replay) = &self.replay {
            if replay.seen_before(format!("{signature}:{timestamp}:{nonce}"), self.app.clock().now()) {
                tracing::info!("replayed callback acknowledged without handling it again");
                return CallbackResponse::text(200, "success");
            }
        }
        let fields = match fields_of(&opened.message) {
            Ok(fields) => fields,
            Err(e) => return crypto_refused(&e),
        };
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
    let (Some(suite_id), Some(ticket)) = (callback.field("SuiteId"), callback.field("SuiteTicket")) else {
        tracing::warn!("suite_ticket push without SuiteId or SuiteTicket");
        return Ok(Reply::Success);
    };
    let suite_id = SuiteId::new(suite_id);
    if callback.app.config().suite(&suite_id).is_none() {
        tracing::warn!(suite = %suite_id, "suite_ticket for a suite not in the configuration; ignored");
        return Ok(Reply::Success);
    }
    let pushed_at = callback
        .field("TimeStamp")
        .and_then(|t| t.parse::<u64>().ok())
        .map_or_else(|| callback.app.clock().now(), |t| UNIX_EPOCH + Duration::from_secs(t));
    callback.app.suite_ticket(suite_id).set_ticket_pushed_at(ticket, pushed_at).await?;
    Ok(Reply::Success)
}

/// The suite a command event is about: its `SuiteId`, else the URL's.
fn event_suite(callback: &Callback) -> Option<SuiteId> {
    callback.field("SuiteId").map(SuiteId::new).or_else(|| callback.url.suite().cloned())
}

/// `create_auth` / `reset_permanent_code`: acknowledge now, exchange the auth
/// code for the permanent code in the background, and store it.
async fn exchange_auth_code(callback: Callback, background: Arc<Background>) -> HandlerResult {
    let (Some(suite_id), Some(auth_code)) = (event_suite(&callback), callback.field("AuthCode")) else {
        tracing::warn!(kind = callback.event.kind(), "authorization push without SuiteId or AuthCode");
        return Ok(Reply::Success);
    };
    let app = callback.app.clone();
    let auth_code = auth_code.to_owned();
    background.spawn(async move {
        let request = GetPermanentCodeV2Request { auth_code };
        match app.suite(suite_id.clone()).get_permanent_code_v2(&request).await {
            Ok(info) => {
                let Some(authorization) = authorization_of(&suite_id, info, app.clock().now()) else {
                    tracing::error!(suite = %suite_id, "get_permanent_code reply without corpid or permanent_code");
                    return;
                };
                let corp = authorization.corp_id.clone();
                match app.save_authorization(&authorization).await {
                    Ok(_) => tracing::info!(suite = %suite_id, corp = %corp, "permanent code stored"),
                    Err(e) => tracing::error!(suite = %suite_id, corp = %corp, error = %e, "could not store the permanent code"),
                }
            }
            Err(e) => tracing::error!(suite = %suite_id, error = %e, "could not exchange the auth code"),
        }
    });
    Ok(Reply::Success)
}

/// The authorization a `get_permanent_code_v2` reply describes (the agent
/// and the edition come later, with `get_auth_info`).
fn authorization_of(
    suite_id: &SuiteId,
    info: PermanentCodeInfoV2,
    now: std::time::SystemTime,
) -> Option<Authorization> {
    let corp = info.auth_corp_info.as_ref().and_then(|c| c.corpid.clone())?;
    let code = info.permanent_code.filter(|c| !c.is_empty())?;
    let authorization = Authorization::new(suite_id.clone(), corp, code, now);
    Some(match info.auth_corp_info.and_then(|c| c.corp_name) {
        Some(name) => authorization.with_corp_name(name),
        None => authorization,
    })
}

/// `cancel_auth`: forget the corp's token and permanent code.
async fn forget_corp(callback: Callback) -> HandlerResult {
    let (Some(suite_id), Some(corp_id)) = (event_suite(&callback), callback.field("AuthCorpId")) else {
        tracing::warn!("cancel_auth push without SuiteId or AuthCorpId");
        return Ok(Reply::Success);
    };
    callback.app.forget_corp(suite_id, corp_id).await?;
    Ok(Reply::Success)
}

impl Application {
    /// The callback server, with the built-in handlers.
    pub fn server(&self) -> CallbackServer {
        CallbackServer::new(self.clone())
    }
}
