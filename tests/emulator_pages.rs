//! The emulator's browser pages over plain HTTP: install, OAuth and web
//! login, each read as a page, posted as a form, and followed to the
//! app's redirect; bad links and forged forms get the 400 error page with
//! WeCom's errcode and never a redirect.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::pages::{form, no_redirects, read, Page};
use common::{config, serve_callbacks, CUSTOMIZED, PROVIDER, SUITE};
use wecom_openwork::api::authorization::types::{SessionInfo, SetSessionInfoRequest};
use wecom_openwork::clock::ManualClock;
use wecom_openwork::emulator::{Emulator, EmulatorConfig};
use wecom_openwork::server::{AuthorizedCorp, CallbackServer};
use wecom_openwork::Application;

const REDIRECT: &str = "https://app.example.com/installed?from=wecom";

struct World {
    emulator: Emulator,
    app: Application,
    server: CallbackServer,
    clock: ManualClock,
    authorized: Arc<Mutex<Vec<AuthorizedCorp>>>,
    browser: reqwest::Client,
}

/// An emulator configured from the tests' application config, then
/// `tweak`ed; pushes go to a callback server that records `on_authorized`;
/// the suite has a ticket. The browser does not follow redirects.
async fn world(tweak: impl FnOnce(&mut EmulatorConfig)) -> World {
    let clock = ManualClock::starting_now();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let callback_base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut app_config = config("http://placeholder.invalid");
    let mut emulator_config = EmulatorConfig::from_config(&app_config, Some(&callback_base));
    tweak(&mut emulator_config);
    let emulator = Emulator::bind("127.0.0.1:0".parse().expect("addr"), clock.clone(), emulator_config)
        .await
        .expect("emulator");
    app_config.http.base_uri = emulator.base_uri();
    let app = Application::builder(app_config).clock(Arc::new(clock.clone())).build().expect("valid");
    let authorized = Arc::new(Mutex::new(Vec::new()));
    let seen = authorized.clone();
    let server = app.server().on_authorized(move |corp| {
        let seen = seen.clone();
        async move {
            seen.lock().expect("lock").push(corp);
            Ok(())
        }
    });
    serve_callbacks(&server, listener);
    for suite in [SUITE, CUSTOMIZED] {
        emulator.push_suite_ticket(suite).await.expect("pushed");
    }
    server.drain().await;
    let browser = no_redirects();
    World { emulator, app, server, clock, authorized, browser }
}

impl World {
    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Page {
        let url = format!("{}{path}?{}", self.emulator.base_uri(), form(params));
        read(self.browser.get(url).send().await.expect("sent")).await
    }

    async fn post(&self, path: &str, params: &[(&str, &str)]) -> Page {
        let url = format!("{}{path}", self.emulator.base_uri());
        let request = self
            .browser
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(params));
        read(request.send().await.expect("sent")).await
    }

    /// Posts the page's form: its hidden inputs and `choices`.
    async fn submit(&self, path: &str, page: &Page, choices: &[(&str, &str)]) -> Page {
        let hidden = page.hidden();
        let mut params: Vec<(&str, &str)> = hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        params.extend_from_slice(choices);
        self.post(path, &params).await
    }

    async fn pre_auth_code(&self, test_install: bool) -> String {
        let suite = self.app.suite(SUITE);
        let code = suite.get_pre_auth_code().await.expect("pre-auth code").pre_auth_code.expect("a code");
        if test_install {
            let request = SetSessionInfoRequest::new(code.clone(), SessionInfo::new().auth_type(1));
            suite.set_session_info_with(request).await.expect("session set");
        }
        code
    }

    /// Installs SUITE for `corp` through the page; returns the redirect.
    async fn install(&self, corp: &str) -> Page {
        let code = self.pre_auth_code(false).await;
        let page = self
            .get(
                "/3rdapp/install",
                &[("suite_id", SUITE), ("pre_auth_code", &code), ("redirect_uri", REDIRECT)],
            )
            .await;
        let done = self.submit("/3rdapp/install", &page, &[("corp_id", "x"), ("new_corp_id", corp)]).await;
        assert_eq!(done.status, 302, "{}", done.html);
        self.server.drain().await;
        done
    }
}

