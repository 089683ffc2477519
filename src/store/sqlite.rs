//! The default store: one SQLite file (bundled SQLite, WAL). Records survive a
//! restart, and several processes on one host may share the file: every
//! conditional write is one statement inside `BEGIN IMMEDIATE`, so two
//! processes never both take a lease or both win a compare-and-set.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{store_error, CachedToken, LeaseId, Record, Store};
use crate::clock::{unix_ms, Clock, SystemClock};
use crate::error::Error;
use crate::future::BoxFuture;

/// The file name of the default store, in the working directory.
pub const DEFAULT_SQLITE_FILE: &str = "wecom-openwork.sqlite3";

/// How long a write waits for another process's lock before failing.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS cache (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL,
        obtained_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS cache_expiry ON cache (expires_at);
    CREATE TABLE IF NOT EXISTS leases (
        key TEXT PRIMARY KEY NOT NULL,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS records (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL,
        version INTEGER NOT NULL
    );
";

/// A [`Store`] in one SQLite file (`sqlite://PATH`): the default. Work runs
/// on tokio's blocking threads, never on the async ones.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    described: String,
    connection: Mutex<Connection>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

/// SQLite stores integers as i64; our times are u64 milliseconds.
fn int(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl SqliteStore {
    /// Opens (creating it if needed) the store at `path`, waiting at most
    /// [`DEFAULT_BUSY_TIMEOUT`] for other processes' locks.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, Error> {
        SqliteStore::open_with(path, DEFAULT_BUSY_TIMEOUT, Arc::new(SystemClock))
    }

    /// Opens the store at `path`, waiting at most `busy_timeout` for a lock
    /// held by another process; tokens and leases expire by `clock`.
    pub fn open_with(
        path: impl AsRef<Path>,
        busy_timeout: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<SqliteStore, Error> {
        let path = path.as_ref().to_path_buf();
        let described = format!("sqlite://{}", path.display());
        let fail = |operation, e: rusqlite::Error| store_error(&described, operation, e);
        let connection = Connection::open(&path).map_err(|e| fail("open", e))?;
        connection.busy_timeout(busy_timeout).map_err(|e| fail("open", e))?;
        // WAL lets readers in other processes go on while one writes.
        connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).map_err(|e| fail("open", e))?;
        // FULL: a committed record survives a power loss, not only a crash.
        connection.execute_batch("PRAGMA synchronous = FULL;").map_err(|e| fail("open", e))?;
        connection.execute_batch(SCHEMA).map_err(|e| fail("open", e))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner { path, described, connection: Mutex::new(connection), clock }),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `work` on a blocking thread with the connection.
    fn run<'a, T, F>(&'a self, operation: &'static str, work: F) -> BoxFuture<'a, Result<T, Error>>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, u64) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        Box::pin(async move {
            let described = inner.described.clone();
            let joined = tokio::task::spawn_blocking(move || {
                let now = unix_ms(inner.clock.now());
                let mut connection = inner.connection.lock().unwrap_or_else(PoisonError::into_inner);
                work(&mut connection, now)
            })
            .await;
            match joined {
                Ok(result) => result.map_err(|e| store_error(&described, operation, e)),
                Err(e) => Err(store_error(&described, operation, e)),
            }
        })
    }
}

