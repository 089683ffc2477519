//! The Redis store against a real `redis-server`, each test on its own.
#![cfg(feature = "redis")]

#[path = "common/redis_server.rs"]
mod redis_server;

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis_server::RedisServer;
use wecom_openwork::store::{
    conformance, keys, CachedToken, LeaseId, Record, RedisOptions, RedisStore, Store,
};
use wecom_openwork::Error;

/// A bound on anything that should take well under it: not a pause.
const DEADLINE: Duration = Duration::from_secs(15);

fn store(server: &RedisServer, timeout: Duration) -> RedisStore {
    let options = RedisOptions { timeout, ..RedisOptions::default() };
    RedisStore::open(&server.url(), options).expect("open")
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn record(value: &str, version: u64) -> Record {
    Record { value: value.to_owned(), version }
}

/// Retries `op` until it succeeds, for at most [`DEADLINE`].
async fn eventually<T, F, Fut>(what: &str, mut op: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let start = Instant::now();
    loop {
        match op().await {
            Ok(value) => return value,
            Err(e) if start.elapsed() < DEADLINE => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{what} still failing after {DEADLINE:?}: {e}"),
        }
    }
}

/// Asserts `result` is a store error naming `store` and `operation`,
/// returned within a bound that only a hang would exceed.
fn assert_store_error<T: std::fmt::Debug>(
    result: Result<T, Error>,
    started: Instant,
    store: &RedisStore,
    operation: &str,
) {
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "{operation} took {elapsed:?}");
    match result {
        Err(Error::Store { store: name, operation: op, message }) => {
            assert_eq!(name, store.describe());
            assert_eq!(op, operation);
            assert!(!message.is_empty());
        }
        other => panic!("{operation}: expected a store error, got {other:?}"),
    }
}

#[tokio::test]
async fn passes_the_conformance_check() {
    let server = RedisServer::start();
    let store = store(&server, Duration::from_secs(2));
    conformance::check(&store).await;
    assert_eq!(store.describe(), server.url());
    assert_eq!(store.near_cache_ttl(), Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_racing_a_replace_have_exactly_one_winner() {
    let server = RedisServer::start();
    // Two stores: two connections, as two instances would have.
    let first = std::sync::Arc::new(store(&server, Duration::from_secs(2)));
    let second = std::sync::Arc::new(store(&server, Duration::from_secs(2)));
    let key = "authorization:s:c";
    assert!(first.replace_record(key, None, &record("start", 1)).await.unwrap());
    for round in 1..=50u64 {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let race = |store: std::sync::Arc<RedisStore>, name: &'static str| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store.replace_record(key, Some(round), &record(name, round + 1)).await.unwrap()
            })
        };
        let a = race(first.clone(), "first");
        let b = race(second.clone(), "second");
        let (a, b) = (a.await.expect("joined"), b.await.expect("joined"));
        assert!(a ^ b, "round {round}: exactly one winner, got {a} and {b}");
        let winner = if a { "first" } else { "second" };
        assert_eq!(second.get_record(key).await.unwrap(), Some(record(winner, round + 1)));
    }
}

#[tokio::test]
async fn replace_compares_versions_past_2_53_exactly_and_keeps_records_persistent() {
    let server = RedisServer::start();
    let store = store(&server, Duration::from_secs(2));
    let key = "suite_ticket:s";
    let redis_key = "wecom-openwork:record:suite_ticket:s";
    // 2^53 + 1 is the first integer a double cannot hold: as doubles,
    // 9007199254740993 and 9007199254740992 are equal.
    assert!(store.put_record(key, &record("at 2^53", 9_007_199_254_740_992)).await.unwrap());
    assert!(!store.replace_record(key, Some(9_007_199_254_740_993), &record("x", 1)).await.unwrap());
    assert!(!store.replace_record(key, Some(9_007_199_254_740_991), &record("x", 1)).await.unwrap());
    assert_eq!(store.get_record(key).await.unwrap(), Some(record("at 2^53", 9_007_199_254_740_992)));
    assert!(store.replace_record(key, Some(9_007_199_254_740_992), &record("max", u64::MAX)).await.unwrap());
    assert!(!store.replace_record(key, Some(u64::MAX - 1), &record("x", 1)).await.unwrap());
    assert_eq!(store.get_record(key).await.unwrap(), Some(record("max", u64::MAX)));

    // The hash put_record writes (value and version, nothing more), without
    // a TTL even when one was set on the key by hand.
    assert_eq!(server.command(&["EXPIRE", redis_key, "1000"]), ":1");
    assert!(store.replace_record(key, Some(u64::MAX), &record("persisted", 7)).await.unwrap());
    assert_eq!(server.command(&["TTL", redis_key]), ":-1");
    assert_eq!(server.command(&["HLEN", redis_key]), ":2");
    assert_eq!(server.command(&["HGET", redis_key, "version"]), "$1");
    assert_eq!(store.get_record(key).await.unwrap(), Some(record("persisted", 7)));
    // And put_record reads what replace_record wrote.
    assert!(!store.put_record(key, &record("older", 6)).await.unwrap());
    assert!(store.put_record(key, &record("newer", 8)).await.unwrap());
    assert_eq!(server.command(&["TTL", redis_key]), ":-1");
}

