//! Third-party and 代开发 (customized) suites: where each gets its corp
//! token, which endpoints each may call (refused before sending otherwise),
//! OAuth per kind, and one-time-code GETs that are never repeated.

mod common;

use common::{config, pushing_emulator, serve_callbacks, CORP, CUSTOMIZED, SUITE};
use wecom_openwork::api::authorization::types::{GetCorpTokenRequest, GetCustomizedCorpTokenQuery};
use wecom_openwork::api::oauth::types::{GetUserDetailRequest, GetUserInfo3rdQuery, GetUserInfoQuery};
use wecom_openwork::emulator::{Emulator, Fault, TokenOwner};
use wecom_openwork::server::CallbackServer;
use wecom_openwork::urls::OAuthScope;
use wecom_openwork::{
    AppKind, Application, Client, CorpOAuthUser, CorpOAuthUserDetail, Error, StaticTokens, TokenKind,
};

const GETTOKEN: &str = "/cgi-bin/gettoken";
const CORP_TOKEN: &str = "/cgi-bin/service/get_corp_token";
const USER_INFO: &str = "/cgi-bin/auth/getuserinfo";
const USER_DETAIL: &str = "/cgi-bin/auth/getuserdetail";
const USER_INFO_3RD: &str = "/cgi-bin/service/auth/getuserinfo3rd";
const USER_DETAIL_3RD: &str = "/cgi-bin/service/auth/getuserdetail3rd";
const JSAPI_TICKET: &str = "/cgi-bin/get_jsapi_ticket";

struct World {
    emulator: Emulator,
    app: Application,
    server: CallbackServer,
}

/// An emulator that knows the suites and their kinds and pushes to the
/// application's callback server; one clock for all; tickets stored.
async fn world() -> World {
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    for suite in [SUITE, CUSTOMIZED] {
        app.suite(suite).ticket().set("a-ticket").await.expect("stored");
    }
    let server = app.server();
    serve_callbacks(&server, listener);
    World { emulator, app, server }
}

/// The corp authorizes the suite; the callback server exchanges the auth
/// code for the permanent code and stores it. Returns the code.
async fn install(world: &World, suite: &str) -> String {
    world.emulator.authorize_corp(suite, CORP).await.expect("authorized");
    world.server.drain().await;
    let code = world
        .app
        .corp(suite, CORP)
        .permanent_code()
        .get()
        .await
        .expect("store")
        .expect("stored by the server");
    assert!(code.expose().starts_with("emu-pc-"), "the emulator's code, not a sample");
    code.expose().to_owned()
}

fn user_info_query() -> GetUserInfoQuery {
    GetUserInfoQuery::new("CODE")
}

#[tokio::test]
async fn a_customized_suite_gets_its_corp_token_from_gettoken_with_the_permanent_code() {
    let world = world().await;
    let code = install(&world, CUSTOMIZED).await;
    let emulator = &world.emulator;
    emulator.clear_requests();

    let corp = world.app.corp(CUSTOMIZED, CORP);
    corp.oauth().get_user_info_with(user_info_query()).await.expect("a 代开发 app's OAuth call");

    assert_eq!(emulator.calls(GETTOKEN), 1);
    assert_eq!(emulator.calls(CORP_TOKEN), 0, "not the third-party way");
    let requests = emulator.requests();
    let fetch = requests.iter().find(|r| r.path == GETTOKEN).expect("gettoken");
    assert_eq!(fetch.method, "GET");
    assert_eq!(fetch.query_values("corpid"), [CORP]);
    assert_eq!(fetch.query_values("corpsecret"), [code.as_str()], "the permanent code is the app secret");
    assert_eq!(fetch.token(), None, "gettoken carries no token");
    let call = requests.iter().find(|r| r.path == USER_INFO).expect("the call");
    let token = call.token().expect("the corp token");
    assert_eq!(
        emulator.token_owner(token),
        Some(TokenOwner { kind: TokenKind::Corp, owner: format!("{CUSTOMIZED}/{CORP}") })
    );

    // Cached: a second call fetches nothing.
    corp.jsapi().get_jsapi_ticket().await.expect("another corp call");
    assert_eq!(emulator.calls(GETTOKEN), 1);
}

#[tokio::test]
async fn a_third_party_suite_gets_its_corp_token_from_get_corp_token() {
    let world = world().await;
    install(&world, SUITE).await;
    let emulator = &world.emulator;
    emulator.clear_requests();

    world.app.corp(SUITE, CORP).jsapi().get_jsapi_ticket().await.expect("a corp call");
    assert_eq!(emulator.calls(CORP_TOKEN), 1);
    assert_eq!(emulator.calls(GETTOKEN), 0);
    let token = emulator
        .requests()
        .iter()
        .find(|r| r.path == JSAPI_TICKET)
        .and_then(|r| r.token().map(str::to_owned));
    assert_eq!(
        emulator.token_owner(&token.expect("carried")),
        Some(TokenOwner { kind: TokenKind::Corp, owner: format!("{SUITE}/{CORP}") })
    );
}

