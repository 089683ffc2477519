//! The emulator's side of callbacks: encrypted pushes as WeCom makes them
//! (suite tickets, create_auth, change_auth, cancel_auth,
//! reset_permanent_code to the command URL; any event to the data URL).
//!
//! The body is WeCom's incoming envelope, `<xml><ToUserName>…</ToUserName>
//! <Encrypt>…</Encrypt><AgentID>…</AgentID></xml>` as `text/xml`, the
//! signature, timestamp and nonce in the query. An answer other than HTTP 200
//! with body `success` (a failed connection, more than 5 s) is retried: 3
//! attempts in all, each recorded.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::records::{PushRecord, PUSH_ATTEMPTS};
use super::state::{unix_now, Owner, SuiteCorp, PERMANENT_CODE_PREFIX};
use super::{random_code, AuthCode, Shared, AUTH_CODE_LIFETIME, TICKET_VALIDITY};
use crate::crypto::{CryptoError, MsgCrypt};

/// How long one attempt may take.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Which of a suite's callback URLs a push goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushTarget {
    /// The data URL (数据回调), encrypted for the corp id; `$CORPID$` in the
    /// URL is replaced by it, as WeCom does.
    #[default]
    Data,
    /// The command URL (指令回调), encrypted for the suite id.
    Command,
}

impl PushTarget {
    fn name(self) -> &'static str {
        match self {
            PushTarget::Data => "data",
            PushTarget::Command => "command",
        }
    }
}

/// Why the emulator could not push (an ISV that does not acknowledge is no
/// error: its answers are in the [`PushRecord`]s).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The suite is not in the emulator's configuration.
    #[error("suite {0} is not registered")]
    UnknownSuite(String),
    /// The suite has no URL of that kind configured.
    #[error("suite {suite_id} has no {} URL", target.name())]
    NoUrl {
        /// The suite.
        suite_id: String,
        /// The URL it lacks.
        target: PushTarget,
    },
    /// A corp id is needed and none was given.
    #[error("a corp id is needed")]
    MissingCorp,
    /// The corp has not authorized the suite (no permanent code was issued).
    #[error("corp {corp_id} has not authorized suite {suite_id}")]
    NotAuthorized {
        /// The suite.
        suite_id: String,
        /// The corp.
        corp_id: String,
    },
    /// The corp has no 微信客服 account of that id (none was added with
    /// `kf/account/add`, or it was deleted).
    #[error("corp {corp_id} has no kf account {open_kfid}")]
    UnknownKfAccount {
        /// The corp.
        corp_id: String,
        /// The account asked for.
        open_kfid: String,
    },
    /// The event to push is not an XML document.
    #[error("the event is not XML: {0}")]
    InvalidEvent(String),
    /// The suite's token or AES key cannot encrypt.
    #[error("cannot encrypt for the suite: {0}")]
    Crypto(#[from] CryptoError),
}

/// A corp's permanent code reset: the new code (the old one is invalid at
/// once), the auth code pushed in `reset_permanent_code`, and the push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PermanentCodeReset {
    /// The auth code pushed, exchanged with `get_permanent_code` for the new code.
    pub auth_code: String,
    /// The new permanent code.
    pub permanent_code: String,
    /// The last attempt of the push.
    #[serde(flatten)]
    pub push: PushRecord,
}

/// `text` fit for a CDATA section.
fn cdata(text: &str) -> String {
    text.replace("]]>", "")
}

/// WeCom's incoming envelope.
fn envelope_xml(to_user_name: &str, encrypt: &str, agent_id: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt><AgentID><![CDATA[{}]]></AgentID></xml>",
        cdata(to_user_name),
        cdata(encrypt),
        cdata(agent_id)
    )
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// One push: what, for whom, where.
struct Push<'a> {
    suite_id: &'a str,
    info_type: &'a str,
    target: PushTarget,
    receive_id: &'a str,
    agent_id: &'a str,
    message: &'a str,
}

