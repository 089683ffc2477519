//! Token lifetimes as WeCom states them: a reply without a usable
//! `expires_in` is an error and nothing is cached; an absurd one is capped;
//! a token asked for again comes back with what is left of its life, and a
//! token near its end is served without a fetch per call.

mod common;

use std::time::Duration;

use common::{app_on_emulator, CORP, CUSTOMIZED, PROVIDER};
use serde_json::json;
use wecom_openwork::emulator::Fault;
use wecom_openwork::store::keys;
use wecom_openwork::{CorpId, Error, SuiteId};

const PROVIDER_TOKEN: &str = "/cgi-bin/service/get_provider_token";
const GETTOKEN: &str = "/cgi-bin/gettoken";
/// A token value that must never appear in an error.
const LEAKY: &str = "token-value-that-must-not-leak";

#[tokio::test]
async fn a_reply_without_a_usable_lifetime_is_an_error_and_nothing_is_cached() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let key = keys::provider_token(&CorpId::from(PROVIDER));
    let replies = [
        json!({ "provider_access_token": LEAKY, "expires_in": 0 }),
        json!({ "provider_access_token": LEAKY, "expires_in": -7200 }),
        json!({ "provider_access_token": LEAKY }),
        json!({ "provider_access_token": LEAKY, "expires_in": null }),
    ];
    for (n, reply) in replies.into_iter().enumerate() {
        emulator.inject(Some(PROVIDER_TOKEN), 1, Fault::Json(reply.clone()));
        let err = app.provider().access_token().get().await.unwrap_err();
        match &err {
            Error::Token { scope, message } => {
                assert_eq!(scope, "provider", "{reply}");
                assert!(message.contains("expires_in"), "{message}");
            }
            other => panic!("{reply}: expected Error::Token, got {other:?}"),
        }
        assert!(!err.to_string().contains(LEAKY) && !format!("{err:?}").contains(LEAKY), "{err}");
        assert!(app.store().get_token(&key).await.expect("store").is_none(), "{reply}: nothing cached");
        assert_eq!(emulator.calls(PROVIDER_TOKEN), n + 1, "{reply}: one fetch, not retried");
    }
    // The next good reply is fetched (nothing was cached) and used.
    let token = app.provider().access_token().get().await.expect("token");
    assert_ne!(token, LEAKY);
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 5);
}

#[tokio::test]
async fn a_customized_corp_token_without_a_lifetime_names_the_corp() {
    let (emulator, app, _clock) = app_on_emulator().await;
    app.corp(CUSTOMIZED, CORP).permanent_code().set("secret-of-the-app").await.expect("stored");
    emulator.inject(
        Some(GETTOKEN),
        1,
        Fault::Json(json!({ "errcode": 0, "access_token": LEAKY, "expires_in": 0 })),
    );
    let err = app.corp(CUSTOMIZED, CORP).jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(&err, Error::Token { scope, .. } if scope == &format!("corp {CORP}")), "{err:?}");
    let key = keys::corp_token(&SuiteId::from(CUSTOMIZED), &CorpId::from(CORP));
    assert!(app.store().get_token(&key).await.expect("store").is_none());
}

#[tokio::test]
async fn an_absurd_lifetime_is_capped_to_a_day() {
    let (emulator, app, _clock) = app_on_emulator().await;
    for expires_in in [i64::MAX, 400 * 24 * 3600] {
        app.provider().access_token().refresh().await.ok();
        emulator.inject(
            Some(PROVIDER_TOKEN),
            1,
            Fault::Json(json!({ "provider_access_token": "long-lived", "expires_in": expires_in })),
        );
        // A refresh drops the stored token and takes the injected reply.
        let token = app.provider().access_token().refresh().await.expect("served");
        assert_eq!(token, "long-lived");
        let stored = app
            .store()
            .get_token(&keys::provider_token(&CorpId::from(PROVIDER)))
            .await
            .expect("store")
            .expect("cached");
        assert_eq!(stored.expires_at - stored.obtained_at, 24 * 3600 * 1000, "{expires_in}: capped to a day");
    }
}

#[tokio::test]
async fn a_token_asked_for_again_comes_back_with_what_is_left_of_its_life() {
    let (emulator, app, clock) = app_on_emulator().await;
    let token = app.provider().access_token().get().await.expect("token");
    clock.advance(Duration::from_secs(7000));
    // Dropped here, but still valid at WeCom: the same token, 200 s left.
    assert_eq!(app.provider().access_token().refresh().await.expect("token"), token);
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 2);
    let stored = app
        .store()
        .get_token(&keys::provider_token(&CorpId::from(PROVIDER)))
        .await
        .expect("store")
        .expect("cached");
    assert_eq!(stored.expires_at - stored.obtained_at, 200 * 1000, "its remaining lifetime");
}

#[tokio::test]
async fn a_token_near_the_end_of_its_life_is_served_without_a_fetch_per_call() {
    let (emulator, app, clock) = app_on_emulator().await;
    let handle = app.provider().access_token();
    let token = handle.get().await.expect("token");
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 1);

    // 100 s left: inside the 300 s margin. WeCom answers a refetch with the
    // same token and 100 s; then come 100 calls, one a second, until it dies.
    clock.advance(Duration::from_secs(7100));
    for second in 0..100 {
        assert_eq!(handle.get().await.expect("token"), token, "at {second} s");
        clock.advance(Duration::from_secs(1));
    }
    // Refetched on entering the margin and at most once a minute after
    // that; not at 1/2, 1/4, 1/8 … of what is left.
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 3, "two refetches in the token's last 100 s");

    // Expired: one fetch, a new token, served from then on.
    let next = handle.get().await.expect("token");
    assert_ne!(next, token);
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 4);
    handle.get().await.expect("token");
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 4);
}
