//! The token runtime: provider, suite and corp tokens from a shared store,
//! refreshed early, one fetch at a time per scope (in process and, through
//! the store's lease, across processes), and served from the old token when a
//! refresh fails while it is still valid.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use super::credential::Credential;
use super::gone::{Gone, GoneMemory};
use super::near_cache::NearCache;
use super::ticket_budget::TicketBudget;
use crate::clock::{unix_ms, Clock};
use crate::config::Config;
use crate::error::Error;
use crate::http::{AccessToken, BoxFuture, Client, TokenScope, TokenSource};
use crate::store::{keys, renewing, CachedToken, Store};

/// A token is not asked for again sooner than this after it was obtained
/// (unless it expires first or WeCom refuses it), in ms: see
/// [`TokenManager::refresh_at`].
const MIN_REFETCH_INTERVAL_MS: u64 = 60_000;
/// How often a caller checks whether another instance finished its refresh.
const LEASE_POLL: Duration = Duration::from_millis(100);
/// How often expired tokens are swept out of the near cache.
const SWEEP_EVERY_MS: u64 = 10 * 60 * 1000;

/// Obtains, caches and refreshes every token of an application.
pub(crate) struct TokenManager {
    pub(super) config: Arc<Config>,
    pub(super) store: Arc<dyn Store>,
    pub(super) clock: Arc<dyn Clock>,
    /// Token-less calls (the fetches themselves).
    pub(super) client: Client,
    /// Tokens kept in process, in front of the store.
    near: Arc<NearCache>,
    /// One lock per store key while someone refreshes it: callers of one
    /// scope wait for one fetch. Entries go when nobody waits.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Token sources users put in place of the runtime, per scope.
    overrides: RwLock<HashMap<TokenScope, Arc<dyn TokenSource>>>,
    /// Whether any override is set: the hot path skips the map otherwise.
    has_overrides: AtomicBool,
    /// Whether the store's invalidation announcements are being followed.
    listening: AtomicBool,
    /// Whether the store failed last time: the warning is given once.
    store_failing: AtomicBool,
    /// When the near cache was last swept, in ms.
    last_sweep: AtomicU64,
    /// Corps whose authorization WeCom said is gone.
    pub(super) gone: GoneMemory,
    /// JS-SDK ticket fetches in the last hour, within WeCom's limits.
    pub(super) tickets: TicketBudget,
}

/// Holds a key's in-process refresh lock; removes the lock from the map
/// when nobody else waits for it.
struct Flight<'a> {
    flights: &'a Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    key: &'a str,
    lock: Arc<tokio::sync::Mutex<()>>,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        // The map's reference and ours: nobody else waits.
        if Arc::strong_count(&self.lock) == 2 {
            flights.remove(self.key);
        }
    }
}

