//! Browser URLs an ISV sends users to: app install, OAuth authorization, web
//! login. Pure functions: no HTTP, no tokens.
//!
//! Each page has a base URL, WeCom's by default. [`BrowserUrls`] holds the
//! four of them, so that the same application code can send its users to the
//! emulator's pages in development (`[browser] base = "http://127.0.0.1:8080"`
//! in the configuration; the handles' `install_url` and `authorize_url` use it).
//! The free functions build WeCom's own links.
//!
//! ```
//! use wecom_openwork::urls::{oauth_authorize_url, BrowserUrls, OAuthScope};
//!
//! let url = oauth_authorize_url("ww4asffe9xxx4c0f4c", "https://app.example.com/cb?x=1", OAuthScope::Base, Some("s1"), None)?;
//! assert_eq!(url, "https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww4asffe9xxx4c0f4c\
//!     &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&response_type=code&scope=snsapi_base\
//!     &state=s1#wechat_redirect");
//!
//! let local = BrowserUrls::at("http://127.0.0.1:8080")?;
//! let url = local.oauth_authorize_url("ww4asffe9xxx4c0f4c", "http://127.0.0.1:3000/cb", OAuthScope::Base, None, None)?;
//! assert!(url.starts_with("http://127.0.0.1:8080/connect/oauth2/authorize?appid=ww4asffe9xxx4c0f4c&"));
//! # Ok::<(), wecom_openwork::Error>(())
//! ```

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::Error;
use crate::ids::{CorpId, SuiteId};

/// Where an admin installs (authorizes) a suite.
pub const INSTALL_BASE: &str = "https://open.work.weixin.qq.com/3rdapp/install";
/// WeCom's OAuth 2 authorization page.
pub const OAUTH_AUTHORIZE_BASE: &str = "https://open.weixin.qq.com/connect/oauth2/authorize";
/// WeCom's web (QR-code) login page.
pub const WEB_LOGIN_BASE: &str = "https://login.work.weixin.qq.com/wwlogin/sso/login";
/// WeCom's older provider login page (服务商网页登录), whose `auth_code`
/// goes to `get_login_info`.
pub const PROVIDER_LOGIN_BASE: &str = "https://open.work.weixin.qq.com/wwopen/sso/3rd_qrConnect";

/// Where the browser pages are: WeCom's ([`BrowserUrls::default`]) or
/// another host's, such as the emulator's ([`BrowserUrls::at`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserUrls {
    /// The install (authorization) page.
    pub install: String,
    /// The OAuth 2 authorization page.
    pub oauth_authorize: String,
    /// The web (QR-code) login page.
    pub web_login: String,
    /// The provider login page of `get_login_info`.
    pub provider_login: String,
}

impl Default for BrowserUrls {
    fn default() -> Self {
        BrowserUrls {
            install: INSTALL_BASE.to_owned(),
            oauth_authorize: OAUTH_AUTHORIZE_BASE.to_owned(),
            web_login: WEB_LOGIN_BASE.to_owned(),
            provider_login: PROVIDER_LOGIN_BASE.to_owned(),
        }
    }
}

/// The path of a page URL (`https://host/path` → `/path`).
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("", |i| &rest[i..])
}

impl BrowserUrls {
    /// Every page on one host, at WeCom's paths: what the emulator serves.
    /// `base` is an absolute http(s) URL such as `http://127.0.0.1:8080`.
    pub fn at(base: &str) -> Result<BrowserUrls, Error> {
        check_page_url("base", base)?;
        let base = base.trim_end_matches('/');
        let on_base = |wecom: &str| format!("{base}{}", path_of(wecom));
        Ok(BrowserUrls {
            install: on_base(INSTALL_BASE),
            oauth_authorize: on_base(OAUTH_AUTHORIZE_BASE),
            web_login: on_base(WEB_LOGIN_BASE),
            provider_login: on_base(PROVIDER_LOGIN_BASE),
        })
    }

    /// Checks that every page is an absolute http(s) URL without a query or
    /// fragment; the error names the page.
    pub fn validate(&self) -> Result<(), Error> {
        check_page_url("install", &self.install)?;
        check_page_url("oauth_authorize", &self.oauth_authorize)?;
        check_page_url("web_login", &self.web_login)?;
        check_page_url("provider_login", &self.provider_login)
    }
}

/// A page's base: absolute http(s), with a host, no query or fragment.
fn check_page_url(name: &str, url: &str) -> Result<(), Error> {
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let ok = host.is_some_and(|h| !h.is_empty() && !h.starts_with('/')) && !url.contains(['?', '#', ' ']);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "{name}: a page's URL must be absolute http(s) with no query, got {url:?}"
        )))
    }
}

