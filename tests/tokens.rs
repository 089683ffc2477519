//! The token runtime through the public API, against the emulator: one fetch
//! per expiry however many callers, scopes that never mix, one refetch per
//! rejected token, back-off on the configured schedule, and "authorization
//! gone" that drops the corp's token.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::{app_on_emulator, config, CORP, PROVIDER, SUITE, SUITE_B};
use wecom_openwork::api::authorization::types::GetPermanentCodeRequest;
use wecom_openwork::clock::Clock;
use wecom_openwork::compat::EasyWeChat;
use wecom_openwork::emulator::{Emulator, Fault, TokenOwner};
use wecom_openwork::store::{keys, MemoryStore, Store};
use wecom_openwork::{Application, CorpId, Error, StaticTokens, SuiteId, TokenKind, TokenScope};

const PROVIDER_TOKEN: &str = "/cgi-bin/service/get_provider_token";
const SUITE_TOKEN: &str = "/cgi-bin/service/get_suite_token";
const CORP_TOKEN: &str = "/cgi-bin/service/get_corp_token";
/// A corp-token call any suite may make.
const CORP_CALL: &str = "/cgi-bin/get_jsapi_ticket";
const PRE_AUTH: &str = "/cgi-bin/service/get_pre_auth_code";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_cold_callers_cause_one_fetch_and_one_more_after_expiry() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let burst = || {
        let handles: Vec<_> = (0..1000)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move { app.provider().access_token().get().await })
            })
            .collect();
        async move {
            let mut tokens = BTreeSet::new();
            for handle in handles {
                tokens.insert(handle.await.expect("task").expect("token"));
            }
            tokens
        }
    };
    let first = burst().await;
    assert_eq!(first.len(), 1, "every caller got the same token");
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 1);

    // Past expiry (WeCom's too, on the shared clock): exactly one more fetch, a new token.
    emulator.advance(Duration::from_secs(7200));
    let second = burst().await;
    assert_eq!(second.len(), 1);
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 2);
    assert_ne!(first, second);
}

#[tokio::test]
async fn tokens_are_refreshed_early_by_the_margin() {
    let (emulator, app, clock) = app_on_emulator().await;
    let token = app.provider().access_token().get().await.expect("token");
    clock.advance(Duration::from_secs(7200 - 300 - 1));
    assert_eq!(app.provider().access_token().get().await.expect("token"), token);
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 1);
    clock.advance(Duration::from_secs(2));
    app.provider().access_token().get().await.expect("token");
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 2, "refetched inside the margin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_suites_and_a_hundred_corps_never_share_a_token() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let corps: Vec<(String, String)> = (0..100)
        .map(|i| (if i % 2 == 0 { SUITE } else { SUITE_B }.to_owned(), format!("wwcorp{i:03}")))
        .collect();
    for (suite, corp) in &corps {
        app.corp(suite.as_str(), corp.as_str())
            .permanent_code()
            .set(format!("code-{corp}"))
            .await
            .expect("stored");
    }
    let calls: Vec<_> = corps
        .iter()
        .cloned()
        .map(|(suite, corp)| {
            let app = app.clone();
            tokio::spawn(
                async move { app.corp(suite.as_str(), corp.as_str()).jsapi().get_jsapi_ticket().await },
            )
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("call succeeds");
    }
    assert_eq!(emulator.calls(SUITE_TOKEN), 2, "one suite token per suite");
    assert_eq!(emulator.calls(CORP_TOKEN), 100, "one corp token per corp");

    // Each corp call carried the token WeCom issued to that very corp.
    let mut seen = BTreeSet::new();
    for request in emulator.requests().iter().filter(|r| r.path == CORP_CALL) {
        let token = request.token().expect("carried a token");
        let owner = emulator.token_owner(token).expect("issued by the emulator");
        assert_eq!(owner.kind, TokenKind::Corp);
        seen.insert(owner.owner);
    }
    let expected: BTreeSet<String> = corps.iter().map(|(s, c)| format!("{s}/{c}")).collect();
    assert_eq!(seen, expected);

    let a = app.suite(SUITE).access_token().get().await.expect("token");
    let b = app.suite(SUITE_B).access_token().get().await.expect("token");
    assert_ne!(a, b);
    assert_eq!(emulator.token_owner(&a), Some(TokenOwner { kind: TokenKind::Suite, owner: SUITE.into() }));
    assert_eq!(emulator.token_owner(&b), Some(TokenOwner { kind: TokenKind::Suite, owner: SUITE_B.into() }));
}

