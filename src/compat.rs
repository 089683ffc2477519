//! EasyWeChat's names, for code moving from its `OpenWork` module. Opt in
//! with `use wecom_openwork::compat::EasyWeChat;`.
//!
//! Each name here is a second name for one handle method, kept with
//! EasyWeChat's argument order (corp before suite) so that a port reads
//! line by line. New code uses the handles: `app.provider()`,
//! `app.suite(suite)`, `app.corp(suite, corp)`, and the credential handles'
//! `get` / `set`.

use crate::api::authorization::types::{CorpAuthInfo, GetAuthInfoRequest};
use crate::api::oauth::types::{UserDetail3rd, UserInfo3rd};
use crate::app::{
    AccessTokenHandle, Application, Corp, CorpOAuthUser, CorpOAuthUserDetail, Suite, TicketHandle,
};
use crate::error::Error;
use crate::future::BoxFuture;
use crate::http::TokenSource;
use crate::ids::{AppKind, CorpId, SuiteId};
use crate::secret::Secret;
use crate::urls::OAuthScope;

/// EasyWeChat's `OpenWork\Application` accessors on an [`Application`].
pub trait EasyWeChat {
    /// `app.provider().access_token()`.
    #[doc(alias = "getProviderAccessToken")]
    fn provider_access_token(&self) -> AccessTokenHandle;

    /// `app.suite(suite).access_token()`.
    #[doc(alias = "getSuiteAccessToken")]
    fn suite_access_token(&self, suite_id: impl Into<SuiteId>) -> AccessTokenHandle;

    /// `app.corp(suite, corp).access_token()`, storing `permanent_code`
    /// before the first use unless the store holds a newer one.
    #[doc(alias = "getAuthorizerAccessToken")]
    fn authorizer_access_token(
        &self,
        corp_id: impl Into<CorpId>,
        permanent_code: impl Into<Secret>,
        suite_id: impl Into<SuiteId>,
    ) -> AccessTokenHandle;

    /// `app.suite(suite).ticket()`.
    #[doc(alias = "getSuiteTicket")]
    fn suite_ticket(&self, suite_id: impl Into<SuiteId>) -> TicketHandle;

    /// `app.suite(suite).get_auth_info(corp, code)`.
    #[doc(alias = "getAuthorization")]
    fn authorization(
        &self,
        corp_id: impl Into<CorpId>,
        permanent_code: impl Into<Secret>,
        suite_id: impl Into<SuiteId>,
    ) -> BoxFuture<'_, Result<CorpAuthInfo, Error>>;

    /// `app.provider().access_token().set(source)`.
    #[doc(alias = "setProviderAccessToken")]
    fn set_provider_access_token(&self, source: impl TokenSource + 'static) -> Result<(), Error>;

    /// `app.suite(suite).access_token().set(source)`.
    #[doc(alias = "setSuiteAccessToken")]
    fn set_suite_access_token(
        &self,
        suite_id: impl Into<SuiteId>,
        source: impl TokenSource + 'static,
    ) -> Result<(), Error>;

    /// `app.suite(suite).oauth()`, owned.
    #[doc(alias = "getOAuth")]
    fn oauth(&self, suite_id: impl Into<SuiteId>) -> OAuth;

    /// `app.corp(suite, corp).oauth()`, owned, in EasyWeChat's order.
    #[doc(alias = "getCorpOAuth")]
    fn corp_oauth(&self, corp_id: impl Into<CorpId>, suite_id: impl Into<SuiteId>) -> CorpOAuth;
}

impl EasyWeChat for Application {
    fn provider_access_token(&self) -> AccessTokenHandle {
        self.provider().access_token()
    }

    fn suite_access_token(&self, suite_id: impl Into<SuiteId>) -> AccessTokenHandle {
        self.suite(suite_id).access_token()
    }

    fn authorizer_access_token(
        &self,
        corp_id: impl Into<CorpId>,
        permanent_code: impl Into<Secret>,
        suite_id: impl Into<SuiteId>,
    ) -> AccessTokenHandle {
        self.corp(suite_id, corp_id).access_token().with_permanent_code(permanent_code.into())
    }

    fn suite_ticket(&self, suite_id: impl Into<SuiteId>) -> TicketHandle {
        self.suite(suite_id).ticket()
    }

    fn authorization(
        &self,
        corp_id: impl Into<CorpId>,
        permanent_code: impl Into<Secret>,
        suite_id: impl Into<SuiteId>,
    ) -> BoxFuture<'_, Result<CorpAuthInfo, Error>> {
        let request = GetAuthInfoRequest {
            auth_corpid: corp_id.into().to_string(),
            permanent_code: permanent_code.into().expose().to_owned(),
        };
        let suite = self.suite(suite_id);
        Box::pin(async move { suite.get_auth_info_with(request).await })
    }

    fn set_provider_access_token(&self, source: impl TokenSource + 'static) -> Result<(), Error> {
        self.provider().access_token().set(source)
    }

    fn set_suite_access_token(
        &self,
        suite_id: impl Into<SuiteId>,
        source: impl TokenSource + 'static,
    ) -> Result<(), Error> {
        self.suite(suite_id).access_token().set(source)
    }

    fn oauth(&self, suite_id: impl Into<SuiteId>) -> OAuth {
        OAuth { suite: self.suite(suite_id) }
    }

    fn corp_oauth(&self, corp_id: impl Into<CorpId>, suite_id: impl Into<SuiteId>) -> CorpOAuth {
        CorpOAuth { corp: self.corp(suite_id, corp_id) }
    }
}

/// A suite's third-party OAuth, owned: what `suite.oauth()` does.
#[derive(Clone, Debug)]
pub struct OAuth {
    suite: Suite,
}

impl OAuth {
    /// See `SuiteOauth::authorize_url`.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scope: OAuthScope,
        state: Option<&str>,
    ) -> Result<String, Error> {
        self.suite.oauth().authorize_url(redirect_uri, scope, state)
    }

    /// See `SuiteOauth::user_from_code`.
    #[doc(alias = "userFromCode")]
    pub async fn user_from_code(&self, code: &str) -> Result<UserInfo3rd, Error> {
        self.suite.oauth().user_from_code(code).await
    }

    /// See `SuiteOauth::user_detail`.
    pub async fn user_detail(&self, user_ticket: &str) -> Result<UserDetail3rd, Error> {
        self.suite.oauth().user_detail(user_ticket).await
    }
}

/// A corp's OAuth through a suite's app, owned: what `corp.oauth()` does.
#[derive(Clone, Debug)]
pub struct CorpOAuth {
    corp: Corp,
}

impl CorpOAuth {
    /// See `CorpOauth::kind`.
    pub fn kind(&self) -> AppKind {
        self.corp.oauth().kind()
    }

    /// See `CorpOauth::authorize_url`.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scope: OAuthScope,
        state: Option<&str>,
        agentid: Option<i64>,
    ) -> Result<String, Error> {
        self.corp.oauth().authorize_url(redirect_uri, scope, state, agentid)
    }

    /// See `CorpOauth::user_from_code`.
    #[doc(alias = "userFromCode")]
    pub async fn user_from_code(&self, code: &str) -> Result<CorpOAuthUser, Error> {
        self.corp.oauth().user_from_code(code).await
    }

    /// See `CorpOauth::user_detail`.
    pub async fn user_detail(&self, user_ticket: &str) -> Result<CorpOAuthUserDetail, Error> {
        self.corp.oauth().user_detail(user_ticket).await
    }
}
