//! The whole ISV flow against the emulator, with WeCom's pushes going to the
//! callback server over HTTP: tickets, authorization, permanent code, corp
//! token, cancellation; and the emulator's HTTP controls.

mod common;

use common::http;

use std::time::Duration;

use common::{config, pushing_emulator, serve_callbacks, SUITE};
use wecom_openwork::api::authorization::types::SessionInfo;
use wecom_openwork::emulator::Emulator;
use wecom_openwork::server::CallbackServer;
use wecom_openwork::{Application, Error};

const NEW_CORP: &str = "wwcorpnew01";

struct World {
    emulator: Emulator,
    app: Application,
    server: CallbackServer,
}

/// Callback server on a loopback port, an emulator that pushes to it, an
/// application that calls the emulator; one clock for all.
async fn world() -> World {
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    let server = app.server();
    serve_callbacks(&server, listener);
    World { emulator, app, server }
}

#[tokio::test]
async fn tickets_authorization_tokens_and_cancellation_flow_end_to_end() {
    let World { emulator, app, server, .. } = world().await;
    let suite = app.suite(SUITE);

    // No ticket yet: the suite token cannot be had.
    assert!(matches!(suite.get_pre_auth_code().await, Err(Error::SuiteTicketMissing { .. })));

    // WeCom pushes a ticket; the callback server stores it; the emulator
    // accepts it for the suite token.
    let push = emulator.push_suite_ticket(SUITE).await.expect("pushed");
    assert!(push.acknowledged(), "{push:?}");
    let pre = suite.get_pre_auth_code().await.expect("suite token from the pushed ticket");
    let pre_auth_code = pre.pre_auth_code.expect("code");
    suite.set_session_info(pre_auth_code, SessionInfo::new().auth_type(1)).await.expect("session set");

    // An admin authorizes; create_auth is pushed and acknowledged; the
    // permanent code is exchanged and stored in the background.
    let auth_code = emulator.authorize_corp(SUITE, NEW_CORP).await.expect("authorized");
    let pushes = emulator.pushes();
    let create = pushes.iter().find(|p| p.info_type == "create_auth").expect("pushed");
    assert!(create.acknowledged(), "{create:?}");
    server.drain().await;
    let code =
        app.corp(SUITE, NEW_CORP).permanent_code().get().await.expect("store").expect("stored by the server");
    assert!(code.expose().starts_with("emu-pc-"), "the emulator's code, not a sample");

    // The auth code was single-use.
    let again = suite.get_permanent_code(auth_code).await.unwrap_err();
    assert_eq!(again.code(), Some(40078));

    // Corp API with the corp token from that code.
    let corp = app.corp(SUITE, NEW_CORP);
    corp.jsapi().get_jsapi_ticket().await.expect("corp call");
    let token = emulator.requests().last().and_then(|r| r.token().map(str::to_owned)).expect("token");
    assert_eq!(emulator.token_owner(&token).map(|o| o.owner), Some(format!("{SUITE}/{NEW_CORP}")));

    // Every 10 minutes of emulator time a new ticket arrives; after the
    // suite token expires, the refresh uses the newest ticket.
    for _ in 0..13 {
        emulator.advance(Duration::from_secs(600));
        emulator.settle().await;
    }
    let tickets = emulator
        .pushes()
        .iter()
        .filter(|p| p.suite_id == SUITE && p.info_type == "suite_ticket" && p.acknowledged())
        .count();
    assert_eq!(tickets, 14);
    suite.get_pre_auth_code().await.expect("a new suite token with the newest ticket");
    assert_eq!(emulator.calls("/cgi-bin/service/get_suite_token"), 2);

    // The corp cancels: cancel_auth is pushed, the server forgets the corp.
    let cancel = emulator.cancel_authorization(SUITE, NEW_CORP).await.expect("pushed");
    assert!(cancel.acknowledged(), "{cancel:?}");
    assert!(app.corp(SUITE, NEW_CORP).permanent_code().get().await.expect("store").is_none());
    let err = corp.jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(err, Error::PermanentCodeMissing { .. }), "{err:?}");
}

#[tokio::test]
async fn a_revoked_permanent_code_is_authorization_gone() {
    let World { emulator, app, server, .. } = world().await;
    emulator.push_suite_ticket(SUITE).await.expect("pushed");
    emulator.authorize_corp(SUITE, NEW_CORP).await.expect("authorized");
    server.drain().await;
    let code = app.corp(SUITE, NEW_CORP).permanent_code().get().await.expect("store").expect("stored");
    // The corp cancels, but the push never reaches us (say we were down).
    emulator.cancel_authorization(SUITE, "someone-else").await.expect("pushed");
    let other = Application::builder(app.config().clone()).build().expect("valid");
    other
        .suite(SUITE)
        .ticket()
        .set(&app.suite(SUITE).ticket().get().await.expect("ticket"))
        .await
        .expect("set");
    other.corp(SUITE, NEW_CORP).permanent_code().set(code.expose()).await.expect("set");
    emulator.cancel_authorization(SUITE, NEW_CORP).await.expect("pushed");
    let err = other.corp(SUITE, NEW_CORP).jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(err, Error::AuthorizationGone { code: 40084, .. }), "{err:?}");
}

