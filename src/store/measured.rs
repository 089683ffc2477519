//! The application's store, counted: every operation and its outcome goes
//! to [`crate::metrics::STORE_OPERATIONS`], whatever store it is.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{CachedToken, LeaseId, Record, Store};
use crate::error::Error;
use crate::future::BoxFuture;

/// A store whose operations are counted.
pub(crate) struct Measured(pub(crate) Arc<dyn Store>);

/// When a store failure was last logged, in ms of the process's clock: an
/// outage is logged once a second, not once per operation.
static LAST_LOGGED: AtomicU64 = AtomicU64::new(0);
static SUPPRESSED: AtomicU64 = AtomicU64::new(0);

fn log_failure(operation: &'static str, error: &Error) {
    let now = crate::clock::unix_ms(std::time::SystemTime::now());
    let last = LAST_LOGGED.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 1000
        && LAST_LOGGED.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok()
    {
        let suppressed = SUPPRESSED.swap(0, Ordering::AcqRel);
        tracing::error!(operation, error = %error, suppressed, "a store operation failed");
    } else {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Measured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

fn counted<'a, T: Send + 'a>(
    operation: &'static str,
    work: BoxFuture<'a, Result<T, Error>>,
) -> BoxFuture<'a, Result<T, Error>> {
    Box::pin(async move {
        let result = work.await;
        crate::metrics::store_operation(operation, result.is_ok());
        if let Err(e) = &result {
            log_failure(operation, e);
        }
        result
    })
}

impl Store for Measured {
    fn describe(&self) -> String {
        self.0.describe()
    }

    fn get_token<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CachedToken>, Error>> {
        counted("get_token", self.0.get_token(key))
    }

    fn put_token<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, Result<bool, Error>> {
        counted("put_token", self.0.put_token(key, token))
    }

    fn drop_token<'a>(&'a self, key: &'a str, value: Option<&'a str>) -> BoxFuture<'a, Result<bool, Error>> {
        counted("drop_token", self.0.drop_token(key, value))
    }

    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>> {
        counted("try_lease", self.0.try_lease(key, ttl))
    }

    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        counted("renew_lease", self.0.renew_lease(key, lease, ttl))
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>> {
        counted("release", self.0.release(key, lease))
    }

    fn get_record<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        counted("get_record", self.0.get_record(key))
    }

    fn put_record<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<bool, Error>> {
        counted("put_record", self.0.put_record(key, record))
    }

    fn replace_record<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        counted("replace_record", self.0.replace_record(key, expected, record))
    }

    fn delete_record<'a>(&'a self, key: &'a str, before: Option<u64>) -> BoxFuture<'a, Result<bool, Error>> {
        counted("delete_record", self.0.delete_record(key, before))
    }

    fn record_keys<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        counted("record_keys", self.0.record_keys(prefix))
    }

    fn publish_invalidation<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        counted("publish_invalidation", self.0.publish_invalidation(key))
    }

    fn invalidations(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        self.0.invalidations()
    }

    fn near_cache_ttl(&self) -> Duration {
        self.0.near_cache_ttl()
    }
}
