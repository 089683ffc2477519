//! Latency of a cached `get_token()`: the cost every API call pays before it
//! is sent, once the token is in hand. With the in-memory store, and with
//! Redis behind the near cache (the hot path must not touch Redis).

#[path = "../tests/common/redis_server.rs"]
mod redis_server;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use wecom_openwork::config::{StoreConfig, SuiteConfig};
use wecom_openwork::emulator::Emulator;
use wecom_openwork::{Application, Config, Secret};

const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

fn config(base_uri: &str, store: StoreConfig) -> Config {
    let mut config = Config {
        corp_id: "wwprovider0001".into(),
        provider_secret: "secret".into(),
        token: "Token".into(),
        aes_key: AES_KEY.into(),
        suites: vec![SuiteConfig {
            suite_id: "wwsuite0001".into(),
            suite_secret: "secret".into(),
            token: "Token".into(),
            aes_key: AES_KEY.into(),
            ..Default::default()
        }],
        store,
        ..Config::default()
    };
    config.http.base_uri = base_uri.to_owned();
    config
}

fn bench_store(c: &mut Criterion, runtime: &tokio::runtime::Runtime, name: &str, store: StoreConfig) {
    let (_emulator, app) = runtime.block_on(async {
        let emulator = Emulator::start().await.expect("emulator");
        let app = Application::new(config(&emulator.base_uri(), store)).expect("valid config");
        app.suite("wwsuite0001").ticket().set("ticket").await.expect("ticket");
        app.corp("wwsuite0001", "wwcorp0001").permanent_code().set("code").await.expect("code");
        app.provider().access_token().get().await.expect("warm");
        app.corp("wwsuite0001", "wwcorp0001").access_token().get().await.expect("warm");
        (emulator, app)
    });
    let provider = app.provider().access_token();
    c.bench_function(&format!("cached get_token (provider, {name})"), |b| {
        b.to_async(runtime).iter(|| async { provider.get().await.expect("token") })
    });
    let corp = app.corp("wwsuite0001", "wwcorp0001").access_token();
    c.bench_function(&format!("cached get_token (corp, {name})"), |b| {
        b.to_async(runtime).iter(|| async { corp.get().await.expect("token") })
    });
}

fn cached_get_token(c: &mut Criterion) {
    let runtime =
        Arc::new(tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime"));
    bench_store(c, &runtime, "memory", StoreConfig::memory());
    match std::panic::catch_unwind(redis_server::RedisServer::start) {
        Ok(redis) => {
            let store = StoreConfig { url: Some(Secret::new(redis.url())), ..StoreConfig::default() };
            bench_store(c, &runtime, "redis + near cache", store);
        }
        Err(_) => eprintln!("redis-server is not installed: the Redis figures are skipped"),
    }
}

criterion_group!(benches, cached_get_token);
criterion_main!(benches);
