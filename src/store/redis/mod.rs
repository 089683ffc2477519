//! The Redis store (feature `redis`): one Redis shared by every instance of
//! the application.
//!
//! Many instances behind a load balancer must agree on one token per scope
//! and on one copy of each record. Each operation here is a single Redis
//! command or Lua script, so it is atomic across processes: the lease
//! (`SET NX PX`) is what lets exactly one instance fetch a token while the
//! others wait, and the compare-and-set scripts (on `obtained_at` for tokens,
//! on `version` for records) are what keep a late, older write from
//! overwriting a newer one; an exact compare-and-set on `version` fences
//! writers that read the same record. Dropped tokens are announced on a pub/sub channel
//! so the other instances' near caches forget them.
//!
//! Records never carry a TTL. Redis must still be configured not to evict
//! them (`maxmemory-policy` `noeviction` or a `volatile-*` policy) and to
//! persist them (AOF): losing an authorization means the corp must reinstall.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ConnectionAddr, RedisError, Script, Value};
use tokio::sync::{broadcast, OnceCell};

mod invalidations;
mod scripts;

use super::{store_error, CachedToken, LeaseId, Record, Store};
use crate::error::Error;
use crate::future::BoxFuture;
use invalidations::Subscription;
use scripts::Scripts;

/// Options of a [`RedisStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// Prepended to every key and to the invalidation channel, so several
    /// applications can share one Redis database. Must not contain `{` or
    /// `}` (the keys carry their own cluster hash tags). Default
    /// `wecom-openwork:`.
    pub key_prefix: String,
    /// The longest any one operation may take, connecting included; past it
    /// the operation fails with [`Error::Store`]. Default 2 s.
    pub timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions { key_prefix: "wecom-openwork:".to_owned(), timeout: Duration::from_secs(2) }
    }
}