#[tokio::test]
async fn the_install_page_authorizes_a_corp_and_redirects_with_the_auth_code() {
    let w = world(|_| {}).await;
    let code = w.pre_auth_code(true).await;
    let link = [
        ("suite_id", SUITE),
        ("pre_auth_code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("state", "abc123"),
    ];
    let page = w.get("/3rdapp/install", &link).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("id=\"test-install\""), "a test install is shown as such");
    assert!(page.html.contains("<form id=\"form\" method=\"post\" action=\"/3rdapp/install\">"));
    assert!(page.html.contains("<button type=\"submit\" id=\"confirm\">"));
    assert!(page.html.contains("<option value=\"wwemucorp000001\""), "a corp is offered");
    assert!(page.html.contains("name=\"allow_user\" value=\"zhangsan\""));
    assert!(page.html.contains("name=\"allow_party\" value=\"1\""));

    let done = w
        .submit(
            "/3rdapp/install",
            &page,
            &[
                ("corp_id", "wwemucorp000001"),
                ("new_corp_id", ""),
                ("allow_user", "lisi"),
                ("allow_party", "1"),
            ],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.html);
    let location = done.location.clone().expect("redirected");
    assert!(location.starts_with("https://app.example.com/installed?from=wecom&auth_code="), "{location}");
    assert_eq!(done.redirect_param("expires_in").as_deref(), Some("600"));
    assert_eq!(done.redirect_param("state").as_deref(), Some("abc123"));
    assert!(done.redirect_param("auth_code").is_some_and(|c| !c.is_empty()));

    // create_auth reached the callback server, which exchanged the code.
    let create = w.emulator.pushes().into_iter().find(|p| p.info_type == "create_auth").expect("pushed");
    assert!(create.acknowledged(), "{create:?}");
    w.server.drain().await;
    let corps: Vec<String> =
        w.app.authorizations().await.expect("store").iter().map(|a| a.corp_id.to_string()).collect();
    assert_eq!(corps, ["wwemucorp000001"]);
    let authorized = w.authorized.lock().expect("lock").clone();
    assert_eq!(authorized.len(), 1);
    assert_eq!(authorized[0].state.as_deref(), Some("abc123"), "create_auth carried the link's state");
    let info = serde_json::to_value(authorized[0].auth_info.as_ref().expect("auth info")).expect("json");
    let privilege = &info["auth_info"]["agent"][0]["privilege"];
    assert_eq!(privilege["allow_user"], serde_json::json!(["lisi"]), "{info}");
    assert_eq!(privilege["allow_party"], serde_json::json!([1]), "{info}");

    // The same pre-auth code again: refused, no redirect.
    w.get("/3rdapp/install", &link).await.assert_refused(40077);
    w.submit("/3rdapp/install", &page, &[("corp_id", "wwemucorp000001")]).await.assert_refused(40077);
}

#[tokio::test]
async fn a_new_corp_wins_and_no_state_means_none_in_the_redirect() {
    let w = world(|_| {}).await;
    let done = w.install("wwnewcorp0001").await;
    assert!(done.redirect_param("state").is_none(), "{:?}", done.location);
    let corps: Vec<String> =
        w.app.authorizations().await.expect("store").iter().map(|a| a.corp_id.to_string()).collect();
    assert_eq!(corps, ["wwnewcorp0001"]);
    // Not a test install: no badge.
    let code = w.pre_auth_code(false).await;
    let page = w
        .get("/3rdapp/install", &[("suite_id", SUITE), ("pre_auth_code", &code), ("redirect_uri", REDIRECT)])
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.html.contains("test-install"));
    assert!(page.html.contains("<option value=\"wwnewcorp0001\""), "the authorized corp is now offered");
}

