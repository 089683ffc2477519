//! Handles: a [`Client`] plus the scope its tokens are for, bound once.
//! Generated methods hang on these, directly (the install flow:
//! `suite.get_pre_auth_code()`) or through one accessor per spec group
//! (`corp.jsapi().get_jsapi_ticket()`); the credentials of the scope too
//! (`suite.access_token()`, `suite.ticket()`, `corp.permanent_code()`).

use serde::de::DeserializeOwned;
use serde::Serialize;

use std::sync::Arc;

use super::call::{Call, Place};
use super::credential_handles::{AccessTokenHandle, PermanentCodeHandle, Runtime, TicketHandle};
use crate::error::{EndpointName, Error};
use crate::http::{Client, Decode, Endpoint, TokenKind, TokenScope, UploadFile};
use crate::ids::{CorpId, SuiteId};

/// What every handle does with a call: refuse it if the suite's kind may not
/// make it, pick the token scope for the endpoint's token kind, then let the
/// client do the rest.
macro_rules! handle_calls {
    ($handle:ident) => {
        impl $handle {
            /// The client calls go through.
            pub fn client(&self) -> &Client {
                &self.client
            }

            /// A call to `endpoint` through this handle's scope, to be
            /// awaited: what the generated one-line methods return.
            pub(crate) fn prepare<R, T>(
                &self,
                endpoint: &'static Endpoint,
                place: Place,
                request: R,
                decode: Decode<T>,
            ) -> Call<'_, R, T> {
                let scope = self.check_app_kind(endpoint).and_then(|()| self.scope(endpoint));
                Call::new(&self.client, endpoint, scope, place, request, decode)
            }

            /// A spec'd call through this handle's scope; `decode` makes the
            /// reply what the endpoint answers (JSON, JSON or binary, a file).
            #[allow(dead_code)]
            pub(crate) async fn call<Q, B, T: Send>(
                &self,
                endpoint: &'static Endpoint,
                query: Option<&Q>,
                body: Option<&B>,
                decode: Decode<T>,
            ) -> Result<T, Error>
            where
                Q: Serialize + ?Sized,
                B: Serialize + ?Sized,
            {
                self.check_app_kind(endpoint)?;
                let scope = self.scope(endpoint)?;
                self.client.call(endpoint, scope, query, body, decode).await
            }

            /// A call with a token the caller holds (`registration` endpoints).
            #[allow(dead_code)]
            pub(crate) async fn call_with_token<Q, B, R>(
                &self,
                endpoint: &'static Endpoint,
                access_token: &str,
                query: Option<&Q>,
                body: Option<&B>,
            ) -> Result<R, Error>
            where
                Q: Serialize + ?Sized,
                B: Serialize + ?Sized,
                R: DeserializeOwned + Send,
            {
                self.check_app_kind(endpoint)?;
                self.client.call_with_token(endpoint, access_token, query, body).await
            }

            #[allow(dead_code)]
            pub(crate) async fn call_upload<Q, R>(
                &self,
                endpoint: &'static Endpoint,
                query: Option<&Q>,
                file: UploadFile,
            ) -> Result<R, Error>
            where
                Q: Serialize + ?Sized,
                R: DeserializeOwned + Send,
            {
                self.check_app_kind(endpoint)?;
                let scope = self.scope(endpoint)?;
                self.client.call_upload(endpoint, scope, query, file).await
            }
        }
    };
}

/// Refuses `endpoint` when `suite_id` is declared (see
/// [`crate::ClientBuilder::app_kind`]) as a kind the endpoint is not for.
fn app_kind_allows(client: &Client, endpoint: &'static Endpoint, suite_id: &SuiteId) -> Result<(), Error> {
    match client.app_kind_of(suite_id) {
        Some(kind) if !endpoint.allows(kind) => Err(Error::AppKindNotAllowed {
            endpoint: EndpointName::Borrowed(endpoint.name),
            suite_id: suite_id.clone(),
            kind,
        }),
        _ => Ok(()),
    }
}

fn unreachable_scope(endpoint: &Endpoint, handle: &str) -> Error {
    Error::InvalidRequest(format!(
        "{}: a {handle} handle cannot obtain a {} token",
        endpoint.name, endpoint.token
    ))
}

/// An access token handle of `scope`: the runtime's when there is one,
/// else the client's token source.
fn token_handle(client: &Client, runtime: Option<&Runtime>, scope: TokenScope) -> AccessTokenHandle {
    match runtime {
        Some(runtime) => AccessTokenHandle::managed(runtime.tokens.clone(), scope),
        None => AccessTokenHandle::plain(client.token_source(), scope),
    }
}

/// The provider's calls, made with the provider access token:
/// `app.provider()`.
#[derive(Clone)]
pub struct Provider {
    client: Client,
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").finish_non_exhaustive()
    }
}

impl Provider {
    pub(crate) fn new(client: Client, runtime: Option<Runtime>) -> Self {
        Provider { client, runtime }
    }

