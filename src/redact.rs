//! Redaction: what an error or a log line may show of a body WeCom sent or
//! a value serde refused, with the values of secret-named keys taken out.
//! Kept apart from the error type so both the call loop and the errors use
//! one rule (the names are [`crate::secret::is_secret_name`]'s).

use crate::secret::is_secret_name;

/// How much of an unexpected response body an error keeps, for diagnosis.
pub(crate) const KEPT_BODY_BYTES: usize = 1024;

/// The start of a body, for error messages, with secrets redacted (see
/// [`redact_secrets`]).
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let end = body.len().min(KEPT_BODY_BYTES);
    redact_secrets(&String::from_utf8_lossy(&body[..end]))
}

/// What stands in for a redacted value.
const REDACTED: &str = "<redacted>";

/// The end (exclusive) of the JSON string whose opening quote is at
/// `start`, and whether it was closed before the text ran out.
fn string_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return (i + 1, true),
            _ => i += 1,
        }
    }
    (bytes.len(), false)
}

fn skip_whitespace(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// `text` with the values of secret-named keys replaced by `<redacted>`:
/// JSON members (`"permanent_code": "…"`, strings or bare scalars, also when
/// the text is cut short or not JSON at all) and query parameters
/// (`?access_token=…`). Never panics.
pub(crate) fn redact_secrets(text: &str) -> String {
    redact_query_values(&redact_json_values(text))
}

fn redact_json_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // Everything before `copied` is in `out`; positions are ASCII bytes or
    // the end, so every slice falls on a character boundary.
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let (key_end, closed) = string_end(bytes, i);
        if !closed {
            break;
        }
        let key = text.get(i + 1..key_end - 1).unwrap_or_default();
        let colon = skip_whitespace(bytes, key_end);
        if colon >= bytes.len() || bytes[colon] != b':' || !is_secret_name(key) {
            // Not a member name, or not a secret's: go on after the string.
            i = key_end;
            continue;
        }
        let value = skip_whitespace(bytes, colon + 1);
        if value >= bytes.len() {
            break;
        }
        let value_end = match bytes[value] {
            b'"' => {
                let (end, closed) = string_end(bytes, value);
                out.push_str(text.get(copied..value + 1).unwrap_or_default());
                out.push_str(REDACTED);
                if closed {
                    out.push('"');
                }
                copied = end;
                i = end;
                continue;
            }
            // An object or array: its members are scanned in turn.
            b'{' | b'[' => {
                i = value;
                continue;
            }
            _ => bytes[value..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .map_or(bytes.len(), |n| value + n),
        };
        if value_end == value {
            i = value;
            continue;
        }
        out.push_str(text.get(copied..value).unwrap_or_default());
        out.push_str(REDACTED);
        copied = value_end;
        i = value_end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

fn redact_query_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // A parameter name starts the text or follows `?`, `&`, a quote or a space.
        let starts_name = i == 0
            || matches!(bytes[i - 1], b'?' | b'&' | b'"' | b'\'')
            || bytes[i - 1].is_ascii_whitespace();
        if !starts_name || !(bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
            continue;
        }
        let name_end = bytes[i..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .map_or(bytes.len(), |n| i + n);
        let name = text.get(i..name_end).unwrap_or_default();
        if name_end >= bytes.len() || bytes[name_end] != b'=' || !is_secret_name(name) {
            i = name_end.max(i + 1);
            continue;
        }
        let value = name_end + 1;
        let value_end = bytes[value..]
            .iter()
            .position(|b| {
                matches!(b, b'&' | b'#' | b'"' | b'\'' | b'<' | b'>' | b',') || b.is_ascii_whitespace()
            })
            .map_or(bytes.len(), |n| value + n);
        if value_end > value {
            out.push_str(text.get(copied..value).unwrap_or_default());
            out.push_str(REDACTED);
            copied = value_end;
        }
        i = value_end.max(i + 1);
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// serde's error with any value it quotes (`string "…"`, `` integer `…` ``, …)
/// redacted, as a secret may be what did not decode; unchanged when it
/// quotes none. The position is kept in the message.
pub(crate) fn redact_serde_error(error: serde_json::Error) -> serde_json::Error {
    let message = error.to_string();
    let redacted = redact_quoted(&message);
    if redacted == message {
        return error;
    }
    // `to_string` already ends with " at line L column C" when known.
    <serde_json::Error as serde::de::Error>::custom(redacted)
}

/// `string "…"` (Rust-escaped, as serde quotes strings) and
/// `` variant `…` ``, `` integer `…` ``, `` floating point `…` `` and
/// `` character `…` `` spans with their contents replaced.
fn redact_quoted(message: &str) -> String {
    let bytes = message.as_bytes();
    let mut out = String::with_capacity(message.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'"' if message.get(..i).is_some_and(|before| before.ends_with("string ")) => {
                string_end(bytes, i).0
            }
            b'`' if message.get(..i).is_some_and(|before| {
                ["variant ", "integer ", "floating point ", "character "].iter().any(|p| before.ends_with(p))
            }) =>
            {
                bytes[i + 1..].iter().position(|b| *b == b'`').map_or(bytes.len(), |n| i + n + 2)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let quote = if bytes[i] == b'"' { "\"" } else { "`" };
        out.push_str(message.get(copied..i).unwrap_or_default());
        out.push_str(quote);
        out.push_str(REDACTED);
        out.push_str(quote);
        copied = end;
        i = end;
    }
    out.push_str(message.get(copied..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{hint_of, ip_of};

    /// Random and edge-case inputs: the parsers and the redaction never
    /// panic, and redaction never lets a secret's value through.
    #[test]
    fn parsing_and_redaction_never_panic() {
        let pieces = [
            "from ip:",
            "from ip: ",
            "hint: [",
            "]",
            ",",
            " ",
            "1.2.3.4",
            "::",
            "\"",
            "\\",
            ":",
            "{",
            "}",
            "[",
            "\"permanent_code\"",
            "\"code\"",
            "=",
            "&",
            "?",
            "access_token",
            "é",
            "中",
            "\u{fffd}",
            "`",
            "variant ",
            "string ",
            "\n",
            "<redacted>",
        ];
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..rng.usize(0..12) {
                if rng.bool() {
                    text.push_str(pieces[rng.usize(0..pieces.len())]);
                } else {
                    text.push(rng.char(..));
                }
            }
            let _ = ip_of(&text);
            let _ = hint_of(&text);
            let _ = redact_quoted(&text);
            let redacted = redact_secrets(&text);
            let _ = body_excerpt(text.as_bytes());
            // Also on arbitrary bytes cut anywhere.
            let bytes: Vec<u8> = (0..rng.usize(0..40)).map(|_| rng.u8(..)).collect();
            let _ = body_excerpt(&bytes);
            // In valid JSON, a secret after any other member stays hidden.
            let other = serde_json::to_string(&text).unwrap_or_default();
            let body = format!("{{\"x\":{other},\"permanent_code\":\"SECRET-{}\"}}", rng.u32(..));
            assert!(!redact_secrets(&body).contains("SECRET-"), "{body}");
            assert!(!redacted.contains("SECRET-") || text.contains("SECRET-"));
        }
    }

    #[test]
    fn secret_values_are_redacted_json_or_not() {
        let body = r#"{"errcode":0,"errmsg":"ok","access_token":"AT-1","permanent_code" : "PC-2",
            "auth_corp_info":{"corpid":"wwcorp","corp_name":"名字"},"expires_in":7200,
            "suite_ticket":"ST-3","corpsecret":"CS-4","code":12345,"pre_auth_code":"PA-5",
            "AuthCode":"AC-6","user_ticket":"UT-7","provider_secret":"PS-8","qr_code":"QR-9",
            "escaped_token":"E\"S\\C-10","nested":{"suite_access_token":"SAT-11"},"list":["not-a-secret"]}"#;
        let redacted = redact_secrets(body);
        for secret in [
            "AT-1", "PC-2", "ST-3", "CS-4", "12345", "PA-5", "AC-6", "UT-7", "PS-8", "QR-9", "C-10", "SAT-11",
        ] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
        for kept in
            ["\"errcode\":0", "wwcorp", "名字", "7200", "not-a-secret", "\"access_token\":\"<redacted>\""]
        {
            assert!(redacted.contains(kept), "{kept} missing from {redacted}");
        }
        // Cut short inside the value, or before it.
        assert_eq!(
            redact_secrets(r#"{"errcode":0,"permanent_code":"PC-SEC"#),
            r#"{"errcode":0,"permanent_code":"<redacted>"#
        );
        assert_eq!(redact_secrets(r#"{"permanent_code":"#), r#"{"permanent_code":"#);
        assert_eq!(redact_secrets(r#"{"permanent_code"#), r#"{"permanent_code"#);
        assert_eq!(redact_secrets(r#"{"code":123"#), r#"{"code":<redacted>"#);
        // Query strings, as in an echoed URL.
        assert_eq!(
            redact_secrets("GET /cgi-bin/x?suite_access_token=SAT&code=C1&e=60020 failed"),
            "GET /cgi-bin/x?suite_access_token=<redacted>&code=<redacted>&e=60020 failed"
        );
        // The excerpt is cut to 1 KiB and then redacted: a value cut in two is hidden.
        let long = format!("{{\"pad\":\"{}\",\"permanent_code\":\"{}\"}}", "x".repeat(1000), "P".repeat(100));
        let excerpt = body_excerpt(long.as_bytes());
        assert!(!excerpt.contains("PP"), "{excerpt}");
    }

    #[test]
    fn serde_messages_lose_the_values_they_quote() {
        let err = serde_json::from_str::<i64>(r#""PC-SECRET""#).unwrap_err();
        let redacted = redact_serde_error(err).to_string();
        assert!(!redacted.contains("PC-SECRET") && redacted.contains("line 1"), "{redacted}");
        let err = serde_json::from_str::<String>("12345").unwrap_err();
        let redacted = redact_serde_error(err).to_string();
        assert!(!redacted.contains("12345") && redacted.contains("integer"), "{redacted}");
        let err = serde_json::from_str::<i64>("{").unwrap_err();
        let message = err.to_string();
        assert_eq!(redact_serde_error(err).to_string(), message, "no quoted value: unchanged");
        assert_eq!(
            redact_quoted("unknown variant `SEC`, expected `a`"),
            "unknown variant `<redacted>`, expected `a`"
        );
    }
}
