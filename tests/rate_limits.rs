//! WeCom's refusals through the public API: rate limits (45009, 45033) wait
//! out WeCom's block once, then fail fast with `Error::RateLimited`, and the
//! endpoint is not called again until the block is over; a refused IP (60020)
//! is `Error::IpNotAllowed` with the address WeCom saw, never retried.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{app_on_emulator, config, CORP, SUITE, SUITE_B};
use wecom_openwork::clock::ManualClock;
use wecom_openwork::config::RetrySetting;
use wecom_openwork::emulator::{Emulator, Fault};
use wecom_openwork::{Application, Client, Error, StaticTokens};

const PRE_AUTH: &str = "/cgi-bin/service/get_pre_auth_code";
const PROVIDER_TOKEN: &str = "/cgi-bin/service/get_provider_token";
const CORP_TOKEN: &str = "/cgi-bin/service/get_corp_token";
const CORP_CALL: &str = "/cgi-bin/get_jsapi_ticket";
const MINUTE: Duration = Duration::from_secs(60);

/// An application on the emulator with `edit` applied to the common config.
async fn app_with(edit: impl FnOnce(&mut wecom_openwork::Config)) -> (Emulator, Application, ManualClock) {
    let clock = ManualClock::starting_now();
    let emulator = Emulator::start_with_clock(clock.clone()).await.expect("emulator starts");
    let mut config = config(&emulator.base_uri());
    edit(&mut config);
    let app = Application::builder(config).clock(Arc::new(clock.clone())).build().expect("valid config");
    app.suite(SUITE).ticket().set("ticket").await.expect("stored");
    (emulator, app, clock)
}

#[tokio::test]
async fn a_rate_limited_call_waits_out_the_block_once_and_then_succeeds() {
    let (emulator, app, clock) = app_on_emulator().await;
    let suite = app.suite(SUITE);
    suite.get_pre_auth_code().await.expect("warm the suite token");
    let before = emulator.calls(PRE_AUTH);

    emulator.inject(Some(PRE_AUTH), 1, Fault::Errcode(45009));
    suite.get_pre_auth_code().await.expect("succeeds after the pause");
    // One pause as long as WeCom's block, not the 100/200/400 ms back-off.
    assert_eq!(clock.sleeps(), [MINUTE]);
    assert_eq!(emulator.calls(PRE_AUTH), before + 2);
}

#[tokio::test]
async fn still_limited_after_the_pause_fails_fast_and_wecom_is_left_alone_until_the_block_ends() {
    let (emulator, app, clock) = app_on_emulator().await;
    let suite = app.suite(SUITE);
    suite.get_pre_auth_code().await.expect("warm the suite token");
    let before = emulator.calls(PRE_AUTH);

    emulator.inject(Some(PRE_AUTH), 2, Fault::Errcode(45009));
    let err = suite.get_pre_auth_code().await.unwrap_err();
    match &err {
        Error::RateLimited { endpoint, code, retry_after, attempts, message, .. } => {
            assert_eq!(*endpoint, "get_pre_auth_code");
            assert_eq!((*code, *retry_after, *attempts), (45009, MINUTE, 2));
            assert!(message.starts_with("injected by the emulator, hint: ["), "{message}");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!((err.code(), err.retry_after(), err.attempts()), (Some(45009), Some(MINUTE), Some(2)));
    assert_eq!(clock.sleeps(), [MINUTE], "the pause is taken at most once per call");
    assert_eq!(emulator.calls(PRE_AUTH), before + 2);

    // Within the block: refused without a request, with the time left.
    let err = suite.get_pre_auth_code().await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { code: 45009, retry_after, attempts: 0, .. } if retry_after == MINUTE),
        "{err:?}"
    );
    clock.advance(Duration::from_secs(45));
    let err = suite.get_pre_auth_code().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(15)), "{err:?}");
    assert_eq!(emulator.calls(PRE_AUTH), before + 2, "WeCom was not called during the block");
    assert_eq!(clock.sleeps(), [MINUTE], "and nobody waited");

    // Another scope, and another endpoint of the same scope, are not held back.
    app.suite(SUITE_B).get_pre_auth_code().await.expect("another suite is not limited");
    app.corp(SUITE, CORP).jsapi().get_jsapi_ticket().await.expect("another endpoint is not limited");

    // The block is over: the call goes through.
    clock.advance(Duration::from_secs(15));
    let before = emulator.calls(PRE_AUTH);
    suite.get_pre_auth_code().await.expect("called again after the block");
    assert_eq!(emulator.calls(PRE_AUTH), before + 1);
}

