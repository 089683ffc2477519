//! The token runtime: provider, suite and corp tokens from a shared store,
//! refreshed early, one fetch at a time per scope (in process and, through
//! the store's lease, across processes), and served from the old token when a
//! refresh fails while it is still valid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::api::authorization::endpoints::GET_CORP_TOKEN;
use crate::api::authorization::types::{CorpAccessToken, GetCorpTokenRequest};
use crate::api::provider::endpoints::GET_PROVIDER_TOKEN;
use crate::api::provider::types::{GetProviderTokenRequest, ProviderAccessToken};
use crate::api::suite::endpoints::GET_SUITE_TOKEN;
use crate::api::suite::types::{GetSuiteTokenRequest, SuiteAccessToken};
use crate::client::{decode_json, Client, Target, TokenUse};
use crate::clock::{unix_ms, Clock};
use crate::config::Config;
use crate::error::Error;
use crate::ids::{CorpId, SuiteId};
use crate::store::{keys, Store};
use crate::token::{AccessToken, BoxFuture, TokenScope, TokenSource};

/// WeCom's documented token lifetime, used when a reply omits `expires_in`.
const DEFAULT_EXPIRES_IN: u64 = 7200;
/// How long a permanent code is kept: it does not expire on WeCom's side.
const PERMANENT_CODE_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// How often a caller checks whether another instance finished its refresh.
const LEASE_POLL: Duration = Duration::from_millis(100);

/// A stored token and when it expires.
#[derive(Serialize, Deserialize)]
struct TokenRecord {
    token: String,
    /// When it was obtained, in milliseconds since the Unix epoch.
    obtained_at: u64,
    /// When it expires, in milliseconds since the Unix epoch.
    expires_at: u64,
}

/// A stored suite ticket and when WeCom pushed it.
#[derive(Serialize, Deserialize)]
struct TicketRecord {
    ticket: String,
    /// Milliseconds since the Unix epoch.
    pushed_at: u64,
}

/// Obtains, caches and refreshes every token of an application.
pub(crate) struct TokenManager {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Token-less calls (the fetches themselves).
    client: Client,
    /// One lock per store key: callers of one scope wait for one fetch.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Token sources users put in place of the runtime, per scope.
    overrides: RwLock<HashMap<TokenScope, Arc<dyn TokenSource>>>,
}

