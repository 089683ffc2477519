//! Handles on one credential: an access token of one scope, a suite's
//! ticket (the PHP SDK's `getToken()` / `getSuiteTicket()`).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::clock::Clock;
use crate::credentials::TokenManager;
use crate::error::Error;
use crate::http::TokenScope;
use crate::ids::SuiteId;
use crate::secret::Secret;
/// One token scope's access token (the PHP SDK's `getToken()`).
#[derive(Clone)]
pub struct AccessTokenHandle {
    pub(super) tokens: Arc<TokenManager>,
    /// The scope's store key, made once.
    pub(super) key: Arc<str>,
    pub(super) scope: TokenScope,
    pub(super) permanent_code: Option<Secret>,
    /// Whether `permanent_code` was stored: once per handle, not per call
    /// (and never again after a cancel_auth forgot it).
    pub(super) code_stored: Arc<std::sync::atomic::AtomicBool>,
}

impl fmt::Debug for AccessTokenHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenHandle").field("scope", &self.scope).finish_non_exhaustive()
    }
}

impl AccessTokenHandle {
    /// The scope.
    pub fn scope(&self) -> &TokenScope {
        &self.scope
    }

    async fn remember_code(&self) -> Result<(), Error> {
        use std::sync::atomic::Ordering;
        if self.code_stored.load(Ordering::Acquire) {
            return Ok(());
        }
        if let (Some(code), TokenScope::Corp { suite_id, corp_id }) = (&self.permanent_code, &self.scope) {
            self.tokens.set_permanent_code(suite_id, corp_id, code.expose()).await?;
        }
        self.code_stored.store(true, Ordering::Release);
        Ok(())
    }

    /// The current token, fetched or refreshed if needed.
    pub async fn get_token(&self) -> Result<String, Error> {
        self.remember_code().await?;
        self.tokens.get_keyed(&self.scope, &self.key).await
    }

    /// Drops the stored token and fetches a new one.
    pub async fn refresh(&self) -> Result<String, Error> {
        self.remember_code().await?;
        self.tokens.forget(&self.scope).await?;
        self.tokens.get_keyed(&self.scope, &self.key).await
    }
}

/// A suite's ticket (the PHP SDK's `getSuiteTicket()`).
#[derive(Clone)]
pub struct SuiteTicket {
    pub(super) tokens: Arc<TokenManager>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) suite_id: SuiteId,
}

impl fmt::Debug for SuiteTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SuiteTicket").field("suite_id", &self.suite_id).finish_non_exhaustive()
    }
}

impl SuiteTicket {
    /// The latest ticket, or [`Error::SuiteTicketMissing`].
    pub async fn get_ticket(&self) -> Result<String, Error> {
        self.tokens.ticket(&self.suite_id).await
    }

    /// Stores a ticket pushed now.
    pub async fn set_ticket(&self, ticket: &str) -> Result<(), Error> {
        self.set_ticket_pushed_at(ticket, self.clock.now()).await.map(|_| ())
    }

    /// Stores a ticket pushed at `pushed_at` (the push's `TimeStamp`), unless
    /// a newer push is stored: the newest wins even when pushes arrive out of
    /// order. Returns whether it was stored.
    pub async fn set_ticket_pushed_at(&self, ticket: &str, pushed_at: SystemTime) -> Result<bool, Error> {
        self.tokens.set_ticket(&self.suite_id, ticket, pushed_at).await
    }
}