#[tokio::test]
async fn an_expired_token_mid_call_is_refetched_once_and_the_call_retried_once() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    let old = corp.access_token().get().await.expect("token");
    // WeCom drops the token early and says 42001 on the next call.
    emulator.revoke_token(&old);
    emulator.inject(Some(CORP_CALL), 1, Fault::Errcode(42001));
    corp.jsapi().get_jsapi_ticket().await.expect("succeeds after one refetch");
    assert_eq!(emulator.calls(CORP_CALL), 2, "one failed attempt, one retry");
    assert_eq!(emulator.calls(CORP_TOKEN), 2, "one refetch");
    let new = corp.access_token().get().await.expect("token");
    assert_ne!(new, old);

    // A second 42001 in a row is an error, not a loop.
    emulator.inject(Some(CORP_CALL), 2, Fault::Errcode(42001));
    let err = corp.jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(err, Error::Api { code: 42001, attempts: 2, .. }), "{err:?}");
    assert_eq!(emulator.calls(CORP_CALL), 4);
}

#[tokio::test]
async fn retries_follow_delay_multiplier_and_max_retries() {
    let (emulator, app, clock) = app_on_emulator().await;
    let suite = app.suite(SUITE);
    suite.get_pre_auth_code().await.expect("warm the suite token");

    // System busy twice, then success: waits 100 ms and 200 ms.
    emulator.inject(Some(PRE_AUTH), 2, Fault::Errcode(-1));
    suite.get_pre_auth_code().await.expect("succeeds on the third attempt");
    assert_eq!(clock.sleeps(), [Duration::from_millis(100), Duration::from_millis(200)]);

    // Busy beyond max_retries (3): 4 attempts, waits 100, 200, 400 ms.
    let before = clock.sleeps().len();
    emulator.inject(Some(PRE_AUTH), 4, Fault::Errcode(-1));
    let err = suite.get_pre_auth_code().await.unwrap_err();
    assert!(matches!(err, Error::Api { code: -1, attempts: 4, .. }), "{err:?}");
    let waits = &clock.sleeps()[before..];
    assert_eq!(waits, [Duration::from_millis(100), Duration::from_millis(200), Duration::from_millis(400)]);

    // 503 is in the default http_codes; 404 is not.
    emulator.inject(Some(PRE_AUTH), 1, Fault::HttpStatus(503));
    suite.get_pre_auth_code().await.expect("retried past a 503");
    emulator.inject(Some(PRE_AUTH), 1, Fault::HttpStatus(404));
    let err = suite.get_pre_auth_code().await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 404, attempts: 1, .. }), "{err:?}");

    // A dropped connection on a GET is retried.
    emulator.inject(Some(PRE_AUTH), 1, Fault::Drop);
    suite.get_pre_auth_code().await.expect("retried past a dropped connection");
}

#[tokio::test]
async fn a_post_that_consumes_a_code_is_retried_only_when_wecom_surely_did_not_act() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let suite = app.suite(SUITE);
    let request = GetPermanentCodeRequest::new("AUTH");
    let path = "/cgi-bin/service/get_permanent_code";
    suite.get_pre_auth_code().await.expect("warm the suite token");

    emulator.inject(Some(path), 1, Fault::Errcode(-1));
    let err = suite.get_permanent_code_with(request.clone()).await.unwrap_err();
    assert!(matches!(err, Error::Api { code: -1, attempts: 1, .. }), "{err:?}");
    emulator.inject(Some(path), 1, Fault::HttpStatus(502));
    let err = suite.get_permanent_code_with(request.clone()).await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 502, attempts: 1, .. }), "{err:?}");

    // Rate limits reject before acting: safe to repeat.
    emulator.inject(Some(path), 1, Fault::Errcode(45009));
    suite.get_permanent_code_with(request).await.expect("retried past 45009");
    assert_eq!(emulator.calls(path), 4);
}

