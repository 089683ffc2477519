//! Handles on one credential of one scope: its access token, a suite's
//! ticket, a corp's permanent code. Each reads with `get` and writes with
//! `set` (EasyWeChat's `getToken()` and `getSuiteTicket()` are doc aliases).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use crate::clock::Clock;
use crate::credentials::{Authorization, TokenManager};
use crate::error::Error;
use crate::http::{TokenScope, TokenSource};
use crate::ids::{CorpId, SuiteId};
use crate::secret::Secret;

/// The token runtime behind an [`crate::Application`]'s handles; a handle
/// taken from a bare [`crate::Client`] has none.
#[derive(Clone)]
pub(crate) struct Runtime {
    pub(crate) tokens: Arc<TokenManager>,
    pub(crate) clock: Arc<dyn Clock>,
}

fn no_runtime(what: &str) -> Error {
    Error::InvalidRequest(format!(
        "{what}: this handle comes from a bare Client, which keeps no tickets or permanent codes; \
         take it from an Application"
    ))
}

/// Where an access token comes from.
#[derive(Clone)]
enum Source {
    /// The application's token runtime, with the scope's store key made once.
    Managed { tokens: Arc<TokenManager>, key: Arc<str> },
    /// Any other token source (a bare client's).
    Plain(Arc<dyn TokenSource>),
}

/// One scope's access token: `app.provider().access_token()`,
/// `suite.access_token()`, `corp.access_token()` (EasyWeChat's `getToken()`).
#[derive(Clone)]
pub struct AccessTokenHandle {
    source: Source,
    scope: TokenScope,
    /// A permanent code to store before the first use (the
    /// `authorizer_access_token(corp, code, suite)` alias).
    permanent_code: Option<Secret>,
    /// Whether `permanent_code` was stored: once per handle, not per call
    /// (and never again after a cancel_auth forgot it).
    code_stored: Arc<AtomicBool>,
}

impl fmt::Debug for AccessTokenHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenHandle").field("scope", &self.scope).finish_non_exhaustive()
    }
}

impl AccessTokenHandle {
    pub(crate) fn managed(tokens: Arc<TokenManager>, scope: TokenScope) -> Self {
        let key = tokens.key_of(&scope).into();
        AccessTokenHandle {
            source: Source::Managed { tokens, key },
            scope,
            permanent_code: None,
            code_stored: Arc::default(),
        }
    }

    pub(crate) fn plain(source: Arc<dyn TokenSource>, scope: TokenScope) -> Self {
        AccessTokenHandle {
            source: Source::Plain(source),
            scope,
            permanent_code: None,
            code_stored: Arc::default(),
        }
    }

    /// Stores `code` as the corp's permanent code before the first use.
    pub(crate) fn with_permanent_code(mut self, code: Secret) -> Self {
        self.permanent_code = Some(code);
        self
    }

    /// The scope.
    pub fn scope(&self) -> &TokenScope {
        &self.scope
    }

    async fn remember_code(&self, tokens: &TokenManager) -> Result<(), Error> {
        if self.code_stored.load(Ordering::Acquire) {
            return Ok(());
        }
        if let (Some(code), TokenScope::Corp { suite_id, corp_id }) = (&self.permanent_code, &self.scope) {
            // A code held since before a reset or a cancel is not stored:
            // the token comes from what WeCom issued last (or not at all).
            if let Some(what) = tokens.offer_permanent_code(suite_id, corp_id, code.expose()).await? {
                tracing::debug!(suite = %suite_id, corp = %corp_id, "the given permanent code was not stored: {what} is");
            }
        }
        self.code_stored.store(true, Ordering::Release);
        Ok(())
    }

    /// The current token, fetched or refreshed if needed.
    #[doc(alias = "getToken")]
    #[doc(alias = "get_token")]
    pub async fn get(&self) -> Result<String, Error> {
        match &self.source {
            Source::Managed { tokens, key } => {
                self.remember_code(tokens).await?;
                tokens.get_keyed(&self.scope, key).await
            }
            Source::Plain(source) => Ok(source.token(&self.scope).await?.secret().to_owned()),
        }
    }

    /// Use `source` for this scope's token instead of the runtime (a token
    /// another system manages). Refused on a bare client's handle, whose
    /// tokens already come from a source of its own.
    #[doc(alias = "setToken")]
    pub fn set(&self, source: impl TokenSource + 'static) -> Result<(), Error> {
        match &self.source {
            Source::Managed { tokens, .. } => {
                tokens.set_override(self.scope.clone(), Arc::new(source));
                Ok(())
            }
            Source::Plain(_) => Err(no_runtime("access token source")),
        }
    }

