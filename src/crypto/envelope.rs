//! Callback bodies: the encrypted envelope WeCom posts (XML or JSON), and the
//! encrypted replies sent back.
//!
//! The callback server finds the ciphertext of a posted body with
//! [`find_encrypt`], a scan that builds no tree and stops at the ciphertext,
//! so that the signature is checked before anything else of the body is
//! read. [`parse_envelope`] reads the whole envelope, for users who want its
//! other fields.

use std::borrow::Cow;

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

/// Reads a whole envelope into its fields; XML text is trimmed (pushes
/// carry stray spaces).
///
/// It parses the whole body before anything is verified: the callback
/// server does not use it, it opens a push with [`super::MsgCrypt::open_body`]
/// (which checks the signature before reading more than the ciphertext).
/// Use it for the envelope's other fields (`ToUserName`, `AgentID`), or on
/// bodies already verified.
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

/// Strips a byte-order mark and leading whitespace.
fn trim_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let start = body.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(body.len());
    &body[start..]
}

/// Where `needle` next occurs in `haystack` at or after `from`.
fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = haystack.get(from..)?;
    match needle {
        [byte] => memchr::memchr(*byte, rest),
        _ => memchr::memmem::find(rest, needle),
    }
    .map(|i| from + i)
}

/// The format of a posted body and its ciphertext (trimmed), found by a
/// scan that builds no tree and reads nothing past the ciphertext: in XML
/// the text or CDATA of the first `<Encrypt>` child of the root element
/// (after any prolog, comments and other elements); in JSON (a body
/// starting with `{`) the first top-level `encrypt` member, in any case.
/// Never panics; a body without a ciphertext is [`CryptoError::ParseXml`]
/// or [`CryptoError::ParseJson`].
pub(crate) fn find_encrypt(body: &[u8]) -> Result<(EnvelopeFormat, Cow<'_, str>), CryptoError> {
    let body = trim_start(body);
    if body.first() == Some(&b'{') {
        let encrypt = json_encrypt(body).map_err(|m| CryptoError::ParseJson(m.into()))?;
        return Ok((EnvelopeFormat::Json, encrypt));
    }
    let encrypt = xml_encrypt(body).map_err(CryptoError::ParseXml)?;
    Ok((EnvelopeFormat::Xml, encrypt))
}

/// A non-empty ciphertext, trimmed.
fn trimmed(text: Cow<'_, str>) -> Option<Cow<'_, str>> {
    let kept = text.trim();
    if kept.is_empty() {
        return None;
    }
    Some(match text {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) if o.len() == o.trim().len() => Cow::Owned(o),
        Cow::Owned(o) => Cow::Owned(o.trim().to_owned()),
    })
}

/// The end (exclusive) of the tag that starts at `start` (a `<`): the first
/// `>` outside quotes.
fn tag_end(body: &[u8], start: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in body.iter().enumerate().skip(start + 1) {
        match (quote, b) {
            (None, b'>') => return Some(i + 1),
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            _ => {}
        }
    }
    None
}

/// The name of the tag whose name starts at `start`.
fn tag_name(body: &[u8], start: usize) -> &[u8] {
    let rest = body.get(start..).unwrap_or_default();
    let len =
        rest.iter().position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>')).unwrap_or(rest.len());
    &rest[..len]
}