/// A [`Store`] in Redis, shared by many instances.
///
/// Tokens and leases live under `{prefix}cache:{key}` (tokens as hashes
/// expiring at their `expires_at`), records under `{prefix}record:{key}`
/// (hashes that never expire), and dropped tokens are announced on the
/// channel `{prefix}invalidate`.
///
/// [`open`](Self::open) does not connect: the connection is made on first
/// use and remade by itself after Redis comes back, so an operation while
/// Redis is down fails within the timeout instead of hanging.
///
/// The invalidation subscription uses RESP3 (Redis 6 or newer).
pub struct RedisStore {
    client: Client,
    describe: String,
    key_prefix: String,
    timeout: Duration,
    manager: OnceCell<ConnectionManager>,
    policy_checked: AtomicBool,
    scripts: Scripts,
    subscription: Mutex<Option<Subscription>>,
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        let slot = self.subscription.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(subscription) = slot.take() {
            subscription.task.abort();
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("store", &self.describe)
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://[user:password@]host[:port][/db]`,
    /// or `rediss://…` for TLS).
    /// Checks the URL and the options but does not connect.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the field when the URL is not a `redis://`
    /// or `rediss://` URL, or when an option is unusable.
    pub fn open(url: &str, options: RedisOptions) -> Result<RedisStore, Error> {
        const FORM: &str = "redis://[user:password@]host[:port][/db]";
        let parsed = redis::parse_redis_url(url)
            .ok_or_else(|| Error::Config(format!("store.url: not a Redis URL (expected {FORM})")))?;
        match parsed.scheme() {
            // rediss: TLS with rustls (the same ring provider reqwest uses)
            // and the webpki root certificates.
            "redis" | "rediss" => {}
            other => {
                return Err(Error::Config(format!(
                    "store.url: the Redis store takes redis:// URLs, not {other}:// (expected {FORM})"
                )))
            }
        }
        // The parser's messages are fixed texts: none repeats the URL.
        let client = Client::open(parsed).map_err(|e| {
            Error::Config(format!("store.url: not a usable Redis URL ({e}); expected {FORM}"))
        })?;
        if options.key_prefix.contains(['{', '}']) {
            return Err(Error::Config(
                "store.key_prefix: must not contain `{` or `}` (keys carry their own hash tags)".to_owned(),
            ));
        }
        if options.timeout.is_zero() {
            return Err(Error::Config("store.timeout: must be longer than zero".to_owned()));
        }
        let describe = describe(&client);
        Ok(RedisStore {
            client,
            describe,
            key_prefix: options.key_prefix,
            timeout: options.timeout,
            manager: OnceCell::new(),
            policy_checked: AtomicBool::new(false),
            scripts: Scripts::load(),
            subscription: Mutex::new(None),
        })
    }

    fn cache_key(&self, key: &str) -> String {
        format!("{}cache:{key}", self.key_prefix)
    }

    fn record_key(&self, key: &str) -> String {
        format!("{}record:{key}", self.key_prefix)
    }

    fn channel(&self) -> String {
        format!("{}invalidate", self.key_prefix)
    }

    fn error(&self, operation: &'static str, message: impl fmt::Display) -> Error {
        store_error(&self.describe, operation, message)
    }

    /// The shared connection, created (not yet connected) on first use.
    async fn manager(&self) -> Result<ConnectionManager, RedisError> {
        let timeout = self.timeout;
        self.manager
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout.min(Duration::from_secs(1))))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(1)
                    .set_min_delay(Duration::from_millis(50))
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await
            .cloned()
    }

    /// Runs `op` on the connection within the timeout.
    ///
    /// A failure of the connection makes the manager reconnect, and `op` is
    /// tried once more on the new connection, so the first operation after
    /// Redis comes back succeeds: always when the connection was refused (the
    /// command never reached Redis), and after a dropped connection only when
    /// `retry` allows it (it may have run once already).
    async fn run<T, F, Fut>(&self, operation: &'static str, retry: Retry, op: F) -> Result<T, Error>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let attempt = async {
            let manager = self.manager().await?;
            let result = match op(manager.clone()).await {
                Err(e)
                    if e.is_connection_refusal()
                        || (retry == Retry::IfDropped && e.is_connection_dropped()) =>
                {
                    op(manager.clone()).await
                }
                other => other,
            };
            if result.is_ok() && !self.policy_checked.swap(true, Ordering::Relaxed) {
                self.check_eviction_policy(manager);
            }
            result
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.error(operation, e)),
            Err(_) => Err(self.error(operation, format!("no answer from Redis within {:?}", self.timeout))),
        }
    }

    /// Warns, once, when Redis may evict records. Errors are ignored: CONFIG
    /// is often disabled on managed Redis.
    fn check_eviction_policy(&self, mut manager: ConnectionManager) {
        let store = self.describe.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            let mut config_get = redis::cmd("CONFIG");
            config_get.arg("GET").arg("maxmemory-policy");
            let query = config_get.query_async::<std::collections::HashMap<String, String>>(&mut manager);
            if let Ok(Ok(config)) = tokio::time::timeout(timeout, query).await {
                if let Some(policy) = config.get("maxmemory-policy").filter(|p| p.starts_with("allkeys-")) {
                    tracing::warn!(
                        store = %store,
                        policy = %policy,
                        "Redis maxmemory-policy may evict keys without a TTL: records (suite tickets, \
                         authorizations with their permanent codes) can be lost; use noeviction or a volatile-* policy"
                    );
                }
            }
        });
    }
}

/// When [`RedisStore::run`] tries an operation again on a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Only when the connection was refused: the command never reached
    /// Redis. For operations whose second run would answer differently.
    IfRefused,
    /// Also when the connection dropped: for idempotent operations, whose
    /// second run has the effect and the answer of the first.
    IfDropped,
}

/// `redis://host:port/db` (or `rediss://`), without user or password.
fn describe(client: &Client) -> String {
    let info = client.get_connection_info();
    let db = info.redis_settings().db();
    match info.addr() {
        ConnectionAddr::Tcp(host, port) if host.contains(':') => format!("redis://[{host}]:{port}/{db}"),
        ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}/{db}"),
        ConnectionAddr::TcpTls { host, port, .. } if host.contains(':') => {
            format!("rediss://[{host}]:{port}/{db}")
        }
        ConnectionAddr::TcpTls { host, port, .. } => format!("rediss://{host}:{port}/{db}"),
        _ => format!("redis://(not tcp)/{db}"),
    }
}

/// Milliseconds since the Unix epoch, now.
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A fresh random lease id.
fn lease_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = fastrand::u128(..).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `text` with Redis glob characters escaped, for SCAN MATCH.
fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Runs `script` on one key; its result is a count or a 0/1 flag.
async fn eval<const N: usize>(
    mut connection: ConnectionManager,
    script: &Script,
    key: &str,
    args: [String; N],
) -> Result<i64, RedisError> {
    let mut invocation = script.prepare_invoke();
    invocation.key(key);
    for arg in args {
        invocation.arg(arg);
    }
    invocation.invoke_async(&mut connection).await
}

