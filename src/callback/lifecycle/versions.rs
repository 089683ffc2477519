//! One version space for authorizations and cancels: WeCom's `TimeStamp`
//! (whole seconds) first, then the order in which the pushes of that second
//! arrived. `TimeStamp` counts seconds, so an authorization and its cancel
//! often share one; the later arrival must win. Arrival order is kept in the
//! store, not read off a clock, so instances whose clocks disagree still
//! agree on it.
//!
//! A version is `second × 1000 + index`: the same scale as the milliseconds
//! older records were versioned with, so both still compare.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::app::Application;
use crate::error::Error;
use crate::ids::SuiteId;
use crate::store::{keys, replace_landed, store_error, Record};

/// How far back the arrivals of a second are remembered: a push stamped
/// earlier than that (WeCom retries for seconds, and the server refuses
/// timestamps five minutes off) ranks after every remembered arrival of its
/// second, as [`LATE`].
const REMEMBERED_SECONDS: u64 = 3600;
/// The index of a push whose second is no longer remembered.
const LATE: u64 = 999;
/// How often a contended counter is tried before the push fails (and WeCom
/// retries it).
const TRIES: usize = 32;

/// The arrival counters of one suite's lifecycle pushes, per `TimeStamp`
/// second, for the seconds of the last hour that had any.
#[derive(Default, Serialize, Deserialize)]
struct Arrivals {
    /// Second → how many pushes of it arrived.
    seconds: BTreeMap<u64, u64>,
    /// Who wrote it: makes every write distinct, so that a write that
    /// landed although the store reported a failure is recognised.
    writer: u64,
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The version of a lifecycle push of `suite_id` stamped `timestamp`:
/// after every push of an earlier second, and after every push of the same
/// second that arrived before it (whatever arrived for other seconds
/// meanwhile).
pub(crate) async fn arrival_version(
    app: &Application,
    suite_id: &SuiteId,
    timestamp: SystemTime,
) -> Result<u64, Error> {
    let second = seconds(timestamp);
    let base = second.saturating_mul(1000);
    let store = app.store();
    let key = keys::arrivals(suite_id);
    for _ in 0..TRIES {
        let current = store.get_record(&key).await?;
        let mut arrivals = current
            .as_ref()
            .and_then(|r| serde_json::from_str::<Arrivals>(&r.value).ok())
            .unwrap_or_default();
        let newest = arrivals.seconds.keys().next_back().copied().unwrap_or(second).max(second);
        if second + REMEMBERED_SECONDS < newest {
            return Ok(base + LATE);
        }
        let count = arrivals.seconds.entry(second).or_insert(0);
        let index = (*count).min(LATE - 1);
        *count = count.saturating_add(1);
        arrivals.seconds.retain(|s, _| s + REMEMBERED_SECONDS >= newest);
        arrivals.writer = fastrand::u64(..);
        let value =
            serde_json::to_string(&arrivals).map_err(|e| store_error(&store.describe(), "put_record", e))?;
        let expected = current.as_ref().map(|r| r.version);
        let record = Record { value, version: expected.unwrap_or(0).saturating_add(1) };
        if replace_landed(store.as_ref(), &key, expected, &record).await? {
            return Ok(base + index);
        }
    }
    Err(store_error(
        &store.describe(),
        "replace_record",
        "the arrival counter stayed contended; WeCom will retry",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{StoreConfig, SuiteConfig};
    use crate::Config;

    fn app() -> Application {
        let key = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
        let config = Config {
            corp_id: "wwprovider".into(),
            provider_secret: "secret".into(),
            token: "Token".into(),
            aes_key: key.into(),
            suites: vec![SuiteConfig {
                suite_id: "wwsuite".into(),
                suite_secret: "secret".into(),
                token: "Token".into(),
                aes_key: key.into(),
                ..Default::default()
            }],
            store: StoreConfig::memory(),
            ..Config::default()
        };
        Application::new(config).expect("valid")
    }

    /// Within one second, later arrivals rank higher, also when a push of
    /// a later second came in between (a push of another corp); a push of a
    /// later second ranks above them all.
    #[tokio::test]
    async fn arrivals_of_one_second_keep_their_order_across_other_seconds() {
        let app = app();
        let suite = SuiteId::new("wwsuite");
        let at = |s: u64| UNIX_EPOCH + std::time::Duration::from_secs(s);
        let first = arrival_version(&app, &suite, at(1_800_000_100)).await.expect("store");
        let later_second = arrival_version(&app, &suite, at(1_800_000_105)).await.expect("store");
        let second = arrival_version(&app, &suite, at(1_800_000_100)).await.expect("store");
        let third = arrival_version(&app, &suite, at(1_800_000_100)).await.expect("store");
        assert!(first < second && second < third, "{first} {second} {third}");
        assert!(third < later_second, "{third} {later_second}");
        assert_eq!(first, 1_800_000_100_000);
        // An hour on, the second is forgotten: a late push ranks last in it.
        arrival_version(&app, &suite, at(1_800_003_800)).await.expect("store");
        let late = arrival_version(&app, &suite, at(1_800_000_100)).await.expect("store");
        assert_eq!(late, 1_800_000_100_000 + LATE);
    }
}