    /// The provider access token.
    #[doc(alias = "provider_access_token")]
    pub fn access_token(&self) -> AccessTokenHandle {
        token_handle(&self.client, self.runtime.as_ref(), TokenScope::Provider)
    }

    fn scope(&self, endpoint: &Endpoint) -> Result<Option<TokenScope>, Error> {
        match endpoint.token {
            TokenKind::None => Ok(None),
            TokenKind::Provider => Ok(Some(TokenScope::Provider)),
            _ => Err(unreachable_scope(endpoint, "provider")),
        }
    }

    /// The provider speaks for no suite: nothing to check.
    fn check_app_kind(&self, _endpoint: &'static Endpoint) -> Result<(), Error> {
        Ok(())
    }
}

handle_calls!(Provider);

/// One suite's calls, made with its suite access token: `app.suite(id)`.
/// The install flow hangs on it directly (`get_pre_auth_code`,
/// `get_permanent_code`, …); its credentials are `access_token()` and
/// `ticket()`.
#[derive(Clone)]
pub struct Suite {
    client: Client,
    suite_id: SuiteId,
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suite").field("suite_id", &self.suite_id).finish_non_exhaustive()
    }
}

impl Suite {
    pub(crate) fn new(client: Client, suite_id: SuiteId, runtime: Option<Runtime>) -> Self {
        Suite { client, suite_id, runtime }
    }

    /// The suite this handle speaks for.
    pub fn suite_id(&self) -> &SuiteId {
        &self.suite_id
    }

    /// The suite access token.
    #[doc(alias = "suite_access_token")]
    pub fn access_token(&self) -> AccessTokenHandle {
        token_handle(&self.client, self.runtime.as_ref(), TokenScope::Suite(self.suite_id.clone()))
    }

    /// The suite ticket WeCom pushes every 10 minutes.
    #[doc(alias = "suite_ticket")]
    pub fn ticket(&self) -> TicketHandle {
        TicketHandle::new(self.runtime.clone(), self.suite_id.clone())
    }

    /// The install page of this suite for a pre-auth code (after
    /// `get_pre_auth_code` and, for a test install, `set_session_info`), on
    /// the configured install page (WeCom's by default). The admin is
    /// redirected to `redirect_uri?auth_code=…&expires_in=600&state=…`;
    /// hand that query to [`crate::server::CallbackServer::complete_install`].
    ///
    /// On a handle from an [`crate::Application`], `state` (yours, letters
    /// and digits, at most 102 bytes) is signed with the suite secret (see
    /// [`crate::crypto::install_state`]): `complete_install` accepts a
    /// redirect only with a state so signed, less than an hour old, and
    /// hands yours back to `on_authorized`. On a bare client's handle it is
    /// used as given.
    pub fn install_url(
        &self,
        pre_auth_code: &str,
        redirect_uri: &str,
        state: Option<&str>,
    ) -> Result<String, Error> {
        let urls = self.client.browser_urls();
        let Some(runtime) = &self.runtime else {
            return urls.install_url(&self.suite_id, pre_auth_code, redirect_uri, state);
        };
        let secret = runtime
            .tokens
            .config()
            .suite(&self.suite_id)
            .ok_or_else(|| Error::InvalidRequest(format!("suite {} is not configured", self.suite_id)))?
            .suite_secret
            .clone();
        let own = state.unwrap_or_default();
        let room = 128 - crate::crypto::install_state::INSTALL_STATE_OVERHEAD;
        if own.len() > room {
            return Err(Error::InvalidRequest(format!(
                "state is {} bytes; with its signature WeCom's limit leaves {room}",
                own.len()
            )));
        }
        let signed = crate::crypto::install_state::sign(
            secret.expose(),
            self.suite_id.as_str(),
            own,
            runtime.clock.now(),
        );
        urls.install_url(&self.suite_id, pre_auth_code, redirect_uri, Some(&signed))
    }

    fn scope(&self, endpoint: &Endpoint) -> Result<Option<TokenScope>, Error> {
        match endpoint.token {
            TokenKind::None => Ok(None),
            TokenKind::Suite => Ok(Some(TokenScope::Suite(self.suite_id.clone()))),
            _ => Err(unreachable_scope(endpoint, "suite")),
        }
    }

    fn check_app_kind(&self, endpoint: &'static Endpoint) -> Result<(), Error> {
        app_kind_allows(&self.client, endpoint, &self.suite_id)
    }
}

handle_calls!(Suite);

/// One authorizing corp's calls through a suite, made with the corp's access
/// token (obtained from the corp's stored permanent code):
/// `app.corp(suite_id, corp_id)`. Its credentials are `access_token()` and
/// `permanent_code()`.
#[derive(Clone)]
pub struct Corp {
    client: Client,
    suite_id: SuiteId,
    corp_id: CorpId,
    runtime: Option<Runtime>,
    /// Why every call must fail at once (the ids look swapped).
    misuse: Option<Arc<str>>,
    /// For a downstream corp (上下游): the upstream corp it is reached through,
    /// and the shared app's agentid in the downstream corp.
    upstream: Option<(CorpId, i64)>,
}