#[tokio::test]
async fn the_concurrency_limit_is_a_rate_limit_too() {
    let (emulator, app, clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    corp.jsapi().get_jsapi_ticket().await.expect("warm the corp token");
    emulator.inject(Some(CORP_CALL), 2, Fault::Errcode(45033));
    let err = corp.jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { code: 45033, attempts: 2, .. }), "{err:?}");
    assert_eq!(clock.sleeps(), [MINUTE]);
}

#[tokio::test]
async fn the_pause_is_configurable_and_zero_or_no_retries_fail_at_once() {
    // A longer pause (the hourly limits block for an hour).
    let (emulator, app, clock) = app_with(|c| c.http.rate_limit_pause = 3600.0).await;
    let suite = app.suite(SUITE);
    suite.get_pre_auth_code().await.expect("warm");
    emulator.inject(Some(PRE_AUTH), 1, Fault::Errcode(45009));
    suite.get_pre_auth_code().await.expect("after the pause");
    assert_eq!(clock.sleeps(), [Duration::from_secs(3600)]);

    // Zero: fails at once, and nothing is remembered.
    let (emulator, app, clock) = app_with(|c| c.http.rate_limit_pause = 0.0).await;
    let suite = app.suite(SUITE);
    suite.get_pre_auth_code().await.expect("warm");
    let before = emulator.calls(PRE_AUTH);
    emulator.inject(Some(PRE_AUTH), 1, Fault::Errcode(45009));
    let err = suite.get_pre_auth_code().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { attempts: 1, retry_after: Duration::ZERO, .. }), "{err:?}");
    suite.get_pre_auth_code().await.expect("the next call goes through");
    assert_eq!(emulator.calls(PRE_AUTH), before + 2);
    assert!(clock.sleeps().is_empty());

    // Retries off: fails at once, but the block is remembered.
    let (emulator, app, clock) = app_with(|c| c.http.retry = RetrySetting::Enabled(false)).await;
    let suite = app.suite(SUITE);
    suite.get_pre_auth_code().await.expect("warm");
    let before = emulator.calls(PRE_AUTH);
    emulator.inject(Some(PRE_AUTH), 1, Fault::Errcode(45009));
    let err = suite.get_pre_auth_code().await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { attempts: 1, retry_after, .. } if retry_after == MINUTE),
        "{err:?}"
    );
    let err = suite.get_pre_auth_code().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { attempts: 0, .. }), "{err:?}");
    assert_eq!(emulator.calls(PRE_AUTH), before + 1);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn a_rate_limited_token_fetch_fails_at_once_and_is_not_repeated_during_the_block() {
    let (emulator, app, clock) = app_on_emulator().await;
    emulator.inject(Some(PROVIDER_TOKEN), 1, Fault::Errcode(45009));
    let err = app.provider().access_token().get().await.unwrap_err();
    assert!(
        matches!(&err, Error::RateLimited { endpoint, attempts: 1, retry_after, .. }
            if *endpoint == "get_provider_token" && *retry_after == MINUTE),
        "{err:?}"
    );
    // No pause under the refresh lease; the next fetch is refused locally.
    assert!(clock.sleeps().is_empty());
    let err = app.provider().access_token().get().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { attempts: 0, .. }), "{err:?}");
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 1);

    clock.advance(MINUTE);
    app.provider().access_token().get().await.expect("fetched after the block");
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 2);
}

