//! Memory of the token runtime at scale: 100,000 authorized corps, each with
//! its corp token cached in process (the near cache in front of Redis), as a
//! big ISV instance holds them. Counted by a global allocator that tracks
//! live heap bytes; the budget is 30 MB above the baseline. Run with
//! `cargo bench --bench memory`; it fails if the budget is exceeded.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

#[path = "../tests/common/redis_server.rs"]
mod redis_server;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use wecom_openwork::config::{StoreConfig, SuiteConfig};
use wecom_openwork::store::{keys, CachedToken, RedisOptions, RedisStore, Store};
use wecom_openwork::{Application, Authorization, Config, CorpId, Secret, SuiteId};

#[global_allocator]
static ALLOCATOR: counting_alloc::Counting = counting_alloc::Counting;

const CORPS: usize = 100_000;
const BUDGET: isize = 30 * 1000 * 1000;
const SUITE: &str = "wwsuite0001";
/// WeCom's tokens run to about this length (the documented limit is 512).
const TOKEN_LEN: usize = 128;

fn corp(i: usize) -> String {
    format!("wwcorp{i:012}")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; there is one, run by hand.
    }
    let Ok(redis) = std::panic::catch_unwind(redis_server::RedisServer::start) else {
        eprintln!("redis-server is not installed: nothing measured");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        // Another instance authorized the corps and fetched their tokens.
        let store: Arc<dyn Store> =
            Arc::new(RedisStore::open(&redis.url(), RedisOptions::default()).expect("store"));
        let now = wecom_openwork_now();
        let fill: Vec<_> = (0..64)
            .map(|worker| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in (worker..CORPS).step_by(64) {
                        let (suite, corp) = (SuiteId::new(SUITE), CorpId::new(corp(i)));
                        let auth = Authorization::new(
                            suite.clone(),
                            corp.clone(),
                            "p".repeat(64),
                            SystemTime::now(),
                        );
                        let record = wecom_openwork::store::Record {
                            value: serde_json::to_string(&auth).expect("json"),
                            version: auth.authorized_at,
                        };
                        store.put_record(&keys::authorization(&suite, &corp), &record).await.expect("record");
                        let token = CachedToken {
                            value: format!("{i:0width$}", width = TOKEN_LEN),
                            obtained_at: now,
                            expires_at: now + 7_000_000,
                        };
                        store.put_token(&keys::corp_token(&suite, &corp), &token).await.expect("token");
                    }
                })
            })
            .collect();
        for task in fill {
            task.await.expect("filled");
        }

        let mut config = Config {
            corp_id: "wwprovider0001".into(),
            provider_secret: "secret".into(),
            token: "Token".into(),
            aes_key: "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt".into(),
            suites: vec![SuiteConfig {
                suite_id: SUITE.into(),
                suite_secret: "secret".into(),
                token: "Token".into(),
                aes_key: "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt".into(),
                ..Default::default()
            }],
            store: StoreConfig { url: Some(Secret::new(redis.url())), ..StoreConfig::default() },
            ..Config::default()
        };
        config.http.base_uri = "http://127.0.0.1:9".into(); // nothing is fetched
        let app = Application::new(config).expect("valid");
        app.corp(SUITE, corp(0)).access_token().get().await.expect("warm the connection");
        tokio::time::sleep(Duration::from_millis(200)).await; // let the listener settle
        let baseline = counting_alloc::live();
        let reads: Vec<_> = (0..64)
            .map(|worker| {
                let app = app.clone();
                tokio::spawn(async move {
                    for i in (worker..CORPS).step_by(64) {
                        app.corp(SUITE, corp(i)).access_token().get().await.expect("cached token");
                    }
                })
            })
            .collect();
        for task in reads {
            task.await.expect("read");
        }
        let used = counting_alloc::live() - baseline;
        // Every token is now served from process memory.
        let started = std::time::Instant::now();
        for i in 0..CORPS {
            app.corp(SUITE, corp(i)).access_token().get().await.expect("cached");
        }
        let per_call = started.elapsed() / CORPS as u32;
        println!(
            "memory: {CORPS} corps with a cached {TOKEN_LEN}-byte corp token: {:.1} MB above the baseline \
             ({} bytes a corp; budget {} MB); a cold handle's cached get_token: {per_call:?}",
            used as f64 / 1e6,
            used / CORPS as isize,
            BUDGET / 1_000_000
        );
        assert!(used <= BUDGET, "over the memory budget");
    });
}

fn wecom_openwork_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).expect("after 1970").as_millis() as u64
}
