//! The store every instance shares, seen through a fault layer of the
//! instance's own: each operation asks the world what happens to it (it
//! goes through; fails before it happens; times out; lands but reports a
//! failure; or the instance dies just before or just after it).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use wecom_openwork::store::{CachedToken, LeaseId, MemoryStore, Record, Store};
use wecom_openwork::{BoxFuture, Error};

use crate::world::World;

/// What happens to one store operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFate {
    Proceed,
    FailBefore,
    Timeout,
    LandThenFail,
    /// The instance is dead: nothing it does completes.
    Frozen,
    CrashBefore,
    CrashAfter,
}

/// How long a store timeout takes (the SDK's default `store.timeout`).
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct FaultyStore {
    pub inner: Arc<MemoryStore>,
    pub world: Arc<World>,
    pub instance: usize,
    pub incarnation: u64,
}

fn failed(operation: &'static str, why: &str) -> Error {
    Error::Store { store: "sim:".into(), operation, message: why.into() }
}

impl FaultyStore {
    async fn guard<T: Send>(
        &self,
        operation: &'static str,
        write: bool,
        run: impl Future<Output = Result<T, Error>> + Send,
    ) -> Result<T, Error> {
        match self.world.store_fate(self.instance, self.incarnation, operation, write) {
            StoreFate::Proceed => run.await,
            StoreFate::FailBefore => Err(failed(operation, "connection refused")),
            StoreFate::Timeout => {
                tokio::time::sleep(STORE_TIMEOUT).await;
                Err(failed(operation, "timed out"))
            }
            StoreFate::LandThenFail => {
                let _ = run.await;
                Err(failed(operation, "the reply was lost"))
            }
            StoreFate::Frozen => std::future::pending().await,
            StoreFate::CrashBefore => {
                self.world.kill(self.instance, self.incarnation, &format!("before store {operation}"));
                std::future::pending().await
            }
            StoreFate::CrashAfter => {
                let _ = run.await;
                self.world.kill(self.instance, self.incarnation, &format!("after store {operation}"));
                std::future::pending().await
            }
        }
    }
}

impl Store for FaultyStore {
    fn describe(&self) -> String {
        "sim:".into()
    }

    fn get_token<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CachedToken>, Error>> {
        Box::pin(self.guard("get_token", false, self.inner.get_token(key)))
    }

    fn put_token<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(self.guard("put_token", true, self.inner.put_token(key, token)))
    }

    fn drop_token<'a>(&'a self, key: &'a str, value: Option<&'a str>) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(self.guard("drop_token", true, self.inner.drop_token(key, value)))
    }

    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>> {
        Box::pin(self.guard("try_lease", true, self.inner.try_lease(key, ttl)))
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.guard("release", true, self.inner.release(key, lease)))
    }

    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(self.guard("renew_lease", true, self.inner.renew_lease(key, lease, ttl)))
    }

    fn get_record<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        Box::pin(self.guard("get_record", false, self.inner.get_record(key)))
    }

    fn put_record<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(self.guard("put_record", true, self.inner.put_record(key, record)))
    }

    fn replace_record<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(self.guard("replace_record", true, self.inner.replace_record(key, expected, record)))
    }

    fn delete_record<'a>(&'a self, key: &'a str, before: Option<u64>) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(self.guard("delete_record", true, self.inner.delete_record(key, before)))
    }

    fn record_keys<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        Box::pin(self.guard("record_keys", false, self.inner.record_keys(prefix)))
    }
}