#[tokio::test]
async fn bad_install_links_and_forged_forms_get_the_error_page() {
    let w = world(|config| config.suites[0].redirect_domain = Some("example.com".into())).await;
    let code = w.pre_auth_code(false).await;
    let get = |params: Vec<(&'static str, String)>| {
        let w = &w;
        async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            w.get("/3rdapp/install", &params).await
        }
    };
    let c = || code.clone();
    let r = || REDIRECT.to_owned();
    get(vec![("pre_auth_code", c()), ("redirect_uri", r())]).await.assert_refused(41021);
    get(vec![("suite_id", "wwnosuchsuite".into()), ("pre_auth_code", c()), ("redirect_uri", r())])
        .await
        .assert_refused(40083);
    get(vec![("suite_id", SUITE.into()), ("pre_auth_code", "made-up".into()), ("redirect_uri", r())])
        .await
        .assert_refused(40077);
    get(vec![("suite_id", SUITE.into()), ("pre_auth_code", c())]).await.assert_refused(41010);
    get(vec![
        ("suite_id", SUITE.into()),
        ("pre_auth_code", c()),
        ("redirect_uri", "https://evil.net/cb".into()),
    ])
    .await
    .assert_refused(50001);
    get(vec![("suite_id", SUITE.into()), ("pre_auth_code", c()), ("redirect_uri", "not a url".into())])
        .await
        .assert_refused(40035);
    let long_state = "a".repeat(129);
    get(vec![
        ("suite_id", SUITE.into()),
        ("pre_auth_code", c()),
        ("redirect_uri", r()),
        ("state", long_state),
    ])
    .await
    .assert_refused(40035);
    get(vec![
        ("suite_id", SUITE.into()),
        ("pre_auth_code", c()),
        ("redirect_uri", r()),
        ("state", "<b>".into()),
    ])
    .await
    .assert_refused(40035);
    let huge = format!("https://app.example.com/{}", "x".repeat(5000));
    get(vec![("suite_id", SUITE.into()), ("pre_auth_code", c()), ("redirect_uri", huge)])
        .await
        .assert_refused(40035);

    // A forged POST: a made-up code, a corp never offered, an unlisted member.
    let forged = [
        ("suite_id", SUITE),
        ("pre_auth_code", "made-up"),
        ("redirect_uri", REDIRECT),
        ("new_corp_id", "wwforged01"),
    ];
    w.post("/3rdapp/install", &forged).await.assert_refused(40077);
    let base = [("suite_id", SUITE), ("pre_auth_code", code.as_str()), ("redirect_uri", REDIRECT)];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut params = base.to_vec();
        params.extend_from_slice(extra);
        params
    };
    w.post("/3rdapp/install", &with(&[("corp_id", "wwneveroffered")])).await.assert_refused(40013);
    w.post("/3rdapp/install", &with(&[("new_corp_id", "<script>")])).await.assert_refused(40013);
    w.post("/3rdapp/install", &with(&[("corp_id", "wwemucorp000001"), ("allow_user", "nobody")]))
        .await
        .assert_refused(60111);
    w.post("/3rdapp/install", &with(&[("corp_id", "wwemucorp000001"), ("allow_party", "x")]))
        .await
        .assert_refused(60123);
    let too_big = "x".repeat(100 * 1024);
    w.post("/3rdapp/install", &with(&[("corp_id", "wwemucorp000001"), ("junk", too_big.leak())]))
        .await
        .assert_refused(40035);
    assert!(w.emulator.pushes().iter().all(|p| p.info_type != "create_auth"), "nothing was authorized");

    // The code still works after the refusals, and expires on the clock.
    let page = get(vec![("suite_id", SUITE.into()), ("pre_auth_code", c()), ("redirect_uri", r())]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    w.clock.advance(Duration::from_secs(1200));
    get(vec![("suite_id", SUITE.into()), ("pre_auth_code", c()), ("redirect_uri", r())])
        .await
        .assert_refused(42007);
    w.submit("/3rdapp/install", &page, &[("corp_id", "wwemucorp000001")]).await.assert_refused(42007);
}

const CORP: &str = "wwoauthcorp01";
const APP_CB: &str = "https://app.example.com/oauth";

