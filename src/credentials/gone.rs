//! What this process remembers of WeCom saying a corp's authorization is
//! gone: repeated without asking WeCom again, until it expires or the store
//! holds another authorization than the one WeCom refused.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// A remembered "authorization gone": WeCom's answer and until when (ms).
#[derive(Clone)]
pub(super) struct Gone {
    pub(super) endpoint: crate::error::EndpointName,
    pub(super) code: i64,
    pub(super) message: String,
    pub(super) until: u64,
    /// The version of the stored authorization WeCom refused.
    pub(super) version: Option<u64>,
}

/// The refusals, and the authorization version each corp token was fetched
/// with, by token key.
#[derive(Default)]
pub(super) struct GoneMemory {
    gone: Mutex<HashMap<String, Gone>>,
    fetched_with: Mutex<HashMap<String, u64>>,
}

impl GoneMemory {
    /// The refusal remembered for `key`, while it holds at `now`.
    pub(super) fn remembered(&self, key: &str, now: u64) -> Option<Gone> {
        let mut gone = self.gone.lock().unwrap_or_else(PoisonError::into_inner);
        match gone.get(key) {
            Some(g) if now < g.until => Some(g.clone()),
            Some(_) => {
                gone.remove(key);
                None
            }
            None => None,
        }
    }

    pub(super) fn remember(&self, key: String, gone: Gone) {
        self.gone.lock().unwrap_or_else(PoisonError::into_inner).insert(key, gone);
    }

    pub(super) fn forget(&self, key: &str) {
        self.gone.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }

    /// The authorization version `key`'s token was last fetched with: what a
    /// "gone" from WeCom is about.
    pub(super) fn fetched_with(&self, key: &str) -> Option<u64> {
        self.fetched_with.lock().unwrap_or_else(PoisonError::into_inner).get(key).copied()
    }

    pub(super) fn fetching_with(&self, key: String, version: u64) {
        self.fetched_with.lock().unwrap_or_else(PoisonError::into_inner).insert(key, version);
    }
}
