//! The stores' own round trips, for scale: what a cold token or a callback's
//! record write costs. A permanent-code write on SQLite (one `BEGIN
//! IMMEDIATE` transaction, synced to the WAL), and a token get / set on a
//! local Redis.

#[path = "../tests/common/redis_server.rs"]
mod redis_server;

use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use wecom_openwork::store::{CachedToken, Record, RedisOptions, RedisStore, SqliteStore, Store};

fn record(version: u64) -> Record {
    Record { value: format!(r#"{{"permanent_code":"{}","version":{version}}}"#, "p".repeat(64)), version }
}

fn bench(c: &mut Criterion, runtime: &tokio::runtime::Runtime, name: &str, store: &dyn Store) {
    let version = AtomicU64::new(1);
    c.bench_function(&format!("{name}: permanent-code write (put_record)"), |b| {
        b.to_async(runtime).iter(|| async {
            let v = version.fetch_add(1, Ordering::Relaxed);
            store.put_record("authorization:wwsuite:wwcorp", &record(v)).await.expect("write")
        })
    });
    let token = CachedToken { value: "t".repeat(128), obtained_at: 1, expires_at: u64::MAX / 2 };
    runtime.block_on(store.put_token("token:{corp:wwsuite:wwcorp}", &token)).expect("set");
    c.bench_function(&format!("{name}: token get"), |b| {
        b.to_async(runtime)
            .iter(|| async { store.get_token("token:{corp:wwsuite:wwcorp}").await.expect("get") })
    });
    c.bench_function(&format!("{name}: token set (compare-and-set)"), |b| {
        b.to_async(runtime)
            .iter(|| async { store.put_token("token:{corp:wwsuite:wwcorp}", &token).await.expect("set") })
    });
}

fn stores(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let dir = std::env::temp_dir().join(format!("wecom-openwork-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let sqlite = SqliteStore::open(dir.join("bench.sqlite3")).expect("sqlite");
    bench(c, &runtime, "sqlite", &sqlite);
    match std::panic::catch_unwind(redis_server::RedisServer::start) {
        Ok(redis) => {
            let store = RedisStore::open(&redis.url(), RedisOptions::default()).expect("redis");
            bench(c, &runtime, "redis", &store);
        }
        Err(_) => eprintln!("redis-server is not installed: the Redis figures are skipped"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, stores);
criterion_main!(benches);
