//! Where state lives, in two kinds kept apart:
//!
//! - **cache**: provider, suite and corp tokens, each with an expiry. Losing
//!   one costs a fetch. Written by compare-and-set on `obtained_at`, so an
//!   older token never overwrites a newer one, and refreshed under a lease, so
//!   one instance fetches while the others wait.
//! - **records**: the newest suite ticket per suite and, per (suite, corp),
//!   the authorization with its permanent code. They never expire and are
//!   never evicted: losing one is data loss (the corp must reinstall).
//!   Each carries a version (the time it was issued), and a write or a delete
//!   that is older than what is stored changes nothing.
//!
//! Three stores ship: [`SqliteStore`] (the default: a file in the working
//! directory), [`RedisStore`] (feature `redis`, for many instances) and
//! [`MemoryStore`] (tests and demos; loses everything on restart). Pick one
//! with [`StoreConfig::url`](crate::config::StoreConfig::url) or hand your own
//! [`Store`] to [`ApplicationBuilder::store`](crate::ApplicationBuilder::store).
//!
//! Keys name a scope and never contain a secret (see [`keys`]).

mod fencing;
mod measured;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod sqlite;

use std::fmt;
use std::time::Duration;

use crate::error::Error;
use crate::future::BoxFuture;
use crate::ids::{CorpId, SuiteId};

pub(crate) use fencing::{renewing, replace_landed};
pub(crate) use measured::Measured;
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{RedisOptions, RedisStore};
pub use sqlite::{SqliteStore, DEFAULT_BUSY_TIMEOUT, DEFAULT_SQLITE_FILE};

/// Proof of holding a lease, given back to release it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseId(pub String);

/// A cached token and its times, in milliseconds since the Unix epoch.
#[derive(Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The token itself. Never logged.
    pub value: String,
    /// When it was obtained: a newer one always wins.
    pub obtained_at: u64,
    /// When it expires.
    pub expires_at: u64,
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("value", &"<redacted>")
            .field("obtained_at", &self.obtained_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A durable record and its version (when what it holds was issued, in
/// milliseconds since the Unix epoch): newer versions win.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    /// The content (JSON, for the records the SDK writes). May hold secrets.
    pub value: String,
    /// When its content was issued.
    pub version: u64,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record").field("value", &"<redacted>").field("version", &self.version).finish()
    }
}

/// Shared state of an application: a cache with expiry, a lease, and records
/// that never expire. Every operation is atomic on its own; a store shared
/// by many instances (Redis, one SQLite file) must keep it so across them.
pub trait Store: Send + Sync + fmt::Debug {
    /// What and where the store is, for errors and logs (never a password).
    fn describe(&self) -> String;

    // ------------------------------------------------------------------ cache

    /// The token under `key`, if stored and not expired.
    fn get_token<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CachedToken>, Error>>;

    /// Stores `token` under `key` until it expires, unless the stored one was
    /// obtained later. Returns whether it was stored.
    fn put_token<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, Result<bool, Error>>;

    /// Drops the token under `key` if its value is `value` (any value when
    /// `None`). Returns whether one was dropped.
    fn drop_token<'a>(&'a self, key: &'a str, value: Option<&'a str>) -> BoxFuture<'a, Result<bool, Error>>;

    /// Takes the lease `key` for `ttl` if nobody holds it: "I refresh this".
    /// `None` means someone else holds it.
    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>>;

    /// Gives a lease back early; only its holder's id releases it.
    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>>;

    /// Extends lease `key` to `ttl` from now for its holder `lease`, so work
    /// that outlasts the lease's first term keeps it. Returns whether `lease`
    /// holds it now: true when it still held it, or when it had lapsed and
    /// nobody took it since (then it is taken again); false when another
    /// holder has it.
    ///
    /// Required, with no default: a check of the holder followed by a
    /// separate write could extend a lease another instance took in between.
    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    // ---------------------------------------------------------------- records

    /// The record under `key`.
    fn get_record<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>>;

    /// Writes `record` under `key` unless a newer version is stored. Returns
    /// whether it was written. Records never expire.
    fn put_record<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<bool, Error>>;

    /// Writes `record` under `key` only if the stored record's version is
    /// exactly `expected` (`None`: only if no record is stored under `key`).
    /// Returns whether it was written. The compare and the write are one
    /// atomic step for every instance sharing the store: this is what fences
    /// writers (two instances that read the same version cannot both write).
    /// Unlike [`put_record`](Self::put_record) the comparison is exact, so
    /// the new version may be lower than the stored one. Records never expire.
    ///
    /// Required, with no default: [`get_record`](Self::get_record) then
    /// [`put_record`](Self::put_record) would let two writers both win.
    fn replace_record<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// Deletes the record under `key` if its version is older than `before`
    /// (whatever its version when `None`). Returns whether one was deleted.
    fn delete_record<'a>(&'a self, key: &'a str, before: Option<u64>) -> BoxFuture<'a, Result<bool, Error>>;

    /// The keys of every record whose key starts with `prefix`, sorted.
    fn record_keys<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>>;

    // ----------------------------------------------------------- invalidation

    /// Tells the other instances that the token under `key` was dropped, so
    /// their near caches forget it. The default does nothing (a store without
    /// a channel relies on the near cache's short lifetime).
    fn publish_invalidation<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        let _ = key;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Keys of tokens other instances dropped, as they are announced; `None`
    /// when the store has no such channel.
    fn invalidations(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        None
    }

    /// How long an instance may serve a token from its near cache before it
    /// checks the store again. A store that announces invalidations can
    /// afford longer than one that does not.
    fn near_cache_ttl(&self) -> Duration {
        Duration::from_secs(1)
    }
}

