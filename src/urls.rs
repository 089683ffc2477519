//! Browser URLs an ISV sends users to: app install, OAuth authorization, web
//! login. Pure functions: no HTTP, no tokens.
//!
//! ```
//! use wecom_openwork::urls::{oauth_authorize_url, OAuthScope};
//!
//! let url = oauth_authorize_url("ww4asffe9xxx4c0f4c", "https://app.example.com/cb?x=1", OAuthScope::Base, Some("s1"), None)?;
//! assert_eq!(url, "https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww4asffe9xxx4c0f4c\
//!     &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&response_type=code&scope=snsapi_base\
//!     &state=s1#wechat_redirect");
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

/// Everything but RFC 3986's unreserved characters is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes one query component (a redirect URI, a state).
pub fn encode(component: &str) -> String {
    utf8_percent_encode(component, COMPONENT).to_string()
}

/// Decodes a query string (`a=1&b=x%20y`, `+` as space) into its pairs, in order.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    let decode =
        |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
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

/// The install (authorization) page of a suite, for an admin to open after
/// `get_pre_auth_code` and `set_session_info`. WeCom redirects to
/// `redirect_uri?auth_code=…&expires_in=600&state=…`.
///
/// `state` must be letters and digits, at most 128 bytes.
pub fn install_url(
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
    Ok(with_query(INSTALL_BASE, &params))
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

/// The OAuth authorization link a user opens inside WeCom. For a third-party
/// app `appid` is the suite id and `agentid` is `None`; for a corp's own or
/// 代开发 app `appid` is the corp id and `agentid` the app's (required for
/// [`OAuthScope::PrivateInfo`]). WeCom redirects to
/// `redirect_uri?code=CODE&state=STATE`.
pub fn oauth_authorize_url(
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
    Ok(with_query(OAUTH_AUTHORIZE_BASE, &params) + "#wechat_redirect")
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

/// The web (QR-code) login page. The code WeCom redirects back with goes to
/// `get_user_info_3rd` of that suite (ServiceApp) or the corp's
/// `get_user_info` (CorpApp).
pub fn web_login_url(
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
    Ok(with_query(WEB_LOGIN_BASE, &params))
}