static WECOM: std::sync::LazyLock<BrowserUrls> = std::sync::LazyLock::new(BrowserUrls::default);

/// Everything but RFC 3986's unreserved characters is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes one query component (a redirect URI, a state).
pub fn encode(component: &str) -> String {
    utf8_percent_encode(component, COMPONENT).to_string()
}

/// Decodes a query string (`a=1&b=x%20y`, `+` as space) into its pairs, in order.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        // Most components need no decoding (a signature, a timestamp).
        if !s.contains(['%', '+']) {
            return s.to_owned();
        }
        percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
    };
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// WeCom's rule for `state`: letters and digits, at most 128 bytes.
fn check_state(state: Option<&str>) -> Result<(), Error> {
    match state {
        Some(s) if s.len() > 128 => {
            Err(Error::InvalidRequest(format!("state is {} bytes; WeCom accepts at most 128", s.len())))
        }
        Some(s) if !s.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Err(Error::InvalidRequest("state may only hold the letters a-z, A-Z and the digits 0-9".into()))
        }
        _ => Ok(()),
    }
}

fn check_redirect(redirect_uri: &str) -> Result<(), Error> {
    if redirect_uri.starts_with("https://") || redirect_uri.starts_with("http://") {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "redirect_uri must be an absolute http(s) URL, got {redirect_uri:?}"
        )))
    }
}

fn check_nonempty(name: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        Err(Error::InvalidRequest(format!("{name} must not be empty")))
    } else {
        Ok(())
    }
}

/// Builds a URL from a base and `(name, value)` pairs, encoding every value.
fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = String::from(base);
    for (i, (name, value)) in params.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(name);
        url.push('=');
        url.push_str(&encode(value));
    }
    url
}

/// The install (authorization) page of a suite on WeCom, for an admin to
/// open after `get_pre_auth_code` and `set_session_info`; see
/// [`BrowserUrls::install_url`].
pub fn install_url(
    suite_id: &SuiteId,
    pre_auth_code: &str,
    redirect_uri: &str,
    state: Option<&str>,
) -> Result<String, Error> {
    WECOM.install_url(suite_id, pre_auth_code, redirect_uri, state)
}

impl BrowserUrls {
    /// The install (authorization) page of a suite, for an admin to open
    /// after `get_pre_auth_code` and `set_session_info`. WeCom redirects to
    /// `redirect_uri?auth_code=…&expires_in=600&state=…`.
    ///
    /// `state` must be letters and digits, at most 128 bytes.
    pub fn install_url(
        &self,
        suite_id: &SuiteId,
        pre_auth_code: &str,
        redirect_uri: &str,
        state: Option<&str>,
    ) -> Result<String, Error> {
        check_nonempty("suite_id", suite_id.as_str())?;
        check_nonempty("pre_auth_code", pre_auth_code)?;
        check_redirect(redirect_uri)?;
        check_state(state)?;
        let mut params = vec![
            ("suite_id", suite_id.as_str()),
            ("pre_auth_code", pre_auth_code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(state) = state {
            params.push(("state", state));
        }
        Ok(with_query(&self.install, &params))
    }
}

/// OAuth scope of an authorization link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OAuthScope {
    /// `snsapi_base`: silent; yields the user's identity.
    Base,
    /// `snsapi_privateinfo`: asks the user's consent; yields a `user_ticket`
    /// for `get_user_detail_3rd` (needs 成员敏感信息授权).
    PrivateInfo,
}

impl OAuthScope {
    /// The scope as WeCom writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthScope::Base => "snsapi_base",
            OAuthScope::PrivateInfo => "snsapi_privateinfo",
        }
    }
}

/// WeCom's OAuth authorization link; see [`BrowserUrls::oauth_authorize_url`].
pub fn oauth_authorize_url(
    appid: &str,
    redirect_uri: &str,
    scope: OAuthScope,
    state: Option<&str>,
    agentid: Option<i64>,
) -> Result<String, Error> {
    WECOM.oauth_authorize_url(appid, redirect_uri, scope, state, agentid)
}

