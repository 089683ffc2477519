//! Remembers pushes already handled, so WeCom's retries of one (and replayed
//! captures) are acknowledged without a second run. A push is remembered
//! only after it was handled: a retry after a failed handler is handled.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// Most entries kept; past it, expired ones are dropped, then the oldest.
const MAX_ENTRIES: usize = 100_000;

pub(crate) struct ReplayCache {
    window: Duration,
    seen: Mutex<HashMap<String, SystemTime>>,
}

/// What makes a push the same push when WeCom sends it again: `MsgId` for
/// messages; `FromUserName` + `CreateTime` (+ the event) for events; the
/// suite, `InfoType`, `TimeStamp` and what the command is about (the corp,
/// or a digest of the auth code) for command events, so that two corps
/// installing in the same second are two pushes.
pub(crate) fn identity(fields: &Map<String, Value>) -> String {
    let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::trim).unwrap_or("");
    if !text("MsgId").is_empty() {
        return format!("msg:{}", text("MsgId"));
    }
    if !text("FromUserName").is_empty() && !text("CreateTime").is_empty() {
        return format!(
            "event:{}:{}:{}:{}:{}",
            text("FromUserName"),
            text("CreateTime"),
            text("Event"),
            text("ChangeType"),
            text("EventKey")
        );
    }
    let code = text("AuthCode");
    let code_digest: String = if code.is_empty() {
        String::new()
    } else {
        Sha1::digest(code.as_bytes()).iter().take(10).map(|b| format!("{b:02x}")).collect()
    };
    format!(
        "command:{}:{}:{}:{}:{}:{}:{}",
        text("SuiteId"),
        text("InfoType"),
        text("TimeStamp"),
        text("AuthCorpId"),
        text("ChangeType"),
        text("UserID"),
        code_digest
    )
}

impl ReplayCache {
    pub(crate) fn new(window: Duration) -> Self {
        ReplayCache { window, seen: Mutex::new(HashMap::new()) }
    }

    fn fresh(&self, at: &SystemTime, now: SystemTime) -> bool {
        now.duration_since(*at).map_or(true, |age| age < self.window)
    }

    /// Whether `key` was handled within the window.
    pub(crate) fn seen(&self, key: &str, now: SystemTime) -> bool {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.get(key).is_some_and(|at| self.fresh(at, now))
    }

    /// Records `key` as handled at `now`.
    pub(crate) fn remember(&self, key: String, now: SystemTime) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= MAX_ENTRIES {
            seen.retain(|_, at| now.duration_since(*at).map_or(true, |age| age < self.window));
            if seen.len() >= MAX_ENTRIES {
                if let Some(oldest) = seen.iter().min_by_key(|(_, at)| **at).map(|(k, _)| k.clone()) {
                    seen.remove(&oldest);
                }
            }
        }
        seen.insert(key, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect()
    }

    #[test]
    fn two_corps_installing_in_the_same_second_are_two_pushes() {
        let a =
            fields(&[("SuiteId", "s"), ("InfoType", "create_auth"), ("TimeStamp", "1"), ("AuthCode", "a")]);
        let b =
            fields(&[("SuiteId", "s"), ("InfoType", "create_auth"), ("TimeStamp", "1"), ("AuthCode", "b")]);
        assert_ne!(identity(&a), identity(&b));
        assert_eq!(identity(&a), identity(&a.clone()));
        assert!(!identity(&a).contains(":a"), "the auth code itself is not kept");
        let m = fields(&[("MsgId", "42"), ("FromUserName", "u"), ("CreateTime", "1")]);
        assert_eq!(identity(&m), "msg:42");
    }

    #[test]
    fn only_remembered_pushes_are_seen_and_only_within_the_window() {
        let cache = ReplayCache::new(Duration::from_secs(10));
        let now = SystemTime::now();
        assert!(!cache.seen("k", now));
        cache.remember("k".into(), now);
        assert!(cache.seen("k", now + Duration::from_secs(9)));
        assert!(!cache.seen("k", now + Duration::from_secs(10)));
    }
}