/// Runs `statement` inside `BEGIN IMMEDIATE`: the write lock is taken first,
/// so a check and its write are one step for every process.
fn immediate<T>(
    connection: &mut Connection,
    statement: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let result = statement(&transaction)?;
    transaction.commit()?;
    Ok(result)
}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        self.inner.described.clone()
    }

    fn get_token<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CachedToken>, Error>> {
        let key = key.to_owned();
        self.run("get_token", move |c, now| {
            c.prepare_cached(
                "SELECT value, obtained_at, expires_at FROM cache WHERE key = ?1 AND expires_at > ?2",
            )?
            .query_row(params![key, int(now)], |row| {
                Ok(CachedToken {
                    value: row.get(0)?,
                    obtained_at: uint(row.get(1)?),
                    expires_at: uint(row.get(2)?),
                })
            })
            .optional()
        })
    }

    fn put_token<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, Result<bool, Error>> {
        let key = key.to_owned();
        let token = token.clone();
        self.run("put_token", move |c, now| {
            immediate(c, |t| {
                t.prepare_cached("DELETE FROM cache WHERE expires_at <= ?1")?.execute(params![int(now)])?;
                let changed = t
                    .prepare_cached(
                        "INSERT INTO cache (key, value, obtained_at, expires_at) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                             obtained_at = excluded.obtained_at, expires_at = excluded.expires_at
                         WHERE excluded.obtained_at >= cache.obtained_at",
                    )?
                    .execute(params![key, token.value, int(token.obtained_at), int(token.expires_at)])?;
                Ok(changed == 1)
            })
        })
    }

    fn drop_token<'a>(&'a self, key: &'a str, value: Option<&'a str>) -> BoxFuture<'a, Result<bool, Error>> {
        let key = key.to_owned();
        let value = value.map(str::to_owned);
        self.run("drop_token", move |c, _| {
            let changed = c
                .prepare_cached("DELETE FROM cache WHERE key = ?1 AND (?2 IS NULL OR value = ?2)")?
                .execute(params![key, value])?;
            Ok(changed == 1)
        })
    }

    fn try_lease<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Option<LeaseId>, Error>> {
        let key = key.to_owned();
        let holder = LeaseId(format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)));
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.run("try_lease", move |c, now| {
            immediate(c, |t| {
                let changed = t
                    .prepare_cached(
                        "INSERT INTO leases (key, holder, expires_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                         WHERE leases.expires_at <= ?4",
                    )?
                    .execute(params![key, holder.0, int(now.saturating_add(ttl)), int(now)])?;
                Ok((changed == 1).then_some(holder))
            })
        })
    }

    fn release<'a>(&'a self, key: &'a str, lease: &'a LeaseId) -> BoxFuture<'a, Result<(), Error>> {
        let key = key.to_owned();
        let holder = lease.0.clone();
        self.run("release", move |c, _| {
            c.prepare_cached("DELETE FROM leases WHERE key = ?1 AND holder = ?2")?
                .execute(params![key, holder])?;
            Ok(())
        })
    }

    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let key = key.to_owned();
        let holder = lease.0.clone();
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.run("renew_lease", move |c, now| {
            immediate(c, |t| {
                // Taken when absent; extended when ours (live or lapsed) or
                // when another holder's lapsed.
                let changed = t
                    .prepare_cached(
                        "INSERT INTO leases (key, holder, expires_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                         WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4",
                    )?
                    .execute(params![key, holder, int(now.saturating_add(ttl)), int(now)])?;
                Ok(changed == 1)
            })
        })
    }

    fn get_record<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        let key = key.to_owned();
        self.run("get_record", move |c, _| {
            c.prepare_cached("SELECT value, version FROM records WHERE key = ?1")?
                .query_row(params![key], |row| Ok(Record { value: row.get(0)?, version: uint(row.get(1)?) }))
                .optional()
        })
    }

    fn put_record<'a>(&'a self, key: &'a str, record: &'a Record) -> BoxFuture<'a, Result<bool, Error>> {
        let key = key.to_owned();
        let record = record.clone();
        self.run("put_record", move |c, _| {
            immediate(c, |t| {
                let changed = t
                    .prepare_cached(
                        "INSERT INTO records (key, value, version) VALUES (?1, ?2, ?3)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version
                         WHERE excluded.version >= records.version",
                    )?
                    .execute(params![key, record.value, int(record.version)])?;
                Ok(changed == 1)
            })
        })
    }

    fn replace_record<'a>(
        &'a self,
        key: &'a str,
        expected: Option<u64>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let key = key.to_owned();
        let record = record.clone();
        self.run("replace_record", move |c, _| {
            immediate(c, |t| {
                let changed = match expected {
                    None => t
                        .prepare_cached(
                            "INSERT INTO records (key, value, version) VALUES (?1, ?2, ?3)
                             ON CONFLICT (key) DO NOTHING",
                        )?
                        .execute(params![key, record.value, int(record.version)])?,
                    // A version past i64::MAX is never read back as stored
                    // (`get_record` reads at most i64::MAX), so it matches
                    // nothing: saturating it could match another record.
                    Some(expected) => match i64::try_from(expected) {
                        Ok(expected) => t
                            .prepare_cached(
                                "UPDATE records SET value = ?2, version = ?3 WHERE key = ?1 AND version = ?4",
                            )?
                            .execute(params![key, record.value, int(record.version), expected])?,
                        Err(_) => 0,
                    },
                };
                Ok(changed == 1)
            })
        })
    }

    fn delete_record<'a>(&'a self, key: &'a str, before: Option<u64>) -> BoxFuture<'a, Result<bool, Error>> {
        let key = key.to_owned();
        let before = before.map(int);
        self.run("delete_record", move |c, _| {
            let changed = c
                .prepare_cached("DELETE FROM records WHERE key = ?1 AND (?2 IS NULL OR version < ?2)")?
                .execute(params![key, before])?;
            Ok(changed == 1)
        })
    }

    fn record_keys<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        let prefix = prefix.to_owned();
        self.run("record_keys", move |c, _| {
            let mut statement = c.prepare_cached(
                "SELECT key FROM records WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
            )?;
            let keys = statement.query_map(params![prefix], |row| row.get(0))?;
            keys.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn temp_file(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wecom-openwork-sqlite-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("store.sqlite3")
    }

    #[tokio::test]
    async fn conforms() {
        let path = temp_file("conforms");
        super::super::conformance::check(&SqliteStore::open(&path).expect("opens")).await;
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[tokio::test]
    async fn records_survive_reopening_and_a_second_handle_sees_the_lease() {
        let path = temp_file("reopen");
        let first = SqliteStore::open(&path).expect("opens");
        let record = Record { value: "code".into(), version: 7 };
        assert!(first.put_record("authorization:s:c", &record).await.unwrap());
        let lease = first.try_lease("l", Duration::from_secs(30)).await.unwrap();
        assert!(lease.is_some());
        let second = SqliteStore::open(&path).expect("opens again");
        assert_eq!(second.get_record("authorization:s:c").await.unwrap(), Some(record));
        assert!(second.try_lease("l", Duration::from_secs(30)).await.unwrap().is_none(), "held by the first");
        drop(first);
        drop(second);
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    fn on_clock(path: &Path, clock: &ManualClock) -> SqliteStore {
        SqliteStore::open_with(path, DEFAULT_BUSY_TIMEOUT, Arc::new(clock.clone())).expect("opens")
    }

    #[tokio::test]
    async fn a_renewed_lease_outlasts_its_first_term_for_every_handle() {
        let path = temp_file("renew");
        let clock = ManualClock::starting_now();
        let (first, second) = (on_clock(&path, &clock), on_clock(&path, &clock));
        let ttl = Duration::from_secs(10);
        let held = first.try_lease("l", ttl).await.unwrap().expect("free");
        clock.advance(Duration::from_secs(8));
        assert!(first.renew_lease("l", &held, ttl).await.unwrap());
        clock.advance(Duration::from_secs(5));
        assert!(second.try_lease("l", ttl).await.unwrap().is_none(), "13 s in: held by the renewal");
        assert!(!second.renew_lease("l", &LeaseId("other".into()), ttl).await.unwrap());
        clock.advance(Duration::from_secs(5));
        assert!(second.try_lease("l", ttl).await.unwrap().is_some(), "18 s in: the renewal lapsed too");
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[tokio::test]
    async fn a_lapsed_lease_is_renewed_unless_another_took_it() {
        let path = temp_file("lapsed");
        let clock = ManualClock::starting_now();
        let (first, second) = (on_clock(&path, &clock), on_clock(&path, &clock));
        let ttl = Duration::from_secs(10);
        let old = first.try_lease("l", ttl).await.unwrap().expect("free");
        clock.advance(Duration::from_secs(11));
        assert!(first.renew_lease("l", &old, ttl).await.unwrap(), "lapsed, nobody took it");
        assert!(second.try_lease("l", ttl).await.unwrap().is_none(), "taken again");
        clock.advance(Duration::from_secs(11));
        let new = second.try_lease("l", ttl).await.unwrap().expect("lapsed");
        assert!(!first.renew_lease("l", &old, ttl).await.unwrap(), "another took it");
        assert!(second.renew_lease("l", &new, ttl).await.unwrap());
        first.release("l", &old).await.unwrap();
        assert!(first.try_lease("l", ttl).await.unwrap().is_none(), "still the new holder's");
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_handles_racing_a_replace_have_exactly_one_winner() {
        let path = temp_file("race");
        let first = SqliteStore::open(&path).expect("opens");
        let second = SqliteStore::open(&path).expect("opens again");
        let key = "authorization:s:c";
        assert!(first
            .replace_record(key, None, &Record { value: "start".into(), version: 1 })
            .await
            .unwrap());
        for round in 1..=20u64 {
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let race = |store: SqliteStore, name: &'static str| {
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    let record = Record { value: name.into(), version: round + 1 };
                    store.replace_record(key, Some(round), &record).await.unwrap()
                })
            };
            let a = race(first.clone(), "first");
            let b = race(second.clone(), "second");
            let (a, b) = (a.await.expect("joined"), b.await.expect("joined"));
            assert!(a ^ b, "round {round}: exactly one winner, got {a} and {b}");
            let stored = first.get_record(key).await.unwrap().expect("stored");
            assert_eq!(stored.version, round + 1);
            assert_eq!(stored.value, if a { "first" } else { "second" });
        }
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[tokio::test]
    async fn an_expected_version_past_i64_max_matches_nothing() {
        let path = temp_file("huge");
        let store = SqliteStore::open(&path).expect("opens");
        let max = Record { value: "max".into(), version: u64::MAX };
        assert!(store.replace_record("k", None, &max).await.unwrap());
        // Stored saturated: read back as i64::MAX, which is what matches.
        let stored = store.get_record("k").await.unwrap().expect("stored");
        assert_eq!(stored.version, i64::MAX as u64);
        assert!(!store.replace_record("k", Some(u64::MAX), &max).await.unwrap());
        assert!(store.replace_record("k", Some(stored.version), &max).await.unwrap());
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[test]
    fn an_unopenable_path_is_a_store_error_naming_it() {
        let error = SqliteStore::open("/proc/no-such-dir/x.sqlite3").expect_err("cannot open");
        match error {
            Error::Store { store, operation, .. } => {
                assert!(store.contains("/proc/no-such-dir/x.sqlite3"));
                assert_eq!(operation, "open");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
