//! The one error type of the crate.

use std::borrow::Cow;
use std::time::Duration;

use crate::ids::{CorpId, SuiteId};

/// How much of an unexpected response body an error keeps, for diagnosis.
pub(crate) const KEPT_BODY_BYTES: usize = 1024;

/// The name of the endpoint a call went to (a method name, or the path of an
/// untyped call).
pub type EndpointName = Cow<'static, str>;

/// Everything that can go wrong. Messages name the endpoint but never contain
/// a token or a secret. Call errors record how many attempts were made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// WeCom answered with a non-zero `errcode`.
    #[error("{endpoint}: WeCom error {code}: {message} (after {attempts} attempt(s))")]
    Api {
        /// The endpoint called.
        endpoint: EndpointName,
        /// The `errcode`.
        code: i64,
        /// The `errmsg`, as sent.
        message: String,
        /// The request id WeCom puts in `errmsg` after `hint: [`, for support tickets.
        hint: Option<String>,
        /// Attempts made, retries included.
        attempts: u32,
    },
    /// The authorizing corp's authorization is gone (cancelled, permanent code
    /// invalid, corp dissolved): its cached token was dropped. Do not retry;
    /// wait for the corp to authorize again.
    #[error("{endpoint}: authorization of corp {corp_id} for suite {suite_id} is gone: WeCom error {code}: {message}")]
    AuthorizationGone {
        /// The endpoint called.
        endpoint: EndpointName,
        /// The suite.
        suite_id: SuiteId,
        /// The corp whose authorization is gone.
        corp_id: CorpId,
        /// The `errcode` (40084, 48004, 301007 or 2000002).
        code: i64,
        /// The `errmsg`.
        message: String,
    },
    /// The HTTP status was not a success (and `throw` is on).
    #[error("{endpoint}: HTTP status {status} (after {attempts} attempt(s))")]
    Status {
        /// The endpoint called.
        endpoint: EndpointName,
        /// The HTTP status code.
        status: u16,
        /// The start of the body (at most 1 KiB), lossily decoded.
        body: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The request could not be sent or the reply not received.
    #[error("{endpoint}: transport error (after {attempts} attempt(s)): {source}")]
    Transport {
        /// The endpoint called.
        endpoint: EndpointName,
        /// The underlying error, with the URL (which carries the token) removed.
        #[source]
        source: reqwest::Error,
        /// Attempts made.
        attempts: u32,
    },
    /// No reply within the configured timeout.
    #[error("{endpoint}: no reply within {timeout:?} (after {attempts} attempt(s))")]
    Timeout {
        /// The endpoint called.
        endpoint: EndpointName,
        /// The configured timeout.
        timeout: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// The reply did not decode into the documented type.
    #[error("{endpoint}: undecodable reply: {source}")]
    Decode {
        /// The endpoint called.
        endpoint: EndpointName,
        /// What serde said.
        #[source]
        source: serde_json::Error,
        /// The start of the body (at most 1 KiB), lossily decoded.
        body: String,
    },
    /// The reply was larger than the configured limit; it was not read further.
    #[error("{endpoint}: reply larger than the {limit}-byte limit")]
    TooLarge {
        /// The endpoint called.
        endpoint: EndpointName,
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// No suite ticket is stored for the suite, so no suite token can be had.
    #[error(
        "no suite_ticket for suite {suite_id}: WeCom pushes one to the suite's command callback URL \
         every 10 minutes; make sure the callback server stores it (or set one with \
         `app.suite_ticket(..).set_ticket(..)`), or re-push it from the provider admin console"
    )]
    SuiteTicketMissing {
        /// The suite.
        suite_id: SuiteId,
    },
    /// No permanent code is stored for the corp, so no corp token can be had.
    #[error(
        "no permanent code for corp {corp_id} (suite {suite_id}): it is stored when the corp \
         authorizes the suite (create_auth), or set it with `app.authorizer_access_token(..)`"
    )]
    PermanentCodeMissing {
        /// The suite.
        suite_id: SuiteId,
        /// The corp.
        corp_id: CorpId,
    },
    /// The token source could not provide the token a call needs.
    #[error("no {scope} token: {message}")]
    Token {
        /// The token's scope, e.g. `suite ww123`.
        scope: String,
        /// Why.
        message: String,
    },
    /// The store failed (unreachable, read-only, locked past the timeout, …).
    /// Records are never lost by this: the operation did not happen.
    #[error("store {store}: {operation} failed: {message}")]
    Store {
        /// Which store, e.g. `sqlite:/var/lib/isv/wecom-openwork.sqlite3` or
        /// `redis://10.0.0.5:6379/0` (never a password).
        store: String,
        /// What was being done, e.g. `get_token`, `put_record`.
        operation: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The request could not be built (a parameter that cannot be encoded, a
    /// value outside what WeCom accepts).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The configuration is unusable; the message names the field.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// WeCom error codes that mean "the token on the URL is invalid or expired".
pub const TOKEN_INVALID_CODES: &[i64] = &[40014, 40082, 42001, 42009];

/// WeCom error codes worth retrying after a pause: system busy, frequency and
/// concurrency limits.
pub const RETRYABLE_CODES: &[i64] = &[-1, 45009, 45033];

/// WeCom error codes meaning the corp's authorization is gone: invalid
/// permanent code, authorization cancelled, corp unavailable, invalid corp.
pub const AUTHORIZATION_GONE_CODES: &[i64] = &[40084, 48004, 301007, 2000002];

impl Error {
    /// The WeCom `errcode`, for [`Error::Api`] and [`Error::AuthorizationGone`].
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. } | Error::AuthorizationGone { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the token the call carried was invalid or expired.
    pub fn is_token_invalid(&self) -> bool {
        self.code().is_some_and(|c| TOKEN_INVALID_CODES.contains(&c))
    }

    /// Whether a corp's authorization is gone (see [`AUTHORIZATION_GONE_CODES`]).
    pub fn is_authorization_gone(&self) -> bool {
        self.code().is_some_and(|c| AUTHORIZATION_GONE_CODES.contains(&c))
    }

    /// Whether the same call may succeed later: transport errors, timeouts,
    /// 429 and 5xx statuses, and WeCom's busy/rate-limit codes.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { code, .. } => RETRYABLE_CODES.contains(code),
            Error::Status { status, .. } => *status == 429 || *status >= 500,
            Error::Transport { .. } | Error::Timeout { .. } => true,
            _ => false,
        }
    }

    /// How many attempts the failed call made, where that applies.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::Api { attempts, .. }
            | Error::Status { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. } => Some(*attempts),
            _ => None,
        }
    }

    /// This WeCom error, restated as the loss of `corp_id`'s authorization.
    pub(crate) fn into_authorization_gone(self, suite_id: &SuiteId, corp_id: &CorpId) -> Error {
        match self {
            Error::Api { endpoint, code, message, .. } => Error::AuthorizationGone {
                endpoint,
                suite_id: suite_id.clone(),
                corp_id: corp_id.clone(),
                code,
                message,
            },
            other => other,
        }
    }

    pub(crate) fn set_attempts(&mut self, n: u32) {
        match self {
            Error::Api { attempts, .. }
            | Error::Status { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. } => *attempts = n,
            _ => {}
        }
    }
}

