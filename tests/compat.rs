//! EasyWeChat's names, opted into with `compat::EasyWeChat`, reach the same
//! state and the same endpoints as the handles they stand for.

mod common;

use common::{app_on_emulator, CORP, CUSTOMIZED, SUITE};
use wecom_openwork::compat::EasyWeChat;
use wecom_openwork::{AppKind, StaticTokens};

#[tokio::test]
async fn each_easywechat_name_is_the_handle_it_stands_for() {
    let (emulator, app, _clock) = app_on_emulator().await;

    app.suite_ticket(SUITE).set("pushed-by-hand").await.expect("stored");
    assert_eq!(app.suite(SUITE).ticket().get().await.expect("ticket"), "pushed-by-hand");

    let suite_token = app.suite_access_token(SUITE).get().await.expect("suite token");
    assert_eq!(app.suite(SUITE).access_token().get().await.expect("suite token"), suite_token);
    let provider_token = app.provider_access_token().get().await.expect("provider token");
    assert_eq!(app.provider().access_token().get().await.expect("provider token"), provider_token);

    // The corp first, as EasyWeChat orders it; the handle it gives is (suite, corp).
    let corp_token = app.authorizer_access_token(CORP, "permanent-code-of-corp", SUITE).get().await;
    assert_eq!(
        corp_token.expect("corp token"),
        app.corp(SUITE, CORP).access_token().get().await.expect("token")
    );
    let info = app.authorization(CORP, "permanent-code-of-corp", SUITE).await.expect("auth info");
    assert!(info.auth_corp_info.is_some(), "{info:?}");
    let asked =
        emulator.requests().into_iter().filter(|r| r.path.ends_with("/service/get_auth_info")).count();
    assert_eq!(asked, 1, "getAuthorization is get_auth_info");

    assert_eq!(app.corp_oauth(CORP, SUITE).kind(), AppKind::ThirdParty);
    assert_eq!(app.corp_oauth(CORP, CUSTOMIZED).kind(), AppKind::Customized);
    assert_eq!(app.corp(CUSTOMIZED, CORP).oauth().kind(), AppKind::Customized);
}

#[tokio::test]
async fn a_token_source_set_on_a_handle_replaces_the_runtime_for_that_scope_only() {
    let (emulator, app, _clock) = app_on_emulator().await;
    app.set_suite_access_token(SUITE, StaticTokens::new().suite(SUITE, "token-from-elsewhere")).expect("set");
    assert_eq!(app.suite(SUITE).access_token().get().await.expect("token"), "token-from-elsewhere");
    let fetched =
        emulator.requests().into_iter().filter(|r| r.path.ends_with("/service/get_suite_token")).count();
    assert_eq!(fetched, 0, "the runtime did not fetch a token for that scope");
    let provider = app.provider().access_token().get().await.expect("provider token");
    assert_ne!(provider, "token-from-elsewhere", "other scopes keep the runtime");
}
