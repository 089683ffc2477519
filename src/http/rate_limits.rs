//! WeCom's rate limits remembered per caller: after a refusal, further calls
//! to that endpoint by the same token scope (or, for a token fetch, the same
//! suite or corp) fail at once for the pause, without reaching WeCom.

use std::collections::HashMap;
use std::sync::PoisonError;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::{Client, Target, TokenUse};
use crate::error::Error;

/// What a rate limit is remembered by: the endpoint's path, and whose call
/// it was (the token scope; for a token fetch, the corp or suite it names).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct LimitKey {
    path: String,
    subject: String,
}

/// A remembered rate limit: until when, and WeCom's reply.
pub(super) struct Limited {
    until: SystemTime,
    code: i64,
    message: String,
    hint: Option<String>,
}

/// The ids a token fetch's body names, for [`LimitKey::subject`].
#[derive(Deserialize)]
struct Subject {
    auth_corpid: Option<String>,
    suite_id: Option<String>,
    corpid: Option<String>,
}

impl Client {
    /// The key a rate limit on this call is remembered by.
    fn limit_key(target: &Target<'_>, tokens: TokenUse<'_>, body: Option<&[u8]>) -> LimitKey {
        let subject = match tokens {
            TokenUse::Scope(scope) => scope.to_string(),
            TokenUse::Given(_) | TokenUse::Without => body
                .and_then(|b| serde_json::from_slice::<Subject>(b).ok())
                .and_then(|s| s.auth_corpid.or(s.suite_id).or(s.corpid))
                .unwrap_or_default(),
        };
        LimitKey { path: target.path.to_owned(), subject }
    }

    fn limits(&self) -> std::sync::MutexGuard<'_, HashMap<LimitKey, Limited>> {
        self.inner.limited.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`Error::RateLimited`] if WeCom limited this endpoint for this caller
    /// less than the pause ago; `attempts` is what the call made so far.
    pub(super) fn known_limit(
        &self,
        target: &Target<'_>,
        tokens: TokenUse<'_>,
        body: Option<&[u8]>,
        key: &mut Option<LimitKey>,
        attempts: u32,
    ) -> Option<Error> {
        if self.limits().is_empty() {
            return None;
        }
        let key = key.get_or_insert_with(|| Client::limit_key(target, tokens, body));
        let now = self.inner.clock.now();
        let limits = self.limits();
        let limited = limits.get(key)?;
        let retry_after = limited.until.duration_since(now).ok().filter(|d| !d.is_zero())?;
        Some(Error::RateLimited {
            endpoint: target.name.clone(),
            code: limited.code,
            message: limited.message.clone(),
            hint: limited.hint.clone(),
            retry_after,
            attempts,
        })
    }

    /// Remembers, for `pause` from now, that WeCom rate-limited this call.
    pub(super) fn remember_limit(
        &self,
        target: &Target<'_>,
        tokens: TokenUse<'_>,
        body: Option<&[u8]>,
        key: &mut Option<LimitKey>,
        error: &Error,
        pause: Duration,
    ) {
        let Error::Api { code, message, hint, .. } = error else { return };
        if pause.is_zero() {
            return;
        }
        let now = self.inner.clock.now();
        let Some(until) = now.checked_add(pause) else { return };
        let key = key.get_or_insert_with(|| Client::limit_key(target, tokens, body)).clone();
        let limited = Limited { until, code: *code, message: message.clone(), hint: hint.clone() };
        let mut limits = self.limits();
        limits.retain(|_, l| l.until > now);
        limits.insert(key, limited);
    }
}
