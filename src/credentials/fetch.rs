//! How each credential is asked of WeCom: which endpoint, with which token
//! or secret, and what a reply must hold to be believed.

use super::credential::Credential;
use super::manager::TokenManager;
use super::records::{Stored, Versioned};
use crate::api::authorization::endpoints::{GET_CORP_TOKEN, GET_CUSTOMIZED_CORP_TOKEN};
use crate::api::authorization::types::{CorpAccessToken, GetCorpTokenRequest, GetCustomizedCorpTokenQuery};
use crate::api::corpgroup::endpoints::GET_TOKEN as DOWNSTREAM_GET_TOKEN;
use crate::api::corpgroup::types::{DownstreamToken, DownstreamTokenRequest};
use crate::api::jsapi::endpoints::{GET_AGENT_CONFIG_TICKET, GET_JSAPI_TICKET};
use crate::api::jsapi::types::{GetAgentConfigTicketQuery, JsapiTicket};
use crate::api::provider::endpoints::GET_PROVIDER_TOKEN;
use crate::api::provider::types::{GetProviderTokenRequest, ProviderAccessToken};
use crate::api::suite::endpoints::GET_SUITE_TOKEN;
use crate::api::suite::types::{GetSuiteTokenRequest, SuiteAccessToken};
use crate::error::Error;
use crate::http::{decode_json, AccessToken, BoxFuture, Target, TokenScope, TokenUse};
use crate::ids::{AppKind, CorpId, SuiteId};
use crate::store::keys;

/// The longest token lifetime believed, in seconds: WeCom's tokens live
/// 7200 s; a reply claiming more than a day is capped to a day.
const MAX_EXPIRES_IN: u64 = 24 * 60 * 60;

impl TokenManager {
    /// Asks WeCom for a JS-SDK ticket with the corp token (refetched once if
    /// WeCom refuses it): the corp's (`get_jsapi_ticket`) or an agent's
    /// (`ticket/get?type=agent_config`).
    async fn fetch_ticket(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
        agent: bool,
    ) -> Result<(AccessToken, u64), Error> {
        self.tickets.count(suite_id, corp_id, self.now_ms())?;
        let scope = TokenScope::Corp { suite_id: suite_id.clone(), corp_id: corp_id.clone() };
        let (suite, corp) = (suite_id.clone(), corp_id.clone());
        let what = if agent {
            Credential::AgentTicket { suite_id: suite, corp_id: corp }
        } else {
            Credential::CorpTicket { suite_id: suite, corp_id: corp }
        }
        .to_string();
        let reply: JsapiTicket = if agent {
            let query = GetAgentConfigTicketQuery::new();
            self.call_with_token(&scope, &GET_AGENT_CONFIG_TICKET, Some(&query), None::<&()>).await
        } else {
            self.call_with_token(&scope, &GET_JSAPI_TICKET, None::<&()>, None::<&()>).await
        }
        .map_err(|e| e.into_authorization_gone(suite_id, corp_id))?;
        issued(&what, reply.ticket, reply.expires_in)
    }