/// The ciphertext of an XML body; see [`find_encrypt`].
fn xml_encrypt(body: &[u8]) -> Result<Cow<'_, str>, String> {
    let mut depth = 0usize;
    let mut root_closed = false;
    let mut i = 0;
    loop {
        let Some(lt) = find(body, i, b"<") else {
            return Err("no Encrypt element".into());
        };
        if depth == 0 && !body[i..lt].iter().all(u8::is_ascii_whitespace) {
            return Err("text outside the root element".into());
        }
        let rest = &body[lt..];
        i = if rest.starts_with(b"<!--") {
            find(body, lt + 4, b"-->").ok_or("an unclosed comment")? + 3
        } else if rest.starts_with(b"<![CDATA[") {
            if depth == 0 {
                return Err("CDATA outside the root element".into());
            }
            find(body, lt + 9, b"]]>").ok_or("an unclosed CDATA section")? + 3
        } else if rest.starts_with(b"<?") {
            find(body, lt + 2, b"?>").ok_or("an unclosed processing instruction")? + 2
        } else if rest.starts_with(b"<!") {
            find(body, lt + 2, b">").ok_or("an unclosed declaration")? + 1
        } else if rest.starts_with(b"</") {
            depth = depth.checked_sub(1).ok_or("a closing tag without an opening one")?;
            root_closed |= depth == 0;
            tag_end(body, lt).ok_or("an unclosed tag")?
        } else {
            let name = tag_name(body, lt + 1);
            if name.is_empty() {
                return Err(format!("a malformed tag at byte {lt}"));
            }
            if root_closed {
                return Err("content after the root element".into());
            }
            let end = tag_end(body, lt).ok_or("an unclosed tag")?;
            let empty = body[..end].ends_with(b"/>");
            if depth == 1 && name.eq_ignore_ascii_case(b"Encrypt") {
                if empty {
                    return Err("an empty Encrypt element".into());
                }
                return xml_text(body, end)
                    .and_then(|t| trimmed(t).ok_or_else(|| "an empty Encrypt element".into()));
            }
            if !empty {
                depth += 1;
            }
            end
        };
    }
}

/// The text of the `<Encrypt>` element whose content starts at `start`: its
/// text (entities resolved) and CDATA, up to `</Encrypt>`.
fn xml_text(body: &[u8], start: usize) -> Result<Cow<'_, str>, String> {
    let utf8 = |bytes| std::str::from_utf8(bytes).map_err(|_| "the Encrypt text is not UTF-8".to_owned());
    let mut pieces: Vec<Cow<'_, str>> = Vec::new();
    let mut i = start;
    loop {
        let lt = find(body, i, b"<").ok_or("the body ends inside Encrypt")?;
        let text = utf8(&body[i..lt])?;
        if !text.is_empty() {
            pieces.push(quick_xml::escape::unescape(text).map_err(|e| format!("in the Encrypt text: {e}"))?);
        }
        let rest = &body[lt..];
        if rest.starts_with(b"<![CDATA[") {
            let end = find(body, lt + 9, b"]]>").ok_or("an unclosed CDATA section")?;
            pieces.push(Cow::Borrowed(utf8(&body[lt + 9..end])?));
            i = end + 3;
        } else if rest.starts_with(b"<!--") {
            i = find(body, lt + 4, b"-->").ok_or("an unclosed comment")? + 3;
        } else if rest.starts_with(b"</") && tag_name(body, lt + 2).eq_ignore_ascii_case(b"Encrypt") {
            tag_end(body, lt).ok_or("an unclosed tag")?;
            break;
        } else {
            return Err("Encrypt holds something other than text".into());
        }
    }
    Ok(match pieces.len() {
        0 => Cow::Borrowed(""),
        1 => pieces.remove(0),
        _ => Cow::Owned(pieces.concat()),
    })
}

