//! What the call loop does after a failed attempt, decided without I/O:
//! the error, what the call has done so far and the policy go in; one
//! [`Next`] comes out. The loop only carries it out, so every rule is
//! checked from a table below without a server.

use std::time::Duration;

use super::retry::RetryPolicy;
use crate::error::{Error, RATE_LIMIT_CODES};

/// What the loop does next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Next {
    /// Drop the refused token and try again with a fresh one (once).
    Refetch,
    /// The corp's authorization is gone: drop its token, remember, fail.
    Gone,
    /// WeCom's rate limit: wait this long once, then try again.
    Pause(Duration),
    /// Try again after this back-off.
    BackOff(Duration),
    /// Fail as rate-limited, retry after this long.
    RateLimited(Duration),
    /// Fail with the error as it is.
    Fail,
}

/// What kind of call failed: fixed for the whole call.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Call {
    /// The token came from the token source by scope (it can be refetched,
    /// and the call may pause: it holds no refresh lease).
    pub(crate) scoped_token: bool,
    /// The scope is an authorized corp's (its authorization can be gone).
    pub(crate) corp_scope: bool,
    /// Sending it twice does no harm (see [`RetryPolicy::should_retry`]).
    pub(crate) retry_safe: bool,
}

/// What the call has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct SoFar {
    /// A refused token was refetched already.
    pub(crate) refetched: bool,
    /// The call paused on a rate limit already.
    pub(crate) paused: bool,
    /// Back-offs taken.
    pub(crate) retries: u32,
}

impl SoFar {
    /// What the call has done once `next` is carried out.
    pub(crate) fn after(self, next: Next) -> SoFar {
        match next {
            Next::Refetch => SoFar { refetched: true, ..self },
            Next::Pause(_) => SoFar { paused: true, ..self },
            Next::BackOff(_) => SoFar { retries: self.retries + 1, ..self },
            Next::Gone | Next::RateLimited(_) | Next::Fail => self,
        }
    }
}

/// The rule, in order: a refused token is refetched once; a gone corp ends
/// the call; a rate limit pauses once (scoped calls with retries on) and is
/// otherwise a [`Error::RateLimited`]; what the policy deems retryable backs
/// off while retries remain; anything else fails. `unit` in `[0, 1)` places
/// the back-off within its jitter.
pub(crate) fn classify(error: &Error, call: Call, so_far: SoFar, policy: &RetryPolicy, unit: f64) -> Next {
    if call.scoped_token {
        if error.is_token_invalid() && !so_far.refetched {
            return Next::Refetch;
        }
        if call.corp_scope && error.is_authorization_gone() {
            return Next::Gone;
        }
    }
    if let Error::Api { code, .. } = error {
        if RATE_LIMIT_CODES.contains(code) {
            let pause = policy.rate_limit_pause;
            // Token fetches hold the refresh lease: they fail at once.
            if call.scoped_token && policy.pauses_on_rate_limit() && !so_far.paused {
                return Next::Pause(pause);
            }
            return Next::RateLimited(pause);
        }
    }
    if so_far.retries < policy.max_retries && policy.should_retry(error, call.retry_safe) {
        return Next::BackOff(policy.backoff(so_far.retries, unit));
    }
    Next::Fail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64) -> Error {
        Error::Api { endpoint: "x".into(), code, message: String::new(), hint: None, attempts: 1 }
    }

    fn status(status: u16) -> Error {
        Error::Status { endpoint: "x".into(), status, body: String::new(), attempts: 1 }
    }

    fn transport(request_sent: bool) -> Error {
        Error::Transport { endpoint: "x".into(), source: "refused".into(), request_sent, attempts: 1 }
    }

    const CORP: Call = Call { scoped_token: true, corp_scope: true, retry_safe: true };
    const SUITE: Call = Call { scoped_token: true, corp_scope: false, retry_safe: true };
    const FETCH: Call = Call { scoped_token: false, corp_scope: false, retry_safe: true };
    const ONCE: Call = Call { scoped_token: true, corp_scope: false, retry_safe: false };
    const FRESH: SoFar = SoFar { refetched: false, paused: false, retries: 0 };
    const REFETCHED: SoFar = SoFar { refetched: true, paused: false, retries: 0 };
    const PAUSED: SoFar = SoFar { refetched: false, paused: true, retries: 0 };
    const SPENT: SoFar = SoFar { refetched: false, paused: false, retries: 3 };

    #[test]
    fn every_rule_from_a_table() {
        let policy = RetryPolicy { jitter: 0.0, ..RetryPolicy::default() };
        let minute = policy.rate_limit_pause;
        let first = Duration::from_secs(1);
        let table: Vec<(&str, Error, Call, SoFar, Next)> = vec![
            ("a refused token is refetched", api(42001), SUITE, FRESH, Next::Refetch),
            ("refused again, it fails", api(42001), SUITE, REFETCHED, Next::Fail),
            ("a given token is not refetched", api(40014), FETCH, FRESH, Next::Fail),
            ("a gone corp ends the call", api(40084), CORP, FRESH, Next::Gone),
            ("gone is about corps only", api(40084), SUITE, FRESH, Next::Fail),
            ("a rate limit pauses once", api(45009), SUITE, FRESH, Next::Pause(minute)),
            ("limited after the pause", api(45033), SUITE, PAUSED, Next::RateLimited(minute)),
            ("a token fetch never pauses", api(45009), FETCH, FRESH, Next::RateLimited(minute)),
            ("a one-time call pauses too", api(45009), ONCE, FRESH, Next::Pause(minute)),
            ("busy is backed off", api(-1), SUITE, FRESH, Next::BackOff(first)),
            ("unless it consumed a code", api(-1), ONCE, FRESH, Next::Fail),
            ("until the retries are spent", api(-1), SUITE, SPENT, Next::Fail),
            ("a 503 is backed off", status(503), CORP, FRESH, Next::BackOff(first)),
            ("a 429 even for a one-time call", status(429), ONCE, FRESH, Next::BackOff(first)),
            ("a 404 fails", status(404), CORP, FRESH, Next::Fail),
            ("a connection never made", transport(false), ONCE, FRESH, Next::BackOff(first)),
            ("a request sent, one-time", transport(true), ONCE, FRESH, Next::Fail),
            ("an ordinary errcode fails", api(40029), CORP, FRESH, Next::Fail),
        ];
        for (why, error, call, so_far, expected) in table {
            assert_eq!(classify(&error, call, so_far, &policy, 0.5), expected, "{why}");
        }
    }

    #[test]
    fn without_retries_nothing_waits() {
        let policy = RetryPolicy::none();
        let minute = policy.rate_limit_pause;
        assert_eq!(classify(&api(45009), SUITE, FRESH, &policy, 0.5), Next::RateLimited(minute));
        assert_eq!(classify(&api(-1), SUITE, FRESH, &policy, 0.5), Next::Fail);
        // A refused token is still refetched: that is not a retry.
        assert_eq!(classify(&api(42001), SUITE, FRESH, &policy, 0.5), Next::Refetch);
    }

    #[test]
    fn the_record_follows_what_was_done() {
        let done = FRESH
            .after(Next::Refetch)
            .after(Next::BackOff(Duration::ZERO))
            .after(Next::Pause(Duration::ZERO));
        assert_eq!(done, SoFar { refetched: true, paused: true, retries: 1 });
        assert_eq!(done.after(Next::Fail), done);
    }
}
