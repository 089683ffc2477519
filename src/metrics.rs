//! What the SDK counts, through the [`metrics`](https://docs.rs/metrics)
//! facade: nothing is kept until a recorder is installed. `wecom-openwork
//! serve` installs a Prometheus recorder and serves the text on
//! `GET /metrics`; an app that mounts the callback router installs the
//! recorder of its choice (with feature `prometheus`,
//! [`install_prometheus`]) and gets the same instruments.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `wecom_callback_pushes_total` | counter | `url` (system, command, data), `kind` (the event's), `outcome` |
//! | `wecom_callback_ack_seconds` | histogram | `url`, `outcome` |
//! | `wecom_callback_replay_hits_total` | counter | `url` |
//! | `wecom_lifecycle_journal_writes_total` | counter | `stage` (pending, exchanged, done, failed) |
//! | `wecom_lifecycle_journals` | gauge | `stage` (counted by each sweep) |
//! | `wecom_token_fetches_total` | counter | `scope` (provider, suite, corp, downstream, jsapi_ticket, agent_ticket), `outcome` (ok, error) |
//! | `wecom_store_operations_total` | counter | `operation`, `outcome` (ok, error) |
//! | `wecom_api_errors_total` | counter | `endpoint`, `errcode` |
//!
//! A push's `outcome` is `success`, `reply`, `replayed` (WeCom's retry of a
//! handled push), `handler_failed`, `store_unavailable` (answered 503),
//! `verified` (URL verification), or why it was refused: `refused_signature`,
//! `refused_receive_id`, `refused_crypto`, `refused_timestamp`,
//! `refused_too_large`, `refused_unknown_suite`, `refused_request`,
//! `misconfigured`. Labels never carry an id or a secret, so their number
//! stays bounded.

use std::time::Duration;

/// Pushes and URL verifications, by URL kind, event kind and outcome.
pub const PUSHES: &str = "wecom_callback_pushes_total";
/// Time from a request's arrival to its answer, in seconds.
pub const ACK_SECONDS: &str = "wecom_callback_ack_seconds";
/// Pushes acknowledged without handling: handled already (WeCom's retries).
pub const REPLAY_HITS: &str = "wecom_callback_replay_hits_total";
/// Exchange journals written, by the stage written.
pub const JOURNAL_WRITES: &str = "wecom_lifecycle_journal_writes_total";
/// Exchange journals in the store, by stage, as the last sweep counted them.
pub const JOURNALS: &str = "wecom_lifecycle_journals";
/// Upstream token and ticket fetches, by scope kind and outcome.
pub const TOKEN_FETCHES: &str = "wecom_token_fetches_total";
/// Store operations, by operation and outcome.
pub const STORE_OPERATIONS: &str = "wecom_store_operations_total";
/// WeCom's non-zero `errcode`s, by endpoint and code.
pub const API_ERRORS: &str = "wecom_api_errors_total";

/// Describes every instrument to the installed recorder (its `# HELP`).
pub fn describe() {
    ::metrics::describe_counter!(
        PUSHES,
        "Callback pushes and URL verifications, by URL kind, event kind and outcome"
    );
    ::metrics::describe_histogram!(
        ACK_SECONDS,
        metrics::Unit::Seconds,
        "Time from a callback's arrival to its answer"
    );
    ::metrics::describe_counter!(REPLAY_HITS, "Pushes acknowledged without handling: handled already");
    ::metrics::describe_counter!(JOURNAL_WRITES, "Auth-code exchange journals written, by stage");
    ::metrics::describe_gauge!(
        JOURNALS,
        "Auth-code exchange journals in the store, by stage, at the last sweep"
    );
    ::metrics::describe_counter!(
        TOKEN_FETCHES,
        "Upstream token and ticket fetches, by scope kind and outcome"
    );
    ::metrics::describe_counter!(STORE_OPERATIONS, "Store operations, by operation and outcome");
    ::metrics::describe_counter!(API_ERRORS, "WeCom's non-zero errcodes, by endpoint and code");
}

/// Installs a Prometheus recorder for this process (once) and describes
/// the instruments; the handle renders the text exposition
/// (`handle.render()`), for a `GET /metrics` of your own.
#[cfg(feature = "prometheus")]
pub fn install_prometheus() -> Result<::metrics_exporter_prometheus::PrometheusHandle, crate::Error> {
    let buckets = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
    let recorder = ::metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets_for_metric(
            ::metrics_exporter_prometheus::Matcher::Full(ACK_SECONDS.to_owned()),
            &buckets,
        )
        .map_err(|e| crate::Error::Config(format!("metrics: {e}")))?
        .install_recorder()
        .map_err(|e| crate::Error::Config(format!("metrics: {e}")))?;
    describe();
    Ok(recorder)
}

fn outcome(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "error"
    }
}

pub(crate) fn push(url: &'static str, kind: &'static str, outcome: &'static str, elapsed: Duration) {
    ::metrics::counter!(PUSHES, "url" => url, "kind" => kind, "outcome" => outcome).increment(1);
    ::metrics::histogram!(ACK_SECONDS, "url" => url, "outcome" => outcome).record(elapsed.as_secs_f64());
}

pub(crate) fn replay_hit(url: &'static str) {
    ::metrics::counter!(REPLAY_HITS, "url" => url).increment(1);
}

pub(crate) fn journal_write(stage: &'static str) {
    ::metrics::counter!(JOURNAL_WRITES, "stage" => stage).increment(1);
}

pub(crate) fn journals(stage: &'static str, count: usize) {
    ::metrics::gauge!(JOURNALS, "stage" => stage).set(count as f64);
}

pub(crate) fn token_fetch(scope: &'static str, ok: bool) {
    ::metrics::counter!(TOKEN_FETCHES, "scope" => scope, "outcome" => outcome(ok)).increment(1);
}

pub(crate) fn store_operation(operation: &'static str, ok: bool) {
    ::metrics::counter!(STORE_OPERATIONS, "operation" => operation, "outcome" => outcome(ok)).increment(1);
}

pub(crate) fn api_error(endpoint: &str, code: i64) {
    ::metrics::counter!(API_ERRORS, "endpoint" => endpoint.to_owned(), "errcode" => code.to_string())
        .increment(1);
}