fn skip_whitespace(body: &[u8], mut i: usize) -> usize {
    while body.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The end (exclusive) of the JSON string whose opening quote is at `start`.
fn json_string_end(body: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while let Some(&b) = body.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end (exclusive) of the JSON value starting at `start`, found without
/// reading it: strings are skipped whole, brackets counted.
fn json_value_end(body: &[u8], start: usize) -> Option<usize> {
    match body.get(start)? {
        b'"' => json_string_end(body, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while let Some(&b) = body.get(i) {
                match b {
                    b'"' => {
                        i = json_string_end(body, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let len = body[start..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(body.len() - start);
            (len > 0).then_some(start + len)
        }
    }
}

/// A JSON string (with its quotes) as text, escapes resolved.
fn json_string(quoted: &[u8]) -> Result<Cow<'_, str>, &'static str> {
    let inner = &quoted[1..quoted.len() - 1];
    // Without escapes or control characters the text is the string itself;
    // otherwise serde_json resolves (or refuses) them.
    if !inner.iter().any(|&b| b == b'\\' || b < 0x20) {
        return std::str::from_utf8(inner).map(Cow::Borrowed).map_err(|_| "a string is not UTF-8");
    }
    serde_json::from_slice::<String>(quoted).map(Cow::Owned).map_err(|_| "a malformed string")
}

/// The ciphertext of a JSON body; see [`find_encrypt`].
fn json_encrypt(body: &[u8]) -> Result<Cow<'_, str>, &'static str> {
    // `body` starts with `{`.
    let mut i = skip_whitespace(body, 1);
    if body.get(i) == Some(&b'}') {
        return Err("no encrypt member");
    }
    loop {
        if body.get(i) != Some(&b'"') {
            return Err("a member name is not a string");
        }
        let key_end = json_string_end(body, i).ok_or("an unclosed string")?;
        let key = json_string(&body[i..key_end])?;
        i = skip_whitespace(body, key_end);
        if body.get(i) != Some(&b':') {
            return Err("a member name without a `:`");
        }
        let value = skip_whitespace(body, i + 1);
        if key.eq_ignore_ascii_case("encrypt") {
            if body.get(value) != Some(&b'"') {
                return Err("encrypt is not a string");
            }
            let end = json_string_end(body, value).ok_or("an unclosed string")?;
            return trimmed(json_string(&body[value..end])?).ok_or("an empty encrypt member");
        }
        let end = json_value_end(body, value).ok_or("a malformed value")?;
        i = skip_whitespace(body, end);
        match body.get(i) {
            Some(b',') => i = skip_whitespace(body, i + 1),
            Some(b'}') => return Err("no encrypt member"),
            _ => return Err("expected `,` or `}` after a member"),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn found(body: &str) -> Result<(EnvelopeFormat, String), CryptoError> {
        find_encrypt(body.as_bytes()).map(|(format, text)| (format, text.into_owned()))
    }

    #[test]
    fn the_ciphertext_is_found_in_xml_as_wecom_and_others_write_it() {
        let xml = |text: &str| Ok((EnvelopeFormat::Xml, text.to_owned()));
        for body in [
            "<xml><Encrypt><![CDATA[abc=]]></Encrypt></xml>",
            "\u{feff} \n<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- a comment <Encrypt>no</Encrypt> -->\
             <!DOCTYPE xml><xml>\n  <ToUserName><![CDATA[<Encrypt>no</Encrypt>]]></ToUserName>\n  \
             <AgentID a=\"<Encrypt>\" b='>'>1</AgentID><Empty/><Outer><Encrypt>nested</Encrypt></Outer>\
             <Encrypt>\n abc= \n</Encrypt><Encrypt>second</Encrypt></xml>",
            "<xml><encrypt> <![CDATA[ab]]><!-- split -->c= </encrypt ></xml>",
            "<xml><Encrypt>ab&#99;&#x3D;</Encrypt><After><<<garbage",
        ] {
            assert_eq!(found(body), xml("abc="), "{body}");
        }
        // What parse_envelope reads, find_encrypt finds.
        let body = "<xml><ToUserName><![CDATA[ww]]></ToUserName><Encrypt>\n<![CDATA[x/y+z=]]>\n</Encrypt><AgentID>1</AgentID></xml>";
        let parsed = parse_envelope(body.as_bytes()).map(|e| (e.format, e.encrypt));
        assert_eq!(found(body), parsed);
    }

    #[test]
    fn xml_without_a_ciphertext_is_refused() {
        for body in [
            "",
            "   ",
            "<xml></xml>",
            "<xml><Encrypt/></xml>",
            "<xml><Encrypt> <![CDATA[ ]]> </Encrypt></xml>",
            "<xml><Encrypt>abc",
            "<xml><Encrypt>abc</Other></xml>",
            "<xml><Encrypt><Inner>abc</Inner></Encrypt></xml>",
            "<xml><Encrypt><![CDATA[abc</Encrypt></xml>",
            "<xml><Encrypt>a&bogus;c</Encrypt></xml>",
            "<Encrypt>abc</Encrypt>",
            "text<xml><Encrypt>abc</Encrypt></xml>",
            "<xml></xml><xml><Encrypt>abc</Encrypt></xml>",
            "</xml><xml><Encrypt>abc</Encrypt></xml>",
            "<xml><!-- <Encrypt>abc</Encrypt>",
            "<xml><a b=\"></a><Encrypt>abc</Encrypt></xml>",
            "< xml><Encrypt>abc</Encrypt></xml>",
        ] {
            let err = found(body).unwrap_err();
            assert!(matches!(err, CryptoError::ParseXml(_)), "{body}: {err:?}");
        }
        let not_utf8 = b"<xml><Encrypt>ab\xffc</Encrypt></xml>";
        assert!(matches!(find_encrypt(not_utf8), Err(CryptoError::ParseXml(_))));
        // Bytes that are not UTF-8 elsewhere are not read.
        let elsewhere = b"<xml><A>\xff</A><Encrypt>abc</Encrypt>\xfe";
        assert_eq!(find_encrypt(elsewhere).map(|(_, t)| t.into_owned()), Ok("abc".into()));
    }

    #[test]
    fn the_ciphertext_is_found_in_json_without_reading_the_rest() {
        let json = |text: &str| Ok((EnvelopeFormat::Json, text.to_owned()));
        for body in [
            r#"{"encrypt":"abc="}"#,
            "\u{feff}\n { \"tousername\" : \"ww\", \"agentid\": 1, \"n\": null, \"b\": true, \"f\": -1.5e3,\
             \"o\": {\"encrypt\": \"no\", \"s\": \"}]\\\"{\"}, \"l\": [[\"encrypt\"], {}],\n \"Encrypt\" : \" abc= \" , \"encrypt\": \"second\"}",
            r#"{"ENCRYPT":"ab\u0063\u003d"}"#,
            r#"{"encr\u0079pt":"abc="}"#,
            r#"{"encrypt":"abc=","x":[[[[[[[[garbage"#,
        ] {
            assert_eq!(found(body), json("abc="), "{body}");
        }
        // Slashes escaped, as some encoders write base64.
        assert_eq!(found(r#"{"encrypt":"a\/b+c="}"#), json("a/b+c="));
        let body = r#"{"tousername":"ww","encrypt":"x/y+z=","agentid":"1"}"#;
        let parsed = parse_envelope(body.as_bytes()).map(|e| (e.format, e.encrypt));
        assert_eq!(found(body), parsed);
    }

    #[test]
    fn json_without_a_ciphertext_is_refused() {
        for body in [
            "{",
            "{}",
            "{ }",
            r#"{"encrypt":1}"#,
            r#"{"encrypt":null}"#,
            r#"{"encrypt":["abc"]}"#,
            r#"{"encrypt":" "}"#,
            r#"{"encrypt":"abc"#,
            r#"{"encrypt" "abc"}"#,
            r#"{encrypt:"abc"}"#,
            r#"{"a":1}"#,
            r#"{"a":1 "encrypt":"abc"}"#,
            r#"{"a":{"b":"}"},"encrypt""#,
            r#"{"a":,"encrypt":"abc"}"#,
            r#"{"a":[1,2,"encrypt":"abc"}"#,
            r#"{"encrypt":"a\qb"}"#,
            "{\"encrypt\":\"a\u{1}b\"}",
        ] {
            let err = found(body).unwrap_err();
            assert!(matches!(err, CryptoError::ParseJson(_)), "{body}: {err:?}");
        }
        assert!(matches!(find_encrypt(b"{\"encrypt\":\"a\xffb\"}"), Err(CryptoError::ParseJson(_))));
    }
}