#[tokio::test]
async fn renew_sets_a_new_ttl_under_the_prefix() {
    let server = RedisServer::start();
    let store = store(&server, Duration::from_secs(2));
    let lease = "token:{suite:s}:lease";
    let redis_key = "wecom-openwork:cache:token:{suite:s}:lease";
    let pttl = || {
        let reply = server.command(&["PTTL", redis_key]);
        reply.trim_start_matches(':').parse::<i64>().expect(&reply)
    };
    let held = store.try_lease(lease, Duration::from_secs(10)).await.unwrap().expect("free");
    assert!((1..=10_000).contains(&pttl()));
    assert!(store.renew_lease(lease, &held, Duration::from_secs(3600)).await.unwrap());
    assert!(pttl() > 10_000, "renewed to an hour: {}", pttl());
    let stranger = LeaseId("someone else".into());
    assert!(!store.renew_lease(lease, &stranger, Duration::from_secs(7200)).await.unwrap());
    assert!((10_001..=3_600_000).contains(&pttl()), "a refused renewal changes nothing");
    // Lapsed (gone from Redis), nobody took it: taken again, with its ttl.
    assert_eq!(server.command(&["DEL", redis_key]), ":1");
    assert!(store.renew_lease(lease, &held, Duration::from_secs(10)).await.unwrap());
    assert!((1..=10_000).contains(&pttl()));
    assert!(store.try_lease(lease, Duration::from_secs(10)).await.unwrap().is_none());
    // Taken by another since: refused, and the other keeps it.
    assert_eq!(server.command(&["SET", redis_key, "other"]), "+OK");
    assert!(!store.renew_lease(lease, &held, Duration::from_secs(10)).await.unwrap());
    assert_eq!(server.command(&["GET", redis_key]), "$5");
    assert_eq!(server.command(&["PTTL", redis_key]), ":-1", "the other's lease untouched");
}

#[tokio::test]
async fn key_spaces_and_prefixes_are_kept_apart() {
    let server = RedisServer::start();
    let a =
        RedisStore::open(&server.url(), RedisOptions { key_prefix: "a:".into(), ..RedisOptions::default() })
            .unwrap();
    let b =
        RedisStore::open(&server.url(), RedisOptions { key_prefix: "b:".into(), ..RedisOptions::default() })
            .unwrap();
    assert!(a.put_record("authorization:s:c", &record("a", 1)).await.unwrap());
    assert_eq!(b.get_record("authorization:s:c").await.unwrap(), None);
    assert!(b.record_keys("").await.unwrap().is_empty());
    // Glob characters in a listing prefix are literal.
    assert!(a.put_record("authorization:s*x", &record("star", 1)).await.unwrap());
    assert_eq!(a.record_keys("authorization:s*").await.unwrap(), vec!["authorization:s*x".to_owned()]);
    assert_eq!(a.record_keys("authorization:?").await.unwrap(), Vec::<String>::new());
    assert_eq!(a.record_keys("").await.unwrap().len(), 2);
}

