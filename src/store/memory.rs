//! The in-process store: for tests and demos. It loses every record on
//! restart, so a production backend using it would lose its permanent codes.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::{CachedToken, LeaseId, Record, Store};
use crate::clock::{unix_ms, Clock, SystemClock};
use crate::error::Error;
use crate::future::BoxFuture;

/// An in-process [`Store`] (`memory:`): right for tests, demos and a single
/// short-lived process. **Everything is lost on restart**, permanent codes
/// included. Expiry follows the given clock.
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    next_lease: AtomicU64,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, CachedToken>,
    /// Lease key → (holder, expires at in ms).
    leases: HashMap<String, (String, u64)>,
    records: BTreeMap<String, Record>,
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        MemoryStore::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose entries expire by `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryStore { clock, state: Mutex::new(State::default()), next_lease: AtomicU64::new(1) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> u64 {
        unix_ms(self.clock.now())
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("MemoryStore")
            .field("tokens", &state.tokens.len())
            .field("records", &state.records.len())
            .finish_non_exhaustive()
    }
}

fn done<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, Result<T, Error>> {
    Box::pin(std::future::ready(Ok(value)))
}

impl Store for MemoryStore {
    fn describe(&self) -> String {
        "memory:".to_owned()
    }

    fn get_token<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CachedToken>, Error>> {
        let now = self.now();
        let mut state = self.state();
        let found = match state.tokens.get(key) {
            Some(token) if token.expires_at > now => Some(token.clone()),
            Some(_) => {
                state.tokens.remove(key);
                None
            }
            None => None,
        };
        done(found)
    }

    fn put_token<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, Result<bool, Error>> {
        let mut state = self.state();
        let newer_stored = state.tokens.get(key).is_some_and(|t| t.obtained_at > token.obtained_at);
        if !newer_stored {
            state.tokens.insert(key.to_owned(), token.clone());
        }
        done(!newer_stored)
    }

    fn drop_token<'a>(&'a self, key: &'a str, value: Option<&'a str>) -> BoxFuture<'a, Result<bool, Error>> {
        let mut state = self.state();
        let matches = state.tokens.get(key).is_some_and(|t| value.is_none_or(|v| t.value == v));
        if matches {
            state.tokens.remove(key);
        }
        done(matches)
    }

    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>> {
        let now = self.now();
        let mut state = self.state();
        let held = state.leases.get(key).is_some_and(|(_, expires)| *expires > now);
        let lease = if held {
            None
        } else {
            let id = LeaseId(self.next_lease.fetch_add(1, Ordering::Relaxed).to_string());
            let expires = now.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
            state.leases.insert(key.to_owned(), (id.0.clone(), expires));
            Some(id)
        };
        done(lease)
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>> {
        let mut state = self.state();
        if state.leases.get(key).is_some_and(|(holder, _)| *holder == lease.0) {
            state.leases.remove(key);
        }
        done(())
    }

    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let now = self.now();
        let expires = now.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        let mut state = self.state();
        // Ours (live or lapsed), or free (absent or lapsed): ours from now
        // on. Only another holder's live lease refuses.
        let taken_by_another =
            state.leases.get(key).is_some_and(|(holder, until)| *holder != lease.0 && *until > now);
        if !taken_by_another {
            state.leases.insert(key.to_owned(), (lease.0.clone(), expires));
        }
        done(!taken_by_another)
    }

    fn get_record<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        done(self.state().records.get(key).cloned())
    }

    fn put_record<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<bool, Error>> {
        let mut state = self.state();
        let newer_stored = state.records.get(key).is_some_and(|r| r.version > record.version);
        if !newer_stored {
            state.records.insert(key.to_owned(), record.clone());
        }
        done(!newer_stored)
    }

    fn replace_record<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let mut state = self.state();
        let matches = state.records.get(key).map(|r| r.version) == expected;
        if matches {
            state.records.insert(key.to_owned(), record.clone());
        }
        done(matches)
    }

    fn delete_record<'a>(&'a self, key: &'a str, before: Option<u64>) -> BoxFuture<'a, Result<bool, Error>> {
        let mut state = self.state();
        let older = state.records.get(key).is_some_and(|r| before.is_none_or(|b| r.version < b));
        if older {
            state.records.remove(key);
        }
        done(older)
    }

    fn record_keys<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        let state = self.state();
        let keys = state
            .records
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        done(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn conforms() {
        super::super::conformance::check(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn tokens_and_leases_expire_by_the_clock() {
        let clock = ManualClock::starting_now();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let now = unix_ms(clock.now());
        let token = CachedToken { value: "v".into(), obtained_at: now, expires_at: now + 10_000 };
        store.put_token("k", &token).await.unwrap();
        clock.advance(Duration::from_secs(9));
        assert!(store.get_token("k").await.unwrap().is_some());
        clock.advance(Duration::from_secs(1));
        assert_eq!(store.get_token("k").await.unwrap(), None);
        assert!(store.try_lease("l", Duration::from_secs(10)).await.unwrap().is_some());
        clock.advance(Duration::from_secs(10));
        assert!(store.try_lease("l", Duration::from_secs(10)).await.unwrap().is_some(), "expired lease");
    }

    #[tokio::test]
    async fn a_renewed_lease_outlasts_its_first_term() {
        let clock = ManualClock::starting_now();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let ttl = Duration::from_secs(10);
        let held = store.try_lease("l", ttl).await.unwrap().expect("free");
        clock.advance(Duration::from_secs(8));
        assert!(store.renew_lease("l", &held, ttl).await.unwrap());
        clock.advance(Duration::from_secs(5));
        assert!(store.try_lease("l", ttl).await.unwrap().is_none(), "13 s in: held by the renewal");
        clock.advance(Duration::from_secs(5));
        assert!(store.try_lease("l", ttl).await.unwrap().is_some(), "18 s in: the renewal lapsed too");
    }

    #[tokio::test]
    async fn a_lapsed_lease_is_renewed_unless_another_took_it() {
        let clock = ManualClock::starting_now();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let ttl = Duration::from_secs(10);
        let first = store.try_lease("l", ttl).await.unwrap().expect("free");
        clock.advance(Duration::from_secs(11));
        assert!(store.renew_lease("l", &first, ttl).await.unwrap(), "lapsed, nobody took it");
        assert!(store.try_lease("l", ttl).await.unwrap().is_none(), "taken again");
        clock.advance(Duration::from_secs(11));
        let second = store.try_lease("l", ttl).await.unwrap().expect("lapsed");
        assert!(!store.renew_lease("l", &first, ttl).await.unwrap(), "another took it");
        assert!(store.renew_lease("l", &second, ttl).await.unwrap());
        store.release("l", &first).await.unwrap();
        assert!(store.try_lease("l", ttl).await.unwrap().is_none(), "still the second holder's");
    }
}
