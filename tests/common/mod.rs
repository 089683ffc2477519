//! Shared set-up of the integration tests: an application configured against
//! an emulator.

#![allow(dead_code)]

pub mod http;
pub mod pages;
pub mod scripted_store;

use std::sync::Arc;

use wecom_openwork::clock::ManualClock;
use wecom_openwork::config::{RetryConfig, RetrySetting, StoreConfig, SuiteConfig};
use wecom_openwork::emulator::Emulator;
use wecom_openwork::{AppKind, Application, Config, Secret};

pub const PROVIDER: &str = "wwprovider0001";
pub const SUITE: &str = "wwsuite0001";
pub const SUITE_B: &str = "wwsuite0002";
pub const CORP: &str = "wwcorp0001";
/// A 代开发 template (customized suite).
pub const CUSTOMIZED: &str = "dkcustomized0001";
/// An EncodingAESKey from WeCom's official samples.
pub const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

pub fn suite(id: &str) -> SuiteConfig {
    SuiteConfig {
        suite_id: id.into(),
        suite_secret: Secret::new(format!("secret-of-{id}")),
        token: "SuiteToken".into(),
        aes_key: AES_KEY.into(),
        kind: AppKind::ThirdParty,
    }
}

/// A 代开发 template: its corp tokens come from `gettoken`.
pub fn customized_suite(id: &str) -> SuiteConfig {
    SuiteConfig { kind: AppKind::Customized, ..suite(id) }
}

/// Two third-party suites and a customized one, retries without jitter (100 ms, ×2, 3 retries), the
/// in-memory store.
pub fn config(base_uri: &str) -> Config {
    let mut config = Config {
        corp_id: PROVIDER.into(),
        provider_secret: "provider-secret-value".into(),
        token: "ProviderToken".into(),
        aes_key: AES_KEY.into(),
        suites: vec![suite(SUITE), suite(SUITE_B), customized_suite(CUSTOMIZED)],
        store: StoreConfig::memory(),
        ..Config::default()
    };
    config.http.base_uri = base_uri.to_owned();
    config.http.retry = RetrySetting::Custom(RetryConfig {
        delay: 100,
        multiplier: 2.0,
        jitter: 0.0,
        ..RetryConfig::default()
    });
    config
}

/// An emulator and an application on one manual clock, with both suites'
/// tickets and `CORP`'s permanent code (for `SUITE`) stored.
pub async fn app_on_emulator() -> (Emulator, Application, ManualClock) {
    let clock = ManualClock::starting_now();
    let emulator = Emulator::start_with_clock(clock.clone()).await.expect("emulator starts");
    let app = Application::builder(config(&emulator.base_uri()))
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("valid config");
    for suite in [SUITE, SUITE_B] {
        app.suite(suite).ticket().set(&format!("ticket-of-{suite}")).await.expect("stored");
    }
    app.corp(SUITE, CORP).permanent_code().set("permanent-code-of-corp").await.expect("stored");
    (emulator, app, clock)
}

/// An emulator that pushes to a callback listener on a loopback port, and
/// an application on `config` calling it; one manual clock for both. The
/// caller serves its callback server on the returned listener.
pub async fn pushing_emulator(
    mut app_config: Config,
) -> (Emulator, Application, ManualClock, tokio::net::TcpListener) {
    let clock = ManualClock::starting_now();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let callback_base = format!("http://{}", listener.local_addr().expect("addr"));
    let emulator_config =
        wecom_openwork::emulator::EmulatorConfig::from_config(&app_config, Some(&callback_base));
    let emulator = Emulator::bind("127.0.0.1:0".parse().expect("addr"), clock.clone(), emulator_config)
        .await
        .expect("emulator");
    app_config.http.base_uri = emulator.base_uri();
    // The links the handles build go to the emulator's pages.
    app_config.browser.base = Some(emulator.base_uri());
    let app = Application::builder(app_config).clock(Arc::new(clock.clone())).build().expect("valid");
    (emulator, app, clock, listener)
}

/// Serves `server` on `listener` in the background.
pub fn serve_callbacks(server: &wecom_openwork::server::CallbackServer, listener: tokio::net::TcpListener) {
    let router = server.router();
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serves") });
}
