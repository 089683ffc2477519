//! The emulator's side of callbacks: encrypted pushes to a suite's command
//! URL, as WeCom makes them (suite tickets, create_auth, change_auth,
//! cancel_auth).

use serde::Serialize;

use super::{random_code, unix_now, AuthCode, Shared, AUTH_CODE_LIFETIME};
use crate::crypto::{reply_xml, MsgCrypt};

/// One push and how the ISV answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushRecord {
    /// The suite pushed for.
    pub suite_id: String,
    /// The `InfoType`.
    pub info_type: String,
    /// The URL pushed to.
    pub url: String,
    /// The HTTP status of the answer (0 when the connection failed).
    pub status: u16,
    /// The answer's body (`success` is what WeCom expects).
    pub body: String,
}

impl PushRecord {
    /// Whether the ISV answered exactly `success`.
    pub fn acknowledged(&self) -> bool {
        self.status == 200 && self.body == "success"
    }
}

/// Encrypts `message` with the suite's key for receive id = suite id and
/// posts it to the suite's command URL.
async fn push(shared: &Shared, suite_id: &str, info_type: &str, message: &str) -> Result<PushRecord, String> {
    let suite = shared.config.suite(suite_id).ok_or_else(|| format!("suite {suite_id} is not registered"))?;
    let url = suite.command_url.clone().ok_or_else(|| format!("suite {suite_id} has no command URL"))?;
    let crypt = MsgCrypt::new(&suite.token, &suite.aes_key, suite_id).map_err(|e| e.to_string())?;
    let timestamp = unix_now(shared).to_string();
    let nonce = random_code(10);
    let sealed = crypt.encrypt(message, &timestamp, &nonce).map_err(|e| e.to_string())?;
    let envelope = reply_xml(&sealed, &timestamp, &nonce);
    let separator = if url.contains('?') { '&' } else { '?' };
    let target =
        format!("{url}{separator}msg_signature={}&timestamp={timestamp}&nonce={nonce}", sealed.msg_signature);
    let (status, body) = match shared.http.post(&target).body(envelope).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        Err(e) => (0, format!("connection failed: {}", e.without_url())),
    };
    let record =
        PushRecord { suite_id: suite_id.to_owned(), info_type: info_type.to_owned(), url, status, body };
    shared.state().pushes.push(record.clone());
    Ok(record)
}

/// A new ticket, valid 30 minutes, pushed now.
pub(crate) async fn suite_ticket(shared: &Shared, suite_id: &str) -> Result<PushRecord, String> {
    let ticket = random_code(64);
    let now = shared.now();
    {
        let mut state = shared.state();
        state.tickets.entry(suite_id.to_owned()).or_default().push((ticket.clone(), now));
        state.last_ticket_push.insert(suite_id.to_owned(), now);
    }
    let message = format!(
        "<xml><SuiteId><![CDATA[{suite_id}]]></SuiteId><InfoType><![CDATA[suite_ticket]]></InfoType><TimeStamp>{}</TimeStamp><SuiteTicket><![CDATA[{ticket}]]></SuiteTicket></xml>",
        unix_now(shared)
    );
    push(shared, suite_id, "suite_ticket", &message).await
}

/// An admin authorizes: a single-use auth code, pushed in create_auth.
pub(crate) async fn authorize(shared: &Shared, suite_id: &str, corp_id: &str) -> Result<String, String> {
    if corp_id.is_empty() {
        return Err("a corp id is needed".into());
    }
    let code = random_code(64);
    let expires_at = shared.now() + AUTH_CODE_LIFETIME;
    shared.state().auth_codes.insert(
        code.clone(),
        AuthCode { suite_id: suite_id.to_owned(), corp_id: corp_id.to_owned(), expires_at, used: false },
    );
    let message = format!(
        "<xml><SuiteId><![CDATA[{suite_id}]]></SuiteId><AuthCode><![CDATA[{code}]]></AuthCode><InfoType><![CDATA[create_auth]]></InfoType><TimeStamp>{}</TimeStamp><State><![CDATA[]]></State><ExtraInfo></ExtraInfo></xml>",
        unix_now(shared)
    );
    push(shared, suite_id, "create_auth", &message).await?;
    Ok(code)
}

fn corp_event(shared: &Shared, suite_id: &str, corp_id: &str, info_type: &str) -> String {
    format!(
        "<xml><SuiteId><![CDATA[{suite_id}]]></SuiteId><InfoType><![CDATA[{info_type}]]></InfoType><TimeStamp>{}</TimeStamp><AuthCorpId><![CDATA[{corp_id}]]></AuthCorpId></xml>",
        unix_now(shared)
    )
}

/// The corp cancels: its permanent code and tokens die, cancel_auth is pushed.
pub(crate) async fn cancel(shared: &Shared, suite_id: &str, corp_id: &str) -> Result<PushRecord, String> {
    {
        let mut state = shared.state();
        state.permanent_codes.retain(|_, (s, c)| !(s == suite_id && c == corp_id));
        let owner = format!("{suite_id}/{corp_id}");
        let dead: Vec<String> =
            state.issued.iter().filter(|(_, i)| i.owner.owner == owner).map(|(t, _)| t.clone()).collect();
        for token in dead {
            if let Some(issued) = state.issued.remove(&token) {
                state.current.remove(&issued.owner);
            }
        }
    }
    push(shared, suite_id, "cancel_auth", &corp_event(shared, suite_id, corp_id, "cancel_auth")).await
}

/// The corp changes its authorization: change_auth is pushed.
pub(crate) async fn change(shared: &Shared, suite_id: &str, corp_id: &str) -> Result<PushRecord, String> {
    push(shared, suite_id, "change_auth", &corp_event(shared, suite_id, corp_id, "change_auth")).await
}
