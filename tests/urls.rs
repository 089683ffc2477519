//! The browser URLs: parameters, order, encoding, and refusal of values WeCom rejects.

use wecom_openwork::urls::{
    install_url, oauth_authorize_url, web_login_url, LoginLang, OAuthScope, WebLogin,
};
use wecom_openwork::{CorpId, Error, SuiteId};

#[test]
fn install_url_encodes_the_redirect_once() {
    let url = install_url(
        &SuiteId::new("ww4asffe9xxx4c0f4c"),
        "PRE+CODE/=",
        "https://isv.example.com/cb?a=1&b=两",
        Some("abc123"),
    )
    .expect("valid");
    assert_eq!(
        url,
        "https://open.work.weixin.qq.com/3rdapp/install?suite_id=ww4asffe9xxx4c0f4c\
         &pre_auth_code=PRE%2BCODE%2F%3D\
         &redirect_uri=https%3A%2F%2Fisv.example.com%2Fcb%3Fa%3D1%26b%3D%E4%B8%A4&state=abc123"
    );
    let without_state =
        install_url(&SuiteId::new("ww1"), "P", "https://x.example.com/", None).expect("valid");
    assert!(!without_state.contains("state="), "{without_state}");
}

#[test]
fn oauth_url_has_the_scope_state_and_fragment() {
    let url = oauth_authorize_url(
        "wwsuite",
        "https://a.example.com/o x",
        OAuthScope::PrivateInfo,
        Some("S1"),
        None,
    )
    .expect("valid");
    assert_eq!(
        url,
        "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wwsuite\
         &redirect_uri=https%3A%2F%2Fa.example.com%2Fo%20x&response_type=code&scope=snsapi_privateinfo\
         &state=S1#wechat_redirect"
    );
    let corp = oauth_authorize_url("wwcorp", "https://a.example.com/", OAuthScope::Base, None, Some(1000002))
        .expect("valid");
    assert!(corp.ends_with("&scope=snsapi_base&agentid=1000002#wechat_redirect"), "{corp}");
}

#[test]
fn web_login_urls_for_service_and_corp_apps() {
    let service = web_login_url(
        &WebLogin::ServiceApp { suite_id: SuiteId::new("wwlogin") },
        "https://a.example.com/login",
        Some("st"),
        Some(LoginLang::En),
    )
    .expect("valid");
    assert_eq!(
        service,
        "https://login.work.weixin.qq.com/wwlogin/sso/login?login_type=ServiceApp&appid=wwlogin\
         &redirect_uri=https%3A%2F%2Fa.example.com%2Flogin&state=st&lang=en"
    );
    let corp = web_login_url(
        &WebLogin::CorpApp { corp_id: CorpId::new("wwcorp"), agentid: 1000005 },
        "https://a.example.com/login",
        None,
        None,
    )
    .expect("valid");
    assert_eq!(
        corp,
        "https://login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp&appid=wwcorp&agentid=1000005\
         &redirect_uri=https%3A%2F%2Fa.example.com%2Flogin"
    );
}

#[test]
fn values_wecom_rejects_are_refused_before_the_user_sees_them() {
    let long = "a".repeat(129);
    let refused = [
        install_url(&SuiteId::new("ww1"), "P", "https://x.example.com/", Some("not ok")),
        install_url(&SuiteId::new("ww1"), "P", "https://x.example.com/", Some(&long)),
        install_url(&SuiteId::new("ww1"), "", "https://x.example.com/", None),
        install_url(&SuiteId::new("ww1"), "P", "/relative", None),
        oauth_authorize_url("", "https://x.example.com/", OAuthScope::Base, None, None),
        oauth_authorize_url("ww1", "https://x.example.com/", OAuthScope::Base, Some("a&b"), None),
    ];
    for result in refused {
        assert!(matches!(result, Err(Error::InvalidRequest(_))), "{result:?}");
    }
    let max = "a".repeat(128);
    assert!(install_url(&SuiteId::new("ww1"), "P", "https://x.example.com/", Some(&max)).is_ok());
}
