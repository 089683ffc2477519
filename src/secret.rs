//! Secrets in configuration: kept as strings, never shown by `Debug`, and
//! serialized as `<redacted>` unless asked for explicitly. Also the one rule
//! telling which names carry a secret ([`is_secret_name`]), used to redact
//! error bodies, callbacks and events.

use std::cell::Cell;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What a secret serializes as, outside [`Secret::exposing`].
pub(crate) const REDACTED: &str = "<redacted>";

/// Why a redacted secret cannot be loaded.
pub(crate) const REDACTED_REFUSED: &str = "is `<redacted>`: this was written without its secrets \
     (serialize inside `Secret::exposing` to write them), put the real secret here";

thread_local! {
    /// How many [`Secret::exposing`] scopes this thread is in.
    static EXPOSING: Cell<u32> = const { Cell::new(0) };
}

/// Names that end like a secret's but are not: a result code, a menu key.
const NOT_SECRET_NAMES: &[&str] = &["errcode", "eventkey"];

/// Names that are a secret's whole name.
const SECRET_NAMES: &[&str] =
    &["code", "key", "authcode", "permanentcode", "preauthcode", "aeskey", "encodingaeskey"];

/// Endings that make a secret's name, written together or apart
/// (`suite_ticket`, `corpsecret`, `AccessToken`).
const SECRET_ENDINGS: &[&str] = &["token", "secret", "ticket", "password", "passwd"];

/// Endings that make a secret's name only as a word of their own
/// (`auth_code`, `AuthCode`, `aes_key`, `EncodingAESKey`; not `errcode`).
const SECRET_WORDS: &[(&str, &str)] = &[("code", "Code"), ("key", "Key")];

/// Whether a JSON key, query parameter or XML element name names a secret:
/// a token, ticket, secret, password, code or key (`access_token`,
/// `suite_ticket`, `permanent_code`, `corpsecret`, `aes_key`, `AuthCode`,
/// `AccessToken`, `ActiveCode`, …), in any case, words apart (`_`, `-`) or
/// together. `errcode`/`ErrCode` and `EventKey` are not secrets.
///
/// The one rule of the crate; the code generator keeps a copy
/// (`wecom_openwork_codegen::sensitive::is_secret_name`) for the events'
/// `Debug`, and a test checks that the two agree.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let joined: String = lower.chars().filter(|c| !matches!(c, '_' | '-')).collect();
    if NOT_SECRET_NAMES.contains(&joined.as_str()) {
        return false;
    }
    SECRET_NAMES.contains(&joined.as_str())
        || SECRET_ENDINGS.iter().any(|ending| joined.ends_with(ending))
        || SECRET_WORDS.iter().any(|(word, capitalized)| {
            name.ends_with(capitalized)
                || lower.strip_suffix(word).is_some_and(|rest| rest.ends_with(['_', '-']))
        })
}

/// `Debug` of a JSON value with the value of every secret-named member
/// ([`is_secret_name`]), at any depth of objects and arrays, shown as
/// `<redacted>`. Objects print as maps, arrays as lists, scalars as
/// [`Value`](serde_json::Value) does.
pub(crate) struct RedactedValue<'a>(pub(crate) &'a serde_json::Value);

impl fmt::Debug for RedactedValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            serde_json::Value::Object(members) => RedactedMembers(members).fmt(f),
            serde_json::Value::Array(items) => {
                f.debug_list().entries(items.iter().map(RedactedValue)).finish()
            }
            scalar => scalar.fmt(f),
        }
    }
}

/// [`RedactedValue`] of an object's members.
pub(crate) struct RedactedMembers<'a>(pub(crate) &'a serde_json::Map<String, serde_json::Value>);

impl fmt::Debug for RedactedMembers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if is_secret_name(name) {
                map.entry(name, &REDACTED);
            } else {
                map.entry(name, &RedactedValue(value));
            }
        }
        map.finish()
    }
}