#[tokio::test]
async fn snsapi_base_with_a_preset_member_redirects_at_once_with_a_code_without_ticket() {
    let w = world(|config| config.oauth_user = Some("wangwu".into())).await;
    w.install(CORP).await;
    let link = [
        ("appid", SUITE),
        ("redirect_uri", APP_CB),
        ("response_type", "code"),
        ("scope", "snsapi_base"),
        ("state", "s1"),
    ];
    let done = w.get("/connect/oauth2/authorize", &link).await;
    assert_eq!(done.status, 302, "{}", done.html);
    assert_eq!(done.redirect_param("state").as_deref(), Some("s1"));
    let code = done.redirect_param("code").expect("a code");
    let suite = w.app.suite(SUITE);
    let oauth = suite.oauth();
    let user = oauth.get_user_info_3rd(code.clone()).await.expect("user info");
    assert_eq!((user.corpid.as_deref(), user.userid.as_deref()), (Some(CORP), Some("wangwu")));
    assert!(user.user_ticket.is_none(), "snsapi_base gives no user_ticket");
    let again = oauth.get_user_info_3rd(code).await.unwrap_err();
    assert_eq!(again.code(), Some(40029), "{again:?}");
}

#[tokio::test]
async fn snsapi_privateinfo_asks_consent_and_its_code_reads_the_member() {
    let w = world(|_| {}).await;
    w.install(CORP).await;
    let link = [
        ("appid", SUITE),
        ("redirect_uri", APP_CB),
        ("response_type", "code"),
        ("scope", "snsapi_privateinfo"),
        ("state", "s2"),
    ];
    let page = w.get("/connect/oauth2/authorize", &link).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("<form id=\"form\" method=\"post\" action=\"/connect/oauth2/authorize\">"));
    assert!(page.html.contains("<select name=\"userid\""));
    assert!(page.html.contains(&format!("<option value=\"{CORP}\"")));
    let done = w.submit("/connect/oauth2/authorize", &page, &[("corp_id", CORP), ("userid", "lisi")]).await;
    assert_eq!(done.status, 302, "{}", done.html);
    assert_eq!(done.redirect_param("state").as_deref(), Some("s2"));
    let code = done.redirect_param("code").expect("a code");
    let suite = w.app.suite(SUITE);
    let oauth = suite.oauth();
    let user = oauth.get_user_info_3rd(code).await.expect("user info");
    assert_eq!((user.corpid.as_deref(), user.userid.as_deref()), (Some(CORP), Some("lisi")));
    let ticket = user.user_ticket.expect("privateinfo gives a user_ticket");
    let detail = oauth.get_user_detail_3rd(ticket).await.expect("detail");
    assert_eq!(detail.userid.as_deref(), Some("lisi"));

    // snsapi_base without a preset member: a page, and its code has no ticket.
    let base =
        [("appid", SUITE), ("redirect_uri", APP_CB), ("response_type", "code"), ("scope", "snsapi_base")];
    let page = w.get("/connect/oauth2/authorize", &base).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let done =
        w.submit("/connect/oauth2/authorize", &page, &[("corp_id", CORP), ("userid", "zhangsan")]).await;
    let code = done.redirect_param("code").expect("a code");
    assert!(done.redirect_param("state").is_none());
    let user = oauth.get_user_info_3rd(code).await.expect("user info");
    assert_eq!(user.userid.as_deref(), Some("zhangsan"));
    assert!(user.user_ticket.is_none());

    // A forged form: a corp that never authorized, a member not offered.
    w.submit("/connect/oauth2/authorize", &page, &[("corp_id", "wwother01"), ("userid", "lisi")])
        .await
        .assert_refused(40013);
    w.submit("/connect/oauth2/authorize", &page, &[("corp_id", CORP), ("userid", "nobody")])
        .await
        .assert_refused(60111);
}