fn assert_refused(result: Result<impl std::fmt::Debug, Error>, endpoint: &str, suite: &str, kind: AppKind) {
    let err = result.expect_err("refused");
    match &err {
        Error::AppKindNotAllowed { endpoint: e, suite_id, kind: k } => {
            assert_eq!(e, endpoint);
            assert_eq!(suite_id.as_str(), suite);
            assert_eq!(*k, kind);
        }
        other => panic!("expected AppKindNotAllowed for {endpoint}, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains(endpoint) && shown.contains(kind.as_str()), "{shown}");
}

#[tokio::test]
async fn a_call_the_suite_kind_may_not_make_is_refused_before_anything_is_sent() {
    let world = world().await;
    install(&world, SUITE).await;
    install(&world, CUSTOMIZED).await;
    let (app, emulator) = (&world.app, &world.emulator);
    emulator.clear_requests();

    // A third-party suite: no corp-token OAuth, no gettoken.
    let corp = app.corp(SUITE, CORP);
    assert_refused(
        corp.oauth().get_user_info_with(user_info_query()).await,
        "get_user_info",
        SUITE,
        AppKind::ThirdParty,
    );
    let detail = GetUserDetailRequest::new("T");
    assert_refused(
        corp.oauth().get_user_detail_with(detail).await,
        "get_user_detail",
        SUITE,
        AppKind::ThirdParty,
    );
    let secret = GetCustomizedCorpTokenQuery::new(CORP, "S");
    assert_refused(
        corp.get_customized_corp_token_with(secret).await,
        "get_customized_corp_token",
        SUITE,
        AppKind::ThirdParty,
    );

    // A 代开发 suite: no third-party OAuth, no get_corp_token.
    let suite = app.suite(CUSTOMIZED);
    let code = GetUserInfo3rdQuery::new("CODE");
    assert_refused(
        suite.oauth().get_user_info_3rd_with(code.clone()).await,
        "get_user_info_3rd",
        CUSTOMIZED,
        AppKind::Customized,
    );
    let request = GetCorpTokenRequest::new(CORP, "P");
    assert_refused(
        suite.get_corp_token_with(request).await,
        "get_corp_token",
        CUSTOMIZED,
        AppKind::Customized,
    );
    assert_refused(
        app.suite(CUSTOMIZED).oauth().user_from_code("CODE").await,
        "get_user_info_3rd",
        CUSTOMIZED,
        AppKind::Customized,
    );
    // The typed client behind the application knows the kinds too.
    assert_refused(
        app.client().corp(SUITE, CORP).oauth().get_user_info_with(user_info_query()).await,
        "get_user_info",
        SUITE,
        AppKind::ThirdParty,
    );

    assert_eq!(emulator.requests(), [], "nothing reached WeCom, not even a token fetch");

    // What each kind may call still goes through.
    app.corp(CUSTOMIZED, CORP).oauth().get_user_info_with(user_info_query()).await.expect("allowed");
    app.suite(SUITE).oauth().get_user_info_3rd_with(code).await.expect("allowed");
}

#[tokio::test]
async fn the_emulator_refuses_what_the_kind_may_not_call_as_wecom_does() {
    let world = world().await;
    let third_party_code = install(&world, SUITE).await;
    let (app, emulator) = (&world.app, &world.emulator);
    let suite_token = app.suite(CUSTOMIZED).access_token().get().await.expect("template suite token");
    // A bare client knows no kinds, so the call reaches the emulator.
    let client =
        Client::new(emulator.base_uri(), StaticTokens::new().suite(CUSTOMIZED, suite_token)).expect("client");
    let err = client.suite(CUSTOMIZED).oauth().get_user_info_3rd("CODE").await.unwrap_err();
    assert_eq!(err.code(), Some(48002), "{err:?}");

    // gettoken takes only a permanent code issued to a 代开发 suite for that corp.
    for secret in [third_party_code.as_str(), "emu-pc-never-issued", "a-made-up-secret"] {
        let query = GetCustomizedCorpTokenQuery::new(CORP, secret);
        let err = client.corp(CUSTOMIZED, CORP).get_customized_corp_token_with(query).await.unwrap_err();
        assert_eq!(err.code(), Some(40001), "{secret}: {err:?}");
    }
}

#[tokio::test]
async fn a_customized_corp_whose_secret_is_revoked_gets_no_token() {
    let world = world().await;
    let code = install(&world, CUSTOMIZED).await;
    world.emulator.cancel_authorization(CUSTOMIZED, CORP).await.expect("pushed");
    world.server.drain().await;
    // A code set by hand never brings back a cancelled corp…
    let refused = world.app.corp(CUSTOMIZED, CORP).permanent_code().set(code.clone()).await.unwrap_err();
    assert!(refused.to_string().contains("cancel"), "{refused}");
    // …unless the ISV forgets the corp first (say the cancel was missed).
    world.app.forget_authorization(CUSTOMIZED, CORP).await.expect("forgotten");
    world.app.corp(CUSTOMIZED, CORP).permanent_code().set(code).await.expect("stored");
    let err = world.app.corp(CUSTOMIZED, CORP).jsapi().get_jsapi_ticket().await.unwrap_err();
    assert_eq!(err.code(), Some(40001), "{err:?}");
    assert_eq!(world.emulator.calls(JSAPI_TICKET), 0, "no token, no call");
}

#[tokio::test]
async fn a_corps_oauth_uses_the_endpoints_of_the_suite_kind() {
    let world = world().await;
    install(&world, SUITE).await;
    install(&world, CUSTOMIZED).await;
    let (app, emulator) = (&world.app, &world.emulator);
    let paths = || {
        emulator.requests().into_iter().map(|r| r.path).filter(|p| !p.contains("token")).collect::<Vec<_>>()
    };

    // Third-party: the suite token's getuserinfo3rd / getuserdetail3rd.
    emulator.clear_requests();
    let corp = app.corp(SUITE, CORP);
    let oauth = corp.oauth();
    assert_eq!(oauth.kind(), AppKind::ThirdParty);
    let user = oauth.user_from_code("CODE").await.expect("user");
    assert!(
        matches!(&user, CorpOAuthUser::ThirdParty(u) if u.corpid.as_deref() == Some("CORPID")),
        "{user:?}"
    );
    assert_eq!(user.userid(), Some("USERID"));
    let detail = oauth.user_detail(user.user_ticket().expect("ticket")).await.expect("detail");
    assert!(matches!(detail, CorpOAuthUserDetail::ThirdParty(_)), "{detail:?}");
    assert_eq!(paths(), [USER_INFO_3RD, USER_DETAIL_3RD]);
    let carried = emulator
        .requests()
        .iter()
        .filter_map(|r| r.query_values("suite_access_token").first().map(|t| t.to_string()))
        .count();
    assert_eq!(carried, 2, "both with the suite token");

    // 代开发: the corp token's auth/getuserinfo / auth/getuserdetail.
    emulator.clear_requests();
    let corp = app.corp(CUSTOMIZED, CORP);
    let oauth = corp.oauth();
    assert_eq!(oauth.kind(), AppKind::Customized);
    let user = oauth.user_from_code("CODE").await.expect("user");
    assert!(matches!(user, CorpOAuthUser::Customized(_)), "{user:?}");
    let detail = oauth.user_detail(user.user_ticket().expect("ticket")).await.expect("detail");
    assert!(matches!(&detail, CorpOAuthUserDetail::Customized(d) if d.mobile.is_some()), "{detail:?}");
    assert_eq!(detail.userid(), Some("lisi"));
    assert_eq!(paths(), [USER_INFO, USER_DETAIL]);

    // Either way the link's appid is the corp.
    let link = oauth.authorize_url("https://isv.example.com/cb", OAuthScope::Base, None, None).expect("link");
    assert!(link.contains(&format!("appid={CORP}")), "{link}");
}

#[tokio::test]
async fn gets_that_consume_a_one_time_code_are_not_repeated_after_a_5xx() {
    let world = world().await;
    install(&world, SUITE).await;
    install(&world, CUSTOMIZED).await;
    let (app, emulator) = (&world.app, &world.emulator);
    // Warm the tokens, so that only the calls themselves are counted.
    app.suite(SUITE).access_token().get().await.expect("suite token");
    app.corp(CUSTOMIZED, CORP).access_token().get().await.expect("corp token");

    emulator.inject(Some(USER_INFO_3RD), 1, Fault::HttpStatus(503));
    let err = app.suite(SUITE).oauth().get_user_info_3rd("CODE").await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 503, attempts: 1, .. }), "{err:?}");
    assert_eq!(emulator.calls(USER_INFO_3RD), 1, "the code may have been consumed: not sent again");

    emulator.inject(Some(USER_INFO), 1, Fault::HttpStatus(503));
    let err = app.corp(CUSTOMIZED, CORP).oauth().get_user_info_with(user_info_query()).await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 503, attempts: 1, .. }), "{err:?}");
    assert_eq!(emulator.calls(USER_INFO), 1);

    // A GET that consumes nothing is retried after the same failure.
    emulator.inject(Some(JSAPI_TICKET), 1, Fault::HttpStatus(503));
    app.corp(CUSTOMIZED, CORP).jsapi().get_jsapi_ticket().await.expect("retried");
    assert_eq!(emulator.calls(JSAPI_TICKET), 2);
}
