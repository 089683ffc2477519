//! When and how long to wait before trying a failed call again.

use std::time::Duration;

use crate::error::Error;

/// Back-off for calls that failed in a way that may pass: the configured HTTP
/// statuses, transport errors and errcode −1; and the pause on WeCom's rate
/// limits (45009, 45033).
///
/// The n-th retry (from 0) waits `delay × multiplier^n`, capped at
/// `max_delay`, spread by ± `jitter` (a fraction) so instances do not retry in
/// step.
///
/// Rate limits are not retried on that schedule: WeCom blocks a limited caller
/// for about a minute (the per-minute limits), so retrying after 1, 2, 4 s
/// only meets the block again. Instead a call that meets 45009 or 45033
/// waits `rate_limit_pause` **at most once**, then tries again; still
/// limited, it fails with [`Error::RateLimited`]. The pause is separate from
/// `max_retries`, but needs retries on (`max_retries > 0`) and a non-zero
/// pause; else the call fails at once. Token fetches never pause (they run
/// under the refresh lease): they fail at once. Either way, for
/// `rate_limit_pause` after a refusal, further calls to that endpoint for the
/// same token scope (or, for a token fetch, the same suite or corp) fail at
/// once with [`Error::RateLimited`] (`attempts` 0) without reaching WeCom.
/// This memory is per [`crate::Client`] (per process), not shared through
/// the store.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// HTTP statuses worth retrying.
    pub http_codes: Vec<u16>,
    /// Retries after the first attempt; 0 turns retrying off.
    pub max_retries: u32,
    /// Wait before the first retry.
    pub delay: Duration,
    /// Growth of the wait per retry (≥ 1).
    pub multiplier: f64,
    /// Longest single wait.
    pub max_delay: Duration,
    /// Random spread of each wait, as a fraction in `[0, 1]`.
    pub jitter: f64,
    /// How long a rate-limited call waits before its one more try, and how
    /// long the endpoint is then known to be limited. At least WeCom's block
    /// (60 s for the per-minute limits); zero fails rate-limited calls at
    /// once and remembers nothing.
    pub rate_limit_pause: Duration,
}

/// Default [`RetryPolicy::rate_limit_pause`]: WeCom's per-minute limits
/// block for 60 s.
pub(crate) const DEFAULT_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(60);

impl Default for RetryPolicy {
    /// 3 retries after 1 s, 2 s, 4 s (±10 %), on 429, 500, 502, 503 and 504;
    /// a 60 s pause on a rate limit.
    fn default() -> Self {
        RetryPolicy {
            http_codes: vec![429, 500, 502, 503, 504],
            max_retries: 3,
            delay: Duration::from_millis(1000),
            multiplier: 2.0,
            max_delay: Duration::from_secs(30),
            jitter: 0.1,
            rate_limit_pause: DEFAULT_RATE_LIMIT_PAUSE,
        }
    }
}

impl RetryPolicy {
    /// No retries at all (a rate limit fails at once too).
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// Whether a call refused by a rate limit waits [`RetryPolicy::rate_limit_pause`]
    /// and tries once more (rate limits come before WeCom acts, so this holds
    /// for calls that consume a one-time code too).
    pub fn pauses_on_rate_limit(&self) -> bool {
        self.max_retries > 0 && !self.rate_limit_pause.is_zero()
    }

    /// The wait before retry `n` (0-based); `unit` is a random number in
    /// `[0, 1)` that places it within the jitter.
    pub fn backoff(&self, n: u32, unit: f64) -> Duration {
        let base = self.delay.as_secs_f64() * self.multiplier.max(1.0).powi(n.min(64) as i32);
        let capped = base.min(self.max_delay.as_secs_f64());
        let jitter = self.jitter.clamp(0.0, 1.0);
        let spread = capped * (1.0 - jitter + 2.0 * jitter * unit.clamp(0.0, 1.0));
        Duration::from_secs_f64(spread.min(self.max_delay.as_secs_f64()).max(0.0))
    }

    /// Whether `error` may be retried after a back-off. A call that is not
    /// `retry_safe` (it consumes a one-time code) is only retried when WeCom
    /// surely did not act on it: HTTP 429 or a connection never made.
    /// WeCom's rate limits (45009, 45033) are not retried on this schedule
    /// but paused on once: see [`RetryPolicy::pauses_on_rate_limit`].
    pub fn should_retry(&self, error: &Error, retry_safe: bool) -> bool {
        match error {
            Error::Api { code: -1, .. } => retry_safe,
            Error::Status { status, .. } => {
                self.http_codes.contains(status) && (retry_safe || *status == 429)
            }
            Error::Transport { request_sent, .. } => retry_safe || !request_sent,
            Error::Timeout { .. } => retry_safe,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_by_the_multiplier_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            delay: Duration::from_millis(100),
            multiplier: 3.0,
            max_delay: Duration::from_millis(1000),
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let waits: Vec<u128> = (0..4).map(|n| policy.backoff(n, 0.5).as_millis()).collect();
        assert_eq!(waits, [100, 300, 900, 1000]);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let policy =
            RetryPolicy { delay: Duration::from_millis(1000), jitter: 0.2, ..RetryPolicy::default() };
        assert_eq!(policy.backoff(0, 0.0).as_millis(), 800);
        assert_eq!(policy.backoff(0, 0.5).as_millis(), 1000);
        assert!(policy.backoff(0, 0.999_999).as_millis() <= 1200);
    }

    #[test]
    fn unsafe_calls_are_retried_only_when_wecom_did_not_act() {
        let policy = RetryPolicy::default();
        let api =
            |code| Error::Api { endpoint: "x".into(), code, message: String::new(), hint: None, attempts: 1 };
        let status =
            |status| Error::Status { endpoint: "x".into(), status, body: String::new(), attempts: 1 };
        assert!(policy.should_retry(&api(-1), true));
        assert!(!policy.should_retry(&api(-1), false));
        // Rate limits are paused on, not backed off.
        assert!(!policy.should_retry(&api(45009), true) && !policy.should_retry(&api(45033), false));
        assert!(policy.pauses_on_rate_limit());
        assert!(!RetryPolicy::none().pauses_on_rate_limit());
        let no_pause = RetryPolicy { rate_limit_pause: Duration::ZERO, ..RetryPolicy::default() };
        assert!(!no_pause.pauses_on_rate_limit());
        assert!(policy.should_retry(&status(503), true));
        assert!(!policy.should_retry(&status(503), false));
        assert!(policy.should_retry(&status(429), false));
        assert!(!policy.should_retry(&status(404), true));
        assert!(!policy.should_retry(&api(40029), true));
    }
}