#[tokio::test]
async fn authorization_gone_drops_the_corp_token_and_is_remembered_until_a_new_code() {
    let (emulator, app, clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    corp.jsapi().get_jsapi_ticket().await.expect("warm the corp token");
    assert_eq!(emulator.calls(CORP_TOKEN), 1);
    let key = keys::corp_token(&SuiteId::new(SUITE), &CorpId::new(CORP));
    assert!(app.store().get_token(&key).await.expect("store").is_some());

    emulator.inject(Some(CORP_CALL), 1, Fault::Errcode(48004));
    let err = corp.jsapi().get_jsapi_ticket().await.unwrap_err();
    match &err {
        Error::AuthorizationGone { suite_id, corp_id, code, .. } => {
            assert_eq!((suite_id.as_str(), corp_id.as_str(), *code), (SUITE, CORP, 48004));
        }
        other => panic!("expected AuthorizationGone, got {other:?}"),
    }
    assert!(err.is_authorization_gone());
    assert!(app.store().get_token(&key).await.expect("store").is_none(), "the corp's token was dropped");
    assert_eq!(emulator.calls(CORP_CALL), 2, "not retried");

    // Remembered: the next calls for that corp do not ask WeCom again.
    let requests = emulator.requests().len();
    for _ in 0..3 {
        let again = corp.jsapi().get_jsapi_ticket().await.unwrap_err();
        assert!(matches!(again, Error::AuthorizationGone { code: 48004, .. }), "{again:?}");
    }
    assert_eq!(emulator.requests().len(), requests, "nothing sent while the corp is known gone");

    // Past the remembered time (default 300 s), the same from get_corp_token itself.
    clock.advance(Duration::from_secs(300));
    emulator.inject(Some(CORP_TOKEN), 1, Fault::Errcode(40084));
    let err = corp.jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(err, Error::AuthorizationGone { code: 40084, .. }), "{err:?}");
    assert_eq!(emulator.calls(CORP_TOKEN), 2);

    // A new permanent code (the corp authorized again) ends it at once.
    app.corp(SUITE, CORP).permanent_code().set("a-new-permanent-code").await.expect("stored");
    corp.jsapi().get_jsapi_ticket().await.expect("authorized again");
}

#[tokio::test]
async fn a_failed_refresh_serves_the_still_valid_token() {
    let (emulator, app, clock) = app_on_emulator().await;
    let token = app.provider().access_token().get().await.expect("token");
    clock.advance(Duration::from_secs(7200 - 100)); // inside the margin, still valid
    emulator.inject(Some(PROVIDER_TOKEN), 4, Fault::HttpStatus(500));
    assert_eq!(app.provider().access_token().get().await.expect("old token"), token);
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 5, "one fetch, then a refresh tried 4 times");

    clock.advance(Duration::from_secs(200)); // now expired
    emulator.inject(Some(PROVIDER_TOKEN), 4, Fault::HttpStatus(500));
    let err = app.provider().access_token().get().await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 500, .. }), "{err:?}");
}

#[tokio::test]
async fn a_missing_ticket_is_its_own_error_that_says_what_to_do() {
    let emulator = Emulator::start().await.expect("emulator");
    let app = Application::new(config(&emulator.base_uri())).expect("valid");
    let err = app.suite(SUITE).get_pre_auth_code().await.unwrap_err();
    assert!(matches!(&err, Error::SuiteTicketMissing { suite_id } if suite_id.as_str() == SUITE), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("every 10 minutes") && text.contains("ticket().set("), "{text}");
    assert_eq!(emulator.requests().len(), 0, "nothing was sent");

    let err = app.corp(SUITE, CORP).jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(err, Error::PermanentCodeMissing { .. }), "{err:?}");
}

