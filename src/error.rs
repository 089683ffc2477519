//! The one error type of the crate.

use std::time::Duration;

/// How much of an unexpected response body an error keeps, for diagnosis.
pub(crate) const KEPT_BODY_BYTES: usize = 1024;

/// Everything that can go wrong in a call.
///
/// Messages name the endpoint but never contain a token or a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// WeCom answered with a non-zero `errcode`.
    #[error("{endpoint}: WeCom error {code}: {message}")]
    Api {
        /// The endpoint called (its method name).
        endpoint: &'static str,
        /// The `errcode`.
        code: i64,
        /// The `errmsg`, as sent.
        message: String,
        /// The request id WeCom puts in `errmsg` after `hint: [`, for support tickets.
        hint: Option<String>,
    },
    /// The HTTP status was not a success.
    #[error("{endpoint}: HTTP status {status}")]
    Status {
        /// The endpoint called.
        endpoint: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The start of the body (at most 1 KiB), lossily decoded.
        body: String,
    },
    /// The request could not be sent or the reply not received.
    #[error("{endpoint}: transport error: {source}")]
    Transport {
        /// The endpoint called.
        endpoint: &'static str,
        /// The underlying error, with the URL (which carries the token) removed.
        #[source]
        source: reqwest::Error,
    },
    /// No reply within the configured timeout.
    #[error("{endpoint}: no reply within {timeout:?}")]
    Timeout {
        /// The endpoint called.
        endpoint: &'static str,
        /// The configured timeout.
        timeout: Duration,
    },
    /// The reply did not decode into the documented type.
    #[error("{endpoint}: undecodable reply: {source}")]
    Decode {
        /// The endpoint called.
        endpoint: &'static str,
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
        endpoint: &'static str,
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// The token source could not provide the token a call needs.
    #[error("no {scope} token: {message}")]
    Token {
        /// The token's scope, e.g. `suite ww123`.
        scope: String,
        /// Why.
        message: String,
    },
    /// The request could not be built (a parameter that cannot be encoded, a
    /// value outside what WeCom accepts).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client's configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// WeCom error codes that mean "the token on the URL is invalid or expired".
pub const TOKEN_INVALID_CODES: &[i64] = &[40014, 40082, 42001, 42009];

/// WeCom error codes worth retrying after a pause: system busy, frequency and
/// concurrency limits.
pub const RETRYABLE_CODES: &[i64] = &[-1, 45009, 45033];

impl Error {
    /// The WeCom `errcode`, for [`Error::Api`].
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the token the call carried was invalid or expired: refetch it
    /// and try once more.
    pub fn is_token_invalid(&self) -> bool {
        self.code()
            .is_some_and(|c| TOKEN_INVALID_CODES.contains(&c))
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
        let api = |code| Error::Api {
            endpoint: "x",
            code,
            message: String::new(),
            hint: None,
        };
        assert!(api(42001).is_token_invalid());
        assert!(!api(42001).is_retryable());
        assert!(api(45009).is_retryable());
        assert!(!api(40029).is_retryable() && !api(40029).is_token_invalid());
        let status = |status| Error::Status {
            endpoint: "x",
            status,
            body: String::new(),
        };
        assert!(status(503).is_retryable() && status(429).is_retryable());
        assert!(!status(404).is_retryable());
    }
}
