//! The links an ISV sends browsers to point wherever the configuration
//! says: WeCom's pages by default, the emulator's with `[browser] base`.

mod common;

use wecom_openwork::config::BrowserConfig;
use wecom_openwork::server::InstallRedirect;
use wecom_openwork::urls::{BrowserUrls, LoginUserType, OAuthScope};
use wecom_openwork::{Application, Error};

use common::{config, SUITE};

fn app_with(browser: BrowserConfig) -> Result<Application, Error> {
    let mut config = config("http://127.0.0.1:9");
    config.browser = browser;
    Application::new(config)
}

#[test]
fn by_default_the_links_go_to_wecom() {
    let app = app_with(BrowserConfig::default()).expect("valid");
    let url = app.suite(SUITE).install_url("PRE", "https://isv.example.com/done", Some("s1")).expect("url");
    let (page, state) = url.split_once("&state=").expect("a state");
    assert_eq!(
        page,
        "https://open.work.weixin.qq.com/3rdapp/install?suite_id=wwsuite0001&pre_auth_code=PRE\
         &redirect_uri=https%3A%2F%2Fisv.example.com%2Fdone"
    );
    // The state is the ISV's own, signed with the suite secret.
    let secret = app.config().suites[0].suite_secret.expose().to_owned();
    let own =
        wecom_openwork::crypto::install_state::verify(&secret, SUITE, state, std::time::SystemTime::now());
    assert_eq!(own.as_deref(), Some("s1"), "{state}");
    let login =
        app.provider_login_url("https://isv.example.com/login", None, LoginUserType::Admin).expect("url");
    assert_eq!(
        login,
        "https://open.work.weixin.qq.com/wwopen/sso/3rd_qrConnect?appid=wwprovider0001\
         &redirect_uri=https%3A%2F%2Fisv.example.com%2Flogin&usertype=admin"
    );
}

#[test]
fn a_base_moves_every_page_and_a_page_of_its_own_wins() {
    let browser = BrowserConfig {
        base: Some("http://127.0.0.1:8080/".into()),
        web_login: Some("http://login.test/sso".into()),
        ..BrowserConfig::default()
    };
    let app = app_with(browser).expect("valid");
    let suite = app.suite(SUITE);
    let install = suite.install_url("PRE", "http://127.0.0.1:3000/done", None).expect("url");
    assert!(install.starts_with("http://127.0.0.1:8080/3rdapp/install?suite_id=wwsuite0001&"), "{install}");
    let oauth =
        suite.oauth().authorize_url("http://127.0.0.1:3000/cb", OAuthScope::PrivateInfo, None).expect("url");
    assert!(
        oauth.starts_with("http://127.0.0.1:8080/connect/oauth2/authorize?appid=wwsuite0001&"),
        "{oauth}"
    );
    assert!(oauth.ends_with("&scope=snsapi_privateinfo#wechat_redirect"), "{oauth}");
    let corp = app.corp(SUITE, "wwcorp0001");
    let corp_oauth =
        corp.oauth().authorize_url("http://127.0.0.1:3000/cb", OAuthScope::Base, None, Some(7)).expect("url");
    assert!(
        corp_oauth.starts_with("http://127.0.0.1:8080/connect/oauth2/authorize?appid=wwcorp0001&"),
        "{corp_oauth}"
    );
    let login =
        app.provider_login_url("http://127.0.0.1:3000/in", Some("x1"), LoginUserType::Member).expect("url");
    assert!(
        login.starts_with("http://127.0.0.1:8080/wwopen/sso/3rd_qrConnect?appid=wwprovider0001&"),
        "{login}"
    );
    let urls = app.suite(SUITE).client().browser_urls().clone();
    assert_eq!(urls.web_login, "http://login.test/sso");
    assert_eq!(
        urls,
        BrowserUrls {
            web_login: "http://login.test/sso".into(),
            ..BrowserUrls::at("http://127.0.0.1:8080").expect("ok")
        }
    );
}

#[test]
fn a_bad_page_url_is_a_configuration_error_naming_the_field() {
    for (browser, field) in [
        (BrowserConfig { base: Some("127.0.0.1:8080".into()), ..BrowserConfig::default() }, "browser.base"),
        (
            BrowserConfig { install: Some("http://x.test/i?a=1".into()), ..BrowserConfig::default() },
            "browser.install",
        ),
        (
            BrowserConfig { oauth_authorize: Some("ftp://x.test/o".into()), ..BrowserConfig::default() },
            "browser.oauth_authorize",
        ),
        (
            BrowserConfig { provider_login: Some("http://".into()), ..BrowserConfig::default() },
            "browser.provider_login",
        ),
    ] {
        match app_with(browser) {
            Err(Error::Config(message)) => assert!(message.starts_with(field), "{message}"),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn the_base_comes_from_the_environment_too() {
    let vars = [
        ("WECOM_CORP_ID", "wwprovider0001"),
        ("WECOM_PROVIDER_SECRET", "s"),
        ("WECOM_TOKEN", "t"),
        ("WECOM_AES_KEY", common::AES_KEY),
        ("WECOM_BROWSER__BASE", "http://127.0.0.1:8080"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let config = wecom_openwork::Config::from_vars("WECOM_", vars).expect("parses");
    assert_eq!(config.browser.base.as_deref(), Some("http://127.0.0.1:8080"));
}

#[test]
fn an_install_redirect_is_read_strictly() {
    let redirect = InstallRedirect::from_query("?auth_code=abc%2Bd&expires_in=600&state=s1").expect("reads");
    assert_eq!(
        (redirect.auth_code.as_str(), redirect.state.as_deref(), redirect.expires_in),
        ("abc+d", Some("s1"), Some(600))
    );
    assert!(!format!("{redirect:?}").contains("abc"), "Debug hides the code");
    for bad in [
        "",
        "state=s1",
        "auth_code=",
        "auth_code=x&expires_in=ten",
        &format!("auth_code={}", "x".repeat(513)),
    ] {
        assert!(matches!(InstallRedirect::from_query(bad), Err(Error::InvalidRequest(_))), "{bad:?}");
    }
}