#[tokio::test]
async fn bad_oauth_links_get_the_error_page() {
    let w = world(|config| config.suites[0].redirect_domain = Some("example.com".into())).await;
    w.install(CORP).await;
    let link = |overrides: &[(&'static str, &'static str)]| {
        let mut params = vec![
            ("appid", SUITE),
            ("redirect_uri", APP_CB),
            ("response_type", "code"),
            ("scope", "snsapi_base"),
        ];
        for (key, value) in overrides {
            params.retain(|(k, _)| k != key);
            if !value.is_empty() {
                params.push((key, value));
            }
        }
        params
    };
    let cases: &[(&[(&str, &str)], i64)] = &[
        (&[("scope", "snsapi_userinfo")], 40035),
        (&[("response_type", "token")], 40035),
        (&[("appid", "wwnosuchapp")], 40013),
        (&[("appid", "")], 40013),
        (&[("redirect_uri", "https://evil.net/cb")], 50001),
        (&[("redirect_uri", "")], 41010),
        (&[("state", "not valid!")], 40035),
        (&[("agentid", "12x")], 40056),
    ];
    for (overrides, code) in cases {
        let page = w.get("/connect/oauth2/authorize", &link(overrides)).await;
        page.assert_refused(*code);
    }
    // A suite no corp authorized yet.
    let page = w.get("/connect/oauth2/authorize", &link(&[("appid", CUSTOMIZED)])).await;
    page.assert_refused(48004);
}

#[tokio::test]
async fn a_corp_id_appid_is_the_corps_customized_app() {
    let w = world(|_| {}).await;
    // CORP authorizes the 代开发 template through the control API.
    w.emulator.authorize_corp(CUSTOMIZED, CORP).await.expect("authorized");
    w.server.drain().await;
    let link = [
        ("appid", CORP),
        ("redirect_uri", APP_CB),
        ("response_type", "code"),
        ("scope", "snsapi_privateinfo"),
    ];
    w.get("/connect/oauth2/authorize", &link).await.assert_refused(41011);
    let mut with_agent = link.to_vec();
    with_agent.push(("agentid", "1000002"));
    let page = w.get("/connect/oauth2/authorize", &with_agent).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let done = w.submit("/connect/oauth2/authorize", &page, &[("corp_id", CORP), ("userid", "lisi")]).await;
    let code = done.redirect_param("code").expect("a code");
    let corp = w.app.corp(CUSTOMIZED, CORP);
    let user = corp
        .oauth()
        .get_user_info_with(wecom_openwork::api::oauth::types::GetUserInfoQuery::new(code))
        .await
        .expect("the corp token of the 代开发 app reads the code");
    assert_eq!(user.userid.as_deref(), Some("lisi"));
}

const LOGIN_CB: &str = "https://provider.example.com/login";