#[tokio::test]
async fn records_survive_a_kill_and_restart() {
    let mut server = RedisServer::start();
    let store = store(&server, Duration::from_secs(2));
    let token_key = "token:{corp:s:c}";
    let live = CachedToken { value: "tok".into(), obtained_at: now_ms(), expires_at: now_ms() + 600_000 };
    assert!(store.put_token(token_key, &live).await.unwrap());
    for i in 0..20u64 {
        let key = format!("authorization:s:c{i:02}");
        assert!(store.put_record(&key, &record(&format!("v{i}"), 100 + i)).await.unwrap());
    }
    assert!(store.put_record("suite_ticket:s", &record("ticket", 7)).await.unwrap());

    server.kill();
    server.restart();

    // The same store, not rebuilt, reconnects by itself.
    let listed = eventually("record_keys", || store.record_keys(keys::AUTHORIZATION_PREFIX)).await;
    assert_eq!(listed.len(), 20);
    for i in 0..20u64 {
        let key = format!("authorization:s:c{i:02}");
        assert_eq!(listed[i as usize], key);
        assert_eq!(store.get_record(&key).await.unwrap(), Some(record(&format!("v{i}"), 100 + i)));
    }
    assert_eq!(store.get_record("suite_ticket:s").await.unwrap(), Some(record("ticket", 7)));
    assert_eq!(store.get_token(token_key).await.unwrap(), Some(live));

    // A fresh store on the restarted server sees the same.
    let fresh = RedisStore::open(&server.url(), RedisOptions::default()).unwrap();
    assert_eq!(fresh.record_keys(keys::AUTHORIZATION_PREFIX).await.unwrap(), listed);
}

#[tokio::test]
async fn an_outage_fails_fast_and_heals_by_itself() {
    let mut server = RedisServer::start();
    let store = store(&server, Duration::from_millis(500));
    let key = "token:{corp:s:c}";
    let token =
        CachedToken { value: "secret-token".into(), obtained_at: now_ms(), expires_at: now_ms() + 600_000 };
    assert!(store.put_token(key, &token).await.unwrap());

    server.kill();
    for round in 0..2 {
        let started = Instant::now();
        assert_store_error(store.get_token(key).await, started, &store, "get_token");
        let started = Instant::now();
        assert_store_error(
            store.put_record("suite_ticket:s", &record("t", 1)).await,
            started,
            &store,
            "put_record",
        );
        let started = Instant::now();
        let lease = store.try_lease(&keys::refresh_lease(key), Duration::from_secs(5)).await;
        assert_store_error(lease, started, &store, "try_lease");
        let started = Instant::now();
        let replaced = store.replace_record("suite_ticket:s", None, &record("t", 1)).await;
        assert_store_error(replaced, started, &store, "replace_record");
        let started = Instant::now();
        let holder = LeaseId("holder".into());
        let renewed = store.renew_lease(&keys::refresh_lease(key), &holder, Duration::from_secs(5)).await;
        assert_store_error(renewed, started, &store, "renew_lease");
        let _ = round;
    }
    // No secret in the errors.
    let message = store.get_token(key).await.unwrap_err().to_string();
    assert!(!message.contains("secret-token"), "{message}");

    server.restart();
    let got = eventually("get_token", || store.get_token(key)).await;
    assert_eq!(got, Some(token));
    assert!(store.put_record("suite_ticket:s", &record("t", 1)).await.unwrap());
    let lease = store.try_lease(&keys::refresh_lease(key), Duration::from_secs(5)).await.unwrap();
    assert!(lease.is_some());
}

#[tokio::test]
async fn a_hung_server_costs_at_most_the_timeout() {
    let server = RedisServer::start();
    let timeout = Duration::from_millis(500);
    let store = store(&server, timeout);
    assert!(store.put_record("suite_ticket:s", &record("t", 1)).await.unwrap());

    server.freeze();
    for _ in 0..2 {
        let started = Instant::now();
        assert_store_error(store.get_record("suite_ticket:s").await, started, &store, "get_record");
        assert!(started.elapsed() >= timeout / 2, "failed before waiting: {:?}", started.elapsed());
        let started = Instant::now();
        let lease = store.try_lease("token:{suite:s}:lease", Duration::from_secs(5)).await;
        assert_store_error(lease, started, &store, "try_lease");
    }
    server.thaw();
    let got = eventually("get_record", || store.get_record("suite_ticket:s")).await;
    assert_eq!(got, Some(record("t", 1)));
}

