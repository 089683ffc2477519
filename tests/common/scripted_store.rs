//! A store that fails when told to, over a `MemoryStore`: every operation
//! while `down`, or the next writes whose value holds a given text.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wecom_openwork::clock::Clock;
use wecom_openwork::store::{CachedToken, LeaseId, MemoryStore, Record, Store};
use wecom_openwork::{BoxFuture, Error};

#[derive(Debug)]
pub struct ScriptedStore {
    inner: MemoryStore,
    /// Every operation fails while set.
    pub down: AtomicBool,
    /// Writes whose value contains the text fail (before landing), as many
    /// times as counted.
    failing_writes: Mutex<Vec<(String, usize)>>,
}

impl ScriptedStore {
    pub fn new(clock: Arc<dyn Clock>) -> Arc<ScriptedStore> {
        Arc::new(ScriptedStore {
            inner: MemoryStore::with_clock(clock),
            down: AtomicBool::new(false),
            failing_writes: Mutex::default(),
        })
    }

    /// A store whose every operation fails.
    pub fn broken(clock: Arc<dyn Clock>) -> Arc<ScriptedStore> {
        let store = ScriptedStore::new(clock);
        store.down.store(true, Ordering::SeqCst);
        store
    }

    /// The next `times` writes of a value containing `text` fail.
    pub fn fail_writes_of(&self, text: &str, times: usize) {
        self.failing_writes.lock().unwrap().push((text.to_owned(), times));
    }

    fn check(&self, operation: &'static str, value: Option<&str>) -> Result<(), Error> {
        let fail =
            || Err(Error::Store { store: "scripted:".into(), operation, message: "unavailable".into() });
        if self.down.load(Ordering::SeqCst) {
            return fail();
        }
        if let Some(value) = value {
            let mut rules = self.failing_writes.lock().unwrap();
            if let Some(rule) =
                rules.iter_mut().find(|(text, left)| *left > 0 && value.contains(text.as_str()))
            {
                rule.1 -= 1;
                return fail();
            }
        }
        Ok(())
    }
}

fn failed<'a, T: Send + 'a>(error: Error) -> BoxFuture<'a, Result<T, Error>> {
    Box::pin(std::future::ready(Err(error)))
}

impl Store for ScriptedStore {
    fn describe(&self) -> String {
        "scripted:".into()
    }

    fn get_token<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CachedToken>, Error>> {
        match self.check("get_token", None) {
            Ok(()) => self.inner.get_token(key),
            Err(e) => failed(e),
        }
    }

    fn put_token<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, Result<bool, Error>> {
        match self.check("put_token", None) {
            Ok(()) => self.inner.put_token(key, token),
            Err(e) => failed(e),
        }
    }

    fn drop_token<'a>(&'a self, key: &'a str, value: Option<&'a str>) -> BoxFuture<'a, Result<bool, Error>> {
        match self.check("drop_token", None) {
            Ok(()) => self.inner.drop_token(key, value),
            Err(e) => failed(e),
        }
    }

    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>> {
        match self.check("try_lease", None) {
            Ok(()) => self.inner.try_lease(key, ttl),
            Err(e) => failed(e),
        }
    }

    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        match self.check("renew_lease", None) {
            Ok(()) => self.inner.renew_lease(key, lease, ttl),
            Err(e) => failed(e),
        }
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>> {
        match self.check("release", None) {
            Ok(()) => self.inner.release(key, lease),
            Err(e) => failed(e),
        }
    }

    fn get_record<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        match self.check("get_record", None) {
            Ok(()) => self.inner.get_record(key),
            Err(e) => failed(e),
        }
    }

    fn put_record<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<bool, Error>> {
        match self.check("put_record", Some(&record.value)) {
            Ok(()) => self.inner.put_record(key, record),
            Err(e) => failed(e),
        }
    }

    fn replace_record<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        match self.check("replace_record", Some(&record.value)) {
            Ok(()) => self.inner.replace_record(key, expected, record),
            Err(e) => failed(e),
        }
    }

    fn delete_record<'a>(&'a self, key: &'a str, before: Option<u64>) -> BoxFuture<'a, Result<bool, Error>> {
        match self.check("delete_record", None) {
            Ok(()) => self.inner.delete_record(key, before),
            Err(e) => failed(e),
        }
    }

    fn record_keys<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        match self.check("record_keys", None) {
            Ok(()) => self.inner.record_keys(prefix),
            Err(e) => failed(e),
        }
    }
}
