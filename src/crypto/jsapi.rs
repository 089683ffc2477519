//! JS-SDK signatures for `wx.config` (corp jsapi_ticket) and `wx.agentConfig`
//! (app ticket): the same formula over different tickets.

use sha1::{Digest, Sha1};

/// `sha1("jsapi_ticket=…&noncestr=…&timestamp=…&url=…")` in lowercase hex.
/// The URL is used as the page has it, without its `#fragment` and without
/// any URL-encoding.
pub fn jsapi_signature(ticket: &str, noncestr: &str, timestamp: &str, url: &str) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let mut sha = Sha1::new();
    for (i, (name, value)) in
        [("jsapi_ticket", ticket), ("noncestr", noncestr), ("timestamp", timestamp), ("url", url)]
            .into_iter()
            .enumerate()
    {
        if i > 0 {
            sha.update(b"&");
        }
        sha.update(name.as_bytes());
        sha.update(b"=");
        sha.update(value.as_bytes());
    }
    super::hex(&sha.finalize())
}

/// What `wx.config` takes: the page's signature with the corp's jsapi ticket
/// (serializes to the object the page passes: `beta`, `appId`, `timestamp`,
/// `nonceStr`, `signature`, `jsApiList`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsSdkConfig {
    /// Always `true`: WeCom's `wx.invoke` APIs need it.
    pub beta: bool,
    /// The corp id.
    pub app_id: String,
    /// Unix seconds, as signed.
    pub timestamp: String,
    /// The random string signed.
    pub nonce_str: String,
    /// The signature.
    pub signature: String,
    /// The JS APIs the page will call.
    pub js_api_list: Vec<String>,
}

/// What `wx.agentConfig` takes: the page's signature with the app's ticket
/// (serializes to `corpid`, `agentid`, `timestamp`, `nonceStr`, `signature`,
/// `jsApiList`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentConfig {
    /// The corp id.
    pub corpid: String,
    /// The app's agent id.
    pub agentid: i64,
    /// Unix seconds, as signed.
    pub timestamp: String,
    /// The random string signed.
    pub nonce_str: String,
    /// The signature.
    pub signature: String,
    /// The JS APIs the page will call.
    pub js_api_list: Vec<String>,
}

/// One signature, as `ww.register`'s `getConfigSignature` and
/// `getAgentConfigSignature` callbacks return it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureSet {
    /// Unix seconds, as signed.
    pub timestamp: String,
    /// The random string signed.
    pub nonce_str: String,
    /// The signature.
    pub signature: String,
}

/// What `ww.register` takes (JS-SDK 2.x): the corp and app, the APIs, and
/// the two signatures its callbacks hand back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterConfig {
    /// The corp id.
    pub corp_id: String,
    /// The app's agent id.
    pub agent_id: i64,
    /// The JS APIs the page will call.
    pub js_api_list: Vec<String>,
    /// `getConfigSignature`'s answer (the corp's ticket).
    pub config_signature: SignatureSet,
    /// `getAgentConfigSignature`'s answer (the app's ticket).
    pub agent_config_signature: SignatureSet,
}

impl SignatureSet {
    /// Signs `url` with `ticket`.
    pub fn new(ticket: &str, noncestr: &str, timestamp: &str, url: &str) -> Self {
        SignatureSet {
            timestamp: timestamp.to_owned(),
            nonce_str: noncestr.to_owned(),
            signature: jsapi_signature(ticket, noncestr, timestamp, url),
        }
    }
}

impl JsSdkConfig {
    /// Signs `url` for `wx.config` with the corp's `jsapi_ticket`.
    pub fn new(corp_id: &str, jsapi_ticket: &str, noncestr: &str, timestamp: &str, url: &str) -> Self {
        JsSdkConfig {
            beta: true,
            js_api_list: Vec::new(),
            app_id: corp_id.to_owned(),
            timestamp: timestamp.to_owned(),
            nonce_str: noncestr.to_owned(),
            signature: jsapi_signature(jsapi_ticket, noncestr, timestamp, url),
        }
    }
}

impl AgentConfig {
    /// Signs `url` for `wx.agentConfig` with the app's ticket
    /// (`ticket/get?type=agent_config`).
    pub fn new(
        corp_id: &str,
        agentid: i64,
        agent_ticket: &str,
        noncestr: &str,
        timestamp: &str,
        url: &str,
    ) -> Self {
        AgentConfig {
            js_api_list: Vec::new(),
            corpid: corp_id.to_owned(),
            agentid,
            timestamp: timestamp.to_owned(),
            nonce_str: noncestr.to_owned(),
            signature: jsapi_signature(agent_ticket, noncestr, timestamp, url),
        }
    }
}