/// A secret string (a provider or suite secret, a callback token, an
/// EncodingAESKey, a permanent code). `Debug` prints `<redacted>`.
///
/// Serializing a secret writes `<redacted>` (an empty one stays empty), so a
/// [`crate::Config`] can be dumped to a log or a file without its secrets.
/// To write the secrets themselves, serialize inside [`Secret::exposing`]:
///
/// ```
/// # fn run(config: &wecom_openwork::Config) -> Result<(), serde_json::Error> {
/// use wecom_openwork::Secret;
/// let shown = serde_json::to_string(config)?; // secrets are "<redacted>"
/// let full = Secret::exposing(|| serde_json::to_string(config))?; // the real secrets
/// # Ok(()) }
/// ```
///
/// Deserializing `<redacted>` is an error, so a redacted dump is never loaded
/// as if it held the secrets. TOML and YAML errors show the field; from the
/// environment ([`crate::Config::from_env`]) the error names the variable.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() || EXPOSING.with(Cell::get) > 0 {
            serializer.serialize_str(&self.0)
        } else {
            serializer.serialize_str(REDACTED)
        }
    }
}

/// Serializes a secret as its value, whatever the scope: for records that
/// must keep it, such as a stored [`crate::Authorization`]'s permanent code.
pub(crate) fn serialize_exposed<S: serde::Serializer>(
    secret: &Secret,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&secret.0)
}

