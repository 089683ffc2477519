//! Latency of a cached `get_token()`: the cost every API call pays before it
//! is sent, once the token is in the store.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use wecom_openwork::config::SuiteConfig;
use wecom_openwork::emulator::Emulator;
use wecom_openwork::{Application, Config};

const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

fn cached_get_token(c: &mut Criterion) {
    let runtime =
        Arc::new(tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime"));
    let (_emulator, app) = runtime.block_on(async {
        let emulator = Emulator::start().await.expect("emulator");
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
            }],
            ..Config::default()
        };
        config.http.base_uri = emulator.base_uri();
        let app = Application::new(config).expect("valid config");
        app.suite_ticket("wwsuite0001").set_ticket("ticket").await.expect("ticket");
        app.set_permanent_code("wwsuite0001", "wwcorp0001", "code").await.expect("code");
        app.provider_access_token().get_token().await.expect("warm");
        app.authorizer_access_token("wwcorp0001", "code", "wwsuite0001").get_token().await.expect("warm");
        (emulator, app)
    });
    let provider = app.provider_access_token();
    c.bench_function("cached get_token (provider)", |b| {
        b.to_async(runtime.as_ref()).iter(|| async { provider.get_token().await.expect("token") })
    });
    let corp = app.authorizer_access_token("wwcorp0001", "code", "wwsuite0001");
    c.bench_function("cached get_token (corp, with its permanent code)", |b| {
        b.to_async(runtime.as_ref()).iter(|| async { corp.get_token().await.expect("token") })
    });
}

criterion_group!(benches, cached_get_token);
criterion_main!(benches);