/// The start of a body, for error messages.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let end = body.len().min(KEPT_BODY_BYTES);
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// The request id in an `errmsg` such as
/// `invalid suite_access_token, hint: [1574162516_60_abc], from ip: …`.
pub(crate) fn hint_of(message: &str) -> Option<String> {
    let start = message.find("hint: [")? + "hint: [".len();
    let len = message[start..].find(']')?;
    Some(message[start..start + len].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_is_taken_from_the_errmsg() {
        let msg = "invalid suite_acccess_token, hint: [1574162516_60_abc], from ip: 49.5.0.18";
        assert_eq!(hint_of(msg).as_deref(), Some("1574162516_60_abc"));
        assert_eq!(hint_of("ok"), None);
        assert_eq!(hint_of("hint: [unterminated"), None);
    }

    #[test]
    fn classification_follows_the_codes() {
        let api =
            |code| Error::Api { endpoint: "x".into(), code, message: String::new(), hint: None, attempts: 1 };
        assert!(api(42001).is_token_invalid());
        assert!(!api(42001).is_retryable());
        assert!(api(45009).is_retryable());
        assert!(api(48004).is_authorization_gone());
        assert!(!api(40029).is_retryable() && !api(40029).is_token_invalid());
        let status =
            |status| Error::Status { endpoint: "x".into(), status, body: String::new(), attempts: 1 };
        assert!(status(503).is_retryable() && status(429).is_retryable());
        assert!(!status(404).is_retryable());
    }
}