/// The URL a push goes to, or why there is none.
fn url_of(shared: &Shared, suite_id: &str, target: PushTarget, corp_id: &str) -> Result<String, PushError> {
    let suite = shared.config.suite(suite_id).ok_or_else(|| PushError::UnknownSuite(suite_id.to_owned()))?;
    let url = match target {
        PushTarget::Command => suite.command_url.clone(),
        PushTarget::Data => suite.data_url.as_ref().map(|url| url.replace("$CORPID$", corp_id)),
    };
    url.ok_or_else(|| PushError::NoUrl { suite_id: suite_id.to_owned(), target })
}

/// Encrypts the message with the suite's key for the receive id and posts
/// it, retrying until acknowledged or [`PUSH_ATTEMPTS`] are made. Returns the
/// last attempt.
async fn deliver(shared: &Shared, push: Push<'_>) -> Result<PushRecord, PushError> {
    let url = url_of(shared, push.suite_id, push.target, push.receive_id)?;
    let suite = shared
        .config
        .suite(push.suite_id)
        .ok_or_else(|| PushError::UnknownSuite(push.suite_id.to_owned()))?;
    let crypt = MsgCrypt::new(&suite.token, &suite.aes_key, push.receive_id)?;
    let timestamp = unix_now(shared).to_string();
    let nonce = random_code(10);
    let sealed = crypt.encrypt(push.message, &timestamp, &nonce)?;
    let envelope = envelope_xml(push.receive_id, &sealed.encrypt, push.agent_id);
    let separator = if url.contains('?') { '&' } else { '?' };
    let target =
        format!("{url}{separator}msg_signature={}&timestamp={timestamp}&nonce={nonce}", sealed.msg_signature);
    let mut attempt = 1;
    loop {
        let sent = shared
            .http
            .post(&target)
            .header(reqwest::header::CONTENT_TYPE, "text/xml")
            .timeout(PUSH_TIMEOUT)
            .body(envelope.clone())
            .send()
            .await;
        let (status, body) = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.text().await {
                    Ok(body) => (status, body),
                    Err(e) if e.is_timeout() => (0, "timed out".to_owned()),
                    Err(e) => (0, format!("answer unreadable: {}", e.without_url())),
                }
            }
            Err(e) if e.is_timeout() => (0, "timed out".to_owned()),
            Err(e) => (0, format!("connection failed: {}", e.without_url())),
        };
        let record = PushRecord {
            suite_id: push.suite_id.to_owned(),
            info_type: push.info_type.to_owned(),
            url: url.clone(),
            receive_id: push.receive_id.to_owned(),
            attempt,
            status,
            body,
        };
        shared.state().pushes.push(record.clone());
        if record.acknowledged() || attempt >= PUSH_ATTEMPTS {
            if !record.acknowledged() {
                tracing::warn!(suite = %push.suite_id, info_type = %push.info_type, status, "push not acknowledged");
            }
            return Ok(record);
        }
        attempt += 1;
    }
}

/// A command-URL push of suite-level `message` (receive id = suite id,
/// empty `AgentID`).
async fn command(
    shared: &Shared,
    suite_id: &str,
    info_type: &str,
    message: &str,
) -> Result<PushRecord, PushError> {
    let push = Push {
        suite_id,
        info_type,
        target: PushTarget::Command,
        receive_id: suite_id,
        agent_id: "",
        message,
    };
    deliver(shared, push).await
}

/// Stores a new ticket for `suite_id` as pushed at `at` (keeping those still
/// valid then) and returns it.
pub(super) fn issue_ticket(state: &mut super::State, suite_id: &str, at: SystemTime) -> String {
    let ticket = random_code(64);
    let tickets = state.tickets.entry(suite_id.to_owned()).or_default();
    tickets.retain(|(_, pushed)| at.duration_since(*pushed).map_or(true, |age| age < TICKET_VALIDITY));
    tickets.push((ticket.clone(), at));
    let last = state.last_ticket_push.entry(suite_id.to_owned()).or_insert(at);
    if *last < at {
        *last = at;
    }
    ticket
}