impl BrowserUrls {
    /// The OAuth authorization link a user opens inside WeCom. For a
    /// third-party app `appid` is the suite id and `agentid` is `None`; for
    /// a corp's own or 代开发 app `appid` is the corp id and `agentid` the
    /// app's (required for [`OAuthScope::PrivateInfo`]). WeCom redirects to
    /// `redirect_uri?code=CODE&state=STATE`.
    pub fn oauth_authorize_url(
        &self,
        appid: &str,
        redirect_uri: &str,
        scope: OAuthScope,
        state: Option<&str>,
        agentid: Option<i64>,
    ) -> Result<String, Error> {
        check_nonempty("appid", appid)?;
        check_redirect(redirect_uri)?;
        check_state(state)?;
        let agentid = agentid.map(|a| a.to_string());
        let mut params = vec![
            ("appid", appid),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", scope.as_str()),
        ];
        if let Some(state) = state {
            params.push(("state", state));
        }
        if let Some(agentid) = agentid.as_deref() {
            params.push(("agentid", agentid));
        }
        Ok(with_query(&self.oauth_authorize, &params) + "#wechat_redirect")
    }
}

/// Who a web login is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebLogin {
    /// `ServiceApp`: log in to the provider's service with a login-authorization suite.
    ServiceApp {
        /// The suite id of the login authorization.
        suite_id: SuiteId,
    },
    /// `CorpApp`: log in to one corp's app.
    CorpApp {
        /// The corp id.
        corp_id: CorpId,
        /// The app's agent id.
        agentid: i64,
    },
}

/// Language of the web login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginLang {
    /// Chinese (`zh`).
    Zh,
    /// English (`en`).
    En,
}

/// WeCom's web (QR-code) login page; see [`BrowserUrls::web_login_url`].
pub fn web_login_url(
    login: &WebLogin,
    redirect_uri: &str,
    state: Option<&str>,
    lang: Option<LoginLang>,
) -> Result<String, Error> {
    WECOM.web_login_url(login, redirect_uri, state, lang)
}

/// Who logs in on the provider login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LoginUserType {
    /// `member`: any member of a corp (the default).
    #[default]
    Member,
    /// `admin`: a corp's admin.
    Admin,
}

impl LoginUserType {
    /// The type as WeCom writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginUserType::Member => "member",
            LoginUserType::Admin => "admin",
        }
    }
}

/// WeCom's provider login page; see [`BrowserUrls::provider_login_url`].
pub fn provider_login_url(
    provider_corp_id: &CorpId,
    redirect_uri: &str,
    state: Option<&str>,
    usertype: LoginUserType,
) -> Result<String, Error> {
    WECOM.provider_login_url(provider_corp_id, redirect_uri, state, usertype)
}

impl BrowserUrls {
    /// The web (QR-code) login page. The code WeCom redirects back with
    /// goes to `get_user_info_3rd` of that suite (ServiceApp) or the corp's
    /// `get_user_info` (CorpApp).
    pub fn web_login_url(
        &self,
        login: &WebLogin,
        redirect_uri: &str,
        state: Option<&str>,
        lang: Option<LoginLang>,
    ) -> Result<String, Error> {
        check_redirect(redirect_uri)?;
        check_state(state)?;
        let agentid;
        let mut params = match login {
            WebLogin::ServiceApp { suite_id } => {
                check_nonempty("suite_id", suite_id.as_str())?;
                vec![("login_type", "ServiceApp"), ("appid", suite_id.as_str())]
            }
            WebLogin::CorpApp { corp_id, agentid: id } => {
                check_nonempty("corp_id", corp_id.as_str())?;
                agentid = id.to_string();
                vec![("login_type", "CorpApp"), ("appid", corp_id.as_str()), ("agentid", agentid.as_str())]
            }
        };
        params.push(("redirect_uri", redirect_uri));
        if let Some(state) = state {
            params.push(("state", state));
        }
        if let Some(lang) = lang {
            params.push(("lang", if lang == LoginLang::Zh { "zh" } else { "en" }));
        }
        Ok(with_query(&self.web_login, &params))
    }

    /// The provider login page (`3rd_qrConnect`, `appid` = the provider's
    /// corp id). WeCom redirects to `redirect_uri?auth_code=…&state=…`; the
    /// code goes to the provider's `get_login_info`, once, within 5 minutes.
    pub fn provider_login_url(
        &self,
        provider_corp_id: &CorpId,
        redirect_uri: &str,
        state: Option<&str>,
        usertype: LoginUserType,
    ) -> Result<String, Error> {
        check_nonempty("provider_corp_id", provider_corp_id.as_str())?;
        check_redirect(redirect_uri)?;
        check_state(state)?;
        let mut params = vec![("appid", provider_corp_id.as_str()), ("redirect_uri", redirect_uri)];
        if let Some(state) = state {
            params.push(("state", state));
        }
        params.push(("usertype", usertype.as_str()));
        Ok(with_query(&self.provider_login, &params))
    }
}
