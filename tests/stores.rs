//! The token runtime on each store, through the public API: the single
//! flight's order (store, then release), a lease held by a dead instance,
//! store failures that never cost a valid token, Redis killed and back, and
//! invalidations that reach the other instances.

mod common;
#[path = "common/redis_server.rs"]
mod redis_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{config, CORP, PROVIDER, SUITE};
use redis_server::RedisServer;
use wecom_openwork::clock::{Clock, ManualClock};
use wecom_openwork::emulator::Emulator;
use wecom_openwork::store::{keys, CachedToken, LeaseId, MemoryStore, Record, Store};
use wecom_openwork::{Application, BoxFuture, Config, Error, Secret};

const PROVIDER_TOKEN: &str = "/cgi-bin/service/get_provider_token";
const SUITE_TOKEN: &str = "/cgi-bin/service/get_suite_token";

/// A real [`MemoryStore`] that records the order of operations and fails
/// the ones it is told to, as a store that went away would.
#[derive(Debug)]
struct Flaky {
    inner: MemoryStore,
    log: Mutex<Vec<&'static str>>,
    failing: Mutex<Vec<&'static str>>,
}

impl Flaky {
    fn new(clock: &ManualClock) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner: MemoryStore::with_clock(Arc::new(clock.clone())),
            log: Mutex::default(),
            failing: Mutex::default(),
        })
    }

    fn fail(&self, operations: &[&'static str]) {
        *self.failing.lock().unwrap() = operations.to_vec();
    }

    fn log(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    fn enter(&self, operation: &'static str) -> Result<(), Error> {
        self.log.lock().unwrap().push(operation);
        if self.failing.lock().unwrap().contains(&operation) {
            return Err(Error::Store { store: "flaky:".into(), operation, message: "gone".into() });
        }
        Ok(())
    }
}

macro_rules! pass {
    ($self:ident, $op:literal, $call:expr) => {
        Box::pin(async move {
            $self.enter($op)?;
            $call.await
        })
    };
}

impl Store for Flaky {
    fn describe(&self) -> String {
        "flaky:".into()
    }
    fn get_token<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CachedToken>, Error>> {
        pass!(self, "get_token", self.inner.get_token(key))
    }
    fn put_token<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, Result<bool, Error>> {
        pass!(self, "put_token", self.inner.put_token(key, token))
    }
    fn drop_token<'a>(&'a self, key: &'a str, value: Option<&'a str>) -> BoxFuture<'a, Result<bool, Error>> {
        pass!(self, "drop_token", self.inner.drop_token(key, value))
    }
    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>> {
        pass!(self, "try_lease", self.inner.try_lease(key, ttl))
    }
    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>> {
        pass!(self, "release", self.inner.release(key, lease))
    }
    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        pass!(self, "renew_lease", self.inner.renew_lease(key, lease, ttl))
    }
    fn get_record<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        pass!(self, "get_record", self.inner.get_record(key))
    }
    fn put_record<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<bool, Error>> {
        pass!(self, "put_record", self.inner.put_record(key, record))
    }
    fn replace_record<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        pass!(self, "replace_record", self.inner.replace_record(key, expected, record))
    }
    fn delete_record<'a>(&'a self, key: &'a str, before: Option<u64>) -> BoxFuture<'a, Result<bool, Error>> {
        pass!(self, "delete_record", self.inner.delete_record(key, before))
    }
    fn record_keys<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        pass!(self, "record_keys", self.inner.record_keys(prefix))
    }
}

async fn app_on(store: Arc<dyn Store>, clock: &ManualClock, emulator: &Emulator) -> Application {
    Application::builder(config(&emulator.base_uri()))
        .clock(Arc::new(clock.clone()))
        .store(store)
        .build()
        .expect("valid")
}