#[tokio::test]
async fn web_login_hands_a_code_that_get_login_info_reads_once() {
    let w = world(|config| config.login_redirect_domain = Some("provider.example.com".into())).await;
    let link = [("appid", PROVIDER), ("redirect_uri", LOGIN_CB), ("state", "L1"), ("usertype", "admin")];
    let page = w.get("/wwopen/sso/3rd_qrConnect", &link).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("<form id=\"form\" method=\"post\" action=\"/wwopen/sso/3rd_qrConnect\">"));
    assert!(page.html.contains("name=\"as_admin\""));
    // An admin link refuses a member's login.
    w.submit("/wwopen/sso/3rd_qrConnect", &page, &[("new_corp_id", "wwlogin01"), ("userid", "lisi")])
        .await
        .assert_refused(40035);
    let done = w
        .submit(
            "/wwopen/sso/3rd_qrConnect",
            &page,
            &[("new_corp_id", "wwlogin01"), ("userid", "lisi"), ("as_admin", "1")],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.html);
    assert_eq!(done.redirect_param("state").as_deref(), Some("L1"));
    let code = done.redirect_param("auth_code").expect("an auth code");
    let provider = w.app.provider();
    let info = provider.get_login_info(code.clone()).await.expect("login info");
    assert_eq!(info.usertype, Some(1));
    assert_eq!(info.user_info.and_then(|u| u.userid).as_deref(), Some("lisi"));
    assert_eq!(info.corp_info.and_then(|c| c.corpid).as_deref(), Some("wwlogin01"));
    let again = provider.get_login_info(code).await.unwrap_err();
    assert_eq!(again.code(), Some(40029), "{again:?}");

    // A member on a member link: usertype 5.
    let member_link = [("appid", PROVIDER), ("redirect_uri", LOGIN_CB)];
    let page = w.get("/wwopen/sso/3rd_qrConnect", &member_link).await;
    let done = w
        .submit("/wwopen/sso/3rd_qrConnect", &page, &[("corp_id", "wwemucorp000001"), ("userid", "zhangsan")])
        .await;
    let code = done.redirect_param("auth_code").expect("an auth code");
    let info = provider.get_login_info(code.clone()).await.expect("login info");
    assert_eq!(info.usertype, Some(5));
    assert!(info.agent.is_empty() && info.auth_info.is_none(), "admins only: {info:?}");
    // Expired after 5 minutes; a made-up code is refused.
    let done = w
        .submit("/wwopen/sso/3rd_qrConnect", &page, &[("corp_id", "wwemucorp000001"), ("userid", "zhangsan")])
        .await;
    let late = done.redirect_param("auth_code").expect("an auth code");
    w.clock.advance(wecom_openwork::emulator::LOGIN_CODE_LIFETIME);
    let expired = provider.get_login_info(late).await.unwrap_err();
    assert_eq!(expired.code(), Some(40029), "{expired:?}");
    let made_up = provider.get_login_info("made-up").await.unwrap_err();
    assert_eq!(made_up.code(), Some(40029), "{made_up:?}");

    // Bad links.
    w.get("/wwopen/sso/3rd_qrConnect", &[("appid", "wwsomeoneelse"), ("redirect_uri", LOGIN_CB)])
        .await
        .assert_refused(40013);
    w.get(
        "/wwopen/sso/3rd_qrConnect",
        &[("appid", PROVIDER), ("redirect_uri", LOGIN_CB), ("usertype", "root")],
    )
    .await
    .assert_refused(40035);
    w.get("/wwopen/sso/3rd_qrConnect", &[("appid", PROVIDER), ("redirect_uri", "https://evil.net/")])
        .await
        .assert_refused(50001);
    w.post(
        "/wwopen/sso/3rd_qrConnect",
        &[("appid", "wwsomeoneelse"), ("redirect_uri", LOGIN_CB), ("userid", "lisi")],
    )
    .await
    .assert_refused(40013);
}

#[tokio::test]
async fn values_written_into_pages_are_escaped() {
    let w = world(|_| {}).await;
    let code = w.pre_auth_code(false).await;
    let redirect = "https://app.example.com/cb?a=\"><script>alert(1)</script>";
    let page = w
        .get("/3rdapp/install", &[("suite_id", SUITE), ("pre_auth_code", &code), ("redirect_uri", redirect)])
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(!page.html.contains("<script>"), "{}", page.html);
    assert!(page.hidden().iter().any(|(k, v)| k == "redirect_uri" && v == redirect));
}

