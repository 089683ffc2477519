//! Web OAuth of a suite's and a corp's users: the link (to the configured
//! OAuth page, WeCom's by default), and a code into its user, the way the
//! suite's app kind does it.

use crate::api::oauth::types::{UserDetail, UserDetail3rd, UserInfo, UserInfo3rd};
use crate::error::Error;
use crate::ids::AppKind;
use crate::urls::OAuthScope;

use crate::api::oauth::{CorpOauth, SuiteOauth};
/// Who an OAuth code belongs to, as the endpoint the suite's kind uses
/// answered.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CorpOAuthUser {
    /// A third-party suite's answer (`get_user_info_3rd`, suite token).
    ThirdParty(UserInfo3rd),
    /// A 代开发 suite's answer (`get_user_info`, corp token).
    Customized(UserInfo),
}

impl CorpOAuthUser {
    /// The member's userid, when the user is a member of the corp.
    pub fn userid(&self) -> Option<&str> {
        match self {
            CorpOAuthUser::ThirdParty(u) => u.userid.as_deref(),
            CorpOAuthUser::Customized(u) => u.userid.as_deref(),
        }
    }

    /// The ticket for `corp.oauth().user_detail`, when the scope and the
    /// app's visible range give one.
    pub fn user_ticket(&self) -> Option<&str> {
        match self {
            CorpOAuthUser::ThirdParty(u) => u.user_ticket.as_deref(),
            CorpOAuthUser::Customized(u) => u.user_ticket.as_deref(),
        }
    }

    /// The identifier of a user who is not a member.
    pub fn openid(&self) -> Option<&str> {
        match self {
            CorpOAuthUser::ThirdParty(u) => u.openid.as_deref(),
            CorpOAuthUser::Customized(u) => u.openid.as_deref(),
        }
    }
}

/// A member's details from a `user_ticket`, as the endpoint the suite's
/// kind uses answered.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CorpOAuthUserDetail {
    /// A third-party suite's answer (`get_user_detail_3rd`, suite token).
    ThirdParty(UserDetail3rd),
    /// A 代开发 suite's answer (`get_user_detail`, corp token).
    Customized(UserDetail),
}

impl CorpOAuthUserDetail {
    /// The member's userid.
    pub fn userid(&self) -> Option<&str> {
        match self {
            CorpOAuthUserDetail::ThirdParty(d) => d.userid.as_deref(),
            CorpOAuthUserDetail::Customized(d) => d.userid.as_deref(),
        }
    }
}

/// The runtime's part of `suite.oauth()`: the link, and a code into its
/// user. This is third-party OAuth (`appid` = the suite id); a 代开发 suite
/// may not use it (its calls fail with [`Error::AppKindNotAllowed`]) and
/// goes through `corp.oauth()`.
impl SuiteOauth<'_> {
    /// The authorization link (`appid` = the suite id).
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scope: OAuthScope,
        state: Option<&str>,
    ) -> Result<String, Error> {
        let urls = self.handle().client().browser_urls();
        urls.oauth_authorize_url(self.handle().suite_id().as_str(), redirect_uri, scope, state, None)
    }

    /// The user a redirect's `code` belongs to (`get_user_info_3rd`).
    pub async fn user_from_code(&self, code: &str) -> Result<UserInfo3rd, Error> {
        self.get_user_info_3rd(code).await
    }

    /// The user's details from a `user_ticket` (`get_user_detail_3rd`).
    pub async fn user_detail(&self, user_ticket: &str) -> Result<UserDetail3rd, Error> {
        self.get_user_detail_3rd(user_ticket).await
    }
}

/// The runtime's part of `corp.oauth()`: the link, and a code into its
/// user the way the suite's kind does it. A third-party suite resolves codes
/// with `get_user_info_3rd` / `get_user_detail_3rd` and its suite token; a
/// 代开发 suite with `get_user_info` / `get_user_detail` and the corp token.
/// A suite that is not configured is taken for a third-party one.
impl CorpOauth<'_> {
    /// The suite's kind, which decides the endpoints used.
    pub fn kind(&self) -> AppKind {
        let corp = self.handle();
        corp.client().app_kind_of(corp.suite_id()).unwrap_or_default()
    }

    /// The authorization link (`appid` = the corp id; `agentid` is required
    /// for [`OAuthScope::PrivateInfo`]).
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scope: OAuthScope,
        state: Option<&str>,
        agentid: Option<i64>,
    ) -> Result<String, Error> {
        let urls = self.handle().client().browser_urls();
        urls.oauth_authorize_url(self.handle().corp_id().as_str(), redirect_uri, scope, state, agentid)
    }

    /// The user a redirect's `code` belongs to: `get_user_info_3rd` (suite
    /// token) for a third-party suite, `get_user_info` (corp token) for a
    /// 代开发 one. The code is single use: the call is never repeated.
    pub async fn user_from_code(&self, code: &str) -> Result<CorpOAuthUser, Error> {
        match self.kind() {
            AppKind::ThirdParty => {
                let suite = self.handle().suite();
                suite.oauth().get_user_info_3rd(code).await.map(CorpOAuthUser::ThirdParty)
            }
            AppKind::Customized => self.get_user_info(code).await.map(CorpOAuthUser::Customized),
        }
    }

    /// The user's details from a `user_ticket`: `get_user_detail_3rd` (suite
    /// token) for a third-party suite, `get_user_detail` (corp token) for a
    /// 代开发 one.
    pub async fn user_detail(&self, user_ticket: &str) -> Result<CorpOAuthUserDetail, Error> {
        match self.kind() {
            AppKind::ThirdParty => {
                let suite = self.handle().suite();
                suite.oauth().get_user_detail_3rd(user_ticket).await.map(CorpOAuthUserDetail::ThirdParty)
            }
            AppKind::Customized => {
                self.get_user_detail(user_ticket).await.map(CorpOAuthUserDetail::Customized)
            }
        }
    }
}