#[tokio::test]
async fn wrong_credentials_and_missing_fields_get_wecom_errors() {
    let World { emulator, app, .. } = world().await;
    // A ticket the emulator never pushed.
    app.suite(SUITE).ticket().set("made-up").await.expect("set");
    emulator.push_suite_ticket(SUITE).await.expect("pushed");
    app.suite(SUITE).ticket().set("made-up-later").await.expect("set");
    let err = app.suite(SUITE).get_pre_auth_code().await.unwrap_err();
    assert_eq!(err.code(), Some(40085));
    // A wrong provider secret.
    let mut wrong = app.config().clone();
    wrong.provider_secret = "not-the-secret".into();
    let other = Application::new(wrong).expect("valid");
    assert_eq!(other.provider().access_token().get().await.unwrap_err().code(), Some(40001));
    // A required field left empty.
    let reply: Result<serde_json::Value, _> = app
        .untyped()
        .post_json("/cgi-bin/service/get_provider_token", None, &serde_json::json!({"corpid": "x"}))
        .await;
    assert_eq!(reply.unwrap_err().code(), Some(40058));
}

#[tokio::test]
async fn the_http_controls_serve_stats_faults_and_the_clock() {
    let World { emulator, app, .. } = world().await;
    let base = emulator.base_uri();
    app.provider().access_token().get().await.expect("token");
    let stats = http::get(&format!("{base}/__emulator/stats")).await.1;
    assert_eq!(stats["calls"]["/cgi-bin/service/get_provider_token"], 1);

    let fault = serde_json::json!({"path": "/cgi-bin/service/get_provider_token", "times": 1, "fault": {"errcode": -1}});
    let (status, _) = http::post(&format!("{base}/__emulator/faults"), &fault).await;
    assert_eq!(status, 200);
    let (_, now) =
        http::post(&format!("{base}/__emulator/clock/advance"), &serde_json::json!({"seconds": 7200})).await;
    assert!(now["now"].is_u64());
    // The token expired on the shared clock; the refetch meets the -1 (busy) and backs off once.
    app.provider().access_token().get().await.expect("token after a back-off");
    assert_eq!(emulator.calls("/cgi-bin/service/get_provider_token"), 3);

    let body = serde_json::json!({"suite_id": SUITE, "corp_id": NEW_CORP});
    let (status, authorized) = http::post(&format!("{base}/__emulator/authorize"), &body).await;
    assert_eq!(status, 200);
    assert!(authorized["auth_code"].is_string(), "{authorized}");
}

#[tokio::test]
async fn after_the_install_the_answers_come_from_the_emulators_state() {
    use wecom_openwork::events::CreateAuth;
    use wecom_openwork::server::Reply;
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    // This server keeps the auth code for the test instead of exchanging it.
    let server = app.server().on::<CreateAuth, _, _>(|_event, _callback| async { Ok(Reply::Success) });
    serve_callbacks(&server, listener);
    emulator.push_suite_ticket(SUITE).await.expect("pushed");
    server.drain().await;
    let auth_code = emulator.authorize_corp(SUITE, NEW_CORP).await.expect("authorized");
    let suite = app.suite(SUITE);
    let info = suite.get_permanent_code(auth_code).await.expect("exchanged");
    let code = info.permanent_code.clone().expect("a permanent code");
    assert_eq!(info.auth_corp_info.as_ref().and_then(|c| c.corpid.as_deref()), Some(NEW_CORP));

    // The corp token that came with it works for the corp's calls.
    let token = info.access_token.expect("a corp token");
    let url = format!("{}/cgi-bin/user/get?access_token={token}&userid=zhangsan", emulator.base_uri());
    let reply = http::get(&url).await.1;
    assert_eq!(reply["errcode"], 0, "{reply}");

    // Auth info is the corp's, and a made-up code is WeCom's 40084.
    let auth = suite.get_auth_info(NEW_CORP, code).await.expect("auth info");
    assert_eq!(auth.auth_corp_info.and_then(|c| c.corpid).as_deref(), Some(NEW_CORP));
    let made_up = suite.get_auth_info(NEW_CORP, "made-up-code").await.unwrap_err();
    assert_eq!(made_up.code(), Some(40084), "{made_up:?}");

    // The admin list answers for the corp that authorized the suite, and
    // WeCom's 48004 for one that did not, or that cancelled.

    let admins = suite.get_admin_list(NEW_CORP, 1).await.expect("admins");
    assert!(!admins.admin.is_empty());
    let stranger = suite.get_admin_list("wwstranger01", 1).await.unwrap_err();
    assert_eq!(stranger.code(), Some(48004), "{stranger:?}");
    emulator.cancel_authorization(SUITE, NEW_CORP).await.expect("cancelled");
    let cancelled = suite.get_admin_list(NEW_CORP, 1).await.unwrap_err();
    assert_eq!(cancelled.code(), Some(48004), "{cancelled:?}");
}
