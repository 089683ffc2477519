//! The one error type of the crate.

use std::borrow::Cow;
use std::time::Duration;

use crate::ids::AppKind;
use crate::ids::{CorpId, SuiteId};

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
    /// WeCom refused the call for calling too often (45009) or too many at
    /// once (45033). The call waited [`RetryPolicy::rate_limit_pause`] once
    /// (unless retries are off, or it was a token fetch) and was still
    /// refused; or it was not sent at all, because an earlier call to the
    /// same endpoint for the same token scope was refused less than that pause
    /// ago (then `attempts` is 0). Try again after `retry_after`.
    ///
    /// [`RetryPolicy::rate_limit_pause`]: crate::RetryPolicy::rate_limit_pause
    #[error(
        "{endpoint}: rate-limited by WeCom (error {code}: {message}); retry after {retry_after:?} \
         (after {attempts} attempt(s))"
    )]
    RateLimited {
        /// The endpoint called.
        endpoint: EndpointName,
        /// The `errcode`: 45009 (frequency) or 45033 (concurrency).
        code: i64,
        /// The `errmsg`, as sent.
        message: String,
        /// The request id in `errmsg`, for support tickets.
        hint: Option<String>,
        /// How long until the endpoint may be called again for this scope.
        retry_after: Duration,
        /// Attempts made, retries included; 0 when the call was refused
        /// without being sent.
        attempts: u32,
    },
    /// WeCom refuses calls from this server's IP address (60020): add the
    /// address to the provider's IP allow-list (服务商管理后台, IP白名单) or
    /// to the app's trusted IPs (企业可信IP, 代开发). Not retried.
    #[error(
        "{endpoint}: WeCom refuses calls from {} (error 60020): add it to the allowed IPs (after {attempts} attempt(s))",
        ip.as_deref().unwrap_or("this server's IP")
    )]
    IpNotAllowed {
        /// The endpoint called.
        endpoint: EndpointName,
        /// The refused address, as WeCom reports it after `from ip:` in
        /// `errmsg`, when it is an IP address.
        ip: Option<String>,
        /// The `errmsg`, as sent.
        message: String,
        /// The request id in `errmsg`, for support tickets.
        hint: Option<String>,
        /// Attempts made.
        attempts: u32,
    },
    /// The HTTP status was not a success (and `throw` is on).
    #[error("{endpoint}: HTTP status {status} (after {attempts} attempt(s))")]
    Status {
        /// The endpoint called.
        endpoint: EndpointName,
        /// The HTTP status code.
        status: u16,
        /// The start of the body (at most 1 KiB), lossily decoded, with the
        /// values of secret-named keys (tokens, tickets, codes, secrets)
        /// replaced by `<redacted>`.
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
        source: Box<dyn std::error::Error + Send + Sync>,
        /// Whether the request may have reached WeCom (`false`: the
        /// connection was never made, so nothing was spent).
        request_sent: bool,
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
        /// What serde said (any string value it quotes replaced by
        /// `<redacted>`, as it may be a secret).
        #[source]
        source: serde_json::Error,
        /// The start of the body (at most 1 KiB), lossily decoded, with the
        /// values of secret-named keys (tokens, tickets, codes, secrets)
        /// replaced by `<redacted>`, even when the body is not valid JSON.
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
         `app.suite(..).ticket().set(..)`), or re-push it from the provider admin console"
    )]
    SuiteTicketMissing {
        /// The suite.
        suite_id: SuiteId,
    },
    /// No permanent code is stored for the corp, so no corp token can be had.
    #[error(
        "no permanent code for corp {corp_id} (suite {suite_id}): it is stored when the corp \
         authorizes the suite (create_auth), or set it with `app.corp(..).permanent_code().set(..)`"
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
    /// A file to upload is outside the sizes WeCom accepts for it; it was
    /// not sent.
    #[error(
        "{endpoint}: a file of {size} bytes cannot be uploaded here: WeCom accepts {min} to {max} bytes"
    )]
    UploadSize {
        /// The upload endpoint.
        endpoint: EndpointName,
        /// The file's size, in bytes.
        size: u64,
        /// The smallest size accepted, in bytes.
        min: u64,
        /// The largest size accepted (for this kind of file), in bytes.
        max: u64,
    },
    /// The request could not be built (a parameter that cannot be encoded, a
    /// value outside what WeCom accepts).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The configuration is unusable; the message names the field.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An install redirect's auth code did not become a stored
    /// authorization: WeCom refused it (`pending` false: the corp must
    /// authorize again, or the provider reset its permanent code), or the
    /// exchange was still running when the wait ended (`pending` true:
    /// `on_authorized` reports it).
    #[error("the install of suite {suite_id} did not complete: {reason}")]
    InstallIncomplete {
        /// The suite being installed.
        suite_id: SuiteId,
        /// What happened.
        reason: String,
        /// Whether the exchange is still going on in the background.
        pending: bool,
    },
    /// The suite is of a kind that may not make this call (a 代开发 suite
    /// calling `get_user_info_3rd`, a third-party suite calling
    /// `get_user_info`, …): it was refused before it was sent.
    #[error("{endpoint}: suite {suite_id} is a {kind} app, which may not make this call; it was not sent")]
    AppKindNotAllowed {
        /// The endpoint refused.
        endpoint: EndpointName,
        /// The suite the call was made for.
        suite_id: SuiteId,
        /// The suite's configured kind.
        kind: AppKind,
    },
}

/// WeCom error codes that mean "the token on the URL is invalid or expired".
pub const TOKEN_INVALID_CODES: &[i64] = &[40014, 40082, 42001, 42009];

/// WeCom error codes worth retrying after a pause: system busy, frequency and
/// concurrency limits. The last two become [`Error::RateLimited`].
pub const RETRYABLE_CODES: &[i64] = &[-1, 45009, 45033];