/// Pushes `ticket`, issued at `at`, to the suite's command URL.
pub(super) async fn push_ticket(
    shared: &Shared,
    suite_id: &str,
    ticket: &str,
    at: SystemTime,
) -> Result<PushRecord, PushError> {
    let message = format!(
        "<xml><SuiteId><![CDATA[{}]]></SuiteId><InfoType><![CDATA[suite_ticket]]></InfoType><TimeStamp>{}</TimeStamp><SuiteTicket><![CDATA[{ticket}]]></SuiteTicket></xml>",
        cdata(suite_id),
        unix(at)
    );
    command(shared, suite_id, "suite_ticket", &message).await
}

/// A new ticket, valid 30 minutes, pushed now. Returns it and the push.
pub(crate) async fn suite_ticket(shared: &Shared, suite_id: &str) -> Result<(String, PushRecord), PushError> {
    url_of(shared, suite_id, PushTarget::Command, "")?;
    let now = shared.now();
    let ticket = issue_ticket(&mut shared.state(), suite_id, now);
    let record = push_ticket(shared, suite_id, &ticket, now).await?;
    Ok((ticket, record))
}

/// A single-use auth code for `corp_id`, valid 10 minutes.
pub(super) fn issue_auth_code(shared: &Shared, suite_id: &str, corp_id: &str, state: &str) -> String {
    let code = random_code(64);
    let expires_at = shared.now() + AUTH_CODE_LIFETIME;
    let entry = AuthCode {
        suite_id: suite_id.to_owned(),
        corp_id: corp_id.to_owned(),
        expires_at,
        used: false,
        state: state.to_owned(),
    };
    shared.state().auth_codes.insert(code.clone(), entry);
    code
}

/// An admin authorizes: a single-use auth code, pushed in create_auth with
/// the install link's `state` (empty when authorized another way).
/// Returns the code and the push.
pub(crate) async fn authorize(
    shared: &Shared,
    suite_id: &str,
    corp_id: &str,
    state: &str,
) -> Result<(String, PushRecord), PushError> {
    if corp_id.is_empty() {
        return Err(PushError::MissingCorp);
    }
    url_of(shared, suite_id, PushTarget::Command, corp_id)?;
    let code = issue_auth_code(shared, suite_id, corp_id, state);
    let message = format!(
        "<xml><SuiteId><![CDATA[{}]]></SuiteId><AuthCode><![CDATA[{code}]]></AuthCode><InfoType><![CDATA[create_auth]]></InfoType><TimeStamp>{}</TimeStamp><State><![CDATA[{}]]></State><ExtraInfo></ExtraInfo></xml>",
        cdata(suite_id),
        unix_now(shared),
        cdata(state)
    );
    let record = command(shared, suite_id, "create_auth", &message).await?;
    Ok((code, record))
}

fn corp_event(shared: &Shared, suite_id: &str, corp_id: &str, info_type: &str) -> String {
    format!(
        "<xml><SuiteId><![CDATA[{}]]></SuiteId><InfoType><![CDATA[{info_type}]]></InfoType><TimeStamp>{}</TimeStamp><AuthCorpId><![CDATA[{}]]></AuthCorpId></xml>",
        cdata(suite_id),
        unix_now(shared),
        cdata(corp_id)
    )
}

/// The corp cancels: its permanent code and tokens die, cancel_auth is pushed.
pub(crate) async fn cancel(shared: &Shared, suite_id: &str, corp_id: &str) -> Result<PushRecord, PushError> {
    if corp_id.is_empty() {
        return Err(PushError::MissingCorp);
    }
    url_of(shared, suite_id, PushTarget::Command, corp_id)?;
    {
        let mut state = shared.state();
        let key = SuiteCorp::new(suite_id, corp_id);
        state.permanent_codes.retain(|_, authorized| *authorized != key);
        let owner = Owner::Corp(key);
        let dead: Vec<String> =
            state.issued.iter().filter(|(_, i)| i.owner == owner).map(|(t, _)| t.clone()).collect();
        for token in dead {
            if let Some(issued) = state.issued.remove(&token) {
                state.current.remove(&issued.owner);
            }
        }
    }
    command(shared, suite_id, "cancel_auth", &corp_event(shared, suite_id, corp_id, "cancel_auth")).await
}

