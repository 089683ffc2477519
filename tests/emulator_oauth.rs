//! OAuth codes with state in the emulator: a code issued for a member works
//! once, with the suite it was issued for, and its user ticket reads that
//! member; any other code is WeCom's 40029, any other ticket 84015, and an
//! expired ticket 84014.

mod common;

use common::{config, http, pushing_emulator, serve_callbacks, SUITE, SUITE_B};

const CORP: &str = "wwcorpoauth01";

#[tokio::test]
async fn a_code_names_its_member_once_and_its_ticket_reads_the_member() {
    let (emulator, app, clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    let server = app.server();
    serve_callbacks(&server, listener);
    for suite in [SUITE, SUITE_B] {
        emulator.push_suite_ticket(suite).await.expect("pushed");
    }
    server.drain().await;
    let suite = app.suite(SUITE);
    let oauth = suite.oauth();

    let code = emulator.oauth_code(SUITE, CORP, "lisi").expect("a code");
    let user = oauth.get_user_info_3rd(code.clone()).await.expect("user info");
    assert_eq!(user.corpid.as_deref(), Some(CORP));
    assert_eq!(user.userid.as_deref(), Some("lisi"));
    let ticket = user.user_ticket.expect("a user ticket");
    let again = oauth.get_user_info_3rd(code).await.unwrap_err();
    assert_eq!(again.code(), Some(40029), "a code works once: {again:?}");

    let detail = oauth.get_user_detail_3rd(ticket.clone()).await.expect("detail");
    assert_eq!((detail.corpid.as_deref(), detail.userid.as_deref()), (Some(CORP), Some("lisi")));

    // Another suite's token, a made-up code, an expired code: 40029.
    let suite_b = app.suite(SUITE_B);
    let other = suite_b.oauth();
    let code = emulator.oauth_code(SUITE, CORP, "lisi").expect("a code");
    let foreign = other.get_user_info_3rd(code.clone()).await.unwrap_err();
    assert_eq!(foreign.code(), Some(40029), "{foreign:?}");
    let made_up = oauth.get_user_info_3rd("made-up").await.unwrap_err();
    assert_eq!(made_up.code(), Some(40029), "{made_up:?}");
    clock.advance(wecom_openwork::emulator::OAUTH_CODE_LIFETIME);
    let expired = oauth.get_user_info_3rd(code).await.unwrap_err();
    assert_eq!(expired.code(), Some(40029), "{expired:?}");

    // A ticket through another suite, or made up: 84015 (成员票据无效);
    // past its life: 84014 (成员票据过期).
    let foreign = other.get_user_detail_3rd(ticket.clone()).await.unwrap_err();
    assert_eq!(foreign.code(), Some(84015), "{foreign:?}");
    let made_up = oauth.get_user_detail_3rd("made-up").await.unwrap_err();
    assert_eq!(made_up.code(), Some(84015), "{made_up:?}");
    oauth.get_user_detail_3rd(ticket.clone()).await.expect("still valid");
    clock.advance(std::time::Duration::from_secs(1800));
    let expired = oauth.get_user_detail_3rd(ticket).await.unwrap_err();
    assert_eq!(expired.code(), Some(84014), "{expired:?}");
}

#[tokio::test]
async fn the_control_api_hands_out_codes_too() {
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    let server = app.server();
    serve_callbacks(&server, listener);
    emulator.push_suite_ticket(SUITE).await.expect("pushed");
    server.drain().await;
    let url = format!("{}/__emulator/oauth_code", emulator.base_uri());
    let body = serde_json::json!({"suite_id": SUITE, "corp_id": CORP, "userid": "lisi"});
    let (status, reply) = http::post(&url, &body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 300);
    let code = reply["code"].as_str().expect("a code");
    let suite = app.suite(SUITE);
    let user = suite.oauth().get_user_info_3rd(code).await.expect("the code works");
    assert_eq!((user.corpid.as_deref(), user.userid.as_deref()), (Some(CORP), Some("lisi")));
    let unknown = serde_json::json!({"suite_id": "wwnosuchsuite", "corp_id": CORP, "userid": "lisi"});
    let (status, reply) = http::post(&url, &unknown).await;
    assert_eq!(status, 400, "an unregistered suite is refused: {reply}");
}