/// An [`Error::Store`] naming the store and the operation.
pub(crate) fn store_error(store: &str, operation: &'static str, message: impl fmt::Display) -> Error {
    Error::Store { store: store.to_owned(), operation, message: message.to_string() }
}

/// Store keys, one per scope. Ids only: no secret, ticket or code in a key.
///
/// A token and its lease share the `{…}` hash tag, so a Redis cluster keeps
/// them in one slot.
pub mod keys {
    use super::{CorpId, SuiteId};

    /// The provider access token of provider `corp_id`.
    pub fn provider_token(corp_id: &CorpId) -> String {
        format!("token:{{provider:{corp_id}}}")
    }

    /// The suite access token of `suite_id`.
    pub fn suite_token(suite_id: &SuiteId) -> String {
        format!("token:{{suite:{suite_id}}}")
    }

    /// The access token of corp `corp_id` authorized through `suite_id`.
    pub fn corp_token(suite_id: &SuiteId, corp_id: &CorpId) -> String {
        format!("token:{{corp:{suite_id}:{corp_id}}}")
    }

    /// The token of downstream corp `downstream` for app `agentid`, through
    /// upstream corp `corp_id` (上下游). Tagged with the upstream corp's token.
    pub fn downstream_token(
        suite_id: &SuiteId,
        corp_id: &CorpId,
        downstream: &CorpId,
        agentid: i64,
    ) -> String {
        format!("token:{{corp:{suite_id}:{corp_id}}}:downstream:{downstream}:{agentid}")
    }

    /// The `jsapi_ticket` of corp `corp_id` (through `suite_id`): it signs
    /// `wx.config`.
    pub fn jsapi_ticket(suite_id: &SuiteId, corp_id: &CorpId) -> String {
        format!("ticket:{{jsapi:{suite_id}:{corp_id}}}")
    }

    /// The `agent_config` ticket of the suite's app in corp `corp_id`: it
    /// signs `wx.agentConfig`.
    pub fn agent_ticket(suite_id: &SuiteId, corp_id: &CorpId) -> String {
        format!("ticket:{{agent:{suite_id}:{corp_id}}}")
    }

    /// The refresh lease of the token stored under `token_key`.
    pub fn refresh_lease(token_key: &str) -> String {
        format!("{token_key}:lease")
    }

    /// The record of the newest suite ticket of `suite_id`.
    pub fn suite_ticket(suite_id: &SuiteId) -> String {
        format!("suite_ticket:{suite_id}")
    }

    /// Prefix of every auth-code exchange journal (`pending:{suite}:{digest}`).
    pub const PENDING_PREFIX: &str = "pending:";

    /// Prefix of every authorization record.
    pub const AUTHORIZATION_PREFIX: &str = "authorization:";

    /// The record of corp `corp_id`'s authorization of `suite_id`, with its
    /// permanent code.
    pub fn authorization(suite_id: &SuiteId, corp_id: &CorpId) -> String {
        format!("{AUTHORIZATION_PREFIX}{suite_id}:{corp_id}")
    }

    /// The suite and corp of an [`authorization`] key.
    pub fn authorization_ids(key: &str) -> Option<(SuiteId, CorpId)> {
        let (suite, corp) = key.strip_prefix(AUTHORIZATION_PREFIX)?.split_once(':')?;
        Some((SuiteId::new(suite), CorpId::new(corp)))
    }

    /// The record that orders the lifecycle pushes of `suite_id` arriving
    /// within one second of WeCom's clock.
    pub fn arrivals(suite_id: &SuiteId) -> String {
        format!("arrivals:{suite_id}")
    }
}

/// The behaviour every [`Store`] must show. The SDK's stores pass it; run it
/// in the tests of a store of your own. It panics on the first deviation.
pub mod conformance {
    use super::*;

    fn token(value: &str, obtained_at: u64, expires_at: u64) -> CachedToken {
        CachedToken { value: value.to_owned(), obtained_at, expires_at }
    }