/// WeCom error codes of its rate limits: frequency (45009) and concurrency
/// (45033). WeCom blocks a limited caller for a while (a minute for the
/// per-minute limits); calls get [`Error::RateLimited`].
pub const RATE_LIMIT_CODES: &[i64] = &[45009, 45033];

/// WeCom's error code for a call from an IP address it does not allow
/// ([`Error::IpNotAllowed`]).
pub const IP_NOT_ALLOWED_CODE: i64 = 60020;

/// WeCom error codes meaning the corp's authorization is gone: invalid
/// permanent code, authorization cancelled, corp unavailable, invalid corp.
pub const AUTHORIZATION_GONE_CODES: &[i64] = &[40084, 48004, 301007, 2000002];

impl Error {
    /// The WeCom `errcode`, for the errors WeCom answered with:
    /// [`Error::Api`], [`Error::AuthorizationGone`], [`Error::RateLimited`]
    /// and [`Error::IpNotAllowed`].
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. }
            | Error::AuthorizationGone { code, .. }
            | Error::RateLimited { code, .. } => Some(*code),
            Error::IpNotAllowed { .. } => Some(IP_NOT_ALLOWED_CODE),
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
    /// 429 and 5xx statuses, WeCom's busy code, and rate limits (after
    /// their `retry_after`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { code, .. } => RETRYABLE_CODES.contains(code),
            Error::RateLimited { .. } => true,
            Error::Status { status, .. } => *status == 429 || *status >= 500,
            Error::Transport { .. } | Error::Timeout { .. } => true,
            _ => false,
        }
    }

    /// How long to wait before calling again, for [`Error::RateLimited`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// How many attempts the failed call made, where that applies.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::Api { attempts, .. }
            | Error::RateLimited { attempts, .. }
            | Error::IpNotAllowed { attempts, .. }
            | Error::Status { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. } => Some(*attempts),
            _ => None,
        }
    }

    /// When this is WeCom saying the authorization is gone (see
    /// [`Error::is_authorization_gone`]), the same error restated as the loss
    /// of `corp_id`'s authorization; any other error unchanged.
    pub(crate) fn into_authorization_gone(self, suite_id: &SuiteId, corp_id: &CorpId) -> Error {
        if !self.is_authorization_gone() {
            return self;
        }
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

    /// This rate-limit reply, as [`Error::RateLimited`] with `retry_after`.
    pub(crate) fn into_rate_limited(self, retry_after: Duration) -> Error {
        match self {
            Error::Api { endpoint, code, message, hint, attempts } => {
                Error::RateLimited { endpoint, code, message, hint, retry_after, attempts }
            }
            other => other,
        }
    }

    pub(crate) fn set_attempts(&mut self, n: u32) {
        match self {
            Error::Api { attempts, .. }
            | Error::RateLimited { attempts, .. }
            | Error::IpNotAllowed { attempts, .. }
            | Error::Status { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. } => *attempts = n,
            _ => {}
        }
    }
}

/// The error for a reply with a non-zero `errcode`: [`Error::IpNotAllowed`]
/// for 60020, [`Error::Api`] otherwise (the call loop turns rate limits into
/// [`Error::RateLimited`], as their `retry_after` depends on its policy).
pub(crate) fn api_error(endpoint: EndpointName, code: i64, message: String) -> Error {
    let hint = hint_of(&message);
    if code == IP_NOT_ALLOWED_CODE {
        return Error::IpNotAllowed { endpoint, ip: ip_of(&message), message, hint, attempts: 1 };
    }
    Error::Api { endpoint, code, message, hint, attempts: 1 }
}

/// The request id in an `errmsg` such as
/// `invalid suite_access_token, hint: [1574162516_60_abc], from ip: …`.
pub(crate) fn hint_of(message: &str) -> Option<String> {
    let start = message.find("hint: [")? + "hint: [".len();
    let len = message[start..].find(']')?;
    Some(message[start..start + len].to_owned())
}

/// The caller's address in an `errmsg` such as
/// `not allow to access from your ip, hint: [1606728573_xxx], from ip: 1.2.3.4, more info at …`,
/// when it is an IPv4 or IPv6 address.
pub(crate) fn ip_of(message: &str) -> Option<String> {
    let start = message.find("from ip:")? + "from ip:".len();
    let rest = message[start..].trim_start();
    let end = rest.find(|c: char| c == ',' || c.is_whitespace()).unwrap_or(rest.len());
    rest[..end].parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
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

    #[test]
    fn the_refused_ip_is_taken_from_the_errmsg() {
        let msg = "not allow to access from your ip, hint: [1606728573_xxx], from ip: 1.2.3.4, \
                   more info at https://open.work.weixin.qq.com/devtool/query?e=60020";
        assert_eq!(ip_of(msg).as_deref(), Some("1.2.3.4"));
        assert_eq!(ip_of("from ip: 2001:db8::1, more").as_deref(), Some("2001:db8::1"));
        assert_eq!(ip_of("from ip:10.0.0.1").as_deref(), Some("10.0.0.1"));
        // Masked, missing or garbled addresses give none.
        for message in ["from ip: ***********, more", "from ip: ", "from ip:", "no ip here", "from ip: 1.2.3"]
        {
            assert_eq!(ip_of(message), None, "{message}");
        }
        match api_error("x".into(), 60020, msg.to_owned()) {
            Error::IpNotAllowed { ip, hint, .. } => {
                assert_eq!(ip.as_deref(), Some("1.2.3.4"));
                assert_eq!(hint.as_deref(), Some("1606728573_xxx"));
            }
            other => panic!("{other:?}"),
        }
    }
}