#[tokio::test]
async fn the_fetched_token_is_stored_before_the_lease_is_released() {
    let clock = ManualClock::starting_now();
    let emulator = Emulator::start_with_clock(clock.clone()).await.expect("emulator");
    let store = Flaky::new(&clock);
    let app = app_on(store.clone(), &clock, &emulator).await;
    app.provider().access_token().get().await.expect("token");
    let log = store.log();
    let put = log.iter().position(|op| *op == "put_token").expect("stored");
    let release = log.iter().position(|op| *op == "release").expect("released");
    assert!(put < release, "{log:?}");
}

#[tokio::test]
async fn a_failed_store_write_or_release_does_not_throw_the_fetched_token_away() {
    let clock = ManualClock::starting_now();
    let emulator = Emulator::start_with_clock(clock.clone()).await.expect("emulator");
    let store = Flaky::new(&clock);
    let app = app_on(store.clone(), &clock, &emulator).await;
    store.fail(&["put_token", "release"]);
    let token = app.provider().access_token().get().await.expect("served though not stored");
    assert_eq!(emulator.token_owner(&token).map(|o| o.owner), Some(PROVIDER.to_owned()));
    // Served again from the near cache: no second fetch.
    assert_eq!(app.provider().access_token().get().await.expect("token"), token);
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 1);
}

