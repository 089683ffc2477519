//! Remembers recently seen callbacks, so a replayed one is acknowledged
//! without being handled twice (WeCom itself re-sends when a reply is late).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// Most entries kept; past it, expired ones are dropped, then the oldest.
const MAX_ENTRIES: usize = 100_000;

pub(crate) struct ReplayCache {
    window: Duration,
    seen: Mutex<HashMap<String, SystemTime>>,
}

impl ReplayCache {
    pub(crate) fn new(window: Duration) -> Self {
        ReplayCache { window, seen: Mutex::new(HashMap::new()) }
    }

    /// Records `key` at `now`; whether it was already seen within the window.
    pub(crate) fn seen_before(&self, key: String, now: SystemTime) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = |at: &SystemTime| now.duration_since(*at).map_or(true, |age| age < self.window);
        if let Some(at) = seen.get(&key) {
            if fresh(at) {
                return true;
            }
        }
        if seen.len() >= MAX_ENTRIES {
            seen.retain(|_, at| fresh(at));
            if seen.len() >= MAX_ENTRIES {
                if let Some(oldest) = seen.iter().min_by_key(|(_, at)| **at).map(|(k, _)| k.clone()) {
                    seen.remove(&oldest);
                }
            }
        }
        seen.insert(key, now);
        false
    }
}
