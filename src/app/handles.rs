//! Handles: a [`Client`] plus the scope its tokens are for. Generated methods
//! hang on these (`impl Suite { pub async fn get_pre_auth_code(..) }`).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{EndpointName, Error};
use crate::http::{Client, Endpoint, Payload, TokenKind, TokenScope};
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

            pub(crate) async fn call<Q, B, R>(
                &self,
                endpoint: &'static Endpoint,
                query: Option<&Q>,
                body: Option<&B>,
            ) -> Result<R, Error>
            where
                Q: Serialize + ?Sized,
                B: Serialize + ?Sized,
                R: DeserializeOwned,
            {
                self.check_app_kind(endpoint)?;
                let scope = self.scope(endpoint)?;
                self.client.call(endpoint, scope, query, body).await
            }

            #[allow(dead_code)]
            pub(crate) async fn call_payload<Q, B, R>(
                &self,
                endpoint: &'static Endpoint,
                query: Option<&Q>,
                body: Option<&B>,
            ) -> Result<Payload<R>, Error>
            where
                Q: Serialize + ?Sized,
                B: Serialize + ?Sized,
                R: DeserializeOwned,
            {
                self.check_app_kind(endpoint)?;
                let scope = self.scope(endpoint)?;
                self.client.call_payload(endpoint, scope, query, body).await
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

/// Provider-level calls, made with the provider access token.
#[derive(Clone, Debug)]
pub struct Provider {
    client: Client,
}

impl Provider {
    pub(crate) fn new(client: Client) -> Self {
        Provider { client }
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

/// One suite's calls, made with its suite access token: suite credentials,
/// the authorization flow, third-party OAuth.
#[derive(Clone, Debug)]
pub struct Suite {
    client: Client,
    suite_id: SuiteId,
}

impl Suite {
    pub(crate) fn new(client: Client, suite_id: SuiteId) -> Self {
        Suite { client, suite_id }
    }

    /// The suite this handle speaks for.
    pub fn suite_id(&self) -> &SuiteId {
        &self.suite_id
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
/// token (which the token source obtains from the corp's permanent code).
#[derive(Clone, Debug)]
pub struct Corp {
    client: Client,
    suite_id: SuiteId,
    corp_id: CorpId,
}

impl Corp {
    pub(crate) fn new(client: Client, suite_id: SuiteId, corp_id: CorpId) -> Self {
        Corp { client, suite_id, corp_id }
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
            TokenKind::Corp => {
                Ok(Some(TokenScope::Corp { suite_id: self.suite_id.clone(), corp_id: self.corp_id.clone() }))
            }
            TokenKind::Provider => Err(unreachable_scope(endpoint, "corp")),
        }
    }

    fn check_app_kind(&self, endpoint: &'static Endpoint) -> Result<(), Error> {
        app_kind_allows(&self.client, endpoint, &self.suite_id)
    }
}

handle_calls!(Corp);

/// Handles straight from a [`Client`] (without an [`crate::Application`]).
impl Client {
    /// The handle for provider-level calls (provider token).
    pub fn provider(&self) -> Provider {
        Provider::new(self.clone())
    }

    /// The handle for one suite's calls (suite token): suite, authorization
    /// and third-party OAuth methods.
    pub fn suite(&self, suite_id: impl Into<SuiteId>) -> Suite {
        Suite::new(self.clone(), suite_id.into())
    }

    /// The handle for one authorizing corp's calls through a suite (corp token).
    pub fn corp(&self, suite_id: impl Into<SuiteId>, corp_id: impl Into<CorpId>) -> Corp {
        Corp::new(self.clone(), suite_id.into(), corp_id.into())
    }
}
