//! One version space for authorizations and cancels: WeCom's `TimeStamp`
//! (whole seconds) first, then the order in which the pushes of that second
//! arrived. `TimeStamp` counts seconds, so an authorization and its cancel
//! often share one; the later arrival must win. Arrival order is kept in the
//! store, not read off a clock, so instances whose clocks disagree still
//! agree on it.
//!
//! A version is `second × 1000 + index`: the same scale as the milliseconds
//! older records were versioned with, so both still compare.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::app::Application;
use crate::error::Error;
use crate::ids::SuiteId;
use crate::store::{keys, replace_landed, store_error, Record};

/// The index given to a push that arrives after pushes of a later second:
/// it ranks after every earlier arrival of its own second.
const LATE: u64 = 999;
/// How often a contended counter is tried before the push fails (and WeCom
/// retries it).
const TRIES: usize = 32;

/// The arrival counter of one suite's lifecycle pushes.
#[derive(Default, Serialize, Deserialize)]
struct Arrivals {
    /// The latest `TimeStamp` second seen.
    second: u64,
    /// How many pushes of that second arrived.
    next: u64,
    /// Who wrote it: makes every write distinct, so that a write that
    /// landed although the store reported a failure is recognised.
    writer: u64,
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The version of a lifecycle push of `suite_id` stamped `timestamp`:
/// after every push of an earlier second, and after every push of the same
/// second that arrived before it.
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
        let seen = current
            .as_ref()
            .and_then(|r| serde_json::from_str::<Arrivals>(&r.value).ok())
            .unwrap_or_default();
        let (index, next) = if seen.second == second {
            (seen.next.min(LATE - 1), seen.next.saturating_add(1))
        } else if seen.second < second {
            (0, 1)
        } else {
            return Ok(base + LATE);
        };
        let counter = Arrivals { second, next, writer: fastrand::u64(..) };
        let value =
            serde_json::to_string(&counter).map_err(|e| store_error(&store.describe(), "put_record", e))?;
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