#[tokio::test]
async fn a_store_that_never_connected_fails_fast() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let options = RedisOptions { timeout: Duration::from_millis(500), ..RedisOptions::default() };
    let store = RedisStore::open("redis://user:pw@127.0.0.1:1/0", options).unwrap();
    let started = Instant::now();
    assert_store_error(store.get_record("suite_ticket:s").await, started, &store, "get_record");
    let message = store.get_record("suite_ticket:s").await.unwrap_err().to_string();
    assert!(!message.contains("pw"), "{message}");
}

/// Log lines, captured.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn an_evicting_redis_is_warned_about_once() {
    let server = RedisServer::start();
    assert_eq!(server.command(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]), "+OK");
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    // The test runtime has one thread, so the store's tasks log here too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let store = store(&server, Duration::from_secs(2));
    assert!(store.put_record("suite_ticket:s", &record("secret-ticket", 1)).await.unwrap());
    let start = Instant::now();
    while !logs.text().contains("allkeys-lru") {
        assert!(start.elapsed() < DEADLINE, "no eviction warning: {}", logs.text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(store.get_record("suite_ticket:s").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = logs.text();
    assert_eq!(text.matches("allkeys-lru").count(), 1, "{text}");
    assert!(text.contains("WARN") && !text.contains("secret-ticket"), "{text}");
}

/// The next message on `rx` within [`DEADLINE`].
async fn next(rx: &mut tokio::sync::broadcast::Receiver<String>) -> String {
    tokio::time::timeout(DEADLINE, rx.recv()).await.expect("no invalidation in time").expect("channel closed")
}

#[tokio::test]
async fn invalidations_reach_other_instances() {
    let mut server = RedisServer::start();
    let a = store(&server, Duration::from_secs(2));
    let b = store(&server, Duration::from_secs(2));
    let mut rx = b.invalidations().expect("a Redis store announces invalidations");
    // "" says the subscription is (re)established.
    assert_eq!(next(&mut rx).await, "");

    let key = "token:{corp:s:c}";
    a.publish_invalidation(key).await.unwrap();
    assert_eq!(next(&mut rx).await, key);

    // A second receiver shares the one subscription.
    let mut rx2 = b.invalidations().unwrap();
    a.publish_invalidation("token:{suite:s}").await.unwrap();
    assert_eq!(next(&mut rx).await, "token:{suite:s}");
    assert_eq!(next(&mut rx2).await, "token:{suite:s}");

    // After an outage the subscription comes back, announcing "" first.
    server.kill();
    server.restart();
    loop {
        if next(&mut rx).await.is_empty() {
            break;
        }
    }
    eventually("publish_invalidation", || a.publish_invalidation(key)).await;
    assert_eq!(next(&mut rx).await, key);

    // Dropping the store ends its subscription task.
    drop(b);
    let closed = tokio::time::timeout(DEADLINE, async {
        loop {
            match rx.recv().await {
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                _ => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the subscription task outlived its store");
}

#[test]
fn bad_urls_are_config_errors_and_passwords_stay_hidden() {
    for url in ["http://127.0.0.1:6379", "redis://127.0.0.1:6379/x", "nonsense"] {
        match RedisStore::open(url, RedisOptions::default()) {
            Err(Error::Config(message)) => assert!(message.contains("store.url"), "{url}: {message}"),
            other => panic!("{url}: expected a config error, got {other:?}"),
        }
    }
    let options = RedisOptions { key_prefix: "app{1}:".into(), ..RedisOptions::default() };
    assert!(matches!(RedisStore::open("redis://127.0.0.1/0", options), Err(Error::Config(_))));

    let store = RedisStore::open("redis://user:pw@127.0.0.1:1/0", RedisOptions::default()).unwrap();
    assert_eq!(store.describe(), "redis://127.0.0.1:1/0");
    assert!(!store.describe().contains("pw") && !store.describe().contains("user"));
    assert!(!format!("{store:?}").contains("pw"));

    // TLS: accepted, and described as such.
    let store = RedisStore::open("rediss://:pw@cache.example:6380/2", RedisOptions::default()).unwrap();
    assert_eq!(store.describe(), "rediss://cache.example:6380/2");
}