/// WeCom's newer web login, reached through the SDK's own `web_login_url`
/// on the emulator: the code names the member once, for `getuserinfo3rd`,
/// and brings no user ticket.
#[tokio::test]
async fn the_newer_web_login_hands_a_code_that_getuserinfo3rd_reads_once() {
    use wecom_openwork::urls::{BrowserUrls, WebLogin};
    let w = world(|_| {}).await;
    w.install("wwssocorp01").await;
    let urls = BrowserUrls::at(&w.emulator.base_uri()).expect("a base");
    let login = WebLogin::ServiceApp { suite_id: SUITE.into() };
    let link = urls.web_login_url(&login, LOGIN_CB, Some("w1"), None).expect("a link");
    let page = read(w.browser.get(&link).send().await.expect("the page")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let done = w.submit("/wwlogin/sso/login", &page, &[("corp_id", "wwssocorp01"), ("userid", "lisi")]).await;
    assert_eq!(done.status, 302, "{}", done.html);
    assert!(done.location.as_deref().is_some_and(|l| l.starts_with(LOGIN_CB)), "{:?}", done.location);
    assert_eq!(done.redirect_param("state").as_deref(), Some("w1"));
    let code = done.redirect_param("code").expect("a code");
    let oauth = w.app.suite(SUITE);
    let oauth = oauth.oauth();
    let user = oauth.get_user_info_3rd(code.clone()).await.expect("read");
    assert_eq!((user.corpid.as_deref(), user.userid.as_deref()), (Some("wwssocorp01"), Some("lisi")));
    assert!(user.user_ticket.is_none(), "a login code brings no user ticket");
    let again = oauth.get_user_info_3rd(code).await.unwrap_err();
    assert_eq!(again.code(), Some(40029));

    let sso = "/wwlogin/sso/login";
    w.get(sso, &[("appid", SUITE), ("redirect_uri", LOGIN_CB)]).await.assert_refused(40035);
    w.get(sso, &[("login_type", "ServiceApp"), ("appid", "wwnobody"), ("redirect_uri", LOGIN_CB)])
        .await
        .assert_refused(40013);
    w.get(sso, &[("login_type", "CorpApp"), ("appid", SUITE), ("agentid", "1"), ("redirect_uri", LOGIN_CB)])
        .await
        .assert_refused(40013);
    w.get(sso, &[("login_type", "CorpApp"), ("appid", "wwssocorp01"), ("redirect_uri", LOGIN_CB)])
        .await
        .assert_refused(41011);
    w.get(sso, &[("login_type", "ServiceApp"), ("appid", SUITE)]).await.assert_refused(41010);
    w.post(
        sso,
        &[
            ("login_type", "ServiceApp"),
            ("appid", SUITE),
            ("redirect_uri", LOGIN_CB),
            ("corp_id", "wwnotoffered"),
            ("userid", "lisi"),
        ],
    )
    .await
    .assert_refused(40013);
}

/// Whatever arrives (no parameters, unknown ones, bad percent-encoding,
/// bytes that are not UTF-8, a huge value, a body of another kind or over
/// the limit), every page answers its error page: never a redirect, never a
/// server error, and the emulator keeps answering.
#[tokio::test]
async fn garbage_to_every_page_gets_the_error_page() {
    let w = world(|_| {}).await;
    let huge = "x".repeat(16 * 1024);
    let queries = [
        String::new(),
        "unknown=1".to_owned(),
        "suite_id=%zz&appid=%zz&redirect_uri=%zz".to_owned(),
        "suite_id=%ff%fe&appid=%ff&redirect_uri=%c3".to_owned(),
        format!("suite_id={SUITE}&appid={SUITE}&pre_auth_code={huge}&redirect_uri=https://a.b/"),
        format!("suite_id={SUITE}&suite_id={SUITE}&appid=&redirect_uri=javascript:alert(1)"),
        "&&&==&=&a".to_owned(),
    ];
    let bodies: [(&str, Vec<u8>); 5] = [
        ("application/x-www-form-urlencoded", Vec::new()),
        ("application/x-www-form-urlencoded", b"suite_id=%ff&appid=\xff\xfe".to_vec()),
        ("application/json", br#"{"suite_id": "x"}"#.to_vec()),
        ("application/x-www-form-urlencoded", format!("appid={}", "y".repeat(100 * 1024)).into_bytes()),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n--x--".to_vec()),
    ];
    for path in
        ["/3rdapp/install", "/connect/oauth2/authorize", "/wwopen/sso/3rd_qrConnect", "/wwlogin/sso/login"]
    {
        for query in &queries {
            let url = format!("{}{path}?{query}", w.emulator.base_uri());
            let page = read(w.browser.get(url).send().await.expect("answered")).await;
            assert_eq!((page.status, page.location.as_deref()), (400, None), "GET {path}?{query:.80}");
            assert!(page.errcode().is_some(), "GET {path}?{query:.80}: {}", page.html);
        }
        for (kind, body) in &bodies {
            let url = format!("{}{path}", w.emulator.base_uri());
            let sent = w.browser.post(url).header("content-type", *kind).body(body.clone()).send().await;
            let page = read(sent.expect("answered")).await;
            assert_eq!((page.status, page.location.as_deref()), (400, None), "POST {path} {kind}");
            assert!(page.errcode().is_some(), "POST {path} {kind}: {}", page.html);
        }
    }
    // Still serving: a good link shows its page.
    let code = w.pre_auth_code(false).await;
    let page = w
        .get("/3rdapp/install", &[("suite_id", SUITE), ("pre_auth_code", &code), ("redirect_uri", REDIRECT)])
        .await;
    assert_eq!(page.status, 200);
}