impl TokenManager {
    pub(crate) fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        client: Client,
    ) -> Self {
        TokenManager {
            config,
            store,
            clock,
            client,
            locks: Mutex::new(HashMap::new()),
            overrides: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn set_override(&self, scope: TokenScope, source: Arc<dyn TokenSource>) {
        self.overrides.write().unwrap_or_else(PoisonError::into_inner).insert(scope, source);
    }

    fn override_for(&self, scope: &TokenScope) -> Option<Arc<dyn TokenSource>> {
        self.overrides.read().unwrap_or_else(PoisonError::into_inner).get(scope).cloned()
    }

    fn now_ms(&self) -> u64 {
        unix_ms(self.clock.now())
    }

    fn key_of(&self, scope: &TokenScope) -> String {
        match scope {
            TokenScope::Provider => keys::provider_token(&self.config.corp_id),
            TokenScope::Suite(suite) => keys::suite_token(suite),
            TokenScope::Corp { suite_id, corp_id } => keys::corp_token(suite_id, corp_id),
        }
    }

    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.entry(key.to_owned()).or_default().clone()
    }

    async fn read(&self, key: &str) -> Result<Option<TokenRecord>, Error> {
        let Some(text) = self.store.get(key).await? else {
            return Ok(None);
        };
        // An unreadable entry is treated as absent and overwritten by the next fetch.
        Ok(serde_json::from_str(&text).ok())
    }

    /// Fresh: not yet inside the refresh margin (at most half the lifetime,
    /// so a short-lived token is not refreshed on every call).
    fn is_fresh(&self, record: &TokenRecord, now: u64) -> bool {
        let lifetime = record.expires_at.saturating_sub(record.obtained_at);
        let margin = (self.config.tokens.refresh_margin * 1000).min(lifetime / 2);
        now + margin < record.expires_at
    }

    /// The token of `scope`: the stored one while fresh, else one refresh.
    pub(crate) async fn get(&self, scope: &TokenScope) -> Result<AccessToken, Error> {
        if let Some(source) = self.override_for(scope) {
            return source.token(scope).await;
        }
        let key = self.key_of(scope);
        if let Some(record) = self.read(&key).await? {
            if self.is_fresh(&record, self.now_ms()) {
                return Ok(AccessToken::new(record.token));
            }
        }
        let lock = self.lock_for(&key);
        let _only_one_fetch = lock.lock().await;
        let current = self.read(&key).await?;
        if let Some(record) = &current {
            if self.is_fresh(record, self.now_ms()) {
                return Ok(AccessToken::new(record.token.clone()));
            }
        }
        let still_valid = current.filter(|r| r.expires_at > self.now_ms());
        let lease_key = keys::refresh_lease(&key);
        let lease_ttl = Duration::from_secs(self.config.tokens.refresh_lease);
        let lease = self.store.try_lease(&lease_key, lease_ttl).await?;
        if lease.is_none() {
            // Another instance is refreshing: serve the old token while it is
            // valid, else wait for theirs (up to the lease), then fetch anyway.
            if let Some(old) = still_valid {
                return Ok(AccessToken::new(old.token));
            }
            let polls = (lease_ttl.as_millis() / LEASE_POLL.as_millis()).max(1);
            for _ in 0..polls {
                self.clock.sleep(LEASE_POLL).await;
                if let Some(record) = self.read(&key).await? {
                    if record.expires_at > self.now_ms() {
                        return Ok(AccessToken::new(record.token));
                    }
                }
            }
        }
        let fetched = self.fetch(scope).await;
        if let Some(lease) = &lease {
            self.store.release(&lease_key, lease).await?;
        }
        match fetched {
            Ok((token, expires_in)) => {
                let now = self.now_ms();
                let record = TokenRecord {
                    token: token.secret().to_owned(),
                    obtained_at: now,
                    expires_at: now + expires_in * 1000,
                };
                let text = serde_json::to_string(&record).map_err(|e| Error::Store(e.to_string()))?;
                self.store.set(&key, &text, Duration::from_secs(expires_in)).await?;
                Ok(token)
            }
            Err(error) => match still_valid {
                Some(old) => {
                    tracing::warn!(scope = %scope, error = %error, "token refresh failed; serving the still-valid token");
                    Ok(AccessToken::new(old.token))
                }
                None => Err(error),
            },
        }
    }

    /// Forgets `token` of `scope` if it is still the stored one.
    pub(crate) async fn invalidate(&self, scope: &TokenScope, token: &AccessToken) {
        if let Some(source) = self.override_for(scope) {
            return source.invalidate(scope, token).await;
        }
        let key = self.key_of(scope);
        match self.read(&key).await {
            Ok(Some(record)) if record.token == token.secret() => {
                if let Err(e) = self.store.delete(&key).await {
                    tracing::warn!(scope = %scope, error = %e, "could not drop an invalid token");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(scope = %scope, error = %e, "could not read a token to drop it")
            }
        }
    }

    /// Drops the stored token of `scope`, whatever it is.
    pub(crate) async fn forget(&self, scope: &TokenScope) -> Result<(), Error> {
        self.store.delete(&self.key_of(scope)).await
    }

    /// Asks WeCom for a new token of `scope`: the token and its lifetime in seconds.
    fn fetch<'a>(&'a self, scope: &'a TokenScope) -> BoxFuture<'a, Result<(AccessToken, u64), Error>> {
        Box::pin(async move {
            match scope {
                TokenScope::Provider => self.fetch_provider().await,
                TokenScope::Suite(suite_id) => self.fetch_suite(suite_id).await,
                TokenScope::Corp { suite_id, corp_id } => self.fetch_corp(suite_id, corp_id).await,
            }
        })
    }

    async fn fetch_provider(&self) -> Result<(AccessToken, u64), Error> {
        let request = GetProviderTokenRequest {
            corpid: self.config.corp_id.to_string(),
            provider_secret: self.config.provider_secret.expose().to_owned(),
        };
        let reply: ProviderAccessToken = self
            .client
            .run(Target::of(&GET_PROVIDER_TOKEN), TokenUse::Without, None::<&()>, Some(&request), decode_json)
            .await?;
        issued("provider", reply.provider_access_token, reply.expires_in)
    }

    async fn fetch_suite(&self, suite_id: &SuiteId) -> Result<(AccessToken, u64), Error> {
        let suite = self
            .config
            .suite(suite_id)
            .ok_or_else(|| Error::Config(format!("suites: suite {suite_id} is not configured")))?;
        let ticket = self.ticket(suite_id).await?;
        let request = GetSuiteTokenRequest {
            suite_id: suite_id.to_string(),
            suite_secret: suite.suite_secret.expose().to_owned(),
            suite_ticket: ticket,
        };
        let reply: SuiteAccessToken = self
            .client
            .run(Target::of(&GET_SUITE_TOKEN), TokenUse::Without, None::<&()>, Some(&request), decode_json)
            .await?;
        issued(&format!("suite {suite_id}"), reply.suite_access_token, reply.expires_in)
    }

    async fn fetch_corp(&self, suite_id: &SuiteId, corp_id: &CorpId) -> Result<(AccessToken, u64), Error> {
        let code = self.store.get(&keys::permanent_code(suite_id, corp_id)).await?.ok_or_else(|| {
            Error::PermanentCodeMissing { suite_id: suite_id.clone(), corp_id: corp_id.clone() }
        })?;
        let request = GetCorpTokenRequest { auth_corpid: corp_id.to_string(), permanent_code: code };
        let suite_scope = TokenScope::Suite(suite_id.clone());
        let mut refetched = false;
        loop {
            let suite_token = self.get(&suite_scope).await?;
            let result: Result<CorpAccessToken, Error> = self
                .client
                .run(
                    Target::of(&GET_CORP_TOKEN),
                    TokenUse::Given(&suite_token),
                    None::<&()>,
                    Some(&request),
                    decode_json,
                )
                .await;
            match result {
                Ok(reply) => return issued(&format!("corp {corp_id}"), reply.access_token, reply.expires_in),
                Err(e) if e.is_token_invalid() && !refetched => {
                    self.invalidate(&suite_scope, &suite_token).await;
                    refetched = true;
                }
                Err(e) if e.is_authorization_gone() => {
                    return Err(e.into_authorization_gone(suite_id, corp_id))
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The latest suite ticket of `suite_id`.
    pub(crate) async fn ticket(&self, suite_id: &SuiteId) -> Result<String, Error> {
        let text = self.store.get(&keys::suite_ticket(suite_id)).await?;
        let record = text.and_then(|t| serde_json::from_str::<TicketRecord>(&t).ok());
        record.map(|r| r.ticket).ok_or_else(|| Error::SuiteTicketMissing { suite_id: suite_id.clone() })
    }

    /// Stores a pushed ticket unless a newer push is already stored; returns
    /// whether it was stored.
    pub(crate) async fn set_ticket(
        &self,
        suite_id: &SuiteId,
        ticket: &str,
        pushed_at: SystemTime,
    ) -> Result<bool, Error> {
        if ticket.is_empty() {
            return Err(Error::InvalidRequest("a suite ticket must not be empty".into()));
        }
        let key = keys::suite_ticket(suite_id);
        let pushed_at = unix_ms(pushed_at);
        let newer_stored = self
            .store
            .get(&key)
            .await?
            .and_then(|t| serde_json::from_str::<TicketRecord>(&t).ok())
            .is_some_and(|r| r.pushed_at > pushed_at);
        if newer_stored {
            return Ok(false);
        }
        let record = TicketRecord { ticket: ticket.to_owned(), pushed_at };
        let text = serde_json::to_string(&record).map_err(|e| Error::Store(e.to_string()))?;
        self.store.set(&key, &text, Duration::from_secs(self.config.tokens.suite_ticket_ttl)).await?;
        Ok(true)
    }

    pub(crate) async fn set_permanent_code(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
        code: &str,
    ) -> Result<(), Error> {
        if code.is_empty() {
            return Err(Error::InvalidRequest("a permanent code must not be empty".into()));
        }
        let key = keys::permanent_code(suite_id, corp_id);
        if self.store.get(&key).await?.as_deref() != Some(code) {
            self.store.set(&key, code, PERMANENT_CODE_TTL).await?;
            // A token got with an older code belongs to an older authorization.
            self.forget(&TokenScope::Corp { suite_id: suite_id.clone(), corp_id: corp_id.clone() }).await?;
        }
        Ok(())
    }

    pub(crate) async fn permanent_code(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
    ) -> Result<Option<String>, Error> {
        self.store.get(&keys::permanent_code(suite_id, corp_id)).await
    }

    /// Forgets a corp: its permanent code and its token.
    pub(crate) async fn forget_corp(&self, suite_id: &SuiteId, corp_id: &CorpId) -> Result<(), Error> {
        self.store.delete(&keys::permanent_code(suite_id, corp_id)).await?;
        self.forget(&TokenScope::Corp { suite_id: suite_id.clone(), corp_id: corp_id.clone() }).await
    }
}

/// A token reply's token and lifetime, or an error saying the token is missing.
fn issued(what: &str, token: Option<String>, expires_in: Option<i64>) -> Result<(AccessToken, u64), Error> {
    let token = token.filter(|t| !t.is_empty()).ok_or_else(|| Error::Token {
        scope: what.to_owned(),
        message: "WeCom's reply carried no token".into(),
    })?;
    let expires_in =
        expires_in.and_then(|e| u64::try_from(e).ok()).filter(|e| *e > 0).unwrap_or(DEFAULT_EXPIRES_IN);
    Ok((AccessToken::new(token), expires_in))
}

impl TokenSource for TokenManager {
    fn token<'a>(&'a self, scope: &'a TokenScope) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(self.get(scope))
    }

    fn invalidate<'a>(&'a self, scope: &'a TokenScope, token: &'a AccessToken) -> BoxFuture<'a, ()> {
        Box::pin(TokenManager::invalidate(self, scope, token))
    }
}
