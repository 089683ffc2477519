//! The application's store, counted: every operation and its outcome goes
//! to [`crate::metrics::STORE_OPERATIONS`], whatever store it is.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{CachedToken, LeaseId, Record, Store};
use crate::clock::{unix_ms, Clock};
use crate::error::Error;
use crate::future::BoxFuture;

/// A store whose operations are counted.
pub(crate) struct Measured {
    inner: Arc<dyn Store>,
    failures: Arc<FailureLog>,
}

impl Measured {
    /// Counts `inner`'s operations; failures are logged by `clock`'s time.
    pub(crate) fn new(inner: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let failures = FailureLog { clock, last_logged: AtomicU64::new(0), suppressed: AtomicU64::new(0) };
        Measured { inner, failures: Arc::new(failures) }
    }
}

/// An outage is logged once a second, not once per operation. The second is
/// the application's clock's, so a run on a simulated clock logs the same
/// lines each time.
struct FailureLog {
    clock: Arc<dyn Clock>,
    last_logged: AtomicU64,
    suppressed: AtomicU64,
}

impl FailureLog {
    fn log(&self, operation: &'static str, error: &Error) {
        let now = unix_ms(self.clock.now());
        let last = self.last_logged.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 1000
            && self.last_logged.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        {
            let suppressed = self.suppressed.swap(0, Ordering::AcqRel);
            tracing::error!(operation, error = %error, suppressed, "a store operation failed");
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl fmt::Debug for Measured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

fn counted<'a, T: Send + 'a>(
    failures: &'a FailureLog,
    operation: &'static str,
    work: BoxFuture<'a, Result<T, Error>>,
) -> BoxFuture<'a, Result<T, Error>> {
    Box::pin(async move {
        let result = work.await;
        crate::metrics::store_operation(operation, result.is_ok());
        if let Err(e) = &result {
            failures.log(operation, e);
        }
        result
    })
}

impl Store for Measured {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn get_token<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CachedToken>, Error>> {
        counted(&self.failures, "get_token", self.inner.get_token(key))
    }

    fn put_token<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, Result<bool, Error>> {
        counted(&self.failures, "put_token", self.inner.put_token(key, token))
    }

    fn drop_token<'a>(&'a self, key: &'a str, value: Option<&'a str>) -> BoxFuture<'a, Result<bool, Error>> {
        counted(&self.failures, "drop_token", self.inner.drop_token(key, value))
    }

    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>> {
        counted(&self.failures, "try_lease", self.inner.try_lease(key, ttl))
    }

    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        counted(&self.failures, "renew_lease", self.inner.renew_lease(key, lease, ttl))
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>> {
        counted(&self.failures, "release", self.inner.release(key, lease))
    }

    fn get_record<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        counted(&self.failures, "get_record", self.inner.get_record(key))
    }

    fn put_record<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<bool, Error>> {
        counted(&self.failures, "put_record", self.inner.put_record(key, record))
    }

    fn replace_record<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        counted(&self.failures, "replace_record", self.inner.replace_record(key, expected, record))
    }

    fn delete_record<'a>(&'a self, key: &'a str, before: Option<u64>) -> BoxFuture<'a, Result<bool, Error>> {
        counted(&self.failures, "delete_record", self.inner.delete_record(key, before))
    }

    fn record_keys<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        counted(&self.failures, "record_keys", self.inner.record_keys(prefix))
    }

    fn publish_invalidation<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        counted(&self.failures, "publish_invalidation", self.inner.publish_invalidation(key))
    }

    fn invalidations(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        self.inner.invalidations()
    }

    fn near_cache_ttl(&self) -> Duration {
        self.inner.near_cache_ttl()
    }
}