#[tokio::test]
async fn a_rate_limited_corp_token_fetch_holds_back_only_that_corp() {
    let (emulator, app, clock) = app_on_emulator().await;
    let other = "wwcorp0002";
    app.corp(SUITE, other).permanent_code().set("permanent-code-of-other").await.expect("stored");
    app.suite(SUITE).get_pre_auth_code().await.expect("warm the suite token");

    emulator.inject(Some(CORP_TOKEN), 1, Fault::Errcode(45009));
    let err = app.corp(SUITE, CORP).jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(&err, Error::RateLimited { endpoint, .. } if *endpoint == "get_corp_token"), "{err:?}");
    let err = app.corp(SUITE, CORP).jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { attempts: 0, .. }), "{err:?}");
    assert_eq!(emulator.calls(CORP_TOKEN), 1);

    app.corp(SUITE, other).jsapi().get_jsapi_ticket().await.expect("another corp's token is fetched");
    assert_eq!(emulator.calls(CORP_TOKEN), 2);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn the_pause_is_validated_with_the_field_named() {
    for bad in [30.0, 3601.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut config = config("http://127.0.0.1:1");
        config.http.rate_limit_pause = bad;
        let err = Application::new(config).unwrap_err();
        assert!(matches!(&err, Error::Config(m) if m.contains("http.rate_limit_pause")), "{bad}: {err}");
    }
    for good in [0.0, 60.0, 90.5, 3600.0] {
        let mut config = config("http://127.0.0.1:1");
        config.http.rate_limit_pause = good;
        let app = Application::new(config).expect("valid");
        assert_eq!(app.client().retry_policy().rate_limit_pause, Duration::from_secs_f64(good));
    }
    let config: wecom_openwork::Config =
        toml::from_str(&format!("{}\n[http]\nrate_limit_pause = 120\n", MINIMAL)).expect("TOML");
    assert_eq!(config.http.rate_limit_pause, 120.0);
    let config: wecom_openwork::Config = toml::from_str(MINIMAL).expect("TOML");
    assert_eq!(config.http.rate_limit_pause, 60.0, "the default");
}

const MINIMAL: &str = r#"
corp_id = "wwprovider0001"
provider_secret = "provider-secret-value"
token = "ProviderToken"
aes_key = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
"#;

#[tokio::test]
async fn a_refused_ip_is_a_typed_error_and_is_not_retried() {
    let (emulator, app, clock) = app_on_emulator().await;
    let suite = app.suite(SUITE);
    suite.get_pre_auth_code().await.expect("warm the suite token");
    let before = emulator.calls(PRE_AUTH);
    emulator.inject(Some(PRE_AUTH), 1, Fault::Errcode(60020));
    let err = suite.get_pre_auth_code().await.unwrap_err();
    // The emulator writes `from ip:` as WeCom does; the error carries it.
    assert!(
        matches!(&err, Error::IpNotAllowed { ip: Some(ip), attempts: 1, .. } if ip == "127.0.0.1"),
        "{err:?}"
    );
    assert_eq!(err.code(), Some(60020));
    assert!(!err.is_retryable());
    assert_eq!(emulator.calls(PRE_AUTH), before + 1);
    assert!(clock.sleeps().is_empty());

    // A token fetch refused the same way says so too.
    emulator.inject(Some(PROVIDER_TOKEN), 1, Fault::Errcode(60020));
    let err = app.provider().access_token().get().await.unwrap_err();
    assert!(
        matches!(&err, Error::IpNotAllowed { endpoint, .. } if *endpoint == "get_provider_token"),
        "{err:?}"
    );
}

/// A server that answers every request with `body` (HTTP 200, JSON).
async fn answering(body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = axum::Router::new()
        .fallback(move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) });
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_refused_ip_is_taken_from_wecoms_message() {
    // As WeCom words it (developers.weixin.qq.com community, errcode 60020).
    let base = answering(
        r#"{"errcode":60020,"errmsg":"not allow to access from your ip, hint: [1690282230612130918224239], from ip: 222.65.121.207, more info at https://open.work.weixin.qq.com/devtool/query?e=60020"}"#,
    )
    .await;
    let clock = ManualClock::starting_now();
    let client = Client::builder()
        .base_uri(base)
        .clock(Arc::new(clock.clone()))
        .build(StaticTokens::new().suite(SUITE, "SUITE-TOKEN"))
        .expect("valid client");
    let err = client.suite(SUITE).get_pre_auth_code().await.unwrap_err();
    match &err {
        Error::IpNotAllowed { endpoint, ip, hint, message, attempts } => {
            assert_eq!(*endpoint, "get_pre_auth_code");
            assert_eq!(ip.as_deref(), Some("222.65.121.207"));
            assert_eq!(hint.as_deref(), Some("1690282230612130918224239"));
            assert!(message.starts_with("not allow to access from your ip"));
            assert_eq!(*attempts, 1);
        }
        other => panic!("expected IpNotAllowed, got {other:?}"),
    }
    assert!(err.to_string().contains("222.65.121.207"), "{err}");
    assert!(clock.sleeps().is_empty());
}
