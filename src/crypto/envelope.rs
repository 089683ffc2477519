//! Callback bodies: the encrypted envelope WeCom posts (XML or JSON), and the
//! encrypted replies sent back.

use serde_json::Value;

use super::{CryptoError, Sealed};

/// The body format a callback arrived in (replies use the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeFormat {
    /// `<xml><ToUserName>…</ToUserName><Encrypt>…</Encrypt><AgentID>…</AgentID></xml>`.
    Xml,
    /// `{"tousername": …, "encrypt": …, "agentid": …}`.
    Json,
}

/// The outer, still-encrypted body of a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// XML or JSON.
    pub format: EnvelopeFormat,
    /// `ToUserName`: the suite id or corp id the push is addressed to.
    pub to_user_name: Option<String>,
    /// `Encrypt`: the ciphertext.
    pub encrypt: String,
    /// `AgentID`, empty for command callbacks.
    pub agent_id: Option<String>,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads an envelope; XML text is trimmed (pushes carry stray spaces).
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, CryptoError> {
    let body =
        std::str::from_utf8(body).map_err(|_| CryptoError::ParseXml("the body is not UTF-8".into()))?;
    let trimmed = body.trim_start_matches('\u{feff}').trim_start();
    let (format, fields) = if trimmed.starts_with('{') {
        let value: Value =
            serde_json::from_str(trimmed).map_err(|e| CryptoError::ParseJson(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(CryptoError::ParseJson("the body is not an object".into()));
        };
        (EnvelopeFormat::Json, map)
    } else {
        (EnvelopeFormat::Xml, crate::xml::to_json(trimmed).map_err(CryptoError::ParseXml)?)
    };
    // JSON bodies spell the keys in lowercase; XML in PascalCase.
    let field = |name: &str| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let encrypt = text(field("Encrypt")).filter(|e| !e.is_empty()).ok_or_else(|| match format {
        EnvelopeFormat::Xml => CryptoError::ParseXml("no Encrypt element".into()),
        EnvelopeFormat::Json => CryptoError::ParseJson("no encrypt member".into()),
    })?;
    Ok(Envelope {
        format,
        to_user_name: text(field("ToUserName")),
        encrypt,
        agent_id: text(field("AgentID")),
    })
}

/// The official XML reply around an encrypted message.
pub fn reply_xml(sealed: &Sealed, timestamp: &str, nonce: &str) -> String {
    format!(
        "<xml>\n<Encrypt><![CDATA[{}]]></Encrypt>\n<MsgSignature><![CDATA[{}]]></MsgSignature>\n<TimeStamp>{}</TimeStamp>\n<Nonce><![CDATA[{}]]></Nonce>\n</xml>",
        sealed.encrypt,
        sealed.msg_signature,
        timestamp.replace(|c: char| !c.is_ascii_digit(), ""),
        nonce.replace("]]>", ""),
    )
}

/// The official JSON reply around an encrypted message.
pub fn reply_json(sealed: &Sealed, timestamp: &str, nonce: &str) -> String {
    let timestamp = timestamp.parse::<u64>().map_or_else(|_| Value::from(timestamp), Value::from);
    serde_json::json!({
        "encrypt": sealed.encrypt,
        "msgsignature": sealed.msg_signature,
        "timestamp": timestamp,
        "nonce": nonce,
    })
    .to_string()
}