/// The corp changes its authorization: change_auth is pushed.
pub(crate) async fn change(shared: &Shared, suite_id: &str, corp_id: &str) -> Result<PushRecord, PushError> {
    if corp_id.is_empty() {
        return Err(PushError::MissingCorp);
    }
    command(shared, suite_id, "change_auth", &corp_event(shared, suite_id, corp_id, "change_auth")).await
}

/// The provider resets an authorized corp's permanent code (a 代开发 app's
/// secret): a new code replaces the old one at once, and an auth code to get
/// it is pushed in reset_permanent_code.
pub(crate) async fn reset_permanent_code(
    shared: &Shared,
    suite_id: &str,
    corp_id: &str,
) -> Result<PermanentCodeReset, PushError> {
    if corp_id.is_empty() {
        return Err(PushError::MissingCorp);
    }
    url_of(shared, suite_id, PushTarget::Command, corp_id)?;
    let permanent_code = {
        let mut state = shared.state();
        let key = SuiteCorp::new(suite_id, corp_id);
        let before = state.permanent_codes.len();
        state.permanent_codes.retain(|_, authorized| *authorized != key);
        if state.permanent_codes.len() == before {
            return Err(PushError::NotAuthorized {
                suite_id: suite_id.to_owned(),
                corp_id: corp_id.to_owned(),
            });
        }
        let code = format!("{PERMANENT_CODE_PREFIX}{}", random_code(32));
        state.permanent_codes.insert(code.clone(), key);
        code
    };
    let auth_code = issue_auth_code(shared, suite_id, corp_id, "");
    let message = format!(
        "<xml><SuiteId><![CDATA[{}]]></SuiteId><AuthCode><![CDATA[{auth_code}]]></AuthCode><InfoType><![CDATA[reset_permanent_code]]></InfoType><TimeStamp>{}</TimeStamp></xml>",
        cdata(suite_id),
        unix_now(shared)
    );
    let push = command(shared, suite_id, "reset_permanent_code", &message).await?;
    Ok(PermanentCodeReset { auth_code, permanent_code, push })
}

/// What an event is called: its `InfoType`, else its `Event`, else its
/// `MsgType`; and its `AgentID` (empty when it has none).
fn describe(xml: &str) -> Result<(String, String), PushError> {
    let fields = crate::xml::to_json(xml.trim()).map_err(PushError::InvalidEvent)?;
    let text = |name: &str| match fields.get(name) {
        Some(serde_json::Value::String(s)) => Some(s.trim().to_owned()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let info_type = ["InfoType", "Event", "MsgType"]
        .iter()
        .find_map(|name| text(name).filter(|t| !t.is_empty()))
        .unwrap_or_else(|| "event".to_owned());
    Ok((info_type, text("AgentID").unwrap_or_default()))
}

/// Pushes the plain event `xml` for `corp_id`: to the data URL encrypted for
/// the corp id (its `AgentID`, if any, in the envelope), or to the command
/// URL encrypted for the suite id.
pub(crate) async fn event(
    shared: &Shared,
    suite_id: &str,
    corp_id: &str,
    xml: &str,
    target: PushTarget,
) -> Result<PushRecord, PushError> {
    let (info_type, agent_id) = describe(xml)?;
    let push = match target {
        PushTarget::Data => {
            if corp_id.is_empty() {
                return Err(PushError::MissingCorp);
            }
            Push {
                suite_id,
                info_type: &info_type,
                target,
                receive_id: corp_id,
                agent_id: &agent_id,
                message: xml,
            }
        }
        PushTarget::Command => {
            Push { suite_id, info_type: &info_type, target, receive_id: suite_id, agent_id: "", message: xml }
        }
    };
    deliver(shared, push).await
}
