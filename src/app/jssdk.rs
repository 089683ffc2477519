//! JS-SDK on an authorized corp's pages: the corp's and the app's tickets,
//! cached and refreshed like tokens (one fetch per (suite, corp) however
//! many callers, across instances too), and the complete parameter sets for
//! `wx.config`, `wx.agentConfig` and `ww.register`.
//!
//! WeCom allows 400 ticket fetches per corp and 100 per app each hour
//! (<https://developer.work.weixin.qq.com/document/path/90454>); the
//! runtime counts its fetches and refuses one past either limit with
//! [`Error::RateLimited`] instead of asking.

use crate::api::jsapi::CorpJsapi;
use crate::credentials::Credential;
use crate::crypto::{AgentConfig, JsSdkConfig, RegisterConfig, SignatureSet};
use crate::error::Error;

/// A fresh random string for a signature: 16 letters and digits.
fn noncestr() -> String {
    std::iter::repeat_with(fastrand::alphanumeric).take(16).collect()
}

impl CorpJsapi<'_> {
    fn credential(&self, agent: bool) -> Credential {
        let corp = self.handle();
        let (suite_id, corp_id) = (corp.suite_id().clone(), corp.corp_id().clone());
        if agent {
            Credential::AgentTicket { suite_id, corp_id }
        } else {
            Credential::CorpTicket { suite_id, corp_id }
        }
    }

    async fn cached(&self, agent: bool) -> Result<String, Error> {
        let corp = self.handle();
        let runtime = corp.runtime().ok_or_else(|| {
            Error::InvalidRequest(
                "JS-SDK tickets are cached by an Application's runtime; this handle comes from a bare Client"
                    .into(),
            )
        })?;
        runtime.tokens.ticket_of(&self.credential(agent)).await
    }

    /// The corp's `jsapi_ticket` (signs `wx.config`), cached.
    pub async fn ticket(&self) -> Result<String, Error> {
        self.cached(false).await
    }

    /// The app's `agent_config` ticket (signs `wx.agentConfig`), cached.
    pub async fn agent_ticket(&self) -> Result<String, Error> {
        self.cached(true).await
    }

    fn now_secs(&self) -> String {
        let now = self.handle().runtime().map_or_else(std::time::SystemTime::now, |r| r.clock.now());
        now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()).to_string()
    }

    /// Everything `wx.config` takes for the page at `url`, signed now with
    /// the corp's ticket.
    pub async fn config(&self, url: &str, js_api_list: &[&str]) -> Result<JsSdkConfig, Error> {
        let ticket = self.ticket().await?;
        let mut config =
            JsSdkConfig::new(self.handle().corp_id().as_str(), &ticket, &noncestr(), &self.now_secs(), url);
        config.js_api_list = js_api_list.iter().map(|s| (*s).to_owned()).collect();
        Ok(config)
    }

    /// Everything `wx.agentConfig` takes for the page at `url` and the app
    /// `agent_id`, signed now with the app's ticket.
    pub async fn agent_config(
        &self,
        agent_id: i64,
        url: &str,
        js_api_list: &[&str],
    ) -> Result<AgentConfig, Error> {
        let ticket = self.agent_ticket().await?;
        let corp_id = self.handle().corp_id().as_str().to_owned();
        let mut config = AgentConfig::new(&corp_id, agent_id, &ticket, &noncestr(), &self.now_secs(), url);
        config.js_api_list = js_api_list.iter().map(|s| (*s).to_owned()).collect();
        Ok(config)
    }

    /// Everything `ww.register` takes for the page at `url` and the app
    /// `agent_id`: both signatures, made now.
    pub async fn register(
        &self,
        agent_id: i64,
        url: &str,
        js_api_list: &[&str],
    ) -> Result<RegisterConfig, Error> {
        let (corp_ticket, agent_ticket) = (self.ticket().await?, self.agent_ticket().await?);
        let now = self.now_secs();
        Ok(RegisterConfig {
            corp_id: self.handle().corp_id().as_str().to_owned(),
            agent_id,
            js_api_list: js_api_list.iter().map(|s| (*s).to_owned()).collect(),
            config_signature: SignatureSet::new(&corp_ticket, &noncestr(), &now, url),
            agent_config_signature: SignatureSet::new(&agent_ticket, &noncestr(), &now, url),
        })
    }
}