    /// Milliseconds since the epoch, now, for tokens that must be live.
    fn now() -> u64 {
        crate::clock::unix_ms(std::time::SystemTime::now())
    }

    /// Checks `store`, which must be empty: tokens (compare-and-set, drop,
    /// expiry), the lease and its renewal, and records (versions, ordered
    /// deletes, listing, exact compare-and-set). Sleeps 3 ms once, so a
    /// renewed lease is seen to outlast its first term. Leaves records
    /// behind.
    pub async fn check(store: &dyn Store) {
        let t0 = now();
        let key = "token:{corp:s:c}";
        assert_eq!(store.get_token(key).await.unwrap(), None);
        assert!(store.put_token(key, &token("new", t0, t0 + 60_000)).await.unwrap());
        // An older fetch finishing late does not overwrite the newer token.
        assert!(!store.put_token(key, &token("old", t0 - 1, t0 + 60_000)).await.unwrap());
        assert_eq!(store.get_token(key).await.unwrap().unwrap().value, "new");
        assert!(!store.drop_token(key, Some("old")).await.unwrap(), "only the named token is dropped");
        assert!(store.drop_token(key, Some("new")).await.unwrap());
        assert_eq!(store.get_token(key).await.unwrap(), None);
        assert!(store.put_token(key, &token("x", t0, t0 + 60_000)).await.unwrap());
        assert!(store.drop_token(key, None).await.unwrap());
        // An expired token is absent.
        assert!(store.put_token(key, &token("dead", t0 - 10_000, t0 - 1)).await.unwrap());
        assert_eq!(store.get_token(key).await.unwrap(), None);

        let lease = "token:{corp:s:c}:lease";
        let first = store.try_lease(lease, Duration::from_secs(10)).await.unwrap().expect("free");
        assert!(store.try_lease(lease, Duration::from_secs(10)).await.unwrap().is_none());
        store.release(lease, &LeaseId("someone else".into())).await.unwrap();
        assert!(store.try_lease(lease, Duration::from_secs(10)).await.unwrap().is_none());
        store.release(lease, &first).await.unwrap();
        let second = store.try_lease(lease, Duration::from_secs(10)).await.unwrap().expect("released");
        assert_ne!(first, second);
        store.release(lease, &second).await.unwrap();

        // Renewal: only the holder extends its lease, past its first term.
        let lease = "token:{suite:s}:lease";
        let ttl = Duration::from_secs(10);
        let held = store.try_lease(lease, Duration::from_millis(1)).await.unwrap().expect("free");
        assert!(
            store.renew_lease(lease, &held, Duration::from_secs(3600)).await.unwrap(),
            "the holder renews"
        );
        // Not a pause for a race: time has to pass the first 1 ms term.
        std::thread::sleep(Duration::from_millis(3));
        assert!(
            store.try_lease(lease, ttl).await.unwrap().is_none(),
            "the renewed lease outlasts its first term"
        );
        let stranger = LeaseId("someone else".into());
        assert!(!store.renew_lease(lease, &stranger, ttl).await.unwrap(), "held by another: refused");
        assert!(store.try_lease(lease, ttl).await.unwrap().is_none(), "a refused renewal takes nothing");
        store.release(lease, &stranger).await.unwrap();
        assert!(store.try_lease(lease, ttl).await.unwrap().is_none(), "the stranger never held it");
        store.release(lease, &held).await.unwrap();
        assert!(store.renew_lease(lease, &held, ttl).await.unwrap(), "nobody took it since: taken again");
        assert!(store.try_lease(lease, ttl).await.unwrap().is_none(), "taken again for real");
        store.release(lease, &held).await.unwrap();
        let next = store.try_lease(lease, ttl).await.unwrap().expect("released again");
        assert_ne!(next, held);
        assert!(!store.renew_lease(lease, &held, ttl).await.unwrap(), "taken by another since: refused");
        assert!(store.renew_lease(lease, &next, ttl).await.unwrap(), "its new holder renews");
        store.release(lease, &next).await.unwrap();
        assert!(
            store.try_lease(lease, ttl).await.unwrap().is_some(),
            "the renewed lease is released by its holder's id"
        );

        let rec = |value: &str, version| Record { value: value.to_owned(), version };
        let key = "authorization:s:c";
        assert_eq!(store.get_record(key).await.unwrap(), None);
        assert!(store.put_record(key, &rec("v2", 2)).await.unwrap());
        assert!(!store.put_record(key, &rec("v1", 1)).await.unwrap(), "an older record loses");
        assert!(store.put_record(key, &rec("v2b", 2)).await.unwrap(), "the same version rewrites");
        assert_eq!(store.get_record(key).await.unwrap(), Some(rec("v2b", 2)));
        assert!(!store.delete_record(key, Some(2)).await.unwrap(), "a delete as old as the record loses");
        assert!(store.get_record(key).await.unwrap().is_some());
        assert!(store.put_record("authorization:s:d", &rec("d", 1)).await.unwrap());
        assert!(store.put_record("suite_ticket:s", &rec("t", 1)).await.unwrap());
        assert_eq!(
            store.record_keys("authorization:").await.unwrap(),
            vec!["authorization:s:c".to_owned(), "authorization:s:d".to_owned()]
        );
        assert!(store.delete_record(key, Some(3)).await.unwrap());
        assert_eq!(store.get_record(key).await.unwrap(), None);
        assert!(store.delete_record("authorization:s:d", None).await.unwrap());
        assert!(!store.delete_record("authorization:s:d", None).await.unwrap());
        // Records and tokens never share a key space.
        assert!(store.put_record("token:{corp:s:c}", &rec("r", 1)).await.unwrap());
        assert_eq!(store.get_token("token:{corp:s:c}").await.unwrap(), None);

        // Exact compare-and-set: two writers that read the same version
        // cannot both write, and "newer wins" does not apply.
        let key = "suite_ticket:cas";
        assert!(
            !store.replace_record(key, Some(1), &rec("a", 1)).await.unwrap(),
            "absent: no version matches"
        );
        assert!(!store.replace_record(key, Some(0), &rec("a", 1)).await.unwrap(), "absent: not even 0");
        assert_eq!(store.get_record(key).await.unwrap(), None);
        assert!(store.replace_record(key, None, &rec("a", 5)).await.unwrap(), "absent: written");
        assert!(!store.replace_record(key, None, &rec("b", 9)).await.unwrap(), "present: refused");
        assert!(!store.replace_record(key, Some(4), &rec("b", 9)).await.unwrap(), "expected one lower");
        assert!(!store.replace_record(key, Some(6), &rec("b", 9)).await.unwrap(), "expected one higher");
        assert_eq!(store.get_record(key).await.unwrap(), Some(rec("a", 5)), "refusals change nothing");
        assert!(store.replace_record(key, Some(5), &rec("b", 6)).await.unwrap());
        assert_eq!(store.get_record(key).await.unwrap(), Some(rec("b", 6)));
        assert!(!store.replace_record(key, Some(5), &rec("c", 7)).await.unwrap(), "the second writer loses");
        assert_eq!(store.get_record(key).await.unwrap(), Some(rec("b", 6)));
        assert!(store.replace_record(key, Some(6), &rec("lower", 3)).await.unwrap(), "exact, not newer-wins");
        assert_eq!(store.get_record(key).await.unwrap(), Some(rec("lower", 3)));
        assert!(store.replace_record(key, Some(3), &rec("same", 3)).await.unwrap(), "the same version");
        assert_eq!(store.get_record(key).await.unwrap(), Some(rec("same", 3)));
        assert!(store.delete_record(key, None).await.unwrap());
        assert!(!store.replace_record(key, Some(3), &rec("gone", 4)).await.unwrap(), "deleted: absent");
        assert!(store.replace_record(key, None, &rec("again", 4)).await.unwrap(), "deleted: written anew");
        // Versions past 2^53 (where doubles stop being exact) compare exactly.
        let big = 1u64 << 53;
        assert!(store.replace_record(key, Some(4), &rec("big", big)).await.unwrap());
        assert!(
            !store.replace_record(key, Some(big + 1), &rec("x", 1)).await.unwrap(),
            "2^53 + 1 is not 2^53"
        );
        assert!(
            !store.replace_record(key, Some(big - 1), &rec("x", 1)).await.unwrap(),
            "2^53 - 1 is not 2^53"
        );
        assert!(store.replace_record(key, Some(big), &rec("bigger", big + 1)).await.unwrap());
        assert!(!store.replace_record(key, Some(big), &rec("x", 1)).await.unwrap(), "2^53 is not 2^53 + 1");
        assert_eq!(store.get_record(key).await.unwrap(), Some(rec("bigger", big + 1)));
        // Records written by CAS are records like any other, in their own space.
        assert!(store.record_keys("suite_ticket:").await.unwrap().contains(&key.to_owned()));
        assert_eq!(store.get_token(key).await.unwrap(), None);
        assert!(!store.describe().is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_scopes_only() {
        let suite = SuiteId::new("wwsuite");
        let corp = CorpId::new("wwcorp");
        assert_eq!(keys::corp_token(&suite, &corp), "token:{corp:wwsuite:wwcorp}");
        assert_eq!(
            keys::refresh_lease(&keys::corp_token(&suite, &corp)),
            "token:{corp:wwsuite:wwcorp}:lease"
        );
        assert_ne!(keys::suite_token(&suite), keys::suite_ticket(&suite));
        assert!(keys::authorization(&suite, &corp).starts_with(keys::AUTHORIZATION_PREFIX));
    }
}