impl TokenManager {
    pub(crate) fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        client: Client,
    ) -> Self {
        let near_ttl = u64::try_from(store.near_cache_ttl().as_millis()).unwrap_or(u64::MAX);
        TokenManager {
            config,
            store,
            clock,
            client,
            near: Arc::new(NearCache::new(near_ttl)),
            flights: Mutex::new(HashMap::new()),
            overrides: RwLock::new(HashMap::new()),
            has_overrides: AtomicBool::new(false),
            listening: AtomicBool::new(false),
            store_failing: AtomicBool::new(false),
            last_sweep: AtomicU64::new(0),
            gone: GoneMemory::default(),
            tickets: TicketBudget::default(),
        }
    }

    pub(crate) fn set_override(&self, scope: TokenScope, source: Arc<dyn TokenSource>) {
        self.overrides.write().unwrap_or_else(PoisonError::into_inner).insert(scope, source);
        self.has_overrides.store(true, Ordering::Release);
    }

    fn override_for(&self, scope: &TokenScope) -> Option<Arc<dyn TokenSource>> {
        if !self.has_overrides.load(Ordering::Acquire) {
            return None;
        }
        self.overrides.read().unwrap_or_else(PoisonError::into_inner).get(scope).cloned()
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(super) fn now_ms(&self) -> u64 {
        unix_ms(self.clock.now())
    }

    /// The store key of `scope`'s token.
    pub(crate) fn key_of(&self, scope: &TokenScope) -> String {
        match scope {
            TokenScope::Provider => keys::provider_token(&self.config.corp_id),
            TokenScope::Suite(suite) => keys::suite_token(suite),
            TokenScope::Corp { suite_id, corp_id } => keys::corp_token(suite_id, corp_id),
            TokenScope::Downstream { suite_id, corp_id, downstream_corp_id, agentid } => {
                keys::downstream_token(suite_id, corp_id, downstream_corp_id, *agentid)
            }
        }
    }

    /// When a token enters the refresh margin: the configured margin, but at
    /// most half its lifetime, so a short-lived token is not refreshed on
    /// every call; and not before [`MIN_REFETCH_INTERVAL_MS`] after it was
    /// obtained, unless it expires first.
    ///
    /// Asked again before expiry, WeCom answers with the same token and its
    /// remaining lifetime. A refetch inside the margin therefore gets a token
    /// whose whole (remaining) life is inside the margin; by half-life alone
    /// it would be asked for again at 1/2, 1/4, 1/8 … of what is left, ever
    /// more often, until it dies. The floor stops that: such a token is asked
    /// for at most once a minute, and one obtained with less than a minute
    /// left is served until it expires (then a new one is fetched; a call
    /// WeCom refuses as expired before that drops it and refetches once).
    fn refresh_at(&self, obtained_at: u64, expires_at: u64) -> u64 {
        let lifetime = expires_at.saturating_sub(obtained_at);
        let margin = self.config.tokens.refresh_margin.saturating_mul(1000).min(lifetime / 2);
        let floor = obtained_at.saturating_add(MIN_REFETCH_INTERVAL_MS);
        expires_at.saturating_sub(margin).max(floor).min(expires_at)
    }

    fn is_fresh(&self, token: &CachedToken, now: u64) -> bool {
        now < self.refresh_at(token.obtained_at, token.expires_at)
    }

    /// The token of `scope`: the near-cached one while fresh, else the
    /// store's, else one refresh for everyone.
    pub(crate) async fn get(&self, scope: &TokenScope) -> Result<AccessToken, Error> {
        let key = self.key_of(scope);
        self.get_keyed(scope, &key).await.map(AccessToken::from)
    }

    /// [`TokenManager::get`] with the key already made (handles keep theirs):
    /// the hot path is one read lock and the returned string.
    pub(crate) async fn get_keyed(&self, scope: &TokenScope, key: &str) -> Result<String, Error> {
        if let Some(source) = self.override_for(scope) {
            return Ok(source.token(scope).await?.secret().to_owned());
        }
        let now = self.now_ms();
        if let Some(token) = self.near.fresh(key, now, |o, e| self.refresh_at(o, e)) {
            return Ok(token);
        }
        if let Some(error) = self.still_gone(scope, key, now).await {
            return Err(error);
        }
        let result = self.refresh(&Credential::Token(scope.clone()), key).await;
        if let Err(error @ Error::AuthorizationGone { .. }) = &result {
            self.remember_gone(scope, error).await;
        }
        result
    }

    /// The version of the stored authorization of a corp scope, if any: what
    /// "gone" is remembered against.
    async fn authorization_version(&self, scope: &TokenScope) -> Option<u64> {
        let TokenScope::Corp { suite_id, corp_id } = scope else { return None };
        self.stored_authorization(suite_id, corp_id).await.ok().flatten().map(|r| r.version)
    }

    /// The remembered authorization-gone error of `scope`, while it holds:
    /// until it expires, or until the store holds another authorization of
    /// the corp than the one WeCom refused (a reinstall stored by any
    /// instance ends it at once).
    async fn still_gone(&self, scope: &TokenScope, key: &str, now: u64) -> Option<Error> {
        let TokenScope::Corp { suite_id, corp_id } = scope else { return None };
        let Gone { version, endpoint, code, message, .. } = self.gone.remembered(key, now)?;
        if self.authorization_version(scope).await != version {
            self.clear_gone(scope);
            return None;
        }
        Some(Error::AuthorizationGone {
            endpoint,
            suite_id: suite_id.clone(),
            corp_id: corp_id.clone(),
            code,
            message,
        })
    }

    /// Remembers that `scope`'s corp authorization is gone, with the version
    /// of the stored authorization WeCom refused.
    async fn remember_gone(&self, scope: &TokenScope, error: &Error) {
        let key = self.key_of(scope);
        let fetched_with = self.gone.fetched_with(&key);
        let ttl = self.config.tokens.authorization_gone_ttl.saturating_mul(1000);
        let (TokenScope::Corp { .. }, Error::AuthorizationGone { endpoint, code, message, .. }) =
            (scope, error)
        else {
            return;
        };
        if ttl == 0 {
            return;
        }
        let version = match fetched_with {
            Some(version) => Some(version),
            None => self.authorization_version(scope).await,
        };
        let until = self.now_ms().saturating_add(ttl);
        let gone = Gone { endpoint: endpoint.clone(), code: *code, message: message.clone(), until, version };
        self.gone.remember(key, gone);
    }

    /// Forgets that `scope`'s corp authorization was gone (a new code came).
    pub(super) fn clear_gone(&self, scope: &TokenScope) {
        self.gone.forget(&self.key_of(scope));
    }

    async fn flight<'a>(&'a self, key: &'a str) -> Flight<'a> {
        let lock = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            flights.entry(key.to_owned()).or_default().clone()
        };
        let guard = lock.clone().lock_owned().await;
        Flight { flights: &self.flights, key, lock, guard: Some(guard) }
    }

    /// Starts following the store's announcements of dropped tokens (once,
    /// from inside the runtime), and sweeps expired near-cache entries.
    fn housekeeping(&self, now: u64) {
        if !self.listening.swap(true, Ordering::AcqRel) {
            if let Some(mut announcements) = self.store.invalidations() {
                let near = Arc::downgrade(&self.near);
                tokio::spawn(async move {
                    use tokio::sync::broadcast::error::RecvError;
                    loop {
                        let key = announcements.recv().await;
                        let Some(near) = near.upgrade() else { return };
                        match key {
                            Ok(key) if key.is_empty() => near.clear(),
                            Ok(key) => near.remove(&key, None),
                            Err(RecvError::Lagged(_)) => near.clear(),
                            Err(RecvError::Closed) => return,
                        }
                    }
                });
            }
        }
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= SWEEP_EVERY_MS
            && self.last_sweep.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        {
            self.near.sweep(now);
        }
    }

    /// A store failure: serve `fallback` if it is still valid (warning once
    /// until the store answers again), else fail with the store's error.
    fn serve_or_fail(
        &self,
        scope: &Credential,
        fallback: Option<String>,
        error: Error,
    ) -> Result<String, Error> {
        match fallback {
            Some(token) => {
                if !self.store_failing.swap(true, Ordering::AcqRel) {
                    tracing::warn!(scope = %scope, error = %error, "the store failed; serving the still-valid token");
                }
                Ok(token)
            }
            None => Err(error),
        }
    }

    fn store_answered(&self) {
        if self.store_failing.swap(false, Ordering::AcqRel) {
            tracing::info!(store = %self.store.describe(), "the store answers again");
        }
    }

    /// The slow path: one caller per key in this process reads the store,
    /// and one instance among all refreshes under the store's lease.
    async fn refresh(&self, scope: &Credential, key: &str) -> Result<String, Error> {
        let _flight = self.flight(key).await;
        let now = self.now_ms();
        self.housekeeping(now);
        // Someone in this process may have refreshed while we waited.
        if let Some(token) = self.near.fresh(key, now, |o, e| self.refresh_at(o, e)) {
            return Ok(token);
        }
        let near_valid = self.near.unexpired(key, now).map(|t| t.value);
        let stored = match self.store.get_token(key).await {
            Ok(stored) => stored,
            Err(error) => return self.serve_or_fail(scope, near_valid, error),
        };
        self.store_answered();
        let now = self.now_ms();
        match &stored {
            Some(token) => {
                self.near.put(key, token, now);
                if self.is_fresh(token, now) {
                    return Ok(token.value.clone());
                }
            }
            // Dropped elsewhere (WeCom refused it): the near copy is no good.
            None => self.near.remove(key, None),
        }
        let still_valid = stored.filter(|t| t.expires_at > now).map(|t| t.value);
        self.refresh_under_lease(scope, key, still_valid).await
    }

    /// Takes the store's lease and fetches, or waits for the instance that
    /// holds it; a waiter whose wait runs out tries the lease again, and
    /// never fetches without it.
    async fn refresh_under_lease(
        &self,
        scope: &Credential,
        key: &str,
        still_valid: Option<String>,
    ) -> Result<String, Error> {
        let lease_key = keys::refresh_lease(key);
        let lease_ttl = Duration::from_secs(self.config.tokens.refresh_lease);
        // Two leases' time: a holder that died has lost its lease by then.
        let give_up_at = self.now_ms().saturating_add(2 * self.config.tokens.refresh_lease * 1000);
        loop {
            let lease = match self.store.try_lease(&lease_key, lease_ttl).await {
                Ok(lease) => lease,
                Err(error) => return self.serve_or_fail(scope, still_valid, error),
            };
            if let Some(lease) = lease {
                // The previous holder may have stored a token between our
                // read and our lease: then there is nothing to fetch.
                let result = match self.store.get_token(key).await {
                    Ok(Some(token)) if self.is_fresh(&token, self.now_ms()) => {
                        self.near.put(key, &token, self.now_ms());
                        Ok(token.value)
                    }
                    // The lease is renewed while the fetch runs: a corp's
                    // JS ticket may need its corp token, which may need the
                    // suite token, each with its retries.
                    _ => {
                        let fetch = self.fetch_and_store(scope, key, still_valid);
                        renewing(self.store.as_ref(), &lease_key, &lease, lease_ttl, fetch).await
                    }
                };
                if let Err(error) = self.store.release(&lease_key, &lease).await {
                    tracing::warn!(scope = %scope, error = %error, "could not release the refresh lease; it expires by itself");
                }
                return result;
            }
            // Another instance refreshes: serve the old token while it is
            // valid, else wait for theirs.
            if let Some(old) = still_valid {
                return Ok(old);
            }
            self.clock.sleep(LEASE_POLL).await;
            let now = self.now_ms();
            match self.store.get_token(key).await {
                Ok(Some(token)) if token.expires_at > now => {
                    self.near.put(key, &token, now);
                    return Ok(token.value);
                }
                Ok(_) => {}
                Err(error) => return Err(error),
            }
            if now >= give_up_at {
                return Err(Error::Token {
                    scope: scope.to_string(),
                    message: "another instance held the refresh lease and stored no token".into(),
                });
            }
        }
    }

    /// Fetches a token and stores it (before the caller releases the lease).
    /// A failed store write does not throw the fetched token away.
    async fn fetch_and_store(
        &self,
        scope: &Credential,
        key: &str,
        still_valid: Option<String>,
    ) -> Result<String, Error> {
        // A token's life is counted from before it was asked for: never
        // longer than WeCom's, and a fetch that started earlier is older.
        let started = self.now_ms();
        let fetched = self.fetch(scope).await;
        crate::metrics::token_fetch(scope.kind(), fetched.is_ok());
        let (token, expires_in) = match fetched {
            Ok(fetched) => fetched,
            Err(error) => {
                return match still_valid {
                    Some(old) => {
                        tracing::warn!(scope = %scope, error = %error, "token refresh failed; serving the still-valid token");
                        Ok(old)
                    }
                    None => Err(error),
                };
            }
        };
        let mut record = CachedToken {
            value: token.secret().to_owned(),
            obtained_at: started,
            expires_at: started.saturating_add(expires_in.saturating_mul(1000)),
        };
        match self.store.put_token(key, &record).await {
            Ok(true) => {}
            // A newer token is stored (a fetch that started later finished
            // first): everyone should use that one.
            Ok(false) => match self.store.get_token(key).await {
                Ok(Some(newer)) => record = newer,
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(scope = %scope, error = %error, "could not read the newer token")
                }
            },
            Err(error) => {
                tracing::warn!(scope = %scope, error = %error, "could not store the fetched token; serving it anyway")
            }
        }
        self.near.put(key, &record, self.now_ms());
        Ok(record.value)
    }

    /// A JS-SDK ticket, cached like a token: the near cache while fresh,
    /// else the store's, else one fetch among all instances.
    pub(crate) async fn ticket_of(&self, credential: &Credential) -> Result<String, Error> {
        let key = match credential {
            Credential::Token(scope) => return self.get_keyed(scope, &self.key_of(scope)).await,
            Credential::CorpTicket { suite_id, corp_id } => keys::jsapi_ticket(suite_id, corp_id),
            Credential::AgentTicket { suite_id, corp_id } => keys::agent_ticket(suite_id, corp_id),
        };
        let now = self.now_ms();
        if let Some(ticket) = self.near.fresh(&key, now, |o, e| self.refresh_at(o, e)) {
            return Ok(ticket);
        }
        self.refresh(credential, &key).await
    }

    /// Forgets `token` of `scope` if it is still the stored one, here and,
    /// through the store, in every other instance.
    pub(crate) async fn invalidate(&self, scope: &TokenScope, token: &AccessToken) {
        if let Some(source) = self.override_for(scope) {
            return source.invalidate(scope, token).await;
        }
        let key = self.key_of(scope);
        // Wait for a refresh of this key in flight here: it may have read
        // the refused token from the store and be about to keep it.
        let _flight = self.flight(&key).await;
        self.near.remove(&key, Some(token.secret()));
        match self.store.drop_token(&key, Some(token.secret())).await {
            // Whoever drops it tells the others; the rest found it gone.
            Ok(true) => {
                if let Err(e) = self.store.publish_invalidation(&key).await {
                    tracing::warn!(scope = %scope, error = %e, "could not tell the other instances");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(scope = %scope, error = %e, "could not drop an invalid token"),
        }
    }

    /// Drops the stored token of `scope`, whatever it is.
    pub(crate) async fn forget(&self, scope: &TokenScope) -> Result<(), Error> {
        let key = self.key_of(scope);
        self.near.remove(&key, None);
        self.store.drop_token(&key, None).await?;
        self.store.publish_invalidation(&key).await
    }

    /// How many tokens the near cache holds, and how many keys have a
    /// refresh lock (for tests of boundedness).
    #[cfg(test)]
    pub(crate) fn sizes(&self) -> (usize, usize) {
        (self.near.len(), self.flights.lock().unwrap_or_else(PoisonError::into_inner).len())
    }
}

impl TokenSource for TokenManager {
    fn token<'a>(&'a self, scope: &'a TokenScope) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(self.get(scope))
    }

    fn invalidate<'a>(&'a self, scope: &'a TokenScope, token: &'a AccessToken) -> BoxFuture<'a, ()> {
        Box::pin(TokenManager::invalidate(self, scope, token))
    }

    fn authorization_gone<'a>(&'a self, scope: &'a TokenScope, error: &'a Error) -> BoxFuture<'a, ()> {
        Box::pin(self.remember_gone(scope, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{StoreConfig, SuiteConfig};
    use crate::emulator::Emulator;
    use crate::Application;

    const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_refresh_locks_go_when_the_refreshes_are_done() {
        let emulator = Emulator::start().await.expect("emulator");
        let mut config = Config {
            corp_id: "wwprovider".into(),
            provider_secret: "secret".into(),
            token: "Token".into(),
            aes_key: AES_KEY.into(),
            suites: vec![SuiteConfig {
                suite_id: "wwsuite".into(),
                suite_secret: "secret".into(),
                token: "Token".into(),
                aes_key: AES_KEY.into(),
                ..Default::default()
            }],
            store: StoreConfig::memory(),
            ..Config::default()
        };
        config.http.base_uri = emulator.base_uri();
        let app = Application::new(config).expect("valid");
        app.suite("wwsuite").ticket().set("ticket").await.expect("ticket");
        let corps: Vec<String> = (0..300).map(|i| format!("wwcorp{i}")).collect();
        for corp in &corps {
            app.corp("wwsuite", corp.as_str()).permanent_code().set("code").await.expect("code");
        }
        let calls: Vec<_> = corps
            .iter()
            .flat_map(|corp| [corp.clone(), corp.clone()])
            .map(|corp| {
                let app = app.clone();
                tokio::spawn(async move { app.corp("wwsuite", corp.as_str()).access_token().get().await })
            })
            .collect();
        for call in calls {
            call.await.expect("task").expect("token");
        }
        let (near, locks) = app.token_manager().sizes();
        assert_eq!(near, 301, "300 corp tokens, the suite token and nothing else");
        assert_eq!(locks, 0, "no lock is kept for a key nobody refreshes");
    }
}
