//! Where tokens, tickets and permanent codes live: a small async key-value
//! interface with TTLs and a lease, so several instances can share one store
//! and agree on who refreshes a token.
//!
//! Keys name a scope and never contain a secret (see [`keys`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::ids::{CorpId, SuiteId};
use crate::token::BoxFuture;

/// Proof of holding a lease, given back to release it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseId(pub String);

/// Async key-value storage with expiry and an atomic lease.
///
/// Implement it over Redis (or any shared store) to run many instances: the
/// lease must be atomic across them (`SET key id NX PX ttl` in Redis).
pub trait Store: Send + Sync {
    /// The value of `key`, if set and not expired.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, Error>>;
    /// Sets `key` to `value`, expiring after `ttl`.
    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), Error>>;
    /// Removes `key` (no error if absent).
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>>;
    /// Takes the lease `key` for `ttl` if nobody holds it: "I refresh this".
    /// `None` means someone else holds it.
    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>>;
    /// Gives a lease back early; only its holder's id releases it.
    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>>;
}

/// Store keys, one per scope. Ids only: no secret, ticket or code in a key.
pub mod keys {
    use super::{CorpId, SuiteId};

    const PREFIX: &str = "wecom-openwork";

    /// The provider access token of provider `corp_id`.
    pub fn provider_token(corp_id: &CorpId) -> String {
        format!("{PREFIX}:provider_token:{corp_id}")
    }

    /// The suite access token of `suite_id`.
    pub fn suite_token(suite_id: &SuiteId) -> String {
        format!("{PREFIX}:suite_token:{suite_id}")
    }

    /// The latest suite ticket of `suite_id`.
    pub fn suite_ticket(suite_id: &SuiteId) -> String {
        format!("{PREFIX}:suite_ticket:{suite_id}")
    }

    /// The access token of corp `corp_id` authorized through `suite_id`.
    pub fn corp_token(suite_id: &SuiteId, corp_id: &CorpId) -> String {
        format!("{PREFIX}:corp_token:{suite_id}:{corp_id}")
    }

    /// The permanent code of corp `corp_id` for `suite_id`.
    pub fn permanent_code(suite_id: &SuiteId, corp_id: &CorpId) -> String {
        format!("{PREFIX}:permanent_code:{suite_id}:{corp_id}")
    }

    /// The refresh lease of the token stored under `token_key`.
    pub fn refresh_lease(token_key: &str) -> String {
        format!("{token_key}:refreshing")
    }
}

/// An in-process [`Store`]: the default, right for a single instance.
/// Expiry follows the given clock.
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<String, (String, SystemTime)>>,
    next_lease: AtomicU64,
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        MemoryStore::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose entries expire by `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryStore { clock, entries: Mutex::new(HashMap::new()), next_lease: AtomicU64::new(1) }
    }

    fn live(&self, key: &str) -> Option<String> {
        let now = self.clock.now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some((value, expires)) if *expires > now => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.entries.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("MemoryStore").field("entries", &len).finish_non_exhaustive()
    }
}

impl Store for MemoryStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(std::future::ready(Ok(self.live(key))))
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), Error>> {
        let expires = self.clock.now() + ttl;
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.insert(key.to_owned(), (value.to_owned(), expires));
        Box::pin(std::future::ready(Ok(())))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
        Box::pin(std::future::ready(Ok(())))
    }

    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>> {
        let now = self.clock.now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let held = entries.get(key).is_some_and(|(_, expires)| *expires > now);
        let lease = if held {
            None
        } else {
            let id = LeaseId(self.next_lease.fetch_add(1, Ordering::Relaxed).to_string());
            entries.insert(key.to_owned(), (id.0.clone(), now + ttl));
            Some(id)
        };
        Box::pin(std::future::ready(Ok(lease)))
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.get(key).is_some_and(|(holder, _)| *holder == lease.0) {
            entries.remove(key);
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn entries_expire_by_the_clock() {
        let clock = ManualClock::starting_now();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        store.set("k", "v", Duration::from_secs(10)).await.unwrap();
        clock.advance(Duration::from_secs(9));
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some("v"));
        clock.advance(Duration::from_secs(1));
        assert_eq!(store.get("k").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_lease_has_one_holder_until_released_or_expired() {
        let clock = ManualClock::starting_now();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let first = store.try_lease("l", Duration::from_secs(10)).await.unwrap().expect("free");
        assert!(store.try_lease("l", Duration::from_secs(10)).await.unwrap().is_none());
        store.release("l", &LeaseId("someone else".into())).await.unwrap();
        assert!(store.try_lease("l", Duration::from_secs(10)).await.unwrap().is_none());
        store.release("l", &first).await.unwrap();
        let second = store.try_lease("l", Duration::from_secs(10)).await.unwrap().expect("released");
        assert_ne!(first, second);
        clock.advance(Duration::from_secs(10));
        assert!(store.try_lease("l", Duration::from_secs(10)).await.unwrap().is_some());
    }

    #[test]
    fn keys_name_scopes_only() {
        let suite = SuiteId::new("wwsuite");
        let corp = CorpId::new("wwcorp");
        assert_eq!(keys::corp_token(&suite, &corp), "wecom-openwork:corp_token:wwsuite:wwcorp");
        assert_ne!(keys::suite_token(&suite), keys::suite_ticket(&suite));
        assert_ne!(keys::corp_token(&suite, &corp), keys::permanent_code(&suite, &corp));
    }
}