/// The text of a message payload.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

impl Store for RedisStore {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn get_token<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CachedToken>, Error>> {
        Box::pin(async move {
            let redis_key = self.cache_key(key);
            let fields: (Option<String>, Option<String>, Option<String>) = self
                .run("get_token", Retry::IfDropped, |mut c| {
                    let redis_key = &redis_key;
                    async move {
                        redis::cmd("HMGET")
                            .arg(redis_key)
                            .arg("value")
                            .arg("obtained_at")
                            .arg("expires_at")
                            .query_async(&mut c)
                            .await
                    }
                })
                .await?;
            let (Some(value), Some(obtained_at), Some(expires_at)) = fields else { return Ok(None) };
            let (Ok(obtained_at), Ok(expires_at)) = (obtained_at.parse::<u64>(), expires_at.parse::<u64>())
            else {
                return Err(
                    self.error("get_token", "malformed token entry (obtained_at or expires_at not a number)")
                );
            };
            if expires_at <= now_ms() {
                return Ok(None);
            }
            Ok(Some(CachedToken { value, obtained_at, expires_at }))
        })
    }

    fn put_token<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let redis_key = self.cache_key(key);
            let stored: i64 = self
                .run("put_token", Retry::IfDropped, |c| {
                    let args =
                        [token.value.clone(), token.obtained_at.to_string(), token.expires_at.to_string()];
                    eval(c, &self.scripts.put_token, &redis_key, args)
                })
                .await?;
            Ok(stored == 1)
        })
    }

    fn drop_token<'a>(&'a self, key: &'a str, value: Option<&'a str>) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let redis_key = self.cache_key(key);
            let dropped: i64 = match value {
                Some(value) => {
                    self.run("drop_token", Retry::IfRefused, |c| {
                        eval(c, &self.scripts.drop_token, &redis_key, [value.to_owned()])
                    })
                    .await?
                }
                None => {
                    self.run("drop_token", Retry::IfRefused, |mut c| {
                        let redis_key = &redis_key;
                        async move { redis::cmd("DEL").arg(redis_key).query_async(&mut c).await }
                    })
                    .await?
                }
            };
            Ok(dropped > 0)
        })
    }

    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>> {
        Box::pin(async move {
            let redis_key = self.cache_key(key);
            let id = lease_id();
            let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let taken: Option<String> = self
                .run("try_lease", Retry::IfRefused, |mut c| {
                    let (redis_key, id) = (&redis_key, &id);
                    async move {
                        redis::cmd("SET")
                            .arg(redis_key)
                            .arg(id)
                            .arg("NX")
                            .arg("PX")
                            .arg(ttl_ms)
                            .query_async(&mut c)
                            .await
                    }
                })
                .await?;
            Ok(taken.map(|_| LeaseId(id)))
        })
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let redis_key = self.cache_key(key);
            let _released: i64 = self
                .run("release", Retry::IfDropped, |c| {
                    eval(c, &self.scripts.release, &redis_key, [lease.0.clone()])
                })
                .await?;
            Ok(())
        })
    }

    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let redis_key = self.cache_key(key);
            let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            // Tried again after a dropped connection: a second run finds the
            // lease its own and extends it once more, from a moment later,
            // which is what one renewal then would have done.
            let renewed: i64 = self
                .run("renew_lease", Retry::IfDropped, |c| {
                    eval(c, &self.scripts.renew_lease, &redis_key, [lease.0.clone(), ttl_ms.to_string()])
                })
                .await?;
            Ok(renewed == 1)
        })
    }

    fn get_record<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        Box::pin(async move {
            let redis_key = self.record_key(key);
            let fields: (Option<String>, Option<String>) = self
                .run("get_record", Retry::IfDropped, |mut c| {
                    let redis_key = &redis_key;
                    async move {
                        redis::cmd("HMGET")
                            .arg(redis_key)
                            .arg("value")
                            .arg("version")
                            .query_async(&mut c)
                            .await
                    }
                })
                .await?;
            let (Some(value), Some(version)) = fields else { return Ok(None) };
            let Ok(version) = version.parse::<u64>() else {
                return Err(self.error("get_record", "malformed record entry (version not a number)"));
            };
            Ok(Some(Record { value, version }))
        })
    }

    fn put_record<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let redis_key = self.record_key(key);
            let written: i64 = self
                .run("put_record", Retry::IfDropped, |c| {
                    let args = [record.value.clone(), record.version.to_string()];
                    eval(c, &self.scripts.put_record, &redis_key, args)
                })
                .await?;
            Ok(written == 1)
        })
    }

    fn replace_record<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let redis_key = self.record_key(key);
            let expected = expected.map(|v| v.to_string()).unwrap_or_default();
            // Not tried again after a dropped connection, unlike put_record:
            // had the first run written, the second would find the new
            // version instead of the expected one and answer "not written"
            // for a write that happened.
            let written: i64 = self
                .run("replace_record", Retry::IfRefused, |c| {
                    let args = [record.value.clone(), record.version.to_string(), expected.clone()];
                    eval(c, &self.scripts.replace_record, &redis_key, args)
                })
                .await?;
            Ok(written == 1)
        })
    }

    fn delete_record<'a>(&'a self, key: &'a str, before: Option<u64>) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let redis_key = self.record_key(key);
            let deleted: i64 = match before {
                Some(before) => {
                    self.run("delete_record", Retry::IfRefused, |c| {
                        eval(c, &self.scripts.delete_record, &redis_key, [before.to_string()])
                    })
                    .await?
                }
                None => {
                    self.run("delete_record", Retry::IfRefused, |mut c| {
                        let redis_key = &redis_key;
                        async move { redis::cmd("DEL").arg(redis_key).query_async(&mut c).await }
                    })
                    .await?
                }
            };
            Ok(deleted > 0)
        })
    }

    /// Scans the keyspace; the timeout bounds each SCAN round trip, not the
    /// whole listing.
    fn record_keys<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        Box::pin(async move {
            let stored_prefix = self.record_key("");
            let pattern = format!("{}{}*", escape_glob(&stored_prefix), escape_glob(prefix));
            let mut keys = BTreeSet::new();
            let mut cursor = 0u64;
            loop {
                let (next, batch): (u64, Vec<Vec<u8>>) = self
                    .run("record_keys", Retry::IfDropped, |mut c| {
                        let pattern = &pattern;
                        async move {
                            redis::cmd("SCAN")
                                .arg(cursor)
                                .arg("MATCH")
                                .arg(pattern)
                                .arg("COUNT")
                                .arg(1000)
                                .query_async(&mut c)
                                .await
                        }
                    })
                    .await?;
                for key in batch {
                    if let Ok(key) = String::from_utf8(key) {
                        if let Some(key) = key.strip_prefix(&stored_prefix) {
                            keys.insert(key.to_owned());
                        }
                    }
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            Ok(keys.into_iter().collect())
        })
    }

    fn publish_invalidation<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let channel = self.channel();
            let _receivers: i64 = self
                .run("publish_invalidation", Retry::IfDropped, |mut c| {
                    let channel = &channel;
                    async move { redis::cmd("PUBLISH").arg(channel).arg(key).query_async(&mut c).await }
                })
                .await?;
            Ok(())
        })
    }

    /// Receivers get each announced key, and an empty string after every
    /// (re)subscription: announcements may have been missed, forget all.
    fn invalidations(&self) -> Option<broadcast::Receiver<String>> {
        let mut slot = self.subscription.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(subscription) = slot.as_ref() {
            return Some(subscription.sender.subscribe());
        }
        let subscription = self.subscribe()?;
        let receiver = subscription.sender.subscribe();
        *slot = Some(subscription);
        Some(receiver)
    }

    fn near_cache_ttl(&self) -> Duration {
        Duration::from_secs(30)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_options_are_checked_without_connecting() {
        let store = RedisStore::open("redis://user:secret@10.0.0.5:6380/2", RedisOptions::default()).unwrap();
        assert_eq!(store.describe(), "redis://10.0.0.5:6380/2");
        assert!(!format!("{store:?}").contains("secret"));
        for bad in ["http://x", "not a url", "redis://h/notadb"] {
            let Err(Error::Config(message)) = RedisStore::open(bad, RedisOptions::default()) else {
                panic!("{bad}")
            };
            assert!(message.starts_with("store.url:"), "{message}");
        }
        let options = RedisOptions { key_prefix: "app{1}:".into(), ..RedisOptions::default() };
        assert!(
            matches!(RedisStore::open("redis://h", options), Err(Error::Config(m)) if m.contains("key_prefix"))
        );
    }

    #[test]
    fn globs_are_escaped() {
        assert_eq!(escape_glob(r"a*b?[c]\"), r"a\*b\?\[c\]\\");
        assert_eq!(lease_id().len(), 32);
    }
}