/// A secret made only of digits may arrive as a number (from environment
/// variables or YAML); it is the same secret. `<redacted>` is refused.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                self.visit_string(v.to_owned())
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
                if v == REDACTED {
                    return Err(E::custom(format!("the secret {REDACTED_REFUSED}")));
                }
                Ok(Secret(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Leaves the [`Secret::exposing`] scope, also on unwind.
struct ExposingGuard;

impl Drop for ExposingGuard {
    fn drop(&mut self) {
        EXPOSING.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs `serialize` with every [`Secret`] it serializes (on this thread)
    /// written as its real value instead of `<redacted>`: the explicit way to
    /// write a configuration with its secrets, in any serde format.
    ///
    /// ```
    /// # fn run(config: &wecom_openwork::Config) -> Result<(), Box<dyn std::error::Error>> {
    /// use wecom_openwork::Secret;
    /// let toml = Secret::exposing(|| toml::to_string(config))?;
    /// std::fs::write("wecom.toml", toml)?;
    /// # Ok(()) }
    /// ```
    ///
    /// The scope is the closure's synchronous run on the calling thread:
    /// serialize inside it, do not return a future or a lazy serializer.
    pub fn exposing<R>(serialize: impl FnOnce() -> R) -> R {
        EXPOSING.with(|depth| depth.set(depth.get().saturating_add(1)));
        let _guard = ExposingGuard;
        serialize()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "<empty>" } else { REDACTED })
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Secret::new(secret)
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Secret(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_secrets_are_redacted_unless_exposed() {
        let secret = Secret::new("s3cret");
        assert_eq!(serde_json::to_string(&secret).ok().as_deref(), Some("\"<redacted>\""));
        let exposed = Secret::exposing(|| Secret::exposing(|| serde_json::to_string(&secret)).ok());
        assert_eq!(exposed.as_deref(), Some("\"s3cret\""), "nested scopes");
        assert_eq!(serde_json::to_string(&secret).ok().as_deref(), Some("\"<redacted>\""), "scope left");
        assert_eq!(serde_json::to_string(&Secret::default()).ok().as_deref(), Some("\"\""));

        let caught = std::panic::catch_unwind(|| Secret::exposing(|| panic!("inside")));
        assert!(caught.is_err());
        assert_eq!(serde_json::to_string(&secret).ok().as_deref(), Some("\"<redacted>\""), "left on unwind");
    }

    #[test]
    fn secret_names_in_any_case_and_spelling() {
        for name in [
            "access_token",
            "AccessToken",
            "suite_access_token",
            "suite_ticket",
            "SuiteTicket",
            "jsapi_ticket",
            "corpsecret",
            "provider_secret",
            "CorpSecret",
            "password",
            "passwd",
            "code",
            "Code",
            "auth_code",
            "AuthCode",
            "authcode",
            "AUTH_CODE",
            "pre_auth_code",
            "permanent_code",
            "PermanentCode",
            "RegisterCode",
            "ActiveCode",
            "WelcomeCode",
            "qr_code",
            "key",
            "aes_key",
            "aes-key",
            "EncodingAESKey",
            "encodingaeskey",
            "ACCESS_TOKEN",
        ] {
            assert!(is_secret_name(name), "{name} is a secret's name");
        }
        for name in [
            "errcode",
            "ErrCode",
            "err_code",
            "EventKey",
            "errmsg",
            "expires_in",
            "ExpiresIn",
            "corpid",
            "SuiteId",
            "InfoType",
            "ScanCodeInfo",
            "encode",
            "Encrypt",
            "monkey",
            "tokens_left",
            "",
            "_",
            "代码",
        ] {
            assert!(!is_secret_name(name), "{name} is not a secret's name");
        }
    }

    /// Every key of a JSON or YAML document.
    fn keys(value: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match value {
            serde_json::Value::Object(members) => {
                for (key, value) in members {
                    out.insert(key.clone());
                    keys(value, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_code_generator_has_the_same_rule() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut names = std::collections::BTreeSet::new();
        let openapi = std::fs::read_to_string(root.join("generated/openapi.json")).expect("readable");
        keys(&serde_json::from_str(&openapi).expect("JSON"), &mut names);
        let events = std::fs::read_to_string(root.join("spec/events.yaml")).expect("readable");
        keys(&serde_norway::from_str(&events).expect("YAML"), &mut names);
        assert!(names.len() > 500 && names.contains("ContactSync") && names.contains("permanent_code"));
        names.extend(
            ["errcode", "ErrCode", "EventKey", "AUTH_CODE", "aes-key", "Key", "token_", "-code", "Ⅻcode"]
                .map(String::from),
        );
        for name in &names {
            assert_eq!(
                is_secret_name(name),
                wecom_openwork_codegen::sensitive::is_secret_name(name),
                "the two rules disagree on {name:?}"
            );
        }
    }

    #[test]
    fn redacted_values_hide_secrets_at_every_depth() {
        let value = serde_json::json!({
            "SuiteId": "ww1",
            "ContactSync": {"AccessToken": "AT-1", "ExpiresIn": 7200},
            "List": [{"suite_ticket": "ST-2", "name": "kept"}, [{"Inner": {"corpsecret": {"deep": "CS-3"}}}]],
            "AuthCode": ["AC-4"],
        });
        let shown = format!("{:?} {:#?}", RedactedValue(&value), RedactedValue(&value));
        for secret in ["AT-1", "ST-2", "CS-3", "AC-4"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.starts_with(
            r#"{"AuthCode": "<redacted>", "ContactSync": {"AccessToken": "<redacted>", "ExpiresIn": Number(7200)}, "List": [{"name": String("kept"), "suite_ticket": "<redacted>"}, [{"Inner": {"corpsecret": "<redacted>"}}]], "SuiteId": String("ww1")}"#
        ), "{shown}");
    }

    #[test]
    fn a_redacted_secret_is_not_loaded() {
        let err = serde_json::from_str::<Secret>("\"<redacted>\"").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("Secret::exposing")));
        assert_eq!(serde_json::from_str::<Secret>("\"x\"").ok(), Some(Secret::new("x")));
        assert_eq!(serde_json::from_str::<Secret>("0123").ok(), None, "not a JSON number");
        assert_eq!(serde_json::from_str::<Secret>("123").ok(), Some(Secret::new("123")));
    }
}