    /// Drops the stored token, here and in the store; the next `get`
    /// fetches a new one.
    pub async fn forget(&self) -> Result<(), Error> {
        match &self.source {
            Source::Managed { tokens, .. } => tokens.forget(&self.scope).await,
            Source::Plain(source) => {
                let old = source.token(&self.scope).await?;
                source.invalidate(&self.scope, &old).await;
                Ok(())
            }
        }
    }

    /// Drops the stored token and fetches a new one.
    pub async fn refresh(&self) -> Result<String, Error> {
        match &self.source {
            Source::Managed { tokens, key } => {
                self.remember_code(tokens).await?;
                tokens.forget(&self.scope).await?;
                tokens.get_keyed(&self.scope, key).await
            }
            Source::Plain(source) => {
                let old = source.token(&self.scope).await?;
                source.invalidate(&self.scope, &old).await;
                Ok(source.token(&self.scope).await?.secret().to_owned())
            }
        }
    }
}

/// A suite's ticket: `suite.ticket()` (EasyWeChat's `getSuiteTicket()`).
/// The callback server stores each pushed one; the newest push wins.
#[derive(Clone)]
pub struct TicketHandle {
    runtime: Option<Runtime>,
    suite_id: SuiteId,
}

impl fmt::Debug for TicketHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketHandle").field("suite_id", &self.suite_id).finish_non_exhaustive()
    }
}

impl TicketHandle {
    pub(crate) fn new(runtime: Option<Runtime>, suite_id: SuiteId) -> Self {
        TicketHandle { runtime, suite_id }
    }

    fn runtime(&self) -> Result<&Runtime, Error> {
        self.runtime.as_ref().ok_or_else(|| no_runtime("suite ticket"))
    }

    /// The latest ticket, or [`Error::SuiteTicketMissing`].
    #[doc(alias = "getTicket")]
    #[doc(alias = "get_ticket")]
    pub async fn get(&self) -> Result<String, Error> {
        self.runtime()?.tokens.ticket(&self.suite_id).await
    }

    /// Stores a ticket pushed now.
    #[doc(alias = "setTicket")]
    #[doc(alias = "set_ticket")]
    pub async fn set(&self, ticket: &str) -> Result<(), Error> {
        let now = self.runtime()?.clock.now();
        self.set_pushed_at(ticket, now).await.map(|_| ())
    }

    /// Stores a ticket pushed at `pushed_at` (the push's `TimeStamp`), unless
    /// a newer push is stored: the newest wins even when pushes arrive out of
    /// order. Returns whether it was stored.
    pub async fn set_pushed_at(&self, ticket: &str, pushed_at: SystemTime) -> Result<bool, Error> {
        self.runtime()?.tokens.set_ticket(&self.suite_id, ticket, pushed_at).await
    }
}

/// A corp's permanent code for a suite: `corp.permanent_code()`. Stored as
/// a record that never expires (see [`crate::store`]). Forgetting a corp is
/// [`crate::Application::forget_authorization`], which also clears its
/// failed exchanges.
#[derive(Clone)]
pub struct PermanentCodeHandle {
    runtime: Option<Runtime>,
    suite_id: SuiteId,
    corp_id: CorpId,
}

impl fmt::Debug for PermanentCodeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermanentCodeHandle")
            .field("suite_id", &self.suite_id)
            .field("corp_id", &self.corp_id)
            .finish_non_exhaustive()
    }
}

impl PermanentCodeHandle {
    pub(crate) fn new(runtime: Option<Runtime>, suite_id: SuiteId, corp_id: CorpId) -> Self {
        PermanentCodeHandle { runtime, suite_id, corp_id }
    }

    fn tokens(&self) -> Result<&TokenManager, Error> {
        Ok(&self.runtime.as_ref().ok_or_else(|| no_runtime("permanent code"))?.tokens)
    }

    /// The stored permanent code.
    pub async fn get(&self) -> Result<Option<Secret>, Error> {
        self.tokens()?.permanent_code(&self.suite_id, &self.corp_id).await
    }

    /// Stores a permanent code obtained elsewhere (the callback server
    /// stores the codes it exchanges by itself).
    pub async fn set(&self, code: impl Into<Secret>) -> Result<(), Error> {
        self.tokens()?.set_permanent_code(&self.suite_id, &self.corp_id, code.into().expose()).await
    }

    /// The whole stored authorization: the code and what is known of it.
    pub async fn authorization(&self) -> Result<Option<Authorization>, Error> {
        self.tokens()?.authorization(&self.suite_id, &self.corp_id).await
    }
}