    /// Calls `endpoint` with `scope`'s token from this manager; if WeCom
    /// refuses that token, drops it and tries once more with a fresh one.
    /// (The fetching client has no token source of its own: it must not
    /// wait on the manager that waits on it.)
    async fn call_with_token<Q, B, R>(
        &self,
        scope: &TokenScope,
        endpoint: &'static crate::http::Endpoint,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<R, Error>
    where
        Q: serde::Serialize + ?Sized,
        B: serde::Serialize + ?Sized,
        R: serde::de::DeserializeOwned + Send,
    {
        let mut refetched = false;
        loop {
            let token = self.get(scope).await?;
            match self
                .client
                .run(Target::of(endpoint), TokenUse::Given(&token), query, body, decode_json)
                .await
            {
                Err(e) if e.is_token_invalid() && !refetched => {
                    self.invalidate(scope, &token).await;
                    refetched = true;
                }
                result => return result,
            }
        }
    }

    /// Asks WeCom for a new token of `scope`: the token and its lifetime in seconds.
    pub(super) fn fetch<'a>(
        &'a self,
        credential: &'a Credential,
    ) -> BoxFuture<'a, Result<(AccessToken, u64), Error>> {
        Box::pin(async move {
            let scope = match credential {
                Credential::Token(scope) => scope,
                Credential::CorpTicket { suite_id, corp_id } => {
                    return self.fetch_ticket(suite_id, corp_id, false).await
                }
                Credential::AgentTicket { suite_id, corp_id } => {
                    return self.fetch_ticket(suite_id, corp_id, true).await
                }
            };
            match scope {
                TokenScope::Provider => self.fetch_provider().await,
                TokenScope::Suite(suite_id) => self.fetch_suite(suite_id).await,
                TokenScope::Corp { suite_id, corp_id } => self.fetch_corp(suite_id, corp_id).await,
                TokenScope::Downstream { suite_id, corp_id, downstream_corp_id, agentid } => {
                    self.fetch_downstream(suite_id, corp_id, downstream_corp_id, *agentid).await
                }
            }
        })
    }

    /// A downstream corp's token (上下游), asked for with the upstream corp's
    /// token (refetched once if WeCom refuses that one).
    async fn fetch_downstream(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
        downstream: &CorpId,
        agentid: i64,
    ) -> Result<(AccessToken, u64), Error> {
        if let Some(kind) = self.config.suite(suite_id).map(|s| s.kind) {
            if !DOWNSTREAM_GET_TOKEN.allows(kind) {
                return Err(Error::AppKindNotAllowed {
                    endpoint: crate::error::EndpointName::Borrowed(DOWNSTREAM_GET_TOKEN.name),
                    suite_id: suite_id.clone(),
                    kind,
                });
            }
        }
        let upstream = TokenScope::Corp { suite_id: suite_id.clone(), corp_id: corp_id.clone() };
        let request = DownstreamTokenRequest::new(downstream.as_str(), agentid).business_type(1);
        let reply: DownstreamToken = self
            .call_with_token(&upstream, &DOWNSTREAM_GET_TOKEN, None::<&()>, Some(&request))
            .await
            .map_err(|e| e.into_authorization_gone(suite_id, corp_id))?;
        issued(&format!("downstream corp {downstream}"), reply.access_token, reply.expires_in)
    }

    async fn fetch_provider(&self) -> Result<(AccessToken, u64), Error> {
        let request = GetProviderTokenRequest {
            corpid: self.config.corp_id.to_string(),
            provider_secret: self.config.provider_secret.expose().to_owned(),
        };
        let reply: ProviderAccessToken = self
            .client
            .run(Target::of(&GET_PROVIDER_TOKEN), TokenUse::Without, None::<&()>, Some(&request), decode_json)
            .await?;
        issued("provider", reply.provider_access_token, reply.expires_in)
    }

    async fn fetch_suite(&self, suite_id: &SuiteId) -> Result<(AccessToken, u64), Error> {
        let suite = self
            .config
            .suite(suite_id)
            .ok_or_else(|| Error::Config(format!("suites: suite {suite_id} is not configured")))?;
        let ticket = self.ticket(suite_id).await?;
        let request = GetSuiteTokenRequest {
            suite_id: suite_id.to_string(),
            suite_secret: suite.suite_secret.expose().to_owned(),
            suite_ticket: ticket,
        };
        let reply: SuiteAccessToken = self
            .client
            .run(Target::of(&GET_SUITE_TOKEN), TokenUse::Without, None::<&()>, Some(&request), decode_json)
            .await?;
        issued(&format!("suite {suite_id}"), reply.suite_access_token, reply.expires_in)
    }

    /// A corp token: for a third-party suite from `get_corp_token` (suite
    /// token + permanent code); for a customized (代开发) suite from
    /// `gettoken`, the permanent code being the app's secret. Either way an
    /// authorization-gone error names the corp.
    async fn fetch_corp(&self, suite_id: &SuiteId, corp_id: &CorpId) -> Result<(AccessToken, u64), Error> {
        let missing = || Error::PermanentCodeMissing { suite_id: suite_id.clone(), corp_id: corp_id.clone() };
        let stored = self.stored_authorization(suite_id, corp_id).await?;
        let Some(Versioned { value: Stored::Authorized(authorization), version }) = stored else {
            return Err(missing());
        };
        let code = authorization.permanent_code;
        // "Gone" from WeCom is about this authorization, not whatever the
        // store holds by the time the answer comes.
        let key = keys::corp_token(suite_id, corp_id);
        self.gone.fetching_with(key, version);
        let kind = self.config.suite(suite_id).map(|s| s.kind).unwrap_or_default();
        if kind == AppKind::Customized {
            let query = GetCustomizedCorpTokenQuery {
                corpid: corp_id.to_string(),
                corpsecret: code.expose().to_owned(),
            };
            let target = Target::of(&GET_CUSTOMIZED_CORP_TOKEN);
            let result: Result<CorpAccessToken, Error> =
                self.client.run(target, TokenUse::Without, Some(&query), None::<&()>, decode_json).await;
            let reply = result.map_err(|e| e.into_authorization_gone(suite_id, corp_id))?;
            return issued(&format!("corp {corp_id}"), reply.access_token, reply.expires_in);
        }
        let request = GetCorpTokenRequest {
            auth_corpid: corp_id.to_string(),
            permanent_code: code.expose().to_owned(),
        };
        let suite_scope = TokenScope::Suite(suite_id.clone());
        let reply: CorpAccessToken = self
            .call_with_token(&suite_scope, &GET_CORP_TOKEN, None::<&()>, Some(&request))
            .await
            .map_err(|e| e.into_authorization_gone(suite_id, corp_id))?;
        issued(&format!("corp {corp_id}"), reply.access_token, reply.expires_in)
    }
}

/// A token reply's token and lifetime in seconds. A reply without a token,
/// or whose `expires_in` is missing, zero or negative, is an error naming the
/// scope: a token of unknown lifetime is neither served nor cached. A
/// lifetime over [`MAX_EXPIRES_IN`] is capped to it.
fn issued(what: &str, token: Option<String>, expires_in: Option<i64>) -> Result<(AccessToken, u64), Error> {
    let token = token.filter(|t| !t.is_empty()).ok_or_else(|| Error::Token {
        scope: what.to_owned(),
        message: "WeCom's reply carried no token".into(),
    })?;
    let expires_in = match expires_in.map(u64::try_from) {
        Some(Ok(seconds)) if seconds > 0 => seconds,
        other => {
            let got = match other {
                None => "none".to_owned(),
                Some(_) => expires_in.unwrap_or_default().to_string(),
            };
            return Err(Error::Token {
                scope: what.to_owned(),
                message: format!(
                    "WeCom's reply gave the token no usable lifetime (expires_in: {got}); it was not used"
                ),
            });
        }
    };
    if expires_in > MAX_EXPIRES_IN {
        tracing::warn!(
            scope = what,
            expires_in,
            cap = MAX_EXPIRES_IN,
            "WeCom claimed an implausible token lifetime; capping it"
        );
    }
    Ok((AccessToken::new(token), expires_in.min(MAX_EXPIRES_IN)))
}