#[tokio::test]
async fn the_newest_ticket_wins_and_lives_thirty_minutes() {
    let (_emulator, app, clock) = app_on_emulator().await;
    let ticket = app.suite(SUITE).ticket();
    clock.advance(Duration::from_secs(120)); // past the ticket stored at set-up
    let now = clock.now() - Duration::from_secs(60);
    assert!(ticket.set_pushed_at("newer", now).await.expect("stored"));
    assert!(!ticket.set_pushed_at("older", now - Duration::from_secs(600)).await.expect("ignored"));
    assert_eq!(ticket.get().await.expect("ticket"), "newer");

    ticket.set("latest").await.expect("stored");
    clock.advance(Duration::from_secs(1799));
    assert_eq!(ticket.get().await.expect("still there"), "latest");
    clock.advance(Duration::from_secs(1));
    assert!(matches!(ticket.get().await, Err(Error::SuiteTicketMissing { .. })));
}

#[tokio::test]
async fn a_user_token_source_replaces_the_runtime() {
    let (emulator, app, _clock) = app_on_emulator().await;
    app.provider().access_token().set(StaticTokens::new().provider("MY-OWN-TOKEN")).expect("set");
    assert_eq!(app.provider().access_token().get().await.expect("token"), "MY-OWN-TOKEN");
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 0);
}

#[tokio::test]
async fn the_untyped_client_carries_the_token_of_the_scope() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let reply: serde_json::Value =
        app.untyped().get(PRE_AUTH, Some(TokenScope::Suite(SUITE.into())), &()).await.expect("call succeeds");
    assert!(reply["pre_auth_code"].is_string(), "{reply}");
    let sent = emulator.requests().pop().expect("recorded");
    let token = sent.query_values("suite_access_token");
    assert_eq!(token.len(), 1);
    assert_eq!(emulator.token_owner(token[0]).map(|o| o.owner), Some(SUITE.to_owned()));

    // The envelope rule holds there too.
    emulator.inject(Some(PRE_AUTH), 1, Fault::Errcode(40029));
    let err =
        app.untyped().get::<serde_json::Value>(PRE_AUTH, Some(TokenScope::Suite(SUITE.into())), &()).await;
    assert!(matches!(err, Err(Error::Api { code: 40029, .. })), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_sharing_a_store_fetch_once_between_them() {
    let emulator = Emulator::start().await.expect("emulator");
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let apps: Vec<Application> = (0..2)
        .map(|_| {
            Application::builder(config(&emulator.base_uri())).store(store.clone()).build().expect("valid")
        })
        .collect();
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let app = apps[i % 2].clone();
            tokio::spawn(async move { app.provider().access_token().get().await })
        })
        .collect();
    let mut tokens = BTreeSet::new();
    for call in calls {
        tokens.insert(call.await.expect("task").expect("token"));
    }
    assert_eq!(tokens.len(), 1);
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 1);
    let _ = PROVIDER;
}

#[tokio::test]
async fn a_token_handle_stores_its_permanent_code_once_and_does_not_revive_a_forgotten_corp() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let handle = app.authorizer_access_token("wwcorphandle", "code-of-handle", SUITE);
    handle.get().await.expect("token");
    assert_eq!(
        app.corp(SUITE, "wwcorphandle")
            .permanent_code()
            .get()
            .await
            .expect("store")
            .map(|c| c.expose().to_owned()),
        Some("code-of-handle".to_owned())
    );
    // The corp cancels; the callback server forgets it. The old handle must
    // not put the code back.
    app.forget_authorization(SUITE, "wwcorphandle").await.expect("forgotten");
    let err = handle.get().await.unwrap_err();
    assert!(matches!(err, Error::PermanentCodeMissing { .. }), "{err:?}");
    assert!(app.corp(SUITE, "wwcorphandle").permanent_code().get().await.expect("store").is_none());
}

#[tokio::test]
async fn a_forgotten_token_is_fetched_again_and_an_overridden_one_is_not() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let handle = app.provider().access_token();
    let first = handle.get().await.expect("token");
    assert_eq!(handle.get().await.expect("cached"), first);
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 1);
    handle.forget().await.expect("forgotten");
    handle.get().await.expect("token");
    assert_eq!(emulator.calls(PROVIDER_TOKEN), 2, "the next get fetched a new one");

    let bare = wecom_openwork::Client::new(emulator.base_uri(), StaticTokens::new().provider("OWN"))
        .expect("client");
    let refused = bare.provider().access_token().set(StaticTokens::new().provider("OTHER"));
    assert!(matches!(refused, Err(Error::InvalidRequest(_))), "{refused:?}");
}
