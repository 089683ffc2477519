//! Writes that stay right under the faults a shared store has: a
//! compare-and-set that landed although the store reported a failure, and a
//! lease kept for as long as the work it guards.

use std::future::Future;
use std::time::Duration;

use super::{LeaseId, Record, Store};
use crate::error::Error;

/// [`Store::replace_record`], counting as written a write that landed
/// although the store reported a failure (a reply lost on the way back):
/// after an error, the record is read back, and if it is exactly the one
/// written, the write happened.
pub(crate) async fn replace_landed(
    store: &dyn Store,
    key: &str,
    expected: Option<u64>,
    record: &Record,
) -> Result<bool, Error> {
    match store.replace_record(key, expected, record).await {
        Ok(written) => Ok(written),
        Err(error) => match store.get_record(key).await {
            Ok(Some(stored)) if stored == *record => Ok(true),
            _ => Err(error),
        },
    }
}

/// Runs `work` while renewing lease `key` every third of `ttl`, so that work
/// outlasting the lease's first term (a token fetch three levels deep, a
/// rate-limit pause) keeps it, and an instance that dies loses it within
/// `ttl`. The renewals run on tokio's timer, not the application's clock: a
/// manual clock would race through them. The lease is not released here.
pub(crate) async fn renewing<T>(
    store: &dyn Store,
    key: &str,
    lease: &LeaseId,
    ttl: Duration,
    work: impl Future<Output = T>,
) -> T {
    let every = (ttl / 3).max(Duration::from_millis(10));
    let heartbeat = async {
        loop {
            tokio::time::sleep(every).await;
            match store.renew_lease(key, lease, ttl).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(lease = key, "a lease was taken by another instance while held"),
                Err(e) => tracing::warn!(lease = key, error = %e, "could not renew a lease; trying again"),
            }
        }
    };
    tokio::pin!(work);
    tokio::select! {
        biased;
        out = &mut work => out,
        never = heartbeat => never,
    }
}
