//! Calls made with a registered corp's one-time token: the caller passes
//! it, it goes on the URL as `access_token`, and WeCom (the emulator) takes
//! only a token it handed over for a registration.

mod common;

use common::{app_on_emulator, CORP, SUITE};
use wecom_openwork::api::registration::types::SetScopeRequest;
use wecom_openwork::Error;

async fn registration_token(app: &wecom_openwork::Application) -> String {
    let info = app.provider().get_register_info("REGISTER_CODE").await;
    info.expect("register info").contact_sync.and_then(|s| s.access_token).expect("a token")
}

#[tokio::test]
async fn the_registration_token_sets_the_scope_and_ends_the_migration() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let token = registration_token(&app).await;
    let provider = app.provider();
    let request = SetScopeRequest::new(1).allow_user(vec!["zhangsan".to_owned()]).allow_party(vec![1]);
    provider.registration().set_scope(&token, &request).await.expect("scope set");
    let sent = emulator.requests().pop().expect("recorded");
    assert_eq!(sent.path, "/cgi-bin/agent/set_scope");
    assert_eq!(sent.query, vec![("access_token".to_owned(), token.clone())]);
    let body = sent.body.expect("a JSON body");
    assert_eq!(body, serde_json::json!({"agentid": 1, "allow_user": ["zhangsan"], "allow_party": [1]}));
    provider.registration().contact_sync_success(&token).await.expect("migration done");
    let sent = emulator.requests();
    let last = sent.last().expect("recorded");
    assert_eq!(last.path, "/cgi-bin/sync/contact_sync_success");
    assert_eq!(last.query, vec![("access_token".to_owned(), token)], "only the caller's token");
}

#[tokio::test]
async fn a_token_wecom_did_not_hand_over_is_refused() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let provider = app.provider();
    let registration = provider.registration();
    let error = registration.contact_sync_success("made-up-token").await.unwrap_err();
    assert_eq!(error.code(), Some(40014), "{error:?}");
    // A corp token is not a registration token either.
    let corp_token = app.corp(SUITE, CORP).access_token().get().await.expect("corp token");
    let error = registration.contact_sync_success(&corp_token).await.unwrap_err();
    assert_eq!(error.code(), Some(40014), "{error:?}");
    let error = registration.contact_sync_success("  ").await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
}
