//! The near cache: tokens kept in process in front of any store, so a cached
//! `get_token()` makes no store round trip, takes no lock across an await and
//! allocates only the string it returns.
//!
//! An entry is served until the refresh margin, and for at most the store's
//! [`near_cache_ttl`](crate::store::Store::near_cache_ttl) since it was last
//! read from (or written to) the store: another instance that drops a token
//! is heard within that time, or at once through the store's invalidation
//! channel.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use crate::store::CachedToken;

/// A token and when this instance last saw it in the store.
struct Entry {
    token: Box<str>,
    obtained_at: u64,
    expires_at: u64,
    /// Milliseconds since the epoch after which the store is asked again.
    recheck_at: u64,
}

/// Tokens by store key.
pub(crate) struct NearCache {
    entries: RwLock<HashMap<Box<str>, Entry>>,
    /// How long an entry is served without asking the store, in ms.
    ttl_ms: u64,
}

impl NearCache {
    pub(crate) fn new(ttl_ms: u64) -> Self {
        NearCache { entries: RwLock::new(HashMap::new()), ttl_ms }
    }

    /// The token under `key` if it is still outside the refresh margin
    /// (`refresh_at` gives, for a token, when it enters it) and was checked
    /// against the store recently.
    pub(crate) fn fresh(&self, key: &str, now: u64, refresh_at: impl Fn(u64, u64) -> u64) -> Option<String> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(key)?;
        (now < entry.recheck_at && now < refresh_at(entry.obtained_at, entry.expires_at))
            .then(|| String::from(&*entry.token))
    }

    /// The token under `key` while it has not expired, however long ago it
    /// was checked: what to serve when the store cannot be reached.
    pub(crate) fn unexpired(&self, key: &str, now: u64) -> Option<CachedToken> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(key).filter(|e| now < e.expires_at)?;
        Some(CachedToken {
            value: entry.token.to_string(),
            obtained_at: entry.obtained_at,
            expires_at: entry.expires_at,
        })
    }

    /// Keeps `token` (just read from or written to the store) under `key`.
    pub(crate) fn put(&self, key: &str, token: &CachedToken, now: u64) {
        let entry = Entry {
            token: token.value.as_str().into(),
            obtained_at: token.obtained_at,
            expires_at: token.expires_at,
            recheck_at: now.saturating_add(self.ttl_ms),
        };
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        match entries.get_mut(key) {
            Some(existing) => *existing = entry,
            None => {
                entries.insert(key.into(), entry);
            }
        }
    }

    /// Forgets `key`, if its token is `value` (any token when `None`).
    pub(crate) fn remove(&self, key: &str, value: Option<&str>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.get(key).is_some_and(|e| value.is_none_or(|v| &*e.token == v)) {
            entries.remove(key);
        }
    }

    /// Forgets every entry (after missing announcements of dropped tokens).
    pub(crate) fn clear(&self) {
        self.entries.write().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// Drops expired entries, so the cache follows the corps in use.
    pub(crate) fn sweep(&self, now: u64) {
        self.entries.write().unwrap_or_else(PoisonError::into_inner).retain(|_, e| now < e.expires_at);
    }

    /// How many tokens are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str, expires_at: u64) -> CachedToken {
        CachedToken { value: value.into(), obtained_at: 0, expires_at }
    }

    #[test]
    fn entries_are_served_until_the_margin_or_the_recheck() {
        let cache = NearCache::new(1000);
        let margin = |_, expires_at| expires_at - 300;
        cache.put("k", &token("a", 10_000), 0);
        assert_eq!(cache.fresh("k", 999, margin).as_deref(), Some("a"));
        assert_eq!(cache.fresh("k", 1000, margin), None, "checked against the store after 1 s");
        assert!(cache.unexpired("k", 9_999).is_some(), "still usable when the store is down");
        cache.put("k", &token("a", 10_000), 9_000);
        assert_eq!(cache.fresh("k", 9_700, margin), None, "inside the margin");
        cache.remove("k", Some("other"));
        assert_eq!(cache.len(), 1);
        cache.remove("k", Some("a"));
        assert_eq!(cache.len(), 0);
        cache.put("x", &token("x", 5), 0);
        cache.put("y", &token("y", 50), 0);
        cache.sweep(10);
        assert_eq!(cache.len(), 1);
        cache.clear();
        assert_eq!(cache.len(), 0);
    }
}