impl std::fmt::Debug for Corp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Corp")
            .field("suite_id", &self.suite_id)
            .field("corp_id", &self.corp_id)
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

impl Corp {
    pub(crate) fn new(client: Client, suite_id: SuiteId, corp_id: CorpId, runtime: Option<Runtime>) -> Self {
        Corp { client, suite_id, corp_id, runtime, misuse: None, upstream: None }
    }

    /// The calls of the app this corp shares with a downstream corp (上下游),
    /// made in that corp with its own token: the runtime gets it with this
    /// corp's token (`corpgroup/corp/gettoken`, 代开发 apps only), caches it
    /// and refreshes it like any token. WeCom lets that token read the
    /// downstream corp's contacts only. `agentid` is the shared app's id in
    /// the downstream corp.
    pub fn downstream(&self, downstream_corp_id: impl Into<CorpId>, agentid: i64) -> Corp {
        Corp {
            corp_id: downstream_corp_id.into(),
            upstream: Some((self.corp_id.clone(), agentid)),
            ..self.clone()
        }
    }

    /// For a downstream corp's handle: the upstream corp it is reached
    /// through and the shared app's agentid there.
    pub fn upstream(&self) -> Option<(&CorpId, i64)> {
        self.upstream.as_ref().map(|(corp, agentid)| (corp, *agentid))
    }

    /// The scope of this corp's token: the authorizing corp's, or a
    /// downstream corp's through its upstream corp.
    fn corp_scope(&self) -> TokenScope {
        match &self.upstream {
            Some((upstream, agentid)) => TokenScope::Downstream {
                suite_id: self.suite_id.clone(),
                corp_id: upstream.clone(),
                downstream_corp_id: self.corp_id.clone(),
                agentid: *agentid,
            },
            None => TokenScope::Corp { suite_id: self.suite_id.clone(), corp_id: self.corp_id.clone() },
        }
    }

    /// Makes every call of this handle fail with `why`, before sending.
    pub(crate) fn refused(mut self, why: String) -> Self {
        self.misuse = Some(why.into());
        self
    }

    /// The corp's access token.
    #[doc(alias = "authorizer_access_token")]
    pub fn access_token(&self) -> AccessTokenHandle {
        token_handle(&self.client, self.runtime.as_ref(), self.corp_scope())
    }

    /// The corp's permanent code: read, set, forget.
    pub fn permanent_code(&self) -> PermanentCodeHandle {
        PermanentCodeHandle::new(self.runtime.clone(), self.suite_id.clone(), self.corp_id.clone())
    }

    /// The application's runtime, when the handle came from one.
    pub(crate) fn runtime(&self) -> Option<&Runtime> {
        self.runtime.as_ref()
    }

    /// The handle of the suite the corp authorized.
    pub fn suite(&self) -> Suite {
        Suite::new(self.client.clone(), self.suite_id.clone(), self.runtime.clone())
    }

    /// The suite the corp authorized.
    pub fn suite_id(&self) -> &SuiteId {
        &self.suite_id
    }

    /// The authorizing corp.
    pub fn corp_id(&self) -> &CorpId {
        &self.corp_id
    }

    fn scope(&self, endpoint: &Endpoint) -> Result<Option<TokenScope>, Error> {
        match endpoint.token {
            TokenKind::None => Ok(None),
            TokenKind::Suite => Ok(Some(TokenScope::Suite(self.suite_id.clone()))),
            TokenKind::Corp => Ok(Some(self.corp_scope())),
            TokenKind::Provider | TokenKind::Registration => Err(unreachable_scope(endpoint, "corp")),
        }
    }

    fn check_app_kind(&self, endpoint: &'static Endpoint) -> Result<(), Error> {
        if let Some(why) = &self.misuse {
            return Err(Error::InvalidRequest(format!("{}: {why}", endpoint.name)));
        }
        app_kind_allows(&self.client, endpoint, &self.suite_id)
    }
}

handle_calls!(Corp);

/// Handles straight from a [`Client`] (without an [`crate::Application`]).
impl Client {
    /// The handle for provider-level calls (provider token).
    pub fn provider(&self) -> Provider {
        Provider::new(self.clone(), None)
    }

    /// The handle for one suite's calls (suite token): suite, authorization
    /// and third-party OAuth methods.
    pub fn suite(&self, suite_id: impl Into<SuiteId>) -> Suite {
        Suite::new(self.clone(), suite_id.into(), None)
    }

    /// The handle for one authorizing corp's calls through a suite (corp token).
    pub fn corp(&self, suite_id: impl Into<SuiteId>, corp_id: impl Into<CorpId>) -> Corp {
        Corp::new(self.clone(), suite_id.into(), corp_id.into(), None)
    }
}