#[tokio::test]
async fn a_store_failure_while_a_valid_token_is_in_hand_serves_it() {
    let clock = ManualClock::starting_now();
    let emulator = Emulator::start_with_clock(clock.clone()).await.expect("emulator");
    let store = Flaky::new(&clock);
    let app = app_on(store.clone(), &clock, &emulator).await;
    let token = app.provider().access_token().get().await.expect("token");
    store.fail(&["get_token", "try_lease", "put_token"]);
    // Past the near cache's recheck, and then inside the refresh margin.
    for step in [Duration::from_secs(2), Duration::from_secs(7200 - 200)] {
        clock.advance(step);
        assert_eq!(app.provider().access_token().get().await.expect("still valid"), token);
    }
    // Expired, and the store still gone: its typed error.
    clock.advance(Duration::from_secs(300));
    let err = app.provider().access_token().get().await.unwrap_err();
    assert!(
        matches!(&err, Error::Store { store, operation: "get_token", .. } if store == "flaky:"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_waiter_takes_the_lease_of_a_dead_instance_when_it_lapses_and_never_fetches_without_it() {
    let clock = ManualClock::starting_now();
    let emulator = Emulator::start_with_clock(clock.clone()).await.expect("emulator");
    let store: Arc<dyn Store> = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    // An instance took the lease and died.
    let lease_key = keys::refresh_lease(&keys::provider_token(&PROVIDER.into()));
    let lease_ttl = Duration::from_secs(Config::default().tokens.refresh_lease);
    store.try_lease(&lease_key, lease_ttl).await.expect("store").expect("free");
    let app = app_on(store.clone(), &clock, &emulator).await;
    let started = clock.now();
    let token = app.provider().access_token().get().await.expect("token after the lease lapsed");
    let waited = clock.now().duration_since(started).expect("forward");
    assert!(waited >= lease_ttl, "fetched after {waited:?}, inside the dead instance's lease");
    assert!(waited < lease_ttl + Duration::from_secs(1), "{waited:?}");
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 1);
    assert_eq!(emulator.token_owner(&token).map(|o| o.owner), Some(PROVIDER.to_owned()));
}

/// An application on `store_url`, with the ticket and the corp's code.
async fn app_with(store_url: &str, emulator: &Emulator, clock: Option<&ManualClock>) -> Application {
    let mut config = config(&emulator.base_uri());
    config.store.url = Some(Secret::new(store_url));
    config.store.timeout = 0.5;
    let mut builder = Application::builder(config);
    if let Some(clock) = clock {
        builder = builder.clock(Arc::new(clock.clone()));
    }
    let app = builder.build().expect("valid");
    app.suite(SUITE).ticket().set("ticket").await.expect("ticket");
    app.corp(SUITE, CORP).permanent_code().set("code-of-corp").await.expect("code");
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_gives_typed_errors_serves_valid_tokens_and_comes_back_whole() {
    let mut redis = RedisServer::start();
    let clock = ManualClock::starting_now();
    let emulator = Emulator::start_with_clock(clock.clone()).await.expect("emulator");
    let app = app_with(&redis.url(), &emulator, Some(&clock)).await;
    app.corp(SUITE, "wwcorpcold").permanent_code().set("code-of-cold").await.expect("code");
    app.corp(SUITE, CORP).jsapi().get_jsapi_ticket().await.expect("warm the corp token");
    let provider = app.provider().access_token().get().await.expect("warm");

    redis.kill();
    // Valid tokens in hand keep working, also past the near cache's recheck.
    clock.advance(Duration::from_secs(31));
    app.corp(SUITE, CORP).jsapi().get_jsapi_ticket().await.expect("served from the near cache");
    assert_eq!(app.provider().access_token().get().await.expect("served"), provider);
    // A call that needs the store fails fast with its typed error.
    let started = Instant::now();
    let err = app.corp(SUITE, "wwcorpcold").jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    match &err {
        Error::Store { store, operation, .. } => {
            assert!(store.starts_with("redis://127.0.0.1:"), "{store}");
            assert!(!operation.is_empty());
        }
        other => panic!("expected Error::Store, got {other:?}"),
    }
    let err = app.suite(SUITE).ticket().set("newer").await.unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");

    redis.restart();
    // Service comes back by itself (the connection is re-made on use).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match app.corp(SUITE, "wwcorpcold").jsapi().get_jsapi_ticket().await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                assert!(matches!(e, Error::Store { .. }), "{e:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("Redis is back but calls still fail: {e}"),
        }
    }
    // Nothing stored before the kill was lost.
    for corp in [CORP, "wwcorpcold"] {
        assert!(app.corp(SUITE, corp).permanent_code().get().await.expect("read").is_some(), "{corp}");
    }
    assert_eq!(app.suite(SUITE).ticket().get().await.expect("ticket"), "ticket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_one_instance_drops_is_dropped_by_the_others_within_a_second_on_redis() {
    let redis = RedisServer::start();
    let emulator = Emulator::start().await.expect("emulator");
    let first = app_with(&redis.url(), &emulator, None).await;
    let second = app_with(&redis.url(), &emulator, None).await;
    let old = first.suite(SUITE).access_token().get().await.expect("token");
    assert_eq!(second.suite(SUITE).access_token().get().await.expect("token"), old);
    // The second is listening once it has read from the store.
    emulator.revoke_token(&old);
    first.suite(SUITE).get_pre_auth_code().await.expect("refetched and retried");
    let new = first.suite(SUITE).access_token().get().await.expect("token");
    assert_ne!(new, old);
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let seen = second.suite(SUITE).access_token().get().await.expect("token");
        if seen == new {
            break;
        }
        assert!(Instant::now() < deadline, "the second instance still serves the dropped token");
        tokio::task::yield_now().await;
    }
    assert_eq!(emulator.calls(SUITE_TOKEN), 2);
}

#[tokio::test]
async fn a_token_one_instance_drops_is_dropped_by_the_others_within_a_second_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("wecom-openwork-stores-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}", dir.join("a.sqlite3").display());
    let clock = ManualClock::starting_now();
    let emulator = Emulator::start_with_clock(clock.clone()).await.expect("emulator");
    let first = app_with(&url, &emulator, Some(&clock)).await;
    let second = app_with(&url, &emulator, Some(&clock)).await;
    let old = first.suite(SUITE).access_token().get().await.expect("token");
    assert_eq!(second.suite(SUITE).access_token().get().await.expect("token"), old);
    emulator.revoke_token(&old);
    first.suite(SUITE).get_pre_auth_code().await.expect("refetched and retried");
    let new = first.suite(SUITE).access_token().get().await.expect("token");
    clock.advance(Duration::from_secs(1));
    assert_eq!(second.suite(SUITE).access_token().get().await.expect("token"), new);
    assert_eq!(emulator.calls(SUITE_TOKEN), 2);
    let _ = std::fs::remove_dir_all(dir);
}
